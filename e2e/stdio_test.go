package e2e

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// demoClient answers the demo's server-to-client requests.
func demoClient(t *testing.T) answerer {
	return func(req *jsonrpc.Request) (any, *jsonrpc.Error) {
		switch req.Method {
		case protocol.MethodSamplingCreateMessage:
			return map[string]any{"role": "assistant", "model": "e2e-model", "content": map[string]any{"type": "text", "text": "sampled reply"}}, nil
		case protocol.MethodElicitationCreate:
			return map[string]any{"action": "accept", "content": map[string]any{"response": "e2e user"}}, nil
		case protocol.MethodRootsList:
			return map[string]any{"roots": []any{}}, nil
		case protocol.MethodPing:
			return map[string]any{}, nil
		}
		return nil, jsonrpc.ErrMethodNotFound(req.Method)
	}
}

var clientCaps = `{"sampling":{},"elicitation":{"form":{}},"roots":{"listChanged":true}}`

func initialize(t *testing.T, s *stdioServer, version string) protocol.InitializeResult {
	t.Helper()
	var res protocol.InitializeResult
	s.result("initialize", `{"protocolVersion":"`+version+`","capabilities":`+clientCaps+`,"clientInfo":{"name":"e2e","version":"1"}}`, &res)
	s.notify("notifications/initialized", nil)
	return res
}

func toolText(t *testing.T, raw jsontext.Value) (string, bool) {
	t.Helper()
	var res struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || len(res.Content) == 0 {
		t.Fatalf("tool result %s: %v", raw, err)
	}
	return res.Content[0].Text, res.IsError
}

// A whole session with the demo over stdio, touching every feature.
func TestStdioFullSession(t *testing.T) {
	t.Parallel()
	s := startStdio(t, demoClient(t), "demo", "everything")
	init := initialize(t, s, protocol.LatestVersion)
	if init.ProtocolVersion != protocol.LatestVersion || init.ServerInfo.Name != "switchboard-everything" {
		t.Errorf("initialize: %+v", init)
	}
	c := init.Capabilities
	if c.Tools == nil || c.Resources == nil || !c.Resources.Subscribe || c.Prompts == nil || c.Completions == nil || c.Logging == nil || c.Tasks == nil {
		t.Errorf("capabilities %+v", c)
	}

	var tools protocol.ListToolsResult
	s.result("tools/list", nil, &tools)
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	for _, want := range []string{"echo", "add", "count_slowly", "test_sampling", "test_elicitation", "json_schema_2020_12_tool"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %s: %v", want, names)
		}
	}

	toolCalls := []struct {
		params, want string
		isError      bool
	}{
		{`{"name":"echo","arguments":{"text":"héllo 🌍"}}`, "héllo 🌍", false},
		{`{"name":"add","arguments":{"a":1.5,"b":2}}`, `{"sum":3.5}`, false},
		{`{"name":"add","arguments":{"a":"x"}}`, "", true},
		{`{"name":"test_error_handling"}`, "intentionally", true},
		{`{"name":"test_sampling","arguments":{"prompt":"hi"}}`, "LLM response: sampled reply", false},
		{`{"name":"test_elicitation","arguments":{"message":"who?"}}`, `action=accept, content={"response":"e2e user"}`, false},
	}
	for _, tc := range toolCalls {
		resp := s.call("tools/call", tc.params)
		if resp.Error != nil {
			t.Errorf("tools/call %s: %v", tc.params, resp.Error)
			continue
		}
		text, isError := toolText(t, resp.Result)
		if isError != tc.isError || !strings.Contains(text, tc.want) {
			t.Errorf("tools/call %s: isError=%v %q", tc.params, isError, text)
		}
	}
	if resp := s.call("tools/call", `{"name":"no_such_tool"}`); resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("unknown tool: %+v", resp)
	}

	// Progress with the request's token, and logging at the chosen level.
	s.result("logging/setLevel", `{"level":"info"}`, nil)
	resp := s.call("tools/call", `{"name":"test_tool_with_progress","_meta":{"progressToken":"e2e-tok"}}`)
	if text, _ := toolText(t, resp.Result); text != `"e2e-tok"` { // the demo reports jsonrpc.ID.String()
		t.Errorf("progress tool returned %q", text)
	}
	progress := s.in.requests("notifications/progress")
	if len(progress) != 3 {
		t.Errorf("%d progress notifications, want 3", len(progress))
	}
	for _, p := range progress {
		if !strings.Contains(string(p.Params), `"progressToken":"e2e-tok"`) {
			t.Errorf("progress %s", p.Params)
		}
	}
	s.call("tools/call", `{"name":"test_tool_with_logging"}`)
	if logs := s.in.requests("notifications/message"); len(logs) != 3 {
		t.Errorf("%d log messages, want 3", len(logs))
	}

	// Resources, templates, prompts, completion.
	var read protocol.ReadResourceResult
	s.result("resources/read", `{"uri":"test://template/42/data"}`, &read)
	resp = s.call("resources/read", `{"uri":"test://template/42/data"}`)
	if !strings.Contains(string(resp.Result), `Data for ID: 42`) {
		t.Errorf("template read %s", resp.Result)
	}
	if resp := s.call("resources/read", `{"uri":"test://missing"}`); resp.Error == nil || resp.Error.Code != protocol.CodeResourceNotFound {
		t.Errorf("missing resource: %+v", resp)
	}
	s.result("resources/subscribe", `{"uri":"test://watched-resource"}`, nil)
	resp = s.call("prompts/get", `{"name":"test_prompt_with_arguments","arguments":{"arg1":"x","arg2":"y"}}`)
	if !strings.Contains(string(resp.Result), `arg1='x', arg2='y'`) {
		t.Errorf("prompts/get %s %v", resp.Result, resp.Error)
	}
	if resp := s.call("prompts/get", `{"name":"test_prompt_with_arguments","arguments":{"arg1":"x"}}`); resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("missing prompt argument: %+v", resp)
	}
	resp = s.call("completion/complete", `{"ref":{"type":"ref/prompt","name":"test_prompt_with_arguments"},"argument":{"name":"arg1","value":"pa"}}`)
	if string(resp.Result) != `{"completion":{"values":["paris","park"],"total":2}}` {
		t.Errorf("completion %s %v", resp.Result, resp.Error)
	}
	s.result("ping", nil, nil)

	// A task: created at once, polled, its result fetched.
	var created protocol.CreateTaskResult
	s.result("tools/call", `{"name":"count_slowly","arguments":{"to":3,"delayMs":20},"task":{"ttl":60000}}`, &created)
	var result jsontext.Value
	s.result("tasks/result", `{"taskId":"`+created.Task.TaskID+`"}`, &result)
	if text, _ := toolText(t, result); text != "counted to 3" {
		t.Errorf("task result %s", result)
	}
	var got protocol.GetTaskResult
	s.result("tasks/get", `{"taskId":"`+created.Task.TaskID+`"}`, &got)
	if got.Status != protocol.TaskStatusCompleted {
		t.Errorf("task status %s", got.Status)
	}

	// EOF on stdin ends the server cleanly.
	s.stdin.Close()
	if code := s.waitExit(wait); code != 0 {
		t.Errorf("exit code %d after EOF, want 0\n%s", code, s.stderr.String())
	}
}

