package mcp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// The client side of revision 2026-07-28.
//
// A client speaks it when ClientOptions.ProtocolVersion is "2026-07-28", or
// when ClientOptions.DiscoverModern is set and the server offers it in
// answer to server/discover (otherwise the client falls back to the
// initialize handshake on the same connection). In that mode there is no
// handshake: every request carries the protocol version, the client's
// capabilities and identity (and the log level set with SetLogLevel) in
// its _meta; an input_required result is answered by calling the same
// handlers that answer server-initiated requests in 2025-11-25 (Elicit,
// CreateMessage, ListRoots, through the Receiving middleware) and retrying
// with the responses, for at most MaxInputRounds rounds; change
// notifications arrive on subscriptions/listen streams, which the client
// opens itself for the list-changed handlers it has and for Subscribe.

// Defaults of the 2026-07-28 client.
const (
	// DefaultMaxInputRounds bounds the input_required rounds of one
	// request when ClientOptions.MaxInputRounds is zero.
	DefaultMaxInputRounds = 8
	// discoverProbeTimeout bounds the server/discover probe on stdio: a
	// server of an earlier revision may not answer an unknown request
	// before initialize.
	discoverProbeTimeout = 5 * time.Second
)

// ErrNotModern is returned by Connect when ClientOptions.ProtocolVersion
// asks for a stateless revision the server does not offer.
var ErrNotModern = errors.New("mcp: the server does not offer a stateless protocol revision (2026-07-28)")

// clientV2026 is a ClientSession's state in revision 2026-07-28.
type clientV2026 struct {
	version  string
	discover *protocol.DiscoverResult
	http     bool // the connection is HTTP: Mcp-Param headers apply

	mu       sync.Mutex
	logLevel protocol.LoggingLevel
	tools    map[string][]headerParam     // x-mcp-header annotations by tool
	subs     map[string]*heldSubscription // resources/subscribe, emulated
	acks     map[string]*pendingListen    // subscriptions not acknowledged yet, by id
	// watched counts the open subscriptions acknowledged for each
	// resource URI: resources/updated for a URI none of them covers (one
	// in flight when its subscription closed) is not delivered.
	watched map[string]int
}

// open starts the session: the initialize handshake, or revision
// 2026-07-28 when the options ask for it and the server offers it.
func (cs *ClientSession) open(ctx context.Context) error {
	o := &cs.client.opts
	want := o.ProtocolVersion
	modernOnly := protocol.IsModernVersion(want)
	if !modernOnly && !o.DiscoverModern {
		return cs.initialize(ctx)
	}
	version := want
	if !modernOnly {
		version = protocol.LatestModernVersion
	}
	vs, isHTTP := cs.conn.(transport.VersionSetter)
	if isHTTP {
		vs.SetProtocolVersion(version)
	}
	fallback := func(cause error) error {
		if modernOnly {
			if cause != nil {
				return fmt.Errorf("%w: %w", ErrNotModern, cause)
			}
			return ErrNotModern
		}
		o.Logger.Debug("server/discover probe failed: falling back to initialize", "err", cause)
		if isHTTP {
			vs.SetProtocolVersion("")
		}
		return cs.initialize(ctx)
	}
	res, err := cs.probe(ctx, version)
	var je *jsonrpc.Error
	switch {
	case err == nil:
	case errors.As(err, &je) && protocol.IsModernError(je):
		// A modern server that does not serve our revision: pick one of
		// its stateless revisions we speak, if any.
		d, ok := protocol.UnsupportedProtocolVersion(je)
		if !ok {
			return fmt.Errorf("mcp: server/discover: %w", err)
		}
		version = ""
		for _, v := range d.Supported {
			if protocol.IsModernVersion(v) {
				version = v
				break
			}
		}
		if version == "" {
			return fallback(err)
		}
		if isHTTP {
			vs.SetProtocolVersion(version)
		}
		if res, err = cs.probe(ctx, version); err != nil {
			return fmt.Errorf("mcp: server/discover: %w", err)
		}
	case ctx.Err() != nil:
		return fmt.Errorf("mcp: server/discover: %w", err)
	default:
		return fallback(err)
	}
	if !slices.Contains(res.SupportedVersions, version) {
		return fallback(fmt.Errorf("the server offers %v", res.SupportedVersions))
	}
	v := &clientV2026{version: version, discover: res, http: isHTTP,
		tools: map[string][]headerParam{}, subs: map[string]*heldSubscription{}, acks: map[string]*pendingListen{},
		watched: map[string]int{}}
	info, _ := res.ServerInfo()
	cs.mu.Lock()
	cs.v26 = v
	cs.init = &protocol.InitializeResult{ProtocolVersion: version, Capabilities: res.Capabilities, ServerInfo: info, Instructions: res.Instructions}
	cs.mu.Unlock()
	cs.autoListen(ctx)
	return nil
}

