package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// leaseSeq makes lease ids unique across processes: a random process
// prefix and a counter.
type leaseSeq struct {
	once   sync.Once
	prefix string
	n      atomic.Uint64
}

func (s *leaseSeq) next() string {
	s.once.Do(func() {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		s.prefix = hex.EncodeToString(b)
	})
	return s.prefix + "-" + strconv.FormatUint(s.n.Add(1), 10)
}

// Memory is a Store in this process's memory.
type Memory struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	slots   map[string]map[string]time.Time // key -> lease -> expiry
	now     func() time.Time
	takes   int
}

type bucket struct {
	tokens float64
	last   time.Time
	rate   float64
	burst  int
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{buckets: map[string]*bucket{}, slots: map[string]map[string]time.Time{}, now: time.Now}
}

// maxIdleBuckets is how many buckets the memory store keeps before it
// drops those that are full again (idle).
const maxIdleBuckets = 10000

// Take implements Store.
func (m *Memory) Take(_ context.Context, key string, rate float64, burst int) (bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	b := m.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(burst), last: now}
		m.buckets[key] = b
	}
	b.rate, b.burst = rate, burst
	b.tokens = math.Min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	m.takes++
	if m.takes%1024 == 0 && len(m.buckets) > maxIdleBuckets {
		m.sweep(now)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0, nil
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / rate * float64(time.Second)))
	return false, wait, nil
}

// sweep drops the buckets that are full again.
func (m *Memory) sweep(now time.Time) {
	for k, b := range m.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*b.rate >= float64(b.burst) {
			delete(m.buckets, k)
		}
	}
}

// Acquire implements Store.
func (m *Memory) Acquire(_ context.Context, key, lease string, limit int, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	s := m.slots[key]
	for l, exp := range s {
		if !exp.After(now) {
			delete(s, l)
		}
	}
	if len(s) >= limit {
		return false, nil
	}
	if s == nil {
		s = map[string]time.Time{}
		m.slots[key] = s
	}
	s[lease] = now.Add(ttl)
	return true, nil
}

// Release implements Store.
func (m *Memory) Release(_ context.Context, key, lease string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.slots[key]; s != nil {
		delete(s, lease)
		if len(s) == 0 {
			delete(m.slots, key)
		}
	}
	return nil
}

// Redis is a Store in Redis, shared by every gateway process that uses
// the same Redis and prefix. Each operation is one Lua script, atomic in
// Redis, timed by Redis's clock (so that the gateways' clocks need not
// agree).
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

// DefaultRedisPrefix starts the keys of a Redis store.
const DefaultRedisPrefix = "switchboard:limits:"

// NewRedis returns a store over a Redis client; prefix starts every key
// ("" means DefaultRedisPrefix).
func NewRedis(c redis.UniversalClient, prefix string) *Redis {
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	return &Redis{c: c, prefix: prefix}
}

// DialRedis connects to the Redis at url (redis://[user:password@]host:port/db)
// with timeout bounding each operation (0: 100ms) and no retries, so
// that a Redis that is down fails fast and the fail mode decides.
func DialRedis(url string, timeout time.Duration) (*redis.Client, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("limits: redis url: %w", err)
	}
	if timeout <= 0 {
		timeout = 100 * time.Millisecond
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = timeout, timeout, timeout
	o.MaxRetries = -1   // no retries
	o.DialerRetries = 1 // one dial attempt: a Redis that is down fails fast
	o.ContextTimeoutEnabled = true
	return redis.NewClient(o), nil
}

var takeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tk', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local ok = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tk', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {ok, wait}
`)

var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
`)

// Take implements Store. rate is converted to tokens per millisecond.
func (r *Redis) Take(ctx context.Context, key string, rate float64, burst int) (bool, time.Duration, error) {
	res, err := takeScript.Run(ctx, r.c, []string{r.prefix + key}, fmtFloat(rate/1000), burst).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("redis: %w", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("redis: unexpected answer %v", res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, nil
}

func fmtFloat(f float64) string { return fmt.Sprintf("%.12g", f) }

// Acquire implements Store.
func (r *Redis) Acquire(ctx context.Context, key, lease string, limit int, ttl time.Duration) (bool, error) {
	n, err := acquireScript.Run(ctx, r.c, []string{r.prefix + key}, limit, ttl.Milliseconds(), lease).Int64()
	if err != nil {
		return false, fmt.Errorf("redis: %w", err)
	}
	return n == 1, nil
}

// Release implements Store.
func (r *Redis) Release(ctx context.Context, key, lease string) error {
	return r.c.ZRem(ctx, r.prefix+key, lease).Err()
}
