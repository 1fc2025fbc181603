package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/yosida95/uritemplate/v3"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// The catalog is what the gateway exposes: every upstream's tools,
// prompts, resources and templates under their exposed names, registered
// in the front server. It is rebuilt from the upstreams' lists whenever
// one changes, and applied to the front server as a diff inside one Batch,
// so that clients get one list_changed per kind.

type toolEntry struct {
	u    *upstream
	orig string
	tool protocol.Tool // with the exposed name
}

type promptEntry struct {
	u      *upstream
	orig   string
	prompt protocol.Prompt
}

type resourceEntry struct {
	u    *upstream
	orig string
	res  protocol.Resource
}

type templateEntry struct {
	u    *upstream
	orig string
	tmpl protocol.ResourceTemplate
}

type catalog struct {
	tools      map[string]*toolEntry
	prompts    map[string]*promptEntry
	resources  map[string]*resourceEntry
	templates  map[string]*templateEntry
	collisions []Collision
	// rewritten holds, per upstream, the original resource URIs and
	// template texts exposed under rewritten URIs.
	rewritten map[*upstream]map[string]bool
	// multi: more than one upstream is enabled (ui:// URIs are rewritten).
	multi bool
	// notices are warnings about what the gateway exposes (an app pinning
	// its domain).
	notices []string
}

// Collision is an exposed name claimed by more than one upstream. Neither
// upstream's feature is exposed under it: names are never silently
// shadowed.
type Collision struct {
	// Kind is "tool", "prompt", "resource" or "resource template".
	Kind string `json:"kind"`
	// Name is the exposed name (or URI).
	Name string `json:"name"`
	// Upstreams are the upstreams that claim it, sorted.
	Upstreams []string `json:"upstreams"`
}

func (c Collision) String() string {
	return fmt.Sprintf("%s %q is exposed by upstreams %s; none of them is served under that name (give one of them a prefix)", c.Kind, c.Name, strings.Join(c.Upstreams, ", "))
}

// maxToolName is the longest tool name the revisions allow.
const maxToolName = 128

// validToolChar reports whether c may appear in a tool name (revision
// 2025-11-25: A-Z, a-z, 0-9, underscore, hyphen and dot).
func validToolChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// SanitizePrefix returns the default naming prefix of an upstream called
// name: name with every character that a tool name cannot hold replaced by
// "-".
func SanitizePrefix(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !validToolChar(c) {
			b[i] = '-'
		}
	}
	return string(b)
}

// ExposedToolName returns the name under which a tool called name is
// exposed with the given prefix and separator. It is a pure function:
// prefix + separator + name (name alone when prefix is empty), with every
// character a tool name cannot hold replaced by "_", and, when longer than
// 128 characters, cut to 119 and ended with "_" and 8 hexadecimal digits
// of the SHA-256 of the uncut name.
func ExposedToolName(prefix, sep, name string) string {
	full := name
	if prefix != "" {
		full = prefix + sep + name
	}
	b := []byte(full)
	for i, c := range b {
		if !validToolChar(c) {
			b[i] = '_'
		}
	}
	if len(b) > maxToolName {
		sum := sha256.Sum256([]byte(full))
		b = append(b[:maxToolName-9], '_')
		b = append(b, hex.EncodeToString(sum[:4])...)
	}
	return string(b)
}

// ExposedPromptName returns the name under which a prompt is exposed:
// prefix + separator + name, or name alone when prefix is empty.
func ExposedPromptName(prefix, sep, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + sep + name
}

// RewriteURI returns the URI under which the gateway exposes uri of the
// upstream whose URI segment is seg, when it must rewrite it (the same
// URI comes from several upstreams, or a ui:// URI with several upstreams):
// the scheme is kept and seg becomes the first segment after it,
//
//	scheme://rest  ->  scheme://seg/rest
//	scheme:rest    ->  scheme:seg/rest
//
// so that ui://widget/app.html of upstream "weather" is exposed as
// ui://weather/widget/app.html. UnrewriteURI is its inverse.
func RewriteURI(seg, uri string) string {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok {
		return seg + "/" + uri
	}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		return scheme + "://" + seg + "/" + after
	}
	return scheme + ":" + seg + "/" + rest
}

