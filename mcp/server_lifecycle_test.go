package mcp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

func TestInitializeNegotiation(t *testing.T) {
	all := []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}
	tests := []struct {
		name      string
		supported []string // nil: every revision
		offered   string
		want      string
	}{
		{name: "2025-11-25", offered: "2025-11-25", want: "2025-11-25"},
		{name: "2025-06-18", offered: "2025-06-18", want: "2025-06-18"},
		{name: "2025-03-26", offered: "2025-03-26", want: "2025-03-26"},
		{name: "2024-11-05", offered: "2024-11-05", want: "2024-11-05"},
		{name: "future revision", offered: "2099-01-01", want: "2025-11-25"},
		{name: "older than any supported", offered: "2024-10-07", want: "2025-11-25"},
		{name: "stateless revision over initialize", offered: "2026-07-28", want: "2025-11-25"},
		{name: "garbage", offered: "not-a-version", want: "2025-11-25"},
		{name: "restricted: newest unsupported", supported: []string{"2025-06-18", "2025-03-26"}, offered: "2025-11-25", want: "2025-06-18"},
		{name: "restricted: supported", supported: []string{"2025-06-18", "2025-03-26"}, offered: "2025-03-26", want: "2025-03-26"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSrv(&mcp.ServerOptions{SupportedVersions: tt.supported, Instructions: "use the tools wisely"})
			if tt.supported == nil {
				if got := srv.SupportedVersions(); strings.Join(got, ",") != strings.Join(all, ",") {
					t.Errorf("SupportedVersions = %v, want %v", got, all)
				}
			}
			h := newSessHarness(t, srv)
			if v := h.ss.ProtocolVersion(); v != "" {
				t.Errorf("ProtocolVersion before initialize = %q", v)
			}
			res := h.initialize(tt.offered, protocol.ClientCapabilities{Roots: &protocol.RootsCapability{ListChanged: true}})
			if res.ProtocolVersion != tt.want {
				t.Errorf("protocolVersion = %q, want %q", res.ProtocolVersion, tt.want)
			}
			if res.ServerInfo.Name != srvImpl.Name || res.ServerInfo.Version != srvImpl.Version {
				t.Errorf("serverInfo = %+v, want %+v", res.ServerInfo, srvImpl)
			}
			if res.Instructions != "use the tools wisely" {
				t.Errorf("instructions = %q", res.Instructions)
			}
			if got := h.ss.ProtocolVersion(); got != tt.want {
				t.Errorf("session ProtocolVersion = %q, want %q", got, tt.want)
			}
			if got := h.ss.ClientInfo().Name; got != "test-client" {
				t.Errorf("ClientInfo().Name = %q", got)
			}
			if c := h.ss.ClientCapabilities(); c.Roots == nil || !c.Roots.ListChanged {
				t.Errorf("ClientCapabilities = %+v, want roots.listChanged", c)
			}
		})
	}
}

func TestInitializeErrors(t *testing.T) {
	srv := newSrv(nil)
	h := newSessHarness(t, srv)

	// No protocolVersion: invalid params, and the session may try again.
	err := h.call(protocol.MethodInitialize, `{"capabilities":{},"clientInfo":{"name":"c","version":"1"}}`, nil)
	if err == nil || err.Code != jsonrpc.CodeInvalidParams {
		t.Fatalf("initialize without protocolVersion: %v, want -32602", err)
	}
	// Params of the wrong shape.
	err = h.call(protocol.MethodInitialize, `{"protocolVersion":7}`, nil)
	if err == nil || err.Code != jsonrpc.CodeInvalidParams {
		t.Fatalf("initialize with a numeric protocolVersion: %v, want -32602", err)
	}
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	// A second initialize is refused.
	err = h.call(protocol.MethodInitialize, &protocol.InitializeRequestParams{ProtocolVersion: "2025-06-18"}, nil)
	if err == nil || err.Code != jsonrpc.CodeInvalidRequest {
		t.Fatalf("second initialize: %v, want -32600", err)
	}
	if v := h.ss.ProtocolVersion(); v != protocol.LatestVersion {
		t.Errorf("a refused initialize changed the version to %q", v)
	}
}

