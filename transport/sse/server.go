// Package sse implements the server side of MCP's legacy HTTP+SSE transport
// (protocol revision 2024-11-05), which the Streamable HTTP transport
// replaced in 2025-03-26. Servers keep it to serve older clients.
//
// The transport uses two endpoints. A client opens a session with a GET on
// the SSE endpoint; the server answers with a never-ending
// text/event-stream whose first event, "endpoint", carries the URL to POST
// messages to (the message endpoint, with the session id in its
// "sessionId" query parameter). The client then sends every JSON-RPC
// message as its own POST to that URL; the server answers each POST with
// 202 Accepted and sends everything it has to say, responses included, as
// "message" events on the one SSE stream. The session lasts as long as the
// SSE connection.
//
// A [Handler] serves both endpoints and tells them apart by method (GET
// opens a stream, POST delivers a message), so it may be mounted on two
// paths or on one:
//
//	h := sse.NewHandler(factory, nil)
//	defer h.Close()
//	mux.Handle("/sse", h)     // GET: the stream; its endpoint event says "/message?sessionId=…"
//	mux.Handle("/message", h) // POST: client messages
//
// When the message endpoint is elsewhere than the sibling "message" of the
// SSE path (for instance behind http.StripPrefix or a reverse proxy), set
// [Options.MessagePath] to the path clients must use. To serve both on one
// path, mount the handler there and set MessagePath to that path.
//
// # Messages
//
// A POST is answered with 202 Accepted once its message has been taken
// in: a notification or a response is handled before the answer (so a
// client that waits for it knows the server has seen the message), while a
// request only starts then, in a goroutine of its session, and its
// response is sent on the stream when it completes. A session runs at most
// [Options.MaxInFlightPerSession] requests at once; beyond that a POST
// waits for a slot up to [Options.InFlightWait] and is then refused with
// 429. [Options.MaxInFlight] bounds the requests of all sessions (503
// beyond it) and [Options.MaxInFlightPerClient] those of one client (429),
// tasks included; refusals carry Retry-After and a JSON-RPC error with the
// request's id. Requests run with a context that carries the values of
// the POST's context and a [transport.RequestInfo], and that is cancelled
// when the session ends, not when the POST does; the session ends when its
// stream does, so a client that goes away takes its work with it.
//
// [Options.MaxSessions] and [Options.MaxSessionsPerClient] bound the open
// streams (503 and 429 beyond them).
//
// A POST is refused, with a JSON-RPC error response as body, with 400
// when the sessionId parameter is missing or the body is not a valid
// JSON-RPC message, 404 when the session is unknown or has ended, 413 when
// the body is larger than [Options.MaxBodyBytes], and 415 when the
// Content-Type is not application/json. Methods other than GET and POST
// get 405, and everything gets 503 once the handler is closed.
//
// # Batches
//
// Revision 2024-11-05 does not allow JSON-RPC batches: its schema's
// JSONRPCMessage is a single request, notification or response, and its
// transport text speaks of single messages. Revision 2025-03-26 added
// batches (and 2025-06-18 removed them again), so a POST body may be a
// batch only when the session negotiated 2025-03-26, as on the stdio
// transport; otherwise a batch is refused with 400. The responses to a
// batch's requests are sent as separate "message" events, one per request,
// as they complete. An invalid element of a batch is answered with an
// error response on the stream too, while the valid elements are
// processed.
//
// # Security
//
// Like the Streamable HTTP transport, the handler refuses with 403
// requests that look like DNS rebinding (see [Options.AllowedHosts] and
// [Options.AllowedOrigins]). It does no authentication: wrap it in a
// handler that does. Session ids are 130-bit random strings, but they
// travel in URLs, which tend to be logged.
package sse

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/httpsec"
	"github.com/switchboard-mcp/switchboard/internal/limits"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// Defaults for zero Options fields.
const (
	DefaultMaxInFlightPerSession = 64
	DefaultMaxBodyBytes          = 4 << 20
	DefaultKeepAlive             = 25 * time.Second
	DefaultWriteTimeout          = 30 * time.Second
	DefaultInFlightWait          = time.Second
	DefaultMaxInFlight           = 4096
	DefaultMaxInFlightPerClient  = 256
	DefaultMaxSessions           = 10000
)

// batchVersion is the only protocol revision that allowed JSON-RPC batches.
const batchVersion = "2025-03-26"

