package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// mcpHTTP is a Streamable HTTP client for these tests.
type mcpHTTP struct {
	t       *testing.T
	url     string
	client  *http.Client
	session string
	version string // sent as MCP-Protocol-Version once set
	accept  string // the Accept header; "" for JSON and SSE
	answer  answerer
	nextID  int
	mu      sync.Mutex
}

func newHTTPClient(t *testing.T, url string) *mcpHTTP {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &mcpHTTP{t: t, url: url, client: &http.Client{Transport: tr, Timeout: wait}}
}

// request builds a request with the session's headers.
func (c *mcpHTTP) request(method, body string) *http.Request {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.accept != "" {
		req.Header.Set("Accept", c.accept)
	} else {
		req.Header.Set("Accept", "application/json, text/event-stream")
	}
	if c.session != "" {
		req.Header.Set("Mcp-Session-Id", c.session)
	}
	if c.version != "" {
		req.Header.Set("MCP-Protocol-Version", c.version)
	}
	return req
}

func (c *mcpHTTP) do(req *http.Request) *http.Response {
	c.t.Helper()
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return resp
}

// post sends a body and returns the status and the whole response body.
func (c *mcpHTTP) post(body string, edit func(*http.Request)) (int, http.Header, []byte) {
	c.t.Helper()
	req := c.request(http.MethodPost, body)
	if edit != nil {
		edit(req)
	}
	resp := c.do(req)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// call sends one request and returns its response and the messages that
// came before it on an SSE response. Requests from the server on that
// stream are answered with POSTs.
func (c *mcpHTTP) call(method, params string) (*jsonrpc.Response, []message) {
	c.t.Helper()
	c.mu.Lock()
	c.nextID++
	id := jsonrpc.StringID(fmt.Sprintf("h%d", c.nextID))
	c.mu.Unlock()
	frame := jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: id, Method: method, Params: rawJSON(c.t, params)})
	resp := c.do(c.request(http.MethodPost, string(frame)))
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("%s: HTTP %d %s", method, resp.StatusCode, b)
	}
	if id := resp.Header.Get("Mcp-Session-Id"); id != "" {
		c.session = id
	}
	switch ct := resp.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/json"):
		b, _ := io.ReadAll(resp.Body)
		m, err := jsonrpc.Decode(b)
		if err != nil {
			c.t.Fatalf("%s: invalid response %s", method, b)
		}
		r, ok := m.(*jsonrpc.Response)
		if !ok || r.ID != id {
			c.t.Fatalf("%s: response %s", method, b)
		}
		return r, nil
	case strings.HasPrefix(ct, "text/event-stream"):
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		events := make(chan sseEvent)
		go func() {
			readSSE(ctx, resp.Body, events)
			close(events)
		}()
		defer func() {
			resp.Body.Close()
			for range events {
			}
		}()
		var before []message
		for ev := range events {
			if ev.data == "" {
				continue // the priming event
			}
			m, err := jsonrpc.Decode([]byte(ev.data))
			if err != nil {
				c.t.Fatalf("%s: invalid SSE message %q", method, ev.data)
			}
			switch m := m.(type) {
			case *jsonrpc.Response:
				if m.ID == id {
					return m, before
				}
				c.t.Errorf("%s: a response to another request on this stream: %s", method, ev.data)
			case *jsonrpc.Request:
				before = append(before, message{raw: []byte(ev.data), Message: m})
				if !m.IsNotification() {
					c.reply(m)
				}
			}
		}
		c.t.Fatalf("%s: the SSE stream ended without the response", method)
	default:
		c.t.Fatalf("%s: Content-Type %q", method, ct)
	}
	return nil, nil
}

