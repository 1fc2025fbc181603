package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

const appMIME = "text/html;profile=mcp-app"

// appServer is an upstream with an MCP App: a ui:// resource, a tool
// that shows it, and a tool for the app only.
func appServer(name string) *mcp.Server {
	s := mcp.NewServer(protocol.Implementation{Name: name, Version: "1"}, &mcp.ServerOptions{
		EditCapabilities: func(_ string, c *protocol.ServerCapabilities) {
			if c.Extensions == nil {
				c.Extensions = map[string]jsontext.Value{}
			}
			c.Extensions[gateway.ExtensionUI] = jsontext.Value(`{"mimeTypes":["` + appMIME + `"]}`)
		},
	})
	html := fmt.Sprintf("<!doctype html><title>%s</title><p>app of %s</p>", name, name)
	s.AddResource(&protocol.Resource{URI: "ui://widget/app.html", Name: "app", MIMEType: appMIME,
		Meta: protocol.Meta{"ui": map[string]any{"csp": map[string]any{"connectDomains": []any{"https://api.example.com"}}, "prefersBorder": true}}},
		func(_ context.Context, _ *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return mcp.TextResource(uri, appMIME, html), nil
		})
	s.AddTool(&protocol.Tool{Name: "show", Meta: protocol.Meta{"ui": map[string]any{"resourceUri": "ui://widget/app.html"}, "ui/resourceUri": "ui://widget/app.html"}},
		func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return &protocol.CallToolResult{
				Content: []protocol.Content{
					&protocol.TextContent{Text: "shown by " + name},
					&protocol.ResourceLink{URI: "ui://widget/app.html", Name: "app"},
					&protocol.EmbeddedResource{Resource: &protocol.TextResourceContents{URI: "ui://widget/app.html", MIMEType: appMIME, Text: html}},
				},
				Meta: protocol.Meta{"ui": map[string]any{"resourceUri": "ui://widget/app.html"}},
			}, nil
		})
	s.AddTool(&protocol.Tool{Name: "refresh", Meta: protocol.Meta{"ui": map[string]any{"visibility": []any{"app"}}}},
		func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return mcp.TextResult("refreshed by " + name), nil
		})
	return s
}

