package mcp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// jobTool is a task-capable tool whose runs the test controls.
type jobTool struct {
	started chan string // the task id of each run
	release chan struct{}
	ctxErr  chan error
}

type jobIn struct {
	Mode string `json:"mode" jsonschema:"enum=ok|fail|rpc|elicit|instant"`
}

func addJobTool(srv *mcp.Server, support protocol.TaskSupport) *jobTool {
	j := &jobTool{started: make(chan string, 64), release: make(chan struct{}), ctxErr: make(chan error, 64)}
	mcp.AddTool(srv, &protocol.Tool{Name: "job", Execution: &protocol.ToolExecution{TaskSupport: support}},
		func(ctx context.Context, req *mcp.Request, in jobIn) (string, error) {
			j.started <- req.TaskID()
			if in.Mode == "elicit" {
				res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{Message: "name?", RequestedSchema: &protocol.ElicitSchema{
					Properties: map[string]protocol.PrimitiveSchema{"name": &protocol.StringSchema{}},
				}})
				if err != nil {
					return "", err
				}
				return fmt.Sprint("got ", res.Content["name"]), nil
			}
			if in.Mode != "instant" {
				select {
				case <-ctx.Done():
					j.ctxErr <- ctx.Err()
					return "", ctx.Err()
				case <-j.release:
				}
			}
			switch in.Mode {
			case "fail":
				return "", errors.New("the job failed")
			case "rpc":
				return "", &jsonrpc.Error{Code: -32011, Message: "backend refused"}
			}
			return "done " + req.TaskID(), nil
		})
	return j
}

// startTask calls the job tool as a task and returns the created task.
func startTask(t *testing.T, h *sessHarness, mode string, ttl string) protocol.Task {
	t.Helper()
	task := `{}`
	if ttl != "" {
		task = `{"ttl":` + ttl + `}`
	}
	var res protocol.CreateTaskResult
	h.mustCall(protocol.MethodToolsCall, `{"name":"job","arguments":{"mode":"`+mode+`"},"task":`+task+`}`, &res)
	if res.Task.TaskID == "" || res.Task.Status != protocol.TaskStatusWorking {
		t.Fatalf("CreateTaskResult %+v", res)
	}
	return res.Task
}

func getTask(t *testing.T, h *sessHarness, id string) (protocol.GetTaskResult, *jsonrpc.Error) {
	t.Helper()
	var res protocol.GetTaskResult
	err := h.call(protocol.MethodTasksGet, map[string]string{"taskId": id}, &res)
	return res, err
}

