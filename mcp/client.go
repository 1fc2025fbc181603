package mcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// ClientOptions configure a Client. The zero value is usable: a client
// that answers ping and nothing else the server might ask.
//
// # Handler contexts
//
// The handlers of server-initiated requests (CreateMessage, Elicit,
// ListRoots, and the Receiving middleware) and of notifications get a
// context that descends from the context of the client request the
// message belongs to, whenever that is known: a 2026-07-28 input request
// always belongs to its request, and over Streamable HTTP a server sends
// what belongs to a request on that request's response stream (see
// transport.RelatedReceiver). The handler can then read the values of the
// caller's context (a proxy finds the downstream request that made the
// call), and a request handler's context ends when that call's does.
// Messages that belong to no known request (stdio, the legacy HTTP+SSE
// transport, the standalone stream) get the session's context.
type ClientOptions struct {
	// ProtocolVersion is the revision requested in initialize. Empty means
	// protocol.LatestVersion; a value that is none of
	// protocol.SupportedVersions and protocol.ModernVersions makes Connect
	// fail. The client accepts any revision in
	// protocol.SupportedVersions that the server answers with. A stateless
	// revision ("2026-07-28") makes the client speak only that revision:
	// no handshake, per-request _meta (see client_2026.go).
	ProtocolVersion string

	// DiscoverModern makes Connect probe the server with server/discover
	// first and speak the stateless revision 2026-07-28 when the server
	// offers it, falling back to the initialize handshake otherwise (on
	// any error that is not a 2026-07-28 error, or silence).
	DiscoverModern bool
	// TasksExtension declares the tasks extension
	// (io.modelcontextprotocol/tasks) in 2026-07-28 requests: the server
	// may then answer tools/call with a task, which CallTool follows to its
	// end (polling tasks/get, answering input requests with tasks/update).
	TasksExtension bool
	// MaxInputRounds bounds the input_required rounds of one 2026-07-28
	// request. Zero means DefaultMaxInputRounds.
	MaxInputRounds int

	// Capabilities, if set, are declared instead of the ones inferred from
	// the handlers below (sampling when CreateMessage is set, elicitation
	// when Elicit is set, roots when Roots or ListRoots is set).
	Capabilities *protocol.ClientCapabilities

	// CreateMessage answers sampling/createMessage. Nil refuses sampling
	// requests with a clear error, and sampling is not declared.
	CreateMessage func(ctx context.Context, cs *ClientSession, p *protocol.CreateMessageRequestParams) (*protocol.CreateMessageResult, error)
	// SamplingTools declares that CreateMessage handles tools and
	// toolChoice.
	SamplingTools bool

	// Elicit answers elicitation/create. Nil refuses elicitation requests,
	// and elicitation is not declared.
	Elicit func(ctx context.Context, cs *ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error)
	// ElicitURL declares URL mode elicitation besides form mode.
	ElicitURL bool
	// ApplyElicitDefaults fills the fields an accepted form left out with
	// the defaults of the requested schema before answering.
	ApplyElicitDefaults bool

	// Roots are the roots answered to roots/list, unless ListRoots is set.
	// Change them at run time with ClientSession.SetRoots.
	Roots []protocol.Root
	// ListRoots, if set, answers roots/list.
	ListRoots func(ctx context.Context, cs *ClientSession) ([]protocol.Root, error)

	// Notification handlers. Each runs on the session's read loop, in the
	// order notifications arrive, so it must not block for long.
	OnLog                 func(ctx context.Context, cs *ClientSession, p *protocol.LoggingMessageNotificationParams)
	OnProgress            func(ctx context.Context, cs *ClientSession, p *protocol.ProgressNotificationParams)
	OnResourceUpdated     func(ctx context.Context, cs *ClientSession, p *protocol.ResourceUpdatedNotificationParams)
	OnToolsListChanged    func(ctx context.Context, cs *ClientSession)
	OnResourcesChanged    func(ctx context.Context, cs *ClientSession)
	OnPromptsListChanged  func(ctx context.Context, cs *ClientSession)
	OnElicitationComplete func(ctx context.Context, cs *ClientSession, p *protocol.ElicitationCompleteNotificationParams)
	OnTaskStatus          func(ctx context.Context, cs *ClientSession, p *protocol.TaskStatusNotificationParams)
	// OnNotification receives notifications no other handler took.
	OnNotification func(ctx context.Context, cs *ClientSession, method string, params jsontext.Value)

	// OnSessionExpired is called when the server forgot the session (HTTP
	// 404) and the client initialized a new one transparently. err is nil
	// when the new session is up.
	OnSessionExpired func(cs *ClientSession, err error)

	// Timeout bounds each request the client sends (an earlier deadline in
	// the request's context still applies). Zero means no default timeout.
	Timeout time.Duration

	// Sending wraps every request the client sends; Receiving wraps every
	// request the server sends to the client. The first middleware is the
	// outermost.
	Sending   []ClientMiddleware
	Receiving []ClientMiddleware

	// MaxInFlight bounds the server-initiated requests handled at the same
	// time. Zero means 16.
	MaxInFlight int

	// Logger receives the client's own diagnostics. Nil discards them.
	Logger *slog.Logger
}

