package mcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// ServerSession is one client's session with a Server. It is created by a
// transport when a client connects (stdio) or initializes (HTTP), and ends
// when the client goes away, the transport expires it or Close is called.
//
// A ServerSession implements transport.Session; its exported methods are
// safe for concurrent use.
type ServerSession struct {
	server     *Server
	id         string
	standalone transport.Sink
	ctx        context.Context
	cancel     context.CancelFunc
	calls      jsonrpc.Calls

	state    atomic.Int32 // sessionState
	lastSeen atomic.Int64 // unix nanoseconds of the last message from the client
	// stateless is set once the client, before any initialize, sent a
	// request of a stateless revision (server/discover, or _meta naming
	// 2026-07-28): its later requests are served statelessly too, so one
	// without _meta gets the error it would get over HTTP.
	stateless atomic.Bool

	mu       sync.Mutex
	peer     peer
	logLevel protocol.LoggingLevel
	subs     map[string]struct{}
	inflight map[jsonrpc.ID]context.CancelCauseFunc
	values   map[any]any

	closeOnce sync.Once
	owner     string // task owner id when no ServerOptions.TaskOwner names one
}

type sessionState int32

const (
	stateNew sessionState = iota
	stateInitializing
	stateInitialized
	stateClosed
)

// peer is what a server knows of the client on the other side of a request:
// from the session's initialize exchange, or (in stateless revisions) from
// the request itself.
type peer struct {
	version string
	caps    protocol.ClientCapabilities
	info    protocol.Implementation
}

func newServerSession(s *Server, id string, standalone transport.Sink) *ServerSession {
	ctx, cancel := context.WithCancel(context.Background())
	ss := &ServerSession{server: s, id: id, standalone: standalone, ctx: ctx, cancel: cancel}
	ss.seen()
	owner := id
	if owner == "" {
		var b [16]byte
		rand.Read(b[:])
		owner = hex.EncodeToString(b[:])
	}
	ss.owner = "session:" + owner
	return ss
}

// ownerID names the session as the owner of the tasks it creates. It is
// distinct for every session, including stdio sessions that have no id.
func (ss *ServerSession) ownerID() string { return ss.owner }

// ID returns the session id assigned by the transport ("" on stdio).
func (ss *ServerSession) ID() string { return ss.id }

// Server returns the server the session belongs to.
func (ss *ServerSession) Server() *Server { return ss.server }

// ProtocolVersion returns the negotiated protocol revision, or "" before
// initialization.
func (ss *ServerSession) ProtocolVersion() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.peer.version
}

// ClientInfo returns the client's self-description from initialize.
func (ss *ServerSession) ClientInfo() protocol.Implementation {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.peer.info
}

// ClientCapabilities returns the capabilities the client declared.
func (ss *ServerSession) ClientCapabilities() protocol.ClientCapabilities {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.peer.caps
}

// SetValue stores a value on the session, for middleware and handlers that
// keep per-session state. A nil value deletes the key.
func (ss *ServerSession) SetValue(key, value any) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if value == nil {
		delete(ss.values, key)
		return
	}
	if ss.values == nil {
		ss.values = make(map[any]any)
	}
	ss.values[key] = value
}

// Value returns a value stored with SetValue, or nil.
func (ss *ServerSession) Value(key any) any {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.values[key]
}

// Done is closed when the session has ended.
func (ss *ServerSession) Done() <-chan struct{} { return ss.ctx.Done() }

// Close ends the session: requests in flight are cancelled, calls waiting
// for the client fail, and the server forgets the session.
func (ss *ServerSession) Close() {
	ss.closeOnce.Do(func() {
		ss.state.Store(int32(stateClosed))
		ss.cancel()
		ss.mu.Lock()
		cancels := make([]context.CancelCauseFunc, 0, len(ss.inflight))
		for _, c := range ss.inflight {
			cancels = append(cancels, c)
		}
		ss.mu.Unlock()
		for _, c := range cancels {
			c(nil)
		}
		ss.calls.Close(errSessionClosed)
		ss.server.forgetSession(ss)
	})
}

var errSessionClosed = errors.New("mcp: session closed")

func (ss *ServerSession) initialized() bool {
	return sessionState(ss.state.Load()) == stateInitialized
}

