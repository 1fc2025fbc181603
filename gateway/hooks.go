package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Hooks let a program govern and observe what the gateway relays: who
// may see and use which feature (policy), what happened (audit, metrics,
// cost), and the spans of each request (tracing). Every hook is optional.
type Hooks struct {
	// Identify tells who makes a request (from the authorization the
	// transport verified, an API key, ...). Nil, or a nil result, means an
	// anonymous caller.
	Identify func(ctx context.Context, r *mcp.Request) *Identity

	// Authorize decides whether a request may reach an upstream feature.
	// It is asked once per item when a list is served (Access.Listing set:
	// a refusal hides the item) and before every call, read, prompt and
	// completion is relayed (a refusal is the request's answer). It
	// returns nil to allow; a *Denial to refuse with a reason and the rule
	// that decided; any other error to refuse with that error.
	Authorize func(ctx context.Context, a *Access) error

	// Observe receives one Event for every request a client made of the
	// gateway and for every request an upstream made of a client
	// (sampling, elicitation, roots), once it is answered or refused.
	// Observers run on the request's goroutine after its answer is ready:
	// they must be quick (queue the work).
	Observe []func(ctx context.Context, e *Event)

	// Middleware wraps the front server's handling of every request, as
	// mcp.Server.Use does; the first is the outermost.
	Middleware []mcp.Middleware
	// UpstreamMiddleware wraps every request the gateway sends to an
	// upstream, as mcp.ClientOptions.Sending does; RelayFrom tells the
	// upstream and the client request it relays.
	UpstreamMiddleware []mcp.ClientMiddleware

	// Admit, if set, is asked after Authorize allowed a call, read, prompt
	// or completion (never for list items), before it is relayed: rate
	// and concurrency limits. It returns a release function, called when
	// the relayed request is over (nil: nothing to release), or an error:
	// a *Limited refuses with the time to wait (see Limited), any other
	// error refuses as a Limited without one. See governance.go.
	Admit func(ctx context.Context, a *Access) (release func(), err error)

	// Catalog, if set, is told every tool the upstreams offer each time
	// the catalog is recomputed, before clients see the new catalog (so
	// that Authorize can already judge the new definitions: tool pinning).
	// It runs with the catalog's lock held: it must not call back into the
	// gateway's catalog methods.
	Catalog func(tools []CatalogTool)
}

// Identity is who makes a request.
type Identity struct {
	// Subject is the person or machine (an OAuth sub, an API key's name).
	Subject string `json:"subject,omitempty"`
	// ClientID is the OAuth client (the application).
	ClientID string `json:"clientId,omitempty"`
	// Tenant is the organization the caller acts for.
	Tenant string `json:"tenant,omitempty"`
	// Groups the caller belongs to.
	Groups []string `json:"groups,omitempty"`
	// Method is how the caller authenticated: "oauth", "api-key",
	// "machine" (client credentials), "none".
	Method string `json:"method,omitempty"`
	// Scopes granted to the caller's token or key.
	Scopes []string `json:"scopes,omitempty"`
	// Binding is the grant binding of the caller's token ("session:<id>"
	// or "task:<id>", the mcp_binding claim), "" for an unbound grant: a
	// policy can require a grant bound to the request's session.
	Binding string `json:"binding,omitempty"`
}

// Access describes a request's use of an upstream feature, for
// Hooks.Authorize.
type Access struct {
	// Method is the request's method: tools/call, resources/read,
	// prompts/get, completion/complete; for a list, the list's method
	// (tools/list, ...).
	Method string
	// Listing is set when the decision is whether a list shows the item.
	Listing bool
	// Upstream is the upstream that serves the feature.
	Upstream string
	// Kind is "tool", "prompt", "resource" or "resource template".
	Kind string
	// Name is the exposed name (or URI); Original the upstream's own.
	Name, Original string
	// Tool is the tool's definition (its annotations), for tools.
	Tool *protocol.Tool
	// Arguments are the call's arguments (tools/call, prompts/get), raw.
	Arguments jsontext.Value
	// Identity is who asks (nil: anonymous).
	Identity *Identity
	// Request is the client's request (nil when the gateway asks on its
	// own, e.g. whether a session may receive an upstream's log message).
	Request *mcp.Request
	// VirtualServer names the virtual server the request came through
	// ("" for the gateway's main endpoint).
	VirtualServer string
}

