package gateway

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// This file holds what the gateway offers governance (policy, limits,
// tenants, tool pinning) beyond Hooks.Authorize: the admission step
// (Hooks.Admit) and its Limited refusal, the dry-run note, the catalog
// hook, notices, and the re-announcement of lists when what they show
// changed without the catalog changing.

// CodeLimited is the JSON-RPC error code of a request held back by
// Hooks.Admit (a rate or concurrency limit). Its data is the Limited, with
// retryAfterMs.
const CodeLimited = -32008

// MetaRetryAfter is the _meta key of a tool error result that a limit
// answered: the milliseconds to wait before calling again. An HTTP front
// (limits.HTTPStatus) turns such a JSON answer into HTTP 429 with
// Retry-After.
const MetaRetryAfter = "io.switchboard/retryAfterMs"

// Limited is a refusal by a rate or concurrency limit (Hooks.Admit). A
// tools/call gets a tool error result (isError) that tells the model how
// long to wait, with _meta[MetaRetryAfter]; other requests get a JSON-RPC
// error with code CodeLimited.
type Limited struct {
	// Rule names the limit.
	Rule string `json:"rule"`
	// Reason says why, for the caller.
	Reason string `json:"reason"`
	// RetryAfter is how long to wait before trying again (0: unknown).
	RetryAfter time.Duration `json:"-"`
}

func (l *Limited) Error() string {
	msg := "limited"
	if l.Rule != "" {
		msg = fmt.Sprintf("limited by %q", l.Rule)
	}
	if l.Reason != "" {
		msg += ": " + l.Reason
	}
	if l.RetryAfter > 0 {
		msg += fmt.Sprintf("; retry after %s", l.retryText())
	}
	return msg
}

// RetryAfterMillis returns RetryAfter in whole milliseconds, rounded up.
func (l *Limited) RetryAfterMillis() int64 {
	return int64(math.Ceil(float64(l.RetryAfter) / float64(time.Millisecond)))
}

func (l *Limited) retryText() string {
	if l.RetryAfter >= time.Second {
		return fmt.Sprintf("%ds", int64(math.Ceil(l.RetryAfter.Seconds())))
	}
	return fmt.Sprintf("%dms", l.RetryAfterMillis())
}

func (l *Limited) rpcError() *jsonrpc.Error {
	data, _ := json.Marshal(struct {
		Rule         string `json:"rule"`
		Reason       string `json:"reason"`
		RetryAfterMs int64  `json:"retryAfterMs,omitzero"`
	}{l.Rule, l.Reason, l.RetryAfterMillis()})
	return &jsonrpc.Error{Code: CodeLimited, Message: l.Error(), Data: data}
}

// toolResult is the tool error result of a limited tools/call.
func (l *Limited) toolResult() *protocol.CallToolResult {
	text := "This call was not made: " + l.Error() + "."
	if l.RetryAfter > 0 {
		text += fmt.Sprintf(" Wait %s before calling this tool again.", l.retryText())
	}
	res := &protocol.CallToolResult{IsError: true, Content: []protocol.Content{&protocol.TextContent{Text: text}}}
	if l.RetryAfter > 0 {
		res.Meta = protocol.Meta{MetaRetryAfter: l.RetryAfterMillis()}
	}
	return res
}

// CatalogTool is a tool an upstream offers, as Hooks.Catalog sees it.
type CatalogTool struct {
	// Upstream is the upstream that offers it.
	Upstream string
	// Name is the name the gateway exposes it under.
	Name string
	// Tool is the upstream's own definition (its own name).
	Tool protocol.Tool
}

// Notice describes something the gateway noticed outside any request
// (an Event of kind KindNotice).
type Notice struct {
	// Type says what happened, e.g. "tool-definition-changed".
	Type string `json:"type"`
	// Message says it for people.
	Message string `json:"message"`
	// Data holds details (hashes, findings).
	Data map[string]string `json:"data,omitempty"`
}

// Emit hands an event to the observers (Hooks.Observe). Governance
// components report what happens outside requests with it: a KindNotice
// event whose Notice says what (Time is set when zero).
func (g *Gateway) Emit(ctx context.Context, e *Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	for _, o := range g.opts.Hooks.Observe {
		o(ctx, e)
	}
}

// NoteWouldDeny records, for the event of the request served with ctx,
// that a policy in dry-run mode would have refused it with d. An
// Authorize hook in dry-run mode calls it and then allows the request.
// It does nothing outside a request of the gateway.
func NoteWouldDeny(ctx context.Context, d *Denial) {
	if rec := recordFrom(ctx); rec != nil && rec.wouldDeny == nil {
		rec.wouldDeny = d
	}
}

