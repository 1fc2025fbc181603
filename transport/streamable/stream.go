package streamable

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/sse"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

var (
	errJSONOnly   = errors.New("streamable: the response is plain JSON; related messages cannot be delivered")
	errStreamDone = errors.New("streamable: the request's response was already sent")
	errClientGone = errors.New("streamable: the client disconnected before receiving an event id to resume from")
)

// firstPrimingVersion is the first protocol revision whose clients expect
// a priming event (an event id with empty data) at the start of an SSE
// stream; older clients may not parse an empty event.
const firstPrimingVersion = "2025-11-25"

// stream is one logical SSE stream of a session: the response stream of a
// POST's requests, or the session's standalone stream. Its events are
// stored in the EventStore under its id; at most one HTTP response (conn)
// is attached to it at a time, and messages sent while none is attached are
// only stored, for a GET with Last-Event-ID to replay.
//
// A request stream starts undecided (adaptive mode): until the requests
// complete or something must be streamed, nothing is written, so that the
// response can still be plain JSON.
//
// Lock order: stream.mu before session.mu.
type stream struct {
	s          *session
	mode       ResponseMode
	batch      bool // the POST was a JSON-RPC batch: answer with an array
	init       bool // the POST was initialize
	standalone bool
	reqID      jsonrpc.ID              // the id of the POST's (first) request
	ids        []jsonrpc.ID            // the ids of a batch's requests, in order
	cancel     context.CancelCauseFunc // ends the requests' context; nil for the standalone stream

	mu       sync.Mutex
	id       string      // "" until the stream stores its first event
	conn     *conn       // attached HTTP response, nil if none
	cursor   string      // last event id the client may have seen ("" none)
	sse      bool        // the stream has been an SSE stream: its events are stored
	pending  int         // requests not finished
	single   []byte      // response of a non-batch request, while undecided
	resps    [][]byte    // responses of a batch, while undecided
	finished bool        // all responses are in
	resumeBy *time.Timer // cancels the requests unless a client resumes the stream in time
}

// Causes of the cancellation of a POST's requests.
var (
	errClientLeft  = errors.New("streamable: the client disconnected from a response it cannot resume")
	errNotResumed  = errors.New("streamable: the client did not resume the response stream within the resume window")
	errRequestDone = errors.New("streamable: the requests of the POST are done")
)

// Send implements transport.Sink for the messages related to the POST's
// requests.
func (st *stream) Send(ctx context.Context, msg []byte) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.finished {
		return errStreamDone
	}
	if st.mode == ResponseJSON {
		st.s.h.log.Debug("streamable: dropping a related message: the client gets a JSON response", "session", st.s.id)
		return errJSONOnly
	}
	if c := st.conn; c != nil && !c.sse {
		st.startSSELocked()
	}
	return st.emitLocked(ctx, msg)
}

// CloseStream implements transport.StreamCloser: it ends the HTTP response
// after telling the client to reconnect in retryAfter milliseconds (the
// handler's RetryInterval if not positive). Later messages, including the
// final response, are stored and delivered when the client resumes with
// GET and Last-Event-ID.
//
// The call is ignored when the client could not resume: on a JSON-only
// response, on sessions of protocol revisions before 2025-11-25 (which
// forbid closing a stream before its responses are sent), and when the
// client holds no event id of the stream yet.
func (st *stream) CloseStream(retryAfter int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.conn
	if c == nil || st.finished {
		return
	}
	log := st.s.h.log
	if st.mode == ResponseJSON {
		log.Debug("streamable: CloseStream ignored on a JSON response", "session", st.s.id)
		return
	}
	if !st.primes() {
		// Before 2025-11-25 the server SHOULD NOT close a stream before its
		// responses are sent, and clients need not reconnect.
		log.Debug("streamable: CloseStream ignored: the protocol revision does not allow it", "session", st.s.id)
		return
	}
	if !c.sse {
		st.startSSELocked()
		if st.conn != c {
			return
		}
	}
	if st.cursor == "" {
		log.Debug("streamable: CloseStream ignored: no event id sent yet", "session", st.s.id)
		return
	}
	retry := time.Duration(retryAfter) * time.Millisecond
	if retryAfter <= 0 {
		retry = st.s.h.retry
	}
	_ = c.writeRetry(retry)
	log.Debug("streamable: closing stream for polling", "session", st.s.id, "stream", st.id)
	st.detachLocked(c)
}

