package streamable

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/httpsec"
	"github.com/switchboard-mcp/switchboard/internal/limits"
	"github.com/switchboard-mcp/switchboard/internal/sse"
	"github.com/switchboard-mcp/switchboard/internal/workpool"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// ResponseMode selects how the handler answers a POST that carries
// requests.
type ResponseMode int

const (
	// ResponseAdaptive answers with one JSON body when the requests
	// complete within Options.JSONResponseWindow without sending any
	// related message, and switches to an SSE stream otherwise.
	ResponseAdaptive ResponseMode = iota
	// ResponseJSON always answers with a JSON body. Related messages
	// (progress, logging, server-to-client requests) cannot be delivered
	// and are dropped; the sink's Send reports an error for them.
	ResponseJSON
	// ResponseSSE always answers with an SSE stream.
	ResponseSSE
)

// String returns the mode's name.
func (m ResponseMode) String() string {
	switch m {
	case ResponseAdaptive:
		return "adaptive"
	case ResponseJSON:
		return "json"
	case ResponseSSE:
		return "sse"
	}
	return "ResponseMode(" + strconv.Itoa(int(m)) + ")"
}

// Defaults for zero Options fields.
const (
	DefaultMaxBodyBytes          = 4 << 20
	DefaultMaxSessions           = 10000
	DefaultMaxInFlightPerSession = 64
	DefaultJSONResponseWindow    = 50 * time.Millisecond
	DefaultRetryInterval         = time.Second
	DefaultKeepAlive             = 25 * time.Second
	DefaultIdleTimeout           = 30 * time.Minute
	DefaultWriteTimeout          = 30 * time.Second
	DefaultMaxInFlight           = 4096
	DefaultMaxInFlightPerClient  = 256
	DefaultInFlightWait          = time.Second
	DefaultResumeWindow          = 5 * time.Minute
)

// Options configure a Handler. The zero value is ready to use; every zero
// field takes its default.
type Options struct {
	// ResponseMode selects JSON or SSE answers to requests; the default is
	// ResponseAdaptive. A client's Accept header narrows it: a client that
	// accepts only application/json always gets JSON, one that accepts only
	// text/event-stream always gets SSE.
	ResponseMode ResponseMode
	// JSONResponseWindow is how long an adaptive response waits for the
	// requests to complete before it switches to SSE (default 50ms). A
	// negative value waits without limit: the response then switches to SSE
	// only when a related message is sent.
	JSONResponseWindow time.Duration
	// RetryInterval is the reconnection delay announced in the SSE retry
	// field (default 1s).
	RetryInterval time.Duration
	// KeepAlive is the interval of SSE comment lines on open streams, which
	// keep intermediaries from timing them out and detect dead peers
	// (default 25s; negative disables).
	KeepAlive time.Duration
	// WriteTimeout bounds each write to a client stream (default 30s;
	// negative disables). A client that does not read for that long loses
	// its connection; the events stay in the EventStore for resumption.
	WriteTimeout time.Duration
	// MaxBodyBytes bounds a POST body (default 4 MiB); larger ones get 413.
	MaxBodyBytes int64
	// MaxSessions bounds the live sessions (default 10000); initialize
	// beyond it gets 503 with Retry-After.
	MaxSessions int
	// MaxSessionsPerClient bounds the live sessions of one client (see
	// ClientKey; default a tenth of MaxSessions, at least 1; negative: no
	// bound). A client at its bound that initializes again loses its own
	// session that has been idle the longest (no HTTP request open and
	// nothing in flight), never another client's; when none of its
	// sessions is idle, initialize gets 429 with Retry-After.
	MaxSessionsPerClient int
	// ClientKey names the client a request comes from, for the per-client
	// limits. Nil means transport.RemoteAddrKey (the client's IP address);
	// behind a reverse proxy, or with authentication, return an identity
	// instead, such as the authenticated subject that middleware put in
	// the request's context. An empty key is a client of its own too.
	ClientKey func(*http.Request) string
	// MaxInFlightPerSession bounds the requests of one session handled at
	// the same time (default 64). A request beyond it waits for a free
	// slot up to InFlightWait, and is then refused with 429 and
	// Retry-After.
	MaxInFlightPerSession int
	// InFlightWait is how long a request waits for a slot of its session
	// (default 1s; negative: no wait).
	InFlightWait time.Duration
	// MaxInFlight bounds the requests handled at the same time by the
	// Handler, all clients, sessions and stateless requests together,
	// tasks still running included (default 4096; negative: no bound).
	// Beyond it requests are refused at once with 503 and Retry-After.
	MaxInFlight int
	// MaxInFlightPerClient bounds those of one client (see ClientKey;
	// default 256; negative: no bound). Beyond it requests are refused at
	// once with 429 and Retry-After.
	MaxInFlightPerClient int
	// ResumeWindow bounds how long the requests of a POST keep running
	// once their client has lost the response stream while it can resume
	// it (it holds an event id of the stream): unless a GET with
	// Last-Event-ID resumes the stream within the window, they are
	// cancelled (default 5 minutes; negative: no bound). Requests whose
	// client cannot resume (it was to get plain JSON, or no event id
	// reached it yet) are cancelled as soon as it disconnects: nothing
	// could ever deliver their responses. Tasks are not requests: they
	// run on.
	ResumeWindow time.Duration
	// IdleTimeout ends sessions that have seen no HTTP request and have
	// nothing in flight for this long (default 30 minutes; negative
	// disables).
	IdleTimeout time.Duration
	// EventStore keeps SSE events for resumption. Nil means a
	// MemoryEventStore with default limits, owned by the Handler.
	EventStore EventStore
	// AllowedHosts lists Host header values a server listening on loopback
	// accepts besides loopback names: a host name matches any port,
	// host:port matches exactly, "*" allows any Host.
	AllowedHosts []string
	// AllowedOrigins lists Origin header values accepted besides the
	// request's own origin, such as "https://app.example.com"; "*" allows
	// any Origin.
	AllowedOrigins []string
	// Logger receives transport diagnostics (nil: discarded). Message
	// bodies and credentials are never logged.
	Logger *slog.Logger
	// MaxStatelessRequests bounds the stateless requests (revision
	// 2026-07-28) served at the same time (default
	// DefaultMaxStatelessRequests); beyond it POSTs get 503 with
	// Retry-After.
	MaxStatelessRequests int
}

