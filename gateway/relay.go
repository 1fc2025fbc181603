package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// serverOptions returns the options of the front server.
func (g *Gateway) serverOptions() *mcp.ServerOptions {
	var o mcp.ServerOptions
	if g.opts.ServerOptions != nil {
		o = *g.opts.ServerOptions
	}
	o.Instructions = g.opts.Instructions
	if o.Logger == nil {
		o.Logger = g.log
	}
	o.Completion = g.complete
	o.ListFilter = g.listFilter
	o.EditCapabilities = g.editCapabilities
	o.ResourceFallback = func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
		u, orig, ok := g.resolveURI(uri)
		if !ok {
			return nil, mcp.ResourceNotFound(uri)
		}
		return g.readResource(ctx, req, u, uri, orig)
	}
	start := o.OnSessionStart
	o.OnSessionStart = func(ss *mcp.ServerSession) {
		g.frontSession(ss)
		if start != nil {
			start(ss)
		}
	}
	roots := o.OnRootsListChanged
	o.OnRootsListChanged = func(ctx context.Context, ss *mcp.ServerSession) {
		g.rootsChanged(ctx, ss)
		if roots != nil {
			roots(ctx, ss)
		}
	}
	end := o.OnSessionEnd
	o.OnSessionEnd = func(ss *mcp.ServerSession) {
		g.sessionEnded(ss)
		if end != nil {
			end(ss)
		}
	}
	return &o
}

// relayCall is a request the gateway relays to an upstream: the context
// of the upstream call carries it, so that what the upstream asks of the
// client while it works reaches the right client.
type relayCall struct {
	dreq *mcp.Request // the client's request
	u    *upstream
	ex   *exchange // set for 2026-07-28 requests, whose input needs rounds
	// With a call timeout: when the call is due, and how the upstream's
	// sweeper ends it (see upstream.sweepCalls).
	deadline time.Time
	cancel   context.CancelCauseFunc
}

type relayKey struct{}

func withRelay(ctx context.Context, rc *relayCall) context.Context {
	return context.WithValue(ctx, relayKey{}, rc)
}

func relayFrom(ctx context.Context) *relayCall {
	rc, _ := ctx.Value(relayKey{}).(*relayCall)
	return rc
}

// errCallTimeout is the cause of the cancellation of an upstream call
// that outlasted the upstream's call timeout.
var errCallTimeout = fmt.Errorf("gateway: the upstream call timed out: %w", context.DeadlineExceeded)

// begin prepares the relay of dreq to u: the session to use (us, or the
// one sessionFor picks when us is nil) and the context of the upstream
// call. end must be called when the call is over.
//
// The call timeout does not arm a timer per call: the call's context is
// cancelled with errCallTimeout by the upstream's sweeper (one timer per
// upstream, see upstream.sweepCalls), and the call's bookkeeping takes
// the upstream's lock once at the start and once at the end.
func (g *Gateway) begin(ctx context.Context, dreq *mcp.Request, u *upstream, ex *exchange, us *upstreamSession) (context.Context, *upstreamSession, func(), error) {
	if us == nil {
		var err error
		if us, err = u.sessionFor(ctx, dreq); err != nil {
			return nil, nil, nil, err
		}
	}
	rc := &relayCall{dreq: dreq, u: u, ex: ex}
	ctx = withRelay(ctx, rc)
	if u.timeout > 0 {
		ctx, rc.cancel = context.WithCancelCause(ctx)
		rc.deadline = time.Now().Add(u.timeout)
	}
	var fs *frontSession
	if dreq != nil && dreq.Session != nil {
		fs = g.frontSession(dreq.Session)
		fs.inflight.Add(1)
	}
	track := us.shared && !u.related
	u.mu.Lock()
	u.inflight++
	if track {
		u.calls[rc] = struct{}{}
	} else if us.leased {
		u.leases[us.cs] = rc
	}
	if rc.cancel != nil {
		u.timeCallLocked(rc)
	}
	u.mu.Unlock()
	if dreq != nil && ex == nil {
		if _, ok := dreq.Meta().ProgressToken(); ok {
			ctx = mcp.WithProgress(ctx, func(p *protocol.ProgressNotificationParams) {
				_ = dreq.Progress(ctx, p.Progress, p.Total, p.Message)
			})
		}
	}
	end := func() {
		if fs != nil {
			fs.inflight.Add(-1)
		}
		u.mu.Lock()
		if track {
			delete(u.calls, rc)
		}
		if rc.cancel != nil {
			delete(u.timed, rc)
		}
		u.callEndedLocked()
		u.mu.Unlock()
		if rc.cancel != nil {
			rc.cancel(nil)
		}
		us.release()
	}
	return ctx, us, end, nil
}