// waitStatus polls tasks/get until the task has the given status.
func waitStatus(t *testing.T, h *sessHarness, id string, want protocol.TaskStatus) protocol.GetTaskResult {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for {
		res, err := getTask(t, h, id)
		if err != nil {
			t.Fatalf("tasks/get: %v", err)
		}
		if res.Status == want {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s is %s, want %s", id, res.Status, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// statusNotes returns the statuses announced for a task on the standalone
// stream.
func statusNotes(t *testing.T, h *sessHarness, id string) []string {
	var out []string
	for _, n := range h.out.requests(protocol.NotificationTasksStatus) {
		p := decodeParamsAs[protocol.TaskStatusNotificationParams](t, n)
		if p.TaskID == id {
			out = append(out, string(p.Status))
			if _, ok := p.Meta.RelatedTask(); ok {
				t.Errorf("a status notification carries related-task _meta: %s", n.Params)
			}
		}
	}
	return out
}

// waitStatusNote waits for a status notification announcing status.
func waitStatusNote(t *testing.T, h *sessHarness, status protocol.TaskStatus) {
	t.Helper()
	h.out.waitFor(func(m jsonrpc.Message) bool {
		r, ok := m.(*jsonrpc.Request)
		return ok && r.Method == protocol.NotificationTasksStatus && strings.Contains(string(r.Params), `"status":"`+string(status)+`"`)
	})
}

func newTaskHarness(t *testing.T, opts *mcp.ServerOptions, caps protocol.ClientCapabilities) (*sessHarness, *jobTool) {
	srv := newSrv(opts)
	j := addJobTool(srv, protocol.TaskSupportOptional)
	t.Cleanup(func() { srv.Close() })
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, caps)
	return h, j
}

func TestTaskLifecycle(t *testing.T) {
	h, j := newTaskHarness(t, &mcp.ServerOptions{TaskPollInterval: 250 * time.Millisecond}, protocol.ClientCapabilities{})

	task := startTask(t, h, "ok", "60000")
	if id := recvWithin(t, j.started, "the job to start"); id != task.TaskID {
		t.Errorf("Request.TaskID() = %q, want %q", id, task.TaskID)
	}
	created, err := task.Created()
	if err != nil || time.Since(created) > time.Minute || task.TTL == nil || *task.TTL != 60000 || task.PollInterval != 250 {
		t.Errorf("created task %+v (createdAt err %v)", task, err)
	}
	if res := waitStatus(t, h, task.TaskID, protocol.TaskStatusWorking); res.TaskID != task.TaskID {
		t.Errorf("tasks/get %+v", res)
	}

	// tasks/result blocks until the task is done.
	type outcome struct {
		resp *jsonrpc.Response
	}
	done := make(chan outcome, 1)
	go func() {
		raw, _ := h.roundTrip(context.Background(), jsonrpc.StringID("result-1"), protocol.MethodTasksResult, map[string]string{"taskId": task.TaskID})
		done <- outcome{mustDecodeResponse(t, raw)}
	}()
	select {
	case o := <-done:
		t.Fatalf("tasks/result returned before the task finished: %+v", o.resp)
	case <-time.After(50 * time.Millisecond):
	}
	close(j.release)
	o := recvWithin(t, done, "tasks/result")
	if o.resp.Error != nil {
		t.Fatal(o.resp.Error)
	}
	var res protocol.CallToolResult
	if err := json.Unmarshal(o.resp.Result, &res, protocol.UnionUnmarshalers); err != nil {
		t.Fatal(err)
	}
	if res.IsError || firstText(t, &res) != "done "+task.TaskID {
		t.Errorf("task result %s", o.resp.Result)
	}
	if rt, ok := res.Meta.RelatedTask(); !ok || rt.TaskID != task.TaskID {
		t.Errorf("tasks/result lacks the related-task _meta: %s", o.resp.Result)
	}
	final := waitStatus(t, h, task.TaskID, protocol.TaskStatusCompleted)
	waitStatusNote(t, h, protocol.TaskStatusCompleted)
	if final.LastUpdatedAt < final.CreatedAt {
		t.Errorf("lastUpdatedAt %s before createdAt %s", final.LastUpdatedAt, final.CreatedAt)
	}
	if got := strings.Join(statusNotes(t, h, task.TaskID), ","); got != "completed" {
		t.Errorf("status notifications %q, want completed", got)
	}
	// The result can be fetched again.
	resp, _ := h.request(protocol.MethodTasksResult, map[string]string{"taskId": task.TaskID})
	if resp.Error != nil || !sameJSON(resp.Result, o.resp.Result) {
		t.Errorf("second tasks/result: %s %v", resp.Result, resp.Error)
	}
	// Unknown ids and missing ids.
	for _, m := range []string{protocol.MethodTasksGet, protocol.MethodTasksResult, protocol.MethodTasksCancel} {
		if err := h.call(m, `{"taskId":"no-such-task"}`, nil); err == nil || err.Code != jsonrpc.CodeInvalidParams {
			t.Errorf("%s of an unknown task: %v", m, err)
		}
		if err := h.call(m, `{}`, nil); err == nil || err.Code != jsonrpc.CodeInvalidParams {
			t.Errorf("%s without taskId: %v", m, err)
		}
	}
}

func TestTaskFailures(t *testing.T) {
	tests := []struct {
		mode      string
		wantCode  int64  // protocol error from tasks/result
		wantText  string // isError text from tasks/result
		wantState protocol.TaskStatus
	}{
		{mode: "fail", wantText: "the job failed", wantState: protocol.TaskStatusFailed},
		{mode: "rpc", wantCode: -32011, wantState: protocol.TaskStatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			h, j := newTaskHarness(t, nil, protocol.ClientCapabilities{})
			task := startTask(t, h, tt.mode, "")
			close(j.release)
			res := waitStatus(t, h, task.TaskID, tt.wantState)
			if res.StatusMessage == "" {
				t.Errorf("failed task without statusMessage")
			}
			resp, _ := h.request(protocol.MethodTasksResult, map[string]string{"taskId": task.TaskID})
			if tt.wantCode != 0 {
				if resp.Error == nil || resp.Error.Code != tt.wantCode || resp.Error.Message != "backend refused" {
					t.Errorf("tasks/result %s %v, want error %d", resp.Result, resp.Error, tt.wantCode)
				}
				return
			}
			var cr protocol.CallToolResult
			if resp.Error != nil || json.Unmarshal(resp.Result, &cr, protocol.UnionUnmarshalers) != nil || !cr.IsError || firstText(t, &cr) != tt.wantText {
				t.Errorf("tasks/result %s %v, want an isError result %q", resp.Result, resp.Error, tt.wantText)
			}
		})
	}
}

func TestTaskCancel(t *testing.T) {
	h, j := newTaskHarness(t, nil, protocol.ClientCapabilities{})
	task := startTask(t, h, "ok", "")
	recvWithin(t, j.started, "the job to start")

	var res protocol.CancelTaskResult
	h.mustCall(protocol.MethodTasksCancel, map[string]string{"taskId": task.TaskID}, &res)
	if res.Status != protocol.TaskStatusCancelled || res.TaskID != task.TaskID {
		t.Errorf("tasks/cancel result %+v", res)
	}
	if err := recvWithin(t, j.ctxErr, "the job's context to end"); !errors.Is(err, context.Canceled) {
		t.Errorf("job context error %v", err)
	}
	// The task stays cancelled after its handler returns.
	time.Sleep(20 * time.Millisecond)
	waitStatus(t, h, task.TaskID, protocol.TaskStatusCancelled)
	if err := h.call(protocol.MethodTasksCancel, map[string]string{"taskId": task.TaskID}, nil); err == nil || err.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("cancelling a cancelled task: %v, want -32602", err)
	}
	if err := h.call(protocol.MethodTasksResult, map[string]string{"taskId": task.TaskID}, nil); err == nil {
		t.Errorf("tasks/result of a cancelled task succeeded")
	}
	if got := strings.Join(statusNotes(t, h, task.TaskID), ","); got != "cancelled" {
		t.Errorf("status notifications %q", got)
	}

	// A completed task cannot be cancelled.
	done := startTask(t, h, "instant", "")
	waitStatus(t, h, done.TaskID, protocol.TaskStatusCompleted)
	if err := h.call(protocol.MethodTasksCancel, map[string]string{"taskId": done.TaskID}, nil); err == nil || err.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("cancelling a completed task: %v, want -32602", err)
	}
	waitStatus(t, h, done.TaskID, protocol.TaskStatusCompleted)
}

