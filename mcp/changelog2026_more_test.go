package mcp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// Major 5: ping, logging/setLevel and notifications/roots/list_changed are
// gone; the log level travels in each request's _meta, and without it the
// server sends no log messages.
func TestChangelog_RemovePingSetLevelRootsListChanged(t *testing.T) {
	s := c26NewHTTP(t, nil, nil)
	for _, m := range []string{protocol.MethodPing, protocol.MethodLoggingSetLevel, protocol.MethodInitialize,
		protocol.MethodResourcesUnsubscribe, protocol.MethodTasksList, protocol.MethodTasksResult, "unknown/method"} {
		r := s.post(7, m, c26Params(map[string]any{"level": "debug", "uri": "test://static-text", "taskId": "x"}, c26Meta(nil)), nil)
		if r.status != http.StatusNotFound || r.errCode(t) != jsonrpc.CodeMethodNotFound || r.response(t).ID != jsonrpc.Int64ID(7) {
			t.Errorf("%s: status %d %s", m, r.status, r.body)
		}
	}
	note := jsonrpc.AppendRequest(nil, &jsonrpc.Request{Method: protocol.NotificationRootsListChanged, Params: c26Params(nil, c26Meta(nil))})
	if r := s.do(http.MethodPost, c26Headers(protocol.NotificationRootsListChanged, nil), note); r.status != http.StatusAccepted {
		t.Errorf("roots/list_changed notification: %d", r.status)
	}

	logs := func(level string) int {
		meta := c26Meta(nil)
		if level != "" {
			meta[protocol.MetaLogLevel] = level
		}
		r := s.post(8, protocol.MethodToolsCall, c26Params(map[string]any{"name": "test_tool_with_logging", "arguments": map[string]any{}}, meta), nil)
		r.result(t, nil)
		return len(r.notifications(protocol.NotificationMessage))
	}
	for level, want := range map[string]int{"": 0, "debug": 3, "info": 3, "warning": 0, "error": 0} {
		if got := logs(level); got != want {
			t.Errorf("logLevel %q: %d log messages, want %d", level, got, want)
		}
	}
	p := c26NewRawPipe(t, everything.NewServer(nil))
	_, notes := p.call(1, protocol.MethodToolsCall, c26Params(map[string]any{"name": "test_tool_with_logging", "arguments": map[string]any{}}, c26Meta(nil)))
	if len(notes) != 0 {
		t.Errorf("stdio without logLevel: %d notifications", len(notes))
	}

	// Our client: SetLogLevel becomes the per-request field, Ping a
	// discovery.
	got := make(chan string, 8)
	cs := c26Client(t, streamable.NewDialer(s.ts.URL, nil), &mcp.ClientOptions{ProtocolVersion: v26,
		OnLog: func(_ context.Context, _ *mcp.ClientSession, p *protocol.LoggingMessageNotificationParams) {
			got <- fmt.Sprint(p.Data)
		}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cs.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if _, err := cs.CallToolArgs(ctx, "test_tool_with_logging", nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("%d log messages before SetLogLevel", len(got))
	}
	if err := cs.SetLogLevel(ctx, protocol.LoggingLevelInfo); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CallToolArgs(ctx, "test_tool_with_logging", nil); err != nil {
		t.Fatal(err)
	}
	if n := len(got); n != 3 {
		t.Errorf("%d log messages after SetLogLevel(info), want 3", n)
	}
	if err := cs.SetRoots(ctx, []protocol.Root{{URI: "file:///x"}}); err != nil {
		t.Errorf("SetRoots in 2026-07-28 (no notification to send): %v", err)
	}
}

// taskServer has tools that run as tasks of the tasks extension.
func taskServer() *mcp.Server {
	srv := mcp.NewServer(protocol.Implementation{Name: "tasks", Version: "1"}, &mcp.ServerOptions{TaskPollInterval: 10 * time.Millisecond})
	optional := &protocol.ToolExecution{TaskSupport: protocol.TaskSupportOptional}
	mcp.AddTool(srv, &protocol.Tool{Name: "approve", Execution: optional},
		func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
			res, err := req.Elicit(mcp.WithInputKey(ctx, "approval"), &protocol.ElicitRequestParams{Message: "Approve?",
				RequestedSchema: &protocol.ElicitSchema{Properties: map[string]protocol.PrimitiveSchema{"ok": &protocol.BooleanSchema{}}}})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("approved=%v", res.Content["ok"]), nil
		})
	mcp.AddTool(srv, &protocol.Tool{Name: "must_task", Execution: &protocol.ToolExecution{TaskSupport: protocol.TaskSupportRequired}},
		func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) { return "done", nil })
	mcp.AddTool(srv, &protocol.Tool{Name: "broken", Execution: optional},
		func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
			return "", &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "backend down"}
		})
	mcp.AddTool(srv, &protocol.Tool{Name: "wait", Execution: optional},
		func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		})
	return srv
}

