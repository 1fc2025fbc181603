// Command client connects to an MCP server, lists its tools and calls one.
//
//	go run ./examples/client http://127.0.0.1:8081/mcp add '{"a":1,"b":2}'
//	go run ./examples/client -- go run ./examples/greeter     (lists only)
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/auto"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: client URL [TOOL [ARGS-JSON]] | client -- COMMAND [ARGS...]")
	}
	var d transport.Dialer
	var rest []string
	if os.Args[1] == "--" {
		d = stdio.Command(os.Args[2], os.Args[3:], nil)
	} else {
		d = auto.NewHTTPDialer(os.Args[1], nil)
		rest = os.Args[2:]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c := mcp.NewClient(protocol.Implementation{Name: "example-client", Version: "1.0.0"}, nil)
	cs, err := c.Connect(ctx, d)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()
	fmt.Printf("connected to %s (protocol %s)\n", cs.ServerInfo().Name, cs.ProtocolVersion())
	for tool, err := range cs.Tools(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("tool %s: %s\n", tool.Name, tool.Description)
	}
	if len(rest) == 0 {
		return
	}
	args := "{}"
	if len(rest) > 1 {
		args = rest[1]
	}
	res, err := cs.CallTool(ctx, &protocol.CallToolRequestParams{Name: rest[0], Arguments: []byte(args)})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range res.Content {
		if t, ok := c.(*protocol.TextContent); ok {
			fmt.Println(t.Text)
		}
	}
	if res.IsError {
		os.Exit(1)
	}
}