// HandleRequest implements transport.Session.
func (ss *ServerSession) HandleRequest(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) []byte {
	ss.seen()
	st := sessionState(ss.state.Load())
	if st == stateNew && (isStatelessOpening(req) || ss.stateless.Load() && req.Method != protocol.MethodInitialize) {
		ss.stateless.Store(true)
		return ss.handleStateless(ctx, req, sink)
	}
	switch {
	case st == stateClosed:
		return errorResponse(req.ID, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "session closed"})
	case req.Method == protocol.MethodInitialize, req.Method == protocol.MethodPing:
	case st == stateNew:
		return errorResponse(req.ID, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest,
			Message: "session not initialized: send initialize first"})
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The inflight entry serves notifications/cancelled and Close, which
	// cancels every entry: no per-request registration with the session's
	// context is needed. The state is read under ss.mu, after Close marks
	// it closed and before Close collects the entries, so a request
	// registering while the session closes is cancelled by one or the
	// other.
	ss.mu.Lock()
	if ss.inflight == nil {
		ss.inflight = make(map[jsonrpc.ID]context.CancelCauseFunc)
	}
	_, dup := ss.inflight[req.ID]
	if !dup {
		ss.inflight[req.ID] = cancel
	}
	closed := sessionState(ss.state.Load()) == stateClosed
	p := ss.peer
	ss.mu.Unlock()
	if closed {
		cancel(nil)
	}
	if dup {
		// Another request in flight has the same id and owns the entry:
		// this one learns of the session's end from its context.
		stop := context.AfterFunc(ss.ctx, func() { cancel(nil) })
		defer stop()
	} else {
		defer func() {
			ss.mu.Lock()
			delete(ss.inflight, req.ID)
			ss.mu.Unlock()
		}()
	}

	r := &Request{Method: req.Method, Params: req.Params, ID: req.ID, Session: ss, sink: sink, peer: &p}
	result, err := ss.server.serve(ctx, r)
	if errors.Is(context.Cause(ctx), errCancelledByClient) {
		// Cancelled by the client (notifications/cancelled): no response,
		// whatever the handler made of the cancellation.
		return nil
	}
	return encodeResponse(req.ID, result, err)
}

// errCancelledByClient is the cancellation cause of a request the client
// cancelled with notifications/cancelled.
var errCancelledByClient = errors.New("mcp: request cancelled by the client")

func (s *Server) serve(ctx context.Context, r *Request) (any, error) {
	ctx = context.WithValue(ctx, requestKey{}, r)
	s.mu.RLock()
	h := s.handler
	s.mu.RUnlock()
	return h(ctx, r)
}

// encodeResponse encodes the outcome of a request.
func encodeResponse(id jsonrpc.ID, result any, err error) []byte {
	if err != nil {
		return errorResponse(id, toJSONRPCError(err))
	}
	if result == nil {
		result = emptyResult{}
	}
	b, merr := jsonrpc.AppendResult(make([]byte, 0, 256), id, result)
	if merr != nil {
		return errorResponse(id, jsonrpc.ErrInternal("encoding the result: %v", merr))
	}
	return b
}

// maxErrorMessage bounds the message of an error response, whatever
// produced it: messages that repeat a client's input elide it at
// jsonrpc.EchoLimit, and this catches the rest (decoding errors naming a
// long member, handler errors wrapping input).
const maxErrorMessage = 1024

func errorResponse(id jsonrpc.ID, e *jsonrpc.Error) []byte {
	if len(e.Message) > maxErrorMessage {
		c := *e
		c.Message = jsonrpc.Elide(e.Message, maxErrorMessage)
		e = &c
	}
	return jsonrpc.AppendErrorResponse(nil, id, e)
}

// toJSONRPCError maps a handler's error to the error object sent back.
func toJSONRPCError(err error) *jsonrpc.Error {
	if je, ok := protocolError(err); ok {
		return je
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "request timed out"}
	case errors.Is(err, context.Canceled):
		return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "request cancelled"}
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: err.Error()}
}

type emptyResult struct{}