// primes reports whether the stream's client expects priming events.
func (st *stream) primes() bool {
	return st.s.protocolVersion() >= firstPrimingVersion
}

func (st *stream) idOrNone() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.id
}

// startSSELocked turns the attached undecided response into an SSE stream:
// headers, the priming event when the client expects one, and the
// responses gathered so far.
func (st *stream) startSSELocked() {
	c := st.conn
	c.startSSE()
	st.sse = true
	if st.primes() {
		st.primeLocked()
	}
	if st.conn == c && st.resps != nil {
		for i, r := range st.resps {
			if r != nil {
				st.resps[i] = nil
				_ = st.emitLocked(context.Background(), r)
			}
		}
	}
	if st.conn == c {
		if err := c.flush(); err != nil {
			st.detachLocked(c)
		}
	}
}

// primeLocked stores and writes a priming event: an id and empty data, with
// the retry interval, so that the client can resume even if no other event
// reaches it.
func (st *stream) primeLocked() {
	h := st.s.h
	if st.id == "" {
		st.s.register(st)
	}
	id, err := h.appendEvent(context.Background(), st.s.id, st.id, nil)
	if err != nil {
		return
	}
	c := st.conn
	if err := c.writePriming(id, h.retry); err != nil {
		st.detachLocked(c)
		return
	}
	st.cursor = id
}

// emitLocked stores msg as the stream's next event and writes it to the
// attached response, if any.
func (st *stream) emitLocked(ctx context.Context, msg []byte) error {
	h := st.s.h
	c := st.conn
	if !st.sse || (c == nil && st.cursor == "") {
		// The client holds no event id of this stream, so it cannot resume
		// it: nothing would ever deliver the message.
		h.log.Debug("streamable: dropping a message: the client left and cannot resume", "session", st.s.id)
		return errClientGone
	}
	if st.id == "" {
		st.s.register(st)
	}
	id, err := h.appendEvent(ctx, st.s.id, st.id, msg)
	if c == nil {
		return err
	}
	if werr := c.writeEvent(id, msg); werr != nil {
		h.log.Debug("streamable: writing event", "session", st.s.id, "stream", st.id, "err", werr)
		st.detachLocked(c)
		if err != nil {
			return werr
		}
		return nil
	}
	if id != "" {
		st.cursor = id
	}
	return nil
}

// finish records the response of the i-th request of the POST (nil when
// there is none, as for a request the client cancelled) and ends the
// stream after the last one.
func (st *stream) finish(i int, resp []byte) {
	st.mu.Lock()
	st.pending--
	if resp != nil {
		switch {
		case st.sse:
			_ = st.emitLocked(context.Background(), resp)
		case st.batch:
			st.resps[i] = resp
		default:
			st.single = resp
		}
	}
	if st.pending > 0 {
		st.mu.Unlock()
		return
	}
	st.finished = true
	if st.resumeBy != nil {
		st.resumeBy.Stop()
	}
	// Release the requests' context (it is registered with the
	// session's); tasks they started have contexts of their own.
	if st.cancel != nil {
		st.cancel(errRequestDone)
	}
	initFailed := st.init && st.s.protocolVersion() == ""
	if c := st.conn; c != nil {
		switch {
		case c.sse:
		case st.mode != ResponseJSON && st.single == nil && !hasAny(st.resps):
			// No response is due (the client cancelled its requests), but
			// a POST of requests gets JSON or SSE, never an empty 202: a
			// stream that ends without an event is the honest answer. It
			// carries no event id either, so nothing invites the client to
			// resume it.
			st.sse = true
			c.startSSE()
			_ = c.flush()
		default:
			st.writeJSONLocked(c, initFailed)
		}
		st.detachLocked(c)
	} else if !st.sse && (st.single != nil || st.resps != nil) {
		st.s.h.log.Debug("streamable: response dropped: the client left before it was ready", "session", st.s.id)
	}
	st.single, st.resps = nil, nil
	registered := st.id != ""
	st.mu.Unlock()
	if registered {
		st.s.unregister(st)
		if shared := st.s.h.shared(); shared != nil && !st.standalone {
			if err := shared.CompleteStream(context.Background(), st.s.id, st.id); err != nil {
				st.s.h.log.Warn("streamable: completing a stream in the shared store", "session", st.s.id, "err", err)
			}
		}
	}
	if initFailed {
		st.s.h.endSession(st.s, "initialization failed")
	}
}

