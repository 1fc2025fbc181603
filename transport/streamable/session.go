package streamable

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// standaloneStreamID is the stream id of a session's standalone stream
// (GET without Last-Event-ID); request streams count up from "1".
const standaloneStreamID = "0"

var errSessionEnded = errors.New("streamable: session ended")

// session is the transport's state for one protocol session. It is kept
// small: an idle session costs this struct, its context, its request-slot
// channel and its map entry, and no goroutine.
type session struct {
	h      *Handler
	id     string
	client string // the key of the client that created it
	sess   transport.Session
	ctx    context.Context // cancelled when the session ends
	cancel context.CancelFunc
	sem    chan struct{} // request slots

	version    atomic.Pointer[string] // negotiated protocol version, once known
	lastActive atomic.Int64           // unix nanoseconds of the last activity
	active     atomic.Int32           // open HTTP requests and running request handlers

	mu         sync.Mutex
	ended      bool
	busy       int    // goroutines that may still append to the event store
	nextStream uint64 // last request stream id issued
	streams    map[string]*stream
	standalone *stream
}

func newSession(h *Handler, id string) *session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{h: h, id: id, ctx: ctx, cancel: cancel, sem: make(chan struct{}, h.maxInFlight)}
	s.lastActive.Store(h.now().UnixNano())
	return s
}

// protocolVersion returns the session's negotiated protocol version ("" before
// initialization). It is cached once known, so that the transport does not
// call into the protocol layer while holding its stream locks.
func (s *session) protocolVersion() string {
	if v := s.version.Load(); v != nil {
		return *v
	}
	v := s.sess.ProtocolVersion()
	if v != "" {
		s.version.Store(&v)
	}
	return v
}

// acquire marks the start of an HTTP request on the session.
func (s *session) acquire() {
	s.lastActive.Store(s.h.now().UnixNano())
	s.active.Add(1)
}

// release marks the end of an HTTP request on the session.
func (s *session) release() {
	s.lastActive.Store(s.h.now().UnixNano())
	s.active.Add(-1)
}

// enter registers a request goroutine. It returns false if the session has
// ended.
func (s *session) enter() bool {
	if !s.enterStore() {
		return false
	}
	s.acquire()
	return true
}

// leave ends what enter began.
func (s *session) leave() {
	s.release()
	s.leaveStore()
}

// enterStore registers a goroutine that may append to the event store, so
// that the session's stored events are deleted only after it is done.
func (s *session) enterStore() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	s.busy++
	return true
}

func (s *session) leaveStore() {
	s.mu.Lock()
	s.busy--
	forget := s.ended && s.busy == 0
	s.mu.Unlock()
	if forget {
		s.h.forget(s)
	}
}

// expired reports why the session should end now, or "" if it should not.
func (s *session) expired(now time.Time) string {
	select {
	case <-s.sess.Done():
		return "session closed"
	default:
	}
	if s.h.idleTimeout > 0 && s.active.Load() == 0 &&
		now.UnixNano()-s.lastActive.Load() > int64(s.h.idleTimeout) {
		return "idle timeout"
	}
	return ""
}

// Send implements transport.Sink for the session's standalone stream: it
// writes to the GET stream when one is attached and stores the message for
// the next GET otherwise.
func (s *session) Send(ctx context.Context, msg []byte) error {
	if !s.enterStore() {
		return errSessionEnded
	}
	defer s.leaveStore()
	st := s.standaloneStream()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.conn == nil && st.cursor == "" {
		// Mark where the undelivered messages begin, so that the next GET
		// can replay them from here.
		id, err := s.h.appendEvent(ctx, s.id, st.id, nil)
		if err != nil {
			return err
		}
		st.cursor = id
	}
	return st.emitLocked(ctx, msg)
}

func (s *session) standaloneStream() *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.standalone == nil {
		s.standalone = &stream{s: s, mode: ResponseSSE, standalone: true, id: standaloneStreamID, sse: true}
	}
	return s.standalone
}