// callTool relays a tools/call.
func (g *Gateway) callTool(ctx context.Context, dreq *mcp.Request, call *protocol.CallToolRequestParams, e *toolEntry) (*protocol.CallToolResult, error) {
	release := func() {}
	if g.governed(ctx) || g.opts.Hooks.Admit != nil || virtualFrom(ctx) != nil {
		var err error
		release, err = g.gate(ctx, &Access{Method: protocol.MethodToolsCall, Kind: "tool", Upstream: e.u.spec.Name, Name: e.tool.Name, Original: e.orig,
			Tool: &e.tool, Arguments: call.Arguments, Request: dreq})
		if err != nil {
			var l *Limited
			if errors.As(err, &l) {
				return l.toolResult(), nil
			}
			return nil, err
		}
	}
	defer release()
	params := appendCallParams(nil, "name", e.orig, call.Arguments, call.Meta)
	if needsExchange(dreq) {
		raw, err := g.relayModern(ctx, dreq, e.u, protocol.MethodToolsCall, params)
		if err != nil {
			return nil, err
		}
		return g.toolResult(e.u, raw), nil
	}
	ctx, us, end, err := g.begin(ctx, dreq, e.u, nil, nil)
	if err != nil {
		return nil, toolCallError(err)
	}
	defer end()
	if e.tool.TaskSupport() == protocol.TaskSupportRequired && !us.cs.Stateless() {
		// The upstream runs the tool only as a task: the gateway runs it
		// so and waits for its result (the client's own request may be a
		// task of the gateway's).
		res, err := us.cs.CallToolAsTask(ctx, &protocol.CallToolRequestParams{Name: e.orig, Arguments: call.Arguments, Meta: forwardMeta(call.Meta)}, 0, nil)
		if err != nil {
			return nil, toolCallError(g.relayError(ctx, e.u, protocol.MethodToolsCall, err))
		}
		return res, nil
	}
	raw, err := us.cs.CallRaw(ctx, protocol.MethodToolsCall, params)
	if err != nil {
		return nil, toolCallError(g.relayError(ctx, e.u, protocol.MethodToolsCall, err))
	}
	return g.toolResult(e.u, raw), nil
}

// toolCallError keeps protocol errors as they are; a failure to reach the
// upstream becomes an internal error naming it.
func toolCallError(err error) error {
	var je *jsonrpc.Error
	if errors.As(err, &je) {
		return je
	}
	return jsonrpc.ErrInternal("%v", err)
}

// toolResult wraps an upstream's raw tool result for the front server.
func (g *Gateway) toolResult(u *upstream, raw jsontext.Value) *protocol.CallToolResult {
	raw = g.exposeResultURIs(u, u.cleanResult(raw))
	return &protocol.CallToolResult{Raw: raw, IsError: isErrorResult(raw)}
}

// cleanResult removes from a result what belongs to the hop between the
// gateway and a 2026-07-28 upstream (resultType, ttlMs, cacheScope, the
// upstream's serverInfo): the front server adds its own.
func (u *upstream) cleanResult(raw jsontext.Value) jsontext.Value {
	if !u.isStateless() || len(raw) == 0 || raw[0] != '{' {
		return raw
	}
	var obj map[string]jsontext.Value
	if json.Unmarshal(raw, &obj) != nil {
		return raw
	}
	delete(obj, "resultType")
	delete(obj, "ttlMs")
	delete(obj, "cacheScope")
	if m, ok := obj["_meta"]; ok {
		var meta map[string]jsontext.Value
		if json.Unmarshal(m, &meta) == nil {
			delete(meta, protocol.MetaServerInfo)
			if len(meta) == 0 {
				delete(obj, "_meta")
			} else if b, err := json.Marshal(meta, json.Deterministic(true)); err == nil {
				obj["_meta"] = b
			}
		}
	}
	out, err := json.Marshal(obj, json.Deterministic(true))
	if err != nil {
		return raw
	}
	return out
}

func (u *upstream) isStateless() bool { return u.stateless.Load() }

// hopMeta lists the _meta members that belong to one hop (the client's
// request to the gateway) and are not forwarded upstream: the upstream
// call gets its own.
var hopMeta = map[string]bool{
	protocol.MetaProgressToken:      true,
	protocol.MetaProtocolVersion:    true,
	protocol.MetaClientCapabilities: true,
	protocol.MetaClientInfo:         true,
	protocol.MetaLogLevel:           true,
	protocol.MetaSubscriptionID:     true,
	protocol.MetaRelatedTask:        true,
}