// Options configure a Handler. The zero value is ready to use.
type Options struct {
	// MessagePath is the URL, usually an absolute path such as
	// "/mcp/message", that the endpoint event tells clients to POST to;
	// the handler appends the sessionId query parameter. Empty means the
	// sibling "message" of the GET request's path: "/sse" gives
	// "/message", "/mcp/sse" gives "/mcp/message".
	MessagePath string
	// MaxInFlightPerSession bounds the requests of one session handled at
	// the same time. When the bound is reached, a POST carrying a request
	// waits for a slot up to InFlightWait before it is answered, which
	// pushes back on the client, and is then refused with 429. Zero means
	// DefaultMaxInFlightPerSession.
	MaxInFlightPerSession int
	// InFlightWait is how long a POST waits for a slot of its session.
	// Zero means DefaultInFlightWait (1s); negative means no wait.
	InFlightWait time.Duration
	// MaxInFlight bounds the requests handled at the same time by the
	// Handler, all sessions together, running tasks included; beyond it
	// POSTs are refused at once with 503. Zero means DefaultMaxInFlight;
	// negative means no bound.
	MaxInFlight int
	// MaxInFlightPerClient bounds those of one client (see ClientKey);
	// beyond it POSTs are refused at once with 429. Zero means
	// DefaultMaxInFlightPerClient; negative means no bound.
	MaxInFlightPerClient int
	// MaxSessions bounds the open SSE streams, each a session; beyond it
	// GETs are refused with 503. Zero means DefaultMaxSessions; negative
	// means no bound.
	MaxSessions int
	// MaxSessionsPerClient bounds those of one client; beyond it GETs are
	// refused with 429. Zero means a tenth of MaxSessions (at least 1);
	// negative means no bound.
	MaxSessionsPerClient int
	// ClientKey names the client a request comes from, for the
	// per-client limits. Nil means transport.RemoteAddrKey (the client's
	// IP address); behind a reverse proxy, or with authentication, return
	// an identity instead.
	ClientKey func(*http.Request) string
	// MaxBodyBytes bounds the size of a POST body; larger bodies are
	// refused with 413. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// KeepAlive is the interval between SSE comments sent to keep idle
	// streams open through proxies. Zero means DefaultKeepAlive; negative
	// disables keep-alives.
	KeepAlive time.Duration
	// WriteTimeout bounds each write to an SSE stream. A client that stops
	// reading loses its session when a write takes longer. The handler
	// replaces the http.Server's WriteTimeout for its streams, which are
	// long-lived by design. Zero means DefaultWriteTimeout; negative means
	// no limit.
	WriteTimeout time.Duration

	// AllowedHosts lists Host header values accepted, besides loopback
	// names, when the server is reached on a loopback address: host names
	// (any port) or host:port pairs. "*" allows any Host.
	AllowedHosts []string
	// AllowedOrigins lists Origin header values accepted besides the
	// server's own origin (same host and port as the Host header), such as
	// "http://localhost:5173". "*" allows any Origin.
	//
	// Setting both lists to "*" turns the DNS rebinding protection off.
	AllowedOrigins []string
}

// Handler serves the HTTP+SSE transport. It is an http.Handler; create it
// with [NewHandler] and call [Handler.Close] when shutting down.
type Handler struct {
	factory  transport.SessionFactory
	opts     Options
	inflight *limits.Counter // requests and tasks in flight
	streams  *limits.Counter // open sessions

	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
	done     chan struct{} // closed by Close
	wg       sync.WaitGroup
}

