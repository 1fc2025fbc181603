// Command counterapp is an MCP server with an MCP App: a counter whose view
// calls a tool back. Run it behind the gateway and open the console's
// playground (see docs/apps.md):
//
//	go build -o counterapp ./examples/counterapp
//	switchboard serve --config servers.yaml   # mcpServers: {counter: {command: ./counterapp}}
package main

import (
	"context"
	_ "embed"
	"fmt"
	"log"
	"sync/atomic"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

//go:embed counter.html
var page string

// Empty is the input of show_counter.
type Empty struct{}

// Counter is what the counter's tools return to the view.
type Counter struct {
	Count int64 `json:"count"`
}

// IncIn is the input of counter_increment.
type IncIn struct {
	By int `json:"by,omitzero" description:"how much to add (default 1)"`
}

func newServer() *mcp.Server {
	// Declare the extension (initialize and 2026-07-28 server/discover).
	s := mcp.NewServer(protocol.Implementation{Name: "counter", Version: "1.0.0"}, apps.Declare(nil))

	// The view: a ui:// resource of type text/html;profile=mcp-app.
	apps.MustAddResource(s, apps.Resource{
		URI: "ui://counter/view.html", Name: "counter-view", HTML: page,
		Meta: &apps.ResourceMeta{PrefersBorder: apps.Bool(true)},
	})

	var n atomic.Int64
	// The tool the model calls: it shows the view.
	apps.AddTool(s, &protocol.Tool{Name: "show_counter", Description: "Shows the counter"},
		apps.ToolMeta{ResourceURI: "ui://counter/view.html"},
		func(context.Context, *mcp.Request, Empty) (apps.Result[Counter], error) {
			v := n.Load()
			return apps.Result[Counter]{Text: fmt.Sprintf("The counter is at %d.", v), Data: Counter{v}}, nil
		})
	// A tool only the view calls (kept out of the model's tool list).
	apps.AddTool(s, &protocol.Tool{Name: "counter_increment", Description: "Adds to the counter"},
		apps.ToolMeta{ResourceURI: "ui://counter/view.html", Visibility: []apps.Visibility{apps.VisibilityApp}},
		func(_ context.Context, _ *mcp.Request, in IncIn) (apps.Result[Counter], error) {
			v := n.Add(int64(max(in.By, 1)))
			return apps.Result[Counter]{Text: fmt.Sprintf("The counter is now %d.", v), Data: Counter{v}}, nil
		})
	return s
}

func main() {
	if err := newServer().ServeStdio(context.Background()); err != nil {
		log.Fatal(err)
	}
}
