package mcp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

type weatherIn struct {
	City  string `json:"city" description:"City name"`
	Days  int    `json:"days,omitzero" jsonschema:"minimum=1,maximum=7"`
	Units string `json:"units,omitzero" jsonschema:"enum=metric|imperial"`
}

type weatherOut struct {
	City        string    `json:"city"`
	Temperature []float64 `json:"temperature"`
}

func addWeather(srv *mcp.Server, calls *int) {
	mcp.AddTool(srv, &protocol.Tool{Name: "weather", Description: "Forecast"},
		func(ctx context.Context, req *mcp.Request, in weatherIn) (weatherOut, error) {
			*calls++
			days := max(in.Days, 1)
			out := weatherOut{City: in.City}
			for i := range days {
				out.Temperature = append(out.Temperature, 20+float64(i))
			}
			return out, nil
		})
}

func TestTypedToolSchemas(t *testing.T) {
	srv := newSrv(nil)
	var calls int
	addWeather(srv, &calls)
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	var list protocol.ListToolsResult
	h.mustCall(protocol.MethodToolsList, nil, &list)
	if len(list.Tools) != 1 {
		t.Fatalf("tools: %+v", list.Tools)
	}
	var in struct {
		Type       string                    `json:"type"`
		Properties map[string]jsontext.Value `json:"properties"`
		Required   []string                  `json:"required"`
	}
	if err := json.Unmarshal(list.Tools[0].InputSchema, &in); err != nil {
		t.Fatal(err)
	}
	if in.Type != "object" || len(in.Properties) != 3 || strings.Join(in.Required, ",") != "city" {
		t.Errorf("inferred input schema %s", list.Tools[0].InputSchema)
	}
	if !strings.Contains(string(in.Properties["city"]), `"City name"`) {
		t.Errorf("description tag lost: %s", in.Properties["city"])
	}
	var out struct {
		Type       string                    `json:"type"`
		Properties map[string]jsontext.Value `json:"properties"`
	}
	if err := json.Unmarshal(list.Tools[0].OutputSchema, &out); err != nil {
		t.Fatalf("output schema %q: %v", list.Tools[0].OutputSchema, err)
	}
	if out.Type != "object" || out.Properties["temperature"] == nil {
		t.Errorf("inferred output schema %s", list.Tools[0].OutputSchema)
	}
}

func TestTypedToolCalls(t *testing.T) {
	srv := newSrv(nil)
	var calls int
	addWeather(srv, &calls)
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	tests := []struct {
		name       string
		args       string // "" means no arguments member
		wantError  string // substring of the isError text; "" for success
		wantStruct string
	}{
		{name: "valid", args: `{"city":"Oslo","days":2}`, wantStruct: `{"city":"Oslo","temperature":[20,21]}`},
		{name: "default fields", args: `{"city":"Rome"}`, wantStruct: `{"city":"Rome","temperature":[20]}`},
		{name: "missing required", args: `{"days":2}`, wantError: "city"},
		{name: "no arguments at all", args: "", wantError: "city"},
		{name: "null arguments", args: `null`, wantError: "city"},
		{name: "wrong type", args: `{"city":42}`, wantError: "city"},
		{name: "below minimum", args: `{"city":"Oslo","days":0}`, wantError: "days"},
		{name: "above maximum", args: `{"city":"Oslo","days":8}`, wantError: "days"},
		{name: "not in enum", args: `{"city":"Oslo","units":"kelvin"}`, wantError: "units"},
		{name: "arguments not an object", args: `["Oslo"]`, wantError: "invalid arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := calls
			var args any
			if tt.args != "" {
				args = tt.args
			}
			res, perr := h.callTool("weather", args)
			if perr != nil {
				t.Fatalf("protocol error %v; validation failures must be tool errors", perr)
			}
			if tt.wantError != "" {
				if !res.IsError || !strings.Contains(firstText(t, res), tt.wantError) {
					t.Errorf("got isError=%v %q, want an error about %q", res.IsError, firstText(t, res), tt.wantError)
				}
				if calls != before {
					t.Errorf("the handler ran on invalid arguments")
				}
				return
			}
			if res.IsError {
				t.Fatalf("unexpected error result: %s", firstText(t, res))
			}
			if string(res.StructuredContent) != tt.wantStruct {
				t.Errorf("structuredContent = %s, want %s", res.StructuredContent, tt.wantStruct)
			}
			// The same JSON as text, for clients without structured content.
			if got := firstText(t, res); got != tt.wantStruct {
				t.Errorf("text = %s, want %s", got, tt.wantStruct)
			}
		})
	}
}