// NewHandler returns a handler that creates a session from factory for
// every SSE stream a client opens. opts may be nil.
func NewHandler(factory transport.SessionFactory, opts *Options) *Handler {
	h := &Handler{factory: factory, sessions: make(map[string]*session), done: make(chan struct{})}
	if opts != nil {
		h.opts = *opts
		h.opts.AllowedHosts = slices.Clone(opts.AllowedHosts)
		h.opts.AllowedOrigins = slices.Clone(opts.AllowedOrigins)
	}
	if h.opts.MaxInFlightPerSession <= 0 {
		h.opts.MaxInFlightPerSession = DefaultMaxInFlightPerSession
	}
	if h.opts.MaxBodyBytes <= 0 {
		h.opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if h.opts.KeepAlive == 0 {
		h.opts.KeepAlive = DefaultKeepAlive
	}
	if h.opts.WriteTimeout == 0 {
		h.opts.WriteTimeout = DefaultWriteTimeout
	}
	if h.opts.InFlightWait == 0 {
		h.opts.InFlightWait = DefaultInFlightWait
	}
	if h.opts.ClientKey == nil {
		h.opts.ClientKey = transport.RemoteAddrKey
	}
	h.inflight = limits.New(intOr(h.opts.MaxInFlight, DefaultMaxInFlight), intOr(h.opts.MaxInFlightPerClient, DefaultMaxInFlightPerClient))
	maxSessions := intOr(h.opts.MaxSessions, DefaultMaxSessions)
	h.streams = limits.New(maxSessions, intOr(h.opts.MaxSessionsPerClient, max(maxSessions/10, 1)))
	return h
}

// intOr returns n, or def when n is zero.
func intOr(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// Admit implements transport.Admitter: it counts work a request started
// that outlives it (a task) against MaxInFlight and MaxInFlightPerClient.
func (h *Handler) Admit(client string) (release func(), err error) {
	if err := h.inflight.Acquire(client); err != nil {
		return nil, fmt.Errorf("%w: %w", transport.ErrBusy, err)
	}
	var once sync.Once
	return func() { once.Do(func() { h.inflight.Release(client) }) }, nil
}

// refusal returns the HTTP status and message of something a bound
// refused, or 0 for another error.
func refusal(err error, what string) (status int, msg string) {
	switch {
	case errors.Is(err, errSessionBusy):
		return http.StatusTooManyRequests, "too many requests in flight in this session; retry later"
	case errors.Is(err, limits.ErrPerClient):
		return http.StatusTooManyRequests, "too many " + what + " for this client; retry later"
	case errors.Is(err, limits.ErrGlobal):
		return http.StatusServiceUnavailable, "server busy: too many " + what + "; retry later"
	}
	return 0, ""
}

// ServeHTTP serves a GET (open an SSE stream and a session) or a POST (a
// message for a session). Other methods get 405.
//
// Every write has a deadline (Options.WriteTimeout), armed here first so
// that even an error answer cannot hang on a client that does not read;
// the SSE stream re-arms it before each write.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.opts.WriteTimeout > 0 {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout))
	}
	if err := httpsec.CheckHostOrigin(r, h.opts.AllowedHosts, h.opts.AllowedOrigins); err != nil {
		writeError(w, http.StatusForbidden, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "forbidden: " + err.Error()})
		return
	}
	switch r.Method {
	case http.MethodGet:
		h.serveStream(w, r)
	case http.MethodPost:
		h.serveMessage(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "method not allowed: use GET for the SSE stream and POST for messages"})
	}
}

// Close ends every session, refuses new requests with 503, and waits for
// the handler's goroutines (the SSE streams it serves and the requests in
// flight) to finish. In-flight requests have their contexts cancelled; a
// Session that ignores cancellation makes Close wait.
func (h *Handler) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wg.Wait()
		return nil
	}
	h.closed = true
	close(h.done)
	sessions := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		sessions = append(sessions, s)
	}
	h.mu.Unlock()
	for _, s := range sessions {
		s.end()
	}
	h.wg.Wait()
	return nil
}

// Shutdown is Close bounded by ctx: it ends every session and waits for
// the handler's goroutines until ctx ends, and then returns ctx.Err()
// while Close goes on in the background (a Session that ignores
// cancellation is what makes it wait).
func (h *Handler) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Close()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// track registers a goroutine with the handler; it reports false once the
// handler is closed.
func (h *Handler) track() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

func (h *Handler) lookup(id string) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[id]
}