// Handler serves the Streamable HTTP transport on one MCP endpoint. Mount
// it at the endpoint's path; it answers POST, GET and DELETE there.
//
// A Handler owns the sessions it creates; Close ends them.
type Handler struct {
	// workers run the requests that get a goroutine of their own, on
	// stacks already grown by earlier requests.
	workers      *workpool.Pool
	factory      transport.SessionFactory
	versions     []string
	store        EventStore
	log          *slog.Logger
	mode         ResponseMode
	window       time.Duration
	retry        time.Duration
	keepAlive    time.Duration
	writeTimeout time.Duration
	idleTimeout  time.Duration
	maxBody      int64
	maxSessions  int
	maxPerClient int // 0: no per-client bound
	clientKey    func(*http.Request) string
	maxInFlight  int // per session
	inFlightWait time.Duration
	resumeWindow time.Duration
	inflight     *limits.Counter // requests and tasks in flight, in all and per client
	allowedHosts []string
	allowedOrigs []string
	now          func() time.Time // injectable clock for tests

	stateless    transport.StatelessHandler // the factory, if it serves stateless requests
	modern       []string                   // the stateless revisions it serves; nil if it does not say
	statelessSem chan struct{}              // bounds stateless requests in flight
	closedCtx    context.Context            // cancelled by Close
	closeCtx     context.CancelFunc
	drainCtx     context.Context // cancelled by Drain and Close
	drainCancel  context.CancelFunc

	mu          sync.RWMutex
	sessions    map[string]*session
	clients     map[string]*clientSessions // by client key
	creating    int                        // sessions being created, counted against maxSessions
	closed      bool                       // set by Close; no new sessions or requests after it
	draining    bool                       // set by Drain; no new sessions after it
	janitorStop chan struct{}
	janitorDone chan struct{}

	wg sync.WaitGroup // request goroutines
}

// maxIdleWorkers bounds the goroutines a Handler keeps for its next
// requests.
const maxIdleWorkers = 128

// NewHandler returns a handler creating sessions with factory. opts may be
// nil. The protocol versions the handler accepts in the
// MCP-Protocol-Version header are read from factory.SupportedVersions once,
// here.
func NewHandler(factory transport.SessionFactory, opts *Options) *Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	h := &Handler{
		workers:      workpool.New(maxIdleWorkers),
		factory:      factory,
		versions:     slices.Clone(factory.SupportedVersions()),
		store:        o.EventStore,
		log:          o.Logger,
		mode:         o.ResponseMode,
		window:       durationOr(o.JSONResponseWindow, DefaultJSONResponseWindow),
		retry:        durationOr(o.RetryInterval, DefaultRetryInterval),
		keepAlive:    durationOr(o.KeepAlive, DefaultKeepAlive),
		writeTimeout: durationOr(o.WriteTimeout, DefaultWriteTimeout),
		idleTimeout:  durationOr(o.IdleTimeout, DefaultIdleTimeout),
		maxBody:      o.MaxBodyBytes,
		maxSessions:  o.MaxSessions,
		maxInFlight:  o.MaxInFlightPerSession,
		allowedHosts: slices.Clone(o.AllowedHosts),
		allowedOrigs: slices.Clone(o.AllowedOrigins),
		now:          time.Now,
		sessions:     make(map[string]*session),
		clients:      make(map[string]*clientSessions),
		clientKey:    o.ClientKey,
	}
	if h.clientKey == nil {
		h.clientKey = transport.RemoteAddrKey
	}
	if h.store == nil {
		h.store = NewMemoryEventStore(nil)
	}
	h.stateless, _ = factory.(transport.StatelessHandler)
	if sv, ok := factory.(statelessVersioner); ok && h.stateless != nil {
		h.modern = slices.Clone(sv.StatelessVersions())
	}
	maxStateless := o.MaxStatelessRequests
	if maxStateless <= 0 {
		maxStateless = DefaultMaxStatelessRequests
	}
	h.statelessSem = make(chan struct{}, maxStateless)
	h.closedCtx, h.closeCtx = context.WithCancel(context.Background())
	h.drainCtx, h.drainCancel = context.WithCancel(h.closedCtx)
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.window < 0 && o.JSONResponseWindow < 0 {
		h.window = -1
	}
	if h.retry < 0 {
		h.retry = DefaultRetryInterval
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.maxSessions <= 0 {
		h.maxSessions = DefaultMaxSessions
	}
	switch {
	case o.MaxSessionsPerClient > 0:
		h.maxPerClient = o.MaxSessionsPerClient
	case o.MaxSessionsPerClient == 0:
		h.maxPerClient = max(h.maxSessions/10, 1)
	}
	if h.maxInFlight <= 0 {
		h.maxInFlight = DefaultMaxInFlightPerSession
	}
	h.inFlightWait = durationOr(o.InFlightWait, DefaultInFlightWait)
	h.resumeWindow = durationOr(o.ResumeWindow, DefaultResumeWindow)
	h.inflight = limits.New(intOr(o.MaxInFlight, DefaultMaxInFlight), intOr(o.MaxInFlightPerClient, DefaultMaxInFlightPerClient))
	return h
}

