// Package apps declares MCP Apps (the io.modelcontextprotocol/ui extension,
// stable revision 2026-01-26) on a Switchboard server, checks what a server
// declares, and builds the Content-Security-Policy a host applies to a
// view.
//
// An app is two MCP primitives tied together: a ui:// resource whose
// content is an HTML5 document (mime type text/html;profile=mcp-app), and
// a tool whose _meta.ui.resourceUri names it. A host that supports the
// extension renders the resource in a sandboxed iframe when the tool is
// called, and passes the tool's input and result to it; a host that does
// not shows the tool's content as usual, so a tool must still return
// meaningful content.
//
//	s := mcp.NewServer(info, apps.Declare(nil))
//	apps.MustAddResource(s, apps.Resource{URI: "ui://counter/view.html", Name: "counter", HTML: page})
//	apps.AddTool(s, &protocol.Tool{Name: "show_counter"}, apps.ToolMeta{ResourceURI: "ui://counter/view.html"},
//		func(ctx context.Context, req *mcp.Request, in Empty) (apps.Result[Count], error) {
//			return apps.Result[Count]{Text: "The counter is at 3.", Data: Count{3}}, nil
//		})
//
// Validate (an in-process server) and ValidateSession (a live session)
// check a server against the static rules of the official validator
// (APP-001 to APP-011); package apps/appstest wraps them for tests.
package apps

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonschema"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Identifiers of the extension.
const (
	// ExtensionID is the extension's identifier, the key of its entry in
	// the capabilities' extensions.
	ExtensionID = "io.modelcontextprotocol/ui"
	// MIMEType is the mime type of an app's HTML resource.
	MIMEType = "text/html;profile=mcp-app"
	// Scheme starts the URI of every app resource.
	Scheme = "ui://"
	// ProtocolVersion is the revision of the host↔view protocol.
	ProtocolVersion = "2026-01-26"
)

// Keys of _meta that the extension uses.
const (
	// MetaUI is the _meta key of a tool's ToolMeta and a resource's
	// ResourceMeta.
	MetaUI = "ui"
	// MetaResourceURIFlat is the deprecated flat tool _meta key that names
	// the resource ("removed before GA" says the spec, but hosts released
	// before 2026 read only it; the official SDK still writes both).
	MetaResourceURIFlat = "ui/resourceUri"
	// MetaAppOriginated marks a tools/call that an app's view made: a host
	// sets it in the request's _meta (the Switchboard console sets it to
	// an object naming the upstream and the ui:// resource) so that the
	// gateway's events tell such calls apart (gateway.Event.AppOriginated).
	// It is a label for audit, not a proof: any client can set it.
	MetaAppOriginated = "switchboard/app-originated"
)

// Visibility says who may see and call a tool.
type Visibility string

// Visibilities.
const (
	// VisibilityModel: the tool is listed to the model and callable by it.
	VisibilityModel Visibility = "model"
	// VisibilityApp: the tool is callable by the apps of the same server.
	VisibilityApp Visibility = "app"
)

// ToolMeta is a tool's _meta.ui.
type ToolMeta struct {
	// ResourceURI is the ui:// resource the host renders for the tool.
	ResourceURI string `json:"resourceUri,omitzero"`
	// Visibility lists who may use the tool; empty means both the model
	// and the app. A tool for the app only ([app]) is kept out of the
	// model's tool list.
	Visibility []Visibility `json:"visibility,omitzero"`
}

// CSP lists the origins a view may reach beyond its own document. Each
// entry is an origin such as https://api.example.com or
// https://*.example.com (see ParseOrigin). Empty lists allow nothing.
type CSP struct {
	// ConnectDomains: fetch, XHR and WebSocket (connect-src).
	ConnectDomains []string `json:"connectDomains,omitzero"`
	// ResourceDomains: scripts, styles, images, fonts and media.
	ResourceDomains []string `json:"resourceDomains,omitzero"`
	// FrameDomains: nested iframes (frame-src).
	FrameDomains []string `json:"frameDomains,omitzero"`
	// BaseURIDomains: the document's base URI (base-uri).
	BaseURIDomains []string `json:"baseUriDomains,omitzero"`
}

// Permission is a browser capability a view asks for; the host may grant
// it through the iframe's allow attribute.
type Permission struct{}

// Permissions are the browser capabilities a view asks for. A non-nil
// field asks for the capability (it is sent as {}).
type Permissions struct {
	// Camera asks for the camera (Permissions Policy "camera").
	Camera *Permission `json:"camera,omitzero"`
	// Microphone asks for the microphone ("microphone").
	Microphone *Permission `json:"microphone,omitzero"`
	// Geolocation asks for the location ("geolocation").
	Geolocation *Permission `json:"geolocation,omitzero"`
	// ClipboardWrite asks to write the clipboard ("clipboard-write").
	ClipboardWrite *Permission `json:"clipboardWrite,omitzero"`
}