// UnrewriteURI undoes RewriteURI: it returns the original URI and true
// when uri was rewritten for seg.
func UnrewriteURI(seg, uri string) (string, bool) {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok {
		after, ok := strings.CutPrefix(uri, seg+"/")
		return after, ok
	}
	if after, ok := strings.CutPrefix(rest, "//"+seg+"/"); ok {
		return scheme + "://" + after, true
	}
	if after, ok := strings.CutPrefix(rest, seg+"/"); ok {
		return scheme + ":" + after, true
	}
	return "", false
}

// rebuild recomputes the catalog from the upstreams' lists and applies
// the difference to the front server.
func (g *Gateway) rebuild() {
	g.rebuildMu.Lock()
	defer g.rebuildMu.Unlock()
	ups := g.upstreamList()
	next := g.compute(ups)
	if g.opts.Hooks.Catalog != nil {
		g.opts.Hooks.Catalog(next.catalogTools())
	}
	prev := g.cat.Load()
	g.front.Batch(func() { g.apply(prev, next) })
	g.cat.Store(next)
	g.rebuildVirtual(next)
	for _, c := range next.collisions {
		if !slices.ContainsFunc(prev.collisions, func(p Collision) bool { return reflect.DeepEqual(p, c) }) {
			g.log.Error("name collision", "collision", c.String())
		}
	}
	for _, n := range next.notices {
		if !slices.Contains(prev.notices, n) {
			g.log.Warn(n)
		}
	}
}