// intOr returns n, or def when n is zero; negative values mean "no
// bound" to limits.New.
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

// durationOr returns d, or def when d is zero. Negative values are kept:
// they mean "disabled" where the option says so.
func durationOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// SessionCount returns the number of live sessions.
func (h *Handler) SessionCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.sessions)
}

// Close ends every session, waits for their request handlers to return and
// stops the handler's background goroutine. Request handlers see their
// context cancelled; one that ignores it delays Close. Open streams end;
// requests arriving afterwards are answered with 503. Close always returns
// nil; it is safe to call more than once.
func (h *Handler) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wg.Wait()
		return nil
	}
	h.closed = true
	h.closeCtx()
	all := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		all = append(all, s)
	}
	stop, done := h.janitorStop, h.janitorDone
	h.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	for _, s := range all {
		h.endSession(s, "handler closed")
	}
	h.wg.Wait()
	h.workers.Close()
	return nil
}

// Shutdown is Close bounded by ctx: it ends every session and waits for
// their request handlers to return until ctx ends, and then returns
// ctx.Err() while Close goes on in the background (a request handler that
// ignores its context's cancellation is what makes it wait). Stalled
// writes to clients that do not read end within Options.WriteTimeout, or
// at once when the http.Server closes their connections.
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

// ServeHTTP implements http.Handler.
//
// Every write of a response has a deadline (Options.WriteTimeout): the
// first is armed here, before anything else, so that even an error
// answer cannot hang on a client that does not read; streams re-arm it
// before each write.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	wc := writeCtl{rc: http.NewResponseController(w)}
	if h.writeTimeout > 0 && wc.rc.SetWriteDeadline(time.Now().Add(h.writeTimeout)) != nil {
		wc.noDeadline = true // not supported by this ResponseWriter
	}
	if err := httpsec.CheckHostOrigin(r, h.allowedHosts, h.allowedOrigs); err != nil {
		h.log.Info("streamable: request refused", "reason", err.Error(), "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, jsonrpc.CodeInvalidRequest, jsonrpc.ID{}, "forbidden: "+err.Error())
		return
	}
	switch r.Method {
	case http.MethodPost:
		h.servePost(w, r, wc)
	case http.MethodGet, http.MethodDelete:
		if h.modernGetOrDelete(r) {
			// Revision 2026-07-28 has neither the GET stream nor sessions.
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, jsonrpc.CodeInvalidRequest, jsonrpc.ID{},
				"method not allowed: stateless protocol revisions use POST only")
			return
		}
		if r.Method == http.MethodGet {
			h.serveGet(w, r, wc)
		} else {
			h.serveDelete(w, r)
		}
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeError(w, http.StatusMethodNotAllowed, jsonrpc.CodeInvalidRequest, jsonrpc.ID{}, "method not allowed: "+r.Method)
	}
}

// checkVersionHeader answers 400 and returns false when the request names
// a protocol version the server does not support. An absent header is
// accepted (the client predates 2025-06-18). The header need not equal the
// session's negotiated version.
func (h *Handler) checkVersionHeader(w http.ResponseWriter, r *http.Request) bool {
	v := r.Header.Get(HeaderProtocolVersion)
	if v == "" || slices.Contains(h.versions, v) {
		return true
	}
	writeError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, jsonrpc.ID{},
		fmt.Sprintf("unsupported %s header %s (supported: %s)", HeaderProtocolVersion, jsonrpc.QuoteElided(v, 64), strings.Join(h.versions, ", ")))
	return false
}

// lookupSession finds the session named by the request's session id
// header. It answers the request and returns nil when the header is
// missing (400) or the session unknown or ended (404). The caller must
// call release on the returned session.
func (h *Handler) lookupSession(w http.ResponseWriter, r *http.Request) *session {
	id := r.Header.Get(HeaderSessionID)
	if id == "" {
		writeError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, jsonrpc.ID{}, "missing "+HeaderSessionID+" header")
		return nil
	}
	if validSessionID(id) {
		h.mu.RLock()
		s, closed := h.sessions[id], h.closed
		h.mu.RUnlock()
		if closed {
			writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "server shutting down")
			return nil
		}
		if s != nil {
			if reason := s.expired(h.now()); reason != "" {
				h.endSession(s, reason)
			} else {
				s.acquire()
				return s
			}
		}
		if rs, ok := h.factory.(SessionRestorer); ok {
			return h.restoreSession(w, r, rs, id)
		}
	}
	writeError(w, http.StatusNotFound, jsonrpc.CodeInvalidRequest, jsonrpc.ID{}, "session not found")
	return nil
}

func (h *Handler) serveDelete(w http.ResponseWriter, r *http.Request) {
	if !h.checkVersionHeader(w, r) {
		return
	}
	s := h.lookupSession(w, r)
	if s == nil {
		return
	}
	if t, ok := h.factory.(SessionTerminator); ok {
		if err := t.TerminateSession(r.Context(), s.id); err != nil {
			s.release()
			h.log.Warn("streamable: terminating session", "err", err)
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "cannot end the session now; retry")
			return
		}
	}
	h.endSession(s, "deleted by client")
	s.release()
	w.WriteHeader(http.StatusOK)
}