func TestToolOutputKinds(t *testing.T) {
	srv := newSrv(nil)
	type empty struct{}
	mcp.AddTool(srv, &protocol.Tool{Name: "string"}, func(ctx context.Context, req *mcp.Request, _ empty) (string, error) {
		return "plain text", nil
	})
	type named string
	mcp.AddTool(srv, &protocol.Tool{Name: "named-string"}, func(ctx context.Context, req *mcp.Request, _ empty) (named, error) {
		return "named text", nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "content"}, func(ctx context.Context, req *mcp.Request, _ empty) ([]protocol.Content, error) {
		return []protocol.Content{
			&protocol.TextContent{Text: "one"},
			&protocol.ImageContent{Data: []byte{0x89, 'P', 'N', 'G'}, MIMEType: "image/png"},
			&protocol.ResourceLink{URI: "x://r", Name: "r"},
		}, nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "result"}, func(ctx context.Context, req *mcp.Request, _ empty) (*protocol.CallToolResult, error) {
		return &protocol.CallToolResult{Content: []protocol.Content{&protocol.TextContent{Text: "custom"}}, IsError: true}, nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "nil-result"}, func(ctx context.Context, req *mcp.Request, _ empty) (*protocol.CallToolResult, error) {
		return nil, nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "map"}, func(ctx context.Context, req *mcp.Request, _ empty) (map[string]int, error) {
		return map[string]int{"n": 1}, nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "nil-struct"}, func(ctx context.Context, req *mcp.Request, _ empty) (*weatherOut, error) {
		return nil, nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "any"}, func(ctx context.Context, req *mcp.Request, _ empty) (any, error) {
		return "from any", nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "go-error"}, func(ctx context.Context, req *mcp.Request, _ empty) (string, error) {
		return "", errors.New("disk on fire")
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "rpc-error"}, func(ctx context.Context, req *mcp.Request, _ empty) (string, error) {
		return "", &jsonrpc.Error{Code: -32010, Message: "quota exceeded", Data: jsontext.Value(`{"retryAfter":3}`)}
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "panic-free-nil-content"}, func(ctx context.Context, req *mcp.Request, _ empty) (*protocol.CallToolResult, error) {
		return &protocol.CallToolResult{}, nil
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	tests := []struct {
		tool      string
		wantRaw   string // exact result JSON
		wantError *jsonrpc.Error
	}{
		{tool: "string", wantRaw: `{"content":[{"type":"text","text":"plain text"}]}`},
		{tool: "named-string", wantRaw: `{"content":[{"type":"text","text":"named text"}]}`},
		{tool: "content", wantRaw: `{"content":[{"type":"text","text":"one"},{"type":"image","data":"iVBORw==","mimeType":"image/png"},{"type":"resource_link","uri":"x://r","name":"r"}]}`},
		{tool: "result", wantRaw: `{"content":[{"type":"text","text":"custom"}],"isError":true}`},
		{tool: "nil-result", wantRaw: `{"content":[]}`},
		{tool: "panic-free-nil-content", wantRaw: `{"content":[]}`},
		{tool: "map", wantRaw: `{"content":[{"type":"text","text":"{\"n\":1}"}],"structuredContent":{"n":1}}`},
		// An output schema is declared: a result without structured content
		// would break it, so a nil output is a tool error.
		{tool: "nil-struct", wantRaw: `{"content":[{"type":"text","text":"the tool returned no output"}],"isError":true}`},
		{tool: "any", wantRaw: `{"content":[{"type":"text","text":"from any"}]}`},
		{tool: "go-error", wantRaw: `{"content":[{"type":"text","text":"disk on fire"}],"isError":true}`},
		{tool: "rpc-error", wantError: &jsonrpc.Error{Code: -32010, Message: "quota exceeded", Data: jsontext.Value(`{"retryAfter":3}`)}},
		{tool: "no-such-tool", wantError: &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams}},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			resp, _ := h.request(protocol.MethodToolsCall, map[string]any{"name": tt.tool})
			if tt.wantError != nil {
				if resp.Error == nil || resp.Error.Code != tt.wantError.Code {
					t.Fatalf("got %s / %v, want error %d", resp.Result, resp.Error, tt.wantError.Code)
				}
				if tt.wantError.Message != "" && (resp.Error.Message != tt.wantError.Message || string(resp.Error.Data) != string(tt.wantError.Data)) {
					t.Errorf("error = %+v, want %+v", resp.Error, tt.wantError)
				}
				return
			}
			if resp.Error != nil {
				t.Fatalf("protocol error %v", resp.Error)
			}
			if string(resp.Result) != tt.wantRaw {
				t.Errorf("result\n got %s\nwant %s", resp.Result, tt.wantRaw)
			}
		})
	}
}

