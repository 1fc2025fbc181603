package mcp

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// Revision 2026-07-28: stateless request handling.
//
// A request of revision 2026-07-28 carries its protocol version, client
// capabilities and client identity in its _meta; the server serves it
// without a session (Request.Session is nil) through the same middleware,
// dispatch and handlers as session requests. What differs is decided here:
// the methods the revision removed answer -32601, server/discover and
// subscriptions/listen are served, results carry resultType, serverInfo and
// (for cacheable methods) ttlMs and cacheScope, and requests a handler
// makes of the client become multi round-trip requests (see mrtr.go).
//
// Sessions are a layer over this: a 2025-11-25 session holds what a
// 2026-07-28 request carries (version, capabilities, identity, log level)
// and delivers what a stateless request returns as input requests as
// server-initiated requests on the session's streams instead.

// Defaults of the 2026-07-28 options of ServerOptions.
const (
	// DefaultListTTL is the ttlMs of list results and of server/discover
	// when ServerOptions.ListTTL is zero.
	DefaultListTTL = time.Minute
	// DefaultRequestStateTTL bounds the validity of an MRTR requestState
	// when ServerOptions.RequestStateTTL is zero.
	DefaultRequestStateTTL = 10 * time.Minute
)

// serverV2026 is a Server's state for revision 2026-07-28.
type serverV2026 struct {
	versions []string // stateless revisions served, newest first

	keyOnce sync.Once
	key     []byte // HMAC key of requestState

	infoOnce sync.Once
	info     jsontext.Value // the server's Implementation, encoded

	mu        sync.Mutex
	closed    bool
	shutdown  chan struct{} // closed by Close
	listeners map[*listener]struct{}
	tasks     map[string]*modernTask
	tasksWG   sync.WaitGroup

	headerParams sync.Map     // *protocol.Tool -> *toolHeaders
	headerCached atomic.Int64 // entries stored in headerParams
}

// initVersions splits ServerOptions.SupportedVersions into the revisions
// served with the initialize handshake (kept in s.opts.SupportedVersions,
// which transports read) and the stateless ones.
func (s *Server) initVersions() {
	if len(s.opts.SupportedVersions) == 0 {
		s.opts.SupportedVersions = slices.Clone(protocol.SupportedVersions)
		s.v26.versions = slices.Clone(protocol.ModernVersions)
		return
	}
	var legacy, modern []string
	for _, v := range s.opts.SupportedVersions {
		switch {
		case protocol.IsModernVersion(v):
			modern = append(modern, v)
		case protocol.UsesInitialize(v):
			legacy = append(legacy, v)
		}
	}
	s.opts.SupportedVersions = legacy
	s.v26.versions = modern
}

// StatelessVersions returns the stateless revisions (2026-07-28 and later)
// the server serves, newest first; empty when ServerOptions.SupportedVersions
// names none.
func (s *Server) StatelessVersions() []string { return slices.Clone(s.v26.versions) }

// allVersions lists every revision served, stateless ones first: the
// supportedVersions of server/discover and of UnsupportedProtocolVersion
// errors.
func (s *Server) allVersions() []string {
	out := make([]string, 0, len(s.v26.versions)+len(s.opts.SupportedVersions))
	out = append(out, s.v26.versions...)
	return append(out, s.opts.SupportedVersions...)
}

func (s *Server) stateKey() []byte {
	s.v26.keyOnce.Do(func() {
		if len(s.opts.RequestStateKey) > 0 {
			s.v26.key = slices.Clone(s.opts.RequestStateKey)
			return
		}
		s.v26.key = make([]byte, 32)
		rand.Read(s.v26.key)
	})
	return s.v26.key
}

func (s *Server) listTTL() int64 {
	switch d := s.opts.ListTTL; {
	case d == 0:
		return DefaultListTTL.Milliseconds()
	case d < 0:
		return 0
	default:
		return d.Milliseconds()
	}
}