// probe sends server/discover for version. Over HTTP every server
// answers (an earlier one with a 4xx), so only the caller's context bounds
// the probe; on other transports a silent server is given
// discoverProbeTimeout.
func (cs *ClientSession) probe(ctx context.Context, version string) (*protocol.DiscoverResult, error) {
	pctx := ctx
	if _, isHTTP := cs.conn.(transport.VersionSetter); !isHTTP {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, discoverProbeTimeout)
		defer cancel()
	}
	params, err := cs.withModernMeta(ctx, nil, version)
	if err != nil {
		return nil, err
	}
	out, err := cs.modernRoundTrip(pctx, protocol.MethodServerDiscover, params)
	if err != nil {
		return nil, err
	}
	var res protocol.DiscoverResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("mcp: decoding the server/discover result: %w", err)
	}
	return &res, nil
}

// DiscoverResult returns the server's answer to server/discover, or nil
// when the session uses the initialize handshake.
func (cs *ClientSession) DiscoverResult() *protocol.DiscoverResult {
	if v := cs.modernState(); v != nil {
		return v.discover
	}
	return nil
}

// Stateless reports whether the session speaks a stateless revision
// (2026-07-28): no handshake, per-request _meta.
func (cs *ClientSession) Stateless() bool { return cs.modernState() != nil }

func (cs *ClientSession) modernState() *clientV2026 {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.v26
}

// capabilities26 returns the capabilities declared in each request.
func (cs *ClientSession) capabilities26() protocol.ClientCapabilities {
	caps := cs.client.capabilities()
	if caps.Roots != nil {
		// Revision 2026-07-28 has no roots list_changed notification.
		caps.Roots = &protocol.RootsCapability{}
	}
	if cs.client.opts.TasksExtension {
		if caps.Extensions == nil {
			caps.Extensions = map[string]jsontext.Value{}
		} else {
			caps.Extensions = maps.Clone(caps.Extensions)
		}
		caps.Extensions[protocol.ExtensionTasks] = jsontext.Value(`{}`)
	}
	return caps
}

type requestMetaKey struct{}

// requestMeta overrides what a 2026-07-28 request declares of its client.
type requestMeta struct {
	caps  *protocol.ClientCapabilities
	level protocol.LoggingLevel
}

// WithClientCapabilities returns a context that makes the 2026-07-28
// requests sent with it declare caps as the client's capabilities (in
// their _meta) instead of the client's own, and, when level is not empty,
// ask for log messages at level and above. A proxy declares so what its
// own client declared. Sessions of earlier revisions, which declare
// capabilities once in initialize, ignore it.
func WithClientCapabilities(ctx context.Context, caps *protocol.ClientCapabilities, level protocol.LoggingLevel) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, &requestMeta{caps: caps, level: level})
}