func TestUntypedAndHandWrittenSchemas(t *testing.T) {
	srv := newSrv(nil)
	var gotArgs jsontext.Value
	srv.AddTool(&protocol.Tool{Name: "raw"}, func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		gotArgs = call.Arguments
		return mcp.TextResult("raw:" + string(call.Arguments)), nil
	})
	schema := jsontext.Value(`{"type":"object","properties":{"q":{"type":"string","minLength":2}},"required":["q"],"additionalProperties":false}`)
	srv.AddTool(&protocol.Tool{Name: "search", InputSchema: schema}, func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return mcp.TextResult("searched"), nil
	})
	// A typed tool whose hand-written schema wins over the inferred one.
	mcp.AddTool(srv, &protocol.Tool{Name: "typed-override", InputSchema: schema},
		func(ctx context.Context, req *mcp.Request, in map[string]any) (string, error) {
			return fmt.Sprint(in["q"]), nil
		})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	var list protocol.ListToolsResult
	h.mustCall(protocol.MethodToolsList, nil, &list)
	schemas := map[string]string{}
	for _, tool := range list.Tools {
		schemas[tool.Name] = string(tool.InputSchema)
	}
	if schemas["raw"] != `{"type":"object"}` {
		t.Errorf("untyped tool without schema lists %s", schemas["raw"])
	}
	for _, name := range []string{"search", "typed-override"} {
		if schemas[name] != string(schema) {
			t.Errorf("%s lists schema %s, want the hand-written one verbatim", name, schemas[name])
		}
	}

	res, perr := h.callTool("raw", `{"anything":[1,2,{"deep":true}]}`)
	if perr != nil || firstText(t, res) != `raw:{"anything":[1,2,{"deep":true}]}` {
		t.Errorf("raw tool: %v %+v", perr, res)
	}
	if string(gotArgs) != `{"anything":[1,2,{"deep":true}]}` {
		t.Errorf("raw arguments reached the handler as %s", gotArgs)
	}
	tests := []struct {
		tool, args string
		ok         bool
	}{
		{"search", `{"q":"go"}`, true},
		{"search", `{"q":"g"}`, false},
		{"search", `{"q":"go","extra":1}`, false},
		{"search", `{}`, false},
		{"typed-override", `{"q":"hello"}`, true},
		{"typed-override", `{"q":1}`, false},
		{"raw", `"a string"`, false},
	}
	for _, tt := range tests {
		res, perr := h.callTool(tt.tool, tt.args)
		if perr != nil {
			t.Errorf("%s(%s): protocol error %v", tt.tool, tt.args, perr)
			continue
		}
		if res.IsError == tt.ok {
			t.Errorf("%s(%s): isError=%v (%s), want ok=%v", tt.tool, tt.args, res.IsError, firstText(t, res), tt.ok)
		}
	}
}

func TestToolAddPanics(t *testing.T) {
	srv := newSrv(nil)
	tests := []struct {
		name string
		add  func()
	}{
		{"no name", func() {
			srv.AddTool(&protocol.Tool{}, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
				return nil, nil
			})
		}},
		{"schema does not compile", func() {
			srv.AddTool(&protocol.Tool{Name: "bad", InputSchema: jsontext.Value(`{"type":12}`)}, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
				return nil, nil
			})
		}},
		{"input type cannot be inferred", func() {
			mcp.AddTool(srv, &protocol.Tool{Name: "chan"}, func(context.Context, *mcp.Request, chan int) (string, error) { return "", nil })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.add()
		})
	}
}

