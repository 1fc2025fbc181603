package streamable

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/sse"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// Hooks for running one MCP endpoint as several identical Handlers (server
// instances) behind a load balancer without sticky sessions. A session
// created by one instance must be servable by all: the factory mints
// session ids that carry what is needed to rebuild the session
// (SessionIDMinter) and rebuilds it on an instance that does not hold it
// (SessionRestorer), and the instances share an event store
// (SharedEventStore) through which a client resumes, on any instance, a
// stream whose requests run on another one. None of them is used unless
// the factory or the store implements it.

// SessionIDMinter is implemented by session factories that choose the ids
// of new sessions, such as ids sealing the client's initialize parameters
// so that another instance can rebuild the session. The Handler calls
// NewSessionID, with the initialize request, instead of making a random id.
// The id must be visible ASCII of at most MaxSessionIDLen bytes and
// unguessable.
type SessionIDMinter interface {
	NewSessionID(ctx context.Context, initialize *jsonrpc.Request) (string, error)
}

// SessionRestorer is implemented by session factories that can rebuild a
// session another instance created. When a request names a session id the
// Handler does not hold, it calls RestoreSession, which returns the
// session, initialized, or an error: ErrUnknownSession (or any error
// wrapping it) answers 404 as for a session that ended, transport.
// ErrSessionLimit answers 503, other errors 500. ctx carries the request's
// values and transport.RequestInfo.
type SessionRestorer interface {
	RestoreSession(ctx context.Context, id string, standalone transport.Sink) (transport.Session, error)
}

// ErrUnknownSession is returned by a SessionRestorer for an id it cannot
// restore: forged, sealed with a key no longer known, or of a session that
// was terminated.
var ErrUnknownSession = errors.New("streamable: unknown session")

// SessionTerminator is implemented by session factories that must learn
// when a client ends its session with DELETE, as opposed to an instance
// dropping its copy of the session (idle timeout, shutdown): a restorable
// session ends everywhere only then.
type SessionTerminator interface {
	TerminateSession(ctx context.Context, id string) error
}

// MaxSessionIDLen bounds the session ids the Handler accepts and mints.
// Ids sealing a session's state are longer than random ones.
const MaxSessionIDLen = 1024

// SharedEventStore is implemented by event stores that several Handlers
// (instances) share. With one, a request stream's events are visible to
// every instance: a client that lost its stream, or whose stream the
// instance closed while draining, resumes with GET and Last-Event-ID on any
// instance, which replays and then follows the stream until its responses
// have been delivered. The session's standalone stream (GET without
// Last-Event-ID) is likewise delivered from the store, whichever instance
// sent its messages.
type SharedEventStore interface {
	EventStore
	// Instance names this instance; the Handler prefixes the ids of the
	// request streams it creates with it, so that streams of one session
	// created on different instances never share an id.
	Instance() string
	// OpenStream records that a request stream (its first event is about
	// to be appended) carries the responses to requestIDs and is served
	// by this instance.
	OpenStream(ctx context.Context, sessionID, streamID string, requestIDs []jsonrpc.ID) error
	// CompleteStream records that every response of a request stream has
	// been appended: a follower stops there.
	CompleteStream(ctx context.Context, sessionID, streamID string) error
	// Follow calls fn for each event of the stream lastEventID belongs to
	// appended after it, waiting for new ones, and returns the stream's id
	// once the stream is complete (for request streams), when ctx ends, or
	// on an error (fn's included). A store that learns the instance serving
	// the stream died appends an error response for each request of the
	// stream left without one, then completes it: the client gets an
	// answer it can retry. Errors wrapping ErrUnknownEvent are as for
	// Replay.
	Follow(ctx context.Context, sessionID, lastEventID string, fn func(eventID string, data []byte) error) (streamID string, err error)
}

// shared returns the handler's store as a SharedEventStore, or nil.
func (h *Handler) shared() SharedEventStore {
	s, _ := h.store.(SharedEventStore)
	return s
}

// restoreSession rebuilds a session another instance created, or answers
// the request and returns nil. The returned session is acquired.
func (h *Handler) restoreSession(w http.ResponseWriter, r *http.Request, rs SessionRestorer, id string) *session {
	client := h.clientKey(r)
	h.mu.Lock()
	if h.closed || h.draining {
		h.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "server shutting down; retry")
		return nil
	}
	if len(h.sessions)+h.creating >= h.maxSessions {
		h.mu.Unlock()
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "too many sessions")
		return nil
	}
	h.creating++
	if h.janitorStop == nil {
		h.startJanitorLocked()
	}
	h.mu.Unlock()

	s := newSession(h, id)
	s.client = client
	sess, err := rs.RestoreSession(newRequestContext(r, context.Background(), client, h), id, s)
	h.mu.Lock()
	h.creating--
	var winner *session
	if err == nil && !h.closed {
		if winner = h.sessions[id]; winner == nil {
			s.sess = sess
			s.acquire()
			h.sessions[id] = s
			cl := h.clients[client]
			if cl == nil {
				cl = &clientSessions{sessions: make(map[*session]struct{})}
				h.clients[client] = cl
			}
			cl.sessions[s] = struct{}{}
		} else {
			winner.acquire()
		}
	}
	closed := h.closed
	h.mu.Unlock()
	switch {
	case err == nil && winner != nil:
		// A concurrent request restored it first.
		sess.Close()
		s.cancel()
		return winner
	case err == nil && closed:
		sess.Close()
		s.cancel()
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "server shutting down")
		return nil
	case err == nil:
		h.log.Debug("streamable: session restored", "session", jsonrpc.Elide(id, 24))
		return s
	}
	s.cancel()
	switch {
	case errors.Is(err, ErrUnknownSession):
		writeError(w, http.StatusNotFound, jsonrpc.CodeInvalidRequest, jsonrpc.ID{}, "session not found")
	case errors.Is(err, transport.ErrSessionLimit):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "too many sessions")
	default:
		h.log.Error("streamable: restoring session", "err", err)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "cannot restore the session; retry")
	}
	return nil
}

