package apps_test

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// raw registers what a test declares, without the helpers' checks.
type raw struct {
	resources []protocol.Resource
	// contents[uri] is the raw resources/read result (JSON); absent: not
	// found.
	contents map[string]string
	tools    []protocol.Tool
	// result is the raw tools/call result of every tool.
	result string
}

func (r raw) server() *mcp.Server {
	s := mcp.NewServer(protocol.Implementation{Name: "raw", Version: "1"}, apps.Declare(&mcp.ServerOptions{
		ResourceFallback: func(_ context.Context, _ *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			if _, ok := r.contents[uri]; !ok {
				return nil, protocol.NewResourceNotFoundError(uri)
			}
			return nil, nil // answered by the middleware below
		},
	}))
	for _, res := range r.resources {
		s.AddResource(&res, func(context.Context, *mcp.Request, string, map[string]string) (*protocol.ReadResourceResult, error) {
			return nil, nil
		})
	}
	for _, tool := range r.tools {
		s.AddTool(&tool, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return nil, nil
		})
	}
	// Raw answers for reads and calls, whatever their shape.
	s.Use(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, req *mcp.Request) (any, error) {
			switch req.Method {
			case protocol.MethodResourcesRead:
				var p protocol.ReadResourceRequestParams
				if err := json.Unmarshal(req.Params, &p); err != nil {
					return nil, err
				}
				if c, ok := r.contents[p.URI]; ok {
					return jsontext.Value(c), nil
				}
				return nil, protocol.NewResourceNotFoundError(p.URI)
			case protocol.MethodToolsCall:
				if r.result != "" {
					return jsontext.Value(r.result), nil
				}
			}
			return next(ctx, req)
		}
	})
	return s
}

const okHTML = "<!doctype html><title>x</title>"