// Denial is a refusal by policy. The client gets a JSON-RPC error with
// code CodeDenied whose message names the rule and the reason, and whose
// data holds both.
type Denial struct {
	// Rule names the rule that refused.
	Rule string `json:"rule"`
	// Reason says why, for the caller.
	Reason string `json:"reason"`
	// ToolError answers a refused tools/call with a tool result whose
	// isError is set and whose text is the denial, instead of a JSON-RPC
	// error: for refusals the model should read and act on, such as a
	// spent budget. Other requests get the JSON-RPC error.
	ToolError bool `json:"-"`
}

// CodeDenied is the JSON-RPC error code of a request the gateway's policy
// refused.
const CodeDenied = -32003

func (d *Denial) Error() string {
	if d.Rule == "" {
		return "denied: " + d.Reason
	}
	return fmt.Sprintf("denied by rule %q: %s", d.Rule, d.Reason)
}

// rpcError is the error the client gets for a denial.
func (d *Denial) rpcError() *jsonrpc.Error {
	data, _ := json.Marshal(d)
	return &jsonrpc.Error{Code: CodeDenied, Message: d.Error(), Data: data}
}

// Outcome is how a request ended.
type Outcome string

// Outcomes of an Event.
const (
	OutcomeOK        Outcome = "ok"         // a result
	OutcomeToolError Outcome = "tool_error" // a tool result with isError
	OutcomeError     Outcome = "error"      // a protocol or transport error
	OutcomeDenied    Outcome = "denied"     // refused by Hooks.Authorize
	OutcomeCancelled Outcome = "cancelled"  // cancelled by the client
	OutcomeLimited   Outcome = "limited"    // held back by Hooks.Admit (rate or concurrency limit)
)

// EventKind says which way a request went.
type EventKind string

// Event kinds.
const (
	// KindRequest: a client's request to the gateway.
	KindRequest EventKind = "request"
	// KindUpstreamRequest: an upstream's request to a client (sampling,
	// elicitation, roots), relayed by the gateway.
	KindUpstreamRequest EventKind = "upstream-request"
	// KindNotice: something the gateway noticed outside any request (a
	// tool's definition changed upstream, ...), reported through
	// Gateway.Emit; Notice says what.
	KindNotice EventKind = "notice"
)

// Event describes one request the gateway handled.
type Event struct {
	Kind     EventKind
	Time     time.Time // when the request arrived
	Duration time.Duration
	// Method is the JSON-RPC method.
	Method string
	// RequestID is the client's request id (KindRequest).
	RequestID jsonrpc.ID
	// Upstream is the upstream the request was relayed to or came from
	// ("" when the gateway answered it itself: lists, ping, ...).
	Upstream string
	// Name is the tool or prompt name or the resource URI the client used;
	// Original the upstream's own.
	Name, Original string
	// Session is the client's session id ("" for stdio and 2026-07-28
	// requests).
	Session string
	// ProtocolVersion is the revision of the client's request.
	ProtocolVersion string
	// Client is the client's self-description.
	Client protocol.Implementation
	// Identity is who made the request (nil: anonymous).
	Identity *Identity
	// Params are the request's raw params (arguments included); observers
	// decide what to keep.
	Params jsontext.Value
	// Result is the raw result, when there is one.
	Result  jsontext.Value
	Outcome Outcome
	// Error is the protocol error of an OutcomeError or OutcomeDenied.
	Error *jsonrpc.Error
	// Denial is set for OutcomeDenied.
	Denial *Denial
	// AppOriginated marks calls an MCP App view made (set by the host).
	AppOriginated bool
	// WouldDeny is the denial a policy in dry-run mode would have
	// answered (the request was served); see NoteWouldDeny.
	WouldDeny *Denial
	// Limited is set for OutcomeLimited.
	Limited *Limited
	// VirtualServer names the virtual server the request came through.
	VirtualServer string
	// Tenant is the tenant the request was made for (from Identity), or
	// the tenant a notice concerns.
	Tenant string
	// Notice describes a KindNotice event.
	Notice *Notice
}

// RelayInfo tells an upstream middleware (Hooks.UpstreamMiddleware) what
// a request to an upstream relays.
type RelayInfo struct {
	// Upstream is the upstream's name.
	Upstream string
	// Request is the client's request it relays (nil for the gateway's own
	// requests: lists, pings).
	Request *mcp.Request
}

// RelayFrom returns what the upstream request sent with ctx relays, or
// nil for the gateway's own requests.
func RelayFrom(ctx context.Context) *RelayInfo {
	rc := relayFrom(ctx)
	if rc == nil {
		return nil
	}
	d := rc.dreq
	if d == nil && rc.ex != nil {
		d = rc.ex.current()
	}
	return &RelayInfo{Upstream: rc.u.spec.Name, Request: d}
}