// readBody reads the request body up to the handler's limit. It answers
// the request and returns nil on failure.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) []byte {
	tooLarge := func() {
		writeError(w, http.StatusRequestEntityTooLarge, jsonrpc.CodeInvalidRequest, jsonrpc.ID{},
			fmt.Sprintf("request body larger than %d bytes", h.maxBody))
	}
	if r.ContentLength > h.maxBody {
		tooLarge()
		return nil
	}
	var (
		body []byte
		err  error
	)
	if r.ContentLength >= 0 && r.ContentLength <= 64<<10 {
		// Allocate exactly, but only for small bodies: a client announcing
		// a large body must send it before it costs memory.
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, h.maxBody+1))
		if err == nil && int64(len(body)) > h.maxBody {
			tooLarge()
			return nil
		}
	}
	if err != nil {
		h.log.Debug("streamable: reading request body", "err", err, "remote", r.RemoteAddr)
		writeError(w, http.StatusBadRequest, jsonrpc.CodeParseError, jsonrpc.ID{}, "cannot read request body")
		return nil
	}
	return body
}

func (h *Handler) servePost(w http.ResponseWriter, r *http.Request, wc writeCtl) {
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, jsonrpc.CodeInvalidRequest, jsonrpc.ID{},
			"Content-Type must be "+mediaJSON)
		return
	}
	acceptJSON, acceptSSE := parseAccept(r.Header.Values("Accept"))
	if !acceptJSON && !acceptSSE {
		writeError(w, http.StatusNotAcceptable, jsonrpc.CodeInvalidRequest, jsonrpc.ID{},
			"Accept must include "+mediaJSON+" or "+mediaSSE)
		return
	}
	candidate := h.statelessCandidate(r)
	if !candidate && !h.checkVersionHeader(w, r) {
		return
	}
	body := h.readBody(w, r)
	if body == nil {
		return
	}
	msgs, errs, isBatch, err := jsonrpc.DecodeBatch(body)
	if err == nil {
		for _, e := range errs {
			if e != nil {
				err = e
				break
			}
		}
	}
	if err != nil {
		var de *jsonrpc.DecodeError
		if !errors.As(err, &de) {
			de = &jsonrpc.DecodeError{Code: jsonrpc.CodeParseError, Reason: err.Error()}
		}
		writeError(w, http.StatusBadRequest, de.Code, de.ID, de.AsError().Message)
		return
	}
	if candidate {
		if routeStateless(r, msgs, isBatch) {
			h.serveStateless(w, r, wc, msgs, isBatch, acceptJSON, acceptSSE)
			return
		}
		if !h.checkVersionHeader(w, r) {
			return
		}
	}

	nreq, hasInit := 0, false
	for _, m := range msgs {
		if req, ok := m.(*jsonrpc.Request); ok && !req.IsNotification() {
			nreq++
			hasInit = hasInit || req.Method == "initialize"
		}
	}
	if hasInit && isBatch {
		writeError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, jsonrpc.ID{}, "initialize must not be part of a batch")
		return
	}

	var s *session
	if hasInit {
		if r.Header.Get(HeaderSessionID) != "" {
			id := msgs[0].(*jsonrpc.Request).ID
			writeError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, id,
				"initialize must not carry an "+HeaderSessionID+" header")
			return
		}
		if s = h.createSession(w, r, msgs[0].(*jsonrpc.Request)); s == nil {
			return
		}
		w.Header().Set(HeaderSessionID, s.id)
	} else if s = h.lookupSession(w, r); s == nil {
		return
	}
	defer s.release()

	if isBatch {
		if v := s.protocolVersion(); v != "2025-03-26" {
			if v == "" {
				v = "an uninitialized session"
			} else {
				v = "protocol version " + v
			}
			writeError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, jsonrpc.ID{},
				"JSON-RPC batches are not supported in "+v)
			return
		}
	}

	var reqs []*jsonrpc.Request
	if nreq > 0 {
		reqs = make([]*jsonrpc.Request, 0, nreq)
	}
	// Notifications get a context that lasts as long as the session (what
	// they start may outlive the POST); requests one that also ends when
	// their client can no longer get their responses (see ResumeWindow).
	var nctx context.Context
	for _, m := range msgs {
		switch m := m.(type) {
		case *jsonrpc.Request:
			if m.IsNotification() {
				if nctx == nil {
					nctx = newRequestContext(r, s.ctx, s.client, h)
				}
				s.sess.HandleNotification(nctx, m)
			} else {
				reqs = append(reqs, m)
			}
		case *jsonrpc.Response:
			s.sess.HandleResponse(m)
		}
	}
	if len(reqs) == 0 {
		w.WriteHeader(http.StatusAccepted)
		return
	}

	mode := h.mode
	switch {
	case !acceptSSE:
		mode = ResponseJSON
	case !acceptJSON:
		mode = ResponseSSE
	}
	// The first request is admitted before anything is written, so that a
	// refusal can carry its HTTP status.
	first := h.startRequest(r, s)
	if first != nil && h.refuse(w, s, first, reqs[0].ID, isBatch, hasInit) {
		return
	}
	rctx, cancel := context.WithCancelCause(s.ctx)
	st := &stream{s: s, mode: mode, pending: len(reqs), batch: isBatch, init: hasInit, reqID: reqs[0].ID, cancel: cancel}
	if isBatch {
		st.resps = make([][]byte, len(reqs))
		st.ids = make([]jsonrpc.ID, len(reqs))
		for i, req := range reqs {
			st.ids[i] = req.ID
		}
	}
	reqCtx := newRequestContext(r, rctx, s.client, h)
	if !isBatch && mode != ResponseSSE {
		c := &conn{h: h, w: w, rc: wc.rc, noDeadline: wc.noDeadline} // serveSingle makes c.end if it needs it
		st.conn = c
		h.serveSingle(reqCtx, r, s, st, c, reqs[0], mode, first)
		return
	}
	c := newConn(h, w, wc)
	st.conn = c
	if mode == ResponseSSE {
		st.mu.Lock()
		st.startSSELocked()
		st.mu.Unlock()
	}
	for i, req := range reqs {
		err := first
		if i > 0 {
			err = h.startRequest(r, s)
		}
		if err == nil {
			h.workers.Go(func() { h.runRequest(reqCtx, s, st, i, req) })
			continue
		}
		if status, msg := refusal(err); status != 0 {
			st.finish(i, jsonrpc.AppendErrorResponse(nil, req.ID, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg}))
			continue
		}
		// The client left, or the session or handler ended, before a slot
		// was free: the remaining requests are not served.
		for j := i; j < len(reqs); j++ {
			st.finish(j, nil)
		}
		break
	}
	h.wait(r, s, st, c, mode)
}