// serveStream opens an SSE stream and runs a session over it until the
// client goes away, the session ends or the handler is closed.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request) {
	if !h.track() {
		writeError(w, http.StatusServiceUnavailable, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "server is shutting down"})
		return
	}
	defer h.wg.Done()

	client := h.opts.ClientKey(r)
	if err := h.streams.Acquire(client); err != nil {
		status, msg := refusal(err, "sessions")
		w.Header().Set("Retry-After", "5")
		writeError(w, status, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg})
		return
	}
	defer h.streams.Release(client)

	id := rand.Text()
	s := &session{h: h, id: id, client: client, sem: make(chan struct{}, h.opts.MaxInFlightPerSession), ended: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.stream = newStream(w, h.opts.WriteTimeout)

	sess, err := h.factory.NewSession(s.requestContext(r), id, s.stream)
	if err != nil {
		s.cancel()
		status := http.StatusInternalServerError
		if errors.Is(err, transport.ErrSessionLimit) {
			status = http.StatusServiceUnavailable
		}
		writeError(w, status, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "cannot create session: " + err.Error()})
		return
	}
	s.sess = sess

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		s.end()
		writeError(w, http.StatusServiceUnavailable, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "server is shutting down"})
		return
	}
	h.sessions[id] = s
	h.mu.Unlock()
	defer s.end()

	if err := s.stream.start(h.endpointURL(r, id)); err != nil {
		if errors.Is(err, ErrStreamClosed) { // Close came first; nothing is written yet
			writeError(w, http.StatusServiceUnavailable, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "server is shutting down"})
		}
		return
	}

	var tick <-chan time.Time
	if h.opts.KeepAlive > 0 {
		t := time.NewTicker(h.opts.KeepAlive)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-r.Context().Done(): // the client went away
			return
		case <-sess.Done(): // the server ended the session
			return
		case <-s.ended: // Close
			return
		case <-s.stream.failed:
			return
		case <-tick:
			if s.stream.keepAlive() != nil {
				return
			}
		}
	}
}

// endpointURL returns the data of the endpoint event for session id.
func (h *Handler) endpointURL(r *http.Request, id string) string {
	p := h.opts.MessagePath
	if p == "" {
		p = path.Join(path.Dir(r.URL.EscapedPath()), "message")
	}
	sep := "?"
	if strings.Contains(p, "?") {
		sep = "&"
	}
	return p + sep + "sessionId=" + id // rand.Text is URL-safe
}

// serveMessage accepts one POSTed message (or a batch) for a session.
func (h *Handler) serveMessage(w http.ResponseWriter, r *http.Request) {
	select {
	case <-h.done:
		writeError(w, http.StatusServiceUnavailable, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "server is shutting down"})
		return
	default:
	}
	id := r.URL.Query().Get("sessionId")
	if id == "" {
		writeError(w, http.StatusBadRequest, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "missing sessionId query parameter"})
		return
	}
	s := h.lookup(id)
	if s == nil {
		writeError(w, http.StatusNotFound, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "unknown or expired session"})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "Content-Type must be application/json"})
		return
	}
	body, err := readBody(w, r, h.opts.MaxBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "message too large"})
		} else {
			writeError(w, http.StatusBadRequest, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeParseError, Message: "reading the request body: " + err.Error()})
		}
		return
	}

	msgs, errs, isBatch, err := jsonrpc.DecodeBatch(body)
	if err != nil {
		writeDecodeError(w, err)
		return
	}
	if isBatch && s.sess.ProtocolVersion() != batchVersion {
		writeError(w, http.StatusBadRequest, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "invalid request: batches are not accepted in this protocol revision"})
		return
	}

	ctx := s.requestContext(r)
	for i, m := range msgs {
		if errs != nil && errs[i] != nil {
			// An invalid element of a batch: answer it on the stream, as
			// the other elements' responses will be.
			var de *jsonrpc.DecodeError
			if errors.As(errs[i], &de) {
				_ = s.stream.Send(ctx, jsonrpc.AppendErrorResponse(nil, de.ID, de.AsError()))
			}
			continue
		}
		switch m := m.(type) {
		case *jsonrpc.Response:
			s.sess.HandleResponse(m)
		case *jsonrpc.Request:
			if m.IsNotification() {
				s.sess.HandleNotification(ctx, m)
				continue
			}
			switch err := s.startRequest(r.Context(), ctx, m); err {
			case nil:
			case errSessionEnded:
				writeError(w, http.StatusNotFound, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "session ended"})
				return
			case errShuttingDown:
				writeError(w, http.StatusServiceUnavailable, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "server is shutting down"})
				return
			case errClientGone:
				return
			default:
				// A bound refused the request: the POST says so, with the
				// request's id (the stream carries nothing for it).
				status, msg := refusal(err, "requests in flight")
				w.Header().Set("Retry-After", "1")
				writeError(w, status, m.ID, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg})
				return
			}
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// readBody reads the whole body, failing with *http.MaxBytesError past max.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, &http.MaxBytesError{Limit: max}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, max))
}

