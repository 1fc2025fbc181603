package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// EventStore is a streamable.SharedEventStore in Redis: every instance
// appends the SSE events of the streams it serves, and any instance
// replays and follows them for a client that resumes with Last-Event-ID.
//
// Per session (keys share a hash tag, so they live on one Redis Cluster
// slot): an event counter, one Redis stream per SSE stream (entry ids
// "<seq>-1", fields d (data) and p (the stream's previous event)), a hash
// per stream (serving instance, request ids, last event, completion) and
// the set of the session's streams. Every key expires TTL after the
// session's last event. Event ids are "<stream id>-<seq>", as with the
// memory store.
//
// A stream whose serving instance stops sending heartbeats (it died) while
// the stream is incomplete is completed by the first follower that
// notices: it appends, for each request of the stream without a response,
// a JSON-RPC error marked retryable (see RetryableData), and the dead
// instance can no longer append to it.
type EventStore struct {
	n      *Node
	ttl    time.Duration
	maxLen int64
	poll   time.Duration
}

// Defaults of the event store.
const (
	DefaultEventTTL       = 30 * time.Minute
	DefaultMaxStreamLen   = 10000
	DefaultFollowInterval = time.Second
)

// ErrStreamClosed is returned by Append for a stream that was completed
// already (its instance was taken for dead and a follower completed it).
var ErrStreamClosed = errors.New("cluster: the stream was completed by another instance")

// RetryableData is the data of the error response a follower appends for
// a request whose instance died before answering it: the request was not
// answered and may be sent again.
type RetryableData struct {
	// Retryable is always true: the request may be sent again.
	Retryable bool `json:"retryable"`
	// Reason says why ("instance-lost").
	Reason string `json:"reason"`
}

// CodeInstanceLost is the JSON-RPC error code of those responses (an
// implementation-defined server error).
const CodeInstanceLost = -32003

func (s *EventStore) key(session, suffix string) string {
	return s.n.prefix + "ev:{" + session + "}:" + suffix
}

var _ streamable.SharedEventStore = (*EventStore)(nil)

// Instance implements streamable.SharedEventStore.
func (s *EventStore) Instance() string { return s.n.id }

var appendScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], 'done') == '1' then return -1 end
local seq = redis.call('INCR', KEYS[1])
local prev = redis.call('HGET', KEYS[3], 'last') or '0'
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], seq .. '-1', 'd', ARGV[1], 'p', prev)
redis.call('HSET', KEYS[3], 'last', seq)
redis.call('SADD', KEYS[4], ARGV[4])
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return seq
`)

// Append implements streamable.EventStore.
func (s *EventStore) Append(ctx context.Context, sessionID, streamID string, data []byte) (string, error) {
	keys := []string{s.key(sessionID, "seq"), s.key(sessionID, "x:"+streamID), s.key(sessionID, "m:"+streamID), s.key(sessionID, "streams")}
	seq, err := appendScript.Run(ctx, s.n.rdb, keys, data, s.ttl.Milliseconds(), s.maxLen, streamID).Int64()
	if err != nil {
		return "", err
	}
	if seq < 0 {
		return "", ErrStreamClosed
	}
	return streamID + "-" + strconv.FormatInt(seq, 10), nil
}

// OpenStream implements streamable.SharedEventStore.
func (s *EventStore) OpenStream(ctx context.Context, sessionID, streamID string, requestIDs []jsonrpc.ID) error {
	ids, err := json.Marshal(requestIDs)
	if err != nil {
		return err
	}
	m := s.key(sessionID, "m:"+streamID)
	_, err = s.n.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, m, "owner", s.n.id, "ids", ids)
		p.PExpire(ctx, m, s.ttl)
		return nil
	})
	return err
}

// CompleteStream implements streamable.SharedEventStore.
func (s *EventStore) CompleteStream(ctx context.Context, sessionID, streamID string) error {
	return s.n.rdb.HSet(ctx, s.key(sessionID, "m:"+streamID), "done", "1").Err()
}

// DeleteSession implements streamable.EventStore. It does nothing: an
// instance dropping its copy of a session (idle, draining) must not delete
// what other instances serve; Purge deletes a session that ended, and
// keys expire TTL after the session's last event.
func (s *EventStore) DeleteSession(context.Context, string) error { return nil }

// Purge deletes everything stored for a session.
func (s *EventStore) Purge(ctx context.Context, sessionID string) error {
	streams, err := s.n.rdb.SMembers(ctx, s.key(sessionID, "streams")).Result()
	if err != nil {
		return err
	}
	keys := []string{s.key(sessionID, "seq"), s.key(sessionID, "streams")}
	for _, st := range streams {
		keys = append(keys, s.key(sessionID, "x:"+st), s.key(sessionID, "m:"+st))
	}
	return s.n.rdb.Del(ctx, keys...).Err()
}

func parseEventID(id string) (stream string, seq int64, ok bool) {
	if len(id) > 256 {
		return "", 0, false
	}
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil || n <= 0 {
		return "", 0, false
	}
	return id[:i], n, true
}

// entry is one stored event.
type entry struct {
	seq  int64
	prev int64
	data []byte
}

func toEntries(msgs []redis.XMessage) ([]entry, error) {
	out := make([]entry, 0, len(msgs))
	for _, m := range msgs {
		a, _, _ := strings.Cut(m.ID, "-")
		seq, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("cluster: bad stream entry id %q", m.ID)
		}
		d, _ := m.Values["d"].(string)
		p, _ := m.Values["p"].(string)
		prev, _ := strconv.ParseInt(p, 10, 64)
		out = append(out, entry{seq: seq, prev: prev, data: []byte(d)})
	}
	return out, nil
}

// meta is a stream's hash.
type meta struct {
	exists bool
	owner  string
	ids    []jsonrpc.ID
	done   bool
	last   int64
}

func (s *EventStore) meta(ctx context.Context, sessionID, streamID string) (meta, error) {
	h, err := s.n.rdb.HGetAll(ctx, s.key(sessionID, "m:"+streamID)).Result()
	if err != nil {
		return meta{}, err
	}
	m := meta{exists: len(h) > 0, owner: h["owner"], done: h["done"] == "1"}
	m.last, _ = strconv.ParseInt(h["last"], 10, 64)
	if v := h["ids"]; v != "" {
		_ = json.Unmarshal([]byte(v), &m.ids)
	}
	return m, nil
}

// after reads the events of a stream after seq; checked reports the
// events lost to trimming as ErrUnknownEvent.
func (s *EventStore) after(ctx context.Context, sessionID, streamID string, seq int64, checked bool, m *meta) ([]entry, error) {
	msgs, err := s.n.rdb.XRangeN(ctx, s.key(sessionID, "x:"+streamID), "("+strconv.FormatInt(seq, 10)+"-1", "+", 1000).Result()
	if err != nil {
		return nil, err
	}
	es, err := toEntries(msgs)
	if err != nil {
		return nil, err
	}
	if checked {
		if len(es) > 0 && es[0].prev != seq && es[0].prev > seq {
			return nil, fmt.Errorf("%w: the events after %d were trimmed", streamable.ErrUnknownEvent, seq)
		}
		if len(es) == 0 && m != nil && m.last > seq {
			return nil, fmt.Errorf("%w: the events after %d were trimmed", streamable.ErrUnknownEvent, seq)
		}
	}
	return es, nil
}

// Replay implements streamable.EventStore.
func (s *EventStore) Replay(ctx context.Context, sessionID, lastEventID string, fn func(eventID string, data []byte) error) (string, error) {
	streamID, seq, ok := parseEventID(lastEventID)
	if !ok {
		return "", fmt.Errorf("%w: malformed event id", streamable.ErrUnknownEvent)
	}
	m, err := s.meta(ctx, sessionID, streamID)
	if err != nil {
		return "", err
	}
	if !m.exists || seq > m.last {
		return "", fmt.Errorf("%w: %q was not issued in this session", streamable.ErrUnknownEvent, lastEventID)
	}
	checked := true
	for {
		es, err := s.after(ctx, sessionID, streamID, seq, checked, &m)
		if err != nil {
			return "", err
		}
		checked = false
		for _, e := range es {
			if err := fn(streamID+"-"+strconv.FormatInt(e.seq, 10), e.data); err != nil {
				return streamID, err
			}
			seq = e.seq
		}
		if len(es) < 1000 {
			return streamID, nil
		}
	}
}

// Follow implements streamable.SharedEventStore.
func (s *EventStore) Follow(ctx context.Context, sessionID, lastEventID string, fn func(eventID string, data []byte) error) (string, error) {
	streamID, seq, ok := parseEventID(lastEventID)
	if !ok {
		return "", fmt.Errorf("%w: malformed event id", streamable.ErrUnknownEvent)
	}
	key := s.key(sessionID, "x:"+streamID)
	standalone := streamID == "0"
	checked := true
	for {
		m, err := s.meta(ctx, sessionID, streamID)
		if err != nil {
			return streamID, err
		}
		if checked && (!m.exists || seq > m.last) {
			return "", fmt.Errorf("%w: %q was not issued in this session", streamable.ErrUnknownEvent, lastEventID)
		}
		es, err := s.after(ctx, sessionID, streamID, seq, checked, &m)
		if err != nil {
			return streamID, err
		}
		checked = false
		for _, e := range es {
			if err := fn(streamID+"-"+strconv.FormatInt(e.seq, 10), e.data); err != nil {
				return streamID, err
			}
			seq = e.seq
		}
		if len(es) > 0 {
			continue
		}
		if m.done && !standalone {
			return streamID, nil
		}
		if !m.exists && !standalone {
			return streamID, nil // expired
		}
		if !standalone && m.owner != "" && m.owner != s.n.id && !s.n.alive(ctx, m.owner) {
			if err := s.finalizeOrphan(ctx, sessionID, streamID, &m); err != nil {
				return streamID, err
			}
			continue
		}
		// Wait for the next event, or the poll interval.
		_, err = s.n.rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{key, strconv.FormatInt(seq, 10) + "-1"},
			Count:   100,
			Block:   s.poll,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			if ctx.Err() != nil {
				return streamID, ctx.Err()
			}
			return streamID, err
		}
	}
}

var finalizeScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], 'done') == '1' then return 0 end
for i = 2, #ARGV do
  local seq = redis.call('INCR', KEYS[1])
  local prev = redis.call('HGET', KEYS[3], 'last') or '0'
  redis.call('XADD', KEYS[2], seq .. '-1', 'd', ARGV[i], 'p', prev)
  redis.call('HSET', KEYS[3], 'last', seq)
end
redis.call('HSET', KEYS[3], 'done', '1')
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
return 1
`)

