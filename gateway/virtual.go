package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/toolsearch"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// A virtual server is another view of the gateway's upstreams: a chosen
// set of their tools, prompts and resources, served by a front server of
// its own at /v/NAME/mcp, with its own name, instructions, policy and
// per-tool overrides of name, description and annotations. The catalog is
// computed once, by the gateway; each virtual server derives its view of
// it and registers that in its own server. Requests through a virtual
// server go through the same Authorize, Admit and Observe hooks as the
// main endpoint's (Access.VirtualServer and Event.VirtualServer name it),
// then through the virtual server's own Authorize.
//
// In ToolsSearch mode a virtual server lists two meta-tools instead of
// its tools: find_tools ranks the tools for a query (toolsearch, BM25F
// over names, descriptions and argument names) and call_tool calls one of
// them by name. Both go through the same policy: a tool a caller may not
// see is never found, and a call through call_tool is authorized, limited
// and observed as the direct call of that tool. The index is built once
// per version of the tool set, not per session.

// PathVirtual is the prefix of the virtual servers' endpoints:
// /v/NAME/mcp.
const PathVirtual = "/v/"

// ToolMode says how a virtual server exposes its tools.
type ToolMode string

// Tool modes.
const (
	// ToolsAll lists every tool (the default).
	ToolsAll ToolMode = "all"
	// ToolsSearch lists the meta-tools FindToolsName and CallToolName.
	ToolsSearch ToolMode = "search"
)

// Names of the meta-tools of ToolsSearch mode.
const (
	FindToolsName = "find_tools"
	CallToolName  = "call_tool"
)

// VirtualServer describes a virtual server (Options.VirtualServers).
type VirtualServer struct {
	// Name is the server's path segment (/v/NAME/mcp) and serverInfo
	// name: letters, digits, ".", "_" and "-".
	Name string
	// Title and Instructions are sent to its clients (serverInfo title,
	// initialize instructions).
	Title, Instructions string
	// Upstreams restricts the view to these upstreams; empty means all.
	Upstreams []string
	// Tools, Prompts and Resources select by exposed name (URI for
	// resources and templates) with "*" wildcards; empty selects all of
	// the chosen upstreams' features of that kind.
	Tools, Prompts, Resources []string
	// Overrides change how tools appear, keyed by their exposed name on
	// the main endpoint.
	Overrides map[string]ToolOverride
	// ToolMode is ToolsAll (default) or ToolsSearch.
	ToolMode ToolMode
	// SearchHint is added to find_tools' description, to tell the model
	// what the server's tools are about.
	SearchHint string
	// Authorize, if set, is asked after Hooks.Authorize about every list
	// item and use through this server (its own policy).
	Authorize func(ctx context.Context, a *Access) error
	// HTTPMiddleware, if set, wraps the server's HTTP handler (its own
	// authentication requirements).
	HTTPMiddleware func(http.Handler) http.Handler
}

// ToolOverride changes how a virtual server shows a tool. Empty fields
// keep the upstream's.
type ToolOverride struct {
	// Name replaces the exposed name.
	Name string
	// Title and Description replace the tool's.
	Title, Description string
	// Annotations' set fields replace the tool's.
	Annotations *protocol.ToolAnnotations
}

var validVirtualName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

type virtualServers struct {
	mu     sync.Mutex
	list   []*virtualServer
	cache  toolsearch.Cache
	closed bool
}

type virtualServer struct {
	g    *Gateway
	spec VirtualServer
	srv  *mcp.Server
	cat  atomic.Pointer[catalog] // the view, overrides applied
	reg  *catalog                // what is registered in srv (rebuildMu)
	idx  atomic.Pointer[searchIndex]
	// callAnn are call_tool's annotations as last registered.
	callAnn protocol.ToolAnnotations

	httpOnce sync.Once
	stream   *streamable.Handler
}

// searchIndex is the index of a view's tools, with the names in index
// order.
type searchIndex struct {
	ix    *toolsearch.Index
	names []string
}

type virtualKey struct{}

// virtualFrom returns the virtual server a request came through.
func virtualFrom(ctx context.Context) *virtualServer {
	vs, _ := ctx.Value(virtualKey{}).(*virtualServer)
	return vs
}

func (g *Gateway) virtualList() []*virtualServer {
	g.virt.mu.Lock()
	defer g.virt.mu.Unlock()
	return g.virt.list
}