// register gives a request stream its id when it stores its first event,
// so that a GET with Last-Event-ID can find it while it is live.
func (s *session) register(st *stream) {
	s.mu.Lock()
	s.nextStream++
	shared := s.h.shared()
	if shared != nil {
		st.id = shared.Instance() + "." + strconv.FormatUint(s.nextStream, 10)
	} else {
		st.id = strconv.FormatUint(s.nextStream, 10)
	}
	if s.streams == nil {
		s.streams = make(map[string]*stream)
	}
	s.streams[st.id] = st
	s.mu.Unlock()
	if shared != nil {
		ids := st.ids
		if ids == nil {
			ids = []jsonrpc.ID{st.reqID}
		}
		if err := shared.OpenStream(context.Background(), s.id, st.id, ids); err != nil {
			s.h.log.Warn("streamable: recording a stream in the shared store", "session", s.id, "err", err)
		}
	}
}

func (s *session) unregister(st *stream) {
	s.mu.Lock()
	delete(s.streams, st.id)
	s.mu.Unlock()
}

// findStream returns the live stream with the given id, or nil if it is
// finished or unknown.
func (s *session) findStream(id string) *stream {
	if id == standaloneStreamID {
		return s.standaloneStream()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[id]
}

// requestContext is the context given to the session for the messages of
// one POST: it has the HTTP request's values (authentication, RequestInfo)
// but ends with the session, not with the HTTP request, because a client
// disconnecting is not a client cancelling.
type requestContext struct {
	done context.Context // cancellation: the session's context
	vals context.Context // values: the HTTP request's context without its cancellation
	info transport.RequestInfo
}

// newRequestContext returns the context for the messages of r, ending when
// done does; client is the client's key, a the admitter of its tasks.
func newRequestContext(r *http.Request, done context.Context, client string, a transport.Admitter) context.Context {
	rc := &requestContext{
		done: done,
		info: transport.RequestInfo{Header: r.Header, RemoteAddr: r.RemoteAddr, Host: r.Host, Client: client, Admitter: a},
	}
	// The RequestInfo is among the values rather than wrapped around rc,
	// so that contexts derived from rc see its AfterFunc: a wrapper would
	// hide it, and context.WithCancel would then start a goroutine per
	// request to watch rc.Done.
	rc.vals = transport.WithRequestInfo(context.WithoutCancel(r.Context()), &rc.info)
	return rc
}

func (c *requestContext) Deadline() (time.Time, bool) { return c.done.Deadline() }
func (c *requestContext) Done() <-chan struct{}       { return c.done.Done() }
func (c *requestContext) Err() error                  { return c.done.Err() }
func (c *requestContext) Value(key any) any           { return c.vals.Value(key) }

// AfterFunc lets contexts derived from this one register with the
// session's context instead of starting a goroutine each.
func (c *requestContext) AfterFunc(f func()) func() bool { return context.AfterFunc(c.done, f) }

func (c *requestContext) String() string { return "streamable.requestContext" }

// startJanitorLocked starts the goroutine that ends idle and closed
// sessions. h.mu must be held.
func (h *Handler) startJanitorLocked() {
	interval := time.Minute
	if h.idleTimeout > 0 && h.idleTimeout/2 < interval {
		interval = max(h.idleTimeout/2, time.Millisecond)
	}
	h.janitorStop, h.janitorDone = make(chan struct{}), make(chan struct{})
	go h.janitor(interval, h.janitorStop, h.janitorDone)
}

func (h *Handler) janitor(interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			h.sweep()
		}
	}
}

// sweep ends the sessions that expired or closed themselves.
func (h *Handler) sweep() {
	now := h.now()
	type dead struct {
		s      *session
		reason string
	}
	var ended []dead
	h.mu.RLock()
	for _, s := range h.sessions {
		if reason := s.expired(now); reason != "" {
			ended = append(ended, dead{s, reason})
		}
	}
	h.mu.RUnlock()
	for _, d := range ended {
		h.endSession(d.s, d.reason)
	}
}