// HandleNotification implements transport.Session.
func (ss *ServerSession) HandleNotification(ctx context.Context, req *jsonrpc.Request) {
	ss.seen()
	switch req.Method {
	case protocol.NotificationInitialized:
		ss.state.CompareAndSwap(int32(stateInitializing), int32(stateInitialized))
	case protocol.NotificationCancelled:
		var p protocol.CancelledNotificationParams
		if err := json.Unmarshal(req.Params, &p); err != nil {
			ss.server.log.Debug("bad cancellation", "session", ss.id, "err", err)
			return
		}
		ss.mu.Lock()
		cancel := ss.inflight[p.RequestID]
		ss.mu.Unlock()
		if cancel != nil {
			cancel(errCancelledByClient)
		}
	case protocol.NotificationRootsListChanged:
		if h := ss.server.opts.OnRootsListChanged; h != nil {
			h(ctx, ss)
		}
	case protocol.NotificationProgress:
		if h := ss.server.opts.OnClientProgress; h != nil {
			var p protocol.ProgressNotificationParams
			if json.Unmarshal(req.Params, &p) == nil {
				h(ctx, ss, &p)
			}
		}
	default:
		ss.server.log.Debug("notification ignored", "session", ss.id, "method", req.Method)
	}
}

// HandleResponse implements transport.Session.
func (ss *ServerSession) HandleResponse(resp *jsonrpc.Response) {
	ss.seen()
	if !ss.calls.Deliver(resp) {
		ss.server.log.Debug("response to no pending request", "session", ss.id, "id", resp.ID)
	}
}

func (ss *ServerSession) seen() { ss.lastSeen.Store(time.Now().UnixNano()) }

// keepAlive pings the client whenever the session has been idle for d, and
// closes the session when a ping is not answered within d. It returns when
// the session ends.
func (ss *ServerSession) keepAlive(d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ss.ctx.Done():
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, ss.lastSeen.Load())) < d {
			continue
		}
		ctx, cancel := context.WithTimeout(ss.ctx, d)
		err := ss.Ping(ctx)
		cancel()
		var ce *clientError
		if err != nil && !errors.As(err, &ce) && ss.ctx.Err() == nil {
			// An error answer still shows the client is there.
			ss.server.log.Info("closing a session whose client does not answer pings", "session", ss.id, "err", err)
			ss.Close()
			return
		}
	}
}

// initialize handles the initialize request.
//
// A session with an id (Streamable HTTP, HTTP+SSE) is initialized once:
// each client there has a session of its own. A connection without one
// (stdio, ServeStream) may be shared: a bridge such as supergateway's
// stdio-to-SSE mode runs one server process for all its clients and passes
// each client's initialize on. There a later initialize is answered like
// the first, and the revision, capabilities and identity it declares
// replace the earlier ones; the session stays initialized, so the clients
// already served are not interrupted.
func (ss *ServerSession) initialize(p *protocol.InitializeRequestParams) (*protocol.InitializeResult, error) {
	first := ss.state.CompareAndSwap(int32(stateNew), int32(stateInitializing))
	if !first && (ss.id != "" || sessionState(ss.state.Load()) == stateClosed) {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "session already initialized"}
	}
	if p.ProtocolVersion == "" {
		if first {
			ss.state.Store(int32(stateNew))
		}
		return nil, jsonrpc.ErrInvalidParams("protocolVersion is required")
	}
	v := negotiate(p.ProtocolVersion, ss.server.opts.SupportedVersions)
	ss.mu.Lock()
	ss.peer = peer{version: v, caps: p.Capabilities, info: p.ClientInfo}
	ss.mu.Unlock()
	return &protocol.InitializeResult{
		ProtocolVersion: v,
		Capabilities:    *ss.server.capabilities(v),
		ServerInfo:      ss.server.impl,
		Instructions:    ss.server.opts.Instructions,
	}, nil
}

// negotiate picks the revision to speak: the client's if supported, else
// the newest supported that uses the initialize handshake.
func negotiate(requested string, supported []string) string {
	for _, v := range supported {
		if v == requested {
			return v
		}
	}
	for _, v := range supported {
		if protocol.UsesInitialize(v) {
			return v
		}
	}
	return supported[0]
}

// setLogLevel handles logging/setLevel.
func (ss *ServerSession) setLogLevel(l protocol.LoggingLevel) {
	ss.mu.Lock()
	ss.logLevel = l
	ss.mu.Unlock()
}