func TestTaskInputRequired(t *testing.T) {
	h, j := newTaskHarness(t, nil, protocol.ClientCapabilities{Elicitation: &protocol.ElicitationCapability{Form: &protocol.EmptyCapability{}}})
	var elicitMeta protocol.Meta
	h.setAnswer(func(req *jsonrpc.Request) *jsonrpc.Response {
		elicitMeta = decodeParamsAs[protocol.ElicitRequestParams](t, req).Meta
		return answerWith(t, req.ID, map[string]any{"action": "accept", "content": map[string]any{"name": "Ann"}})
	})
	task := startTask(t, h, "elicit", "")
	recvWithin(t, j.started, "the job to start")
	waitStatus(t, h, task.TaskID, protocol.TaskStatusInputRequired)
	waitStatusNote(t, h, protocol.TaskStatusInputRequired)
	if n := len(h.out.requests(protocol.MethodElicitationCreate)); n != 0 {
		t.Fatalf("the task's elicitation went to the standalone stream")
	}

	// tasks/result relays the queued elicitation on its own stream.
	raw, sink := h.roundTrip(context.Background(), jsonrpc.Int64ID(1000), protocol.MethodTasksResult, map[string]string{"taskId": task.TaskID})
	resp := mustDecodeResponse(t, raw)
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	var res protocol.CallToolResult
	json.Unmarshal(resp.Result, &res, protocol.UnionUnmarshalers)
	if firstText(t, &res) != "got Ann" {
		t.Errorf("task result %s", resp.Result)
	}
	if len(sink.requests(protocol.MethodElicitationCreate)) != 1 {
		t.Errorf("tasks/result stream: %s", describeMsgs(sink.all()))
	}
	if rt, ok := elicitMeta.RelatedTask(); !ok || rt.TaskID != task.TaskID {
		t.Errorf("elicitation _meta %v lacks the related task", elicitMeta)
	}
	waitStatus(t, h, task.TaskID, protocol.TaskStatusCompleted)
	waitStatusNote(t, h, protocol.TaskStatusCompleted)
	if got := strings.Join(statusNotes(t, h, task.TaskID), ","); got != "input_required,working,completed" {
		t.Errorf("status notifications %q", got)
	}
}