func TestToolMetadataListed(t *testing.T) {
	srv := newSrv(nil)
	tool := &protocol.Tool{
		Name:        "deploy",
		Title:       "Deploy the app",
		Description: "Ships it",
		Annotations: &protocol.ToolAnnotations{Title: "Deploy", ReadOnlyHint: ptrTo(false), DestructiveHint: ptrTo(true), IdempotentHint: ptrTo(false), OpenWorldHint: ptrTo(true)},
		Icons:       []protocol.Icon{{Src: "https://example.com/rocket.png", MIMEType: "image/png", Sizes: []string{"48x48"}}},
		Meta:        protocol.Meta{"example.com/team": "ops"},
	}
	srv.AddTool(tool, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return nil, nil
	})
	tool.Name = "mutated-after-add" // the server keeps its own copy
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	resp, _ := h.request(protocol.MethodToolsList, nil)
	want := `{"tools":[{"name":"deploy","title":"Deploy the app","description":"Ships it","inputSchema":{"type":"object"},` +
		`"annotations":{"title":"Deploy","readOnlyHint":false,"destructiveHint":true,"idempotentHint":false,"openWorldHint":true},` +
		`"icons":[{"src":"https://example.com/rocket.png","mimeType":"image/png","sizes":["48x48"]}],"_meta":{"example.com/team":"ops"}}]}`
	if string(resp.Result) != want {
		t.Errorf("tools/list\n got %s\nwant %s", resp.Result, want)
	}
	if got := srv.Tools(); len(got) != 1 || got[0].Name != "deploy" {
		t.Errorf("Tools() = %+v", got)
	}
}

func TestToolListChanged(t *testing.T) {
	srv := newSrv(nil)
	a := newSessHarness(t, srv)
	a.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	b := newSessHarness(t, srv)
	b.initialize("2024-11-05", protocol.ClientCapabilities{})
	pending := newSessHarness(t, srv) // never initialized: told nothing

	handler := func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return nil, nil
	}
	count := func(h *sessHarness) int { return len(h.out.requests(protocol.NotificationToolsListChanged)) }

	srv.AddTool(&protocol.Tool{Name: "x"}, handler)
	a.out.waitMethod(protocol.NotificationToolsListChanged)
	b.out.waitMethod(protocol.NotificationToolsListChanged)
	srv.AddTool(&protocol.Tool{Name: "x", Description: "replaced"}, handler)
	srv.RemoveTools("x")
	srv.RemoveTools("x", "never-existed") // nothing removed: no notification
	if got := count(a); got != 3 {
		t.Errorf("session a got %d list_changed, want 3 (add, replace, remove)", got)
	}
	if got := count(b); got != 3 {
		t.Errorf("session b got %d list_changed, want 3", got)
	}
	if got := count(pending); got != 0 {
		t.Errorf("uninitialized session got %d list_changed", got)
	}
	n := a.out.requests(protocol.NotificationToolsListChanged)[0]
	if len(n.Params) != 0 && string(n.Params) != "{}" {
		t.Errorf("list_changed params = %s", n.Params)
	}
	// A session that went away is skipped without harm.
	b.ss.Close()
	srv.AddTool(&protocol.Tool{Name: "y"}, handler)
	if got := count(b); got != 3 {
		t.Errorf("closed session got a notification")
	}
}

func TestToolPagination(t *testing.T) {
	srv := newSrv(&mcp.ServerOptions{PageSize: 2})
	handler := func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return nil, nil
	}
	for _, name := range []string{"echo", "add", "delta", "bravo", "charlie"} {
		srv.AddTool(&protocol.Tool{Name: name}, handler)
	}
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	var names []string
	var cursors []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		var res protocol.ListToolsResult
		var params any
		if cursor != "" {
			params = &protocol.PaginatedRequestParams{Cursor: cursor}
		}
		h.mustCall(protocol.MethodToolsList, params, &res)
		if len(res.Tools) > 2 {
			t.Fatalf("page of %d tools with PageSize 2", len(res.Tools))
		}
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
		}
		if res.NextCursor == "" {
			break
		}
		cursors = append(cursors, res.NextCursor)
		cursor = res.NextCursor
	}
	if strings.Join(names, ",") != "add,bravo,charlie,delta,echo" {
		t.Errorf("paged through %v", names)
	}
	if len(cursors) != 2 {
		t.Errorf("cursors %v", cursors)
	}
	for _, c := range cursors {
		if strings.Contains(c, "bravo") || strings.Contains(c, "delta") {
			t.Errorf("cursor %q exposes a tool name: it should be opaque", c)
		}
	}

	// A cursor stays valid when the tool it points after is removed.
	srv.RemoveTools("bravo")
	var res protocol.ListToolsResult
	h.mustCall(protocol.MethodToolsList, &protocol.PaginatedRequestParams{Cursor: cursors[0]}, &res)
	if len(res.Tools) == 0 || res.Tools[0].Name != "charlie" {
		t.Errorf("after removing the cursor's tool: %+v", res.Tools)
	}

	for _, bad := range []string{"not base64 !!!", "Zm9v" /* "foo": no prefix */, "%%%"} {
		if err := h.call(protocol.MethodToolsList, &protocol.PaginatedRequestParams{Cursor: bad}, nil); err == nil || err.Code != jsonrpc.CodeInvalidParams {
			t.Errorf("cursor %q: %v, want -32602", bad, err)
		}
	}
}

