// Command mcpgo-server is a small MCP server built on mcp-go
// (github.com/mark3labs/mcp-go), the peer that the interop tests connect
// Switchboard's client to. It serves stdio by default, or Streamable HTTP
// at /mcp with -http ADDR (it prints "listening on ADDR" on stderr once
// ready).
//
// Its fixtures are those of cmd/gosdk-server (see there), except that
// touch sends its resources/updated notification to the calling session
// only. ask_llm_mrtr and ask_user_mrtr are built with
// server.InputRequestBuilder: a 2026-07-28 client gets an input_required
// result, an earlier one the server-initiated requests mcp-go sends for
// it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

func main() {
	httpAddr := flag.String("http", "", "serve Streamable HTTP at /mcp on this address instead of stdio")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *httpAddr); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

func run(ctx context.Context, httpAddr string) error {
	srv := newServer()
	if httpAddr == "" {
		return server.NewStdioServer(srv).Listen(ctx, os.Stdin, os.Stdout)
	}
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return err
	}
	// Stateful, so that the session's standalone stream and
	// server-initiated requests work as in 2025-11-25.
	h := server.NewStreamableHTTPServer(srv, server.WithStateful(true))
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "mcpgo-server: listening on %s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = h.Shutdown(shutdown)
		_ = hs.Shutdown(shutdown)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type completer struct{}

// CompletePromptArgument completes the name argument of the greet prompt.
func (completer) CompletePromptArgument(_ context.Context, prompt string, arg mcp.CompleteArgument, _ mcp.CompleteContext) (*mcp.Completion, error) {
	values := []string{}
	if prompt == "greet" && arg.Name == "name" {
		for _, n := range []string{"Alice", "Albert", "Bob"} {
			if strings.HasPrefix(n, arg.Value) {
				values = append(values, n)
			}
		}
	}
	return &mcp.Completion{Values: values, Total: len(values)}, nil
}

