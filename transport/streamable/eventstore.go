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
	DefaultMinSessionBytes = 64 << 10
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
	// DefaultMaxTotalBytes). When the store exceeds it, events are evicted
	// from sessions holding more than their fair share (see
	// MinSessionBytes).
	MaxTotalBytes int
	// MinSessionBytes is the share of the store every session is
	// guaranteed (0: DefaultMinSessionBytes, at most MaxSessionBytes):
	// other sessions' traffic never evicts a session's events while it
	// holds no more than its share. The share is MinSessionBytes, or
	// MaxTotalBytes divided by the number of sessions holding events when
	// that is less.
	MinSessionBytes int
}

// MemoryEventStore is an EventStore in memory, bounded per session and in
// total. A session over its own limit loses its oldest events. When the
// store is full, the session appending loses its oldest events if it holds
// more than its fair share (Options.MinSessionBytes); otherwise the session
// over its share whose oldest event is the oldest in the store does. So
// one session's traffic cannot evict another's events below that share.
// Event ids have the form "<streamID>-<n>", n counting events per session
// from 1. It is safe for concurrent use.
type MemoryEventStore struct {
	maxSession, maxTotal, minSession int

	mu       sync.Mutex
	sessions map[string]*memSession
	bytes    int
	nonEmpty int    // sessions holding events
	clock    uint64 // orders events across sessions
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
	stream *memStream
	seq    uint64
	clock  uint64 // the store's clock when the event was appended
	prev   uint64 // seq of the stream's previous event; 0 if unknown or none
	data   []byte
}

func (e *memEvent) size() int { return len(e.data) + eventOverhead }

// NewMemoryEventStore returns an empty store. opts may be nil.
func NewMemoryEventStore(opts *MemoryEventStoreOptions) *MemoryEventStore {
	s := &MemoryEventStore{
		maxSession: DefaultMaxSessionBytes,
		maxTotal:   DefaultMaxTotalBytes,
		minSession: DefaultMinSessionBytes,
		sessions:   make(map[string]*memSession),
	}
	if opts != nil {
		if opts.MaxSessionBytes > 0 {
			s.maxSession = opts.MaxSessionBytes
		}
		if opts.MaxTotalBytes > 0 {
			s.maxTotal = opts.MaxTotalBytes
		}
		if opts.MinSessionBytes > 0 {
			s.minSession = opts.MinSessionBytes
		}
	}
	s.minSession = min(s.minSession, s.maxSession)
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
	s.clock++
	e := &memEvent{stream: st, seq: ms.seq, clock: s.clock, prev: st.last, data: slices.Clone(data)}
	if e.data == nil {
		e.data = []byte{}
	}
	st.last = e.seq
	// Make room first, so that the new event is never the one evicted.
	for ms.bytes+size > s.maxSession && len(ms.queue) > 0 {
		s.evictFront(ms)
	}
	if s.bytes+size > s.maxTotal {
		s.makeRoom(ms, size)
	}
	if ms.streams[streamID] == nil {
		// Eviction emptied and dropped the stream: put it back.
		ms.streams[streamID] = st
	}
	st.events = append(st.events, e)
	ms.queue = append(ms.queue, e)
	if ms.bytes == 0 {
		s.nonEmpty++
	}
	ms.bytes += size
	s.bytes += size
	return streamID + "-" + strconv.FormatUint(e.seq, 10), nil
}

// makeRoom evicts events until an event of size bytes for session ms fits
// in the store: ms's own while it holds more than its share, then those of
// the session over its share whose oldest event is the oldest. Sessions
// within their share lose nothing to another session's traffic; when no
// session is over its share (only the new event overflows) ms pays.
func (s *MemoryEventStore) makeRoom(ms *memSession, size int) {
	sessions := s.nonEmpty
	if ms.bytes == 0 {
		sessions++ // ms is about to hold an event
	}
	share := min(s.minSession, s.maxTotal/sessions)
	for s.bytes+size > s.maxTotal && ms.bytes > share {
		s.evictFront(ms)
	}
	for s.bytes+size > s.maxTotal {
		var victim *memSession
		for _, o := range s.sessions {
			if o != ms && o.bytes > share && (victim == nil || o.queue[0].clock < victim.queue[0].clock) {
				victim = o
			}
		}
		if victim == nil {
			if len(ms.queue) == 0 {
				return // cannot happen: a lone event fits the store
			}
			victim = ms
		}
		for s.bytes+size > s.maxTotal && len(victim.queue) > 0 && (victim == ms || victim.bytes > share) {
			s.evictFront(victim)
		}
	}
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
	if ms.bytes == 0 {
		// The session stays (empty) so that its event counter, and with
		// it the uniqueness of its event ids, survives; DeleteSession
		// drops it.
		s.nonEmpty--
	}
	e.data = nil
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
	s.bytes -= ms.bytes
	if ms.bytes > 0 {
		s.nonEmpty--
	}
	ms.queue = nil
	ms.streams = nil
	return nil
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
