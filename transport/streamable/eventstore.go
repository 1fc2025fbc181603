package streamable

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// EventStore keeps the SSE events a server sends so that a client can
// resume a stream after a disconnection by sending Last-Event-ID.
//
// Event ids are chosen by the store. They must be unique within a session
// across all its streams, visible ASCII without newlines, and let Replay find
// the stream an id belongs to. A store may forget events (to bound its
// memory); Replay then reports the loss rather than skip events silently.
//
// Implementations must be safe for concurrent use.
type EventStore interface {
	// Append stores data as the next event of a stream and returns its id.
	// data may be empty (the priming event that opens a stream).
	Append(ctx context.Context, sessionID, streamID string, data []byte) (eventID string, err error)
	// Replay calls fn for each event of the stream that lastEventID belongs
	// to, after it, in order, and returns that stream's id. It returns an
	// error wrapping ErrUnknownEvent if the id was not issued for this
	// session or the events after it are no longer retained. An error from
	// fn stops the replay and is returned.
	Replay(ctx context.Context, sessionID, lastEventID string, fn func(eventID string, data []byte) error) (streamID string, err error)
	// DeleteSession forgets everything of a session.
	DeleteSession(ctx context.Context, sessionID string) error
}

// ErrUnknownEvent is wrapped by the error Replay returns for an event id the
// store cannot resume from: malformed, never issued for the session, or
// followed by events that were evicted. The handler answers such a GET with
// 400 Bad Request (not 404, which would tell the client its session is
// gone).
var ErrUnknownEvent = errors.New("streamable: unknown or expired event id")

// ErrEventTooLarge is returned by a MemoryEventStore's Append for an event
// bigger than its per-session limit.
var ErrEventTooLarge = errors.New("streamable: event larger than the event store's per-session limit")

// Default limits of a MemoryEventStore.
const (
	DefaultMaxSessionBytes = 1 << 20
	DefaultMaxTotalBytes   = 64 << 20
)

// eventOverhead is what one stored event costs besides its data, counted
// against the limits so that floods of tiny events are bounded too.
const eventOverhead = 64

// MemoryEventStoreOptions configure a MemoryEventStore.
type MemoryEventStoreOptions struct {
	// MaxSessionBytes bounds the bytes kept for one session (0:
	// DefaultMaxSessionBytes). When a session exceeds it, its oldest events
	// are evicted.
	MaxSessionBytes int
	// MaxTotalBytes bounds the bytes kept for all sessions (0:
	// DefaultMaxTotalBytes). When the store exceeds it, the oldest events of
	// any session are evicted.
	MaxTotalBytes int
}

// MemoryEventStore is an EventStore in memory, bounded per session and in
// total; the oldest events are evicted first. Its event ids have the form
// "<streamID>-<n>", n counting events per session from 1. It is safe for
// concurrent use.
type MemoryEventStore struct {
	maxSession, maxTotal int

	mu       sync.Mutex
	sessions map[string]*memSession
	queue    []*memEvent // all events, oldest first; may hold gone ones
	gone     int         // gone events still in queue
	bytes    int
}

type memSession struct {
	id      string
	seq     uint64
	bytes   int
	queue   []*memEvent // this session's events, oldest first
	streams map[string]*memStream
	empty   []*memStream // streams whose events were all evicted, oldest first
}

type memStream struct {
	id      string
	events  []*memEvent // oldest first, seq ascending, contiguous in the stream
	last    uint64      // seq of the stream's latest event, retained or not
	inEmpty bool        // listed in memSession.empty
}

// maxEmptyStreams bounds the streams a session keeps after all their
// events were evicted. Keeping one lets a client that saw its last event
// resume it; beyond the bound the oldest are forgotten, and resuming them
// fails with ErrUnknownEvent.
const maxEmptyStreams = 64

type memEvent struct {
	sess   *memSession
	stream *memStream
	seq    uint64
	prev   uint64 // seq of the stream's previous event; 0 if unknown or none
	data   []byte
	gone   bool
}

func (e *memEvent) size() int { return len(e.data) + eventOverhead }

// NewMemoryEventStore returns an empty store. opts may be nil.
func NewMemoryEventStore(opts *MemoryEventStoreOptions) *MemoryEventStore {
	s := &MemoryEventStore{
		maxSession: DefaultMaxSessionBytes,
		maxTotal:   DefaultMaxTotalBytes,
		sessions:   make(map[string]*memSession),
	}
	if opts != nil {
		if opts.MaxSessionBytes > 0 {
			s.maxSession = opts.MaxSessionBytes
		}
		if opts.MaxTotalBytes > 0 {
			s.maxTotal = opts.MaxTotalBytes
		}
	}
	return s
}