// Major 6: tasks as the io.modelcontextprotocol/tasks extension: task
// handles without per-request opt-in, polling with tasks/get (result
// inline), input with tasks/update, no tasks/list or tasks/result; the
// 2025-11-25 tasks of the same server keep working.
func TestChangelog_TasksExtension(t *testing.T) {
	srv := taskServer()
	s := c26NewHTTP(t, srv, nil)
	ext := map[string]any{"extensions": map[string]any{protocol.ExtensionTasks: map[string]any{}}, "elicitation": map[string]any{}}
	call := func(tool string, caps map[string]any) *c26Reply {
		return s.post(1, protocol.MethodToolsCall, c26Params(map[string]any{"name": tool, "arguments": map[string]any{}}, c26Meta(caps)), nil)
	}
	taskReq := func(method, id string, extra map[string]any, caps map[string]any) *c26Reply {
		m := map[string]any{"taskId": id}
		for k, v := range extra {
			m[k] = v
		}
		return s.post(2, method, c26Params(m, c26Meta(caps)), nil)
	}
	poll := func(id string, until protocol.TaskStatus) protocol.TaskState {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var st protocol.TaskState
			taskReq(protocol.MethodTasksGet, id, nil, ext).result(t, &st)
			if st.ResultType != protocol.ResultTypeComplete {
				t.Fatalf("tasks/get resultType %q", st.ResultType)
			}
			if st.Status == until {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("task %s still %s", id, st.Status)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	var created protocol.TaskState
	call("approve", ext).result(t, &created)
	if created.ResultType != protocol.ResultTypeTask || created.TaskID == "" || created.Status != protocol.TaskStatusWorking || created.TTLMs == nil {
		t.Fatalf("CreateTaskResult %+v", created)
	}
	st := poll(created.TaskID, protocol.TaskStatusInputRequired)
	if st.InputRequests["approval"].Method != protocol.MethodElicitationCreate {
		t.Fatalf("input requests %+v", st.InputRequests)
	}
	var ack protocol.EmptyResult
	taskReq(protocol.MethodTasksUpdate, created.TaskID, map[string]any{"inputResponses": map[string]any{
		"approval": map[string]any{"action": "accept", "content": map[string]any{"ok": true}}, "stale": map[string]any{"action": "cancel"}}}, ext).result(t, &ack)
	if ack.ResultType != protocol.ResultTypeComplete {
		t.Errorf("tasks/update ack %+v", ack)
	}
	st = poll(created.TaskID, protocol.TaskStatusCompleted)
	var result protocol.CallToolResult
	if err := json.Unmarshal(st.Result, &result); err != nil || c26Text(t, &result) != "approved=true" || result.ResultType != protocol.ResultTypeComplete {
		t.Errorf("completed task result %s", st.Result)
	}

	checks := []struct {
		name   string
		reply  *c26Reply
		status int
		code   int64
	}{
		{"tasks/list is gone", s.post(3, protocol.MethodTasksList, c26Params(nil, c26Meta(ext)), nil), 404, jsonrpc.CodeMethodNotFound},
		{"tasks/result is gone", taskReq(protocol.MethodTasksResult, created.TaskID, nil, ext), 404, jsonrpc.CodeMethodNotFound},
		{"tasks/get without the extension", taskReq(protocol.MethodTasksGet, created.TaskID, nil, nil), 400, protocol.CodeMissingRequiredClientCapability},
		{"unknown task", taskReq(protocol.MethodTasksGet, "no-such-task", nil, ext), 400, jsonrpc.CodeInvalidParams},
		{"required task without the extension", call("must_task", nil), 400, protocol.CodeMissingRequiredClientCapability},
	}
	for _, c := range checks {
		if c.reply.status != c.status || c.reply.errCode(t) != c.code {
			t.Errorf("%s: %d %s", c.name, c.reply.status, c.reply.body)
		}
	}
	// Without the extension an optional task tool runs in the request
	// (here: a multi round-trip request).
	var ir protocol.InputRequiredResult
	call("approve", map[string]any{"elicitation": map[string]any{}}).result(t, &ir)
	if ir.ResultType != protocol.ResultTypeInputRequired || ir.InputRequests["approval"].Method == "" {
		t.Errorf("approve without the extension: %+v", ir)
	}
	// A protocol error fails the task; cancellation is acknowledged.
	call("broken", ext).result(t, &created)
	if st := poll(created.TaskID, protocol.TaskStatusFailed); st.Error == nil || st.Error.Message != "backend down" {
		t.Errorf("failed task %+v", st)
	}
	call("wait", ext).result(t, &created)
	listen := s.open(9, protocol.MethodSubscriptionsListen, c26Params(map[string]any{"notifications": map[string]any{"taskIds": []string{created.TaskID}}}, c26Meta(ext)))
	listen.next() // acknowledged
	taskReq(protocol.MethodTasksCancel, created.TaskID, nil, ext).result(t, &ack)
	poll(created.TaskID, protocol.TaskStatusCancelled)
	if n, ok := listen.next().(*jsonrpc.Request); !ok || n.Method != protocol.NotificationTasks || !strings.Contains(string(n.Params), `"status":"cancelled"`) {
		t.Errorf("task notification %+v", n)
	}

	// Our client follows tasks transparently.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs := c26Client(t, streamable.NewDialer(s.ts.URL, nil), c26Handlers(&mcp.ClientOptions{ProtocolVersion: v26, TasksExtension: true}))
	res, err := cs.CallToolArgs(ctx, "approve", nil)
	if err != nil || c26Text(t, res) != "approved=answer-to-ok" {
		t.Errorf("client task: %v %+v", err, res)
	}
	if res, err := cs.CallToolArgs(ctx, "must_task", nil); err != nil || c26Text(t, res) != "done" {
		t.Errorf("client required task: %v %+v", err, res)
	}
	if _, err := cs.CallToolArgs(ctx, "broken", nil); !mcp.IsProtocolError(err, jsonrpc.CodeInternalError) {
		t.Errorf("client failed task: %v", err)
	}
	// 2025-11-25 tasks on the same server.
	legacy := c26Client(t, streamable.NewDialer(s.ts.URL, nil), c26Handlers(&mcp.ClientOptions{ProtocolVersion: protocol.Version20251125}))
	res, err = legacy.CallToolAsTask(ctx, &protocol.CallToolRequestParams{Name: "approve", Arguments: jsontext.Value(`{}`)}, time.Minute, nil)
	if err != nil || c26Text(t, res) != "approved=answer-to-ok" {
		t.Errorf("2025-11-25 task: %v %+v", err, res)
	}
}

// mrtrCall is one tools/call of the MRTR scenarios.
func mrtrCall(s *c26HTTP, tool string, caps map[string]any, extra map[string]any) *c26Reply {
	m := map[string]any{"name": tool, "arguments": map[string]any{}}
	for k, v := range extra {
		m[k] = v
	}
	return s.post(1, protocol.MethodToolsCall, c26Params(m, c26Meta(caps)), nil)
}

var allCaps = map[string]any{"elicitation": map[string]any{}, "sampling": map[string]any{}, "roots": map[string]any{}}

func accept(content map[string]any) map[string]any {
	return map[string]any{"action": "accept", "content": content}
}

var (
	sampleAnswer = map[string]any{"role": "assistant", "content": map[string]any{"type": "text", "text": "Paris"}, "model": "m", "stopReason": "endTurn"}
	rootsAnswer  = map[string]any{"roots": []any{map[string]any{"uri": "file:///test/root", "name": "Test Root"}}}
)

// Major 7: multi round-trip requests, scenario by scenario (the cases of
// the conformance suite's input-required-result scenarios).
func TestChangelog_MRTR_Scenarios(t *testing.T) {
	s := c26NewHTTP(t, nil, nil)
	round1 := func(t *testing.T, tool string, caps map[string]any) protocol.InputRequiredResult {
		t.Helper()
		var ir protocol.InputRequiredResult
		mrtrCall(s, tool, caps, nil).result(t, &ir)
		if ir.ResultType != protocol.ResultTypeInputRequired || ir.RequestState == "" {
			t.Fatalf("%s round 1: %+v", tool, ir)
		}
		return ir
	}
	finish := func(t *testing.T, tool string, ir protocol.InputRequiredResult, answers map[string]any) string {
		t.Helper()
		var res protocol.CallToolResult
		mrtrCall(s, tool, allCaps, map[string]any{"inputResponses": answers, "requestState": ir.RequestState}).result(t, &res)
		if res.ResultType != protocol.ResultTypeComplete {
			t.Errorf("%s: resultType %q", tool, res.ResultType)
		}
		return c26Text(t, &res)
	}

	t.Run("Elicitation", func(t *testing.T) {
		ir := round1(t, "test_input_required_result_elicitation", allCaps)
		if in := ir.InputRequests["user_name"]; in.Method != protocol.MethodElicitationCreate || !strings.Contains(string(in.Params), "What is your name?") {
			t.Fatalf("inputRequests %+v", ir.InputRequests)
		}
		if got := finish(t, "test_input_required_result_elicitation", ir, map[string]any{"user_name": accept(map[string]any{"name": "Alice"})}); got != "Hello, Alice!" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("Sampling", func(t *testing.T) {
		ir := round1(t, "test_input_required_result_sampling", allCaps)
		if ir.InputRequests["capital_question"].Method != protocol.MethodSamplingCreateMessage {
			t.Fatalf("inputRequests %+v", ir.InputRequests)
		}
		if got := finish(t, "test_input_required_result_sampling", ir, map[string]any{"capital_question": sampleAnswer}); got != "Sampling result: Paris" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("ListRoots", func(t *testing.T) {
		ir := round1(t, "test_input_required_result_list_roots", allCaps)
		if in := ir.InputRequests["client_roots"]; in.Method != protocol.MethodRootsList {
			t.Fatalf("inputRequests %+v", ir.InputRequests)
		}
		if got := finish(t, "test_input_required_result_list_roots", ir, map[string]any{"client_roots": rootsAnswer}); got != "Found 1 root(s)" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("MultipleInputs", func(t *testing.T) {
		ir := round1(t, "test_input_required_result_multiple_inputs", allCaps)
		if len(ir.InputRequests) != 3 {
			t.Fatalf("inputRequests %+v", ir.InputRequests)
		}
		got := finish(t, "test_input_required_result_multiple_inputs", ir, map[string]any{
			"user_name": accept(map[string]any{"name": "Alice"}), "greeting": sampleAnswer, "client_roots": rootsAnswer})
		if got != "Name: Alice; Greeting: Paris; Roots: 1" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("MultiRound", func(t *testing.T) {
		ir := round1(t, "test_input_required_result_multi_round", allCaps)
		var ir2 protocol.InputRequiredResult
		mrtrCall(s, "test_input_required_result_multi_round", allCaps, map[string]any{
			"inputResponses": map[string]any{"step1": accept(map[string]any{"name": "Alice"})}, "requestState": ir.RequestState}).result(t, &ir2)
		if ir2.ResultType != protocol.ResultTypeInputRequired || ir2.RequestState == ir.RequestState || ir2.InputRequests["step2"].Method == "" || len(ir2.InputRequests) != 1 {
			t.Fatalf("round 2: %+v", ir2)
		}
		if got := finish(t, "test_input_required_result_multi_round", ir2, map[string]any{"step2": accept(map[string]any{"color": "blue"})}); got != "Multi-round complete for Alice who likes blue" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("MissingInputResponse", func(t *testing.T) {
		var ir protocol.InputRequiredResult
		mrtrCall(s, "test_input_required_result_elicitation", allCaps, map[string]any{"inputResponses": map[string]any{"wrong_key": accept(map[string]any{"name": "x"})}}).result(t, &ir)
		if ir.ResultType != protocol.ResultTypeInputRequired || ir.InputRequests["user_name"].Method == "" {
			t.Errorf("wrong keys are re-requested: %+v", ir)
		}
	})
	t.Run("IgnoreExtraParams", func(t *testing.T) {
		var res protocol.CallToolResult
		mrtrCall(s, "test_input_required_result_elicitation", allCaps, map[string]any{"inputResponses": map[string]any{
			"user_name": accept(map[string]any{"name": "Alice"}), "unknown_extra_key": accept(map[string]any{"foo": "bar"})}}).result(t, &res)
		if c26Text(t, &res) != "Hello, Alice!" {
			t.Errorf("got %+v", res)
		}
	})
	t.Run("ValidateInput", func(t *testing.T) {
		for _, bad := range []any{map[string]any{"user_name": 12345}, nil, "x", map[string]any{"user_name": map[string]any{"action": "maybe"}}} {
			m := map[string]any{"name": "test_input_required_result_elicitation", "arguments": map[string]any{}, "inputResponses": bad}
			r := s.post(1, protocol.MethodToolsCall, c26Params(m, c26Meta(allCaps)), nil)
			if r.errCode(t) != jsonrpc.CodeInvalidParams || r.status != http.StatusBadRequest {
				t.Errorf("inputResponses %v: %d %s", bad, r.status, r.body)
			}
		}
	})
	t.Run("CapabilityCheck", func(t *testing.T) {
		ir := round1(t, "test_input_required_result_capabilities", map[string]any{"sampling": map[string]any{}})
		if len(ir.InputRequests) != 1 || ir.InputRequests["sample_input"].Method != protocol.MethodSamplingCreateMessage {
			t.Errorf("only sampling was declared: %+v", ir.InputRequests)
		}
		r := mrtrCall(s, "test_missing_capability", nil, nil)
		d, ok := protocol.MissingRequiredClientCapability(r.response(t).Error)
		if r.status != http.StatusBadRequest || !ok || !d.RequiredCapabilities.SupportsSampling() {
			t.Errorf("test_missing_capability without sampling: %d %s", r.status, r.body)
		}
	})
	t.Run("NonToolRequest", func(t *testing.T) {
		var ir protocol.InputRequiredResult
		s.post(1, protocol.MethodPromptsGet, c26Params(map[string]any{"name": "test_input_required_result_prompt"}, c26Meta(allCaps)), nil).result(t, &ir)
		if ir.InputRequests["user_context"].Method != protocol.MethodElicitationCreate {
			t.Fatalf("prompts/get round 1: %+v", ir)
		}
		var res protocol.GetPromptResult
		s.post(2, protocol.MethodPromptsGet, c26Params(map[string]any{"name": "test_input_required_result_prompt", "requestState": ir.RequestState,
			"inputResponses": map[string]any{"user_context": accept(map[string]any{"context": "tests"})}}, c26Meta(allCaps)), nil).result(t, &res)
		if len(res.Messages) != 1 || res.Messages[0].Content.(*protocol.TextContent).Text != "Prompt with context: tests" {
			t.Errorf("prompts/get round 2: %+v", res)
		}
	})
	t.Run("UnsupportedMethods", func(t *testing.T) {
		for _, m := range []string{protocol.MethodToolsList, protocol.MethodPromptsList, protocol.MethodResourcesList} {
			var res struct {
				ResultType protocol.ResultType `json:"resultType"`
			}
			if s.post(1, m, c26Params(nil, c26Meta(allCaps)), nil).result(t, &res); res.ResultType != protocol.ResultTypeComplete {
				t.Errorf("%s: resultType %q", m, res.ResultType)
			}
		}
	})
	t.Run("stdio", func(t *testing.T) {
		p := c26NewRawPipe(t, everything.NewServer(nil))
		resp, _ := p.call(1, protocol.MethodToolsCall, c26Params(map[string]any{"name": "test_input_required_result_elicitation", "arguments": map[string]any{}}, c26Meta(allCaps)))
		var ir protocol.InputRequiredResult
		if err := json.Unmarshal(resp.Result, &ir); err != nil || ir.ResultType != protocol.ResultTypeInputRequired {
			t.Fatalf("round 1 over stdio: %s", resp.Result)
		}
		resp, _ = p.call(2, protocol.MethodToolsCall, c26Params(map[string]any{"name": "test_input_required_result_elicitation", "arguments": map[string]any{},
			"requestState": ir.RequestState, "inputResponses": map[string]any{"user_name": accept(map[string]any{"name": "Bob"})}}, c26Meta(allCaps)))
		if !strings.Contains(string(resp.Result), "Hello, Bob!") {
			t.Errorf("round 2 over stdio: %s", resp.Result)
		}
	})
}

// Major 7: the requestState is integrity-protected and bound to its
// request, its principal and a lifetime.
func TestChangelog_MRTR_RequestStateIntegrity(t *testing.T) {
	srv := everything.NewServer(&mcp.ServerOptions{
		TaskOwner: func(ctx context.Context, r *mcp.Request) string {
			if info := r.Transport(ctx); info != nil {
				return info.Header.Get("X-User")
			}
			return ""
		},
		RequestStateTTL: time.Second,
	})
	s := c26NewHTTP(t, srv, nil)
	asUser := func(user string) func(http.Header) { return func(h http.Header) { h.Set("X-User", user) } }
	call := func(tool string, args map[string]any, user string, extra map[string]any) *c26Reply {
		m := map[string]any{"name": tool, "arguments": args}
		for k, v := range extra {
			m[k] = v
		}
		return s.post(1, protocol.MethodToolsCall, c26Params(m, c26Meta(allCaps)), asUser(user))
	}
	var ir protocol.InputRequiredResult
	call("test_input_required_result_tampered_state", map[string]any{}, "alice", nil).result(t, &ir)
	answer := map[string]any{"confirm": accept(map[string]any{"ok": true})}
	tampered := []byte(ir.RequestState)
	tampered[3] ^= 1
	tests := []struct {
		name  string
		reply *c26Reply
	}{
		{"suffix", call("test_input_required_result_tampered_state", map[string]any{}, "alice", map[string]any{"requestState": ir.RequestState + "-TAMPERED", "inputResponses": answer})},
		{"flipped bit", call("test_input_required_result_tampered_state", map[string]any{}, "alice", map[string]any{"requestState": string(tampered), "inputResponses": answer})},
		{"other tool", call("test_input_required_result_request_state", map[string]any{}, "alice", map[string]any{"requestState": ir.RequestState, "inputResponses": answer})},
		{"other arguments", call("test_input_required_result_tampered_state", map[string]any{"x": 1}, "alice", map[string]any{"requestState": ir.RequestState, "inputResponses": answer})},
		{"other principal", call("test_input_required_result_tampered_state", map[string]any{}, "mallory", map[string]any{"requestState": ir.RequestState, "inputResponses": answer})},
	}
	for _, tt := range tests {
		if tt.reply.errCode(t) != jsonrpc.CodeInvalidParams || !strings.Contains(tt.reply.response(t).Error.Message, "requestState") {
			t.Errorf("%s: accepted: %s", tt.name, tt.reply.body)
		}
	}
	var ok protocol.CallToolResult
	call("test_input_required_result_tampered_state", map[string]any{}, "alice", map[string]any{"requestState": ir.RequestState, "inputResponses": answer}).result(t, &ok)
	if !strings.HasPrefix(c26Text(t, &ok), "integrity-ok") {
		t.Errorf("genuine state: %+v", ok)
	}
	time.Sleep(2100 * time.Millisecond)
	if r := call("test_input_required_result_tampered_state", map[string]any{}, "alice", map[string]any{"requestState": ir.RequestState, "inputResponses": answer}); r.errCode(t) != jsonrpc.CodeInvalidParams {
		t.Errorf("expired state accepted: %s", r.body)
	}
}

// Major 7: MRTR on resources/read, URL mode elicitation, -32042 turned into
// input requests, and input requests refused where the revision does not
// allow them.
func TestChangelog_MRTR_ResourcesAndURLElicitation(t *testing.T) {
	srv := mcp.NewServer(protocol.Implementation{Name: "r", Version: "1"}, nil)
	srv.AddResource(&protocol.Resource{URI: "secret://doc", Name: "doc"}, func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
		res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{Mode: protocol.ElicitModeURL, Message: "Sign in", URL: "https://example.com/login"})
		if err != nil {
			return nil, err
		}
		return mcp.TextResource(uri, "text/plain", "read after "+string(res.Action)), nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "needs_oauth"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		return "", protocol.NewURLElicitationRequiredError("authorize first",
			protocol.ElicitRequestParams{Message: "Authorize", URL: "https://example.com/oauth", ElicitationID: "oauth-1"})
	})
	srv.AddPrompt(&protocol.Prompt{Name: "p", Arguments: []protocol.PromptArgument{{Name: "a"}}}, func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
		return &protocol.GetPromptResult{}, nil
	}, mcp.WithPromptCompleter(func(ctx context.Context, req *mcp.Request, arg, value string, _ map[string]string) (*protocol.Completion, error) {
		_, err := req.Elicit(ctx, &protocol.ElicitRequestParams{Message: "m", RequestedSchema: &protocol.ElicitSchema{}})
		return nil, err
	}))
	s := c26NewHTTP(t, srv, nil)
	url := map[string]any{"elicitation": map[string]any{"url": map[string]any{}}}
	var ir protocol.InputRequiredResult
	s.post(1, protocol.MethodResourcesRead, c26Params(map[string]any{"uri": "secret://doc"}, c26Meta(url)), nil).result(t, &ir)
	in := ir.InputRequests["elicit-1"]
	if in.Method != protocol.MethodElicitationCreate || strings.Contains(string(in.Params), "elicitationId") || !strings.Contains(string(in.Params), `"mode":"url"`) {
		t.Fatalf("URL elicitation input request %+v (%s)", ir, in.Params)
	}
	var read protocol.ReadResourceResult
	s.post(2, protocol.MethodResourcesRead, c26Params(map[string]any{"uri": "secret://doc", "requestState": ir.RequestState,
		"inputResponses": map[string]any{"elicit-1": map[string]any{"action": "accept"}}}, c26Meta(url)), nil).result(t, &read)
	if len(read.Contents) != 1 || read.Contents[0].(*protocol.TextResourceContents).Text != "read after accept" || read.ResultType != protocol.ResultTypeComplete {
		t.Errorf("read %+v", read)
	}
	// -32042 does not exist in 2026-07-28: the elicitations become input
	// requests.
	r := s.post(3, protocol.MethodToolsCall, c26Params(map[string]any{"name": "needs_oauth"}, c26Meta(url)), nil)
	if r.errCode(t) != 0 || !strings.Contains(string(r.body), `"resultType":"input_required"`) || !strings.Contains(string(r.body), `"oauth-1"`) || strings.Contains(string(r.body), "-32042") {
		t.Errorf("-32042 in 2026-07-28: %s", r.body)
	}
	// Input requests are not allowed in completion/complete.
	r = s.post(4, protocol.MethodCompletionComplete, c26Params(map[string]any{"ref": map[string]any{"type": "ref/prompt", "name": "p"},
		"argument": map[string]any{"name": "a", "value": ""}}, c26Meta(allCaps)), nil)
	if r.errCode(t) == 0 || strings.Contains(string(r.body), "input_required") || !strings.Contains(string(r.body), "only allowed in") {
		t.Errorf("completion asking for input: %s", r.body)
	}
	// Our client answers URL mode elicitations without elicitationId.
	cs := c26Client(t, streamable.NewDialer(s.ts.URL, nil), c26Handlers(&mcp.ClientOptions{ProtocolVersion: v26, ElicitURL: true}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := cs.ReadResource(ctx, "secret://doc")
	if err != nil || got.Contents[0].(*protocol.TextResourceContents).Text != "read after accept" {
		t.Errorf("client read: %v %+v", err, got)
	}
	// The same handler for a 2025-11-25 client gets an elicitationId.
	var seenID string
	legacy := c26Client(t, streamable.NewDialer(s.ts.URL, nil), &mcp.ClientOptions{ProtocolVersion: protocol.Version20251125, ElicitURL: true,
		Elicit: func(ctx context.Context, cs *mcp.ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			seenID = p.ElicitationID
			return &protocol.ElicitResult{Action: protocol.ElicitActionDecline}, nil
		}})
	if got, err := legacy.ReadResource(ctx, "secret://doc"); err != nil || got.Contents[0].(*protocol.TextResourceContents).Text != "read after decline" || seenID == "" {
		t.Errorf("2025-11-25 read: %v %+v (elicitationId %q)", err, got, seenID)
	}
}

// Major 8: every result carries resultType; clients take a missing one
// for "complete" and refuse unknown ones.
func TestChangelog_ResultType(t *testing.T) {
	s := c26NewHTTP(t, nil, nil)
	calls := []struct {
		method string
		params map[string]any
	}{
		{protocol.MethodServerDiscover, nil},
		{protocol.MethodToolsList, nil},
		{protocol.MethodToolsCall, map[string]any{"name": "echo", "arguments": map[string]any{"text": "x"}}},
		{protocol.MethodResourcesList, nil},
		{protocol.MethodResourcesTemplatesList, nil},
		{protocol.MethodResourcesRead, map[string]any{"uri": "test://static-text"}},
		{protocol.MethodPromptsList, nil},
		{protocol.MethodPromptsGet, map[string]any{"name": "test_simple_prompt"}},
		{protocol.MethodCompletionComplete, map[string]any{"ref": map[string]any{"type": "ref/prompt", "name": "test_prompt_with_arguments"}, "argument": map[string]any{"name": "arg1", "value": "pa"}}},
	}
	for _, c := range calls {
		var res struct {
			ResultType protocol.ResultType `json:"resultType"`
		}
		s.post(1, c.method, c26Params(c.params, c26Meta(nil)), nil).result(t, &res)
		if res.ResultType != protocol.ResultTypeComplete {
			t.Errorf("%s: resultType %q", c.method, res.ResultType)
		}
	}

	// A server that leaves resultType out (earlier revisions did), or sends
	// one the client does not know.
	resultType := ""
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     jsonrpc.ID `json:"id"`
			Method string     `json:"method"`
		}
		_ = json.UnmarshalRead(r.Body, &req)
		result := `{"content":[{"type":"text","text":"no resultType"}]` + resultType + `}`
		if req.Method == protocol.MethodServerDiscover {
			result = `{"supportedVersions":["2026-07-28"],"capabilities":{"tools":{}}}`
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, req.ID.AppendJSON(nil), result)
	}))
	defer fake.Close()
	cs := c26Client(t, streamable.NewDialer(fake.URL, nil), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := cs.CallToolArgs(ctx, "x", nil); err != nil || c26Text(t, res) != "no resultType" {
		t.Errorf("missing resultType: %v %+v", err, res)
	}
	resultType = `,"resultType":"weird"`
	if _, err := cs.CallToolArgs(ctx, "x", nil); err == nil || !strings.Contains(err.Error(), "unknown resultType") {
		t.Errorf("unknown resultType: %v", err)
	}
}

// Major 9: no resumability: stateless SSE events have no ids, a tool that
// closes its stream for polling answers on the same response, and GET
// (with or without Last-Event-ID) is refused.
func TestChangelog_RemoveResumability(t *testing.T) {
	s := c26NewHTTP(t, nil, nil)
	meta := c26Meta(nil)
	meta["progressToken"] = "tok"
	r := s.post(1, protocol.MethodToolsCall, c26Params(map[string]any{"name": "test_tool_with_progress", "arguments": map[string]any{}}, meta),
		func(h http.Header) { h.Set("Accept", "text/event-stream") })
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") || len(r.ids) != 0 || strings.Contains(string(r.body), "retry:") {
		t.Errorf("stateless SSE with ids or retry: %q", r.body)
	}
	if len(r.notifications(protocol.NotificationProgress)) != 3 {
		t.Errorf("progress: %s", r.body)
	}
	r = s.post(2, protocol.MethodToolsCall, c26Params(map[string]any{"name": "test_reconnection", "arguments": map[string]any{}}, c26Meta(nil)), nil)
	if !strings.Contains(string(r.body), "Reconnection test completed") || len(r.ids) != 0 {
		t.Errorf("test_reconnection: %s", r.body)
	}
	h := c26Headers("", nil)
	h.Set(streamable.HeaderLastEventID, "1")
	if g := s.do(http.MethodGet, h, nil); g.status != http.StatusMethodNotAllowed {
		t.Errorf("GET with Last-Event-ID: %d", g.status)
	}
	if d := s.do(http.MethodDelete, c26Headers("", nil), nil); d.status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", d.status)
	}
	// The client never opens a GET stream in 2026-07-28.
	rec := &c26Recorder{next: http.DefaultTransport}
	cs := c26Client(t, streamable.NewDialer(s.ts.URL, &streamable.ClientOptions{HTTPClient: &http.Client{Transport: rec}}), nil)
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	cs.Close()
	for _, hdr := range rec.headers() {
		if hdr.Get(streamable.HeaderSessionID) != "" || hdr.Get(streamable.HeaderMethod) == "" {
			t.Errorf("client request headers %v", hdr)
		}
	}
}

// Minor 1: extensions in capabilities, both ways.
func TestChangelog_Extensions(t *testing.T) {
	srv := taskServer()
	mcp.AddTool(srv, &protocol.Tool{Name: "exts"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		var names []string
		for k := range req.ClientCapabilities().Extensions {
			names = append(names, k)
		}
		return strings.Join(names, ","), nil
	})
	s := c26NewHTTP(t, srv, nil)
	cs := c26Client(t, streamable.NewDialer(s.ts.URL, nil), &mcp.ClientOptions{ProtocolVersion: v26, TasksExtension: true})
	if _, ok := cs.ServerCapabilities().Extensions[protocol.ExtensionTasks]; !ok {
		t.Errorf("server extensions %+v", cs.ServerCapabilities().Extensions)
	}
	res, err := cs.CallToolArgs(context.Background(), "exts", nil)
	if err != nil || c26Text(t, res) != protocol.ExtensionTasks {
		t.Errorf("client extensions seen by the server: %v %+v", err, res)
	}
}

// Minor 2: OpenTelemetry trace context keys in _meta reach handlers, in
// both revisions.
func TestChangelog_TraceContext(t *testing.T) {
	srv := everything.NewServer(nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "trace"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (map[string]string, error) {
		return req.Meta().TraceContext(), nil
	})
	s := c26NewHTTP(t, srv, nil)
	meta := protocol.Meta{protocol.MetaTraceparent: "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01", protocol.MetaTracestate: "vendor=x", protocol.MetaBaggage: "user=1"}
	for _, v := range []string{v26, protocol.Version20251125} {
		cs := c26Client(t, streamable.NewDialer(s.ts.URL, nil), &mcp.ClientOptions{ProtocolVersion: v})
		res, err := cs.CallTool(context.Background(), &protocol.CallToolRequestParams{Name: "trace", Meta: meta})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.Unmarshal(res.StructuredContent, &got); err != nil || len(got) != 3 || got[protocol.MetaTraceparent] != meta[protocol.MetaTraceparent] {
			t.Errorf("%s: trace context %s", v, res.StructuredContent)
		}
	}
}

// Minor 3: tools/list is in a deterministic order.
func TestChangelog_DeterministicToolsOrder(t *testing.T) {
	srv := mcp.NewServer(protocol.Implementation{Name: "o", Version: "1"}, nil)
	for _, n := range []string{"zeta", "alpha", "mid", "beta", "omega"} {
		mcp.AddTool(srv, &protocol.Tool{Name: n}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) { return n, nil })
	}
	s := c26NewHTTP(t, srv, nil)
	var first []string
	for i := range 3 {
		var res protocol.ListToolsResult
		s.post(1, protocol.MethodToolsList, c26Params(nil, c26Meta(nil)), nil).result(t, &res)
		var names []string
		for _, tl := range res.Tools {
			names = append(names, tl.Name)
		}
		if i == 0 {
			first = names
		}
		if strings.Join(names, ",") != "alpha,beta,mid,omega,zeta" || strings.Join(names, ",") != strings.Join(first, ",") {
			t.Errorf("tools/list order %v", names)
		}
	}
}

// Minor 4: the standard request headers are required and checked against
// the body.
func TestChangelog_StandardHeaders(t *testing.T) {
	s := c26NewHTTP(t, nil, nil)
	call := c26Params(map[string]any{"name": "echo", "arguments": map[string]any{"text": "x"}}, c26Meta(nil))
	uni := c26Params(map[string]any{"name": "日本", "arguments": map[string]any{}}, c26Meta(nil))
	otherVersion := c26Meta(nil)
	otherVersion[protocol.MetaProtocolVersion] = "v999.0.0"
	tests := []struct {
		name   string
		method string
		params jsontext.Value
		edit   func(http.Header)
		status int
		code   int64
	}{
		{"valid", protocol.MethodToolsCall, call, nil, 200, 0},
		{"Mcp-Method mismatch", protocol.MethodToolsCall, call, func(h http.Header) { h.Set(streamable.HeaderMethod, "prompts/list") }, 400, protocol.CodeHeaderMismatch},
		{"Mcp-Method wrong case", protocol.MethodToolsList, c26Params(nil, c26Meta(nil)), func(h http.Header) { h.Set(streamable.HeaderMethod, "TOOLS/LIST") }, 400, protocol.CodeHeaderMismatch},
		{"Mcp-Method missing", protocol.MethodToolsCall, call, func(h http.Header) { h.Del(streamable.HeaderMethod) }, 400, protocol.CodeHeaderMismatch},
		{"Mcp-Name mismatch", protocol.MethodToolsCall, call, func(h http.Header) { h.Set(streamable.HeaderName, "wrong_tool_name") }, 400, protocol.CodeHeaderMismatch},
		{"Mcp-Name missing", protocol.MethodToolsCall, call, func(h http.Header) { h.Del(streamable.HeaderName) }, 400, protocol.CodeHeaderMismatch},
		{"Mcp-Name with whitespace", protocol.MethodToolsCall, call, func(h http.Header) { h.Set(streamable.HeaderName, "  echo  ") }, 200, 0},
		{"Mcp-Name in Base64", protocol.MethodToolsCall, uni, func(h http.Header) { h.Set(streamable.HeaderName, "=?base64?5pel5pys?=") }, 200, jsonrpc.CodeInvalidParams},
		{"Mcp-Name in bad Base64", protocol.MethodToolsCall, call, func(h http.Header) { h.Set(streamable.HeaderName, "=?base64?!!!?=") }, 400, protocol.CodeHeaderMismatch},
		{"version header missing", protocol.MethodToolsCall, call, func(h http.Header) { h.Del(streamable.HeaderProtocolVersion) }, 400, protocol.CodeHeaderMismatch},
		{"version header mismatch", protocol.MethodServerDiscover, c26Params(nil, otherVersion), nil, 400, protocol.CodeHeaderMismatch},
		{"resources/read name", protocol.MethodResourcesRead, c26Params(map[string]any{"uri": "test://static-text"}, c26Meta(nil)), func(h http.Header) { h.Set(streamable.HeaderName, "test://other") }, 400, protocol.CodeHeaderMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.post(5, tt.method, tt.params, tt.edit)
			if r.errCode(t) != tt.code {
				t.Errorf("code %d, want %d: %s", r.errCode(t), tt.code, r.body)
			}
			if tt.code != jsonrpc.CodeInvalidParams && r.status != tt.status {
				t.Errorf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}
	// The client sends them.
	rec := &c26Recorder{next: http.DefaultTransport}
	cs := c26Client(t, streamable.NewDialer(s.ts.URL, &streamable.ClientOptions{HTTPClient: &http.Client{Transport: rec}}), nil)
	if _, err := cs.CallToolArgs(context.Background(), "echo", map[string]string{"text": "x"}); err != nil {
		t.Fatal(err)
	}
	last := rec.headers()[len(rec.headers())-1]
	if last.Get(streamable.HeaderMethod) != protocol.MethodToolsCall || last.Get(streamable.HeaderName) != "echo" || last.Get(streamable.HeaderProtocolVersion) != v26 {
		t.Errorf("client headers %v", last)
	}
}

// Minor 4: x-mcp-header: the server checks Mcp-Param-* headers against the
// arguments; the client mirrors them and drops tools whose annotations
// break the rules.
func TestChangelog_XMCPHeader(t *testing.T) {
	srv := mcp.NewServer(protocol.Implementation{Name: "h", Version: "1"}, nil)
	srv.AddTool(&protocol.Tool{Name: "sql", InputSchema: jsontext.Value(`{"type":"object","properties":{` +
		`"region":{"type":"string","x-mcp-header":"Region"},"shard":{"type":"integer","x-mcp-header":"Shard"},` +
		`"opts":{"type":"object","properties":{"dry":{"type":"boolean","x-mcp-header":"Dry-Run"}}},"query":{"type":"string"}}}`)},
		func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return mcp.TextResult("ran " + string(call.Arguments)), nil
		})
	srv.AddTool(&protocol.Tool{Name: "bad_headers", InputSchema: jsontext.Value(`{"type":"object","properties":{"n":{"type":"number","x-mcp-header":"N"}}}`)},
		func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return mcp.TextResult("bad"), nil
		})
	s := c26NewHTTP(t, srv, nil)
	args := map[string]any{"region": "us-west1", "shard": 42, "opts": map[string]any{"dry": true}, "query": "SELECT 1"}
	params := c26Params(map[string]any{"name": "sql", "arguments": args}, c26Meta(nil))
	good := func(h http.Header) {
		h.Set("Mcp-Param-Region", "us-west1")
		h.Set("Mcp-Param-Shard", "42")
		h.Set("Mcp-Param-Dry-Run", "true")
	}
	tests := []struct {
		name string
		edit func(http.Header)
		code int64
	}{
		{"all headers", good, 0},
		{"Base64 value", func(h http.Header) { good(h); h.Set("Mcp-Param-Region", "=?base64?dXMtd2VzdDE=?=") }, 0},
		{"integer compared numerically", func(h http.Header) { good(h); h.Set("Mcp-Param-Shard", "42.0") }, 0},
		{"missing header", func(h http.Header) { good(h); h.Del("Mcp-Param-Region") }, protocol.CodeHeaderMismatch},
		{"wrong value", func(h http.Header) { good(h); h.Set("Mcp-Param-Region", "eu-west1") }, protocol.CodeHeaderMismatch},
		{"nested wrong value", func(h http.Header) { good(h); h.Set("Mcp-Param-Dry-Run", "false") }, protocol.CodeHeaderMismatch},
	}
	for _, tt := range tests {
		r := s.post(1, protocol.MethodToolsCall, params, tt.edit)
		if r.errCode(t) != tt.code {
			t.Errorf("%s: %s", tt.name, r.body)
		}
	}
	if r := s.post(1, protocol.MethodToolsCall, c26Params(map[string]any{"name": "sql", "arguments": map[string]any{"query": "q"}}, c26Meta(nil)),
		func(h http.Header) { h.Set("Mcp-Param-Region", "x") }); r.errCode(t) != protocol.CodeHeaderMismatch {
		t.Errorf("header without argument: %s", r.body)
	}

	rec := &c26Recorder{next: http.DefaultTransport}
	cs := c26Client(t, streamable.NewDialer(s.ts.URL, &streamable.ClientOptions{HTTPClient: &http.Client{Transport: rec}}), nil)
	ctx := context.Background()
	// Before tools/list the client does not know the annotations: the
	// server refuses, the client lists the tools and retries.
	res, err := cs.CallToolArgs(ctx, "sql", args)
	if err != nil || !strings.HasPrefix(c26Text(t, res), "ran ") {
		t.Fatalf("call: %v %+v", err, res)
	}
	last := rec.headers()[len(rec.headers())-1]
	if last.Get("Mcp-Param-Region") != "us-west1" || last.Get("Mcp-Param-Shard") != "42" || last.Get("Mcp-Param-Dry-Run") != "true" {
		t.Errorf("client Mcp-Param headers %v", last)
	}
	lt, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range lt.Tools {
		if tl.Name == "bad_headers" {
			t.Error("the client kept a tool with an x-mcp-header on a number")
		}
	}
	if _, err := cs.CallToolArgs(ctx, "sql", map[string]any{"region": "日本", "query": "q"}); err != nil {
		t.Errorf("non-ASCII header value: %v", err)
	}
	if got := rec.headers()[len(rec.headers())-1].Get("Mcp-Param-Region"); got != "=?base64?5pel5pys?=" {
		t.Errorf("encoded header %q", got)
	}
}

// Minor 5: ttlMs and cacheScope on cacheable results, from the options,
// unless the handler set them.
func TestChangelog_CacheableResults(t *testing.T) {
	s := c26NewHTTP(t, everything.NewServer(&mcp.ServerOptions{ListTTL: 5 * time.Minute, ListCacheScope: protocol.CacheScopePublic, ReadTTL: time.Second}), nil)
	for _, c := range []struct {
		method string
		params map[string]any
		ttl    int64
		scope  protocol.CacheScope
	}{
		{protocol.MethodToolsList, nil, 300000, protocol.CacheScopePublic},
		{protocol.MethodPromptsList, nil, 300000, protocol.CacheScopePublic},
		{protocol.MethodResourcesList, nil, 300000, protocol.CacheScopePublic},
		{protocol.MethodResourcesTemplatesList, nil, 300000, protocol.CacheScopePublic},
		{protocol.MethodServerDiscover, nil, 300000, protocol.CacheScopePublic},
		{protocol.MethodResourcesRead, map[string]any{"uri": "test://static-text"}, 1000, protocol.CacheScopePrivate},
	} {
		var res struct {
			TTLMs      *int64              `json:"ttlMs"`
			CacheScope protocol.CacheScope `json:"cacheScope"`
		}
		s.post(1, c.method, c26Params(c.params, c26Meta(nil)), nil).result(t, &res)
		if res.TTLMs == nil || *res.TTLMs != c.ttl || res.CacheScope != c.scope {
			t.Errorf("%s: ttlMs %v, cacheScope %q", c.method, res.TTLMs, res.CacheScope)
		}
	}
	// Defaults, and a handler's own values.
	srv := mcp.NewServer(protocol.Implementation{Name: "c", Version: "1"}, nil)
	ttl := int64(42)
	srv.AddResource(&protocol.Resource{URI: "x://pub", Name: "pub"}, func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
		r := mcp.TextResource(uri, "text/plain", "x")
		r.TTLMs, r.CacheScope = &ttl, protocol.CacheScopePublic
		return r, nil
	})
	d := c26NewHTTP(t, srv, nil)
	var read protocol.ReadResourceResult
	d.post(1, protocol.MethodResourcesRead, c26Params(map[string]any{"uri": "x://pub"}, c26Meta(nil)), nil).result(t, &read)
	if read.TTLMs == nil || *read.TTLMs != 42 || read.CacheScope != protocol.CacheScopePublic {
		t.Errorf("handler's caching hints: %v %q", read.TTLMs, read.CacheScope)
	}
	var list protocol.ListResourcesResult
	d.post(2, protocol.MethodResourcesList, c26Params(nil, c26Meta(nil)), nil).result(t, &list)
	if list.TTLMs == nil || *list.TTLMs != mcp.DefaultListTTL.Milliseconds() || list.CacheScope != protocol.CacheScopePrivate {
		t.Errorf("default list hints: %v %q", list.TTLMs, list.CacheScope)
	}
}

// Minor 6: resource not found is -32602 in 2026-07-28 and still -32002 in
// 2025-11-25, from the same server at the same time.
func TestChangelog_ResourceNotFound(t *testing.T) {
	s := c26NewHTTP(t, nil, nil)
	r := s.post(1, protocol.MethodResourcesRead, c26Params(map[string]any{"uri": "test://missing"}, c26Meta(nil)), nil)
	if e := r.response(t).Error; e == nil || e.Code != jsonrpc.CodeInvalidParams || !strings.Contains(string(e.Data), "test://missing") || r.status != http.StatusBadRequest {
		t.Errorf("2026-07-28: %d %s", r.status, r.body)
	}
	ctx := context.Background()
	modern := c26Client(t, streamable.NewDialer(s.ts.URL, nil), nil)
	legacy := c26Client(t, streamable.NewDialer(s.ts.URL, nil), &mcp.ClientOptions{ProtocolVersion: protocol.Version20251125})
	if _, err := modern.ReadResource(ctx, "test://missing"); !mcp.IsProtocolError(err, jsonrpc.CodeInvalidParams) {
		t.Errorf("modern client: %v", err)
	}
	if _, err := legacy.ReadResource(ctx, "test://missing"); !mcp.IsProtocolError(err, protocol.CodeResourceNotFound) {
		t.Errorf("legacy client: %v", err)
	}
}

// Minor 10: any JSON Schema 2020-12 keywords in input and output schemas,
// any JSON value as structured content, and no network $ref fetching.
func TestChangelog_LoosenedSchemas(t *testing.T) {
	srv := everything.NewServer(nil)
	srv.AddTool(&protocol.Tool{Name: "list_out", InputSchema: jsontext.Value(`{"type":"object","anyOf":[{"required":["a"]},{"required":["b"]}]}`),
		OutputSchema: jsontext.Value(`{"type":"array","items":{"type":"integer"}}`)},
		func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return &protocol.CallToolResult{Content: []protocol.Content{&protocol.TextContent{Text: "[1,2,3]"}}, StructuredContent: jsontext.Value(`[1,2,3]`)}, nil
		})
	s := c26NewHTTP(t, srv, nil)
	var lt protocol.ListToolsResult
	s.post(1, protocol.MethodToolsList, c26Params(nil, c26Meta(nil)), nil).result(t, &lt)
	for _, tl := range lt.Tools {
		if tl.Name == "json_schema_2020_12_tool" && !strings.Contains(string(tl.InputSchema), `"$defs"`) {
			t.Errorf("2020-12 schema not kept: %s", tl.InputSchema)
		}
		if tl.Name == "list_out" && string(tl.OutputSchema) != `{"type":"array","items":{"type":"integer"}}` {
			t.Errorf("output schema %s", tl.OutputSchema)
		}
	}
	var res protocol.CallToolResult
	s.post(2, protocol.MethodToolsCall, c26Params(map[string]any{"name": "list_out", "arguments": map[string]any{"a": 1}}, c26Meta(nil)), nil).result(t, &res)
	if string(res.StructuredContent) != "[1,2,3]" {
		t.Errorf("structuredContent %s", res.StructuredContent)
	}
	if r := s.post(3, protocol.MethodToolsCall, c26Params(map[string]any{"name": "list_out", "arguments": map[string]any{"c": 1}}, c26Meta(nil)), nil); !strings.Contains(string(r.body), `"isError":true`) {
		t.Errorf("anyOf not enforced: %s", r.body)
	}
	// A $ref to the network is not fetched: the tool cannot be registered.
	defer func() {
		if recover() == nil {
			t.Error("a schema with a network $ref compiled")
		}
	}()
	srv.AddTool(&protocol.Tool{Name: "remote_ref", InputSchema: jsontext.Value(`{"type":"object","properties":{"a":{"$ref":"http://127.0.0.1:1/schema.json"}}}`)},
		func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return nil, nil
		})
}

// Minor 12: error codes of the revision, from the reserved sub-range, and
// no -32002 or -32042 on the wire (see the tests of minor 6 and of URL
// elicitation).
func TestChangelog_ErrorCodeAllocation(t *testing.T) {
	for _, c := range []int64{protocol.CodeHeaderMismatch, protocol.CodeMissingRequiredClientCapability, protocol.CodeUnsupportedProtocolVersion} {
		if c > -32020 || c < -32099 {
			t.Errorf("code %d outside -32099..-32020", c)
		}
	}
	if protocol.CodeHeaderMismatch != -32020 || protocol.CodeMissingRequiredClientCapability != -32021 || protocol.CodeUnsupportedProtocolVersion != -32022 {
		t.Error("renumbered codes")
	}
	// Clients recognise a modern server by them, not by the draft numbers.
	if protocol.IsModernError(&jsonrpc.Error{Code: -32004}) || !protocol.IsModernError(&jsonrpc.Error{Code: -32022}) {
		t.Error("IsModernError")
	}
}

// Dual-era: a 2025-11-25 client and a 2026-07-28 client on one stdio
// process each and one HTTP endpoint, with one handler that asks for
// roots, against one server definition.
func TestChangelog_DualEra_SameHandler(t *testing.T) {
	srv := everything.NewServer(nil)
	s := c26NewHTTP(t, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	clients := []*mcp.ClientSession{
		c26Client(t, streamable.NewDialer(s.ts.URL, nil), c26Handlers(&mcp.ClientOptions{ProtocolVersion: v26})),
		c26Client(t, streamable.NewDialer(s.ts.URL, nil), c26Handlers(&mcp.ClientOptions{ProtocolVersion: protocol.Version20251125})),
		c26Client(t, streamable.NewDialer(s.ts.URL, nil), c26Handlers(&mcp.ClientOptions{DiscoverModern: true})),
		c26Client(t, c26Pipe(t, srv), c26Handlers(&mcp.ClientOptions{ProtocolVersion: v26})),
		c26Client(t, c26Pipe(t, srv), c26Handlers(&mcp.ClientOptions{ProtocolVersion: protocol.Version20251125})),
	}
	errs := make(chan error, len(clients)*2)
	for _, cs := range clients {
		go func() {
			for _, tool := range []string{"test_input_required_result_list_roots", "test_input_required_result_multiple_inputs"} {
				res, err := cs.CallToolArgs(ctx, tool, nil)
				if err == nil && res.IsError {
					err = errors.New(c26Text(t, res))
				}
				if err != nil {
					err = fmt.Errorf("%s (%s): %w", tool, cs.ProtocolVersion(), err)
				}
				errs <- err
			}
		}()
	}
	for range len(clients) * 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if !clients[2].Stateless() {
		t.Error("DiscoverModern did not pick 2026-07-28")
	}
}

var _ = transport.HeaderFrom