// initVirtual creates the virtual servers (New).
func (g *Gateway) initVirtual(specs []VirtualServer) error {
	seen := map[string]bool{}
	var list []*virtualServer
	for _, s := range specs {
		if !validVirtualName.MatchString(s.Name) {
			return fmt.Errorf("gateway: virtual server name %q: use letters, digits, '.', '_' and '-'", s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("gateway: two virtual servers are named %q", s.Name)
		}
		seen[s.Name] = true
		switch s.ToolMode {
		case "":
			s.ToolMode = ToolsAll
		case ToolsAll, ToolsSearch:
		default:
			return fmt.Errorf("gateway: virtual server %q: unknown tool mode %q (all or search)", s.Name, s.ToolMode)
		}
		vs := &virtualServer{g: g, spec: s}
		vs.cat.Store(&catalog{})
		vs.reg = &catalog{}
		o := g.serverOptions()
		o.Instructions = s.Instructions
		o.ListFilter = vs.listFilter
		fallback := o.ResourceFallback
		o.ResourceFallback = func(ctx context.Context, req *mcp.Request, uri string, vars map[string]string) (*protocol.ReadResourceResult, error) {
			if u, _, ok := g.resolveURI(uri); !ok || !vs.hasUpstream(u.spec.Name) {
				return nil, mcp.ResourceNotFound(uri)
			}
			return fallback(ctx, req, uri, vars)
		}
		o.Completion = func(ctx context.Context, req *mcp.Request, p *protocol.CompleteRequestParams) (*protocol.CompleteResult, error) {
			if r, ok := p.Ref.(*protocol.PromptReference); ok {
				if _, ok := vs.cat.Load().prompts[r.Name]; !ok {
					return nil, jsonrpc.ErrInvalidParams("unknown prompt %q", truncate(r.Name, 200))
				}
			}
			return g.complete(ctx, req, p)
		}
		vs.srv = mcp.NewServer(protocol.Implementation{Name: s.Name, Title: s.Title, Version: g.opts.Version}, o)
		mw := append(append([]mcp.Middleware(nil), g.opts.Hooks.Middleware...), vs.mark, g.observe, g.remember, g.middleware)
		vs.srv.Use(mw...)
		if s.ToolMode == ToolsSearch {
			vs.addMetaTools()
		}
		list = append(list, vs)
	}
	g.virt.mu.Lock()
	g.virt.list = list
	g.virt.mu.Unlock()
	return nil
}

// mark puts the virtual server in the context of its requests.
func (vs *virtualServer) mark(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, req *mcp.Request) (any, error) {
		return next(context.WithValue(ctx, virtualKey{}, vs), req)
	}
}

// listFilter is the virtual server's list filter: tools for apps only
// never show; policy decides the rest.
func (vs *virtualServer) listFilter(ctx context.Context, r *mcp.Request, item any) any {
	if t, ok := item.(*protocol.Tool); ok && appOnly(t) {
		return nil
	}
	if !vs.visible(ctx, r, item) {
		return nil
	}
	return item
}

func (vs *virtualServer) visible(ctx context.Context, r *mcp.Request, item any) bool {
	if t, ok := item.(*protocol.Tool); ok && vs.spec.ToolMode == ToolsSearch && (t.Name == FindToolsName || t.Name == CallToolName) {
		return true
	}
	if vs.g.opts.Hooks.Authorize == nil && vs.spec.Authorize == nil {
		return true
	}
	return vs.g.visibleIn(context.WithValue(ctx, virtualKey{}, vs), r, item, vs.cat.Load())
}

func (vs *virtualServer) hasUpstream(name string) bool {
	return len(vs.spec.Upstreams) == 0 || slices.Contains(vs.spec.Upstreams, name)
}

// globMatch reports whether s matches pattern, where "*" stands for any
// run of characters (slashes included).
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return true
}

func selected(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if globMatch(p, name) {
			return true
		}
	}
	return false
}