// ResourceMeta is a UI resource's _meta.ui, on its resources/list entry
// and on its resources/read content (where hosts look first).
type ResourceMeta struct {
	// CSP lists the origins the view needs; nil means none (the host
	// applies the spec's restrictive default).
	CSP *CSP `json:"csp,omitzero"`
	// Permissions the view asks for.
	Permissions *Permissions `json:"permissions,omitzero"`
	// Domain asks for a dedicated sandbox origin; its format is the
	// host's. A gateway that re-exposes the server under another URL
	// breaks a domain derived from the server's URL.
	Domain string `json:"domain,omitzero"`
	// PrefersBorder asks the host for a border and background (true) or
	// none (false); nil lets the host decide.
	PrefersBorder *bool `json:"prefersBorder,omitzero"`
}

// Bool returns a pointer to b, for ResourceMeta.PrefersBorder.
func Bool(b bool) *bool { return &b }

// asMeta turns v into the generic form of a _meta value.
func asMeta(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the types above always marshal
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

// Meta returns m as the value of a resource's _meta.
func (m *ResourceMeta) Meta() protocol.Meta {
	if m == nil {
		return nil
	}
	return protocol.Meta{MetaUI: asMeta(m)}
}

// Resource is an app's UI resource.
type Resource struct {
	// URI must start with ui://.
	URI string
	// Name is the resource's programmatic name; Title and Description
	// describe it for people.
	Name, Title, Description string
	// HTML is the view: one HTML5 document, usually with its scripts and
	// styles inline.
	HTML string
	// Load, if set, returns the HTML at each read instead (a template
	// filled per request, a file read from disk).
	Load func(ctx context.Context, req *mcp.Request) (string, error)
	// Meta is the resource's _meta.ui: CSP, permissions, domain, border.
	Meta *ResourceMeta
}

// AddResource registers an app's UI resource: its resources/list entry
// and its resources/read content both carry MIMEType and r.Meta. It
// refuses a URI that does not start with ui://, a static HTML that is not
// an HTML5 document, and a CSP entry that is not a well-formed origin.
func AddResource(s *mcp.Server, r Resource) error {
	if !strings.HasPrefix(r.URI, Scheme) {
		return fmt.Errorf("apps: resource %q: the URI must start with %s", r.URI, Scheme)
	}
	if r.Name == "" {
		return fmt.Errorf("apps: resource %q: a name is required", r.URI)
	}
	if r.Load == nil && !LooksLikeHTMLDocument(r.HTML) {
		return fmt.Errorf("apps: resource %q: the HTML must be an HTML5 document (start with <!doctype html> or <html>)", r.URI)
	}
	if r.Meta != nil && r.Meta.CSP != nil {
		if bad := r.Meta.CSP.Invalid(); len(bad) > 0 {
			return fmt.Errorf("apps: resource %q: CSP entries that are not origins: %s", r.URI, strings.Join(bad, ", "))
		}
	}
	meta := r.Meta.Meta()
	s.AddResource(&protocol.Resource{URI: r.URI, Name: r.Name, Title: r.Title, Description: r.Description, MIMEType: MIMEType, Meta: meta},
		func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			html := r.HTML
			if r.Load != nil {
				var err error
				if html, err = r.Load(ctx, req); err != nil {
					return nil, err
				}
			}
			return &protocol.ReadResourceResult{Contents: []protocol.ResourceContents{
				&protocol.TextResourceContents{URI: r.URI, MIMEType: MIMEType, Text: html, Meta: maps.Clone(meta)},
			}}, nil
		})
	return nil
}

// MustAddResource is AddResource that panics on an error, for servers
// that declare their apps at start-up.
func MustAddResource(s *mcp.Server, r Resource) {
	if err := AddResource(s, r); err != nil {
		panic(err)
	}
}

// LinkTool returns a copy of t whose _meta links it to an app: _meta.ui
// (resourceUri, visibility) and the deprecated flat key
// _meta["ui/resourceUri"], which hosts released before the stable spec
// read (the official SDK's registerAppTool writes both too).
func LinkTool(t *protocol.Tool, ui ToolMeta) *protocol.Tool {
	c := *t
	c.Meta = maps.Clone(t.Meta)
	if c.Meta == nil {
		c.Meta = protocol.Meta{}
	}
	c.Meta[MetaUI] = asMeta(ui)
	if ui.ResourceURI != "" {
		c.Meta[MetaResourceURIFlat] = ui.ResourceURI
	}
	return &c
}

// Result is what an app's tool returns: Text for the model and for hosts
// without apps (the spec requires meaningful content), Data for the view
// (the result's structuredContent, typed by the tool's output schema).
type Result[Out any] struct {
	// Text says what the tool did, in words; it must not be empty.
	Text string
	// Data is the structured result the view renders.
	Data Out
	// Meta, if set, is the result's _meta (not shown to the model).
	Meta protocol.Meta
}