// Append implements EventStore. It copies data.
func (s *MemoryEventStore) Append(_ context.Context, sessionID, streamID string, data []byte) (string, error) {
	size := len(data) + eventOverhead
	if size > s.maxSession || size > s.maxTotal {
		return "", ErrEventTooLarge
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.sessions[sessionID]
	if ms == nil {
		ms = &memSession{id: sessionID, streams: make(map[string]*memStream)}
		s.sessions[sessionID] = ms
	}
	st := ms.streams[streamID]
	if st == nil {
		st = &memStream{id: streamID}
		ms.streams[streamID] = st
	}
	ms.seq++
	e := &memEvent{sess: ms, stream: st, seq: ms.seq, prev: st.last, data: slices.Clone(data)}
	if e.data == nil {
		e.data = []byte{}
	}
	st.last = e.seq
	// Make room first, so that the new event is never the one evicted.
	for ms.bytes+size > s.maxSession && len(ms.queue) > 0 {
		s.evictFront(ms)
	}
	for s.bytes+size > s.maxTotal && s.evictOldest() {
	}
	s.maybeCompact()
	if ms.streams[streamID] == nil {
		// Eviction emptied and dropped the stream: put it back.
		ms.streams[streamID] = st
	}
	st.events = append(st.events, e)
	ms.queue = append(ms.queue, e)
	ms.bytes += size
	s.queue = append(s.queue, e)
	s.bytes += size
	return streamID + "-" + strconv.FormatUint(e.seq, 10), nil
}

// evictFront evicts the oldest event of ms, which is also the oldest event
// of its stream.
func (s *MemoryEventStore) evictFront(ms *memSession) {
	e := ms.queue[0]
	ms.queue[0] = nil
	ms.queue = ms.queue[1:]
	st := e.stream
	st.events[0] = nil
	st.events = st.events[1:]
	if len(st.events) == 0 {
		st.events = nil
		if !st.inEmpty {
			st.inEmpty = true
			ms.empty = append(ms.empty, st)
			if len(ms.empty) > maxEmptyStreams {
				old := ms.empty[0]
				ms.empty[0] = nil
				ms.empty = ms.empty[1:]
				old.inEmpty = false
				if len(old.events) == 0 && ms.streams[old.id] == old {
					delete(ms.streams, old.id)
				}
			}
		}
	}
	ms.bytes -= e.size()
	s.bytes -= e.size()
	e.gone = true
	e.data = nil
	s.gone++
}

// evictOldest evicts the oldest event in the store, reporting false when
// there is none.
func (s *MemoryEventStore) evictOldest() bool {
	for len(s.queue) > 0 {
		e := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if e.gone {
			s.gone--
			continue
		}
		// The oldest live event of the store is the oldest of its session.
		// The session stays (empty) so that its event counter, and with it
		// the uniqueness of its event ids, survives; DeleteSession drops it.
		s.evictFront(e.sess)
		s.gone-- // it just left the queue
		return true
	}
	return false
}

// Replay implements EventStore.
func (s *MemoryEventStore) Replay(ctx context.Context, sessionID, lastEventID string, fn func(eventID string, data []byte) error) (string, error) {
	streamID, seq, ok := parseMemEventID(lastEventID)
	if !ok {
		return "", fmt.Errorf("%w: malformed event id", ErrUnknownEvent)
	}
	// Collect under the lock, call fn outside it: fn writes to the network.
	type item struct {
		seq  uint64
		data []byte
	}
	var items []item
	s.mu.Lock()
	ms := s.sessions[sessionID]
	if ms == nil || seq > ms.seq {
		s.mu.Unlock()
		return "", fmt.Errorf("%w: %q was not issued in this session", ErrUnknownEvent, lastEventID)
	}
	st := ms.streams[streamID]
	if st == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("%w: no events of stream %q are retained", ErrUnknownEvent, streamID)
	}
	if len(st.events) == 0 {
		s.mu.Unlock()
		if seq == st.last {
			return streamID, nil // the client has seen everything
		}
		return "", fmt.Errorf("%w: the events after %q were evicted", ErrUnknownEvent, lastEventID)
	}
	i, found := slices.BinarySearchFunc(st.events, seq, func(e *memEvent, seq uint64) int {
		switch {
		case e.seq < seq:
			return -1
		case e.seq > seq:
			return 1
		}
		return 0
	})
	switch {
	case found:
		i++
	case i == 0 && st.events[0].prev == seq && seq != 0:
		// lastEventID was evicted, but nothing of the stream after it.
	default:
		s.mu.Unlock()
		return "", fmt.Errorf("%w: %q is not a retained event of stream %q", ErrUnknownEvent, lastEventID, streamID)
	}
	items = make([]item, 0, len(st.events)-i)
	for _, e := range st.events[i:] {
		// The data slices are never modified, so they can be shared.
		items = append(items, item{e.seq, e.data})
	}
	s.mu.Unlock()
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return streamID, err
		}
		if err := fn(streamID+"-"+strconv.FormatUint(it.seq, 10), it.data); err != nil {
			return streamID, err
		}
	}
	return streamID, nil
}

// DeleteSession implements EventStore.
func (s *MemoryEventStore) DeleteSession(_ context.Context, sessionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.sessions[sessionID]
	if ms == nil {
		return nil
	}
	delete(s.sessions, sessionID)
	for _, e := range ms.queue {
		s.bytes -= e.size()
		e.gone = true
		e.data = nil
		s.gone++
	}
	ms.queue = nil
	ms.streams = nil
	s.maybeCompact()
	return nil
}

// maybeCompact drops gone events from the global queue once they are the
// majority, so that evictions and deleted sessions do not grow it without
// bound. The cost is amortized over the events that became gone.
func (s *MemoryEventStore) maybeCompact() {
	if s.gone > 64 && s.gone > len(s.queue)/2 {
		s.queue = slices.DeleteFunc(s.queue, func(e *memEvent) bool { return e.gone })
		s.gone = 0
	}
}

// Stats reports the number of sessions and the bytes (data plus a fixed
// per-event overhead) the store holds.
func (s *MemoryEventStore) Stats() (sessions, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions), s.bytes
}

// maxEventIDLen bounds the event ids the handler passes to a store.
const maxEventIDLen = 256

func parseMemEventID(id string) (streamID string, seq uint64, ok bool) {
	if len(id) > maxEventIDLen {
		return "", 0, false
	}
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil || seq == 0 {
		return "", 0, false
	}
	return id[:i], seq, true
}