// view derives the virtual server's catalog from the gateway's.
func (vs *virtualServer) view(c *catalog) *catalog {
	v := &catalog{
		tools: map[string]*toolEntry{}, prompts: map[string]*promptEntry{},
		resources: map[string]*resourceEntry{}, templates: map[string]*templateEntry{},
		rewritten: c.rewritten, multi: c.multi,
	}
	names := make([]string, 0, len(c.tools))
	for name := range c.tools {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		e := c.tools[name]
		if !vs.hasUpstream(e.u.spec.Name) || !selected(vs.spec.Tools, name) {
			continue
		}
		ov, ok := vs.spec.Overrides[name]
		if !ok {
			v.tools[name] = e
			continue
		}
		ne := *e
		if ov.Name != "" {
			ne.tool.Name = ov.Name
		}
		if ov.Title != "" {
			ne.tool.Title = ov.Title
		}
		if ov.Description != "" {
			ne.tool.Description = ov.Description
		}
		if a := ov.Annotations; a != nil {
			var na protocol.ToolAnnotations
			if e.tool.Annotations != nil {
				na = *e.tool.Annotations
			}
			if a.Title != "" {
				na.Title = a.Title
			}
			for _, f := range []struct {
				dst **bool
				src *bool
			}{
				{&na.ReadOnlyHint, a.ReadOnlyHint}, {&na.DestructiveHint, a.DestructiveHint},
				{&na.IdempotentHint, a.IdempotentHint}, {&na.OpenWorldHint, a.OpenWorldHint},
			} {
				if f.src != nil {
					b := *f.src
					*f.dst = &b
				}
			}
			ne.tool.Annotations = &na
		}
		if _, taken := v.tools[ne.tool.Name]; taken || (ne.tool.Name != name && c.tools[ne.tool.Name] != nil && selected(vs.spec.Tools, ne.tool.Name)) {
			vs.g.log.Error("virtual server: a tool override's name is taken; the tool keeps its name", "server", vs.spec.Name, "tool", name, "override", ne.tool.Name)
			ne.tool.Name = name
		}
		v.tools[ne.tool.Name] = &ne
	}
	for name, e := range c.prompts {
		if vs.hasUpstream(e.u.spec.Name) && selected(vs.spec.Prompts, name) {
			v.prompts[name] = e
		}
	}
	for uri, e := range c.resources {
		if vs.hasUpstream(e.u.spec.Name) && selected(vs.spec.Resources, uri) {
			v.resources[uri] = e
		}
	}
	for text, e := range c.templates {
		if vs.hasUpstream(e.u.spec.Name) && selected(vs.spec.Resources, text) {
			v.templates[text] = e
		}
	}
	return v
}

// rebuildVirtual applies a new catalog to every virtual server (under
// rebuildMu).
func (g *Gateway) rebuildVirtual(c *catalog) {
	for _, vs := range g.virtualList() {
		view := vs.view(c)
		reg := view
		if vs.spec.ToolMode == ToolsSearch {
			cp := *view
			cp.tools = map[string]*toolEntry{}
			reg = &cp
		}
		prev := vs.reg
		vs.srv.Batch(func() { g.applyTo(vs.srv, prev, reg) })
		if vs.spec.ToolMode == ToolsSearch {
			// applyTo kept the registered entries of unchanged tools in
			// reg; the view keeps its own.
			vs.idx.Store(g.searchIndexOf(view))
			if ann := callAnnotations(view); !sameAnnotations(ann, vs.callAnn) {
				vs.callAnn = ann
				vs.addCallTool()
			}
		}
		vs.reg = reg
		vs.cat.Store(view)
	}
}

// searchIndexOf returns the index of a view's tools, from the cache when
// the same tool set was indexed before.
func (g *Gateway) searchIndexOf(view *catalog) *searchIndex {
	names := make([]string, 0, len(view.tools))
	for n := range view.tools {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		t := view.tools[n].tool
		b, _ := json.Marshal(struct {
			N, T, D string
			S       jsontext.Value
		}{t.Name, t.Title, t.Description, t.InputSchema}, json.Deterministic(true))
		h.Write(b)
		h.Write([]byte{0})
	}
	key := hex.EncodeToString(h.Sum(nil))
	ix := g.virt.cache.Get(key, func() []toolsearch.Doc {
		docs := make([]toolsearch.Doc, len(names))
		for i, n := range names {
			t := view.tools[n].tool
			d := toolsearch.Doc{Name: t.Name, Title: t.Title, Description: t.Description}
			d.Args, d.ArgText = schemaArgs(t.InputSchema)
			docs[i] = d
		}
		return docs
	})
	return &searchIndex{ix: ix, names: names}
}

// schemaArgs returns the property names of an input schema and the text
// of their descriptions.
func schemaArgs(schema jsontext.Value) ([]string, string) {
	var s struct {
		Properties map[string]struct {
			Description string `json:"description"`
		} `json:"properties"`
	}
	if json.Unmarshal(schema, &s, json.RejectUnknownMembers(false)) != nil {
		return nil, ""
	}
	var names []string
	var text strings.Builder
	for n, p := range s.Properties {
		names = append(names, n)
		text.WriteString(p.Description)
		text.WriteByte(' ')
	}
	sort.Strings(names)
	return names, text.String()
}