// ErrNoText is the error result of an app tool whose handler returned an
// empty Result.Text.
var ErrNoText = errors.New("the tool returned no text for hosts without apps (MCP Apps: tools must return meaningful content)")

// AddTool registers a typed tool linked to an app (see LinkTool). The
// input schema is inferred from In and the output schema from Out (a
// struct), as mcp.AddTool does. The handler's Result becomes a text block
// (Text) and structuredContent (Data); an empty Text is refused with an
// error result (ErrNoText), since hosts without apps would show nothing.
//
// A tool for the app only (Visibility [app]) is called by the view, not by
// the model; it still returns Text, which the view may show.
func AddTool[In, Out any](s *mcp.Server, t *protocol.Tool, ui ToolMeta, h func(ctx context.Context, req *mcp.Request, in In) (Result[Out], error)) {
	tool := LinkTool(t, ui)
	if len(tool.OutputSchema) == 0 {
		if rt := reflect.TypeFor[Out](); rt.Kind() == reflect.Struct || rt.Kind() == reflect.Pointer && rt.Elem().Kind() == reflect.Struct {
			schema, err := jsonschema.ForType(rt)
			if err != nil {
				panic(fmt.Sprintf("apps: tool %q: inferring the output schema: %v", t.Name, err))
			}
			tool.OutputSchema = schema
		}
	}
	mcp.AddTool(s, tool, func(ctx context.Context, req *mcp.Request, in In) (*protocol.CallToolResult, error) {
		r, err := h(ctx, req, in)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(r.Text) == "" {
			return mcp.ErrorResult(ErrNoText), nil
		}
		res := &protocol.CallToolResult{Content: []protocol.Content{&protocol.TextContent{Text: r.Text}}, Meta: r.Meta}
		if data := reflect.ValueOf(&r.Data).Elem(); !(data.Kind() == reflect.Pointer && data.IsNil()) {
			b, err := json.Marshal(r.Data)
			if err != nil {
				return nil, fmt.Errorf("apps: tool %q: encoding the data: %w", t.Name, err)
			}
			if len(b) > 0 && b[0] == '{' {
				res.StructuredContent = jsontext.Value(b)
			}
		}
		return res, nil
	})
}

// Settings is the extension's entry in capabilities: the mime types of
// the views a host can render (clients) or a server offers (servers).
type Settings struct {
	// MIMETypes are the view types: MIMEType for HTML views.
	MIMETypes []string `json:"mimeTypes"`
}

// Declare returns a copy of opts (nil: defaults) whose EditCapabilities
// also declares the extension, {"mimeTypes": ["text/html;profile=mcp-app"]},
// in initialize and in 2026-07-28 server/discover. An EditCapabilities
// already set runs first.
func Declare(opts *mcp.ServerOptions) *mcp.ServerOptions {
	var o mcp.ServerOptions
	if opts != nil {
		o = *opts
	}
	prev := o.EditCapabilities
	o.EditCapabilities = func(version string, c *protocol.ServerCapabilities) {
		if prev != nil {
			prev(version, c)
		}
		if c.Extensions == nil {
			c.Extensions = map[string]jsontext.Value{}
		}
		if _, ok := c.Extensions[ExtensionID]; !ok {
			c.Extensions[ExtensionID] = jsontext.Value(`{"mimeTypes":["` + MIMEType + `"]}`)
		}
	}
	return &o
}

// ClientSupports reports whether the client of req declared that it
// renders apps: its capabilities' extensions hold io.modelcontextprotocol/ui
// with MIMEType among the mime types (for 2026-07-28 requests, the
// capabilities the request carries). A server may register tools without
// a UI for other clients, though a tool with one works for them too.
func ClientSupports(req *mcp.Request) bool {
	if req == nil {
		return false
	}
	return capabilitiesSupport(req.ClientCapabilities())
}

func capabilitiesSupport(c *protocol.ClientCapabilities) bool {
	if c == nil {
		return false
	}
	raw, ok := c.Extensions[ExtensionID]
	if !ok {
		return false
	}
	var s Settings
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	return slices.Contains(s.MIMETypes, MIMEType)
}

// LooksLikeHTMLDocument reports whether s starts (after white space, in
// its first 1024 bytes) like an HTML5 document: <!doctype html or an <html
// element. It is the official validator's check: it catches what breaks
// rendering outright (empty content, JSON or plain text served as HTML),
// not every HTML error.
func LooksLikeHTMLDocument(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n\f\ufeff")
	if s == "" {
		return false
	}
	head := strings.ToLower(s[:min(len(s), 1024)])
	if strings.HasPrefix(head, "<!doctype html") {
		return true
	}
	for i := 0; ; {
		j := strings.Index(head[i:], "<html")
		if j < 0 {
			return false
		}
		i += j + len("<html")
		if i == len(head) {
			return false
		}
		switch head[i] {
		case '>', ' ', '\t', '\n', '\r', '\f', '/':
			return true
		}
	}
}
