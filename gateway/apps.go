package gateway

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// MCP Apps (the io.modelcontextprotocol/ui extension, stable 2026-01-26)
// through the gateway: ui:// URIs are rewritten per upstream with the
// scheme kept (catalog.go), everywhere they appear — resource lists and
// reads, a tool's _meta.ui.resourceUri and the deprecated flat
// _meta["ui/resourceUri"], tool results' _meta, resource links and
// embedded resources — and mapped back on read; tools visible to apps
// only stay out of tools/list but can be called; a tool whose ui://
// resource a caller may not read loses the reference in that caller's
// list; the extension is declared only when an upstream declares it.

// ExtensionUI is the identifier of the MCP Apps extension (the same as
// apps.ExtensionID).
const ExtensionUI = apps.ExtensionID

// Keys of tool _meta that MCP Apps uses.
const (
	metaUI         = "ui"
	metaUIFlat     = "ui/resourceUri" // deprecated, still in use
	metaResourceID = "resourceUri"
)

// uiMeta returns a copy of m's "ui" object, if it has one.
func uiMeta(m protocol.Meta) (map[string]any, bool) {
	ui, ok := m[metaUI].(map[string]any)
	if !ok {
		return nil, false
	}
	return maps.Clone(ui), true
}

// toolUIResource returns the ui:// resource a tool declares (the current
// key first, then the deprecated flat one).
func toolUIResource(t *protocol.Tool) string {
	if ui, ok := uiMeta(t.Meta); ok {
		if s, ok := ui[metaResourceID].(string); ok {
			return s
		}
	}
	s, _ := t.Meta[metaUIFlat].(string)
	return s
}

// appOnly reports whether a tool is visible to apps only
// (_meta.ui.visibility is ["app"]).
func appOnly(t *protocol.Tool) bool {
	ui, ok := uiMeta(t.Meta)
	if !ok {
		return false
	}
	vis, ok := ui["visibility"].([]any)
	if !ok || len(vis) == 0 {
		return false
	}
	return !slices.ContainsFunc(vis, func(v any) bool { return v == "model" })
}

// exposeToolMeta returns the tool's _meta with its ui:// references
// mapped to the exposed URIs.
func exposeToolMeta(c *catalog, u *upstream, m protocol.Meta) protocol.Meta {
	if m == nil {
		return nil
	}
	ui, hasUI := uiMeta(m)
	flat, hasFlat := m[metaUIFlat].(string)
	if !hasUI && !hasFlat {
		return m
	}
	out := maps.Clone(m)
	if hasUI {
		if s, ok := ui[metaResourceID].(string); ok {
			ui[metaResourceID] = c.exposeURI(u, s)
		}
		out[metaUI] = ui
	}
	if hasFlat {
		out[metaUIFlat] = c.exposeURI(u, flat)
	}
	return out
}

// stripUIReference returns a copy of t without its ui:// references.
func stripUIReference(t *protocol.Tool) *protocol.Tool {
	c := *t
	c.Meta = maps.Clone(t.Meta)
	delete(c.Meta, metaUIFlat)
	if ui, ok := uiMeta(t.Meta); ok {
		delete(ui, metaResourceID)
		if len(ui) == 0 {
			delete(c.Meta, metaUI)
		} else {
			c.Meta[metaUI] = ui
		}
	}
	if len(c.Meta) == 0 {
		c.Meta = nil
	}
	return &c
}

// listFilter is the front server's list filter: Hooks.Authorize decides
// what shows; tools for apps only never show; a tool whose ui:// resource
// the caller may not read shows without the reference.
func (g *Gateway) listFilter(ctx context.Context, r *mcp.Request, item any) any {
	if t, ok := item.(*protocol.Tool); ok && appOnly(t) {
		return nil
	}
	if !g.visible(ctx, r, item) {
		return nil
	}
	t, ok := item.(*protocol.Tool)
	if !ok || g.opts.Hooks.Authorize == nil {
		return item
	}
	uri := toolUIResource(t)
	if uri == "" {
		return item
	}
	c := g.cat.Load()
	e, ok := c.resources[uri]
	if !ok {
		return item
	}
	a := &Access{Method: protocol.MethodResourcesRead, Listing: true, Request: r, Kind: "resource", Name: uri, Original: e.orig, Upstream: e.u.spec.Name}
	if g.authorize(ctx, a) != nil {
		return stripUIReference(t)
	}
	return item
}

// editCapabilities declares the MCP Apps extension when an upstream
// declares it.
func (g *Gateway) editCapabilities(version string, c *protocol.ServerCapabilities) {
	for _, u := range g.upstreamList() {
		u.mu.Lock()
		ext, ok := u.lists.caps.Extensions[ExtensionUI]
		u.mu.Unlock()
		if ok {
			if c.Extensions == nil {
				c.Extensions = map[string]jsontext.Value{}
			}
			c.Extensions[ExtensionUI] = ext
			return
		}
	}
}

// exposeResultURIs maps the ui:// and other rewritten URIs of a raw tool
// result (resource links, embedded resources, _meta) to the exposed ones.
// The result is re-encoded only when it holds a URI to map.
func (g *Gateway) exposeResultURIs(u *upstream, raw jsontext.Value) jsontext.Value {
	c := g.cat.Load()
	if len(c.rewritten[u]) == 0 && !(c.multi && strings.Contains(string(raw), "ui://")) {
		return raw
	}
	var res map[string]any
	if json.Unmarshal(raw, &res) != nil {
		return raw
	}
	changed := false
	mapURI := func(m map[string]any, key string) {
		if s, ok := m[key].(string); ok {
			if e := c.exposeURI(u, s); e != s {
				m[key] = e
				changed = true
			}
		}
	}
	if content, ok := res["content"].([]any); ok {
		for _, item := range content {
			b, ok := item.(map[string]any)
			if !ok {
				continue
			}
			switch b["type"] {
			case "resource_link":
				mapURI(b, "uri")
			case "resource":
				if r, ok := b["resource"].(map[string]any); ok {
					mapURI(r, "uri")
				}
			}
		}
	}
	if meta, ok := res["_meta"].(map[string]any); ok {
		if ui, ok := meta[metaUI].(map[string]any); ok {
			mapURI(ui, metaResourceID)
		}
		mapURI(meta, metaUIFlat)
	}
	if !changed {
		return raw
	}
	out, err := json.Marshal(res, json.Deterministic(true))
	if err != nil {
		return raw
	}
	return out
}

// pinnedDomain reports the upstream resources that pin _meta.ui.domain,
// which cannot survive re-exposure under the gateway's URL.
func pinnedDomain(r *protocol.Resource) (string, bool) {
	ui, ok := uiMeta(r.Meta)
	if !ok {
		return "", false
	}
	d, ok := ui["domain"].(string)
	return d, ok && d != ""
}