// SearchIndexBuilds returns how many tool-search indexes the gateway has
// built (once per version of a search-mode virtual server's tool set).
func (g *Gateway) SearchIndexBuilds() int64 { return g.virt.cache.Builds() }

func ptr[T any](v T) *T { return &v }

// callAnnotations are call_tool's honest annotations for the tools of
// view: read-only if every tool is, destructive if any may be,
// idempotent if every tool is, open-world if any is.
func callAnnotations(view *catalog) protocol.ToolAnnotations {
	ro, destructive, idem, open := true, false, true, false
	for _, e := range view.tools {
		t := &e.tool
		r := t.Annotations != nil && t.Annotations.ReadOnlyHint != nil && *t.Annotations.ReadOnlyHint
		ro = ro && r
		if !r {
			d := t.Annotations == nil || t.Annotations.DestructiveHint == nil || *t.Annotations.DestructiveHint
			destructive = destructive || d
			idem = idem && t.Annotations != nil && t.Annotations.IdempotentHint != nil && *t.Annotations.IdempotentHint
		}
		open = open || t.Annotations == nil || t.Annotations.OpenWorldHint == nil || *t.Annotations.OpenWorldHint
	}
	return protocol.ToolAnnotations{Title: "Call a tool", ReadOnlyHint: ptr(ro), DestructiveHint: ptr(destructive), IdempotentHint: ptr(idem), OpenWorldHint: ptr(open)}
}

func sameAnnotations(a, b protocol.ToolAnnotations) bool {
	eq := func(x, y *bool) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Title == b.Title && eq(a.ReadOnlyHint, b.ReadOnlyHint) && eq(a.DestructiveHint, b.DestructiveHint) &&
		eq(a.IdempotentHint, b.IdempotentHint) && eq(a.OpenWorldHint, b.OpenWorldHint)
}

// Defaults of find_tools.
const (
	defaultFindLimit = 8
	maxFindLimit     = 50
)

func (vs *virtualServer) addMetaTools() {
	desc := "Find this server's tools for a task. Give a few keywords (what you want to do, the system it concerns); " +
		"get the best-matching tools with their input schemas, then call one with " + CallToolName + "."
	if vs.spec.SearchHint != "" {
		desc += " " + vs.spec.SearchHint
	}
	vs.srv.AddTool(&protocol.Tool{
		Name:        FindToolsName,
		Title:       "Find tools",
		Description: desc,
		InputSchema: jsontext.Value(`{"type":"object","properties":{"query":{"type":"string","description":"Keywords describing the task"},"limit":{"type":"integer","minimum":1,"maximum":50,"description":"Most tools to return (default 8)"}},"required":["query"]}`),
		Annotations: &protocol.ToolAnnotations{Title: "Find tools", ReadOnlyHint: ptr(true), DestructiveHint: ptr(false), IdempotentHint: ptr(true), OpenWorldHint: ptr(false)},
	}, vs.findTools)
	vs.callAnn = callAnnotations(&catalog{})
	vs.addCallTool()
}

func (vs *virtualServer) addCallTool() {
	ann := vs.callAnn
	vs.srv.AddTool(&protocol.Tool{
		Name:        CallToolName,
		Title:       "Call a tool",
		Description: "Call a tool found with " + FindToolsName + ", by its name, with arguments that follow its input schema.",
		InputSchema: jsontext.Value(`{"type":"object","properties":{"name":{"type":"string","description":"The tool's name, as find_tools gave it"},"arguments":{"type":"object","description":"The tool's arguments"}},"required":["name"]}`),
		Annotations: &ann,
	}, vs.callTool, mcp.WithoutValidation())
}

// foundTool is one result of find_tools.
type foundTool struct {
	Name        string                    `json:"name"`
	Title       string                    `json:"title,omitzero"`
	Description string                    `json:"description,omitzero"`
	InputSchema jsontext.Value            `json:"inputSchema,omitzero"`
	Annotations *protocol.ToolAnnotations `json:"annotations,omitzero"`
}