func writeDecodeError(w http.ResponseWriter, err error) {
	var de *jsonrpc.DecodeError
	if errors.As(err, &de) {
		writeError(w, http.StatusBadRequest, de.ID, de.AsError())
		return
	}
	writeError(w, http.StatusBadRequest, jsonrpc.ID{}, &jsonrpc.Error{Code: jsonrpc.CodeParseError, Message: "parse error: " + err.Error()})
}

// writeError answers with status and a JSON-RPC error response as body.
func writeError(w http.ResponseWriter, status int, id jsonrpc.ID, e *jsonrpc.Error) {
	body := jsonrpc.AppendErrorResponse(nil, id, e)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var (
	errSessionEnded = errors.New("sse: session ended")
	errClientGone   = errors.New("sse: client went away")
	errShuttingDown = errors.New("sse: handler closed")
	errSessionBusy  = errors.New("sse: the session has too many requests in flight")
)

// session is one SSE stream and the protocol session running over it.
type session struct {
	h      *Handler
	id     string
	client string // the key of the client that opened it
	sess   transport.Session
	stream *stream

	ctx    context.Context // cancelled when the session ends
	cancel context.CancelFunc
	sem    chan struct{} // in-flight request slots

	endOnce sync.Once
	ended   chan struct{}
}

// requestContext returns the context for messages that arrived in r: it
// carries r's values and a transport.RequestInfo, and ends when the
// session ends rather than when r does.
func (s *session) requestContext(r *http.Request) context.Context {
	info := &transport.RequestInfo{Header: r.Header.Clone(), RemoteAddr: r.RemoteAddr, Host: r.Host, Client: s.client, Admitter: s.h}
	return sessionContext{
		Context: s.ctx,
		values:  transport.WithRequestInfo(context.WithoutCancel(r.Context()), info),
	}
}

// startRequest waits for an in-flight slot of the session, up to
// InFlightWait, takes one of the handler's and client's bounds, and serves
// req in a goroutine, writing its response to the stream. It fails when
// the session ends or the client gives up on the POST (wait) before a slot
// frees up, and with errSessionBusy or a limits error when a bound
// refuses the request.
func (s *session) startRequest(wait, ctx context.Context, req *jsonrpc.Request) error {
	select {
	case s.sem <- struct{}{}:
	default:
		if s.h.opts.InFlightWait < 0 {
			return errSessionBusy
		}
		t := time.NewTimer(s.h.opts.InFlightWait)
		defer t.Stop()
		select {
		case s.sem <- struct{}{}:
		case <-t.C:
			return errSessionBusy
		case <-s.ended:
			return errSessionEnded
		case <-wait.Done():
			return errClientGone
		}
	}
	if err := s.h.inflight.Acquire(s.client); err != nil {
		<-s.sem
		return err
	}
	if !s.h.track() {
		s.h.inflight.Release(s.client)
		<-s.sem
		return errShuttingDown
	}
	go func() {
		defer func() {
			s.h.inflight.Release(s.client)
			<-s.sem
			s.h.wg.Done()
		}()
		if resp := s.sess.HandleRequest(ctx, req, s.stream); resp != nil {
			_ = s.stream.Send(ctx, resp)
		}
	}()
	return nil
}

// end ends the session once: POSTs for it get 404 from now on, its
// requests' contexts are cancelled, the Session is closed and the stream
// stops accepting messages. When end returns nothing writes to the stream
// any more.
func (s *session) end() {
	s.endOnce.Do(func() {
		s.h.mu.Lock()
		if s.h.sessions[s.id] == s {
			delete(s.h.sessions, s.id)
		}
		s.h.mu.Unlock()
		close(s.ended)
		s.cancel()
		s.stream.close()
		s.sess.Close()
	})
}

// sessionContext takes its values from a POST's context and its
// cancellation from the session's.
type sessionContext struct {
	context.Context // the session's: Deadline, Done, Err
	values          context.Context
}

// Value returns the value from the request's context.
func (c sessionContext) Value(key any) any { return c.values.Value(key) }

// AfterFunc lets context.WithCancel and context.AfterFunc on a
// sessionContext register with the session's context instead of starting
// a goroutine to watch it.
func (c sessionContext) AfterFunc(f func()) (stop func() bool) {
	return context.AfterFunc(c.Context, f)
}