// forwardMeta returns the members of meta that go upstream.
func forwardMeta(meta protocol.Meta) protocol.Meta {
	if len(meta) == 0 {
		return nil
	}
	var out protocol.Meta
	for k, v := range meta {
		if hopMeta[k] {
			continue
		}
		if out == nil {
			out = protocol.Meta{}
		}
		out[k] = v
	}
	return out
}

// appendCallParams encodes the params of a relayed tools/call or
// prompts/get: {key: name, "arguments": args, "_meta": forwarded meta}.
func appendCallParams(dst []byte, key, name string, args jsontext.Value, meta protocol.Meta) jsontext.Value {
	if dst == nil {
		dst = make([]byte, 0, len(key)+len(name)+len(args)+32)
	}
	dst = append(dst, '{', '"')
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	dst, _ = jsontext.AppendQuote(dst, name)
	if len(args) > 0 && string(args) != "null" {
		dst = append(dst, `,"arguments":`...)
		dst = append(dst, args...)
	}
	if m := forwardMeta(meta); m != nil {
		if b, err := json.Marshal(m, json.Deterministic(true)); err == nil {
			dst = append(dst, `,"_meta":`...)
			dst = append(dst, b...)
		}
	}
	return append(dst, '}')
}

// relayError explains a failed upstream request. Protocol errors of the
// upstream pass through unchanged; anything else names the upstream.
func (g *Gateway) relayError(ctx context.Context, u *upstream, method string, err error) error {
	var je *jsonrpc.Error
	if errors.As(err, &je) {
		return je
	}
	var ue *upstreamError
	if errors.As(err, &ue) {
		return err
	}
	if ctx.Err() != nil && (context.Cause(ctx) == errCallTimeout || errors.Is(err, context.DeadlineExceeded) && context.Cause(ctx) == context.DeadlineExceeded) {
		return &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q did not answer %s within %s", u.spec.Name, method, u.timeout)}
	}
	return &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q: %s failed: %v", u.spec.Name, method, err)}
}

// getPrompt relays a prompts/get.
func (g *Gateway) getPrompt(ctx context.Context, dreq *mcp.Request, args map[string]string, e *promptEntry) (*protocol.GetPromptResult, error) {
	var rawArgs jsontext.Value
	if len(args) > 0 {
		rawArgs, _ = json.Marshal(args, json.Deterministic(true))
	}
	release, err := g.gate(ctx, &Access{Method: protocol.MethodPromptsGet, Kind: "prompt", Upstream: e.u.spec.Name, Name: e.prompt.Name, Original: e.orig,
		Arguments: rawArgs, Request: dreq})
	if err != nil {
		return nil, gateError(err)
	}
	defer release()
	params := appendCallParams(nil, "name", e.orig, rawArgs, dreq.Meta())
	var raw jsontext.Value
	if needsExchange(dreq) {
		raw, err = g.relayModern(ctx, dreq, e.u, protocol.MethodPromptsGet, params)
	} else {
		raw, err = g.relayRaw(ctx, dreq, e.u, protocol.MethodPromptsGet, params)
	}
	if err != nil {
		return nil, err
	}
	var res protocol.GetPromptResult
	if err := json.Unmarshal(e.u.cleanResult(raw), &res); err != nil {
		return nil, &upstreamError{upstream: e.u.spec.Name, msg: fmt.Sprintf("upstream %q sent a malformed prompts/get result: %v", e.u.spec.Name, err)}
	}
	return &res, nil
}

// relayRaw sends one request to u for dreq and returns the raw result.
func (g *Gateway) relayRaw(ctx context.Context, dreq *mcp.Request, u *upstream, method string, params jsontext.Value) (jsontext.Value, error) {
	ctx, us, end, err := g.begin(ctx, dreq, u, nil, nil)
	if err != nil {
		return nil, err
	}
	defer end()
	raw, err := us.cs.CallRaw(ctx, method, params)
	if err != nil {
		return nil, g.relayError(ctx, u, method, err)
	}
	return raw, nil
}