func TestRequestsBeforeInitialize(t *testing.T) {
	srv := newSrv(nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "t"}, func(ctx context.Context, req *mcp.Request, in struct{}) (string, error) {
		return "ran", nil
	})
	h := newSessHarness(t, srv)

	for _, method := range []string{protocol.MethodToolsList, protocol.MethodToolsCall, protocol.MethodResourcesList, protocol.MethodLoggingSetLevel, "no/such/method"} {
		err := h.call(method, `{"name":"t","level":"info"}`, nil)
		if err == nil || err.Code != jsonrpc.CodeInvalidRequest {
			t.Errorf("%s before initialize: %v, want -32600", method, err)
		}
	}
	// ping is allowed at any time.
	resp, _ := h.request(protocol.MethodPing, nil)
	if resp.Error != nil || string(resp.Result) != "{}" {
		t.Errorf("ping before initialize: result %s, error %v; want {}", resp.Result, resp.Error)
	}

	// Between the initialize response and notifications/initialized the
	// client may already send requests.
	h.mustCall(protocol.MethodInitialize, &protocol.InitializeRequestParams{ProtocolVersion: "2025-06-18"}, nil)
	var list protocol.ListToolsResult
	h.mustCall(protocol.MethodToolsList, nil, &list)
	if len(list.Tools) != 1 {
		t.Errorf("tools/list after initialize: %d tools", len(list.Tools))
	}
}

func TestInitializedNotificationGatesBroadcasts(t *testing.T) {
	srv := newSrv(nil)
	h := newSessHarness(t, srv)
	h.mustCall(protocol.MethodInitialize, &protocol.InitializeRequestParams{ProtocolVersion: protocol.LatestVersion}, nil)

	// Not initialized yet: list changes are not announced.
	srv.AddTool(&protocol.Tool{Name: "early"}, func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return nil, nil
	})
	if n := len(h.out.requests(protocol.NotificationToolsListChanged)); n != 0 {
		t.Fatalf("list_changed sent before notifications/initialized (%d)", n)
	}
	h.notify(protocol.NotificationInitialized, nil)
	srv.RemoveTools("early")
	h.out.waitMethod(protocol.NotificationToolsListChanged)

	// A repeated initialized notification is harmless.
	h.notify(protocol.NotificationInitialized, nil)
	var list protocol.ListToolsResult
	h.mustCall(protocol.MethodToolsList, nil, &list)
}