// CallHandler sends or serves one request: method and raw params in, raw
// result out. A *jsonrpc.Error is a protocol error from the other side.
type CallHandler func(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error)

// ClientMiddleware wraps a CallHandler, the client's counterpart of
// Middleware: it sees every request's method and params on the way in and
// its result or error on the way out.
type ClientMiddleware func(next CallHandler) CallHandler

// Client is an MCP client: the description of one host-side participant
// (its name, capabilities and handlers), connected to any number of
// servers with Connect.
type Client struct {
	info protocol.Implementation
	opts ClientOptions
}

// NewClient returns a client that introduces itself with info.
func NewClient(info protocol.Implementation, opts *ClientOptions) *Client {
	c := &Client{info: info}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.MaxInFlight <= 0 {
		c.opts.MaxInFlight = 16
	}
	if c.opts.Logger == nil {
		c.opts.Logger = slog.New(slog.DiscardHandler)
	}
	if c.info.Name == "" {
		c.info.Name = "switchboard-client"
	}
	if c.info.Version == "" {
		c.info.Version = "dev"
	}
	return c
}

// capabilities returns the capabilities to declare.
func (c *Client) capabilities() protocol.ClientCapabilities {
	if c.opts.Capabilities != nil {
		return *c.opts.Capabilities
	}
	var caps protocol.ClientCapabilities
	if c.opts.CreateMessage != nil {
		caps.Sampling = &protocol.SamplingCapability{}
		if c.opts.SamplingTools {
			caps.Sampling.Tools = &protocol.EmptyCapability{}
		}
	}
	if c.opts.Elicit != nil {
		caps.Elicitation = &protocol.ElicitationCapability{Form: &protocol.EmptyCapability{}}
		if c.opts.ElicitURL {
			caps.Elicitation.URL = &protocol.EmptyCapability{}
		}
	}
	if c.opts.Roots != nil || c.opts.ListRoots != nil {
		caps.Roots = &protocol.RootsCapability{ListChanged: true}
	}
	return caps
}

// Connect dials the server, performs the initialize handshake and returns
// the session. The session owns the connection; Close it when done.
func (c *Client) Connect(ctx context.Context, d transport.Dialer) (*ClientSession, error) {
	if v := c.opts.ProtocolVersion; v != "" && !protocol.IsSupportedVersion(v) && !protocol.IsModernVersion(v) {
		return nil, fmt.Errorf("mcp: protocol revision %q is not one this client speaks (%s)", v,
			strings.Join(append(slices.Clone(protocol.ModernVersions), protocol.SupportedVersions...), ", "))
	}
	conn, err := d.Dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("mcp: connecting: %w", err)
	}
	cs := newClientSession(c, conn)
	if err := cs.open(ctx); err != nil {
		cs.Close()
		return nil, err
	}
	return cs, nil
}

