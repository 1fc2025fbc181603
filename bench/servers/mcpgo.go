package servers

import (
	"context"
	"io"
	"log"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	mcpgoserver "github.com/mark3labs/mcp-go/server"
)

// NewMCPGoServer returns an mcp-go server with the echo tool, declared with
// the builder DSL and an untyped handler (the library's usual style). With
// validate, WithInputSchemaValidation is on; mcp-go's default is off.
func NewMCPGoServer(validate bool) *mcpgoserver.MCPServer {
	var opts []mcpgoserver.ServerOption
	opts = append(opts, mcpgoserver.WithToolCapabilities(false))
	if validate {
		opts = append(opts, mcpgoserver.WithInputSchemaValidation())
	}
	s := mcpgoserver.NewMCPServer("mcp-go-bench", "0", opts...)
	s.AddTool(mcpgo.NewTool("echo",
		mcpgo.WithDescription("returns its text argument"),
		mcpgo.WithString("text", mcpgo.Required(), mcpgo.Description("the text to send back")),
	), func(_ context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		text, err := req.RequireString("text")
		if err != nil {
			return mcpgo.NewToolResultError(err.Error()), nil
		}
		return mcpgo.NewToolResultText(text), nil
	})
	return s
}

// newMCPGoHTTP serves mcp-go's Streamable HTTP server at its defaults
// (session ids generated and checked by format, sessions kept by the
// server) or, when stateless, with WithStateLess(true).
func newMCPGoHTTP(o HTTPOptions) (Handler, error) {
	var opts []mcpgoserver.StreamableHTTPOption
	if o.Stateless {
		opts = append(opts, mcpgoserver.WithStateLess(true))
	}
	h := mcpgoserver.NewStreamableHTTPServer(NewMCPGoServer(o.Validate), opts...)
	return handlerCloser{Handler: h, close: func() error { return h.Shutdown(context.Background()) }}, nil
}

// serveMCPGoStdio runs mcp-go's StdioServer at its defaults (5 tool-call
// workers, queue of 100).
func serveMCPGoStdio(ctx context.Context, r io.Reader, w io.Writer, o StdioOptions) error {
	ss := mcpgoserver.NewStdioServer(NewMCPGoServer(o.Validate))
	ss.SetErrorLogger(log.New(io.Discard, "", 0))
	return ss.Listen(ctx, r, w)
}