func TestCapabilitiesInferred(t *testing.T) {
	noop := func(ctx context.Context, req *mcp.Request, in struct{}) (string, error) { return "", nil }
	tests := []struct {
		name    string
		version string
		opts    *mcp.ServerOptions
		setup   func(*mcp.Server)
		want    []string // top-level capability keys, sorted
	}{
		{name: "empty server", setup: func(*mcp.Server) {}, want: []string{"logging"}},
		{name: "tools", setup: func(s *mcp.Server) {
			mcp.AddTool(s, &protocol.Tool{Name: "t"}, noop)
		}, want: []string{"logging", "tools"}},
		{name: "resource", setup: func(s *mcp.Server) {
			s.AddResource(&protocol.Resource{URI: "x://a", Name: "a"}, nil)
		}, want: []string{"logging", "resources"}},
		{name: "template only", setup: func(s *mcp.Server) {
			s.AddResourceTemplate(&protocol.ResourceTemplate{URITemplate: "x://{id}", Name: "a"}, nil)
		}, want: []string{"logging", "resources"}},
		{name: "prompt without completer", setup: func(s *mcp.Server) {
			s.AddPrompt(&protocol.Prompt{Name: "p"}, nil)
		}, want: []string{"logging", "prompts"}},
		{name: "prompt with completer", setup: func(s *mcp.Server) {
			s.AddPrompt(&protocol.Prompt{Name: "p"}, nil, mcp.WithPromptCompleter(func(context.Context, *mcp.Request, string, string, map[string]string) (*protocol.Completion, error) {
				return nil, nil
			}))
		}, want: []string{"completions", "logging", "prompts"}},
		{name: "completion handler", opts: &mcp.ServerOptions{Completion: func(context.Context, *mcp.Request, *protocol.CompleteRequestParams) (*protocol.CompleteResult, error) {
			return nil, nil
		}}, setup: func(*mcp.Server) {}, want: []string{"completions", "logging"}},
		{name: "task tool at 2025-11-25", setup: func(s *mcp.Server) {
			mcp.AddTool(s, &protocol.Tool{Name: "t", Execution: &protocol.ToolExecution{TaskSupport: protocol.TaskSupportOptional}}, noop)
		}, want: []string{"logging", "tasks", "tools"}},
		{name: "task tool at 2025-06-18", version: "2025-06-18", setup: func(s *mcp.Server) {
			mcp.AddTool(s, &protocol.Tool{Name: "t", Execution: &protocol.ToolExecution{TaskSupport: protocol.TaskSupportRequired}}, noop)
		}, want: []string{"logging", "tools"}},
		{name: "tool removed again", setup: func(s *mcp.Server) {
			mcp.AddTool(s, &protocol.Tool{Name: "t"}, noop)
			s.RemoveTools("t")
		}, want: []string{"logging"}},
		{name: "explicit capabilities", opts: &mcp.ServerOptions{Capabilities: &protocol.ServerCapabilities{
			Prompts: &protocol.PromptsCapability{},
		}}, setup: func(s *mcp.Server) {
			mcp.AddTool(s, &protocol.Tool{Name: "t"}, noop)
		}, want: []string{"prompts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSrv(tt.opts)
			tt.setup(srv)
			h := newSessHarness(t, srv)
			v := tt.version
			if v == "" {
				v = protocol.LatestVersion
			}
			resp, _ := h.request(protocol.MethodInitialize, &protocol.InitializeRequestParams{ProtocolVersion: v})
			if resp.Error != nil {
				t.Fatal(resp.Error)
			}
			var raw struct {
				Capabilities map[string]jsontext.Value `json:"capabilities"`
			}
			if err := json.Unmarshal(resp.Result, &raw); err != nil {
				t.Fatal(err)
			}
			var got []string
			for k := range raw.Capabilities {
				got = append(got, k)
			}
			sortStrings(got)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("capabilities %s: keys %v, want %v", resp.Result, got, tt.want)
			}
			if c, ok := raw.Capabilities["tools"]; ok && tt.opts == nil && string(c) != `{"listChanged":true}` {
				t.Errorf("tools capability = %s", c)
			}
			if c, ok := raw.Capabilities["resources"]; ok && string(c) != `{"subscribe":true,"listChanged":true}` && string(c) != `{"listChanged":true,"subscribe":true}` {
				t.Errorf("resources capability = %s", c)
			}
			if c, ok := raw.Capabilities["tasks"]; ok {
				var tc protocol.ServerTasksCapability
				if err := json.Unmarshal(c, &tc); err != nil || tc.List == nil || tc.Cancel == nil || tc.Requests == nil || tc.Requests.Tools == nil || tc.Requests.Tools.Call == nil {
					t.Errorf("tasks capability = %s", c)
				}
			}
		})
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestSessionLifecycleHooks(t *testing.T) {
	var started, ended []string
	srv := newSrv(&mcp.ServerOptions{
		MaxSessions:    2,
		OnSessionStart: func(ss *mcp.ServerSession) { started = append(started, ss.ID()) },
		OnSessionEnd:   func(ss *mcp.ServerSession) { ended = append(ended, ss.ID()) },
	})
	a, err := srv.NewSession(context.Background(), "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := srv.NewSession(context.Background(), "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.NewSession(context.Background(), "c", nil); err == nil {
		t.Fatal("a third session beyond MaxSessions was accepted")
	}
	n := 0
	for range srv.Sessions() {
		n++
	}
	if n != 2 {
		t.Errorf("Sessions() has %d, want 2", n)
	}
	a.Close()
	a.Close() // idempotent
	select {
	case <-a.Done():
	default:
		t.Error("Done not closed after Close")
	}
	// A closed session refuses requests with a proper error response.
	raw := a.HandleRequest(context.Background(), &jsonrpc.Request{ID: jsonrpc.Int64ID(1), Method: "ping"}, newFrameSink(t))
	if resp := mustDecodeResponse(t, raw); resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidRequest {
		t.Errorf("request on a closed session: %s", raw)
	}
	if _, err := srv.NewSession(context.Background(), "c", nil); err != nil {
		t.Errorf("a session after one closed: %v", err)
	}
	srv.Close()
	select {
	case <-b.Done():
	case <-time.After(testWait):
		t.Error("Server.Close did not end session b")
	}
	if strings.Join(started, ",") != "a,b,c" || len(ended) != 3 || ended[0] != "a" {
		t.Errorf("started %v, ended %v", started, ended)
	}
}

func TestSessionValues(t *testing.T) {
	srv := newSrv(nil)
	h := newSessHarness(t, srv)
	type key struct{}
	h.ss.SetValue(key{}, "v")
	if got := h.ss.Value(key{}); got != "v" {
		t.Errorf("Value = %v", got)
	}
	h.ss.SetValue(key{}, nil)
	if got := h.ss.Value(key{}); got != nil {
		t.Errorf("Value after delete = %v", got)
	}
	if h.ss.Server() != srv || !strings.HasPrefix(h.ss.ID(), "sess-") {
		t.Errorf("Server/ID accessors wrong: %q", h.ss.ID())
	}
}

// Over the stdio transport: batches are accepted only when 2025-03-26 was
// negotiated, and malformed input gets proper JSON-RPC errors.
func TestStdioBatches(t *testing.T) {
	tests := []struct {
		version string
		allowed bool
	}{
		{"2025-03-26", true},
		{"2024-11-05", false},
		{"2025-06-18", false},
		{"2025-11-25", false},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			p := startStdioPipe(t, newSrv(nil))
			p.initialize(tt.version)
			p.send(`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":"two","method":"ping"}]`)
			if !tt.allowed {
				_, resp := p.recvResponse()
				if resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidRequest || resp.ID.IsValid() {
					t.Fatalf("batch in %s: got %+v, want -32600 with a null id", tt.version, resp)
				}
				p.send(`{"jsonrpc":"2.0","id":3,"method":"ping"}`)
				if _, resp := p.recvResponse(); resp.ID != jsonrpc.Int64ID(3) || resp.Error != nil {
					t.Fatalf("ping after a refused batch: %+v", resp)
				}
				return
			}
			// A batch is answered with one array (JSON-RPC 2.0 section 6).
			var line []byte
			select {
			case line = <-p.lines:
			case <-time.After(testWait):
				t.Fatal("timed out waiting for the batch response")
			}
			msgs, _, isBatch, err := jsonrpc.DecodeBatch(line)
			if err != nil || !isBatch || len(msgs) != 2 {
				t.Fatalf("batch answered with %q", line)
			}
			ids := map[string]bool{}
			for _, m := range msgs {
				resp, ok := m.(*jsonrpc.Response)
				if !ok || resp.Error != nil {
					t.Fatalf("batch element %#v", m)
				}
				ids[resp.ID.String()] = true
			}
			if !ids[jsonrpc.Int64ID(1).String()] || !ids[jsonrpc.StringID("two").String()] {
				t.Errorf("batch responses for %v", ids)
			}
		})
	}
}

func TestStdioJSONRPCErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		code   int64
		wantID string // the raw id member of the response
	}{
		{"malformed JSON", `{"jsonrpc":"2.0","id":1,"method":`, jsonrpc.CodeParseError, "null"},
		{"not JSON at all", `hello`, jsonrpc.CodeParseError, "null"},
		{"wrong jsonrpc version", `{"jsonrpc":"1.0","id":7,"method":"ping"}`, jsonrpc.CodeInvalidRequest, "7"},
		{"missing jsonrpc member", `{"id":"x","method":"ping"}`, jsonrpc.CodeInvalidRequest, `"x"`},
		{"missing method", `{"jsonrpc":"2.0","id":8}`, jsonrpc.CodeInvalidRequest, "8"},
		{"method not a string", `{"jsonrpc":"2.0","id":9,"method":42}`, jsonrpc.CodeInvalidRequest, "null"},
		{"fractional id", `{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, jsonrpc.CodeInvalidRequest, "null"},
		{"params not structured", `{"jsonrpc":"2.0","id":10,"method":"ping","params":"x"}`, jsonrpc.CodeInvalidRequest, "10"},
		{"a JSON array that is not a batch of messages", `[1]`, jsonrpc.CodeInvalidRequest, "null"},
		{"unknown method", `{"jsonrpc":"2.0","id":11,"method":"tools/dance"}`, jsonrpc.CodeMethodNotFound, "11"},
		{"bad params type", `{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":5}}`, jsonrpc.CodeInvalidParams, "12"},
		{"params as an array", `{"jsonrpc":"2.0","id":13,"method":"tools/list","params":[1,2]}`, jsonrpc.CodeInvalidParams, "13"},
		{"unknown logging level", `{"jsonrpc":"2.0","id":14,"method":"logging/setLevel","params":{"level":"loud"}}`, jsonrpc.CodeInvalidParams, "14"},
		{"tools/call without a name", `{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{}}`, jsonrpc.CodeInvalidParams, "15"},
	}
	p := startStdioPipe(t, newSrv(nil))
	p.initialize(protocol.LatestVersion)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.t = t
			p.send(tt.in)
			line, resp := p.recvResponse()
			if resp.Error == nil || resp.Error.Code != tt.code {
				t.Fatalf("%s -> %s, want code %d", tt.in, line, tt.code)
			}
			var raw struct {
				ID jsontext.Value `json:"id"`
			}
			if err := json.Unmarshal(line, &raw); err != nil {
				t.Fatal(err)
			}
			if string(raw.ID) != tt.wantID {
				t.Errorf("%s -> id %s, want %s", tt.in, raw.ID, tt.wantID)
			}
		})
	}
	p.t = t
	// Messages the server cannot answer: a response to nothing, a notification
	// of an unknown method. The connection goes on.
	p.send(`{"jsonrpc":"2.0","id":99,"result":{}}`)
	p.send(`{"jsonrpc":"2.0","method":"notifications/whatever","params":{}}`)
	p.send(``)
	p.send(`{"jsonrpc":"2.0","id":"last","method":"ping"}`)
	if _, resp := p.recvResponse(); resp.ID != jsonrpc.StringID("last") {
		t.Fatalf("got %+v, want the ping response", resp)
	}
}