// record is what the gateway learns of a client request while serving it,
// for its Event.
type record struct {
	upstream, name, original string
	denial                   *Denial
	wouldDeny                *Denial
	limited                  *Limited
}

type recordKey struct{}

func recordFrom(ctx context.Context) *record {
	r, _ := ctx.Value(recordKey{}).(*record)
	return r
}

// governed reports whether a request must be authorized or recorded:
// whether there is an Authorize hook or an event record to fill.
func (g *Gateway) governed(ctx context.Context) bool {
	return g.opts.Hooks.Authorize != nil || recordFrom(ctx) != nil
}

// identity returns who makes r.
func (g *Gateway) identity(ctx context.Context, r *mcp.Request) *Identity {
	if g.opts.Hooks.Identify == nil || r == nil {
		return nil
	}
	return g.opts.Hooks.Identify(ctx, r)
}

// authorize asks Hooks.Authorize about a, and notes a denial for the
// request's event. It returns the error the client gets, or nil.
func (g *Gateway) authorize(ctx context.Context, a *Access) error {
	if rec := recordFrom(ctx); rec != nil && !a.Listing {
		rec.upstream, rec.name, rec.original = a.Upstream, a.Name, a.Original
	}
	vs := virtualFrom(ctx)
	if vs != nil && a.VirtualServer == "" {
		a.VirtualServer = vs.spec.Name
	}
	if g.opts.Hooks.Authorize == nil && (vs == nil || vs.spec.Authorize == nil) {
		return nil
	}
	if a.Identity == nil {
		a.Identity = g.identity(ctx, a.Request)
	}
	var err error
	if g.opts.Hooks.Authorize != nil {
		err = g.opts.Hooks.Authorize(ctx, a)
	}
	if err == nil && vs != nil && vs.spec.Authorize != nil {
		err = vs.spec.Authorize(ctx, a)
	}
	if err == nil {
		return nil
	}
	var d *Denial
	if !errors.As(err, &d) {
		d = &Denial{Reason: err.Error()}
	}
	if rec := recordFrom(ctx); rec != nil && !a.Listing {
		rec.denial = d
	}
	if d.ToolError && a.Method == protocol.MethodToolsCall && !a.Listing {
		return d // the tool handler's plain error: a tool result with isError
	}
	return d.rpcError()
}

// visible reports whether a list shows an item: when Hooks.Authorize
// allows it.
func (g *Gateway) visible(ctx context.Context, r *mcp.Request, item any) bool {
	if g.opts.Hooks.Authorize == nil {
		return true
	}
	return g.visibleIn(ctx, r, item, g.cat.Load())
}

// visibleIn judges a list item of catalog c (the gateway's or a virtual
// server's view of it).
func (g *Gateway) visibleIn(ctx context.Context, r *mcp.Request, item any, c *catalog) bool {
	a := &Access{Listing: true, Request: r}
	switch v := item.(type) {
	case *protocol.Tool:
		e, ok := c.tools[v.Name]
		if !ok {
			return true
		}
		a.Method, a.Kind, a.Name, a.Original, a.Upstream, a.Tool = protocol.MethodToolsList, "tool", v.Name, e.orig, e.u.spec.Name, &e.tool
	case *protocol.Prompt:
		e, ok := c.prompts[v.Name]
		if !ok {
			return true
		}
		a.Method, a.Kind, a.Name, a.Original, a.Upstream = protocol.MethodPromptsList, "prompt", v.Name, e.orig, e.u.spec.Name
	case *protocol.Resource:
		e, ok := c.resources[v.URI]
		if !ok {
			return true
		}
		a.Method, a.Kind, a.Name, a.Original, a.Upstream = protocol.MethodResourcesList, "resource", v.URI, e.orig, e.u.spec.Name
	case *protocol.ResourceTemplate:
		e, ok := c.templates[v.URITemplate]
		if !ok {
			return true
		}
		a.Method, a.Kind, a.Name, a.Original, a.Upstream = protocol.MethodResourcesTemplatesList, "resource template", v.URITemplate, e.orig, e.u.spec.Name
	default:
		return true
	}
	return g.authorize(ctx, a) == nil
}