func hasAny(resps [][]byte) bool {
	for _, r := range resps {
		if r != nil {
			return true
		}
	}
	return false
}

// errNoResponse answers, in a JSON body, a request that ended without a
// response: one the client cancelled (or could no longer be served).
var errNoResponse = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "request cancelled: no response"}

// writeJSONLocked answers the POST with its responses as plain JSON. A
// request without a response (the client cancelled it) is answered with
// an error, since a JSON answer must carry one object per request.
func (st *stream) writeJSONLocked(c *conn, initFailed bool) {
	hdr := c.w.Header()
	if initFailed {
		hdr.Del(HeaderSessionID)
	}
	var body []byte
	if st.batch {
		body = append(body, '[')
		for i, r := range st.resps {
			if len(body) > 1 {
				body = append(body, ',')
			}
			if r == nil {
				r = jsonrpc.AppendErrorResponse(nil, st.ids[i], errNoResponse)
			}
			body = append(body, r...)
		}
		body = append(body, ']')
	} else {
		body = st.single
		if body == nil {
			body = jsonrpc.AppendErrorResponse(nil, st.reqID, errNoResponse)
		}
	}
	hdr.Set("Content-Type", mediaJSON)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	// The body may be large and the client may not read it: the write
	// deadline releases the handler, and the body, when it does not.
	c.deadline()
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(body)
}

// detachLocked detaches c from the stream and tells its HTTP handler to
// end the response.
//
// A request stream that loses its response before its requests finish
// decides their fate here. A client that holds no event id of the stream
// cannot resume it: nothing will ever deliver the responses, so the
// requests are cancelled (the spec does not make disconnection a
// cancellation, but this work has no one left to do it for). A client
// that holds one may resume it with GET and Last-Event-ID (after a broken
// connection, or after CloseStream): the requests go on, for the handler's
// ResumeWindow at most unless a client resumes the stream.
func (st *stream) detachLocked(c *conn) {
	if st.conn == c {
		st.conn = nil
		if !st.finished && st.cancel != nil {
			h := st.s.h
			switch {
			case st.cursor == "":
				h.log.Debug("streamable: cancelling requests: their client left and cannot resume", "session", st.s.id)
				st.cancel(errClientLeft)
			case h.resumeWindow > 0 && st.resumeBy == nil:
				st.resumeBy = time.AfterFunc(h.resumeWindow, st.resumeExpired)
			case h.resumeWindow > 0:
				st.resumeBy.Reset(h.resumeWindow)
			}
		}
	}
	c.close()
}

// attachLocked makes c the stream's live response.
func (st *stream) attachLocked(c *conn) {
	st.conn = c
	if st.resumeBy != nil {
		st.resumeBy.Stop()
	}
}

// resumeExpired cancels the requests of a stream that no client resumed
// within the resume window.
func (st *stream) resumeExpired() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.conn == nil && !st.finished {
		st.s.h.log.Debug("streamable: cancelling requests: no client resumed their stream", "session", st.s.id, "stream", st.id)
		st.cancel(errNotResumed)
	}
}

func (st *stream) detach(c *conn) {
	st.mu.Lock()
	st.detachLocked(c)
	st.mu.Unlock()
}