func TestStdioMessageTooLarge(t *testing.T) {
	srv := newSrv(nil)
	h := startStdioPipeOpts(t, srv, &stdio.Options{MaxMessageSize: 64 << 10})
	h.initialize(protocol.LatestVersion)
	big := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 200<<10) + `"}}`
	h.send(big)
	_, resp := h.recvResponse()
	if resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidRequest {
		t.Fatalf("oversize message: %+v", resp)
	}
	h.send(`{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	if _, resp := h.recvResponse(); resp.ID != jsonrpc.Int64ID(2) {
		t.Fatalf("after an oversize message: %+v", resp)
	}
}

// Request ids come back exactly as sent, strings and integers alike.
func TestIDsEchoedExactly(t *testing.T) {
	ids := []string{
		`0`, `1`, `-5`, `9007199254740993`, `9223372036854775807`, `-9223372036854775808`,
		`""`, `"1"`, `"abc"`, `"caf\u00e9"`, `"é 🚀"`, `"with \"quotes\" and \\ backslash"`, `"` + strings.Repeat("z", 300) + `"`,
	}
	srv := newSrv(nil)
	t.Run("session", func(t *testing.T) {
		h := newSessHarness(t, srv)
		h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
		for _, id := range ids {
			frame := []byte(`{"jsonrpc":"2.0","id":` + id + `,"method":"ping"}`)
			req := mustDecodeRequest(t, frame)
			raw := h.ss.HandleRequest(context.Background(), req, newFrameSink(t))
			checkEchoedID(t, id, raw)
			// Errors echo the id too.
			frame = []byte(`{"jsonrpc":"2.0","id":` + id + `,"method":"nope"}`)
			raw = h.ss.HandleRequest(context.Background(), mustDecodeRequest(t, frame), newFrameSink(t))
			checkEchoedID(t, id, raw)
		}
	})
	t.Run("stdio", func(t *testing.T) {
		p := startStdioPipe(t, srv)
		p.initialize(protocol.LatestVersion)
		for _, id := range ids {
			p.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"ping"}`)
			line, _ := p.recvResponse()
			checkEchoedID(t, id, line)
		}
	})
}

