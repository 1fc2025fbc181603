package mcp_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// fuzzServer has a little of everything that answers without the client's
// help, so that fuzzed requests reach deep into the server.
func fuzzServer() *mcp.Server {
	srv := newResourceServer(&mcp.ServerOptions{PageSize: 2})
	mcp.AddTool(srv, &protocol.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.Request, in struct {
		Text  string   `json:"text"`
		Count int      `json:"count,omitzero" jsonschema:"minimum=0,maximum=3"`
		Tags  []string `json:"tags,omitzero"`
	}) (map[string]any, error) {
		req.Progress(ctx, 1, 2, in.Text)
		req.Log(ctx, protocol.LoggingLevelInfo, "fuzz", in)
		return map[string]any{"text": in.Text, "count": in.Count}, nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "task", Execution: &protocol.ToolExecution{TaskSupport: protocol.TaskSupportOptional}},
		func(ctx context.Context, req *mcp.Request, in map[string]any) (string, error) {
			return req.TaskID(), nil
		})
	srv.AddTool(&protocol.Tool{Name: "raw", InputSchema: jsontext.Value(`{"type":"object","properties":{"n":{"type":"integer"}},"additionalProperties":false}`)},
		func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return mcp.TextResult(string(call.Arguments)), nil
		})
	srv.AddPrompt(&protocol.Prompt{Name: "greet", Arguments: []protocol.PromptArgument{{Name: "who", Required: true}}},
		func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
			return &protocol.GetPromptResult{Messages: []protocol.PromptMessage{{Role: protocol.RoleUser, Content: &protocol.TextContent{Text: "hi " + args["who"]}}}}, nil
		}, mcp.WithPromptCompleter(func(ctx context.Context, req *mcp.Request, arg, value string, _ map[string]string) (*protocol.Completion, error) {
			return &protocol.Completion{Values: []string{value + "1", value + "2"}}, nil
		}))
	return srv
}

// FuzzHandleRequest feeds arbitrary frames to sessions, as a transport
// would after jsonrpc.Decode: the server must never panic, and must answer
// every request with one valid JSON-RPC response carrying its id.
func FuzzHandleRequest(f *testing.F) {
	seeds := []string{
		`{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":"a","method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{"roots":{}},"clientInfo":{"name":"x","version":"1"}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"c2IxOmVjaG8"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi","count":2,"tags":["a"]},"_meta":{"progressToken":7}}}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"task","arguments":{},"task":{"ttl":1000}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"raw","arguments":{"n":1.5}}}`,
		`{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"test://users/a/posts/b"}}`,
		`{"jsonrpc":"2.0","id":7,"method":"resources/subscribe","params":{"uri":"file:///x/y"}}`,
		`{"jsonrpc":"2.0","id":8,"method":"resources/templates/list"}`,
		`{"jsonrpc":"2.0","id":9,"method":"prompts/get","params":{"name":"greet","arguments":{"who":"w"}}}`,
		`{"jsonrpc":"2.0","id":10,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"who","value":"a"}}}`,
		`{"jsonrpc":"2.0","id":11,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"file:///{+path}"},"argument":{"name":"path","value":""}}}`,
		`{"jsonrpc":"2.0","id":12,"method":"logging/setLevel","params":{"level":"alert"}}`,
		`{"jsonrpc":"2.0","id":13,"method":"tasks/list","params":{"cursor":"c2IxOnh4"}}`,
		`{"jsonrpc":"2.0","id":14,"method":"tasks/get","params":{"taskId":"nope"}}`,
		`{"jsonrpc":"2.0","id":15,"method":"tasks/result","params":{"taskId":""}}`,
		`{"jsonrpc":"2.0","id":16,"method":"tasks/cancel","params":{"taskId":"x","_meta":{"io.modelcontextprotocol/related-task":{"taskId":"y"}}}}`,
		`{"jsonrpc":"2.0","id":17,"method":"tools/call","params":[]}`,
		`{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"name":"echo","arguments":"str"}}`,
		`{"jsonrpc":"2.0","id":19,"method":"prompts/get","params":{"name":"greet","arguments":{"who":null}}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}`,
		`{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`,
		`{"jsonrpc":"2.0","id":20,"result":{}}`,
		`{"jsonrpc":"2.0","id":21,"error":{"code":-1,"message":"x"}}`,
		`{"jsonrpc":"2.0","id":22,"method":"resources/read","params":{"uri":"search://items?q=%ZZ"}}`,
		`{"jsonrpc":"2.0","id":23,"method":"tools/call","params":{"name":"\u0000","_meta":{"progressToken":{"a":1}}}}`,
		`{"jsonrpc":"2.0","id":9223372036854775807,"method":"tools/list","params":{"_meta":null}}`,
		`not json`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	srv := fuzzServer()
	f.Cleanup(func() { srv.Close() })
	initFrame := jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: jsonrpc.StringID("init"), Method: "initialize",
		Params: jsontext.Value(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}`)})

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := jsonrpc.Decode(bytes.Clone(data))
		if err != nil {
			return // the transport answers these itself
		}
		for _, initialized := range []bool{false, true} {
			sink := newFrameSink(t)
			sess, err := srv.NewSession(context.Background(), "", sink)
			if err != nil {
				t.Fatal(err)
			}
			if initialized {
				init := mustDecodeRequest(t, bytes.Clone(initFrame))
				if resp := sess.HandleRequest(context.Background(), init, sink); mustDecodeResponse(t, resp).Error != nil {
					t.Fatalf("initialize failed: %s", resp)
				}
				sess.HandleNotification(context.Background(), &jsonrpc.Request{Method: protocol.NotificationInitialized})
			}
			switch m := m.(type) {
			case *jsonrpc.Response:
				sess.HandleResponse(m)
			case *jsonrpc.Request:
				if m.IsNotification() {
					sess.HandleNotification(context.Background(), m)
					break
				}
				raw := sess.HandleRequest(context.Background(), m, sink)
				if raw == nil {
					t.Fatalf("no response to %s", data)
				}
				if !jsontext.Value(raw).IsValid() {
					t.Fatalf("invalid JSON response %q to %s", raw, data)
				}
				resp := mustDecodeResponse(t, raw)
				if resp.ID != m.ID {
					t.Fatalf("response id %v, request id %v", resp.ID, m.ID)
				}
			}
			sess.Close()
		}
	})
}