func newServer() *server.MCPServer {
	var srv *server.MCPServer
	srv = server.NewMCPServer("interop-mcpgo-server", "1.0.0",
		server.WithToolCapabilities(false),
		server.WithResourceCapabilities(true, false),
		server.WithPromptCapabilities(false),
		server.WithLogging(),
		server.WithCompletions(),
		server.WithPromptCompletionProvider(completer{}),
		// Sampling and elicitation as server-to-client requests (2025-11-25).
		server.WithLegacyServerInitiatedRequests(),
	)

	srv.AddTool(mcp.NewTool("echo", mcp.WithDescription("Returns its text argument"), mcp.WithString("text", mcp.Required())),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(req.GetString("text", "")), nil
		})

	srv.AddTool(mcp.NewTool("add", mcp.WithDescription("Adds a and b"), mcp.WithNumber("a", mcp.Required()), mcp.WithNumber("b", mcp.Required())),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			sum := req.GetFloat("a", 0) + req.GetFloat("b", 0)
			return mcp.NewToolResultStructured(map[string]any{"sum": sum}, fmt.Sprintf(`{"sum":%v}`, sum)), nil
		})

	srv.AddTool(mcp.NewTool("progress", mcp.WithDescription("Reports one progress notification per step"), mcp.WithNumber("steps")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			steps := req.GetInt("steps", 1)
			if req.Params.Meta != nil && req.Params.Meta.ProgressToken != nil {
				for i := 1; i <= steps && i <= 100; i++ {
					if err := srv.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
						"progressToken": req.Params.Meta.ProgressToken, "progress": i, "total": steps, "message": fmt.Sprintf("step %d", i),
					}); err != nil {
						return nil, err
					}
				}
			}
			return mcp.NewToolResultText("done"), nil
		})

	srv.AddTool(mcp.NewTool("log", mcp.WithDescription("Sends an info log notification"), mcp.WithString("message")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if err := srv.SendLogMessageToClient(ctx, mcp.NewLoggingMessageNotification(mcp.LoggingLevelInfo, "interop", req.GetString("message", ""))); err != nil {
				return nil, err
			}
			return mcp.NewToolResultText("logged"), nil
		})

	srv.AddTool(mcp.NewTool("ask_llm", mcp.WithDescription("Asks the client's LLM (sampling)"), mcp.WithString("prompt")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			res, err := srv.RequestSampling(ctx, mcp.CreateMessageRequest{CreateMessageParams: mcp.CreateMessageParams{
				Messages:  []mcp.SamplingMessage{{Role: mcp.RoleUser, Content: mcp.NewTextContent(req.GetString("prompt", ""))}},
				MaxTokens: 50,
			}})
			if err != nil {
				return nil, fmt.Errorf("sampling: %w", err)
			}
			reply := ""
			switch c := res.Content.(type) {
			case mcp.TextContent:
				reply = c.Text
			case *mcp.TextContent:
				reply = c.Text
			case map[string]any:
				reply, _ = c["text"].(string)
			}
			return mcp.NewToolResultText("llm said: " + reply), nil
		})

	srv.AddTool(mcp.NewTool("ask_user", mcp.WithDescription("Asks the user for a name (elicitation)"), mcp.WithString("message")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			res, err := srv.RequestElicitation(ctx, mcp.ElicitationRequest{Params: mcp.ElicitationParams{
				Message: req.GetString("message", ""),
				RequestedSchema: map[string]any{
					"type":       "object",
					"properties": map[string]any{"name": map[string]any{"type": "string", "description": "Your name"}},
					"required":   []string{"name"},
				},
			}})
			if err != nil {
				return nil, fmt.Errorf("elicitation: %w", err)
			}
			var name any
			if m, ok := res.Content.(map[string]any); ok {
				name = m["name"]
			}
			return mcp.NewToolResultText(fmt.Sprintf("user said: action=%s name=%v", res.Action, name)), nil
		})

	srv.AddTool(mcp.NewTool("ask_llm_mrtr", mcp.WithDescription("Asks the client's LLM (sampling) with a multi round-trip result"), mcp.WithString("prompt")),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if res := server.SamplingResponse(req.Params.InputResponses, "llm"); res != nil {
				reply := ""
				switch c := res.Content.(type) {
				case mcp.TextContent:
					reply = c.Text
				case *mcp.TextContent:
					reply = c.Text
				case map[string]any:
					reply, _ = c["text"].(string)
				}
				return mcp.NewToolResultText("llm said: " + reply), nil
			}
			return server.NewInputRequestBuilder("").Sample("llm", mcp.CreateMessageParams{
				Messages:  []mcp.SamplingMessage{{Role: mcp.RoleUser, Content: mcp.NewTextContent(req.GetString("prompt", ""))}},
				MaxTokens: 50,
			}).ToolResult(), nil
		})

	srv.AddTool(mcp.NewTool("ask_user_mrtr", mcp.WithDescription("Asks the user for a name (elicitation) with a multi round-trip result"), mcp.WithString("message")),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if res := server.ElicitationResponse(req.Params.InputResponses, "user"); res != nil {
				var name any
				if m, ok := res.Content.(map[string]any); ok {
					name = m["name"]
				}
				return mcp.NewToolResultText(fmt.Sprintf("user said: action=%s name=%v", res.Action, name)), nil
			}
			return server.NewInputRequestBuilder("").Elicit("user", mcp.ElicitationParams{
				Message: req.GetString("message", ""),
				RequestedSchema: map[string]any{
					"type":       "object",
					"properties": map[string]any{"name": map[string]any{"type": "string", "description": "Your name"}},
					"required":   []string{"name"},
				},
			}).ToolResult(), nil
		})

	srv.AddTool(mcp.NewTool("touch", mcp.WithDescription("Announces an update of a resource to the caller"), mcp.WithString("uri")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if err := srv.SendNotificationToClient(ctx, "notifications/resources/updated", map[string]any{"uri": req.GetString("uri", "")}); err != nil {
				return nil, err
			}
			return mcp.NewToolResultText("touched"), nil
		})

	srv.AddResource(mcp.NewResource("interop://greeting", "greeting", mcp.WithMIMEType("text/plain")),
		func(_ context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/plain", Text: "hello from the peer server"}}, nil
		})
	srv.AddResourceTemplate(mcp.NewResourceTemplate("interop://items/{id}", "item", mcp.WithTemplateMIMEType("text/plain")),
		func(_ context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			id := strings.TrimPrefix(req.Params.URI, "interop://items/")
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/plain", Text: "item " + id}}, nil
		})

	srv.AddPrompt(mcp.NewPrompt("greet", mcp.WithPromptDescription("Greets someone"), mcp.WithArgument("name", mcp.RequiredArgument())),
		func(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []mcp.PromptMessage{
				mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent("Hello, "+req.Params.Arguments["name"]+"!")),
			}}, nil
		})
	return srv
}