// withModernMeta adds the per-request fields to raw params.
func (cs *ClientSession) withModernMeta(ctx context.Context, raw jsontext.Value, version string) (jsontext.Value, error) {
	override, _ := ctx.Value(requestMetaKey{}).(*requestMeta)
	obj := map[string]jsontext.Value{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("mcp: params must be a JSON object to carry _meta: %w", err)
		}
	}
	meta := map[string]jsontext.Value{}
	if m, ok := obj["_meta"]; ok && m.Kind() == '{' {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, fmt.Errorf("mcp: params _meta must be an object: %w", err)
		}
	}
	set := func(key string, v any) error {
		b, err := json.Marshal(v)
		if err == nil {
			meta[key] = b
		}
		return err
	}
	if err := set(protocol.MetaProtocolVersion, version); err != nil {
		return nil, err
	}
	var caps any = cs.capabilities26()
	if override != nil && override.caps != nil {
		caps = override.caps
	}
	if err := set(protocol.MetaClientCapabilities, caps); err != nil {
		return nil, err
	}
	if err := set(protocol.MetaClientInfo, cs.client.info); err != nil {
		return nil, err
	}
	if v := cs.modernState(); v != nil {
		v.mu.Lock()
		level := v.logLevel
		v.mu.Unlock()
		if override != nil && override.level != "" {
			level = override.level
		}
		if level != "" {
			if err := set(protocol.MetaLogLevel, level); err != nil {
				return nil, err
			}
		}
	}
	mb, err := json.Marshal(meta, json.Deterministic(true))
	if err != nil {
		return nil, err
	}
	obj["_meta"] = mb
	return json.Marshal(obj, json.Deterministic(true))
}

// modernRoundTrip sends one request and maps an HTTP refusal that carries
// a JSON-RPC error (as 2026-07-28 servers answer with 400 and 404) to that
// error.
func (cs *ClientSession) modernRoundTrip(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
	out, err := cs.roundTrip(ctx, method, params)
	var he *transport.HTTPError
	if errors.As(err, &he) {
		if m, derr := jsonrpc.Decode([]byte(he.Body)); derr == nil {
			if r, ok := m.(*jsonrpc.Response); ok && r.Error != nil {
				return nil, r.Error
			}
		}
	}
	return out, err
}

// sendModern is the innermost outgoing handler of a 2026-07-28 session.
func (cs *ClientSession) sendModern(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
	v := cs.modernState()
	switch method {
	case protocol.MethodPing:
		// No ping any more: server/discover shows the server answers.
		method, params = protocol.MethodServerDiscover, nil
	case protocol.MethodLoggingSetLevel:
		var p protocol.SetLevelRequestParams
		if err := json.Unmarshal(params, &p); err != nil || !p.Level.Valid() {
			return nil, jsonrpc.ErrInvalidParams("logging/setLevel needs a valid level")
		}
		v.mu.Lock()
		v.logLevel = p.Level
		v.mu.Unlock()
		return jsontext.Value(`{}`), nil
	case protocol.MethodResourcesSubscribe, protocol.MethodResourcesUnsubscribe:
		var p protocol.SubscribeRequestParams
		if err := json.Unmarshal(params, &p); err != nil || p.URI == "" {
			return nil, jsonrpc.ErrInvalidParams("%s needs a uri", method)
		}
		if method == protocol.MethodResourcesSubscribe {
			return jsontext.Value(`{}`), cs.subscribeResource(ctx, p.URI)
		}
		cs.unsubscribeResource(p.URI)
		return jsontext.Value(`{}`), nil
	case protocol.MethodInitialize, protocol.MethodTasksList, protocol.MethodTasksResult:
		return nil, fmt.Errorf("mcp: %s does not exist in protocol revision %s", method, v.version)
	}
	p, err := cs.withModernMeta(ctx, params, v.version)
	if err != nil {
		return nil, err
	}
	callCtx := ctx
	if method == protocol.MethodToolsCall && v.http {
		callCtx = cs.withParamHeaders(ctx, v, params)
	}
	max := cs.client.opts.MaxInputRounds
	if max <= 0 {
		max = DefaultMaxInputRounds
	}
	refreshed := false
	for round := 0; ; round++ {
		out, err := cs.modernRoundTrip(callCtx, method, p)
		if err != nil {
			var je *jsonrpc.Error
			if method == protocol.MethodToolsCall && v.http && !refreshed && errors.As(err, &je) && je.Code == protocol.CodeHeaderMismatch {
				// The tool's x-mcp-header annotations may have changed:
				// list the tools again and retry once.
				refreshed = true
				if rerr := cs.refreshTools(ctx); rerr == nil {
					callCtx = cs.withParamHeaders(ctx, v, params)
					continue
				}
			}
			return nil, err
		}
		var peek struct {
			ResultType protocol.ResultType `json:"resultType"`
		}
		if err := json.Unmarshal(out, &peek); err != nil {
			return nil, fmt.Errorf("mcp: decoding the server's %s result: %w", method, err)
		}
		switch peek.ResultType {
		case "", protocol.ResultTypeComplete:
			if method == protocol.MethodToolsList && v.http {
				return cs.screenTools(v, out)
			}
			return out, nil
		case protocol.ResultTypeInputRequired:
			if inputRequiredWanted(ctx) {
				return out, nil
			}
			if round+1 >= max {
				return nil, fmt.Errorf("mcp: %s still needed input after %d rounds", method, round+1)
			}
			if p, err = cs.answerInput(ctx, p, out); err != nil {
				return nil, err
			}
		case protocol.ResultTypeTask:
			if method != protocol.MethodToolsCall || !cs.client.opts.TasksExtension {
				return nil, fmt.Errorf("mcp: the server answered %s with a task, which this client did not ask for", method)
			}
			return cs.awaitTask(ctx, v, out)
		default:
			return nil, fmt.Errorf("mcp: the server answered %s with an unknown resultType %q", method, peek.ResultType)
		}
	}
}