// ClientSession is a client's session with one server. Its methods are
// safe for concurrent use.
type ClientSession struct {
	client *Client
	conn   transport.ClientConn
	calls  jsonrpc.Calls

	ctx    context.Context // ends when the session ends
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the read loop has exited
	sem    chan struct{} // bounds server-initiated requests
	wg     sync.WaitGroup

	send CallHandler // outgoing chain (Sending middleware around sendRaw)
	recv CallHandler // incoming chain (Receiving middleware around serve)

	initMu sync.Mutex // serializes re-initialization

	v26 *clientV2026 // set when the session speaks revision 2026-07-28; guarded by mu

	mu       sync.Mutex
	init     *protocol.InitializeResult
	roots    []protocol.Root
	progress map[jsonrpc.ID]func(*protocol.ProgressNotificationParams)
	inflight map[jsonrpc.ID]context.CancelFunc // server-initiated requests
	callCtx  map[jsonrpc.ID]context.Context    // contexts of requests in flight, when the connection relates messages to them
	nextTok  int64
	err      error

	closeOnce sync.Once
}

func newClientSession(c *Client, conn transport.ClientConn) *ClientSession {
	ctx, cancel := context.WithCancelCause(context.Background())
	cs := &ClientSession{
		client:   c,
		conn:     conn,
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
		sem:      make(chan struct{}, c.opts.MaxInFlight),
		roots:    slices.Clone(c.opts.Roots),
		progress: make(map[jsonrpc.ID]func(*protocol.ProgressNotificationParams)),
		inflight: make(map[jsonrpc.ID]context.CancelFunc),
	}
	if _, ok := conn.(transport.RelatedReceiver); ok {
		cs.callCtx = make(map[jsonrpc.ID]context.Context)
	}
	cs.send = chain(cs.sendRaw, c.opts.Sending)
	cs.recv = chain(cs.serve, c.opts.Receiving)
	go cs.readLoop()
	return cs
}

func chain(h CallHandler, mws []ClientMiddleware) CallHandler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// ErrClientClosed is returned by calls on a closed ClientSession.
var ErrClientClosed = errors.New("mcp: client session closed")

// Close ends the session: calls waiting for answers fail, and the
// connection is closed (an HTTP session is deleted, a child process is
// stopped). It waits for the session's goroutines to finish.
func (cs *ClientSession) Close() error {
	var err error
	cs.closeOnce.Do(func() {
		cs.cancel(ErrClientClosed)
		cs.calls.Close(ErrClientClosed)
		err = cs.conn.Close()
		<-cs.done
		cs.wg.Wait()
	})
	return err
}

// Done is closed when the session has ended, by Close or because the
// connection failed; Err then says why.
func (cs *ClientSession) Done() <-chan struct{} { return cs.done }

// Err returns why the session ended, or nil while it is live.
func (cs *ClientSession) Err() error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.err
}

// InitializeResult returns the server's answer to initialize: its
// revision, capabilities, info and instructions.
func (cs *ClientSession) InitializeResult() *protocol.InitializeResult {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.init
}

// ProtocolVersion returns the negotiated revision.
func (cs *ClientSession) ProtocolVersion() string {
	if r := cs.InitializeResult(); r != nil {
		return r.ProtocolVersion
	}
	return ""
}

// ServerCapabilities returns the capabilities the server declared.
func (cs *ClientSession) ServerCapabilities() *protocol.ServerCapabilities {
	if r := cs.InitializeResult(); r != nil {
		return &r.Capabilities
	}
	return &protocol.ServerCapabilities{}
}

// ServerInfo returns the server's self-description.
func (cs *ClientSession) ServerInfo() protocol.Implementation {
	if r := cs.InitializeResult(); r != nil {
		return r.ServerInfo
	}
	return protocol.Implementation{}
}

// SessionID returns the transport's session id, or "".
func (cs *ClientSession) SessionID() string {
	if s, ok := cs.conn.(transport.SessionIDer); ok {
		return s.SessionID()
	}
	return ""
}

func (cs *ClientSession) initialize(ctx context.Context) error {
	c := cs.client
	want := c.opts.ProtocolVersion
	if want == "" {
		want = protocol.LatestVersion
	}
	params := &protocol.InitializeRequestParams{
		ProtocolVersion: want,
		Capabilities:    c.capabilities(),
		ClientInfo:      c.info,
	}
	var res protocol.InitializeResult
	if err := cs.callNoRetry(ctx, protocol.MethodInitialize, params, &res); err != nil {
		return fmt.Errorf("mcp: initialize: %w", err)
	}
	if !protocol.IsSupportedVersion(res.ProtocolVersion) {
		return fmt.Errorf("mcp: the server chose protocol revision %q, which this client does not speak (it speaks %v)", res.ProtocolVersion, protocol.SupportedVersions)
	}
	cs.mu.Lock()
	cs.init = &res
	cs.mu.Unlock()
	if vs, ok := cs.conn.(transport.VersionSetter); ok {
		vs.SetProtocolVersion(res.ProtocolVersion)
	}
	return cs.Notify(ctx, protocol.NotificationInitialized, nil)
}

