// Command gosdk-server is a small MCP server built on the official Go SDK
// (github.com/modelcontextprotocol/go-sdk), the peer that the interop tests
// connect Switchboard's client to. It serves stdio by default, or
// Streamable HTTP at /mcp with -http ADDR (it prints "listening on ADDR"
// on stderr once ready). -stateless serves HTTP with
// StreamableHTTPOptions.Stateless, the only HTTP mode in which the SDK
// offers revision 2026-07-28 (its stateful handler offers 2025-11-25 and
// earlier).
//
// Its fixtures are the same as cmd/mcpgo-server's, so one set of checks
// serves both:
//
//   - tools: echo {text} → the text; add {a, b} → structured {sum};
//     progress {steps} → one progress notification per step, then "done";
//     log {message} → an info log notification, then "logged";
//     ask_llm {prompt} → sampling, then "llm said: " + the reply's text;
//     grow → adds a tool "grown" at run time (tools/list_changed);
//     ask_user {message} → elicitation of {name}, then
//     "user said: action=ACTION name=NAME"; touch {uri} → a
//     resources/updated notification to the sessions subscribed to uri;
//     ask_llm_mrtr and ask_user_mrtr → the same answers as ask_llm and
//     ask_user, but written as multi round-trip handlers (SEP-2322): they
//     return input requests, which a 2026-07-28 client fulfils and retries
//     with, and which the SDK fulfils itself with server-initiated
//     requests for an earlier client. (At 2026-07-28 the SDK refuses the
//     server-initiated requests that ask_llm and ask_user send.)
//   - resources: interop://greeting (text "hello from the peer server");
//     template interop://items/{id} (text "item ID").
//   - prompts: greet {name} → a user message "Hello, NAME!"; completion of
//     its name argument from Alice, Albert, Bob.
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
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	httpAddr := flag.String("http", "", "serve Streamable HTTP at /mcp on this address instead of stdio")
	stateless := flag.Bool("stateless", false, "with -http: serve stateless Streamable HTTP (which offers 2026-07-28)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *httpAddr, *stateless); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

func run(ctx context.Context, httpAddr string, stateless bool) error {
	srv := newServer()
	if httpAddr == "" {
		return srv.Run(ctx, &mcp.StdioTransport{})
	}
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: stateless}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "gosdk-server: listening on %s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// subscriptions records which sessions subscribed to which URIs.
type subscriptions struct {
	mu   sync.Mutex
	uris map[string]int
}

func newServer() *mcp.Server {
	subs := &subscriptions{uris: map[string]int{}}
	srv := mcp.NewServer(&mcp.Implementation{Name: "interop-gosdk-server", Version: "1.0.0"}, &mcp.ServerOptions{
		CompletionHandler: complete,
		SubscribeHandler: func(_ context.Context, req *mcp.SubscribeRequest) error {
			subs.mu.Lock()
			defer subs.mu.Unlock()
			subs.uris[req.Params.URI]++
			return nil
		},
		UnsubscribeHandler: func(_ context.Context, req *mcp.UnsubscribeRequest) error {
			subs.mu.Lock()
			defer subs.mu.Unlock()
			subs.uris[req.Params.URI]--
			return nil
		},
	})

	type echoIn struct {
		Text string `json:"text" jsonschema:"the text to echo back"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "echo", Description: "Returns its text argument"},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
		})

	type addIn struct {
		A float64 `json:"a"`
		B float64 `json:"b"`
	}
	type addOut struct {
		Sum float64 `json:"sum"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "add", Description: "Adds a and b"},
		func(_ context.Context, _ *mcp.CallToolRequest, in addIn) (*mcp.CallToolResult, addOut, error) {
			return nil, addOut{Sum: in.A + in.B}, nil
		})

	type progressIn struct {
		Steps int `json:"steps"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "progress", Description: "Reports one progress notification per step"},
		func(ctx context.Context, req *mcp.CallToolRequest, in progressIn) (*mcp.CallToolResult, any, error) {
			tok := req.Params.GetProgressToken()
			for i := 1; i <= in.Steps && i <= 100; i++ {
				if tok == nil {
					break
				}
				if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
					ProgressToken: tok, Progress: float64(i), Total: float64(in.Steps), Message: fmt.Sprintf("step %d", i),
				}); err != nil {
					return nil, nil, err
				}
			}
			return text("done"), nil, nil
		})

	type logIn struct {
		Message string `json:"message"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "log", Description: "Sends an info log notification"},
		func(ctx context.Context, req *mcp.CallToolRequest, in logIn) (*mcp.CallToolResult, any, error) {
			if err := req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Logger: "interop", Data: in.Message}); err != nil {
				return nil, nil, err
			}
			return text("logged"), nil, nil
		})

	type askLLMIn struct {
		Prompt string `json:"prompt"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "ask_llm", Description: "Asks the client's LLM (sampling)"},
		func(ctx context.Context, req *mcp.CallToolRequest, in askLLMIn) (*mcp.CallToolResult, any, error) {
			res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{
				Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Prompt}}},
				MaxTokens: 50,
			})
			if err != nil {
				return nil, nil, fmt.Errorf("sampling: %w", err)
			}
			reply := ""
			if t, ok := res.Content.(*mcp.TextContent); ok {
				reply = t.Text
			}
			return text("llm said: " + reply), nil, nil
		})

	type askUserIn struct {
		Message string `json:"message"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "ask_user", Description: "Asks the user for a name (elicitation)"},
		func(ctx context.Context, req *mcp.CallToolRequest, in askUserIn) (*mcp.CallToolResult, any, error) {
			res, err := req.Session.Elicit(ctx, &mcp.ElicitParams{
				Message: in.Message,
				RequestedSchema: map[string]any{
					"type":       "object",
					"properties": map[string]any{"name": map[string]any{"type": "string", "description": "Your name"}},
					"required":   []string{"name"},
				},
			})
			if err != nil {
				return nil, nil, fmt.Errorf("elicitation: %w", err)
			}
			return text(fmt.Sprintf("user said: action=%s name=%v", res.Action, res.Content["name"])), nil, nil
		})

	mcp.AddTool(srv, &mcp.Tool{Name: "ask_llm_mrtr", Description: "Asks the client's LLM (sampling) with a multi round-trip result"},
		func(_ context.Context, req *mcp.CallToolRequest, in askLLMIn) (*mcp.CallToolResult, any, error) {
			if r, ok := req.Params.InputResponses["llm"].(*mcp.CreateMessageWithToolsResult); ok {
				reply := ""
				if len(r.Content) > 0 {
					if t, ok := r.Content[0].(*mcp.TextContent); ok {
						reply = t.Text
					}
				}
				return text("llm said: " + reply), nil, nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"llm": &mcp.CreateMessageParams{
				Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Prompt}}},
				MaxTokens: 50,
			}}}, nil, nil
		})

	mcp.AddTool(srv, &mcp.Tool{Name: "ask_user_mrtr", Description: "Asks the user for a name (elicitation) with a multi round-trip result"},
		func(_ context.Context, req *mcp.CallToolRequest, in askUserIn) (*mcp.CallToolResult, any, error) {
			if r, ok := req.Params.InputResponses["user"].(*mcp.ElicitResult); ok {
				return text(fmt.Sprintf("user said: action=%s name=%v", r.Action, r.Content["name"])), nil, nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"user": &mcp.ElicitParams{
				Message: in.Message,
				RequestedSchema: map[string]any{
					"type":       "object",
					"properties": map[string]any{"name": map[string]any{"type": "string", "description": "Your name"}},
					"required":   []string{"name"},
				},
			}}}, nil, nil
		})

	type touchIn struct {
		URI string `json:"uri"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "touch", Description: "Announces an update of a resource to its subscribers"},
		func(ctx context.Context, req *mcp.CallToolRequest, in touchIn) (*mcp.CallToolResult, any, error) {
			if err := srv.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: in.URI}); err != nil {
				return nil, nil, err
			}
			return text("touched"), nil, nil
		})

	// grow adds a tool named "grown" (the server then tells its clients
	// that its tools changed): the gateway tests watch that change reach
	// the gateway's own clients.
	mcp.AddTool(srv, &mcp.Tool{Name: "grow", Description: "Adds the tool \"grown\" (tools/list_changed)"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			mcp.AddTool(srv, &mcp.Tool{Name: "grown", Description: "Added at run time by grow"},
				func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
					return text("grown"), nil, nil
				})
			return text("grew"), nil, nil
		})

	srv.AddResource(&mcp.Resource{URI: "interop://greeting", Name: "greeting", MIMEType: "text/plain"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: "hello from the peer server"}}}, nil
		})
	srv.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: "interop://items/{id}", Name: "item", MIMEType: "text/plain"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			id := strings.TrimPrefix(req.Params.URI, "interop://items/")
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: "item " + id}}}, nil
		})

	srv.AddPrompt(&mcp.Prompt{Name: "greet", Description: "Greets someone", Arguments: []*mcp.PromptArgument{{Name: "name", Required: true}}},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{
				{Role: "user", Content: &mcp.TextContent{Text: "Hello, " + req.Params.Arguments["name"] + "!"}},
			}}, nil
		})
	return srv
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// complete completes the name argument of the greet prompt.
func complete(_ context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	var values []string
	if req.Params.Ref != nil && req.Params.Ref.Type == "ref/prompt" && req.Params.Ref.Name == "greet" && req.Params.Argument.Name == "name" {
		for _, n := range []string{"Alice", "Albert", "Bob"} {
			if strings.HasPrefix(n, req.Params.Argument.Value) {
				values = append(values, n)
			}
		}
	}
	if values == nil {
		values = []string{}
	}
	return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: values, Total: len(values)}}, nil
}