// Each protocol revision over stdio, with what it allows.
func TestStdioRevisions(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "1999-01-01"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			s := startStdio(t, demoClient(t), "demo", "everything")
			init := initialize(t, s, v)
			want := v
			if v == "1999-01-01" {
				want = protocol.LatestVersion
			}
			if init.ProtocolVersion != want {
				t.Fatalf("negotiated %s, want %s", init.ProtocolVersion, want)
			}
			if (init.Capabilities.Tasks != nil) != (want == "2025-11-25") {
				t.Errorf("tasks capability %v at %s", init.Capabilities.Tasks, want)
			}
			// Batches only in 2025-03-26.
			s.write([]byte(`[{"jsonrpc":"2.0","id":"b1","method":"ping"},{"jsonrpc":"2.0","id":"b2","method":"tools/list"}]`))
			if want == "2025-03-26" {
				for _, id := range []string{"b1", "b2"} {
					if r := s.in.response(t, jsonrpc.StringID(id)); r.Error != nil {
						t.Errorf("batch element %s: %v", id, r.Error)
					}
				}
			} else {
				m := s.in.waitFor(t, "the batch refusal", func(m message) bool {
					r, ok := m.response()
					return ok && !r.ID.IsValid() && r.Error != nil
				})
				if r, _ := m.response(); r.Error.Code != jsonrpc.CodeInvalidRequest {
					t.Errorf("batch at %s: %s", want, m.raw)
				}
			}
			resp := s.call("tools/call", `{"name":"echo","arguments":{"text":"v`+v+`"}}`)
			if text, _ := toolText(t, resp.Result); text != "v"+v {
				t.Errorf("echo: %q", text)
			}
			s.stdin.Close()
			if code := s.waitExit(wait); code != 0 {
				t.Errorf("exit code %d", code)
			}
		})
	}
}

// Malformed input on stdin gets JSON-RPC errors, and the server goes on.
func TestStdioBadInput(t *testing.T) {
	t.Parallel()
	s := startStdio(t, nil, "demo", "everything")
	initialize(t, s, protocol.LatestVersion)
	bad := []struct {
		line string
		code int64
	}{
		{`{"jsonrpc":"2.0","id":1,"method":`, jsonrpc.CodeParseError},
		{`{"jsonrpc":"1.0","id":"v1","method":"ping"}`, jsonrpc.CodeInvalidRequest},
		{`{"jsonrpc":"2.0","id":"nm"}`, jsonrpc.CodeInvalidRequest},
		{`{"jsonrpc":"2.0","id":"um","method":"unknown/method"}`, jsonrpc.CodeMethodNotFound},
		{`{"jsonrpc":"2.0","id":"bp","method":"tools/call","params":{"name":["echo"]}}`, jsonrpc.CodeInvalidParams},
	}
	for i, b := range bad {
		s.write([]byte(b.line))
		m := s.in.waitFor(t, fmt.Sprintf("the error for line %d", i), func(m message) bool {
			r, ok := m.response()
			return ok && r.Error != nil && r.Error.Code == b.code
		})
		_ = m
	}
	if r := s.call("ping", nil); r.Error != nil {
		t.Errorf("ping after bad input: %v", r.Error)
	}
}

// SIGTERM ends the stdio server with exit status 0, even with a request in
// flight.
func TestStdioSignals(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			s := startStdio(t, nil, "demo", "everything")
			initialize(t, s, protocol.LatestVersion)
			// A slow call in flight.
			s.write([]byte(`{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"count_slowly","arguments":{"to":100,"delayMs":100},"_meta":{"progressToken":1}}}`))
			s.in.waitFor(t, "progress of the slow call", func(m message) bool {
				r, ok := m.request()
				return ok && r.Method == "notifications/progress"
			})
			start := time.Now()
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := s.waitExit(wait); code != 0 {
				t.Errorf("exit code %d after %v, want 0\n%s", code, sig, s.stderr.String())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v to exit", d)
			}
		})
	}
}