func (s *Server) readTTL() int64 {
	if s.opts.ReadTTL <= 0 {
		return 0
	}
	return s.opts.ReadTTL.Milliseconds()
}

func (s *Server) listScope() protocol.CacheScope {
	if s.opts.ListCacheScope != "" {
		return s.opts.ListCacheScope
	}
	return protocol.CacheScopePrivate
}

func (s *Server) readScope() protocol.CacheScope {
	if s.opts.ReadCacheScope != "" {
		return s.opts.ReadCacheScope
	}
	return protocol.CacheScopePrivate
}

// requestV2026 is what a stateless request carries beyond a Request's
// common fields.
type requestV2026 struct {
	logLevel    protocol.LoggingLevel // "" sends no log messages
	dispatching bool                  // dispatchModern has run; dispatch serves the method as usual
	mrtr        *mrtrState            // the request may ask the client for input
	task        *modernTask           // the request runs as a task of the tasks extension
	// deferred is set for a tools/call of a WithTaskAfterInput tool by a
	// client that declared the tasks extension: Request.StartTask turns
	// the call into a task.
	deferred *deferredTask
}

// deferredTask is what Request.StartTask needs to turn a call into a task,
// and the task handle it made.
type deferredTask struct {
	s     *Server
	st    *serverTool
	state any // the task handle answering the call, once started
}

// modern reports whether r is a request of a stateless revision.
func (r *Request) modern() bool { return r.v26 != nil }

// HandleStateless implements transport.StatelessHandler: it serves one
// request of revision 2026-07-28 (or later) without a session. Transports
// call it for requests that carry the revision's _meta; related
// notifications (progress, log messages, and for subscriptions/listen the
// subscribed change notifications) are written to sink before it returns.
// ctx ends when the client cancels the request (on HTTP, by closing the
// response stream).
func (s *Server) HandleStateless(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) []byte {
	r, jerr := s.statelessRequest(req, sink)
	if jerr != nil {
		return errorResponse(req.ID, jerr)
	}
	result, err := s.serve(ctx, r)
	return encodeResponse(req.ID, result, err)
}

// statelessRequest checks the per-request _meta of req and builds the
// Request to serve.
func (s *Server) statelessRequest(req *jsonrpc.Request, sink transport.Sink) (*Request, *jsonrpc.Error) {
	rm, err := protocol.ParseRequestMeta(req.Params)
	switch {
	case errors.Is(err, protocol.ErrNotModern):
		if rm == nil {
			return nil, jsonrpc.ErrInvalidParams("missing _meta: revision %s requires %s and %s in every request's _meta",
				protocol.Version20260728, protocol.MetaProtocolVersion, protocol.MetaClientCapabilities)
		}
		return nil, jsonrpc.ErrInvalidParams("_meta is missing %s", protocol.MetaProtocolVersion)
	case err != nil:
		return nil, jsonrpc.ErrInvalidParams("malformed _meta: %v", paramsError(err))
	}
	if !slices.Contains(s.v26.versions, rm.ProtocolVersion) {
		return nil, protocol.NewUnsupportedProtocolVersionError(rm.ProtocolVersion, s.allVersions())
	}
	if rm.ClientCapabilities == nil {
		return nil, jsonrpc.ErrInvalidParams("_meta is missing %s", protocol.MetaClientCapabilities)
	}
	if rm.LogLevel != "" && !rm.LogLevel.Valid() {
		return nil, jsonrpc.ErrInvalidParams("unknown logging level %s in %s", jsonrpc.QuoteElided(string(rm.LogLevel), jsonrpc.EchoLimit), protocol.MetaLogLevel)
	}
	p := &peer{version: rm.ProtocolVersion, caps: *rm.ClientCapabilities}
	if rm.ClientInfo != nil {
		p.info = *rm.ClientInfo
	}
	return &Request{Method: req.Method, Params: req.Params, ID: req.ID, sink: sink, peer: p,
		v26: &requestV2026{logLevel: rm.LogLevel}}, nil
}