// answerInput fulfils the input requests of an InputRequiredResult with the
// client's handlers and returns the params of the retry.
func (cs *ClientSession) answerInput(ctx context.Context, params, result jsontext.Value) (jsontext.Value, error) {
	var ir protocol.InputRequiredResult
	if err := json.Unmarshal(result, &ir); err != nil {
		return nil, fmt.Errorf("mcp: decoding an input_required result: %w", err)
	}
	if len(ir.InputRequests) == 0 && ir.RequestState == "" {
		return nil, errors.New("mcp: the server answered input_required with neither inputRequests nor requestState")
	}
	resps, err := cs.fulfil(ctx, ir.InputRequests)
	if err != nil {
		return nil, err
	}
	obj := map[string]jsontext.Value{}
	if err := json.Unmarshal(params, &obj); err != nil {
		return nil, err
	}
	delete(obj, "inputResponses")
	delete(obj, "requestState")
	if len(resps) > 0 {
		b, err := json.Marshal(resps, json.Deterministic(true))
		if err != nil {
			return nil, err
		}
		obj["inputResponses"] = b
	}
	if ir.RequestState != "" {
		b, _ := json.Marshal(ir.RequestState)
		obj["requestState"] = b
	}
	return json.Marshal(obj, json.Deterministic(true))
}

// fulfil answers input requests with the handlers that answer
// server-initiated requests, through the Receiving middleware.
func (cs *ClientSession) fulfil(ctx context.Context, reqs protocol.InputRequests) (protocol.InputResponses, error) {
	out := make(protocol.InputResponses, len(reqs))
	for _, k := range slices.Sorted(maps.Keys(reqs)) {
		in := reqs[k]
		if !protocol.IsInputRequestMethod(in.Method) {
			return nil, fmt.Errorf("mcp: the server sent an input request %q of method %q, which cannot be one", k, in.Method)
		}
		res, err := cs.recv(withModernInput(ctx), in.Method, in.Params)
		if err != nil {
			return nil, fmt.Errorf("mcp: answering the server's %s input request %q: %w", in.Method, k, err)
		}
		out[k] = res
	}
	return out, nil
}

type inputRequiredKey struct{}

// WithInputRequiredResult returns a context that makes the calls sent with
// it return a 2026-07-28 input_required result as it came (decode it as a
// protocol.InputRequiredResult) instead of answering its input requests
// with the client's handlers and retrying. The caller then retries itself,
// with inputResponses and the requestState in the params. It is for
// proxies, which pass the server's questions on to their own client.
func WithInputRequiredResult(ctx context.Context) context.Context {
	return context.WithValue(ctx, inputRequiredKey{}, true)
}

func inputRequiredWanted(ctx context.Context) bool {
	v, _ := ctx.Value(inputRequiredKey{}).(bool)
	return v
}

type modernInputKey struct{}

// withModernInput marks a context as answering a 2026-07-28 input
// request, where URL mode elicitations have no elicitationId.
func withModernInput(ctx context.Context) context.Context {
	return context.WithValue(ctx, modernInputKey{}, true)
}