// reinitialize starts a new session after the server forgot the old one.
// Concurrent callers that hit the expiry together initialize once.
func (cs *ClientSession) reinitialize(ctx context.Context, seen *protocol.InitializeResult) error {
	cs.initMu.Lock()
	defer cs.initMu.Unlock()
	if cs.InitializeResult() != seen {
		return nil // another caller already did it
	}
	err := cs.initialize(ctx)
	if h := cs.client.opts.OnSessionExpired; h != nil {
		h(cs, err)
	}
	return err
}

// Call sends a request and decodes its result into result (which may be
// nil to discard it). It goes through the Sending middleware. A
// *jsonrpc.Error is the server's protocol error.
func (cs *ClientSession) Call(ctx context.Context, method string, params, result any) error {
	raw, err := marshalParams(params)
	if err != nil {
		return err
	}
	out, err := cs.CallRaw(ctx, method, raw)
	if err != nil {
		return err
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(out, result); err != nil {
		return fmt.Errorf("mcp: decoding the server's %s result: %w", method, err)
	}
	return nil
}

// CallRaw is Call with params already encoded (nil for none) and the
// result returned as the server sent it, without decoding it again: for
// relays, such as a gateway, that pass results through. The result is
// valid JSON (the transport decoded the message that carried it) and
// belongs to the caller.
func (cs *ClientSession) CallRaw(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
	if fn := progressFrom(ctx); fn != nil {
		tok := cs.newProgressToken(fn)
		defer cs.dropProgressToken(tok)
		var err error
		if params, err = setMetaKey(params, protocol.MetaProgressToken, tok); err != nil {
			return nil, err
		}
	}
	if cs.client.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cs.client.opts.Timeout)
		defer cancel()
	}
	return cs.send(ctx, method, params)
}