// Reasons startRequest does not start a request besides the limits'
// errors.
var (
	errSessionBusy = errors.New("streamable: the session has too many requests in flight")
	errNotServed   = errors.New("streamable: the client left, or the session or handler ended")
)

// startRequest takes a request slot of s, waiting up to InFlightWait for
// one, and one of the handler's and the client's bounds, and registers the
// request goroutine about to start. It returns errSessionBusy,
// limits.ErrPerClient or limits.ErrGlobal when a bound refuses the
// request, errNotServed if the HTTP request, the session or the handler
// ends first. endRequest gives back what it took.
func (h *Handler) startRequest(r *http.Request, s *session) error {
	select {
	case s.sem <- struct{}{}:
	default:
		if h.inFlightWait < 0 {
			return errSessionBusy
		}
		t := time.NewTimer(h.inFlightWait)
		defer t.Stop()
		select {
		case s.sem <- struct{}{}:
		case <-t.C:
			return errSessionBusy
		case <-r.Context().Done():
			return errNotServed
		case <-s.ctx.Done():
			return errNotServed
		}
	}
	if err := h.inflight.Acquire(s.client); err != nil {
		<-s.sem
		return err
	}
	h.mu.RLock()
	ok := !h.closed
	if ok {
		h.wg.Add(1)
	}
	h.mu.RUnlock()
	if ok && !s.enter() {
		h.wg.Done()
		ok = false
	}
	if !ok {
		h.endRequest(s)
		return errNotServed
	}
	return nil
}

// endRequest gives back the slots startRequest took.
func (h *Handler) endRequest(s *session) {
	h.inflight.Release(s.client)
	<-s.sem
}

// refusal returns the HTTP status and message of a request a bound
// refused, or 0 for another error.
func refusal(err error) (status int, msg string) {
	switch {
	case errors.Is(err, errSessionBusy):
		return http.StatusTooManyRequests, "too many requests in flight in this session; retry later"
	case errors.Is(err, limits.ErrPerClient):
		return http.StatusTooManyRequests, "too many requests in flight for this client; retry later"
	case errors.Is(err, limits.ErrGlobal):
		return http.StatusServiceUnavailable, "server busy: too many requests in flight; retry later"
	}
	return 0, ""
}

// refuse answers a POST whose first request a bound refused: 429 or 503
// with Retry-After and a JSON-RPC error (with the request's id when it is
// alone). A refused initialize ends the session it created. It returns
// false, having written nothing, for an error that is not a refusal.
func (h *Handler) refuse(w http.ResponseWriter, s *session, err error, id jsonrpc.ID, batch, init bool) bool {
	status, msg := refusal(err)
	if status == 0 {
		return false
	}
	h.log.Info("streamable: request refused", "reason", msg, "session", s.id)
	if init {
		w.Header().Del(HeaderSessionID)
		h.endSession(s, "initialize refused: "+msg)
	}
	if batch {
		id = jsonrpc.ID{}
	}
	w.Header().Set("Retry-After", "1")
	writeError(w, status, jsonrpc.CodeInternalError, id, msg)
	return true
}

// serveSingle serves a POST carrying one request with a JSON or adaptive
// response. Instead of a waiter parked on a timer, the keep-alives, the
// JSON response window and the watch for a departing client or an ending
// session are handed to a watcher goroutine that a timer starts only when
// the request outlasts the window (or, without one, the keep-alive
// interval).
//
// When the request cannot end its HTTP response early (CloseStream is
// ignored on JSON responses and before revision 2025-11-25) it runs on the
// HTTP handler's own goroutine: no goroutine hand-off at all. Otherwise it
// runs in its own goroutine, so that the response can end while the
// request goes on, and the handler waits for the response to be detached.
// Either way a client disconnecting does not cancel the request.
//
// admitted is what startRequest returned for the request: a refusal has
// been answered already, any other error means the request is not served.
func (h *Handler) serveSingle(ctx context.Context, r *http.Request, s *session, st *stream, c *conn, req *jsonrpc.Request, mode ResponseMode, admitted error) {
	if admitted != nil {
		// The client left, or the session or handler ended, before a slot
		// was free: the request is not served.
		st.finish(0, nil)
		return
	}
	d := h.window
	if d < 0 || mode == ResponseJSON {
		d = h.keepAlive
	}
	if d <= 0 {
		d = DefaultJSONResponseWindow
	}
	c.inline = inlineState{r: r, st: st, mode: mode}
	inline := mode == ResponseJSON || !st.primes()
	if !inline {
		c.end = make(chan struct{})
	}
	timer := time.AfterFunc(d, c.lateInline)
	if inline {
		// A client that goes away from a response it cannot resume ends its
		// request (see stream.detachLocked); nothing else watches before
		// the timer fires.
		stop := context.AfterFunc(r.Context(), func() { st.detach(c) })
		resp := h.handleRequest(ctx, s, st, req)
		stop()
		h.endRequest(s)
		st.finish(0, resp)
		s.leave()
	} else {
		h.workers.Go(func() { h.runRequest(ctx, s, st, 0, req) })
		select {
		case <-c.end:
		case <-r.Context().Done():
			st.detach(c) // see stream.detachLocked
			<-c.end
		}
	}
	timer.Stop()
	// A late timer finds the response detached and does nothing; one that
	// fired before may have started a watcher, which ends now that the
	// response is detached.
	st.mu.Lock()
	watching := c.watchDone
	st.mu.Unlock()
	if watching != nil {
		<-watching
	}
	c.finalize()
	if inline {
		h.wg.Done()
	}
}

