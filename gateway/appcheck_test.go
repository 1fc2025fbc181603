package gateway_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// badAppServer declares an app that breaks rules: a flat key only, an
// unknown visibility, a resource served as plain HTML.
func badAppServer() *mcp.Server {
	s := mcp.NewServer(protocol.Implementation{Name: "bad", Version: "1"}, apps.Declare(nil))
	s.AddResource(&protocol.Resource{URI: "ui://bad/app.html", Name: "bad", MIMEType: "text/html"},
		func(_ context.Context, _ *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return mcp.TextResource(uri, "text/html", "just text"), nil
		})
	s.AddTool(&protocol.Tool{Name: "show", Meta: protocol.Meta{"ui/resourceUri": "ui://bad/app.html"}},
		func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return mcp.TextResult("shown"), nil
		})
	s.AddTool(&protocol.Tool{Name: "hidden", Meta: protocol.Meta{"ui": map[string]any{"visibility": []any{"robots"}}}},
		func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return mcp.TextResult("x"), nil
		})
	return s
}

// The gateway checks each upstream's apps in the upstream's own names;
// ExposedURI maps an upstream's ui:// URI to the gateway's; a tools/call
// marked by an app's host is an app-originated event.
func TestCheckAppsAndAppOriginated(t *testing.T) {
	var mu sync.Mutex
	var events []*gateway.Event
	g, url := newGateway(t, gateway.Options{
		Upstreams: []gateway.Upstream{{Name: "red", Server: appServer("red")}, {Name: "bad", Server: badAppServer()}},
		Hooks: gateway.Hooks{Observe: []func(context.Context, *gateway.Event){func(_ context.Context, e *gateway.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}}},
	})
	cs := connect(t, url, nil)

	rep, err := g.CheckApps(ctxT(t), "red")
	if err != nil {
		t.Fatal(err)
	}
	// appServer's tool carries the flat key too, in agreement: no finding.
	if len(rep.Findings) != 0 || !slices.Equal(rep.Tools, []string{"show"}) || !slices.Equal(rep.Resources, []string{"ui://widget/app.html"}) {
		t.Errorf("red: %+v", rep)
	}
	rep, err = g.CheckApps(ctxT(t), "bad")
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range rep.Findings {
		rules = append(rules, f.Rule)
	}
	slices.Sort(rules)
	if want := []string{"APP-002", "APP-002", "APP-004", "APP-006", "APP-011"}; !slices.Equal(rules, want) {
		t.Errorf("bad: rules %v, want %v\n%v", rules, want, rep.Findings)
	}
	if _, err := g.CheckApps(ctxT(t), "nobody"); err == nil {
		t.Error("CheckApps of an unknown upstream")
	}

	if u, ok := g.ExposedURI("red", "ui://widget/app.html"); !ok || u != "ui://red/widget/app.html" {
		t.Errorf("ExposedURI = %q, %v", u, ok)
	}
	if _, ok := g.ExposedURI("nobody", "ui://x"); ok {
		t.Error("ExposedURI of an unknown upstream")
	}

	// A call a view made, marked by its host, and one the model made.
	if err := cs.Call(ctxT(t), protocol.MethodToolsCall, map[string]any{"name": "red_refresh", "_meta": map[string]any{apps.MetaAppOriginated: map[string]any{"upstream": "red"}}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CallToolArgs(ctxT(t), "red_show", nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := map[string]bool{}
		for _, e := range events {
			if e.Method == protocol.MethodToolsCall {
				got[e.Name] = e.AppOriginated
			}
		}
		mu.Unlock()
		if len(got) == 2 {
			if !got["red_refresh"] || got["red_show"] {
				t.Errorf("app-originated: %v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
