package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// serveInProcess serves srv with the Streamable HTTP handler on a loopback
// httptest server, for tests that change the server while it runs.
func serveInProcess(t *testing.T, srv *mcp.Server) string {
	t.Helper()
	h := streamable.NewHandler(srv, nil)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close()
		ts.Close()
		srv.Close()
	})
	return ts.URL
}

// openStandalone opens the session's GET stream and returns its events.
func openStandalone(t *testing.T, c *mcpHTTP) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req := c.request(http.MethodGet, "").WithContext(ctx)
	req.Header.Set("Accept", "text/event-stream")
	resp := c.do(req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: HTTP %d", resp.StatusCode)
	}
	events := make(chan sseEvent, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(events)
		readSSE(ctx, resp.Body, events)
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return events
}

// nextMessage returns the next JSON-RPC message on an event stream.
func nextMessage(t *testing.T, events <-chan sseEvent) *jsonrpc.Request {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.data == "" {
				continue
			}
			m, err := jsonrpc.Decode([]byte(ev.data))
			if err != nil {
				t.Fatalf("invalid message %q", ev.data)
			}
			r, ok := m.(*jsonrpc.Request)
			if !ok {
				t.Fatalf("a response on the standalone stream: %s", ev.data)
			}
			return r
		case <-timer.C:
			t.Fatal("timed out waiting for a message on the standalone stream")
		}
	}
}

// Changes made while the server runs reach the client on its GET stream.
func TestHTTPStandaloneNotifications(t *testing.T) {
	t.Parallel()
	srv := mcp.NewServer(protocol.Implementation{Name: "live", Version: "1"}, nil)
	srv.AddResource(&protocol.Resource{URI: "live://a", Name: "a"}, func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
		return mcp.TextResource(uri, "text/plain", "a"), nil
	})
	srv.AddResource(&protocol.Resource{URI: "live://b", Name: "b"}, func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
		return mcp.TextResource(uri, "text/plain", "b"), nil
	})
	c := newHTTPClient(t, serveInProcess(t, srv)+"/")
	c.initialize(protocol.LatestVersion)
	c.call("resources/subscribe", `{"uri":"live://a"}`)
	events := openStandalone(t, c)

	mcp.AddTool(srv, &protocol.Tool{Name: "late"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		return "late", nil
	})
	if m := nextMessage(t, events); m.Method != protocol.NotificationToolsListChanged {
		t.Errorf("got %s, want tools/list_changed", m.Method)
	}
	srv.ResourceUpdated(context.Background(), "live://b") // not subscribed
	srv.ResourceUpdated(context.Background(), "live://a")
	if m := nextMessage(t, events); m.Method != protocol.NotificationResourcesUpdated || !strings.Contains(string(m.Params), "live://a") {
		t.Errorf("got %s %s, want resources/updated for live://a", m.Method, m.Params)
	}
	for ss := range srv.Sessions() {
		ss.Log(context.Background(), protocol.LoggingLevelWarning, "srv", "from the server")
	}
	if m := nextMessage(t, events); m.Method != protocol.NotificationMessage || !strings.Contains(string(m.Params), "from the server") {
		t.Errorf("got %s %s, want the log message", m.Method, m.Params)
	}
	resp, _ := c.call("tools/call", `{"name":"late"}`)
	if text, _ := toolText(t, resp.Result); text != "late" {
		t.Errorf("the tool added at run time: %q", text)
	}
}

// A task that needs input over Streamable HTTP: the elicitation is relayed
// on the tasks/result stream, answered by POST, and the task completes.
func TestHTTPTaskInputRequired(t *testing.T) {
	t.Parallel()
	srv := mcp.NewServer(protocol.Implementation{Name: "tasks", Version: "1"}, nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "ask", Execution: &protocol.ToolExecution{TaskSupport: protocol.TaskSupportOptional}},
		func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
			res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{Message: "colour?", RequestedSchema: &protocol.ElicitSchema{
				Properties: map[string]protocol.PrimitiveSchema{"response": &protocol.StringSchema{}},
			}})
			if err != nil {
				return "", err
			}
			return "colour: " + res.Content["response"].(string), nil
		})
	c := newHTTPClient(t, serveInProcess(t, srv)+"/")
	c.answer = demoClient(t)
	c.initialize(protocol.LatestVersion)

	resp, _ := c.call("tools/call", `{"name":"ask","task":{}}`)
	var created protocol.CreateTaskResult
	decodeResult(t, "tools/call", resp, &created)
	id := created.Task.TaskID
	deadline := time.Now().Add(wait)
	for {
		resp, _ := c.call("tasks/get", `{"taskId":"`+id+`"}`)
		var got protocol.GetTaskResult
		decodeResult(t, "tasks/get", resp, &got)
		if got.Status == protocol.TaskStatusInputRequired {
			break
		}
		if got.Status != protocol.TaskStatusWorking || time.Now().After(deadline) {
			t.Fatalf("task status %s", got.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, before := c.call("tasks/result", `{"taskId":"`+id+`"}`)
	if text, isError := toolText(t, resp.Result); isError || text != "colour: e2e user" {
		t.Errorf("tasks/result %s", resp.Result)
	}
	var elicit *jsonrpc.Request
	for _, m := range before {
		if r, _ := m.request(); r.Method == protocol.MethodElicitationCreate {
			elicit = r
		}
	}
	if elicit == nil {
		t.Fatalf("no elicitation on the tasks/result stream: %d messages", len(before))
	}
	var p protocol.ElicitRequestParams
	if err := json.Unmarshal(elicit.Params, &p); err != nil {
		t.Fatal(err)
	}
	if rt, ok := p.Meta.RelatedTask(); !ok || rt.TaskID != id {
		t.Errorf("elicitation _meta %v", p.Meta)
	}
}
