package mcp_test

import (
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// A WithTaskAfterInput tool gathers input through a multi round-trip
// request, then becomes a task whose result uses that input (the
// pre-release suite's tasks-mrtr-composition); without the tasks extension
// StartTask runs the rest in the request.
func TestTaskAfterInput(t *testing.T) {
	s := c26NewHTTP(t, everything.NewServer(nil), nil)
	ext := map[string]any{"extensions": map[string]any{protocol.ExtensionTasks: map[string]any{}}, "elicitation": map[string]any{}}

	var ir protocol.InputRequiredResult
	mrtrCall(s, "test_tool_with_task", ext, nil).result(t, &ir)
	if ir.ResultType != protocol.ResultTypeInputRequired || len(ir.InputRequests) != 1 {
		t.Fatalf("round 1: %+v", ir)
	}
	var key string
	for k := range ir.InputRequests {
		key = k
	}
	var created protocol.TaskState
	mrtrCall(s, "test_tool_with_task", ext, map[string]any{"inputResponses": map[string]any{key: accept(map[string]any{"name": "Alice"})},
		"requestState": ir.RequestState}).result(t, &created)
	if created.ResultType != protocol.ResultTypeTask || created.TaskID == "" {
		t.Fatalf("round 2: %+v", created)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st protocol.TaskState
		s.post(2, protocol.MethodTasksGet, c26Params(map[string]any{"taskId": created.TaskID}, c26Meta(ext)), nil).result(t, &st)
		if st.Status == protocol.TaskStatusCompleted {
			var res protocol.CallToolResult
			if err := json.Unmarshal(st.Result, &res); err != nil || c26Text(t, &res) != "Hello, Alice! (from a task)" {
				t.Fatalf("task result %s", st.Result)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task still %s", st.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