// reply answers a server request by POSTing the response.
func (c *mcpHTTP) reply(req *jsonrpc.Request) {
	c.t.Helper()
	if c.answer == nil {
		c.t.Fatalf("unexpected server request %s", req.Method)
	}
	result, rerr := c.answer(req)
	resp := &jsonrpc.Response{ID: req.ID, Error: rerr}
	if rerr == nil {
		resp.Result = rawJSON(c.t, result)
	}
	if status, _, body := c.post(string(jsonrpc.AppendResponse(nil, resp)), nil); status != http.StatusAccepted {
		c.t.Errorf("posting the answer to %s: HTTP %d %s", req.Method, status, body)
	}
}

// initialize opens a session speaking version.
func (c *mcpHTTP) initialize(version string) protocol.InitializeResult {
	c.t.Helper()
	resp, _ := c.call("initialize", `{"protocolVersion":"`+version+`","capabilities":`+clientCaps+`,"clientInfo":{"name":"e2e-http","version":"1"}}`)
	var res protocol.InitializeResult
	decodeResult(c.t, "initialize", resp, &res)
	if c.session == "" {
		c.t.Fatal("initialize: no Mcp-Session-Id header")
	}
	if res.ProtocolVersion >= "2025-06-18" {
		c.version = res.ProtocolVersion
	}
	if status, _, body := c.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`, nil); status != http.StatusAccepted {
		c.t.Fatalf("notifications/initialized: HTTP %d %s", status, body)
	}
	return res
}

func TestHTTPFullSession(t *testing.T) {
	t.Parallel()
	srv := startHTTP(t)
	c := newHTTPClient(t, srv.base+"/mcp")
	c.answer = demoClient(t)
	init := c.initialize(protocol.LatestVersion)
	if init.ProtocolVersion != protocol.LatestVersion || init.Capabilities.Tasks == nil {
		t.Errorf("initialize %+v", init)
	}

	// The standalone stream opens with GET.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	getReq := c.request(http.MethodGet, "").WithContext(ctx)
	getReq.Header.Set("Accept", "text/event-stream")
	get := c.do(getReq)
	if get.StatusCode != http.StatusOK || !strings.HasPrefix(get.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET: HTTP %d %s", get.StatusCode, get.Header.Get("Content-Type"))
	}
	standalone := make(chan sseEvent, 64)
	standaloneDone := make(chan error, 1)
	go func() { standaloneDone <- readSSE(ctx, get.Body, standalone) }()

	resp, _ := c.call("tools/call", `{"name":"echo","arguments":{"text":"over http"}}`)
	if text, _ := toolText(t, resp.Result); text != "over http" {
		t.Errorf("echo: %q", text)
	}
	resp, before := c.call("tools/call", `{"name":"test_tool_with_progress","_meta":{"progressToken":99}}`)
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	n := 0
	for _, m := range before {
		if r, _ := m.request(); r.Method == "notifications/progress" {
			n++
			if !strings.Contains(string(r.Params), `"progressToken":99`) {
				t.Errorf("progress %s", r.Params)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d progress notifications on the POST's stream, want 3", n)
	}
	// A server-to-client request on the POST's stream, answered by POST.
	resp, before = c.call("tools/call", `{"name":"test_sampling","arguments":{"prompt":"2+2"}}`)
	if text, _ := toolText(t, resp.Result); text != "LLM response: sampled reply" {
		t.Errorf("sampling over HTTP: %q (%d messages before)", text, len(before))
	}
	// A task outlives the POST that created it.
	resp, _ = c.call("tools/call", `{"name":"count_slowly","arguments":{"to":3,"delayMs":30},"task":{}}`)
	var created protocol.CreateTaskResult
	decodeResult(t, "tools/call", resp, &created)
	resp, _ = c.call("tasks/result", `{"taskId":"`+created.Task.TaskID+`"}`)
	if text, _ := toolText(t, resp.Result); text != "counted to 3" {
		t.Errorf("tasks/result %s", resp.Result)
	}

	// DELETE ends the session: the GET stream ends, the id is unknown.
	req := c.request(http.MethodDelete, "")
	if r := c.do(req); r.StatusCode != http.StatusOK {
		t.Errorf("DELETE: HTTP %d", r.StatusCode)
	} else {
		r.Body.Close()
	}
	select {
	case err := <-standaloneDone:
		if errors.Is(err, context.Canceled) {
			t.Errorf("GET stream: %v", err)
		}
	case <-time.After(wait):
		t.Errorf("the GET stream did not end with its session")
	}
	if status, _, body := c.post(`{"jsonrpc":"2.0","id":1,"method":"ping"}`, nil); status != http.StatusNotFound {
		t.Errorf("POST after DELETE: HTTP %d %s, want 404", status, body)
	}
}

func TestHTTPBadRequests(t *testing.T) {
	t.Parallel()
	srv := startHTTP(t)
	c := newHTTPClient(t, srv.base+"/mcp")
	c.initialize(protocol.LatestVersion)

	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	tests := []struct {
		name     string
		method   string
		body     string
		edit     func(*http.Request)
		status   int
		wantCode int64 // JSON-RPC error code in the body; 0 to skip
	}{
		{name: "ping is fine", method: "POST", body: ping, status: 200},
		{name: "malformed JSON body", method: "POST", body: `{"jsonrpc":"2.0","id":1,"method":`, status: 400, wantCode: jsonrpc.CodeParseError},
		{name: "not a JSON-RPC message", method: "POST", body: `{"hello":"world"}`, status: 400, wantCode: jsonrpc.CodeInvalidRequest},
		{name: "empty body", method: "POST", body: ` `, status: 400},
		{name: "oversize body", method: "POST", body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 5<<20) + `"}}`, status: 413},
		{name: "foreign Origin", method: "POST", body: ping, edit: func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, status: 403},
		{name: "rebinding Host", method: "POST", body: ping, edit: func(r *http.Request) { r.Host = "attacker.example:80" }, status: 403},
		{name: "own Origin", method: "POST", body: ping, edit: func(r *http.Request) { r.Header.Set("Origin", srv.base) }, status: 200},
		{name: "unknown session", method: "POST", body: ping, edit: func(r *http.Request) { r.Header.Set("Mcp-Session-Id", "no-such-session") }, status: 404},
		{name: "no session", method: "POST", body: ping, edit: func(r *http.Request) { r.Header.Del("Mcp-Session-Id") }, status: 400},
		{name: "wrong protocol version", method: "POST", body: ping, edit: func(r *http.Request) { r.Header.Set("MCP-Protocol-Version", "1999-01-01") }, status: 400},
		{name: "wrong Content-Type", method: "POST", body: ping, edit: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, status: 415},
		{name: "Accept neither JSON nor SSE", method: "POST", body: ping, edit: func(r *http.Request) { r.Header.Set("Accept", "text/html") }, status: 406},
		{name: "initialize inside a session", method: "POST", body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`, status: 400},
		{name: "batch outside 2025-03-26", method: "POST", body: `[` + ping + `]`, status: 400},
		{name: "GET without session", method: "GET", edit: func(r *http.Request) { r.Header.Del("Mcp-Session-Id") }, status: 400},
		{name: "GET with unknown session", method: "GET", edit: func(r *http.Request) { r.Header.Set("Mcp-Session-Id", "nope") }, status: 404},
		{name: "GET accepting only JSON", method: "GET", edit: func(r *http.Request) { r.Header.Set("Accept", "application/json") }, status: 406},
		{name: "DELETE unknown session", method: "DELETE", edit: func(r *http.Request) { r.Header.Set("Mcp-Session-Id", "nope") }, status: 404},
		{name: "PUT", method: "PUT", body: ping, status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			req := c.request(tt.method, tt.body)
			if tt.method == "GET" {
				req.Header.Set("Accept", "text/event-stream")
			}
			if tt.edit != nil {
				tt.edit(req)
			}
			resp := c.do(req)
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 1000))
				t.Fatalf("HTTP %d %s, want %d", resp.StatusCode, b, tt.status)
			}
			if tt.wantCode != 0 || (tt.status >= 400 && tt.status != 405) {
				b, _ := io.ReadAll(resp.Body)
				m, err := jsonrpc.Decode(b)
				r, ok := m.(*jsonrpc.Response)
				if err != nil || !ok || r.Error == nil {
					t.Fatalf("error body %q is not a JSON-RPC error response", b)
				}
				if tt.wantCode != 0 && r.Error.Code != tt.wantCode {
					t.Errorf("code %d, want %d", r.Error.Code, tt.wantCode)
				}
			}
		})
	}
	c.t = t
	// The session survived all that.
	if resp, _ := c.call("ping", `{}`); resp.Error != nil {
		t.Errorf("ping: %v", resp.Error)
	}
}

// A client that accepts only JSON gets plain JSON answers; the progress and
// log messages that cannot travel in them are dropped without failing the
// tools that send them.
func TestHTTPJSONOnlyClient(t *testing.T) {
	t.Parallel()
	srv := startHTTP(t)
	c := newHTTPClient(t, srv.base+"/mcp")
	c.accept = "application/json"
	c.initialize(protocol.LatestVersion)
	c.call("logging/setLevel", `{"level":"debug"}`)
	for _, params := range []string{
		`{"name":"test_tool_with_progress","_meta":{"progressToken":"j"}}`,
		`{"name":"test_tool_with_logging"}`,
		`{"name":"count_slowly","arguments":{"to":2},"_meta":{"progressToken":3}}`,
	} {
		resp, before := c.call("tools/call", params)
		if text, isError := toolText(t, resp.Result); isError || len(before) != 0 {
			t.Errorf("%s: isError=%v %q", params, isError, text)
		}
	}
}

// Batches are accepted over HTTP only in a 2025-03-26 session, and get a
// JSON array of responses.
func TestHTTPBatch(t *testing.T) {
	t.Parallel()
	srv := startHTTP(t)
	c := newHTTPClient(t, srv.base+"/mcp")
	init := c.initialize("2025-03-26")
	if init.ProtocolVersion != "2025-03-26" {
		t.Fatalf("negotiated %s", init.ProtocolVersion)
	}
	status, hdr, body := c.post(`[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","method":"notifications/roots/list_changed"},{"jsonrpc":"2.0","id":"b","method":"tools/call","params":{"name":"echo","arguments":{"text":"in a batch"}}}]`,
		func(r *http.Request) { r.Header.Set("Accept", "application/json") })
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("batch: HTTP %d %s", status, body)
	}
	var resps []jsontext.Value
	if err := json.Unmarshal(body, &resps); err != nil || len(resps) != 2 {
		t.Fatalf("batch response %s: %v", body, err)
	}
	if !bytes.Contains(body, []byte(`"in a batch"`)) || !bytes.Contains(body, []byte(`"id":"a"`)) {
		t.Errorf("batch response %s", body)
	}
}

// SIGTERM shuts the HTTP server down cleanly (exit 0) even with streams
// open and a request in flight.
func TestHTTPShutdown(t *testing.T) {
	t.Parallel()
	srv := startHTTP(t)
	c := newHTTPClient(t, srv.base+"/mcp")
	c.initialize(protocol.LatestVersion)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	getReq := c.request(http.MethodGet, "").WithContext(ctx)
	getReq.Header.Set("Accept", "text/event-stream")
	get := c.do(getReq)
	defer get.Body.Close()
	slow := c.request(http.MethodPost, `{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"count_slowly","arguments":{"to":100,"delayMs":100}}}`).WithContext(ctx)
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		if r, err := c.client.Do(slow); err == nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
	}()
	time.Sleep(200 * time.Millisecond) // let it start
	start := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv.waitExit(wait); code != 0 {
		t.Errorf("exit code %d, want 0\n%s", code, srv.stderr.String())
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	cancel()
	<-slowDone
}
