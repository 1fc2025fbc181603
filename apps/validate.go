package apps

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// Severity is a finding's weight: errors break a MUST of the spec,
// warnings a SHOULD (or a deprecation).
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Rule is one static requirement of the spec on what a server declares,
// with the identifier the official validator gives it
// (@modelcontextprotocol/ext-apps, src/validator/rules.ts).
type Rule struct {
	// ID is the official identifier, APP-001 to APP-011.
	ID string `json:"id"`
	// Title says what the rule requires.
	Title string `json:"title"`
	// Severity is that of the rule's findings.
	Severity Severity `json:"severity"`
	// Spec is the sentence of the spec the rule enforces.
	Spec string `json:"spec"`
}

// Rules are the static server-side rules, APP-001 to APP-011. APP-010
// needs a tool result: Validate checks it for the tools that
// Options.Calls names, CheckToolResult for any result.
var Rules = []Rule{
	{"APP-001", "UI resource URIs use the ui:// scheme", SeverityError, "URI MUST start with `ui://` scheme"},
	{"APP-002", "UI resource content mimeType is text/html;profile=mcp-app", SeverityError, "`mimeType` MUST be `text/html;profile=mcp-app`"},
	{"APP-003", "UI resource content is provided via text or blob", SeverityError, "Content MUST be provided via either `text` (string) or `blob` (base64-encoded)"},
	{"APP-004", "UI resource content is a valid HTML5 document", SeverityError, "Content MUST be valid HTML5 document"},
	{"APP-005", "Tool-referenced UI resources exist on the server", SeverityError, "Resource MUST exist on the server"},
	{"APP-006", `Deprecated flat _meta["ui/resourceUri"] key`, SeverityWarning, "The flat `_meta[\"ui/resourceUri\"]` format is deprecated. Use `_meta.ui.resourceUri` instead."},
	{"APP-007", "Tool _meta.ui matches the McpUiToolMeta schema", SeverityError, "Tools are associated with UI resources through the `_meta.ui` field (`resourceUri`, `visibility`)"},
	{"APP-008", "Resource _meta.ui matches the UIResourceMeta schema", SeverityError, "Resource metadata (`csp`, `permissions`, `domain`, `prefersBorder`) on `resources/list` entries and/or `resources/read` content items"},
	{"APP-009", "Declared CSP domains are well-formed origins", SeverityError, "Servers declare which external origins their UI needs to access (e.g. `https://api.weather.com`; wildcard subdomains: `https://*.example.com`)"},
	{"APP-010", "UI-enabled tools return a meaningful content array", SeverityWarning, "Tools MUST return meaningful content array even when UI is available"},
	{"APP-011", `visibility values are limited to "model" and "app"`, SeverityError, "`visibility` defaults to `[\"model\", \"app\"]`; `\"model\"`: visible to the agent; `\"app\"`: callable by the app"},
}

// RuleByID returns the rule with the given identifier.
func RuleByID(id string) (Rule, bool) {
	i := slices.IndexFunc(Rules, func(r Rule) bool { return r.ID == id })
	if i < 0 {
		return Rule{}, false
	}
	return Rules[i], true
}