// callNoRetry sends a request outside the middleware and without session
// recovery (for initialize).
func (cs *ClientSession) callNoRetry(ctx context.Context, method string, params, result any) error {
	raw, err := marshalParams(params)
	if err != nil {
		return err
	}
	out, err := cs.roundTrip(ctx, method, raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(out, result)
}

// sendRaw is the innermost outgoing handler: one request on the wire,
// with transparent re-initialization when the server lost the session.
func (cs *ClientSession) sendRaw(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
	if cs.modernState() != nil {
		return cs.sendModern(ctx, method, params)
	}
	seen := cs.InitializeResult()
	out, err := cs.roundTrip(ctx, method, params)
	if errors.Is(err, transport.ErrSessionExpired) && method != protocol.MethodInitialize {
		if rerr := cs.reinitialize(ctx, seen); rerr != nil {
			return nil, fmt.Errorf("mcp: the server ended the session and a new one failed: %w", rerr)
		}
		out, err = cs.roundTrip(ctx, method, params)
	}
	return out, err
}

func (cs *ClientSession) roundTrip(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
	call, err := cs.calls.Start()
	if err != nil {
		return nil, cs.closedErr(err)
	}
	if cs.callCtx != nil {
		cs.mu.Lock()
		cs.callCtx[call.ID()] = ctx
		cs.mu.Unlock()
		defer func() {
			cs.mu.Lock()
			delete(cs.callCtx, call.ID())
			cs.mu.Unlock()
		}()
	}
	if err := cs.conn.Send(ctx, &jsonrpc.Request{ID: call.ID(), Method: method, Params: params}); err != nil {
		call.Abandon()
		if ctx.Err() != nil && method != protocol.MethodInitialize {
			// Cancelled while the request was on its way (an HTTP POST
			// waiting for its response headers): the server may already
			// be working on it.
			cs.sendCancelled(call.ID(), context.Cause(ctx))
			return nil, fmt.Errorf("mcp: %s: %w", method, context.Cause(ctx))
		}
		return nil, cs.sendErr(method, err)
	}
	resp, err := call.Wait(ctx)
	if err != nil {
		if ctx.Err() != nil && method != protocol.MethodInitialize {
			cs.sendCancelled(call.ID(), context.Cause(ctx))
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("mcp: %s: %w", method, context.Cause(ctx))
		}
		return nil, cs.closedErr(err)
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	return resp.Result, nil
}

func (cs *ClientSession) sendErr(method string, err error) error {
	if errors.Is(err, transport.ErrSessionExpired) {
		return err
	}
	if errors.Is(err, transport.ErrConnClosed) {
		return cs.closedErr(err)
	}
	return fmt.Errorf("mcp: sending %s: %w", method, err)
}

// closedErr explains a failure caused by the session's end.
func (cs *ClientSession) closedErr(err error) error {
	if e := cs.Err(); e != nil {
		return e
	}
	if cs.ctx.Err() != nil {
		return ErrClientClosed
	}
	return err
}

func (cs *ClientSession) sendCancelled(id jsonrpc.ID, cause error) {
	reason := "cancelled"
	if cause != nil {
		reason = cause.Error()
	}
	p, _ := json.Marshal(protocol.CancelledNotificationParams{RequestID: id, Reason: reason})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = cs.conn.Send(ctx, &jsonrpc.Request{Method: protocol.NotificationCancelled, Params: p})
}

// Notify sends a notification to the server.
func (cs *ClientSession) Notify(ctx context.Context, method string, params any) error {
	if cs.modernState() != nil && (method == protocol.NotificationRootsListChanged || method == protocol.NotificationInitialized) {
		return nil // revision 2026-07-28 removed them
	}
	raw, err := marshalParams(params)
	if err != nil {
		return err
	}
	if err := cs.conn.Send(ctx, &jsonrpc.Request{Method: method, Params: raw}); err != nil {
		return cs.sendErr(method, err)
	}
	return nil
}

// SetRoots replaces the roots answered to roots/list and tells the server
// they changed.
func (cs *ClientSession) SetRoots(ctx context.Context, roots []protocol.Root) error {
	cs.mu.Lock()
	cs.roots = slices.Clone(roots)
	cs.mu.Unlock()
	return cs.Notify(ctx, protocol.NotificationRootsListChanged, nil)
}

func (cs *ClientSession) newProgressToken(fn func(*protocol.ProgressNotificationParams)) jsonrpc.ID {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.nextTok++
	tok := jsonrpc.StringID(fmt.Sprintf("p%d", cs.nextTok))
	cs.progress[tok] = fn
	return tok
}

func (cs *ClientSession) dropProgressToken(tok jsonrpc.ID) {
	cs.mu.Lock()
	delete(cs.progress, tok)
	cs.mu.Unlock()
}

// readLoop receives every message from the server until the connection
// ends.
func (cs *ClientSession) readLoop() {
	defer close(cs.done)
	rr, _ := cs.conn.(transport.RelatedReceiver)
	for {
		var (
			msg     jsonrpc.Message
			related jsonrpc.ID
			err     error
		)
		if rr != nil {
			msg, related, err = rr.RecvRelated(cs.ctx)
		} else {
			msg, err = cs.conn.Recv(cs.ctx)
		}
		if err != nil {
			if cs.ctx.Err() != nil {
				err = ErrClientClosed
			} else {
				err = fmt.Errorf("mcp: connection to the server ended: %w", err)
			}
			cs.mu.Lock()
			if cs.err == nil {
				cs.err = err
			}
			cs.mu.Unlock()
			cs.calls.Close(err)
			cs.cancel(err)
			return
		}
		switch m := msg.(type) {
		case *jsonrpc.Response:
			if !cs.calls.Deliver(m) {
				cs.client.opts.Logger.Debug("response to no pending request", "id", m.ID)
			}
		case *jsonrpc.Request:
			base := cs.relatedContext(related)
			if m.IsNotification() {
				cs.handleNotification(base, m)
				continue
			}
			select {
			case cs.sem <- struct{}{}:
			case <-cs.ctx.Done():
				continue
			}
			ctx, cancel := context.WithCancel(base)
			if base != cs.ctx {
				// A request of the call's: it also ends with the session.
				stop := context.AfterFunc(cs.ctx, cancel)
				prev := cancel
				cancel = func() { stop(); prev() }
			}
			cs.mu.Lock()
			cs.inflight[m.ID] = cancel
			cs.mu.Unlock()
			cs.wg.Add(1)
			go func() {
				defer cs.wg.Done()
				defer func() { <-cs.sem }()
				cs.handleRequest(ctx, m)
				cs.mu.Lock()
				delete(cs.inflight, m.ID)
				cs.mu.Unlock()
				cancel()
			}()
		}
	}
}

// relatedContext returns the context handlers get for a message that
// arrived on the stream of request related: that request's context while
// it is in flight, the session's otherwise.
func (cs *ClientSession) relatedContext(related jsonrpc.ID) context.Context {
	if !related.IsValid() || cs.callCtx == nil {
		return cs.ctx
	}
	cs.mu.Lock()
	ctx := cs.callCtx[related]
	cs.mu.Unlock()
	if ctx == nil {
		return cs.ctx
	}
	return ctx
}

func (cs *ClientSession) handleRequest(ctx context.Context, req *jsonrpc.Request) {
	out, err := cs.recv(ctx, req.Method, req.Params)
	if ctx.Err() != nil && cs.ctx.Err() == nil {
		return // cancelled by the server, or the call it belongs to ended: no response
	}
	resp := &jsonrpc.Response{ID: req.ID}
	if err != nil {
		var je *jsonrpc.Error
		if !errors.As(err, &je) {
			je = &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: err.Error()}
		}
		resp.Error = je
	} else {
		resp.Result = out
	}
	sctx, cancel := context.WithTimeout(cs.ctx, 30*time.Second)
	defer cancel()
	if err := cs.conn.Send(sctx, resp); err != nil {
		cs.client.opts.Logger.Debug("sending a response failed", "method", req.Method, "err", err)
	}
}

// serve is the innermost incoming handler: it answers the requests a
// server may send to a client.
func (cs *ClientSession) serve(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
	var (
		res any
		err error
	)
	switch method {
	case protocol.MethodPing:
		res = emptyResult{}
	case protocol.MethodSamplingCreateMessage:
		res, err = cs.createMessage(ctx, params)
	case protocol.MethodElicitationCreate:
		res, err = cs.elicit(ctx, params)
	case protocol.MethodRootsList:
		res, err = cs.listRoots(ctx)
	default:
		return nil, jsonrpc.ErrMethodNotFound(method)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

func decodeRaw[P any](method string, raw jsontext.Value) (*P, error) {
	p := new(P)
	if len(raw) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, jsonrpc.ErrInvalidParams("invalid params for %s: %v", method, paramsError(err))
	}
	return p, nil
}

func (cs *ClientSession) createMessage(ctx context.Context, raw jsontext.Value) (any, error) {
	h := cs.client.opts.CreateMessage
	if h == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "this client does not support sampling (no sampling handler is configured)"}
	}
	p, err := decodeRaw[protocol.CreateMessageRequestParams](protocol.MethodSamplingCreateMessage, raw)
	if err != nil {
		return nil, err
	}
	return h(ctx, cs, p)
}