func textRead(uri, mime, text string, meta string) string {
	m := ""
	if meta != "" {
		m = `,"_meta":` + meta
	}
	return `{"contents":[{"uri":"` + uri + `","mimeType":"` + mime + `","text":` + quote(text) + m + `}]}`
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// app is a valid app: one resource, one tool that references it.
func app() raw {
	return raw{
		resources: []protocol.Resource{{URI: "ui://w/app.html", Name: "w", MIMEType: apps.MIMEType}},
		contents:  map[string]string{"ui://w/app.html": textRead("ui://w/app.html", apps.MIMEType, okHTML, "")},
		tools:     []protocol.Tool{{Name: "show", Meta: protocol.Meta{"ui": map[string]any{"resourceUri": "ui://w/app.html"}}}},
		result:    `{"content":[{"type":"text","text":"shown"}]}`,
	}
}

func TestRules(t *testing.T) {
	uiMeta := func(ui any) protocol.Meta { return protocol.Meta{"ui": ui} }
	for _, tc := range []struct {
		name string
		edit func(r *raw)
		// want is the rules expected, in order; empty: none.
		want []string
	}{
		{"valid app", func(*raw) {}, nil},
		{"valid with every field", func(r *raw) {
			r.tools[0].Meta = protocol.Meta{"ui": map[string]any{"resourceUri": "ui://w/app.html", "visibility": []any{"model", "app"}}, "ui/resourceUri": "ui://w/app.html"}
			meta := `{"ui":{"csp":{"connectDomains":["https://api.example.com","wss://rt.example.com:8443"],"resourceDomains":["https://*.cdn.example.com"],"frameDomains":["https://www.youtube.com"],"baseUriDomains":["https://cdn.example.com"]},"permissions":{"camera":{},"microphone":{},"geolocation":{},"clipboardWrite":{}},"domain":"abc.example.com","prefersBorder":false}}`
			r.contents["ui://w/app.html"] = textRead("ui://w/app.html", apps.MIMEType, okHTML, meta)
		}, nil},
		{"blob content", func(r *raw) {
			r.contents["ui://w/app.html"] = `{"contents":[{"uri":"ui://w/app.html","mimeType":"` + apps.MIMEType + `","blob":"` + base64.StdEncoding.EncodeToString([]byte(okHTML)) + `"}]}`
		}, nil},
		{"app-only tool without a resource", func(r *raw) {
			r.tools = append(r.tools, protocol.Tool{Name: "refresh", Meta: uiMeta(map[string]any{"visibility": []any{"app"}})})
		}, nil},
		{"unlisted resource", func(r *raw) { r.resources = nil }, nil},

		{"APP-001 listed resource with the app mime type but another scheme", func(r *raw) {
			r.resources = append(r.resources, protocol.Resource{URI: "https://x/app.html", Name: "x", MIMEType: apps.MIMEType})
		}, []string{"APP-001"}},
		{"APP-001 listed resource with _meta.ui but another scheme", func(r *raw) {
			r.resources = append(r.resources, protocol.Resource{URI: "file:///app.html", Name: "x", Meta: uiMeta(map[string]any{})})
		}, []string{"APP-001"}},
		{"APP-001 tool references another scheme", func(r *raw) {
			r.tools[0].Meta = uiMeta(map[string]any{"resourceUri": "https://x/app.html"})
			r.contents["https://x/app.html"] = textRead("https://x/app.html", apps.MIMEType, okHTML, "")
		}, []string{"APP-001"}},

		{"APP-002 listed mime type", func(r *raw) { r.resources[0].MIMEType = "text/html" }, []string{"APP-002"}},
		{"APP-002 content mime type", func(r *raw) {
			r.contents["ui://w/app.html"] = textRead("ui://w/app.html", "text/html", okHTML, "")
		}, []string{"APP-002"}},

		{"APP-003 neither text nor blob", func(r *raw) {
			r.contents["ui://w/app.html"] = `{"contents":[{"uri":"ui://w/app.html","mimeType":"` + apps.MIMEType + `"}]}`
		}, []string{"APP-003"}},
		{"APP-003 both", func(r *raw) {
			r.contents["ui://w/app.html"] = `{"contents":[{"uri":"ui://w/app.html","mimeType":"` + apps.MIMEType + `","text":"x","blob":"eA=="}]}`
		}, []string{"APP-003"}},
		{"APP-003 blob not base64", func(r *raw) {
			r.contents["ui://w/app.html"] = `{"contents":[{"uri":"ui://w/app.html","mimeType":"` + apps.MIMEType + `","blob":"%%%"}]}`
		}, []string{"APP-003"}},

		{"APP-004 not HTML", func(r *raw) {
			r.contents["ui://w/app.html"] = textRead("ui://w/app.html", apps.MIMEType, `{"json":true}`, "")
		}, []string{"APP-004"}},
		{"APP-004 empty", func(r *raw) {
			r.contents["ui://w/app.html"] = textRead("ui://w/app.html", apps.MIMEType, "", "")
		}, []string{"APP-004"}},

		{"APP-005 missing resource", func(r *raw) { delete(r.contents, "ui://w/app.html"); r.resources = nil }, []string{"APP-005"}},
		{"APP-005 no contents", func(r *raw) { r.contents["ui://w/app.html"] = `{"contents":[]}` }, []string{"APP-005"}},

		{"APP-006 flat key only", func(r *raw) {
			r.tools[0].Meta = protocol.Meta{"ui/resourceUri": "ui://w/app.html"}
		}, []string{"APP-006"}},
		{"APP-006 keys disagree", func(r *raw) {
			r.tools[0].Meta = protocol.Meta{"ui": map[string]any{"resourceUri": "ui://w/app.html"}, "ui/resourceUri": "ui://w/other.html"}
		}, []string{"APP-006"}},

		{"APP-007 _meta.ui not an object", func(r *raw) { r.tools[0].Meta = uiMeta("ui://w/app.html") }, []string{"APP-007"}},
		{"APP-007 resourceUri not a string", func(r *raw) {
			r.tools[0].Meta = uiMeta(map[string]any{"resourceUri": 7.0})
		}, []string{"APP-007"}},
		{"APP-007 visibility not an array", func(r *raw) {
			r.tools[0].Meta = uiMeta(map[string]any{"resourceUri": "ui://w/app.html", "visibility": "app"})
		}, []string{"APP-007"}},
		{"APP-007 flat key not a string", func(r *raw) {
			r.tools[0].Meta = protocol.Meta{"ui": map[string]any{"resourceUri": "ui://w/app.html"}, "ui/resourceUri": true}
		}, []string{"APP-007"}},

		{"APP-008 listed _meta.ui not an object", func(r *raw) { r.resources[0].Meta = uiMeta([]any{}) }, []string{"APP-008"}},
		{"APP-008 content csp list of numbers", func(r *raw) {
			r.contents["ui://w/app.html"] = textRead("ui://w/app.html", apps.MIMEType, okHTML, `{"ui":{"csp":{"connectDomains":[1]}}}`)
		}, []string{"APP-008"}},
		{"APP-008 prefersBorder a string", func(r *raw) {
			r.resources[0].Meta = uiMeta(map[string]any{"prefersBorder": "yes"})
		}, []string{"APP-008"}},
		{"APP-008 permission not an object", func(r *raw) {
			r.resources[0].Meta = uiMeta(map[string]any{"permissions": map[string]any{"camera": true}})
		}, []string{"APP-008"}},
		{"APP-008 domain a number", func(r *raw) {
			r.resources[0].Meta = uiMeta(map[string]any{"domain": 3.0})
		}, []string{"APP-008"}},

		{"APP-009 path in an origin", func(r *raw) {
			r.resources[0].Meta = uiMeta(map[string]any{"csp": map[string]any{"resourceDomains": []any{"https://cdn.example.com/lib"}}})
		}, []string{"APP-009"}},
		{"APP-009 injection in content meta", func(r *raw) {
			r.contents["ui://w/app.html"] = textRead("ui://w/app.html", apps.MIMEType, okHTML, `{"ui":{"csp":{"connectDomains":["https://a.example.com; script-src *","'unsafe-eval'"]}}}`)
		}, []string{"APP-009", "APP-009"}},

		{"APP-011 unknown visibility", func(r *raw) {
			r.tools[0].Meta = uiMeta(map[string]any{"resourceUri": "ui://w/app.html", "visibility": []any{"model", "user"}})
		}, []string{"APP-011"}},
		{"APP-011 on an app-only tool", func(r *raw) {
			r.tools = append(r.tools, protocol.Tool{Name: "x", Meta: uiMeta(map[string]any{"visibility": []any{"apps"}})})
		}, []string{"APP-011"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := app()
			tc.edit(&r)
			rep, err := apps.Validate(context.Background(), r.server(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Findings {
				got = append(got, f.Rule)
				rule, ok := apps.RuleByID(f.Rule)
				if !ok || rule.Severity != f.Severity || f.Subject == "" || f.Message == "" {
					t.Errorf("malformed finding %+v", f)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rules %v, want %v\n%v", got, tc.want, rep.Findings)
			}
		})
	}
}

// APP-010: the result of a tool with an app says something in content.
func TestToolResultRule(t *testing.T) {
	for _, tc := range []struct {
		name, result string
		want         bool
	}{
		{"text", `{"content":[{"type":"text","text":"shown"}]}`, false},
		{"image", `{"content":[{"type":"image","data":"eA==","mimeType":"image/png"}]}`, false},
		{"error result", `{"content":[],"isError":true}`, false},
		{"empty", `{"content":[],"structuredContent":{"a":1}}`, true},
		{"blank text", `{"content":[{"type":"text","text":"  "}]}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := app()
			r.result = tc.result
			rep, err := apps.Validate(context.Background(), r.server(), &apps.Options{Calls: map[string]map[string]any{"show": {}}})
			if err != nil {
				t.Fatal(err)
			}
			got := slices.ContainsFunc(rep.Findings, func(f apps.Finding) bool { return f.Rule == "APP-010" })
			if got != tc.want {
				t.Errorf("APP-010 found %v, want %v: %v", got, tc.want, rep.Findings)
			}
		})
	}
	// A tool without an app is not checked.
	if f := apps.CheckToolResult(&protocol.Tool{Name: "plain"}, jsontext.Value(`{"content":[]}`)); f != nil {
		t.Errorf("plain tool: %v", f)
	}
	// Calling a tool that does not exist is an error.
	if _, err := apps.Validate(context.Background(), app().server(), &apps.Options{Calls: map[string]map[string]any{"nope": {}}}); err == nil || !strings.Contains(err.Error(), "no tool") {
		t.Errorf("calling a missing tool: %v", err)
	}
}

func TestRulesCatalogue(t *testing.T) {
	if len(apps.Rules) != 11 {
		t.Fatalf("%d rules", len(apps.Rules))
	}
	for i, r := range apps.Rules {
		if want := "APP-0" + string(rune('0'+(i+1)/10)) + string(rune('0'+(i+1)%10)); r.ID != want || r.Title == "" || r.Spec == "" {
			t.Errorf("rule %d: %+v", i, r)
		}
	}
	if _, ok := apps.RuleByID("APP-999"); ok {
		t.Error("APP-999 found")
	}
	rep := &apps.Report{Findings: []apps.Finding{{Rule: "APP-006", Severity: apps.SeverityWarning}, {Rule: "APP-001", Severity: apps.SeverityError}}}
	if e := rep.Errors(); len(e) != 1 || e[0].Rule != "APP-001" || rep.HasApps() {
		t.Errorf("Errors: %v", e)
	}
}

// fakeSource serves fixed lists and one raw read result.
type fakeSource struct {
	tools     []protocol.Tool
	resources []protocol.Resource
	read      string
}

func (f fakeSource) Tools(context.Context) ([]protocol.Tool, error) { return f.tools, nil }
func (f fakeSource) Resources(context.Context) ([]protocol.Resource, error) {
	return f.resources, nil
}
func (f fakeSource) Read(context.Context, string) (jsontext.Value, error) {
	return jsontext.Value(f.read), nil
}

// FuzzValidate: whatever an upstream declares (its tools' and resources'
// _meta, its read results), validation reports findings, never panics.
func FuzzValidate(f *testing.F) {
	f.Add(`{"ui":{"resourceUri":"ui://a","visibility":["app",1]}}`, `{"ui":{"csp":{"connectDomains":["https://a.b",2]},"permissions":{"camera":1}}}`, `{"contents":[{"text":1,"_meta":{"ui":[]}}]}`)
	f.Add(`{"ui/resourceUri":"ui://a"}`, `{"ui":"x"}`, `{"contents":[{"blob":"eA==","mimeType":"text/html;profile=mcp-app"}]}`)
	f.Add(`{"ui":{"resourceUri":"ui://a"}}`, `{}`, `not json`)
	f.Fuzz(func(t *testing.T, toolMeta, resMeta, read string) {
		var tm, rm protocol.Meta
		if json.Unmarshal([]byte(toolMeta), &tm) != nil || json.Unmarshal([]byte(resMeta), &rm) != nil {
			return
		}
		src := fakeSource{
			tools:     []protocol.Tool{{Name: "t", Meta: tm}},
			resources: []protocol.Resource{{URI: "ui://a", Name: "a", Meta: rm}, {URI: "x://b", Name: "b", Meta: rm}},
			read:      read,
		}
		rep, err := apps.ValidateSource(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range rep.Findings {
			if _, ok := apps.RuleByID(fd.Rule); !ok {
				t.Fatalf("unknown rule %q", fd.Rule)
			}
		}
		apps.CheckToolResult(&src.tools[0], jsontext.Value(read))
	})
}