// inlineState is what the timer of a single request's response needs.
type inlineState struct {
	r    *http.Request
	st   *stream
	mode ResponseMode
}

// lateInline runs when a request served by serveSingle outlasts the JSON
// response window (or the keep-alive interval): it switches an undecided
// adaptive response to SSE and starts the watcher.
func (c *conn) lateInline() {
	h, st := c.h, c.inline.st
	st.mu.Lock()
	if st.conn == c && c.inline.mode == ResponseAdaptive && h.window >= 0 && !c.sse {
		st.startSSELocked()
	}
	if st.conn != c {
		// Finished, or detached by a failed write or CloseStream.
		st.mu.Unlock()
		return
	}
	if c.end == nil {
		c.end = make(chan struct{})
	}
	c.watchDone = make(chan struct{})
	st.mu.Unlock()
	go func() {
		defer close(c.watchDone)
		h.watch(c.inline.r, st.s, st, c, c.inline.mode, false)
	}()
}

// runRequest serves one request; it runs on a goroutine of its own, one of
// h.workers.
func (h *Handler) runRequest(ctx context.Context, s *session, st *stream, i int, req *jsonrpc.Request) {
	defer h.wg.Done()
	resp := h.handleRequest(ctx, s, st, req)
	h.endRequest(s)
	st.finish(i, resp)
	s.leave()
}

func (h *Handler) handleRequest(ctx context.Context, s *session, st *stream, req *jsonrpc.Request) (resp []byte) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("streamable: panic serving request", "method", req.Method, "id", req.ID.String(), "panic", fmt.Sprint(p))
			resp = jsonrpc.AppendErrorResponse(nil, req.ID, jsonrpc.ErrInternal("internal error"))
		}
	}()
	return s.sess.HandleRequest(ctx, req, st)
}

// wait holds the HTTP response of a POST or GET open until its stream ends
// it, the client goes away or the session ends. It starts SSE when the JSON
// window passes and sends keep-alive comments.
func (h *Handler) wait(r *http.Request, s *session, st *stream, c *conn, mode ResponseMode) {
	h.watch(r, s, st, c, mode, true)
	c.finalize()
}

// watch does wait's work until the response is detached from its stream;
// window arms the JSON response window first. It does not finalize the
// response.
func (h *Handler) watch(r *http.Request, s *session, st *stream, c *conn, mode ResponseMode, window bool) {
	var timer *time.Timer
	windowPending := false
	switch {
	case window && mode == ResponseAdaptive && h.window >= 0:
		timer, windowPending = time.NewTimer(h.window), true
	case mode != ResponseJSON && h.keepAlive > 0:
		timer = time.NewTimer(h.keepAlive)
	}
	sessDone := s.sess.Done()
	var timerC <-chan time.Time
	if timer != nil {
		defer timer.Stop()
		timerC = timer.C
	}
	for {
		select {
		case <-c.end:
			return
		case <-timerC:
			st.mu.Lock()
			if st.conn == c {
				if windowPending && !c.sse {
					st.startSSELocked()
				} else if c.sse && !c.wroteSinceTick {
					if err := c.writeComment(); err != nil {
						st.detachLocked(c)
					}
				}
				c.wroteSinceTick = false
			}
			st.mu.Unlock()
			windowPending = false
			if h.keepAlive > 0 {
				timer.Reset(h.keepAlive)
			} else {
				timerC = nil
			}
		case <-r.Context().Done():
			h.log.Debug("streamable: client closed its stream", "session", s.id, "stream", st.idOrNone())
			st.detach(c)
			return
		case <-s.ctx.Done():
			st.detach(c)
			return
		case <-sessDone:
			sessDone = nil
			h.endSession(s, "session closed")
		}
	}
}