// dispatchModern routes a stateless request. It runs inside the middleware
// chain (dispatch calls it first) and returns the final result, decorated
// for the revision.
func (s *Server) dispatchModern(ctx context.Context, r *Request) (any, error) {
	r.v26.dispatching = true
	info, ok := protocol.LookupModernMethod(r.Method)
	if !ok || info.Notification || !info.FromClient {
		// Including the methods the revision removed (initialize, ping,
		// logging/setLevel, resources/subscribe, tasks/list, ...).
		return nil, jsonrpc.ErrMethodNotFound(r.Method)
	}
	var (
		res any
		err error
	)
	switch {
	case r.Method == protocol.MethodServerDiscover:
		res, err = s.discover(r)
	case r.Method == protocol.MethodSubscriptionsListen:
		res, err = s.listen(ctx, r)
	case info.Extension == protocol.ExtensionTasks:
		res, err = s.modernTaskMethod(ctx, r)
	case info.InputRequired:
		res, err = s.serveInputRequired(ctx, r)
	default:
		res, err = s.dispatch(ctx, r)
	}
	if err != nil {
		return nil, modernError(r, err)
	}
	return s.decorate(r, info, res)
}

// modernError maps errors whose codes revision 2026-07-28 changed.
func modernError(r *Request, err error) error {
	je, ok := protocolError(err)
	if !ok {
		return err
	}
	switch je.Code {
	case protocol.CodeResourceNotFound:
		// Resource not found is -32602 from 2026-07-28 on (-32002 before).
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: je.Message, Data: je.Data}
	}
	return err
}

// discover serves server/discover.
func (s *Server) discover(r *Request) (any, error) {
	caps := s.capabilities(r.peer.version)
	s.mu.RLock()
	tasks := s.hasTaskTools()
	s.mu.RUnlock()
	if tasks && s.opts.Capabilities == nil {
		if caps.Extensions == nil {
			caps.Extensions = map[string]jsontext.Value{}
		}
		caps.Extensions[protocol.ExtensionTasks] = jsontext.Value(`{}`)
	}
	return &protocol.DiscoverResult{
		ResultType:        protocol.ResultTypeComplete,
		SupportedVersions: s.allVersions(),
		Capabilities:      *caps,
		Instructions:      s.opts.Instructions,
		TTLMs:             s.listTTL(),
		CacheScope:        s.listScope(),
	}, nil
}