func TestTaskListAndIsolation(t *testing.T) {
	srv := newSrv(&mcp.ServerOptions{PageSize: 2})
	j := addJobTool(srv, protocol.TaskSupportOptional)
	close(j.release)
	t.Cleanup(func() { srv.Close() })
	a := newSessHarness(t, srv)
	a.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	b := newSessHarness(t, srv)
	b.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	var want []string
	for range 5 {
		want = append(want, startTask(t, a, "ok", "").TaskID)
	}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("tasks/list does not end")
		}
		var res protocol.ListTasksResult
		a.mustCall(protocol.MethodTasksList, &protocol.PaginatedRequestParams{Cursor: cursor}, &res)
		if len(res.Tasks) > 2 {
			t.Fatalf("page of %d with PageSize 2", len(res.Tasks))
		}
		for _, task := range res.Tasks {
			got = append(got, task.TaskID)
		}
		if cursor = res.NextCursor; cursor == "" {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("tasks/list order\n got %v\nwant %v", got, want)
	}
	if err := a.call(protocol.MethodTasksList, `{"cursor":"garbage"}`, nil); err == nil || err.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("tasks/list with a bad cursor: %v", err)
	}

	// Another session sees none of them.
	var other protocol.ListTasksResult
	b.mustCall(protocol.MethodTasksList, nil, &other)
	if len(other.Tasks) != 0 {
		t.Errorf("session b lists a's tasks: %+v", other.Tasks)
	}
	for _, m := range []string{protocol.MethodTasksGet, protocol.MethodTasksResult, protocol.MethodTasksCancel} {
		if err := b.call(m, map[string]string{"taskId": want[0]}, nil); err == nil || err.Code != jsonrpc.CodeInvalidParams {
			t.Errorf("session b %s of a's task: %v, want -32602", m, err)
		}
	}
}

func TestTaskOwner(t *testing.T) {
	type userKey struct{}
	srv := newSrv(&mcp.ServerOptions{TaskOwner: func(ctx context.Context, r *mcp.Request) string {
		u, _ := r.Session.Value(userKey{}).(string)
		return u
	}})
	j := addJobTool(srv, protocol.TaskSupportOptional)
	close(j.release)
	t.Cleanup(func() { srv.Close() })
	session := func(user string) *sessHarness {
		h := newSessHarness(t, srv)
		h.ss.SetValue(userKey{}, user)
		h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
		return h
	}
	ann1, ann2, bob := session("ann"), session("ann"), session("bob")
	task := startTask(t, ann1, "ok", "")
	waitStatus(t, ann2, task.TaskID, protocol.TaskStatusCompleted)
	if _, err := getTask(t, bob, task.TaskID); err == nil {
		t.Error("another principal reached the task")
	}
}

func TestTaskTTL(t *testing.T) {
	h, j := newTaskHarness(t, &mcp.ServerOptions{DefaultTaskTTL: time.Minute}, protocol.ClientCapabilities{})
	close(j.release)

	if task := startTask(t, h, "ok", ""); task.TTL == nil || *task.TTL != 60000 {
		t.Errorf("default ttl %v, want 60000", task.TTL)
	}
	if task := startTask(t, h, "ok", "999999999"); task.TTL == nil || *task.TTL != 60000 {
		t.Errorf("requested ttl above the limit came back as %v, want 60000", task.TTL)
	}
	short := startTask(t, h, "ok", "30")
	if short.TTL == nil || *short.TTL != 30 {
		t.Fatalf("ttl %v, want 30", short.TTL)
	}
	time.Sleep(60 * time.Millisecond)
	if _, err := getTask(t, h, short.TaskID); err == nil || err.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("tasks/get after the ttl: %v, want -32602", err)
	}
	if err := h.call(protocol.MethodTasksResult, map[string]string{"taskId": short.TaskID}, nil); err == nil {
		t.Errorf("tasks/result after the ttl succeeded")
	}
	var list protocol.ListTasksResult
	h.mustCall(protocol.MethodTasksList, nil, &list)
	for _, task := range list.Tasks {
		if task.TaskID == short.TaskID {
			t.Errorf("tasks/list still has the expired task")
		}
	}
	if len(list.Tasks) != 2 {
		t.Errorf("tasks/list has %d tasks, want 2", len(list.Tasks))
	}
}