// createSession creates a session for an initialize request, or answers the
// request with an error and returns nil. The returned session is acquired.
func (h *Handler) createSession(w http.ResponseWriter, r *http.Request, init *jsonrpc.Request) *session {
	client := h.clientKey(r)
	h.mu.Lock()
	if h.closed || h.draining {
		h.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "server shutting down; retry")
		return nil
	}
	if h.closed {
		h.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "server shutting down")
		return nil
	}
	cl := h.clients[client]
	var victim *session
	if h.maxPerClient > 0 && cl != nil && len(cl.sessions)+cl.creating >= h.maxPerClient {
		// The client's own session idle the longest makes room; never
		// another client's.
		if victim = cl.idlest(); victim == nil {
			h.mu.Unlock()
			h.log.Info("streamable: per-client session limit reached, no idle session to end", "max", h.maxPerClient, "remote", r.RemoteAddr)
			w.Header().Set("Retry-After", "5")
			writeError(w, http.StatusTooManyRequests, jsonrpc.CodeInternalError, jsonrpc.ID{},
				fmt.Sprintf("too many sessions for this client (limit %d, none idle)", h.maxPerClient))
			return nil
		}
		h.unlinkLocked(victim)
	}
	if len(h.sessions)+h.creating >= h.maxSessions {
		h.mu.Unlock()
		h.log.Warn("streamable: session limit reached", "max", h.maxSessions)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "too many sessions")
		return nil
	}
	h.creating++
	if cl == nil {
		cl = &clientSessions{sessions: make(map[*session]struct{})}
		h.clients[client] = cl
	}
	cl.creating++
	if h.janitorStop == nil {
		h.startJanitorLocked()
	}
	h.mu.Unlock()
	if victim != nil {
		h.endSession(victim, "its client reached the per-client session limit")
	}

	id := rand.Text()
	var err error
	if m, ok := h.factory.(SessionIDMinter); ok {
		if id, err = m.NewSessionID(newRequestContext(r, context.Background(), client, h), init); err == nil && (len(id) > MaxSessionIDLen || !validSessionID(id)) {
			err = fmt.Errorf("the session factory minted an invalid session id (%d bytes)", len(id))
		}
	}
	s := newSession(h, id)
	s.client = client
	var sess transport.Session
	if err == nil {
		sess, err = h.factory.NewSession(newRequestContext(r, context.Background(), client, h), s.id, s)
	}
	h.mu.Lock()
	h.creating--
	cl.creating--
	closed := h.closed
	if err == nil && !closed {
		s.sess = sess
		s.acquire()
		h.sessions[s.id] = s
		cl.sessions[s] = struct{}{}
	} else if len(cl.sessions) == 0 && cl.creating == 0 && h.clients[client] == cl {
		delete(h.clients, client)
	}
	h.mu.Unlock()
	if err != nil || closed {
		// Forget anything the factory sent on the standalone sink.
		s.mu.Lock()
		s.ended = true
		s.mu.Unlock()
		s.cancel()
		h.forget(s)
	}
	switch {
	case errors.Is(err, transport.ErrSessionLimit):
		h.log.Warn("streamable: session factory refused a session", "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "too many sessions")
		return nil
	case err != nil:
		h.log.Error("streamable: creating session", "err", err)
		writeError(w, http.StatusInternalServerError, jsonrpc.CodeInternalError, jsonrpc.ID{}, "cannot create session")
		return nil
	case closed:
		sess.Close()
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, jsonrpc.ID{}, "server shutting down")
		return nil
	}
	h.log.Debug("streamable: session created", "session", s.id)
	return s
}

// endSession ends s once: it forgets it, cancels its requests, closes the
// protocol session, ends its open streams and, once no request goroutine
// uses it any more, deletes its stored events.
func (h *Handler) endSession(s *session, reason string) {
	h.mu.Lock()
	h.unlinkLocked(s)
	h.mu.Unlock()
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	idle := s.busy == 0
	s.mu.Unlock()
	h.log.Debug("streamable: session ended", "session", s.id, "reason", reason)
	s.cancel()
	s.sess.Close()
	if idle {
		h.forget(s)
	}
}

// clientSessions are the sessions of one client.
type clientSessions struct {
	sessions map[*session]struct{}
	creating int // sessions being created
}

// idlest returns the client's session that has been idle the longest, or
// nil if all are busy. h.mu must be held.
func (cl *clientSessions) idlest() *session {
	var best *session
	var bestAt int64
	for s := range cl.sessions {
		if s.active.Load() != 0 {
			continue
		}
		if at := s.lastActive.Load(); best == nil || at < bestAt {
			best, bestAt = s, at
		}
	}
	return best
}

// unlinkLocked removes s from the handler's tables. h.mu must be held.
func (h *Handler) unlinkLocked(s *session) {
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
	if cl := h.clients[s.client]; cl != nil {
		delete(cl.sessions, s)
		if len(cl.sessions) == 0 && cl.creating == 0 {
			delete(h.clients, s.client)
		}
	}
}

// appendEvent stores an event and checks the id the store issued, since it
// goes into the SSE stream verbatim.
func (h *Handler) appendEvent(ctx context.Context, sessionID, streamID string, data []byte) (string, error) {
	id, err := h.store.Append(ctx, sessionID, streamID, data)
	if err == nil && !validEventID(id) {
		err = fmt.Errorf("event store issued an invalid event id %q", id)
	}
	if err != nil {
		h.log.Warn("streamable: storing event", "session", sessionID, "stream", streamID, "err", err)
		return "", err
	}
	return id, nil
}

// forget deletes what the event store holds for an ended session.
func (h *Handler) forget(s *session) {
	if err := h.store.DeleteSession(context.Background(), s.id); err != nil {
		h.log.Warn("streamable: deleting stored events", "session", s.id, "err", err)
	}
}

// serveGet opens an SSE stream: the session's standalone stream, or with
// Last-Event-ID the resumption of the stream that event belongs to.
func (h *Handler) serveGet(w http.ResponseWriter, r *http.Request, wc writeCtl) {
	if _, sse := parseAccept(r.Header.Values("Accept")); !sse {
		writeError(w, http.StatusNotAcceptable, jsonrpc.CodeInvalidRequest, jsonrpc.ID{}, "Accept must include "+mediaSSE)
		return
	}
	if !h.checkVersionHeader(w, r) {
		return
	}
	last := r.Header.Get(HeaderLastEventID)
	if last != "" && !validEventID(last) {
		writeError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, jsonrpc.ID{}, "malformed Last-Event-ID header")
		return
	}
	s := h.lookupSession(w, r)
	if s == nil {
		return
	}
	defer s.release()
	c := newConn(h, w, wc)
	var st *stream
	if shared := h.shared(); shared != nil && last == "" {
		h.listenShared(r.Context(), s, c, shared)
		return
	}
	if last == "" {
		st = h.listen(s, c)
	} else {
		st = h.resume(r.Context(), s, c, last)
	}
	if st != nil {
		h.wait(r, s, st, c, ResponseSSE)
	}
}

