package mcp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// talk plays the client in the examples: it serves srv over an in-process
// stdio pipe (a real server calls srv.ServeStdio), runs the initialize
// handshake, sends each request and prints what comes back: notifications
// by method, then the request's result or error.
func talk(srv *mcp.Server, requests ...string) {
	serverIn, clientOut := io.Pipe()
	clientIn, serverOut := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.ServeStream(context.Background(), stdio.NewStream(serverIn, serverOut, nil)) }()
	in := bufio.NewReader(clientIn)
	send := func(line string) { io.WriteString(clientOut, line+"\n") }
	// recv prints messages until the response to a request.
	recv := func(print bool) {
		for {
			line, err := in.ReadBytes('\n')
			if err != nil {
				fmt.Println("read:", err)
				return
			}
			var m struct {
				ID     jsontext.Value `json:"id"`
				Method string         `json:"method"`
				Params jsontext.Value `json:"params"`
				Result jsontext.Value `json:"result"`
				Error  jsontext.Value `json:"error"`
			}
			if err := json.Unmarshal(line, &m); err != nil {
				fmt.Println("bad message:", err)
				return
			}
			switch {
			case m.Method != "":
				fmt.Printf("%s %s\n", m.Method, m.Params)
			case !print:
				return
			case m.Error != nil:
				fmt.Println("error:", string(m.Error))
				return
			default:
				fmt.Println("result:", string(m.Result))
				return
			}
		}
	}
	send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"example","version":"1"}}}`)
	recv(false)
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for i, params := range requests {
		method, params, _ := strings.Cut(params, " ")
		if params == "" {
			params = "{}"
		}
		send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, i+1, method, params))
		recv(true)
	}
	clientOut.Close()
	<-done
}

// A typed tool: the input schema is inferred from the input struct, the
// arguments are validated against it, and the output struct becomes the
// structured content of the result (and its text, for older clients).
func ExampleAddTool() {
	type AddInput struct {
		A float64 `json:"a" description:"First addend"`
		B float64 `json:"b" description:"Second addend"`
	}
	type AddOutput struct {
		Sum float64 `json:"sum"`
	}
	srv := mcp.NewServer(protocol.Implementation{Name: "calculator", Version: "1.0.0"}, nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "add", Description: "Adds two numbers"},
		func(ctx context.Context, req *mcp.Request, in AddInput) (AddOutput, error) {
			return AddOutput{Sum: in.A + in.B}, nil
		})
	mcp.AddTool(srv, &protocol.Tool{Name: "divide", Description: "Divides a by b"},
		func(ctx context.Context, req *mcp.Request, in AddInput) (string, error) {
			if in.B == 0 {
				return "", fmt.Errorf("cannot divide %g by zero", in.A)
			}
			return fmt.Sprint(in.A / in.B), nil
		})

	talk(srv,
		`tools/call {"name":"add","arguments":{"a":2,"b":3}}`,
		`tools/call {"name":"divide","arguments":{"a":1,"b":4}}`,
		`tools/call {"name":"divide","arguments":{"a":1,"b":0}}`,
		`tools/call {"name":"nope"}`,
	)
	// Output:
	// result: {"content":[{"type":"text","text":"{\"sum\":5}"}],"structuredContent":{"sum":5}}
	// result: {"content":[{"type":"text","text":"0.25"}]}
	// result: {"content":[{"type":"text","text":"cannot divide 1 by zero"}],"isError":true}
	// error: {"code":-32602,"message":"unknown tool \"nope\""}
}

// Tools can report progress to clients that ask for it, and log messages
// at the level the client chose.
func ExampleRequest_Progress() {
	srv := mcp.NewServer(protocol.Implementation{Name: "worker", Version: "1.0.0"}, nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "crunch"}, func(ctx context.Context, req *mcp.Request, in struct {
		Steps int `json:"steps" jsonschema:"minimum=1,maximum=10"`
	}) (string, error) {
		for i := 1; i <= in.Steps; i++ {
			if err := req.Progress(ctx, float64(i), float64(in.Steps), ""); err != nil {
				return "", err
			}
		}
		req.Log(ctx, protocol.LoggingLevelDebug, "crunch", "filtered out at level info")
		req.Log(ctx, protocol.LoggingLevelInfo, "crunch", "all done")
		return "crunched", nil
	})
	talk(srv,
		`logging/setLevel {"level":"info"}`,
		`tools/call {"name":"crunch","arguments":{"steps":2},"_meta":{"progressToken":"job-1"}}`,
	)
	// Output:
	// result: {}
	// notifications/progress {"progressToken":"job-1","progress":1,"total":2}
	// notifications/progress {"progressToken":"job-1","progress":2,"total":2}
	// notifications/message {"level":"info","logger":"crunch","data":"all done"}
	// result: {"content":[{"type":"text","text":"crunched"}]}
}

// Static resources have a fixed URI; templates match a family of URIs
// (RFC 6570) and hand the handler the variables.
func ExampleServer_AddResourceTemplate() {
	srv := mcp.NewServer(protocol.Implementation{Name: "docs", Version: "1.0.0"}, nil)
	srv.AddResource(&protocol.Resource{URI: "docs://index", Name: "index", MIMEType: "text/plain"},
		func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return mcp.TextResource(uri, "text/plain", "chapters: intro, usage"), nil
		})
	srv.AddResourceTemplate(&protocol.ResourceTemplate{URITemplate: "docs://chapters/{name}", Name: "chapter", MIMEType: "text/plain"},
		func(ctx context.Context, req *mcp.Request, uri string, vars map[string]string) (*protocol.ReadResourceResult, error) {
			if vars["name"] != "intro" && vars["name"] != "usage" {
				return nil, mcp.ResourceNotFound(uri)
			}
			return mcp.TextResource(uri, "text/plain", "This is the "+vars["name"]+" chapter."), nil
		})
	talk(srv,
		`resources/list`,
		`resources/read {"uri":"docs://index"}`,
		`resources/read {"uri":"docs://chapters/usage"}`,
		`resources/read {"uri":"docs://chapters/faq"}`,
	)
	// Output:
	// result: {"resources":[{"uri":"docs://index","name":"index","mimeType":"text/plain"}]}
	// result: {"contents":[{"uri":"docs://index","mimeType":"text/plain","text":"chapters: intro, usage"}]}
	// result: {"contents":[{"uri":"docs://chapters/usage","mimeType":"text/plain","text":"This is the usage chapter."}]}
	// error: {"code":-32002,"message":"resource not found: docs://chapters/faq","data":{"uri":"docs://chapters/faq"}}
}

// Prompts are message templates with arguments; required arguments are
// checked before the handler runs, and a completer suggests values.
func ExampleServer_AddPrompt() {
	srv := mcp.NewServer(protocol.Implementation{Name: "prompts", Version: "1.0.0"}, nil)
	languages := []string{"go", "python", "rust"}
	srv.AddPrompt(&protocol.Prompt{
		Name:        "review",
		Description: "Review a piece of code",
		Arguments:   []protocol.PromptArgument{{Name: "language", Required: true}},
	}, func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
		return &protocol.GetPromptResult{Messages: []protocol.PromptMessage{{
			Role:    protocol.RoleUser,
			Content: &protocol.TextContent{Text: "Please review this " + args["language"] + " code."},
		}}}, nil
	}, mcp.WithPromptCompleter(func(ctx context.Context, req *mcp.Request, arg, value string, _ map[string]string) (*protocol.Completion, error) {
		var out []string
		for _, l := range languages {
			if strings.HasPrefix(l, value) {
				out = append(out, l)
			}
		}
		return &protocol.Completion{Values: out}, nil
	}))
	talk(srv,
		`prompts/get {"name":"review","arguments":{"language":"go"}}`,
		`prompts/get {"name":"review"}`,
		`completion/complete {"ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"language","value":"py"}}`,
	)
	// Output:
	// result: {"messages":[{"role":"user","content":{"type":"text","text":"Please review this go code."}}]}
	// error: {"code":-32602,"message":"prompt \"review\": missing required arguments: language"}
	// result: {"completion":{"values":["python"]}}
}

// A server's main function: serve one client over standard input and
// output until it goes away or the process is interrupted.
func ExampleServer_ServeStdio() {
	srv := mcp.NewServer(protocol.Implementation{Name: "hello", Version: "1.0.0"}, &mcp.ServerOptions{
		Instructions: "Call greet with a name.",
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "greet"}, func(ctx context.Context, req *mcp.Request, in struct {
		Name string `json:"name"`
	}) (string, error) {
		return "Hello, " + in.Name + "!", nil
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := srv.ServeStdio(ctx); err != nil {
		log.Fatal(err)
	}
}