// follow delivers, from the shared store, the events of a stream this
// instance does not serve (it runs on another instance, or is complete)
// after cursor, until the stream is complete or the client leaves. It
// answers the request itself.
func (h *Handler) follow(ctx context.Context, s *session, c *conn, store SharedEventStore, cursor string, write func(string, []byte) error) {
	ctx, cancel := h.followContext(ctx, s)
	defer cancel()
	if !c.sse {
		c.startSSE()
		if s.protocolVersion() >= firstPrimingVersion {
			_ = c.writeRetry(h.retry)
		}
		_ = c.flush()
	}
	stop := h.keepAliveWhile(c)
	_, err := store.Follow(ctx, s.id, cursor, write)
	stop()
	if err != nil && ctx.Err() == nil {
		h.log.Debug("streamable: following a shared stream", "session", s.id, "err", err)
	}
	if h.isDraining() {
		_ = c.writeRetry(h.retry)
	}
	c.finalize()
}

// followContext ends with ctx, the session, and the handler's drain or
// close.
func (h *Handler) followContext(ctx context.Context, s *session) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop1 := context.AfterFunc(s.ctx, cancel)
	stop2 := context.AfterFunc(h.drainCtx, cancel)
	return ctx, func() { stop1(); stop2(); cancel() }
}

// keepAliveWhile writes keep-alive comments on c while a follower waits;
// the follower's writes and these are serialized by c's own mutex.
func (h *Handler) keepAliveWhile(c *conn) (stop func()) {
	if h.keepAlive <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(h.keepAlive)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.followMu.Lock()
				if !c.wroteSinceTick {
					_ = c.writeComment()
				}
				c.wroteSinceTick = false
				c.followMu.Unlock()
			}
		}
	}()
	return func() { close(done); <-ended }
}

// followWriter returns the write function of a follower: each event is
// written as it arrives.
func (h *Handler) followWriter(c *conn, primes bool, cursor *string) func(string, []byte) error {
	return func(id string, data []byte) error {
		if !validEventID(id) {
			return errors.New("event store replayed an invalid event id " + strconv.Quote(id))
		}
		c.followMu.Lock()
		defer c.followMu.Unlock()
		if len(data) > 0 {
			ev := sse.Event{ID: id, Data: data, HasData: true}
			if !c.sse {
				c.startSSE()
				if primes {
					ev.Retry, ev.HasRetry = h.retry, true
				}
			}
			if err := c.writeSSE(ev); err != nil {
				return err
			}
		}
		*cursor = id
		return nil
	}
}

// listenShared serves a standalone GET from the shared store: it appends a
// priming event to the session's standalone stream and follows the stream
// from there, so that messages any instance sends the session reach the
// client.
func (h *Handler) listenShared(ctx context.Context, s *session, c *conn, store SharedEventStore) {
	id, err := h.appendEvent(ctx, s.id, standaloneStreamID, nil)
	if err != nil {
		writeError(c.w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "cannot open the stream; retry")
		return
	}
	c.startSSE()
	primes := s.protocolVersion() >= firstPrimingVersion
	if primes {
		if err := c.writePriming(id, h.retry); err != nil {
			return
		}
	}
	_ = c.flush()
	cursor := id
	h.follow(ctx, s, c, store, cursor, h.followWriter(c, primes, &cursor))
}

// Drain prepares the handler for a shutdown while other instances take
// over: it stops creating and restoring sessions (initialize gets 503 with
// Retry-After, so the client retries and the balancer sends it elsewhere),
// and ends every open SSE response with a retry field, so that its client
// reconnects — to another instance — and resumes from the last event it
// saw (a shared event store makes that possible). Requests in flight go on
// and their later events are stored; Close or Shutdown ends them. Drain
// returns at once; it is safe to call more than once.
func (h *Handler) Drain() {
	h.mu.Lock()
	if h.draining {
		h.mu.Unlock()
		return
	}
	h.draining = true
	all := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		all = append(all, s)
	}
	h.mu.Unlock()
	h.drainCancel()
	for _, s := range all {
		s.handOff()
	}
}

// isDraining reports whether Drain was called.
func (h *Handler) isDraining() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.draining
}

// handOff ends the session's attached SSE responses with a retry field
// (see Handler.Drain). Responses not yet SSE, which the client could not
// resume, are left to finish.
func (s *session) handOff() {
	s.mu.Lock()
	streams := make([]*stream, 0, len(s.streams)+1)
	for _, st := range s.streams {
		streams = append(streams, st)
	}
	if s.standalone != nil {
		streams = append(streams, s.standalone)
	}
	s.mu.Unlock()
	for _, st := range streams {
		st.mu.Lock()
		if c := st.conn; c != nil && c.sse && st.cursor != "" {
			_ = c.writeRetry(s.h.retry)
			st.detachLocked(c)
		}
		st.mu.Unlock()
	}
}