// observe is the outermost of the gateway's own middleware: it records
// each client request and hands its Event to the observers.
func (g *Gateway) observe(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, req *mcp.Request) (any, error) {
		if len(g.opts.Hooks.Observe) == 0 {
			return next(ctx, req)
		}
		rec := &record{}
		start := time.Now()
		res, err := next(context.WithValue(ctx, recordKey{}, rec), req)
		e := &Event{
			Kind: KindRequest, Time: start, Duration: time.Since(start), Method: req.Method, RequestID: req.ID,
			Upstream: rec.upstream, Name: rec.name, Original: rec.original,
			ProtocolVersion: req.ProtocolVersion(), Client: req.ClientInfo(),
			Identity: g.identity(ctx, req), Params: req.Params, Denial: rec.denial,
			WouldDeny: rec.wouldDeny, Limited: rec.limited,
		}
		if vs := virtualFrom(ctx); vs != nil {
			e.VirtualServer = vs.spec.Name
		}
		if e.Identity != nil {
			e.Tenant = e.Identity.Tenant
		}
		// The host of an MCP App marks the calls its views make.
		_, e.AppOriginated = req.Meta()[apps.MetaAppOriginated]
		if req.Session != nil {
			e.Session = req.Session.ID()
		}
		e.Outcome, e.Result, e.Error = outcomeOf(ctx, res, err)
		switch {
		case rec.denial != nil:
			e.Outcome = OutcomeDenied
		case rec.limited != nil:
			e.Outcome = OutcomeLimited
		}
		for _, o := range g.opts.Hooks.Observe {
			o(ctx, e)
		}
		return res, err
	}
}

// outcomeOf classifies a request's answer.
func outcomeOf(ctx context.Context, res any, err error) (Outcome, jsontext.Value, *jsonrpc.Error) {
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return OutcomeCancelled, nil, nil
		}
		var je *jsonrpc.Error
		if !errors.As(err, &je) {
			je = jsonrpc.ErrInternal("%v", err)
		}
		return OutcomeError, nil, je
	}
	var raw jsontext.Value
	switch v := res.(type) {
	case jsontext.Value:
		raw = v
	case *protocol.CallToolResult:
		if len(v.Raw) > 0 {
			raw = v.Raw
		} else {
			raw, _ = json.Marshal(v)
		}
		if v.IsError {
			return OutcomeToolError, raw, nil
		}
		return OutcomeOK, raw, nil
	default:
		raw, _ = json.Marshal(res)
	}
	if isErrorResult(raw) {
		return OutcomeToolError, raw, nil
	}
	return OutcomeOK, raw, nil
}

// isErrorResult reports whether a raw result is a tool result with
// isError set (2026-07-28 results reach the middleware encoded).
func isErrorResult(raw jsontext.Value) bool {
	if !mayBeTrue(raw, `"isError"`) {
		return false
	}
	var probe struct {
		IsError bool `json:"isError"`
	}
	_ = json.Unmarshal(raw, &probe)
	return probe.IsError
}

// mayBeTrue reports whether the member name (quoted) appears in raw
// followed by the value true, at any depth: when it does not, no member of
// that name is true. It reads the bytes without decoding them, so that a
// result with "isError": false costs no decoding.
func mayBeTrue(raw []byte, name string) bool {
	for {
		i := bytes.Index(raw, []byte(name))
		if i < 0 {
			return false
		}
		rest := bytes.TrimLeft(raw[i+len(name):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			if v := bytes.TrimLeft(rest[1:], " \t\r\n"); len(v) > 0 && v[0] == 't' {
				return true
			}
		}
		raw = raw[i+len(name):]
	}
}

// observeUpstreamRequest reports a request an upstream made of a client.
func (g *Gateway) observeUpstreamRequest(ctx context.Context, u *upstream, dreq *mcp.Request, ss *mcp.ServerSession, method string, params any, start time.Time, res any, err error) {
	if len(g.opts.Hooks.Observe) == 0 {
		return
	}
	e := &Event{Kind: KindUpstreamRequest, Time: start, Duration: time.Since(start), Method: method, Upstream: u.spec.Name}
	e.Params, _ = json.Marshal(params)
	switch {
	case dreq != nil:
		e.ProtocolVersion, e.Client, e.Identity = dreq.ProtocolVersion(), dreq.ClientInfo(), g.identity(ctx, dreq)
		if dreq.Session != nil {
			e.Session = dreq.Session.ID()
		}
	case ss != nil:
		e.Session, e.ProtocolVersion, e.Client = ss.ID(), ss.ProtocolVersion(), ss.ClientInfo()
		e.Identity = g.frontSession(ss).identity()
	}
	if e.Identity != nil {
		e.Tenant = e.Identity.Tenant
	}
	e.Outcome, e.Result, e.Error = outcomeOf(ctx, res, err)
	for _, o := range g.opts.Hooks.Observe {
		o(ctx, e)
	}
}
