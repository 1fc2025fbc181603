package authserver

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// RateLimit is a token bucket: up to Burst requests at once, refilled at
// Rate requests per second.
type RateLimit struct {
	Rate  float64
	Burst int
}

// RateLimits are the per-address request limits of the endpoints that
// do work or keep state for unauthenticated callers. A zero field takes
// its default (see [DefaultRateLimits]).
type RateLimits struct {
	// Disable turns every limit off (for load tests and for servers
	// behind a proxy that limits on its own).
	Disable bool
	// Register, Authorize, Token, Introspect and Revoke limit
	// /register, /authorize (GET and POST), /token, /introspect and
	// /revoke.
	Register   RateLimit
	Authorize  RateLimit
	Token      RateLimit
	Introspect RateLimit
	Revoke     RateLimit
	// MaxAddresses bounds the addresses tracked per endpoint (default
	// 10000). When the table is full, addresses whose bucket is full
	// again are forgotten first, then the least recently seen.
	MaxAddresses int
}

// DefaultRateLimits are the limits used for zero fields of [RateLimits].
var DefaultRateLimits = RateLimits{
	Register:     RateLimit{Rate: 10.0 / 60, Burst: 20}, // 10 a minute
	Authorize:    RateLimit{Rate: 1, Burst: 60},
	Token:        RateLimit{Rate: 2, Burst: 60},
	Introspect:   RateLimit{Rate: 20, Burst: 200},
	Revoke:       RateLimit{Rate: 1, Burst: 60},
	MaxAddresses: 10000,
}

func (r RateLimit) orDefault(def RateLimit) RateLimit {
	if r.Rate <= 0 {
		r.Rate = def.Rate
	}
	if r.Burst <= 0 {
		r.Burst = def.Burst
	}
	return r
}

// limiter is a set of token buckets keyed by client address, bounded in
// size. It owns no goroutine: buckets refill when they are consulted.
type limiter struct {
	rate  float64
	burst float64
	max   int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(r RateLimit, maxAddrs int) *limiter {
	return &limiter{rate: r.Rate, burst: float64(r.Burst), max: maxAddrs, buckets: make(map[string]*bucket)}
}

// allow takes a token from key's bucket. When there is none, it reports
// how long until there is.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.evictLocked(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	} else if now.After(b.last) {
		b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// evictLocked makes room: it forgets buckets that are full again (their
// address has been quiet long enough to have its whole burst back), and
// if none is, the least recently used one.
func (l *limiter) evictLocked(now time.Time) {
	var oldest string
	var oldestAt time.Time
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
			continue
		}
		if oldest == "" || b.last.Before(oldestAt) {
			oldest, oldestAt = k, b.last
		}
	}
	if len(l.buckets) >= l.max && oldest != "" {
		delete(l.buckets, oldest)
	}
}

func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientAddress is the key a request is limited and bounded under: the IP
// address of its peer, or for IPv6 its /64 network (one host usually
// holds a whole /64).
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// limit wraps h with l (nil means no limit). Preflight requests are not
// counted.
func (s *Server) limit(l *limiter, browser bool, h http.HandlerFunc) http.Handler {
	if l == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			h(w, r)
			return
		}
		ok, wait := l.allow(clientAddress(r), s.now())
		if !ok {
			secs := int64(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
			s.log.Debug("authserver: rate limited", "path", r.URL.Path, "address", clientAddress(r))
			if browser {
				s.errorPage(w, http.StatusTooManyRequests, "Too many requests from your address; wait a moment and try again.")
				return
			}
			w.Header().Set("Access-Control-Allow-Origin", "*")
			writeJSONError(w, http.StatusTooManyRequests, "temporarily_unavailable", "too many requests from this address; retry later")
			return
		}
		h(w, r)
	})
}