// readResource relays a resources/read of uri (exposed) as orig.
func (g *Gateway) readResource(ctx context.Context, dreq *mcp.Request, u *upstream, uri, orig string) (*protocol.ReadResourceResult, error) {
	release, err := g.gate(ctx, &Access{Method: protocol.MethodResourcesRead, Kind: "resource", Upstream: u.spec.Name, Name: uri, Original: orig, Request: dreq})
	if err != nil {
		return nil, gateError(err)
	}
	defer release()
	b, _ := json.Marshal(struct {
		URI  string        `json:"uri"`
		Meta protocol.Meta `json:"_meta,omitzero"`
	}{orig, forwardMeta(dreq.Meta())})
	var raw jsontext.Value
	if needsExchange(dreq) {
		raw, err = g.relayModern(ctx, dreq, u, protocol.MethodResourcesRead, b)
	} else {
		raw, err = g.relayRaw(ctx, dreq, u, protocol.MethodResourcesRead, b)
	}
	if err != nil {
		return nil, err
	}
	var res protocol.ReadResourceResult
	if err := json.Unmarshal(u.cleanResult(raw), &res); err != nil {
		return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q sent a malformed resources/read result: %v", u.spec.Name, err)}
	}
	c := g.cat.Load()
	for _, rc := range res.Contents {
		switch v := rc.(type) {
		case *protocol.TextResourceContents:
			v.URI = exposeContentURI(c, u, v.URI, orig, uri)
		case *protocol.BlobResourceContents:
			v.URI = exposeContentURI(c, u, v.URI, orig, uri)
		}
	}
	return &res, nil
}

// exposeContentURI maps the uri of one content item of a read result: the
// URI that was read becomes the URI the client asked for.
func exposeContentURI(c *catalog, u *upstream, got, orig, asked string) string {
	if got == orig {
		return asked
	}
	return c.exposeURI(u, got)
}

// complete relays completion/complete to the upstream of the prompt or
// resource template named by the reference.
func (g *Gateway) complete(ctx context.Context, dreq *mcp.Request, p *protocol.CompleteRequestParams) (*protocol.CompleteResult, error) {
	c := g.cat.Load()
	var (
		u   *upstream
		ref protocol.CompletionReference
	)
	switch r := p.Ref.(type) {
	case *protocol.PromptReference:
		e, ok := c.prompts[r.Name]
		if !ok {
			return nil, jsonrpc.ErrInvalidParams("unknown prompt %q", truncate(r.Name, 200))
		}
		cp := *r
		cp.Name = e.orig
		u, ref = e.u, &cp
	case *protocol.ResourceTemplateReference:
		cp := *r
		if e, ok := c.templates[r.URI]; ok {
			cp.URI = e.orig
			u = e.u
		} else if e, ok := c.resources[r.URI]; ok {
			cp.URI = e.orig
			u = e.u
		} else if uu, orig, ok := g.resolveURI(r.URI); ok {
			cp.URI = orig
			u = uu
		} else {
			return nil, jsonrpc.ErrInvalidParams("unknown resource template %q", truncate(r.URI, 200))
		}
		ref = &cp
	default:
		return nil, jsonrpc.ErrInvalidParams("completion/complete: unsupported reference")
	}
	kind, name, orig := "prompt", "", ""
	switch r := ref.(type) {
	case *protocol.PromptReference:
		orig = r.Name
		if pr, ok := p.Ref.(*protocol.PromptReference); ok {
			name = pr.Name
		}
	case *protocol.ResourceTemplateReference:
		kind, orig = "resource template", r.URI
		if rr, ok := p.Ref.(*protocol.ResourceTemplateReference); ok {
			name = rr.URI
		}
	}
	release, err := g.gate(ctx, &Access{Method: protocol.MethodCompletionComplete, Kind: kind, Upstream: u.spec.Name, Name: name, Original: orig, Request: dreq})
	if err != nil {
		return nil, gateError(err)
	}
	defer release()
	u.mu.Lock()
	has := u.lists.caps.Completions != nil
	u.mu.Unlock()
	if !has {
		return &protocol.CompleteResult{Completion: protocol.Completion{Values: []string{}}}, nil
	}
	params, err := json.Marshal(&protocol.CompleteRequestParams{Ref: ref, Argument: p.Argument, Context: p.Context, Meta: forwardMeta(p.Meta)})
	if err != nil {
		return nil, jsonrpc.ErrInternal("encoding completion params: %v", err)
	}
	raw, err := g.relayRaw(ctx, dreq, u, protocol.MethodCompletionComplete, params)
	if err != nil {
		return nil, err
	}
	var res protocol.CompleteResult
	if err := json.Unmarshal(u.cleanResult(raw), &res); err != nil {
		return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q sent a malformed completion result: %v", u.spec.Name, err)}
	}
	return &res, nil
}

// isStatelessVersion reports whether v is a revision without sessions.
func isStatelessVersion(v string) bool { return strings.Compare(v, protocol.Version20260728) >= 0 }
