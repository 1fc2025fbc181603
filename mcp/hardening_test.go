package mcp_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// A URI longer than ServerOptions.MaxURILength is refused with -32602
// before it reaches a template matcher, whose cost grows faster than the
// URI (issue 10, finding 9).
func TestLongURIRefusedBeforeMatching(t *testing.T) {
	srv := newResourceServer(nil)
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	long := "file:///" + strings.Repeat("a", 1<<20) // matches file:///{+path}
	tests := []struct {
		name   string
		method string
		params any
	}{
		{"read", protocol.MethodResourcesRead, map[string]string{"uri": long}},
		{"subscribe", protocol.MethodResourcesSubscribe, map[string]string{"uri": long}},
		{"complete", protocol.MethodCompletionComplete, map[string]any{
			"ref":      map[string]string{"type": "ref/resource", "uri": long},
			"argument": map[string]string{"name": "path", "value": "x"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			resp, _ := h.request(tt.method, tt.params)
			if resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidParams {
				t.Fatalf("got result of %d bytes, error %.200v; want -32602", len(resp.Result), resp.Error)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if len(resp.Error.Message)+len(resp.Error.Data) > 512 || !strings.Contains(resp.Error.Message, strconv.Itoa(len(long))) {
				t.Errorf("error %.300q (%d bytes): want a short message naming the length", resp.Error.Message, len(resp.Error.Message))
			}
		})
	}
	// A URI within the bound is still matched.
	resp, _ := h.request(protocol.MethodResourcesRead, map[string]string{"uri": "file:///" + strings.Repeat("b", 1000)})
	if resp.Error != nil {
		t.Fatalf("URI of 1008 bytes: %v", resp.Error)
	}
}

// Errors repeat at most a small prefix of the client's input, with an
// ellipsis and the input's length (issue 10, finding 10).
func TestErrorsTruncateEchoedInput(t *testing.T) {
	srv := newResourceServer(nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "noop"}, func(ctx context.Context, req *mcp.Request, in struct{}) (string, error) {
		return "ok", nil
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	huge := strings.Repeat("x", 3<<20)
	unknownURI := "test://nope/" + strings.Repeat("u", 8000) // under the URI bound: looked up, not found
	tests := []struct {
		name   string
		method string
		params any
		input  string
	}{
		{"tool name", protocol.MethodToolsCall, map[string]any{"name": huge}, huge},
		{"prompt name", protocol.MethodPromptsGet, map[string]any{"name": huge}, huge},
		{"method", huge, nil, huge},
		{"unknown uri", protocol.MethodResourcesRead, map[string]string{"uri": unknownURI}, unknownURI},
		{"log level", protocol.MethodLoggingSetLevel, map[string]string{"level": huge}, huge},
		{"completion prompt", protocol.MethodCompletionComplete, map[string]any{
			"ref":      map[string]string{"type": "ref/prompt", "name": huge},
			"argument": map[string]string{"name": "a", "value": "x"},
		}, huge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := h.request(tt.method, tt.params)
			if resp.Error == nil {
				t.Fatalf("no error: %.200s", resp.Result)
			}
			e := resp.Error
			if n := len(e.Message) + len(e.Data); n > 2048 {
				t.Fatalf("error of %d bytes: %.300q", n, e.Message)
			}
			if !strings.Contains(e.Message, "…") || !strings.Contains(e.Message, strconv.Itoa(len(tt.input))+" bytes") {
				t.Errorf("message %q: want an ellipsis and the input's length", e.Message)
			}
		})
	}
	// Short input is repeated as it is.
	resp, _ := h.request(protocol.MethodToolsCall, map[string]any{"name": "nope"})
	if resp.Error == nil || resp.Error.Message != `unknown tool "nope"` {
		t.Fatalf("short name: %v", resp.Error)
	}
}

// addWaitTool registers a task-capable tool "wait" that runs until release
// is closed or its context ends, counting the runs in progress.
func addWaitTool(srv *mcp.Server, running *atomic.Int32, release <-chan struct{}) {
	mcp.AddTool(srv, &protocol.Tool{Name: "wait", Execution: &protocol.ToolExecution{TaskSupport: protocol.TaskSupportOptional}},
		func(ctx context.Context, req *mcp.Request, in struct{}) (string, error) {
			running.Add(1)
			defer running.Add(-1)
			select {
			case <-release:
				return "done", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		})
}

// callAsTask sends tools/call "wait" as a task with ctx (which may carry a
// transport.RequestInfo) and returns the response.
func callAsTask(t *testing.T, h *sessHarness, ctx context.Context) *jsonrpc.Response {
	t.Helper()
	raw, _ := h.roundTrip(ctx, jsonrpc.Int64ID(h.nextID.Add(1)), protocol.MethodToolsCall, `{"name":"wait","arguments":{},"task":{}}`)
	return mustDecodeResponse(t, raw)
}

// A session cannot run more than MaxTasksPerSession tasks at once
// (default 64): task-augmented calls no longer escape every bound (issue
// 10, finding 4).
func TestTasksBoundedPerSession(t *testing.T) {
	srv := newSrv(nil)
	var running atomic.Int32
	release := make(chan struct{})
	addWaitTool(srv, &running, release)
	t.Cleanup(func() { srv.Close() })
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	for i := range 64 {
		if resp := callAsTask(t, h, context.Background()); resp.Error != nil {
			t.Fatalf("task %d: %v", i, resp.Error)
		}
	}
	resp := callAsTask(t, h, context.Background())
	if resp.Error == nil || !strings.Contains(resp.Error.Message, "tasks") {
		t.Fatalf("task 65: %s %v; want a refusal", resp.Result, resp.Error)
	}
	close(release)
	deadline := time.Now().Add(testWait)
	for running.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// Finished tasks make room.
	time.Sleep(20 * time.Millisecond)
	if resp := callAsTask(t, h, context.Background()); resp.Error != nil {
		t.Fatalf("a task after the others finished: %v", resp.Error)
	}
}

// A client (transport.RequestInfo.Client) cannot run more than
// MaxTasksPerClient tasks at once (default 256), however many sessions it
// has.
func TestTasksBoundedPerClient(t *testing.T) {
	srv := newSrv(nil)
	var running atomic.Int32
	release := make(chan struct{})
	defer close(release)
	addWaitTool(srv, &running, release)
	t.Cleanup(func() { srv.Close() })
	ctx := transport.WithRequestInfo(context.Background(), &transport.RequestInfo{Client: "203.0.113.9"})
	n := 0
	for s := range 5 {
		h := newSessHarness(t, srv)
		h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
		for range 52 { // 260 in all
			resp := callAsTask(t, h, ctx)
			switch {
			case resp.Error == nil:
				n++
			case n < 256:
				t.Fatalf("session %d: task %d refused: %v", s, n+1, resp.Error)
			}
		}
	}
	if n != 256 {
		t.Fatalf("%d tasks started, want 256", n)
	}
	// Another client is not affected.
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	other := transport.WithRequestInfo(context.Background(), &transport.RequestInfo{Client: "198.51.100.1"})
	if resp := callAsTask(t, h, other); resp.Error != nil {
		t.Fatalf("another client's task: %v", resp.Error)
	}
}

// The records of tasks owned by a session are freed when the session ends
// (nobody else can ever reach them); those owned by a principal survive it.
func TestTaskRecordsFreedWithSession(t *testing.T) {
	type userKey struct{}
	store := mcp.NewMemoryTaskStore()
	srv := newSrv(&mcp.ServerOptions{TaskStore: store, TaskOwner: func(ctx context.Context, r *mcp.Request) string {
		u, _ := r.Session.Value(userKey{}).(string)
		return u
	}})
	var running atomic.Int32
	release := make(chan struct{})
	close(release)
	addWaitTool(srv, &running, release)
	t.Cleanup(func() { srv.Close() })
	start := func(user string) (*sessHarness, string) {
		h := newSessHarness(t, srv)
		if user != "" {
			h.ss.SetValue(userKey{}, user)
		}
		h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
		var res protocol.CreateTaskResult
		h.mustCall(protocol.MethodToolsCall, `{"name":"wait","arguments":{},"task":{}}`, &res)
		waitStatus(t, h, res.Task.TaskID, protocol.TaskStatusCompleted)
		return h, res.Task.TaskID
	}
	anon, anonTask := start("")
	ann, annTask := start("ann")
	anonOwner := "session:" + anon.ss.ID()
	if _, err := store.Get(context.Background(), anonOwner, anonTask); err != nil {
		t.Fatalf("the session's task before it ends: %v", err)
	}
	anon.ss.Close()
	ann.ss.Close()
	if _, err := store.Get(context.Background(), anonOwner, anonTask); !errors.Is(err, mcp.ErrTaskNotFound) {
		t.Errorf("the task of an ended session: %v, want ErrTaskNotFound", err)
	}
	if _, err := store.Get(context.Background(), "ann", annTask); err != nil {
		t.Errorf("a principal's task after its session ended: %v", err)
	}
}

// Running tasks count against the transport's bounds on work in flight:
// with room for three requests per client, two running tasks and the
// request starting a third fill it, so the third task is refused; the room
// comes back when the tasks end.
func TestTasksCountAgainstTransportBounds(t *testing.T) {
	srv := newSrv(nil)
	var running atomic.Int32
	release := make(chan struct{})
	addWaitTool(srv, &running, release)
	handler := streamable.NewHandler(srv, &streamable.Options{MaxInFlightPerClient: 3})
	ts := httptest.NewServer(handler)
	t.Cleanup(func() {
		handler.Close()
		ts.Close()
		srv.Close()
	})
	c := &httpMCP{t: t, url: ts.URL}
	c.call("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`)
	c.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for i := range 2 {
		if resp := c.call("tools/call", `{"name":"wait","arguments":{},"task":{}}`); resp.Error != nil {
			t.Fatalf("task %d: %v", i, resp.Error)
		}
	}
	if resp := c.call("tools/call", `{"name":"wait","arguments":{},"task":{}}`); resp.Error == nil || !strings.Contains(resp.Error.Message, "busy") {
		t.Fatalf("a third task: %s %v, want a refusal", resp.Result, resp.Error)
	}
	close(release)
	deadline := time.Now().Add(testWait)
	for running.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if resp := c.call("tools/call", `{"name":"wait","arguments":{},"task":{}}`); resp.Error != nil {
		t.Fatalf("a task after the others ended: %v", resp.Error)
	}
}

// refusingAdmitter refuses all work.
type refusingAdmitter struct{}

func (refusingAdmitter) Admit(string) (func(), error) { return nil, transport.ErrBusy }

// A task the transport has no room for is refused.
func TestTaskRefusedByTransport(t *testing.T) {
	srv := newSrv(nil)
	var running atomic.Int32
	release := make(chan struct{})
	defer close(release)
	addWaitTool(srv, &running, release)
	t.Cleanup(func() { srv.Close() })
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	ctx := transport.WithRequestInfo(context.Background(), &transport.RequestInfo{Client: "c", Admitter: refusingAdmitter{}})
	if resp := callAsTask(t, h, ctx); resp.Error == nil || !strings.Contains(resp.Error.Message, "busy") {
		t.Fatalf("task with a full transport: %s %v", resp.Result, resp.Error)
	}
	if running.Load() != 0 {
		t.Fatal("the refused task runs")
	}
	// The refusal gave its place back: the session can start tasks when
	// the transport has room.
	if resp := callAsTask(t, h, context.Background()); resp.Error != nil {
		t.Fatalf("task afterwards: %v", resp.Error)
	}
}