func checkEchoedID(t *testing.T, id string, raw []byte) {
	t.Helper()
	var sent, got struct {
		ID jsontext.Value `json:"id"`
	}
	if err := json.Unmarshal([]byte(`{"id":`+id+`}`), &sent); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("response %s: %v", raw, err)
	}
	// Compare decoded values (an escape may be written differently) and,
	// for numbers, the exact digits.
	var a, b any
	_ = json.Unmarshal(sent.ID, &a)
	_ = json.Unmarshal(got.ID, &b)
	if a != b || (sent.ID[0] != '"' && string(sent.ID) != string(got.ID)) {
		t.Errorf("id %s came back as %s", id, got.ID)
	}
}

// The request's _meta reaches the handler intact, and a result's _meta
// reaches the client.
func TestMetaPreserved(t *testing.T) {
	srv := newSrv(nil)
	var seen protocol.Meta
	srv.AddTool(&protocol.Tool{Name: "meta"}, func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		seen = req.Meta()
		res := mcp.TextResult("ok")
		res.Meta = protocol.Meta{"example.com/echo": req.Meta()["example.com/key"]}
		return res, nil
	})
	var mwMeta protocol.Meta
	srv.Use(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, req *mcp.Request) (any, error) {
			if req.Method == protocol.MethodToolsCall {
				mwMeta = req.Meta()
			}
			return next(ctx, req)
		}
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	resp, _ := h.request(protocol.MethodToolsCall, `{"name":"meta","arguments":{},"_meta":{"progressToken":"p1","example.com/key":{"nested":[1,"two",null]}}}`)
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	for name, m := range map[string]protocol.Meta{"handler": seen, "middleware": mwMeta} {
		b, _ := json.Marshal(m, json.Deterministic(true))
		if string(b) != `{"example.com/key":{"nested":[1,"two",null]},"progressToken":"p1"}` {
			t.Errorf("%s saw _meta %s", name, b)
		}
	}
	var res struct {
		Meta map[string]jsontext.Value `json:"_meta"`
	}
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		t.Fatal(err)
	}
	if string(res.Meta["example.com/echo"]) != `{"nested":[1,"two",null]}` {
		t.Errorf("result _meta = %s", resp.Result)
	}
}