// logEnabled reports whether a message at level l reaches the client.
func (ss *ServerSession) logEnabled(l protocol.LoggingLevel) bool {
	ss.mu.Lock()
	min := ss.logLevel
	ss.mu.Unlock()
	return min == "" || protocol.CompareLevels(l, min) >= 0
}

func (ss *ServerSession) subscribe(uri string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.subs == nil {
		ss.subs = make(map[string]struct{})
	}
	ss.subs[uri] = struct{}{}
}

func (ss *ServerSession) unsubscribe(uri string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.subs, uri)
}

func (ss *ServerSession) subscribed(uri string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	_, ok := ss.subs[uri]
	return ok
}

// notify sends a notification on sink, or on the session's standalone
// stream when sink is nil.
func (ss *ServerSession) notify(ctx context.Context, sink transport.Sink, method string, params any) error {
	if sink == nil {
		sink = ss.standalone
	}
	if sink == nil {
		return errors.New("mcp: no stream to the client")
	}
	raw, err := marshalParams(params)
	if err != nil {
		return err
	}
	return sink.Send(ctx, jsonrpc.AppendRequest(nil, &jsonrpc.Request{Method: method, Params: raw}))
}

// call sends a request to the client on sink (or the standalone stream)
// and decodes its result into result.
func (ss *ServerSession) call(ctx context.Context, sink transport.Sink, method string, params, result any) error {
	if sink == nil {
		sink = ss.standalone
	}
	if sink == nil {
		return errors.New("mcp: no stream to the client")
	}
	raw, err := marshalParams(params)
	if err != nil {
		return err
	}
	c, err := ss.calls.Start()
	if err != nil {
		return err
	}
	frame := jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: c.ID(), Method: method, Params: raw})
	if err := sink.Send(ctx, frame); err != nil {
		c.Abandon()
		return fmt.Errorf("mcp: sending %s: %w", method, err)
	}
	resp, err := c.Wait(ctx)
	if err != nil {
		if je, ok := err.(*jsonrpc.Error); ok {
			return &clientError{method: method, err: je}
		}
		if ctx.Err() != nil {
			// Tell the client to stop; best effort.
			cp, _ := json.Marshal(protocol.CancelledNotificationParams{RequestID: c.ID(), Reason: context.Cause(ctx).Error()})
			_ = sink.Send(context.WithoutCancel(ctx), jsonrpc.AppendRequest(nil, &jsonrpc.Request{Method: protocol.NotificationCancelled, Params: cp}))
		}
		return err
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Result, result); err != nil {
		return fmt.Errorf("mcp: decoding the client's %s result: %w", method, err)
	}
	return nil
}

// clientError is the client's error answer to a request the server sent.
// It unwraps to the client's *jsonrpc.Error, so callers can inspect the
// code, but a handler that returns it (wrapped or not) reports a failure
// of its own work, not a protocol error carrying the client's code.
type clientError struct {
	method string
	err    *jsonrpc.Error
}

func (e *clientError) Error() string {
	return fmt.Sprintf("mcp: the client answered %s with error %d: %s", e.method, e.err.Code, e.err.Message)
}

func (e *clientError) Unwrap() error { return e.err }

// protocolError returns the *jsonrpc.Error that err carries as a protocol
// error of the request being served: the first one in its chain, unless it
// is a client's answer to a server request.
func protocolError(err error) (*jsonrpc.Error, bool) {
	var je *jsonrpc.Error
	if !errors.As(err, &je) {
		return nil, false
	}
	var ce *clientError
	if errors.As(err, &ce) && ce.err == je {
		return nil, false
	}
	return je, true
}

func marshalParams(params any) (jsontext.Value, error) {
	if params == nil {
		return nil, nil
	}
	if raw, ok := params.(jsontext.Value); ok {
		return raw, nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil, &encodeError{err}
	}
	return b, nil
}

// encodeError reports params that cannot be encoded: a programming error,
// unlike a failure to deliver them.
type encodeError struct{ err error }

func (e *encodeError) Error() string { return "mcp: encoding params: " + e.err.Error() }
func (e *encodeError) Unwrap() error { return e.err }