func TestToolMiddleware(t *testing.T) {
	srv := newSrv(nil)
	var mu sync.Mutex
	var log []string
	record := func(s string) {
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
	}
	// A tool registered before the middleware is still wrapped by it.
	mcp.AddTool(srv, &protocol.Tool{Name: "early"}, func(ctx context.Context, req *mcp.Request, in struct {
		N int `json:"n"`
	}) (string, error) {
		record(fmt.Sprintf("early(%d)", in.N))
		return "e", nil
	})
	srv.UseTools(func(next mcp.ToolHandler) mcp.ToolHandler {
		return func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			record("outer:" + call.Name + ":" + string(call.Arguments))
			res, err := next(ctx, req, call)
			record("outer-done")
			return res, err
		}
	}, func(next mcp.ToolHandler) mcp.ToolHandler {
		return func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			record("inner:" + call.Name)
			if call.Name == "late" && strings.Contains(string(call.Arguments), "deny") {
				return mcp.ErrorResult(errors.New("denied by policy")), nil
			}
			return next(ctx, req, call)
		}
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "late"}, func(ctx context.Context, req *mcp.Request, in map[string]any) (string, error) {
		record("late")
		return "l", nil
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	check := func(want ...string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if strings.Join(log, " | ") != strings.Join(want, " | ") {
			t.Errorf("middleware saw\n %s\nwant\n %s", strings.Join(log, " | "), strings.Join(want, " | "))
		}
		log = nil
	}
	h.callTool("late", `{"x":1}`)
	check(`outer:late:{"x":1}`, "inner:late", "late", "outer-done")
	res, _ := h.callTool("late", `{"deny":true}`)
	if !res.IsError || firstText(t, res) != "denied by policy" {
		t.Errorf("middleware short-circuit: %+v", res)
	}
	check(`outer:late:{"deny":true}`, "inner:late", "outer-done")
	h.callTool("early", `{"n":7}`)
	check(`outer:early:{"n":7}`, "inner:early", "early(7)", "outer-done")
	// Invalid arguments are rejected before the middleware runs.
	h.callTool("early", `{"n":"seven"}`)
	check()
}

func TestMethodMiddleware(t *testing.T) {
	srv := newSrv(nil)
	var order []string
	mw := func(name string) mcp.Middleware {
		return func(next mcp.MethodHandler) mcp.MethodHandler {
			return func(ctx context.Context, req *mcp.Request) (any, error) {
				order = append(order, name+">"+req.Method)
				res, err := next(ctx, req)
				order = append(order, "<"+name)
				return res, err
			}
		}
	}
	srv.Use(mw("a"), mw("b"))
	srv.Use(mw("c"))
	srv.Use(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, req *mcp.Request) (any, error) {
			switch req.Method {
			case "custom/hello":
				return map[string]string{"hello": "world"}, nil
			case protocol.MethodPromptsList:
				return nil, &jsonrpc.Error{Code: -32099, Message: "prompts are off today"}
			case protocol.MethodToolsCall:
				// Rewrite the params before the method decodes them.
				req.Params = jsontext.Value(`{"name":"echo","arguments":{"text":"rewritten"}}`)
			}
			return next(ctx, req)
		}
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.Request, in struct {
		Text string `json:"text"`
	}) (string, error) {
		return in.Text, nil
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	order = nil

	h.mustCall(protocol.MethodPing, nil, nil)
	if got := strings.Join(order, " "); got != "a>ping b>ping c>ping <c <b <a" {
		t.Errorf("order: %s", got)
	}
	var hello map[string]string
	h.mustCall("custom/hello", nil, &hello)
	if hello["hello"] != "world" {
		t.Errorf("custom method via middleware: %v", hello)
	}
	if err := h.call(protocol.MethodPromptsList, nil, nil); err == nil || err.Code != -32099 {
		t.Errorf("middleware error: %v", err)
	}
	res, _ := h.callTool("echo", `{"text":"original"}`)
	if firstText(t, res) != "rewritten" {
		t.Errorf("params rewrite: %q", firstText(t, res))
	}
}