// gate asks Authorize, then Admit, about a (not a list item). It returns
// the release function of an admitted request, or the error the client
// gets: a *Limited is returned as is (callTool turns it into a tool error
// result, the others into a JSON-RPC error).
func (g *Gateway) gate(ctx context.Context, a *Access) (func(), error) {
	if err := g.authorize(ctx, a); err != nil {
		return nil, err
	}
	if g.opts.Hooks.Admit == nil {
		return func() {}, nil
	}
	if a.Identity == nil {
		a.Identity = g.identity(ctx, a.Request)
	}
	if a.VirtualServer == "" {
		if vs := virtualFrom(ctx); vs != nil {
			a.VirtualServer = vs.spec.Name
		}
	}
	release, err := g.opts.Hooks.Admit(ctx, a)
	if err != nil {
		var l *Limited
		if !errors.As(err, &l) {
			l = &Limited{Reason: err.Error()}
		}
		if rec := recordFrom(ctx); rec != nil {
			rec.limited = l
		}
		return nil, l
	}
	if release == nil {
		release = func() {}
	}
	return release, nil
}

// gateError maps an error of gate for requests other than tools/call.
func gateError(err error) error {
	var l *Limited
	if errors.As(err, &l) {
		return l.rpcError()
	}
	return err
}

// catalogTools lists the tools of c for Hooks.Catalog.
func (c *catalog) catalogTools() []CatalogTool {
	out := make([]CatalogTool, 0, len(c.tools))
	for name, e := range c.tools {
		t := e.tool
		t.Name = e.orig
		out = append(out, CatalogTool{Upstream: e.u.spec.Name, Name: name, Tool: t})
	}
	return out
}

// VisibilityChanged tells every client that its lists may show something
// else now (tools/list_changed, prompts/list_changed,
// resources/list_changed), for changes the catalog does not see: a policy
// reloaded, a tool approved.
func (g *Gateway) VisibilityChanged(ctx context.Context) {
	for _, srv := range g.servers() {
		for ss := range srv.Sessions() {
			for _, m := range []string{protocol.NotificationToolsListChanged, protocol.NotificationPromptsListChanged, protocol.NotificationResourcesListChanged} {
				_ = ss.Notify(ctx, m, nil)
			}
		}
	}
}

// servers returns the front server and the virtual servers' servers.
func (g *Gateway) servers() []*mcp.Server {
	out := []*mcp.Server{g.front}
	for _, vs := range g.virtualList() {
		out = append(out, vs.srv)
	}
	return out
}

// allSessions yields every client session of the front and virtual
// servers, with the name of the virtual server ("" for the front).
func (g *Gateway) allSessions() iter.Seq2[string, *mcp.ServerSession] {
	return func(yield func(string, *mcp.ServerSession) bool) {
		for ss := range g.front.Sessions() {
			if !yield("", ss) {
				return
			}
		}
		for _, vs := range g.virtualList() {
			for ss := range vs.srv.Sessions() {
				if !yield(vs.spec.Name, ss) {
					return
				}
			}
		}
	}
}

// remember notes the identity of a session's first request, so that what
// the gateway sends the session outside requests (an upstream's log
// messages) can be judged by policy, and the admin API can tell whose
// session it is.
func (g *Gateway) remember(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, req *mcp.Request) (any, error) {
		if req.Session != nil && g.opts.Hooks.Identify != nil {
			fs := g.frontSession(req.Session)
			if fs.ident.Load() == nil {
				if id := g.identity(ctx, req); id != nil {
					fs.ident.CompareAndSwap(nil, id)
				}
			}
		}
		return next(ctx, req)
	}
}

func (fs *frontSession) identity() *Identity { return fs.ident.Load() }

// sessionMay reports whether client session ss may receive what upstream
// u sends outside any request (log messages): Hooks.Authorize is asked
// with Kind "upstream", Listing set and the session's identity.
func (g *Gateway) sessionMay(ctx context.Context, ss *mcp.ServerSession, u *upstream) bool {
	if g.opts.Hooks.Authorize == nil {
		return true
	}
	a := &Access{Method: protocol.NotificationMessage, Listing: true, Kind: "upstream", Upstream: u.spec.Name,
		Name: u.spec.Name, Original: u.spec.Name, Identity: g.frontSession(ss).identity()}
	return g.opts.Hooks.Authorize(ctx, a) == nil
}
