package apps_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/apps/appstest"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

const page = `<!doctype html><html><head><title>Counter</title></head><body><button>+1</button></body></html>`

type empty struct{}

type count struct {
	Count int `json:"count"`
}

// counterServer declares one app with the helpers.
func counterServer(t testing.TB) *mcp.Server {
	s := mcp.NewServer(protocol.Implementation{Name: "counter", Version: "1"}, apps.Declare(nil))
	err := apps.AddResource(s, apps.Resource{URI: "ui://counter/view.html", Name: "counter-view", Title: "Counter", HTML: page,
		Meta: &apps.ResourceMeta{CSP: &apps.CSP{ConnectDomains: []string{"https://api.example.com"}}, PrefersBorder: apps.Bool(true),
			Permissions: &apps.Permissions{ClipboardWrite: &apps.Permission{}}}})
	if err != nil {
		t.Fatal(err)
	}
	apps.AddTool(s, &protocol.Tool{Name: "show_counter", Description: "Shows the counter"}, apps.ToolMeta{ResourceURI: "ui://counter/view.html"},
		func(context.Context, *mcp.Request, empty) (apps.Result[count], error) {
			return apps.Result[count]{Text: "The counter is at 3.", Data: count{3}}, nil
		})
	apps.AddTool(s, &protocol.Tool{Name: "increment"}, apps.ToolMeta{ResourceURI: "ui://counter/view.html", Visibility: []apps.Visibility{apps.VisibilityApp}},
		func(context.Context, *mcp.Request, empty) (apps.Result[count], error) {
			return apps.Result[count]{Data: count{4}}, nil // no text: refused
		})
	return s
}

type pipe struct{ s *mcp.Server }

func (d pipe) Dial(ctx context.Context) (transport.ClientConn, error) {
	c, srv := stdio.Pipe()
	go d.s.ServeStream(context.WithoutCancel(ctx), srv)
	return stdio.NewClientConn(c, nil), nil
}