// Two upstreams with apps behind the gateway: every ui:// URI it emits
// keeps the scheme and reads back the right upstream's bytes; app-only
// tools stay out of tools/list but can be called; a tool whose ui://
// resource the caller may not read loses the reference; the extension is
// declared.
func TestAppsThroughGateway(t *testing.T) {
	_, url := newGateway(t, gateway.Options{
		Upstreams: []gateway.Upstream{{Name: "red", Server: appServer("red")}, {Name: "blue", Server: appServer("blue")}},
		Hooks: gateway.Hooks{Authorize: func(_ context.Context, a *gateway.Access) error {
			if a.Kind == "resource" && a.Upstream == "blue" && a.Identity == nil && a.Request != nil && a.Request.ClientInfo().Name == "restricted" {
				return &gateway.Denial{Rule: "no-blue-ui", Reason: "blue's apps are off limits"}
			}
			return nil
		}},
	})
	cs := connect(t, url, nil)
	if ext := cs.ServerCapabilities().Extensions[gateway.ExtensionUI]; len(ext) == 0 {
		t.Errorf("the gateway does not declare %s: %+v", gateway.ExtensionUI, cs.ServerCapabilities())
	}

	tools := map[string]protocol.Tool{}
	for tool, err := range cs.Tools(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		tools[tool.Name] = *tool
	}
	for _, hidden := range []string{"red_refresh", "blue_refresh"} {
		if _, ok := tools[hidden]; ok {
			t.Errorf("app-only tool %s is listed", hidden)
		}
	}
	for _, up := range []string{"red", "blue"} {
		tool, ok := tools[up+"_show"]
		if !ok {
			t.Fatalf("%s_show not listed: %v", up, tools)
		}
		want := "ui://" + up + "/widget/app.html"
		ui, _ := tool.Meta["ui"].(map[string]any)
		if ui["resourceUri"] != want || tool.Meta["ui/resourceUri"] != want {
			t.Errorf("%s_show _meta: %v", up, tool.Meta)
		}
		// The resource reads back the right upstream's bytes, unchanged.
		rr, err := cs.ReadResource(ctxT(t), want)
		if err != nil {
			t.Fatal(err)
		}
		tc := rr.Contents[0].(*protocol.TextResourceContents)
		if tc.URI != want || tc.MIMEType != appMIME || tc.Text != fmt.Sprintf("<!doctype html><title>%s</title><p>app of %s</p>", up, up) {
			t.Errorf("read %s: %+v", want, tc)
		}
		// Every URI of the tool's result is exposed, scheme kept.
		var raw jsontext.Value
		if err := cs.Call(ctxT(t), protocol.MethodToolsCall, map[string]any{"name": up + "_show"}, &raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), `"ui://widget/`) || strings.Count(string(raw), want) != 3 {
			t.Errorf("%s_show result: %s", up, raw)
		}
		// The app-only tool is callable.
		res, err := cs.CallToolArgs(ctxT(t), up+"_refresh", nil)
		if err != nil || text(t, res) != "refreshed by "+up {
			t.Errorf("%s_refresh: %v %v", up, res, err)
		}
	}
	var resources []string
	for r, err := range cs.Resources(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		resources = append(resources, r.URI)
		if !strings.HasPrefix(r.URI, "ui://") {
			t.Errorf("resource %s lost its scheme", r.URI)
		}
	}
	slices.Sort(resources)
	if !slices.Equal(resources, []string{"ui://blue/widget/app.html", "ui://red/widget/app.html"}) {
		t.Errorf("resources: %v", resources)
	}

	// A caller who may not read blue's app sees blue_show without it.
	restricted, err := mcp.NewClient(protocol.Implementation{Name: "restricted", Version: "1"}, nil).Connect(ctxT(t), dialer(url))
	if err != nil {
		t.Fatal(err)
	}
	defer restricted.Close()
	for tool, err := range restricted.Tools(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(tool.Meta)
		switch tool.Name {
		case "blue_show":
			if strings.Contains(string(b), "ui://") {
				t.Errorf("blue_show keeps a denied ui:// reference: %s", b)
			}
		case "red_show":
			if !strings.Contains(string(b), "ui://red/") {
				t.Errorf("red_show lost its reference: %s", b)
			}
		}
	}
}

// An upstream that follows the spec's advice to offer apps only to hosts
// that render them sees the extension: on the shared session always (the
// gateway relays apps and its console renders them), on a per-client
// session when that client declares it.
func TestAppsExtensionDeclaredUpstream(t *testing.T) {
	upstream := func() *mcp.Server {
		s := mcp.NewServer(protocol.Implementation{Name: "checks", Version: "1"}, nil)
		s.AddTool(&protocol.Tool{Name: "ui"}, func(_ context.Context, r *mcp.Request, _ *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			_, ok := r.ClientCapabilities().Extensions[gateway.ExtensionUI]
			return mcp.TextResult(fmt.Sprint(ok)), nil
		})
		return s
	}
	_, url := newGateway(t, gateway.Options{
		Upstreams: []gateway.Upstream{
			{Name: "shared", Server: upstream()},
			{Name: "own", Server: upstream(), Session: gateway.SessionPerClient},
		},
	})
	withUI := &mcp.ClientOptions{Capabilities: &protocol.ClientCapabilities{
		Extensions: map[string]jsontext.Value{gateway.ExtensionUI: jsontext.Value(`{"mimeTypes":["` + appMIME + `"]}`)},
	}}
	for _, tc := range []struct {
		name   string
		opts   *mcp.ClientOptions
		tool   string
		wantUI string
	}{
		{"shared, plain client", nil, "shared_ui", "true"},
		{"shared, apps client", withUI, "shared_ui", "true"},
		{"per-client, plain client", nil, "own_ui", "false"},
		{"per-client, apps client", withUI, "own_ui", "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := connect(t, url, tc.opts)
			res, err := cs.CallTool(ctxT(t), &protocol.CallToolRequestParams{Name: tc.tool})
			if err != nil {
				t.Fatal(err)
			}
			if got := text(t, res); got != tc.wantUI {
				t.Errorf("upstream saw the apps extension: %s, want %s", got, tc.wantUI)
			}
		})
	}
}