// conn is one HTTP response carrying a stream. Its methods are called with
// the owning stream's mutex held (or, before it is attached, only by the
// goroutine serving the request).
type conn struct {
	h              *Handler
	w              http.ResponseWriter
	rc             *http.ResponseController // nil until needed
	end            chan struct{}            // closed when the response should end; nil while serveSingle needs none
	watchDone      chan struct{}            // closed when serveSingle's watcher returns; nil if none started
	inline         inlineState              // for a request served by serveSingle
	closed         bool
	followMu       sync.Mutex // serializes a follower's writes with its keep-alives
	sse            bool       // SSE headers written
	wroteSinceTick bool
	noDeadline     bool // the ResponseWriter cannot set write deadlines
	buf            []byte
}

// writeCtl is a response's ResponseController, made once per request, and
// whether its writer can set write deadlines.
type writeCtl struct {
	rc         *http.ResponseController
	noDeadline bool
}

func newConn(h *Handler, w http.ResponseWriter, wc writeCtl) *conn {
	return &conn{h: h, w: w, rc: wc.rc, noDeadline: wc.noDeadline, end: make(chan struct{})}
}

// close tells the goroutine serving the response to end it.
func (c *conn) close() {
	if !c.closed {
		c.closed = true
		if c.end != nil {
			close(c.end)
		}
	}
}

// startSSE writes the headers of an SSE response.
func (c *conn) startSSE() {
	c.sse = true
	if c.h.writeTimeout < 0 {
		// No limit on writes: lift any deadline the server set (such as
		// http.Server.WriteTimeout) for this long-lived response.
		_ = c.controller().SetWriteDeadline(time.Time{})
	}
	hdr := c.w.Header()
	hdr.Set("Content-Type", sse.ContentType)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	hdr.Del("Content-Length")
	c.w.WriteHeader(http.StatusOK)
}

// controller returns the response's ResponseController.
func (c *conn) controller() *http.ResponseController {
	if c.rc == nil {
		c.rc = http.NewResponseController(c.w)
	}
	return c.rc
}

// deadline arms the write timeout before a write.
func (c *conn) deadline() {
	if c.h.writeTimeout > 0 && !c.noDeadline {
		if err := c.controller().SetWriteDeadline(time.Now().Add(c.h.writeTimeout)); err != nil {
			c.noDeadline = true // not supported by this ResponseWriter
		}
	}
}

func (c *conn) flush() error {
	c.deadline()
	return c.controller().Flush()
}

func (c *conn) write(b []byte) error {
	c.deadline()
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	c.wroteSinceTick = true
	return c.controller().Flush()
}

// writeSSE encodes and writes one event.
func (c *conn) writeSSE(ev sse.Event) error {
	b, err := sse.AppendEvent(c.buf[:0], ev)
	if err != nil {
		// Event ids are checked when the store issues them, so this does
		// not happen; the stream goes on without the event.
		c.h.log.Error("streamable: cannot encode event", "err", err)
		return nil
	}
	if cap(b) <= 64<<10 {
		c.buf = b[:0]
	}
	return c.write(b)
}

// writeEvent writes one message; an empty id writes it without id (for a
// message the store could not keep).
func (c *conn) writeEvent(id string, data []byte) error {
	return c.writeSSE(sse.Event{ID: id, Data: data, HasData: true})
}

// writePriming writes a priming event: an id, the retry interval and empty
// data.
func (c *conn) writePriming(id string, retry time.Duration) error {
	return c.writeSSE(sse.Event{ID: id, HasData: true, Retry: retry, HasRetry: true})
}

// writeRetry writes a retry field alone.
func (c *conn) writeRetry(retry time.Duration) error {
	return c.writeSSE(sse.Event{Retry: retry, HasRetry: true})
}

// writeComment writes an empty comment, the keep-alive.
func (c *conn) writeComment() error {
	c.buf = sse.AppendComment(c.buf[:0], "")
	return c.write(c.buf)
}

// finalize runs before the HTTP handler returns: it re-arms the write
// deadline of an SSE stream, which may have passed while it was quiet, so
// that net/http can end the response cleanly (and within the deadline: it
// flushes what is buffered). A JSON answer's deadline was armed just
// before it was written.
func (c *conn) finalize() {
	if c.sse {
		c.deadline()
	}
}