// validateElicit checks the params of an elicitation the client is to
// answer; 2026-07-28 input requests of URL mode carry no elicitationId.
func validateElicit(ctx context.Context, p *protocol.ElicitRequestParams) error {
	if ctx.Value(modernInputKey{}) != nil && p.EffectiveMode() == protocol.ElicitModeURL && p.ElicitationID == "" {
		c := *p
		c.ElicitationID = "-"
		return c.Validate()
	}
	return p.Validate()
}

// awaitTask follows a task of the tasks extension to its end: it polls
// tasks/get at the server's interval, answers input requests with
// tasks/update, and returns the task's result as the call's result.
// Cancelling ctx cancels the task.
func (cs *ClientSession) awaitTask(ctx context.Context, v *clientV2026, created jsontext.Value) (jsontext.Value, error) {
	var st protocol.TaskState
	if err := json.Unmarshal(created, &st); err != nil || st.TaskID == "" {
		return nil, fmt.Errorf("mcp: decoding a task handle: %v", err)
	}
	id := st.TaskID
	onStatus, _ := ctx.Value(taskStatusKey{}).(func(*protocol.Task))
	answered := map[string]bool{}
	call := func(method string, params any) (jsontext.Value, error) {
		raw, err := json.Marshal(params)
		if err != nil {
			return nil, err
		}
		p, err := cs.withModernMeta(ctx, raw, v.version)
		if err != nil {
			return nil, err
		}
		return cs.modernRoundTrip(ctx, method, p)
	}
	for {
		if onStatus != nil {
			onStatus(&protocol.Task{TaskID: id, Status: st.Status, StatusMessage: st.StatusMessage, CreatedAt: st.CreatedAt,
				LastUpdatedAt: st.LastUpdatedAt, TTL: st.TTLMs, PollInterval: st.PollIntervalMs})
		}
		switch st.Status {
		case protocol.TaskStatusCompleted:
			if len(st.Result) == 0 {
				return nil, fmt.Errorf("mcp: task %s completed without a result", id)
			}
			return st.Result, nil
		case protocol.TaskStatusFailed:
			if st.Error != nil {
				return nil, st.Error
			}
			return nil, fmt.Errorf("mcp: task %s failed: %s", id, st.StatusMessage)
		case protocol.TaskStatusCancelled:
			return nil, fmt.Errorf("mcp: task %s was cancelled: %s", id, st.StatusMessage)
		case protocol.TaskStatusInputRequired:
			fresh := protocol.InputRequests{}
			for k, in := range st.InputRequests {
				if !answered[k] {
					fresh[k] = in
				}
			}
			if len(fresh) > 0 {
				resps, err := cs.fulfil(ctx, fresh)
				if err != nil {
					return nil, err
				}
				for k := range resps {
					answered[k] = true
				}
				if _, err := call(protocol.MethodTasksUpdate, &protocol.UpdateTaskRequestParams{TaskID: id, InputResponses: resps}); err != nil {
					return nil, err
				}
				break // poll again at once
			}
			fallthrough
		default:
			wait := time.Duration(st.PollIntervalMs) * time.Millisecond
			if wait <= 0 {
				wait = time.Second
			}
			wait = max(wait, 10*time.Millisecond)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				p, _ := cs.withModernMeta(cctx, jsontext.Value(`{"taskId":`+string(mustJSON(id))+`}`), v.version)
				_, _ = cs.modernRoundTrip(cctx, protocol.MethodTasksCancel, p)
				cancel()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		out, err := call(protocol.MethodTasksGet, &protocol.GetTaskRequestParams{TaskID: id})
		if err != nil {
			return nil, err
		}
		st = protocol.TaskState{}
		if err := json.Unmarshal(out, &st); err != nil {
			return nil, fmt.Errorf("mcp: decoding tasks/get: %w", err)
		}
	}
}

// taskStatusKey carries CallToolAsTask's onStatus to awaitTask.
type taskStatusKey struct{}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// withParamHeaders attaches the Mcp-Param-* headers of a tools/call.
func (cs *ClientSession) withParamHeaders(ctx context.Context, v *clientV2026, params jsontext.Value) context.Context {
	var p struct {
		Name      string         `json:"name"`
		Arguments jsontext.Value `json:"arguments"`
	}
	if json.Unmarshal(params, &p) != nil {
		return ctx
	}
	v.mu.Lock()
	hp := v.tools[p.Name]
	v.mu.Unlock()
	return transport.WithHeader(ctx, paramHeaders(hp, p.Arguments))
}

// screenTools records the x-mcp-header annotations of a tools/list page
// and drops the tools whose annotations break the rules, as clients on
// Streamable HTTP must.
func (cs *ClientSession) screenTools(v *clientV2026, out jsontext.Value) (jsontext.Value, error) {
	var page map[string]jsontext.Value
	if err := json.Unmarshal(out, &page); err != nil {
		return out, nil
	}
	var tools []jsontext.Value
	if err := json.Unmarshal(page["tools"], &tools); err != nil {
		return out, nil
	}
	kept := tools[:0]
	dropped := false
	for _, raw := range tools {
		var t struct {
			Name        string         `json:"name"`
			InputSchema jsontext.Value `json:"inputSchema"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			kept = append(kept, raw)
			continue
		}
		params, err := parseHeaderParams(t.InputSchema)
		if err != nil {
			cs.client.opts.Logger.Warn("tool rejected: invalid x-mcp-header annotations", "tool", t.Name, "err", err)
			dropped = true
			v.mu.Lock()
			delete(v.tools, t.Name)
			v.mu.Unlock()
			continue
		}
		v.mu.Lock()
		if len(params) > 0 {
			v.tools[t.Name] = params
		} else {
			delete(v.tools, t.Name)
		}
		v.mu.Unlock()
		kept = append(kept, raw)
	}
	if !dropped {
		return out, nil
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return nil, err
	}
	page["tools"] = b
	return json.Marshal(page, json.Deterministic(true))
}

// refreshTools lists every tool again (recording annotations).
func (cs *ClientSession) refreshTools(ctx context.Context) error {
	for _, err := range cs.Tools(ctx) {
		if err != nil {
			return err
		}
	}
	return nil
}

// pendingListen is a subscription waiting for its acknowledgement.
type pendingListen struct {
	sub    *Subscription
	ch     chan protocol.SubscriptionFilter
	wanted []string // the resource URIs asked for
}

// Subscription is an open subscriptions/listen request: the change
// notifications it was acknowledged for reach the ClientOptions handlers
// (OnToolsListChanged, OnResourceUpdated, ...) until it ends.
type Subscription struct {
	cs     *ClientSession
	id     jsonrpc.ID
	ack    protocol.SubscriptionFilter
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	// ended and counted, under the session's clientV2026.mu: whether the
	// subscription has ended, and whether its acknowledged resources are
	// counted in watched.
	ended, counted bool
}

// ID returns the subscription id (the JSON-RPC id of the request).
func (s *Subscription) ID() jsonrpc.ID { return s.id }

// Acknowledged returns the part of the filter the server honours.
func (s *Subscription) Acknowledged() protocol.SubscriptionFilter { return s.ack }

// Done is closed when the subscription has ended.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns why the subscription ended: nil when the server ended it
// gracefully or Close did, an error when the stream broke.
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close ends the subscription and waits until it has.
func (s *Subscription) Close() error {
	s.cancel()
	<-s.done
	return nil
}

// Listen opens a subscriptions/listen stream for the notifications filter
// selects and returns once the server acknowledged it. It needs a session
// of revision 2026-07-28.
func (cs *ClientSession) Listen(ctx context.Context, filter protocol.SubscriptionFilter) (*Subscription, error) {
	v := cs.modernState()
	if v == nil {
		return nil, errors.New("mcp: subscriptions/listen needs protocol revision 2026-07-28")
	}
	raw, err := json.Marshal(&protocol.SubscriptionsListenRequestParams{Notifications: filter})
	if err != nil {
		return nil, err
	}
	params, err := cs.withModernMeta(ctx, raw, v.version)
	if err != nil {
		return nil, err
	}
	call, err := cs.calls.Start()
	if err != nil {
		return nil, cs.closedErr(err)
	}
	id := call.ID()
	ackCh := make(chan protocol.SubscriptionFilter, 1)
	forget := func() {
		v.mu.Lock()
		delete(v.acks, id.String())
		v.mu.Unlock()
	}
	sctx, cancel := context.WithCancel(cs.ctx)
	sub := &Subscription{cs: cs, id: id, cancel: cancel, done: make(chan struct{})}
	v.mu.Lock()
	v.acks[id.String()] = &pendingListen{sub: sub, ch: ackCh, wanted: filter.ResourceSubscriptions}
	v.mu.Unlock()
	if err := cs.conn.Send(sctx, &jsonrpc.Request{ID: id, Method: protocol.MethodSubscriptionsListen, Params: params}); err != nil {
		call.Abandon()
		forget()
		cancel()
		var he *transport.HTTPError
		if errors.As(err, &he) {
			if m, derr := jsonrpc.Decode([]byte(he.Body)); derr == nil {
				if r, ok := m.(*jsonrpc.Response); ok && r.Error != nil {
					return nil, r.Error
				}
			}
		}
		return nil, cs.sendErr(protocol.MethodSubscriptionsListen, err)
	}
	ended := make(chan error, 1)
	cs.wg.Add(1)
	go func() {
		defer cs.wg.Done()
		resp, err := call.Wait(sctx)
		switch {
		case err == nil && resp.Error != nil:
			err = resp.Error
		case err != nil && sctx.Err() != nil:
			if cs.ctx.Err() == nil {
				cs.sendCancelled(id, errors.New("subscription closed"))
			}
			err = nil
		}
		forget()
		v.mu.Lock()
		sub.ended = true
		if sub.counted {
			for _, u := range sub.ack.ResourceSubscriptions {
				if v.watched[u]--; v.watched[u] <= 0 {
					delete(v.watched, u)
				}
			}
		}
		v.mu.Unlock()
		sub.err = err
		ended <- err
		close(sub.done)
	}()
	select {
	case <-ackCh: // sub.ack is set, and its resources counted
		return sub, nil
	case err := <-ended:
		cancel()
		if err == nil {
			err = errors.New("mcp: the subscription ended before it was acknowledged")
		}
		return nil, err
	case <-ctx.Done():
		sub.Close()
		return nil, ctx.Err()
	}
}

// watching reports whether resources/updated for uri is to be delivered:
// always before revision 2026-07-28, and there only while an open
// subscription was acknowledged for uri.
func (cs *ClientSession) watching(uri string) bool {
	v := cs.modernState()
	if v == nil {
		return true
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.watched[uri] > 0
}

// handleModernNotification takes the acknowledgements of subscriptions.
func (cs *ClientSession) handleModernNotification(req *jsonrpc.Request) bool {
	if req.Method != protocol.NotificationSubscriptionsAcknowledged {
		return false
	}
	v := cs.modernState()
	if v == nil {
		return false
	}
	var p protocol.SubscriptionsAcknowledgedNotificationParams
	if json.Unmarshal(req.Params, &p) != nil {
		return true
	}
	id, ok := p.Meta.SubscriptionID()
	if !ok {
		return true
	}
	v.mu.Lock()
	pl := v.acks[id.String()]
	delete(v.acks, id.String())
	if pl != nil && !pl.sub.ended {
		// Counted before the notifications after the acknowledgement are
		// delivered, which this goroutine does next.
		// Only URIs the client asked for count: a server cannot grow
		// watched with an acknowledgement longer than the request.
		acked := slices.DeleteFunc(slices.Clone(p.Notifications.ResourceSubscriptions), func(u string) bool { return !slices.Contains(pl.wanted, u) })
		pl.sub.ack, pl.sub.counted = p.Notifications, true
		pl.sub.ack.ResourceSubscriptions = slices.Compact(slices.Sorted(slices.Values(acked)))
		for _, u := range pl.sub.ack.ResourceSubscriptions {
			v.watched[u]++
		}
	}
	v.mu.Unlock()
	if pl != nil {
		pl.ch <- p.Notifications
	}
	return true
}

// autoListen opens, for the session's life, a subscription for the
// list-changed notifications the client has handlers for (reopened when it
// ends, see hold).
func (cs *ClientSession) autoListen(ctx context.Context) {
	o := &cs.client.opts
	f := protocol.SubscriptionFilter{
		ToolsListChanged:     o.OnToolsListChanged != nil,
		PromptsListChanged:   o.OnPromptsListChanged != nil,
		ResourcesListChanged: o.OnResourcesChanged != nil,
	}
	if f.IsEmpty() {
		return
	}
	sub, err := cs.Listen(ctx, f)
	if err != nil {
		o.Logger.Warn("subscriptions/listen for list changes failed", "err", err)
	}
	cs.hold(f, sub)
}

// Backoff of the client's own subscriptions when the server ends them.
const (
	minListenBackoff = 100 * time.Millisecond
	maxListenBackoff = 30 * time.Second
	// A subscription that stayed open this long resets the backoff.
	stableListen = time.Minute
	// listenOpenTimeout bounds one attempt to reopen a subscription.
	listenOpenTimeout = 30 * time.Second
)

// heldSubscription is a subscription the client keeps open on its own
// (for its list-changed handlers, or for an emulated resources/subscribe):
// when the server ends it (a server may end a subscriptions/listen request
// at any time, answering it with a result) or its stream breaks, it is
// opened again with the same filter, after a delay that doubles from
// minListenBackoff up to maxListenBackoff and is reset once a
// subscription has lasted stableListen. It ends with the session or
// close.
type heldSubscription struct {
	stop chan struct{}
	done chan struct{}
}

// hold keeps a subscription for filter open (see heldSubscription); sub is
// the one already open, or nil when opening it failed.
func (cs *ClientSession) hold(filter protocol.SubscriptionFilter, sub *Subscription) *heldSubscription {
	h := &heldSubscription{stop: make(chan struct{}), done: make(chan struct{})}
	cs.wg.Add(1)
	go func() {
		defer cs.wg.Done()
		defer close(h.done)
		backoff := minListenBackoff
		opened := time.Now()
		for {
			if sub != nil {
				select {
				case <-sub.Done():
				case <-cs.ctx.Done():
					return
				case <-h.stop:
					sub.Close()
					return
				}
				if time.Since(opened) >= stableListen {
					backoff = minListenBackoff
				}
				cs.client.opts.Logger.Debug("subscriptions/listen ended; reopening", "id", sub.ID().String(), "err", sub.Err(), "after", backoff)
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-cs.ctx.Done():
				t.Stop()
				return
			case <-h.stop:
				t.Stop()
				return
			}
			backoff = min(backoff*2, maxListenBackoff)
			ctx, cancel := context.WithTimeout(cs.ctx, listenOpenTimeout)
			s, err := cs.Listen(ctx, filter)
			cancel()
			sub, opened = s, time.Now()
			if err != nil {
				cs.client.opts.Logger.Debug("reopening subscriptions/listen failed", "err", err)
			}
		}
	}()
	return h
}

// close ends the held subscription and waits until it has.
func (h *heldSubscription) close() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
}

// subscribeResource emulates resources/subscribe with a subscription.
func (cs *ClientSession) subscribeResource(ctx context.Context, uri string) error {
	v := cs.modernState()
	v.mu.Lock()
	_, ok := v.subs[uri]
	v.mu.Unlock()
	if ok {
		return nil
	}
	f := protocol.SubscriptionFilter{ResourceSubscriptions: []string{uri}}
	sub, err := cs.Listen(ctx, f)
	if err != nil {
		return err
	}
	if !slices.Contains(sub.ack.ResourceSubscriptions, uri) {
		sub.Close()
		return fmt.Errorf("mcp: the server does not offer updates of %s", uri)
	}
	h := cs.hold(f, sub)
	v.mu.Lock()
	old := v.subs[uri]
	v.subs[uri] = h
	v.mu.Unlock()
	if old != nil {
		old.close()
	}
	return nil
}

func (cs *ClientSession) unsubscribeResource(uri string) {
	v := cs.modernState()
	v.mu.Lock()
	h := v.subs[uri]
	delete(v.subs, uri)
	v.mu.Unlock()
	if h != nil {
		h.close()
	}
}