// compute builds the catalog of the given upstreams.
func (g *Gateway) compute(ups []*upstream) *catalog {
	c := &catalog{
		tools:     map[string]*toolEntry{},
		prompts:   map[string]*promptEntry{},
		resources: map[string]*resourceEntry{},
		templates: map[string]*templateEntry{},
		rewritten: map[*upstream]map[string]bool{},
	}
	enabled := len(ups) // configured upstreams, disabled ones included
	live := 0
	for _, u := range ups {
		if !u.spec.Disabled {
			live++
		}
	}
	c.multi = live > 1
	sep := g.separator()
	claims := map[string][]string{} // "kind\x00name" -> upstream names

	type listed struct {
		u *upstream
		l upstreamLists
	}
	var all []listed
	for _, u := range ups {
		prefix := g.prefixOf(u, enabled)
		u.mu.Lock()
		u.prefix = prefix
		l, st := u.lists, u.state
		u.mu.Unlock()
		if st == StateDisabled || st == StateStopped || l.fetched.IsZero() {
			continue
		}
		all = append(all, listed{u, l})
	}

	// URIs and template texts listed by several upstreams are rewritten.
	uriCount := map[string]int{}
	for _, x := range all {
		seen := map[string]bool{}
		for _, r := range x.l.resources {
			if !seen[r.URI] {
				seen[r.URI] = true
				uriCount[r.URI]++
			}
		}
		for _, t := range x.l.templates {
			if !seen[t.URITemplate] {
				seen[t.URITemplate] = true
				uriCount[t.URITemplate]++
			}
		}
	}
	expose := func(u *upstream, uri string) string {
		if uriCount[uri] > 1 || (c.multi && strings.HasPrefix(uri, "ui://")) {
			if c.rewritten[u] == nil {
				c.rewritten[u] = map[string]bool{}
			}
			c.rewritten[u][uri] = true
			return RewriteURI(u.uriPrefix, uri)
		}
		return uri
	}

	for _, x := range all {
		u := x.u
		prefix := g.prefixOf(u, enabled)
		for _, r := range x.l.resources {
			if r.URI == "" || r.Name == "" {
				u.log.Warn("skipping a resource without uri or name", "uri", truncate(r.URI, 200))
				continue
			}
			uri := expose(u, r.URI)
			if d, ok := pinnedDomain(&r); ok && c.multi {
				c.notices = append(c.notices, fmt.Sprintf("upstream %q: resource %s pins _meta.ui.domain %q, which hosts tie to the upstream's own URL: its app may not render through the gateway", u.spec.Name, r.URI, d))
			}
			claims["resource\x00"+uri] = append(claims["resource\x00"+uri], u.spec.Name)
			e := &resourceEntry{u: u, orig: r.URI, res: r}
			e.res.URI = uri
			c.resources[uri] = e
		}
		for _, t := range x.l.templates {
			if t.URITemplate == "" || t.Name == "" {
				u.log.Warn("skipping a resource template without uriTemplate or name", "uriTemplate", truncate(t.URITemplate, 200))
				continue
			}
			text := expose(u, t.URITemplate)
			if _, err := uritemplate.New(text); err != nil {
				u.log.Warn("skipping a resource template that does not parse", "uriTemplate", truncate(t.URITemplate, 200), "err", err)
				continue
			}
			claims["resource template\x00"+text] = append(claims["resource template\x00"+text], u.spec.Name)
			e := &templateEntry{u: u, orig: t.URITemplate, tmpl: t}
			e.tmpl.URITemplate = text
			c.templates[text] = e
		}
		for _, t := range x.l.tools {
			name := ExposedToolName(prefix, sep, t.Name)
			claims["tool\x00"+name] = append(claims["tool\x00"+name], u.spec.Name)
			e := &toolEntry{u: u, orig: t.Name, tool: t}
			e.tool.Name = name
			e.tool.Meta = exposeToolMeta(c, u, t.Meta)
			c.tools[name] = e
		}
		for _, p := range x.l.prompts {
			name := ExposedPromptName(prefix, sep, p.Name)
			claims["prompt\x00"+name] = append(claims["prompt\x00"+name], u.spec.Name)
			e := &promptEntry{u: u, orig: p.Name, prompt: p}
			e.prompt.Name = name
			c.prompts[name] = e
		}
	}

	keys := make([]string, 0, len(claims))
	for k, v := range claims {
		if len(v) > 1 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		kind, name, _ := strings.Cut(k, "\x00")
		owners := slices.Clone(claims[k])
		sort.Strings(owners)
		owners = slices.Compact(owners)
		c.collisions = append(c.collisions, Collision{Kind: kind, Name: name, Upstreams: owners})
		switch kind {
		case "tool":
			delete(c.tools, name)
		case "prompt":
			delete(c.prompts, name)
		case "resource":
			delete(c.resources, name)
		case "resource template":
			delete(c.templates, name)
		}
	}
	return c
}

// prefixOf returns the naming prefix of u among configured upstreams
// (disabled ones count, so that disabling one does not rename the
// others' tools). An upstream's own Prefix wins in every mode.
func (g *Gateway) prefixOf(u *upstream, configured int) string {
	if u.spec.Prefix != nil {
		return *u.spec.Prefix
	}
	switch g.naming() {
	case NamingNever:
		return ""
	case NamingAuto:
		if configured <= 1 {
			return ""
		}
	}
	return SanitizePrefix(u.spec.Name)
}

// apply registers in the front server what next adds or changes and
// removes what it drops. It runs inside a Batch.
func (g *Gateway) apply(prev, next *catalog) { g.applyTo(g.front, prev, next) }