func connect(t *testing.T, s *mcp.Server, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "test", Version: "1"}, opts).Connect(ctx(t), pipe{s})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestHelpersDeclareAnApp(t *testing.T) {
	s := counterServer(t)
	cs := connect(t, s, &mcp.ClientOptions{Capabilities: apps.ClientCapabilities()})

	if got := string(cs.ServerCapabilities().Extensions[apps.ExtensionID]); got != `{"mimeTypes":["text/html;profile=mcp-app"]}` {
		t.Errorf("initialize declares %s = %q", apps.ExtensionID, got)
	}
	tools := map[string]protocol.Tool{}
	for tool, err := range cs.Tools(ctx(t)) {
		if err != nil {
			t.Fatal(err)
		}
		tools[tool.Name] = *tool
	}
	show := tools["show_counter"]
	b, _ := json.Marshal(show.Meta, json.Deterministic(true))
	if string(b) != `{"ui":{"resourceUri":"ui://counter/view.html"},"ui/resourceUri":"ui://counter/view.html"}` {
		t.Errorf("show_counter _meta: %s", b)
	}
	if len(show.OutputSchema) == 0 {
		t.Error("show_counter has no output schema")
	}
	b, _ = json.Marshal(tools["increment"].Meta["ui"], json.Deterministic(true))
	if string(b) != `{"resourceUri":"ui://counter/view.html","visibility":["app"]}` {
		t.Errorf("increment _meta.ui: %s", b)
	}

	var listed []protocol.Resource
	for r, err := range cs.Resources(ctx(t)) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, *r)
	}
	if len(listed) != 1 || listed[0].MIMEType != apps.MIMEType {
		t.Fatalf("resources: %+v", listed)
	}
	wantMeta := `{"ui":{"csp":{"connectDomains":["https://api.example.com"]},"permissions":{"clipboardWrite":{}},"prefersBorder":true}}`
	if b, _ := json.Marshal(listed[0].Meta, json.Deterministic(true)); string(b) != wantMeta {
		t.Errorf("listed _meta: %s", b)
	}
	rr, err := cs.ReadResource(ctx(t), "ui://counter/view.html")
	if err != nil {
		t.Fatal(err)
	}
	tc := rr.Contents[0].(*protocol.TextResourceContents)
	if tc.Text != page || tc.MIMEType != apps.MIMEType {
		t.Errorf("read: %+v", tc)
	}
	if b, _ := json.Marshal(tc.Meta, json.Deterministic(true)); string(b) != wantMeta {
		t.Errorf("content _meta: %s", b)
	}

	res, err := cs.CallToolArgs(ctx(t), "show_counter", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || res.Content[0].(*protocol.TextContent).Text != "The counter is at 3." || string(res.StructuredContent) != `{"count":3}` {
		t.Errorf("show_counter: %+v %s", res, res.StructuredContent)
	}
	res, err = cs.CallToolArgs(ctx(t), "increment", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(res.Content[0].(*protocol.TextContent).Text, "meaningful content") {
		t.Errorf("a result without text is not refused: %+v", res)
	}

	rep := appstest.Check(t, s, &apps.Options{Calls: map[string]map[string]any{"show_counter": {}}})
	if !slicesEqual(rep.Tools, []string{"increment", "show_counter"}) || !slicesEqual(rep.Resources, []string{"ui://counter/view.html"}) || len(rep.Findings) != 0 {
		t.Errorf("report: %+v", rep)
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// The extension is declared in 2026-07-28 server/discover too, and an
// EditCapabilities given before keeps running.
func TestDeclareInDiscover(t *testing.T) {
	ran := false
	s := mcp.NewServer(protocol.Implementation{Name: "x", Version: "1"}, apps.Declare(&mcp.ServerOptions{
		EditCapabilities: func(string, *protocol.ServerCapabilities) { ran = true },
	}))
	mcp.AddTool(s, &protocol.Tool{Name: "noop"}, func(context.Context, *mcp.Request, empty) (string, error) { return "ok", nil })
	cs := connect(t, s, &mcp.ClientOptions{ProtocolVersion: "2026-07-28"})
	var res struct {
		Capabilities protocol.ServerCapabilities `json:"capabilities"`
	}
	if err := cs.Call(ctx(t), "server/discover", map[string]any{}, &res); err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Capabilities.Extensions[apps.ExtensionID]; !ok || !ran {
		t.Errorf("server/discover capabilities: %+v (earlier EditCapabilities ran: %v)", res.Capabilities, ran)
	}
}

func TestAddResourceRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    apps.Resource
		want string
	}{
		{"scheme", apps.Resource{URI: "https://x/app.html", Name: "a", HTML: page}, "must start with ui://"},
		{"name", apps.Resource{URI: "ui://a", HTML: page}, "a name is required"},
		{"html", apps.Resource{URI: "ui://a", Name: "a", HTML: `{"not":"html"}`}, "HTML5 document"},
		{"csp", apps.Resource{URI: "ui://a", Name: "a", HTML: page, Meta: &apps.ResourceMeta{CSP: &apps.CSP{ResourceDomains: []string{"https://cdn.example.com; script-src *"}}}}, "not origins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mcp.NewServer(protocol.Implementation{Name: "x", Version: "1"}, nil)
			err := apps.AddResource(s, tc.r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	// A loaded resource is checked when read (by the validator).
	s := mcp.NewServer(protocol.Implementation{Name: "x", Version: "1"}, nil)
	if err := apps.AddResource(s, apps.Resource{URI: "ui://a", Name: "a", Load: func(context.Context, *mcp.Request) (string, error) { return page, nil }}); err != nil {
		t.Error(err)
	}
}

func TestClientSupports(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps *protocol.ClientCapabilities
		want bool
	}{
		{"declared", apps.ClientCapabilities(), true},
		{"none", &protocol.ClientCapabilities{}, false},
		{"other mime types", &protocol.ClientCapabilities{Extensions: map[string]jsontext.Value{apps.ExtensionID: jsontext.Value(`{"mimeTypes":["text/uri-list"]}`)}}, false},
		{"malformed", &protocol.ClientCapabilities{Extensions: map[string]jsontext.Value{apps.ExtensionID: jsontext.Value(`[]`)}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan bool, 1)
			s := mcp.NewServer(protocol.Implementation{Name: "x", Version: "1"}, nil)
			mcp.AddTool(s, &protocol.Tool{Name: "probe"}, func(_ context.Context, req *mcp.Request, _ empty) (string, error) {
				got <- apps.ClientSupports(req)
				return "ok", nil
			})
			cs := connect(t, s, &mcp.ClientOptions{Capabilities: tc.caps})
			if _, err := cs.CallToolArgs(ctx(t), "probe", nil); err != nil {
				t.Fatal(err)
			}
			if g := <-got; g != tc.want {
				t.Errorf("ClientSupports = %v, want %v", g, tc.want)
			}
		})
	}
	if apps.ClientSupports(nil) {
		t.Error("ClientSupports(nil)")
	}
}

func TestLooksLikeHTMLDocument(t *testing.T) {
	for in, want := range map[string]bool{
		"<!DOCTYPE html><p>x":                   true,
		"  \n<!doctype html>":                   true,
		"<html lang=en>":                        true,
		"<!-- c --><html>":                      true,
		"<html":                                 false,
		"<htmlx>":                               false,
		"":                                      false,
		"   ":                                   false,
		`{"a":1}`:                               false,
		"plain text":                            false,
		"<p>fragment</p>":                       false,
		"\ufeff<!doctype html>":                 true,
		strings.Repeat(" ", 2000) + "<html>":    true, // trimmed first, as the official check does
		strings.Repeat("x", 1100) + "<html>":    false,
		"<head></head><html/>" + "<!doctype x>": true,
	} {
		if got := apps.LooksLikeHTMLDocument(in); got != want {
			t.Errorf("LooksLikeHTMLDocument(%.40q) = %v, want %v", in, got, want)
		}
	}
}