func (cs *ClientSession) elicit(ctx context.Context, raw jsontext.Value) (any, error) {
	h := cs.client.opts.Elicit
	if h == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "this client does not support elicitation (no elicitation handler is configured)"}
	}
	p, err := decodeRaw[protocol.ElicitRequestParams](protocol.MethodElicitationCreate, raw)
	if err != nil {
		return nil, err
	}
	if err := validateElicit(ctx, p); err != nil {
		return nil, jsonrpc.ErrInvalidParams("%v", err)
	}
	if p.EffectiveMode() == protocol.ElicitModeURL && !cs.client.opts.ElicitURL {
		return nil, jsonrpc.ErrInvalidParams("this client does not support URL mode elicitation")
	}
	res, err := h(ctx, cs, p)
	if err != nil {
		return nil, err
	}
	if res != nil && cs.client.opts.ApplyElicitDefaults && res.Action == protocol.ElicitActionAccept && p.RequestedSchema != nil {
		res.Content = ApplyElicitDefaults(p.RequestedSchema, res.Content)
	}
	return res, nil
}

func (cs *ClientSession) listRoots(ctx context.Context) (any, error) {
	if h := cs.client.opts.ListRoots; h != nil {
		roots, err := h(ctx, cs)
		if err != nil {
			return nil, err
		}
		return &protocol.ListRootsResult{Roots: roots}, nil
	}
	if cs.client.opts.Roots == nil && cs.client.opts.Capabilities == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "this client does not expose roots"}
	}
	cs.mu.Lock()
	roots := slices.Clone(cs.roots)
	cs.mu.Unlock()
	if roots == nil {
		roots = []protocol.Root{}
	}
	return &protocol.ListRootsResult{Roots: roots}, nil
}