func TestTaskNegotiation(t *testing.T) {
	srv := newSrv(nil)
	t.Cleanup(func() { srv.Close() })
	addJobTool(srv, protocol.TaskSupportRequired)
	close(addJobToolNamed(srv, "plain", "").release)
	close(addJobToolNamed(srv, "forbidden", protocol.TaskSupportForbidden).release)

	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	tests := []struct {
		params string
		code   int64
	}{
		{`{"name":"plain","arguments":{"mode":"instant"},"task":{}}`, jsonrpc.CodeMethodNotFound},
		{`{"name":"forbidden","arguments":{"mode":"instant"},"task":{}}`, jsonrpc.CodeMethodNotFound},
		{`{"name":"job","arguments":{"mode":"instant"}}`, jsonrpc.CodeMethodNotFound},
	}
	for _, tt := range tests {
		if err := h.call(protocol.MethodToolsCall, tt.params, nil); err == nil || err.Code != tt.code {
			t.Errorf("%s: %v, want %d", tt.params, err, tt.code)
		}
	}

	// Before 2025-11-25 there are no tasks: the field is ignored and the
	// tool runs in the request, and tasks/* do not exist.
	old := newSessHarness(t, srv)
	old.initialize("2025-06-18", protocol.ClientCapabilities{})
	res, perr := old.callTool("job", `{"mode":"instant"}`)
	if perr != nil || res.IsError || firstText(t, res) != "done " {
		t.Errorf("required-task tool at 2025-06-18: %v %+v", perr, res)
	}
	resp, _ := old.request(protocol.MethodToolsCall, `{"name":"plain","arguments":{"mode":"instant"},"task":{"ttl":5}}`)
	if resp.Error != nil || strings.Contains(string(resp.Result), `"task"`) {
		t.Errorf("task field at 2025-06-18: %s %v", resp.Result, resp.Error)
	}
	for _, m := range []string{protocol.MethodTasksGet, protocol.MethodTasksList, protocol.MethodTasksResult, protocol.MethodTasksCancel} {
		if err := old.call(m, `{"taskId":"x"}`, nil); err == nil || err.Code != jsonrpc.CodeMethodNotFound {
			t.Errorf("%s at 2025-06-18: %v, want -32601", m, err)
		}
	}
}

// sameJSON reports whether two JSON texts encode the same value.
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	ca, _ := json.Marshal(va, json.Deterministic(true))
	cb, _ := json.Marshal(vb, json.Deterministic(true))
	return bytes.Equal(ca, cb)
}

// addJobToolNamed is addJobTool under another name.
func addJobToolNamed(srv *mcp.Server, name string, support protocol.TaskSupport) *jobTool {
	j := &jobTool{started: make(chan string, 64), release: make(chan struct{}), ctxErr: make(chan error, 64)}
	tool := &protocol.Tool{Name: name}
	if support != "" {
		tool.Execution = &protocol.ToolExecution{TaskSupport: support}
	}
	mcp.AddTool(srv, tool, func(ctx context.Context, req *mcp.Request, in jobIn) (string, error) {
		j.started <- req.TaskID()
		<-j.release
		return "done " + req.TaskID(), nil
	})
	return j
}

func TestTasksEndWithSessionAndServer(t *testing.T) {
	srv := newSrv(nil)
	j := addJobTool(srv, protocol.TaskSupportOptional)
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	startTask(t, h, "ok", "")
	recvWithin(t, j.started, "the job to start")
	h.ss.Close()
	if err := recvWithin(t, j.ctxErr, "the task to be cancelled with its session"); !errors.Is(err, context.Canceled) {
		t.Errorf("task context %v", err)
	}

	h2 := newSessHarness(t, srv)
	h2.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	startTask(t, h2, "ok", "")
	recvWithin(t, j.started, "the job to start")
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	recvWithin(t, j.ctxErr, "the task to be cancelled by Server.Close")
	recvWithin(t, closed, "Server.Close to return")
}

