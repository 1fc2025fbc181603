// Command greeter is a minimal MCP server over stdio with one typed tool.
//
//	go run ./examples/greeter
//	switchboard call greet name=Ada -- go run ./examples/greeter
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// GreetIn is the tool's input; its JSON Schema is inferred from the type.
type GreetIn struct {
	Name     string `json:"name" description:"Who to greet" jsonschema:"minLength=1"`
	Language string `json:"language,omitzero" description:"Language of the greeting" jsonschema:"enum=en|fr,default=en"`
}

// GreetOut is the tool's structured output.
type GreetOut struct {
	Greeting string `json:"greeting"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := mcp.NewServer(protocol.Implementation{Name: "greeter", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &protocol.Tool{Name: "greet", Description: "Greet someone by name"},
		func(ctx context.Context, req *mcp.Request, in GreetIn) (GreetOut, error) {
			if in.Language == "fr" {
				return GreetOut{Greeting: "Bonjour, " + in.Name}, nil
			}
			return GreetOut{Greeting: "Hello, " + in.Name}, nil
		})
	if err := s.ServeStdio(ctx); err != nil {
		log.Fatal(err)
	}
}