// listen attaches c as the session's standalone stream, replacing any
// earlier one, and first sends what was stored while no stream was
// attached.
func (h *Handler) listen(s *session, c *conn) *stream {
	st := s.standaloneStream()
	st.mu.Lock()
	defer st.mu.Unlock()
	if old := st.conn; old != nil {
		h.log.Debug("streamable: standalone stream replaced by a new GET", "session", s.id)
		st.detachLocked(old)
	}
	st.conn = c
	c.startSSE()
	primes := st.primes()
	replayed := false
	if st.cursor != "" {
		_, err := h.store.Replay(context.Background(), s.id, st.cursor, func(id string, data []byte) error {
			if !validEventID(id) {
				return fmt.Errorf("event store replayed an invalid event id %q", id)
			}
			if len(data) == 0 {
				return nil
			}
			ev := sse.Event{ID: id, Data: data, HasData: true}
			if primes && !replayed {
				// The retry interval rides on the first event.
				ev.Retry, ev.HasRetry = h.retry, true
			}
			replayed = true
			if err := c.writeSSE(ev); err != nil {
				return err
			}
			st.cursor = id
			return nil
		})
		if err != nil {
			if !errors.Is(err, ErrUnknownEvent) {
				st.detachLocked(c)
				return st
			}
			h.log.Warn("streamable: standalone messages lost before a GET stream was opened", "session", s.id, "err", err)
		}
	}
	if primes && !replayed {
		st.primeLocked()
	}
	if st.conn == c {
		if err := c.flush(); err != nil {
			st.detachLocked(c)
		}
	}
	return st
}

// resume replays the events after last on the stream it belongs to and
// attaches c as that stream's live connection while the stream lasts. It
// returns nil when it answered the request itself.
func (h *Handler) resume(ctx context.Context, s *session, c *conn, last string) *stream {
	cursor := last
	primes := s.protocolVersion() >= firstPrimingVersion
	write := func(id string, data []byte) error {
		if !validEventID(id) {
			return fmt.Errorf("event store replayed an invalid event id %q", id)
		}
		if len(data) > 0 {
			ev := sse.Event{ID: id, Data: data, HasData: true}
			if !c.sse {
				c.startSSE()
				if primes {
					// The retry interval rides on the first event.
					ev.Retry, ev.HasRetry = h.retry, true
				}
			}
			if err := c.writeSSE(ev); err != nil {
				return err
			}
		}
		cursor = id
		return nil
	}
	streamID, err := h.store.Replay(ctx, s.id, last, write)
	if err != nil {
		if c.sse {
			h.log.Debug("streamable: replay interrupted", "session", s.id, "err", err)
			c.finalize()
			return nil
		}
		if errors.Is(err, ErrUnknownEvent) {
			writeError(c.w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, jsonrpc.ID{},
				"cannot resume after Last-Event-ID "+strconv.Quote(last)+": "+err.Error())
		} else {
			h.log.Error("streamable: replaying events", "session", s.id, "err", err)
			writeError(c.w, http.StatusInternalServerError, jsonrpc.CodeInternalError, jsonrpc.ID{}, "cannot replay events")
		}
		return nil
	}
	st := s.findStream(streamID)
	if shared := h.shared(); shared != nil && (st == nil || streamID == standaloneStreamID) {
		// Served by another instance, complete, or the standalone stream,
		// whose messages any instance may send: the store has them all.
		h.follow(ctx, s, c, shared, cursor, h.followWriter(c, primes, &cursor))
		return nil
	}
	if st == nil {
		// The stream is complete: everything it will ever hold is stored.
		// Replay once more for what was appended while the first replay
		// ran, then end the response.
		_, err = h.store.Replay(ctx, s.id, cursor, write)
		switch {
		case c.sse:
		case err != nil:
			h.log.Error("streamable: replaying events", "session", s.id, "err", err)
			writeError(c.w, http.StatusInternalServerError, jsonrpc.CodeInternalError, jsonrpc.ID{}, "cannot replay events")
			return nil
		default:
			c.startSSE()
		}
		c.finalize()
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	// Events appended after the first replay; with st.mu held no more can
	// be appended until c is attached, so nothing is lost or repeated.
	if _, err := h.store.Replay(ctx, s.id, cursor, write); err != nil {
		h.log.Debug("streamable: catch-up replay failed", "session", s.id, "err", err)
		if !c.sse {
			writeError(c.w, http.StatusInternalServerError, jsonrpc.CodeInternalError, jsonrpc.ID{}, "cannot replay events")
		}
		c.finalize()
		return nil
	}
	if !c.sse {
		c.startSSE()
		if primes {
			_ = c.writeRetry(h.retry)
		}
	}
	if st.finished {
		c.finalize()
		return nil
	}
	if old := st.conn; old != nil {
		h.log.Debug("streamable: stream taken over by a resuming GET", "session", s.id, "stream", st.id)
		st.detachLocked(old)
	}
	st.attachLocked(c)
	st.cursor = cursor
	if err := c.flush(); err != nil {
		st.detachLocked(c)
	}
	return st
}