// httpMCP is a minimal Streamable HTTP client for in-process tests.
type httpMCP struct {
	t       *testing.T
	url     string
	session string
	client  *http.Client // nil: http.DefaultClient
}

func (c *httpMCP) post(body string) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.session != "" {
		req.Header.Set("Mcp-Session-Id", c.session)
		req.Header.Set("Mcp-Protocol-Version", protocol.LatestVersion)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	client := c.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if id := resp.Header.Get("Mcp-Session-Id"); id != "" {
		c.session = id
	}
	return resp.StatusCode, b
}

func (c *httpMCP) call(method, params string) *jsonrpc.Response {
	c.t.Helper()
	status, body := c.post(`{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":` + params + `}`)
	if status != http.StatusOK {
		c.t.Fatalf("%s: HTTP %d %s", method, status, body)
	}
	return mustDecodeResponse(c.t, body)
}

func TestTaskOutlivesHTTPRequest(t *testing.T) {
	srv := newSrv(nil)
	j := addJobTool(srv, protocol.TaskSupportOptional)
	handler := streamable.NewHandler(srv, nil)
	ts := httptest.NewServer(handler)
	t.Cleanup(func() {
		handler.Close()
		ts.Close()
		srv.Close()
	})
	c := &httpMCP{t: t, url: ts.URL}
	c.call("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`)
	if status, _ := c.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`); status != http.StatusAccepted {
		t.Fatalf("initialized: HTTP %d", status)
	}
	resp := c.call("tools/call", `{"name":"job","arguments":{"mode":"ok"},"task":{}}`)
	var created protocol.CreateTaskResult
	if resp.Error != nil || json.Unmarshal(resp.Result, &created) != nil || created.Task.TaskID == "" {
		t.Fatalf("task creation: %s %v", resp.Result, resp.Error)
	}
	recvWithin(t, j.started, "the job to start")
	// The POST that created the task is over; the task runs on.
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-j.ctxErr:
		t.Fatalf("the task was cancelled when its HTTP request ended: %v", err)
	default:
	}
	close(j.release)
	deadline := time.Now().Add(testWait)
	for {
		resp := c.call("tasks/get", `{"taskId":"`+created.Task.TaskID+`"}`)
		var got protocol.GetTaskResult
		json.Unmarshal(resp.Result, &got)
		if got.Status == protocol.TaskStatusCompleted {
			break
		}
		if got.Status != protocol.TaskStatusWorking || time.Now().After(deadline) {
			t.Fatalf("task status %s (%s %v)", got.Status, resp.Result, resp.Error)
		}
		time.Sleep(5 * time.Millisecond)
	}
	resp = c.call("tasks/result", `{"taskId":"`+created.Task.TaskID+`"}`)
	if resp.Error != nil || !strings.Contains(string(resp.Result), "done "+created.Task.TaskID) {
		t.Errorf("tasks/result %s %v", resp.Result, resp.Error)
	}
	var raw map[string]jsontext.Value
	json.Unmarshal(resp.Result, &raw)
	if !strings.Contains(string(raw["_meta"]), created.Task.TaskID) {
		t.Errorf("tasks/result _meta %s", raw["_meta"])
	}
}

// A task that reports much progress while its requestor only polls
// tasks/get must not fail because nobody drains its messages.
func TestTaskChattyWithoutResultStream(t *testing.T) {
	srv := newSrv(nil)
	t.Cleanup(func() { srv.Close() })
	mcp.AddTool(srv, &protocol.Tool{Name: "chatty", Execution: &protocol.ToolExecution{TaskSupport: protocol.TaskSupportOptional}},
		func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
			for i := range 700 {
				if err := req.Progress(ctx, float64(i+1), 700, ""); err != nil {
					return "", err
				}
				if err := req.Log(ctx, protocol.LoggingLevelDebug, "", i); err != nil {
					return "", err
				}
			}
			return "talked", nil
		})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	var res protocol.CreateTaskResult
	h.mustCall(protocol.MethodToolsCall, `{"name":"chatty","task":{},"_meta":{"progressToken":"p"}}`, &res)
	deadline := time.Now().Add(testWait)
	for {
		got, err := getTask(t, h, res.Task.TaskID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == protocol.TaskStatusCompleted {
			break
		}
		if got.Status != protocol.TaskStatusWorking || time.Now().After(deadline) {
			t.Fatalf("task %s: %s", got.Status, got.StatusMessage)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