func (vs *virtualServer) findTools(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
	var in struct {
		Query string `json:"query"`
		Limit int    `json:"limit"`
	}
	if len(call.Arguments) > 0 {
		if err := json.Unmarshal(call.Arguments, &in, json.RejectUnknownMembers(false)); err != nil {
			return mcp.ErrorResult(fmt.Errorf("find_tools: arguments: %v", err)), nil
		}
	}
	if strings.TrimSpace(in.Query) == "" {
		return mcp.ErrorResult(fmt.Errorf("find_tools: give a query: a few keywords describing the task")), nil
	}
	if in.Limit <= 0 {
		in.Limit = defaultFindLimit
	}
	in.Limit = min(in.Limit, maxFindLimit)
	si := vs.idx.Load()
	view := vs.cat.Load()
	var found []foundTool
	if si != nil {
		judge := vs.g.opts.Hooks.Authorize != nil || vs.spec.Authorize != nil
		for _, r := range si.ix.Search(in.Query, in.Limit, func(i int) bool {
			e, ok := view.tools[si.names[i]]
			return ok && (!judge || vs.g.visibleIn(ctx, req, &e.tool, view))
		}) {
			t := view.tools[si.names[r.Index]].tool
			found = append(found, foundTool{Name: t.Name, Title: t.Title, Description: t.Description, InputSchema: t.InputSchema, Annotations: t.Annotations})
		}
	}
	if found == nil {
		found = []foundTool{}
	}
	structured, err := json.Marshal(struct {
		Tools []foundTool `json:"tools"`
	}{found}, json.Deterministic(true))
	if err != nil {
		return nil, err
	}
	text := string(structured)
	if len(found) == 0 {
		text = "No tool matches " + fmt.Sprintf("%q", in.Query) + ". Try other keywords."
	}
	return &protocol.CallToolResult{Content: []protocol.Content{&protocol.TextContent{Text: text}}, StructuredContent: structured}, nil
}

func (vs *virtualServer) callTool(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
	var in struct {
		Name      string         `json:"name"`
		Arguments jsontext.Value `json:"arguments"`
	}
	if len(call.Arguments) > 0 {
		if err := json.Unmarshal(call.Arguments, &in, json.RejectUnknownMembers(false)); err != nil {
			return mcp.ErrorResult(fmt.Errorf("call_tool: arguments: %v", err)), nil
		}
	}
	e, ok := vs.cat.Load().tools[in.Name]
	if !ok {
		return mcp.ErrorResult(fmt.Errorf("call_tool: no tool is named %q here; use %s to find one", truncate(in.Name, 200), FindToolsName)), nil
	}
	return vs.g.callTool(ctx, req, &protocol.CallToolRequestParams{Name: in.Name, Arguments: in.Arguments, Meta: call.Meta}, e)
}

// VirtualServer returns the front server of the virtual server called
// name, to serve it over a transport of one's choice (Mount serves it at
// /v/NAME/mcp), or nil.
func (g *Gateway) VirtualServer(name string) *mcp.Server {
	for _, vs := range g.virtualList() {
		if vs.spec.Name == name {
			return vs.srv
		}
	}
	return nil
}

// VirtualServerNames returns the names of the virtual servers, in the
// order of Options.VirtualServers.
func (g *Gateway) VirtualServerNames() []string {
	var out []string
	for _, vs := range g.virtualList() {
		out = append(out, vs.spec.Name)
	}
	return out
}

// VirtualHandler returns the Streamable HTTP handler of the virtual
// server called name (wrapped in its HTTPMiddleware), or nil.
func (g *Gateway) VirtualHandler(name string) http.Handler {
	for _, vs := range g.virtualList() {
		if vs.spec.Name != name {
			continue
		}
		vs.httpOnce.Do(func() {
			g.virt.mu.Lock()
			closed := g.virt.closed
			g.virt.mu.Unlock()
			if closed {
				return
			}
			o := g.opts.HTTP
			if o == nil {
				o = &streamable.Options{}
			}
			if o.Logger == nil {
				c := *o
				c.Logger = g.log
				o = &c
			}
			vs.stream = streamable.NewHandler(g.sessionFactory(vs.srv), o)
		})
		if vs.stream == nil {
			return http.NotFoundHandler()
		}
		var h http.Handler = vs.stream
		if vs.spec.HTTPMiddleware != nil {
			h = vs.spec.HTTPMiddleware(h)
		}
		return h
	}
	return nil
}

// mountVirtual adds the virtual servers' endpoints to mux.
func (g *Gateway) mountVirtual(mux *http.ServeMux) {
	for _, name := range g.VirtualServerNames() {
		mux.Handle(PathVirtual+name+PathMCP, g.VirtualHandler(name))
	}
}

// closeVirtual closes the virtual servers and their transports.
func (g *Gateway) closeVirtual() {
	g.virt.mu.Lock()
	g.virt.closed = true
	list := g.virt.list
	g.virt.mu.Unlock()
	for _, vs := range list {
		vs.httpOnce.Do(func() {})
		if vs.stream != nil {
			vs.stream.Close()
		}
		vs.srv.Close()
	}
}