// applyTo is apply for a server of one's choice (the front server, or a
// virtual server's).
func (g *Gateway) applyTo(srv *mcp.Server, prev, next *catalog) {
	if gone := removed(prev.tools, next.tools); len(gone) > 0 {
		srv.RemoveTools(gone...)
	}
	if gone := removed(prev.prompts, next.prompts); len(gone) > 0 {
		srv.RemovePrompts(gone...)
	}
	if gone := append(removed(prev.resources, next.resources), removed(prev.templates, next.templates)...); len(gone) > 0 {
		srv.RemoveResources(gone...)
	}
	added(prev.tools, next.tools, func(a, b *toolEntry) bool { return reflect.DeepEqual(a.tool, b.tool) }, func(e *toolEntry) {
		tool := e.tool
		srv.AddTool(&tool, func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return g.callTool(ctx, req, call, e)
		}, mcp.WithoutValidation())
	})
	added(prev.prompts, next.prompts, func(a, b *promptEntry) bool { return reflect.DeepEqual(a.prompt, b.prompt) }, func(e *promptEntry) {
		prompt := e.prompt
		srv.AddPrompt(&prompt, func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
			return g.getPrompt(ctx, req, args, e)
		})
	})
	added(prev.resources, next.resources, func(a, b *resourceEntry) bool { return reflect.DeepEqual(a.res, b.res) }, func(e *resourceEntry) {
		res := e.res
		srv.AddResource(&res, func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return g.readResource(ctx, req, e.u, uri, e.orig)
		})
	})
	added(prev.templates, next.templates, func(a, b *templateEntry) bool { return reflect.DeepEqual(a.tmpl, b.tmpl) }, func(e *templateEntry) {
		tmpl := e.tmpl
		srv.AddResourceTemplate(&tmpl, func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			orig := uri
			if e.tmpl.URITemplate != e.orig {
				if o, ok := UnrewriteURI(e.u.uriPrefix, uri); ok {
					orig = o
				}
			}
			return g.readResource(ctx, req, e.u, uri, orig)
		})
	})
}

// catalogEntry is what every kind of catalog entry has.
type catalogEntry interface {
	upstreamOf() *upstream
	origName() string
}

func (e *toolEntry) upstreamOf() *upstream     { return e.u }
func (e *toolEntry) origName() string          { return e.orig }
func (e *promptEntry) upstreamOf() *upstream   { return e.u }
func (e *promptEntry) origName() string        { return e.orig }
func (e *resourceEntry) upstreamOf() *upstream { return e.u }
func (e *resourceEntry) origName() string      { return e.orig }
func (e *templateEntry) upstreamOf() *upstream { return e.u }
func (e *templateEntry) origName() string      { return e.orig }

// removed returns the names of prev that next no longer has.
func removed[E any](prev, next map[string]E) []string {
	var gone []string
	for name := range prev {
		if _, ok := next[name]; !ok {
			gone = append(gone, name)
		}
	}
	return gone
}

// added registers (with add) each entry of next that is new or changed
// since prev; an unchanged entry keeps the one already registered, whose
// handler is the same.
func added[E catalogEntry](prev, next map[string]E, same func(a, b E) bool, add func(E)) {
	for name, e := range next {
		if p, ok := prev[name]; ok && p.upstreamOf() == e.upstreamOf() && p.origName() == e.origName() && same(p, e) {
			next[name] = p
			continue
		}
		add(e)
	}
}

// exposeURI returns the URI under which the catalog exposes uri of u.
func (c *catalog) exposeURI(u *upstream, uri string) string {
	if c.rewritten[u][uri] || (c.multi && strings.HasPrefix(uri, "ui://")) {
		return RewriteURI(u.uriPrefix, uri)
	}
	return uri
}

// resolveURI finds the upstream and original URI of an exposed URI that
// no listed resource or template matched.
func (g *Gateway) resolveURI(uri string) (*upstream, string, bool) {
	c := g.cat.Load()
	if e, ok := c.resources[uri]; ok {
		return e.u, e.orig, true
	}
	ups := g.upstreamList()
	for _, u := range ups {
		if orig, ok := UnrewriteURI(u.uriPrefix, uri); ok && (len(c.rewritten[u]) > 0 || (c.multi && strings.HasPrefix(orig, "ui://"))) {
			return u, orig, true
		}
	}
	// Not rewritten: the one upstream that has resources, if there is one.
	var only *upstream
	for _, u := range ups {
		u.mu.Lock()
		has := u.lists.caps.Resources != nil
		u.mu.Unlock()
		if has {
			if only != nil {
				return nil, "", false
			}
			only = u
		}
	}
	return only, uri, only != nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("…(%d bytes)", len(s))
}
