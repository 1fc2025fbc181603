package everything

import (
	"context"
	_ "embed"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// The demo's MCP Apps: a counter whose button calls a tool back, and a
// view that shows what the host told it (theme, locale, display mode) and
// uses the host's other services (messages, model context, links, display
// modes, logging). Both views speak the host↔view protocol themselves
// over postMessage, without an SDK.

// URIs of the demo's app resources.
const (
	CounterURI     = "ui://counter/view.html"
	HostContextURI = "ui://host-context/view.html"
)

//go:embed apps/counter.html
var counterHTML string

//go:embed apps/host-context.html
var hostContextHTML string

// CounterIn is the input of counter_increment.
type CounterIn struct {
	By int `json:"by,omitzero" description:"How much to add (default 1)" jsonschema:"minimum=-100,maximum=100"`
}

// Counter is the structured result of the counter's tools.
type Counter struct {
	Count int64 `json:"count" description:"The counter's value"`
}

// HostContextOut is the structured result of show_host_context.
type HostContextOut struct {
	Server string `json:"server" description:"The server's name"`
	Time   string `json:"time" description:"When the tool ran (RFC 3339)"`
}

func addApps(s *mcp.Server) {
	var count atomic.Int64
	apps.MustAddResource(s, apps.Resource{
		URI: CounterURI, Name: "counter-view", Title: "Counter",
		Description: "An MCP App: a counter whose button calls the app-only tool counter_increment",
		HTML:        counterHTML,
		Meta:        &apps.ResourceMeta{PrefersBorder: apps.Bool(true)},
	})
	apps.AddTool(s, &protocol.Tool{Name: "show_counter", Title: "Show the counter",
		Description: "Shows the counter as an interactive app (MCP Apps); hosts without apps get its value as text"},
		apps.ToolMeta{ResourceURI: CounterURI},
		func(context.Context, *mcp.Request, Empty) (apps.Result[Counter], error) {
			n := count.Load()
			return apps.Result[Counter]{Text: fmt.Sprintf("The counter is at %d.", n), Data: Counter{n}}, nil
		})
	apps.AddTool(s, &protocol.Tool{Name: "counter_increment", Title: "Increment the counter",
		Description: "Adds to the counter; called by the counter app (visible to apps only)"},
		apps.ToolMeta{ResourceURI: CounterURI, Visibility: []apps.Visibility{apps.VisibilityApp}},
		func(_ context.Context, _ *mcp.Request, in CounterIn) (apps.Result[Counter], error) {
			by := int64(in.By)
			if by == 0 {
				by = 1
			}
			n := count.Add(by)
			return apps.Result[Counter]{Text: fmt.Sprintf("The counter is now %d.", n), Data: Counter{n}}, nil
		})

	apps.MustAddResource(s, apps.Resource{
		URI: HostContextURI, Name: "host-context-view", Title: "Host context",
		Description: "An MCP App that shows the theme, locale and display mode its host gave it",
		HTML:        hostContextHTML,
		Meta:        &apps.ResourceMeta{PrefersBorder: apps.Bool(false)},
	})
	apps.AddTool(s, &protocol.Tool{Name: "show_host_context", Title: "Show the host context",
		Description: "Shows, in an app (MCP Apps), what the host told it: theme, locale, display mode, container size"},
		apps.ToolMeta{ResourceURI: HostContextURI},
		func(context.Context, *mcp.Request, Empty) (apps.Result[HostContextOut], error) {
			now := time.Now().UTC().Format(time.RFC3339)
			return apps.Result[HostContextOut]{
				Text: "Opened the host-context app; without apps there is nothing more to show than this sentence.",
				Data: HostContextOut{Server: "switchboard-everything", Time: now},
			}, nil
		})
}