func (cs *ClientSession) handleNotification(ctx context.Context, req *jsonrpc.Request) {
	o := &cs.client.opts
	if cs.handleModernNotification(req) {
		return
	}
	switch req.Method {
	case protocol.NotificationCancelled:
		var p protocol.CancelledNotificationParams
		if json.Unmarshal(req.Params, &p) == nil {
			cs.mu.Lock()
			cancel := cs.inflight[p.RequestID]
			cs.mu.Unlock()
			if cancel != nil {
				cancel()
			}
		}
		return
	case protocol.NotificationProgress:
		var p protocol.ProgressNotificationParams
		if json.Unmarshal(req.Params, &p) != nil {
			return
		}
		cs.mu.Lock()
		fn := cs.progress[p.ProgressToken]
		cs.mu.Unlock()
		if fn != nil {
			fn(&p)
		}
		if o.OnProgress != nil {
			o.OnProgress(ctx, cs, &p)
		}
		return
	case protocol.NotificationMessage:
		if o.OnLog != nil {
			var p protocol.LoggingMessageNotificationParams
			if json.Unmarshal(req.Params, &p) == nil {
				o.OnLog(ctx, cs, &p)
			}
			return
		}
	case protocol.NotificationResourcesUpdated:
		if o.OnResourceUpdated != nil {
			var p protocol.ResourceUpdatedNotificationParams
			if json.Unmarshal(req.Params, &p) == nil && cs.watching(p.URI) {
				o.OnResourceUpdated(ctx, cs, &p)
			}
			return
		}
	case protocol.NotificationToolsListChanged:
		if o.OnToolsListChanged != nil {
			o.OnToolsListChanged(ctx, cs)
			return
		}
	case protocol.NotificationResourcesListChanged:
		if o.OnResourcesChanged != nil {
			o.OnResourcesChanged(ctx, cs)
			return
		}
	case protocol.NotificationPromptsListChanged:
		if o.OnPromptsListChanged != nil {
			o.OnPromptsListChanged(ctx, cs)
			return
		}
	case protocol.NotificationElicitationComplete:
		if o.OnElicitationComplete != nil {
			var p protocol.ElicitationCompleteNotificationParams
			if json.Unmarshal(req.Params, &p) == nil {
				o.OnElicitationComplete(ctx, cs, &p)
			}
			return
		}
	case protocol.NotificationTasksStatus:
		if o.OnTaskStatus != nil {
			var p protocol.TaskStatusNotificationParams
			if json.Unmarshal(req.Params, &p) == nil {
				o.OnTaskStatus(ctx, cs, &p)
			}
			return
		}
	}
	if o.OnNotification != nil {
		o.OnNotification(ctx, cs, req.Method, req.Params)
	}
}

type progressKey struct{}

// WithProgress returns a context that asks for progress notifications on
// the requests sent with it: the client adds a progress token to the
// request's _meta and calls fn with each notification about it, on the
// session's read loop.
func WithProgress(ctx context.Context, fn func(*protocol.ProgressNotificationParams)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

func progressFrom(ctx context.Context) func(*protocol.ProgressNotificationParams) {
	fn, _ := ctx.Value(progressKey{}).(func(*protocol.ProgressNotificationParams))
	return fn
}

// setMetaKey sets _meta[key] = value in a raw params object.
func setMetaKey(raw jsontext.Value, key string, value any) (jsontext.Value, error) {
	obj := map[string]jsontext.Value{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("mcp: params must be a JSON object to carry _meta: %w", err)
		}
	}
	meta := map[string]any{}
	if m, ok := obj["_meta"]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, fmt.Errorf("mcp: params _meta must be an object: %w", err)
		}
	}
	meta[key] = value
	mb, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	obj["_meta"] = mb
	return json.Marshal(obj, json.Deterministic(true))
}