// finalizeOrphan completes a stream whose instance died: a retryable error
// for each request of the stream left without a response.
func (s *EventStore) finalizeOrphan(ctx context.Context, sessionID, streamID string, m *meta) error {
	msgs, err := s.n.rdb.XRange(ctx, s.key(sessionID, "x:"+streamID), "-", "+").Result()
	if err != nil {
		return err
	}
	answered := map[jsonrpc.ID]bool{}
	es, _ := toEntries(msgs)
	for _, e := range es {
		if len(e.data) == 0 {
			continue
		}
		if r, ok := decodeResponse(e.data); ok {
			answered[r.ID] = true
		}
	}
	args := []any{s.ttl.Milliseconds()}
	data, _ := json.Marshal(RetryableData{Retryable: true, Reason: "instance-lost"})
	for _, id := range m.ids {
		if answered[id] {
			continue
		}
		args = append(args, jsonrpc.AppendErrorResponse(nil, id, &jsonrpc.Error{
			Code:    CodeInstanceLost,
			Message: "the gateway instance serving this request stopped before answering; retry the request",
			Data:    data,
		}))
	}
	keys := []string{s.key(sessionID, "seq"), s.key(sessionID, "x:"+streamID), s.key(sessionID, "m:"+streamID)}
	done, err := finalizeScript.Run(ctx, s.n.rdb, keys, args...).Int()
	if err == nil && done == 1 {
		s.n.log.Info("cluster: completed the stream of a dead instance", "owner", m.owner, "stream", streamID, "unanswered", len(args)-1)
		s.n.stats.orphans.Add(1)
	}
	return err
}

// decodeResponse decodes data as a JSON-RPC response.
func decodeResponse(data []byte) (*jsonrpc.Response, bool) {
	msg, err := jsonrpc.Decode(data)
	if err != nil {
		return nil, false
	}
	r, ok := msg.(*jsonrpc.Response)
	return r, ok
}