// decorate encodes a stateless request's result with the members the
// revision requires: resultType ("complete" unless the result has one),
// the server's identity in _meta, and ttlMs and cacheScope on cacheable
// results. Members the handler set are kept.
func (s *Server) decorate(r *Request, info protocol.ModernMethodInfo, res any) (jsontext.Value, error) {
	if res == nil {
		res = emptyResult{}
	}
	if b, ok := s.decorateFast(r, info, res); ok {
		return b, nil
	}
	var b []byte
	if raw, ok := res.(jsontext.Value); ok {
		b = raw
	} else {
		var err error
		if b, err = json.Marshal(res); err != nil {
			return nil, jsonrpc.ErrInternal("encoding the result: %v", err)
		}
	}
	var add []member
	add = append(add, member{"resultType", jsontext.Value(`"complete"`)})
	if info.Cacheable {
		ttl, scope := s.listTTL(), s.listScope()
		if r.Method == protocol.MethodResourcesRead {
			ttl, scope = s.readTTL(), s.readScope()
		}
		st, _ := json.Marshal(scope)
		add = append(add, member{"ttlMs", jsontext.Value(itoa(ttl))}, member{"cacheScope", st})
	}
	out, err := patchObject(b, add, s.serverInfoMeta())
	if err != nil {
		return nil, jsonrpc.ErrInternal("the result is not a JSON object: %v", err)
	}
	return out, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// member is one member of a JSON object.
type member struct {
	name  string
	value jsontext.Value
}

// serverInfoMeta returns the server's identity as a _meta member value.
func (s *Server) serverInfoMeta() jsontext.Value {
	s.v26.infoOnce.Do(func() { s.v26.info, _ = json.Marshal(s.impl) })
	return s.v26.info
}

// decorateFast decorates the results of the package's own types when they
// set none of the members decorate adds: their encoding is then known to
// lack them, and they are appended without parsing the object again.
func (s *Server) decorateFast(r *Request, info protocol.ModernMethodInfo, res any) (jsontext.Value, bool) {
	free := func(rt protocol.ResultType, meta protocol.Meta) bool { return rt == "" && meta == nil }
	cacheFree := func(ttl *int64, scope protocol.CacheScope) bool { return ttl == nil && scope == "" }
	switch v := res.(type) {
	case emptyResult:
	case *protocol.CallToolResult:
		if !free(v.ResultType, v.Meta) || v.Raw != nil {
			return nil, false
		}
	case *protocol.GetPromptResult:
		if !free(v.ResultType, v.Meta) {
			return nil, false
		}
	case *protocol.CompleteResult:
		if !free(v.ResultType, v.Meta) {
			return nil, false
		}
	case *protocol.ListToolsResult:
		if !free(v.ResultType, v.Meta) || !cacheFree(v.TTLMs, v.CacheScope) {
			return nil, false
		}
	case *protocol.ListPromptsResult:
		if !free(v.ResultType, v.Meta) || !cacheFree(v.TTLMs, v.CacheScope) {
			return nil, false
		}
	case *protocol.ListResourcesResult:
		if !free(v.ResultType, v.Meta) || !cacheFree(v.TTLMs, v.CacheScope) {
			return nil, false
		}
	case *protocol.ListResourceTemplatesResult:
		if !free(v.ResultType, v.Meta) || !cacheFree(v.TTLMs, v.CacheScope) {
			return nil, false
		}
	case *protocol.ReadResourceResult:
		if !free(v.ResultType, v.Meta) || !cacheFree(v.TTLMs, v.CacheScope) {
			return nil, false
		}
	default:
		return nil, false
	}
	b, err := json.Marshal(res)
	if err != nil || len(b) < 2 || b[len(b)-1] != '}' {
		return nil, false
	}
	info26 := s.serverInfoMeta()
	out := make([]byte, 0, len(b)+96+len(info26))
	out = append(out, b[:len(b)-1]...)
	if len(b) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"resultType":"complete"`...)
	if info.Cacheable {
		ttl, scope := s.listTTL(), s.listScope()
		if r.Method == protocol.MethodResourcesRead {
			ttl, scope = s.readTTL(), s.readScope()
		}
		out = append(out, `,"ttlMs":`...)
		out = strconv.AppendInt(out, ttl, 10)
		out = append(out, `,"cacheScope":`...)
		out = strconv.AppendQuote(out, string(scope))
	}
	out = append(out, `,"_meta":{"`+protocol.MetaServerInfo+`":`...)
	out = append(out, info26...)
	out = append(out, "}}"...)
	return out, true
}

// patchObject returns the JSON object obj with the members of add that it
// lacks appended, and serverInfo set in its _meta unless already there.
func patchObject(obj []byte, add []member, serverInfo jsontext.Value) (jsontext.Value, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(obj))
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	if tok.Kind() != '{' {
		return nil, errors.New("not an object")
	}
	var buf bytes.Buffer
	buf.Grow(len(obj) + 128)
	enc := jsontext.NewEncoder(&buf)
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(add)+1)
	for dec.PeekKind() != '}' {
		nameTok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		name := nameTok.String()
		val, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		seen[name] = true
		if name == "_meta" && serverInfo != nil {
			if val, err = metaWith(val, protocol.MetaServerInfo, serverInfo); err != nil {
				return nil, err
			}
		}
		if err := enc.WriteToken(jsontext.String(name)); err != nil {
			return nil, err
		}
		if err := enc.WriteValue(val); err != nil {
			return nil, err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	for _, m := range add {
		if seen[m.name] {
			continue
		}
		if err := enc.WriteToken(jsontext.String(m.name)); err != nil {
			return nil, err
		}
		if err := enc.WriteValue(m.value); err != nil {
			return nil, err
		}
	}
	if !seen["_meta"] && serverInfo != nil {
		if err := enc.WriteToken(jsontext.String("_meta")); err != nil {
			return nil, err
		}
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return nil, err
		}
		if err := enc.WriteToken(jsontext.String(protocol.MetaServerInfo)); err != nil {
			return nil, err
		}
		if err := enc.WriteValue(serverInfo); err != nil {
			return nil, err
		}
		if err := enc.WriteToken(jsontext.EndObject); err != nil {
			return nil, err
		}
	}
	if err := enc.WriteToken(jsontext.EndObject); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// metaWith returns the _meta object meta with key set to value unless it
// already has key.
func metaWith(meta jsontext.Value, key string, value jsontext.Value) (jsontext.Value, error) {
	if meta.Kind() != '{' {
		return meta, nil // a null or malformed _meta is the handler's business
	}
	var m map[string]jsontext.Value
	if err := json.Unmarshal(meta, &m); err != nil {
		return nil, err
	}
	if _, ok := m[key]; ok {
		return meta, nil
	}
	m[key] = value
	return json.Marshal(m, json.Deterministic(true))
}

// sendStateless writes a notification related to a stateless request on
// the request's own stream. Log messages are sent only when the request
// asked for them with io.modelcontextprotocol/logLevel, at that level or
// above. Requests running as tasks of the tasks extension have no stream
// any more: their notifications are dropped.
func (r *Request) sendStateless(ctx context.Context, method string, params any) error {
	if r.v26 != nil {
		if method == protocol.NotificationMessage {
			min := r.v26.logLevel
			if min == "" {
				return nil
			}
			if p, ok := params.(*protocol.LoggingMessageNotificationParams); ok && protocol.CompareLevels(p.Level, min) < 0 {
				return nil
			}
		}
		if r.v26.task != nil {
			return nil
		}
	}
	raw, err := marshalParams(params)
	if err != nil {
		return err
	}
	if r.sink == nil {
		return errors.New("mcp: no stream to the client")
	}
	return r.sink.Send(ctx, jsonrpc.AppendRequest(nil, &jsonrpc.Request{Method: method, Params: raw}))
}

// isStatelessOpening reports whether a request that arrives on a session
// which has not been initialized opens a stateless exchange instead: a
// server/discover probe, or any request carrying a stateless revision in
// its _meta. Such requests are served statelessly even on stdio, where a
// session holds the connection.
func isStatelessOpening(req *jsonrpc.Request) bool {
	if req.Method == protocol.MethodServerDiscover {
		return true
	}
	if req.Method == protocol.MethodInitialize {
		return false
	}
	rm, err := protocol.ParseRequestMeta(req.Params)
	return err == nil && !protocol.UsesInitialize(rm.ProtocolVersion)
}

// handleStateless serves a stateless request that arrived on a session's
// connection (stdio), keeping it cancellable by notifications/cancelled.
func (ss *ServerSession) handleStateless(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) []byte {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(ss.ctx, func() { cancel(nil) })
	defer stop()
	ss.mu.Lock()
	if ss.inflight == nil {
		ss.inflight = make(map[jsonrpc.ID]context.CancelCauseFunc)
	}
	ss.inflight[req.ID] = cancel
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		delete(ss.inflight, req.ID)
		ss.mu.Unlock()
	}()
	resp := ss.server.HandleStateless(ctx, req, sink)
	if errors.Is(context.Cause(ctx), errCancelledByClient) {
		return nil
	}
	return resp
}

var _ transport.StatelessHandler = (*Server)(nil)