// Finding is one breach of a rule.
type Finding struct {
	// Rule is the identifier of the rule broken.
	Rule string `json:"rule"`
	// Severity is the rule's.
	Severity Severity `json:"severity"`
	// Subject is what the finding is about: "tool NAME" or a resource URI.
	Subject string `json:"subject"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// String returns the finding on one line: rule, severity, subject,
// message.
func (f Finding) String() string {
	return fmt.Sprintf("%s %s: %s: %s", f.Rule, f.Severity, f.Subject, f.Message)
}

func finding(rule, subject, format string, args ...any) Finding {
	r, _ := RuleByID(rule)
	return Finding{Rule: rule, Severity: r.Severity, Subject: subject, Message: fmt.Sprintf(format, args...)}
}

// Report is what a validation found.
type Report struct {
	// Findings, in the order found: listed resources, tools, reads, calls.
	Findings []Finding `json:"findings"`
	// Tools are the tools that declare an app (a resourceUri), sorted.
	Tools []string `json:"tools"`
	// Resources are the ui:// resources the tools reference, sorted.
	Resources []string `json:"resources"`
}

// Errors returns the findings of severity error.
func (r *Report) Errors() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			out = append(out, f)
		}
	}
	return out
}

// HasApps reports whether the server declares any app.
func (r *Report) HasApps() bool { return len(r.Tools) > 0 || len(r.Resources) > 0 }

// Source is what validation reads: a server's tools and resources as a
// client sees them, and a resource's raw resources/read result. FromSession
// makes one of a client session; a gateway makes one of an upstream's
// lists and session.
type Source interface {
	// Tools returns every tool, those for apps only included.
	Tools(ctx context.Context) ([]protocol.Tool, error)
	// Resources returns the listed resources; an error is no finding
	// (servers may list no resources at all).
	Resources(ctx context.Context) ([]protocol.Resource, error)
	// Read returns the raw result of resources/read for uri.
	Read(ctx context.Context, uri string) (jsontext.Value, error)
}

// Options tune a validation.
type Options struct {
	// Calls names tools to call, with their arguments, to check their
	// results (APP-010). Validation calls no tool otherwise.
	Calls map[string]map[string]any
}

// FromSession returns the Source of a connected client session.
func FromSession(cs *mcp.ClientSession) Source { return sessionSource{cs} }

type sessionSource struct{ cs *mcp.ClientSession }

func (s sessionSource) Tools(ctx context.Context) ([]protocol.Tool, error) {
	var out []protocol.Tool
	for t, err := range s.cs.Tools(ctx) {
		if err != nil {
			return out, err
		}
		out = append(out, *t)
	}
	return out, nil
}

func (s sessionSource) Resources(ctx context.Context) ([]protocol.Resource, error) {
	var out []protocol.Resource
	for r, err := range s.cs.Resources(ctx) {
		if err != nil {
			return out, err
		}
		out = append(out, *r)
	}
	return out, nil
}

func (s sessionSource) Read(ctx context.Context, uri string) (jsontext.Value, error) {
	var raw jsontext.Value
	err := s.cs.Call(ctx, protocol.MethodResourcesRead, map[string]any{"uri": uri}, &raw)
	return raw, err
}

// ClientCapabilities are the capabilities a validating client declares:
// the extension, so that servers that check ClientSupports show their
// apps.
func ClientCapabilities() *protocol.ClientCapabilities {
	return &protocol.ClientCapabilities{Extensions: map[string]jsontext.Value{ExtensionID: jsontext.Value(`{"mimeTypes":["` + MIMEType + `"]}`)}}
}

// Validate checks an in-process server: it connects a client that
// declares the extension over an in-memory stream and runs
// ValidateSession.
func Validate(ctx context.Context, s *mcp.Server, opts *Options) (*Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := mcp.NewClient(protocol.Implementation{Name: "switchboard-apps-validator", Version: "1"}, &mcp.ClientOptions{Capabilities: ClientCapabilities()})
	cs, err := c.Connect(ctx, pipeDialer{s})
	if err != nil {
		return nil, err
	}
	defer cs.Close()
	return ValidateSession(ctx, cs, opts)
}

type pipeDialer struct{ s *mcp.Server }

func (d pipeDialer) Dial(ctx context.Context) (transport.ClientConn, error) {
	client, server := stdio.Pipe()
	go d.s.ServeStream(context.WithoutCancel(ctx), server)
	return stdio.NewClientConn(client, nil), nil
}

// ValidateSession checks the server of a live client session (for a host
// or a gateway: its health check of an upstream's apps). The session
// should have declared the extension (ClientCapabilities). With
// Options.Calls it calls tools, which may have effects.
func ValidateSession(ctx context.Context, cs *mcp.ClientSession, opts *Options) (*Report, error) {
	rep, err := ValidateSource(ctx, FromSession(cs))
	if err != nil || opts == nil || len(opts.Calls) == 0 {
		return rep, err
	}
	tools, _ := FromSession(cs).Tools(ctx)
	names := make([]string, 0, len(opts.Calls))
	for n := range opts.Calls {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		i := slices.IndexFunc(tools, func(t protocol.Tool) bool { return t.Name == name })
		if i < 0 {
			return rep, fmt.Errorf("apps: no tool %q to call", name)
		}
		var raw jsontext.Value
		if err := cs.Call(ctx, protocol.MethodToolsCall, map[string]any{"name": name, "arguments": opts.Calls[name]}, &raw); err != nil {
			return rep, fmt.Errorf("apps: calling %q: %w", name, err)
		}
		rep.Findings = append(rep.Findings, CheckToolResult(&tools[i], raw)...)
	}
	return rep, nil
}

// ValidateSource checks what src declares against APP-001 to APP-009 and
// APP-011: the listed ui:// resources, every tool's _meta.ui and flat key,
// and the content of every resource a tool references (read once each).
// The error is that of listing the tools; everything else is a finding.
func ValidateSource(ctx context.Context, src Source) (*Report, error) {
	rep := &Report{Findings: []Finding{}, Tools: []string{}, Resources: []string{}}
	tools, err := src.Tools(ctx)
	if err != nil {
		return rep, err
	}
	resources, _ := src.Resources(ctx)
	for _, r := range resources {
		ui, hasUI := r.Meta[MetaUI]
		isUI := strings.HasPrefix(r.URI, Scheme)
		if !isUI && (hasUI || r.MIMEType == MIMEType) {
			rep.Findings = append(rep.Findings, finding("APP-001", r.URI, "the resource declares UI metadata or the MCP App mime type but its URI does not use the ui:// scheme"))
		}
		if isUI {
			if r.MIMEType != MIMEType {
				rep.Findings = append(rep.Findings, finding("APP-002", r.URI, "listed mimeType is %q, expected %q", r.MIMEType, MIMEType))
			}
			if hasUI {
				rep.Findings = append(rep.Findings, checkResourceMeta(r.URI, ui)...)
			}
		}
	}

	referenced := map[string]bool{}
	for i := range tools {
		t := &tools[i]
		subject := "tool " + t.Name
		uri, fs := checkToolMeta(subject, t.Meta)
		rep.Findings = append(rep.Findings, fs...)
		if uri == "" {
			continue
		}
		rep.Tools = append(rep.Tools, t.Name)
		if !strings.HasPrefix(uri, Scheme) {
			rep.Findings = append(rep.Findings, finding("APP-001", subject, "the referenced UI resource URI %q does not use the ui:// scheme", uri))
		}
		referenced[uri] = true
	}
	slices.Sort(rep.Tools)

	for uri := range referenced {
		rep.Resources = append(rep.Resources, uri)
	}
	slices.Sort(rep.Resources)
	for _, uri := range rep.Resources {
		raw, err := src.Read(ctx, uri)
		if err != nil {
			if strings.Contains(err.Error(), "neither text nor blob") {
				rep.Findings = append(rep.Findings, finding("APP-003", uri, "resources/read returned content providing neither text nor blob"))
			} else {
				rep.Findings = append(rep.Findings, finding("APP-005", uri, "resources/read failed for a tool-referenced resource: %v", err))
			}
			continue
		}
		rep.Findings = append(rep.Findings, checkRead(uri, raw)...)
	}
	return rep, nil
}

// checkToolMeta checks a tool's _meta.ui and flat key; it returns the
// resource the tool references ("" for none).
func checkToolMeta(subject string, m protocol.Meta) (string, []Finding) {
	var out []Finding
	flat, hasFlat := m[MetaResourceURIFlat]
	ui, hasUI := m[MetaUI]
	var uri string
	if hasFlat {
		s, ok := flat.(string)
		if !ok {
			out = append(out, finding("APP-007", subject, `_meta["ui/resourceUri"] is %s, expected a string`, kindOf(flat)))
		} else {
			uri = s
		}
	}
	var uiURI string
	if hasUI {
		obj, ok := ui.(map[string]any)
		if !ok {
			out = append(out, finding("APP-007", subject, "_meta.ui is %s, expected an object", kindOf(ui)))
		} else {
			if v, ok := obj["resourceUri"]; ok {
				if s, ok := v.(string); ok {
					uiURI = s
				} else {
					out = append(out, finding("APP-007", subject, "_meta.ui.resourceUri is %s, expected a string", kindOf(v)))
				}
			}
			if v, ok := obj["visibility"]; ok {
				list, ok := v.([]any)
				if !ok {
					out = append(out, finding("APP-007", subject, "_meta.ui.visibility is %s, expected an array", kindOf(v)))
				}
				for _, e := range list {
					if e != string(VisibilityModel) && e != string(VisibilityApp) {
						b, _ := json.Marshal(e)
						out = append(out, finding("APP-011", subject, `visibility entry %s is not one of "model" | "app"`, b))
					}
				}
			}
		}
	}
	if uiURI != "" {
		if uri != "" && uri != uiURI {
			out = append(out, finding("APP-006", subject, `the deprecated _meta["ui/resourceUri"] %q differs from _meta.ui.resourceUri %q`, uri, uiURI))
		}
		return uiURI, out
	}
	if hasFlat && uri != "" {
		out = append(out, finding("APP-006", subject, `uses the deprecated flat _meta["ui/resourceUri"] key; use _meta.ui.resourceUri (the flat key will be removed)`))
	}
	return uri, out
}

// checkResourceMeta checks a resource's _meta.ui against UIResourceMeta
// (APP-008) and its CSP origins (APP-009).
func checkResourceMeta(subject string, ui any) []Finding {
	obj, ok := ui.(map[string]any)
	if !ok {
		return []Finding{finding("APP-008", subject, "_meta.ui is %s, expected an object", kindOf(ui))}
	}
	var issues []string
	var csp map[string]any
	if v, ok := obj["csp"]; ok {
		if csp, ok = v.(map[string]any); !ok {
			issues = append(issues, fmt.Sprintf("csp: %s, expected an object", kindOf(v)))
		} else {
			for _, k := range []string{"connectDomains", "resourceDomains", "frameDomains", "baseUriDomains"} {
				if l, ok := csp[k]; ok {
					arr, ok := l.([]any)
					if !ok {
						issues = append(issues, fmt.Sprintf("csp.%s: %s, expected an array of strings", k, kindOf(l)))
						continue
					}
					for _, e := range arr {
						if _, ok := e.(string); !ok {
							issues = append(issues, fmt.Sprintf("csp.%s: an entry is %s, expected a string", k, kindOf(e)))
						}
					}
				}
			}
		}
	}
	if v, ok := obj["permissions"]; ok {
		p, ok := v.(map[string]any)
		if !ok {
			issues = append(issues, fmt.Sprintf("permissions: %s, expected an object", kindOf(v)))
		}
		for _, k := range []string{"camera", "microphone", "geolocation", "clipboardWrite"} {
			if e, ok := p[k]; ok {
				if _, ok := e.(map[string]any); !ok {
					issues = append(issues, fmt.Sprintf("permissions.%s: %s, expected {}", k, kindOf(e)))
				}
			}
		}
	}
	if v, ok := obj["domain"]; ok {
		if _, ok := v.(string); !ok {
			issues = append(issues, fmt.Sprintf("domain: %s, expected a string", kindOf(v)))
		}
	}
	if v, ok := obj["prefersBorder"]; ok {
		if _, ok := v.(bool); !ok {
			issues = append(issues, fmt.Sprintf("prefersBorder: %s, expected a boolean", kindOf(v)))
		}
	}
	if len(issues) > 0 {
		return []Finding{finding("APP-008", subject, "_meta.ui does not match the UIResourceMeta schema: %s", strings.Join(issues, "; "))}
	}
	var out []Finding
	for _, k := range []string{"connectDomains", "resourceDomains", "frameDomains", "baseUriDomains"} {
		arr, _ := csp[k].([]any)
		for _, e := range arr {
			s := e.(string)
			if _, err := ParseOrigin(s); err != nil {
				out = append(out, finding("APP-009", subject, "csp.%s entry %q is not a well-formed origin (expected e.g. \"https://api.example.com\" or \"https://*.example.com\"): %v", k, s, err))
			}
		}
	}
	return out
}

// checkRead checks a raw resources/read result of a tool-referenced
// resource.
func checkRead(uri string, raw jsontext.Value) []Finding {
	var res struct {
		Contents []map[string]any `json:"contents"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return []Finding{finding("APP-005", uri, "resources/read returned a result that is not a read result: %v", err)}
	}
	if len(res.Contents) == 0 {
		return []Finding{finding("APP-005", uri, "resources/read returned no contents")}
	}
	var out []Finding
	for _, c := range res.Contents {
		if mt, _ := c["mimeType"].(string); mt != MIMEType {
			out = append(out, finding("APP-002", uri, "content mimeType is %q, expected %q", mt, MIMEType))
		}
		text, hasText := c["text"]
		blob, hasBlob := c["blob"]
		var html string
		switch {
		case hasText && hasBlob:
			out = append(out, finding("APP-003", uri, "content provides both text and blob"))
			continue
		case hasText:
			s, ok := text.(string)
			if !ok {
				out = append(out, finding("APP-003", uri, "content text is %s, expected a string", kindOf(text)))
				continue
			}
			html = s
		case hasBlob:
			s, ok := blob.(string)
			b, err := base64.StdEncoding.DecodeString(s)
			if !ok || err != nil {
				out = append(out, finding("APP-003", uri, "content blob is not base64"))
				continue
			}
			html = string(b)
		default:
			out = append(out, finding("APP-003", uri, "content provides neither text nor blob"))
			continue
		}
		if !LooksLikeHTMLDocument(html) {
			out = append(out, finding("APP-004", uri, "content does not look like an HTML5 document (no <!doctype html> or <html> in the first 1024 bytes)"))
		}
		if m, ok := c["_meta"].(map[string]any); ok {
			if ui, ok := m[MetaUI]; ok {
				out = append(out, checkResourceMeta(uri, ui)...)
			}
		}
	}
	return out
}

// CheckToolResult checks a raw tools/call result of a tool that declares
// an app (APP-010): its content must say something to hosts without apps,
// at least one block that is not empty text. Other tools and error
// results give no finding.
func CheckToolResult(t *protocol.Tool, raw jsontext.Value) []Finding {
	if uri, _ := checkToolMeta("", t.Meta); uri == "" {
		return nil
	}
	var res struct {
		Content []map[string]any `json:"content"`
		IsError bool             `json:"isError"`
	}
	subject := "tool " + t.Name
	if err := json.Unmarshal(raw, &res); err != nil {
		return []Finding{finding("APP-010", subject, "the result is not a tool result: %v", err)}
	}
	if res.IsError {
		return nil
	}
	for _, c := range res.Content {
		if c["type"] != "text" {
			return nil
		}
		if s, _ := c["text"].(string); strings.TrimSpace(s) != "" {
			return nil
		}
	}
	return []Finding{finding("APP-010", subject, "the result's content is empty: hosts without apps (and the model) see nothing; return a text that says what the tool did")}
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
