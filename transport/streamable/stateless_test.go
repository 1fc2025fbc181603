package streamable

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// statelessFactory adds stateless serving (revision 2026-07-28) to the
// session test factory:
//
//	echo <params>      result = params
//	notify             two notifications, then result {}
//	block              waits for its context to end
//	fail {code}        an error response with that code
//	panic              panics
//	none               returns no response
type statelessFactory struct {
	*testFactory
	calls     atomic.Int32
	cancelled atomic.Int32
	started   chan struct{}
}

func newStatelessFactory() *statelessFactory {
	return &statelessFactory{testFactory: newTestFactory(), started: make(chan struct{}, 512)}
}

func (f *statelessFactory) HandleStateless(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) []byte {
	f.calls.Add(1)
	switch req.Method {
	case "notify":
		for i := range 2 {
			p, _ := json.Marshal(map[string]int{"n": i})
			_ = sink.Send(ctx, jsonrpc.AppendRequest(nil, &jsonrpc.Request{Method: "notifications/progress", Params: p}))
		}
		return jsonrpc.AppendResponse(nil, &jsonrpc.Response{ID: req.ID, Result: jsontext.Value(`{}`)})
	case "block":
		f.started <- struct{}{}
		<-ctx.Done()
		f.cancelled.Add(1)
		return nil
	case "fail":
		var p struct {
			Code int64 `json:"code"`
		}
		_ = json.Unmarshal(req.Params, &p)
		return jsonrpc.AppendErrorResponse(nil, req.ID, &jsonrpc.Error{Code: p.Code, Message: "failed"})
	case "panic":
		panic("boom")
	case "none":
		return nil
	}
	return jsonrpc.AppendResponse(nil, &jsonrpc.Response{ID: req.ID, Result: req.Params})
}

const modern = "2026-07-28"

func modernParams(extra string) string {
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
	if extra == "" {
		return "{" + meta + "}"
	}
	return "{" + extra + "," + meta + "}"
}

type statelessReply struct {
	status int
	header http.Header
	body   string
}

func postStateless(t *testing.T, url string, method string, params string, edit func(http.Header)) statelessReply {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":7,"method":"` + method + `"`
	if params != "" {
		body += `,"params":` + params
	}
	body += "}"
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(HeaderProtocolVersion, modern)
	req.Header.Set(HeaderMethod, method)
	if edit != nil {
		edit(req.Header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return statelessReply{resp.StatusCode, resp.Header, string(b)}
}

func newStatelessServer(t *testing.T, opts *Options) (*statelessFactory, *Handler, string) {
	t.Helper()
	f := newStatelessFactory()
	h := NewHandler(f, opts)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		h.Close()
	})
	return f, h, ts.URL
}

func TestStatelessRouting(t *testing.T) {
	f, h, url := newStatelessServer(t, nil)
	tests := []struct {
		name      string
		method    string
		params    string
		edit      func(http.Header)
		stateless bool
		status    int
	}{
		{"modern header", "echo", modernParams(`"x":1`), nil, true, 200},
		{"modern header, stray session id", "echo", modernParams(""), func(h http.Header) { h.Set(HeaderSessionID, "nope") }, true, 200},
		{"unknown version header", "echo", modernParams(""), func(h http.Header) { h.Set(HeaderProtocolVersion, "1900-01-01") }, true, 400},
		{"no header, modern body", "echo", modernParams(""), func(h http.Header) { h.Del(HeaderProtocolVersion) }, true, 400},
		{"legacy header", "echo", `{"x":1}`, func(h http.Header) { h.Set(HeaderProtocolVersion, "2025-11-25") }, false, 400},
		{"no header, legacy body", "echo", `{"x":1}`, func(h http.Header) { h.Del(HeaderProtocolVersion) }, false, 400},
		{"legacy initialize", "initialize", `{"protocolVersion":"2025-11-25"}`, func(h http.Header) { h.Del(HeaderProtocolVersion) }, false, 200},
		{"modern initialize", "initialize", modernParams(""), nil, true, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.calls.Load()
			r := postStateless(t, url, tt.method, tt.params, tt.edit)
			if got := f.calls.Load() > before; got != tt.stateless && tt.status == 200 {
				t.Errorf("served statelessly: %v, want %v (%d %s)", got, tt.stateless, r.status, r.body)
			}
			if r.status != tt.status {
				t.Errorf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.stateless && r.header.Get(HeaderSessionID) != "" {
				t.Errorf("stateless answer with a session id")
			}
		})
	}
	if n := h.SessionCount(); n != 1 {
		t.Errorf("%d sessions, want the one legacy initialize", n)
	}
}

func TestStatelessHeaderValidation(t *testing.T) {
	f, _, url := newStatelessServer(t, nil)
	call := modernParams(`"name":"echo"`)
	tests := []struct {
		name   string
		method string
		params string
		edit   func(http.Header)
		ok     bool
	}{
		{"valid", "tools/call", call, func(h http.Header) { h.Set(HeaderName, "echo") }, true},
		{"base64 name", "tools/call", modernParams(`"name":"日本"`), func(h http.Header) { h.Set(HeaderName, "=?base64?5pel5pys?=") }, true},
		{"missing Mcp-Method", "tools/call", call, func(h http.Header) { h.Set(HeaderName, "echo"); h.Del(HeaderMethod) }, false},
		{"Mcp-Method mismatch", "tools/call", call, func(h http.Header) { h.Set(HeaderName, "echo"); h.Set(HeaderMethod, "tools/list") }, false},
		{"repeated Mcp-Method", "tools/call", call, func(h http.Header) { h.Set(HeaderName, "echo"); h.Add(HeaderMethod, "tools/call") }, false},
		{"missing Mcp-Name", "tools/call", call, nil, false},
		{"Mcp-Name mismatch", "tools/call", call, func(h http.Header) { h.Set(HeaderName, "other") }, false},
		{"Mcp-Name without body name", "tools/call", modernParams(""), func(h http.Header) { h.Set(HeaderName, "x") }, false},
		{"bad base64", "tools/call", call, func(h http.Header) { h.Set(HeaderName, "=?base64?***?=") }, false},
		{"uri", "resources/read", modernParams(`"uri":"a://b"`), func(h http.Header) { h.Set(HeaderName, "a://b") }, true},
		{"uri mismatch", "resources/read", modernParams(`"uri":"a://b"`), func(h http.Header) { h.Set(HeaderName, "a://c") }, false},
		{"task id optional", "tasks/get", modernParams(`"taskId":"t"`), nil, true},
		{"task id mismatch", "tasks/get", modernParams(`"taskId":"t"`), func(h http.Header) { h.Set(HeaderName, "u") }, false},
		{"version mismatch", "echo", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"v999"}}`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.calls.Load()
			r := postStateless(t, url, tt.method, tt.params, tt.edit)
			reached := f.calls.Load() > before
			if reached != tt.ok {
				t.Errorf("reached the handler: %v (%d %s)", reached, r.status, r.body)
			}
			if !tt.ok && (r.status != 400 || !strings.Contains(r.body, `"code":-32020`) || !strings.Contains(r.body, `"id":7`)) {
				t.Errorf("rejection %d %s", r.status, r.body)
			}
		})
	}
}

func TestStatelessStatusMapping(t *testing.T) {
	_, _, url := newStatelessServer(t, nil)
	for code, status := range map[int64]int{-32601: 404, -32602: 400, -32600: 400, -32020: 400, -32021: 400, -32022: 400, -32603: 200, 1234: 200} {
		r := postStateless(t, url, "fail", modernParams(`"code":`+strconv.FormatInt(code, 10)), nil)
		if r.status != status {
			t.Errorf("code %d: status %d, want %d", code, r.status, status)
		}
	}
	if r := postStateless(t, url, "panic", modernParams(""), nil); r.status != 200 || !strings.Contains(r.body, `"code":-32603`) {
		t.Errorf("panic: %d %s", r.status, r.body)
	}
}

func TestStatelessStreams(t *testing.T) {
	_, _, url := newStatelessServer(t, nil)
	r := postStateless(t, url, "notify", modernParams(""), nil)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") || strings.Count(r.body, "data:") != 3 ||
		strings.Contains(r.body, "id:") || strings.Contains(r.body, "retry:") {
		t.Errorf("SSE answer %q", r.body)
	}
	r = postStateless(t, url, "notify", modernParams(""), func(h http.Header) { h.Set("Accept", "application/json") })
	if r.header.Get("Content-Type") != "application/json" || !strings.Contains(r.body, `"result":{}`) {
		t.Errorf("JSON-only answer %q", r.body)
	}
	r = postStateless(t, url, "echo", modernParams(""), func(h http.Header) { h.Set("Accept", "text/event-stream") })
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") || strings.Contains(r.body, "id:") {
		t.Errorf("SSE-only answer %q", r.body)
	}
	// Notifications are accepted and ignored; batches and responses refused.
	for _, tt := range []struct {
		body   string
		status int
	}{
		{`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`, 202},
		{`[{"jsonrpc":"2.0","id":1,"method":"echo"}]`, 400},
		{`{"jsonrpc":"2.0","id":1,"result":{}}`, 400},
	} {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(tt.body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderProtocolVersion, modern)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d", tt.body, resp.StatusCode, tt.status)
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		req, _ := http.NewRequest(m, url, nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set(HeaderProtocolVersion, modern)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d", m, resp.StatusCode)
		}
	}
}

// Closing the response cancels the request (revision 2026-07-28 has no
// notifications/cancelled over HTTP), and Close cancels what is left.
func TestStatelessCancellation(t *testing.T) {
	f, h, url := newStatelessServer(t, &Options{MaxStatelessRequests: 1})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"block","params":`+modernParams("")+`}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderProtocolVersion, modern)
	req.Header.Set(HeaderMethod, "block")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-f.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the request did not start")
	}
	// The bound is reached.
	if r := postStateless(t, url, "echo", modernParams(""), nil); r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("beyond the bound: %d", r.status)
	}
	cancel()
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for f.cancelled.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if f.cancelled.Load() != 1 {
		t.Fatal("closing the response did not cancel the request")
	}

	second := make(chan struct{})
	go func() {
		defer close(second)
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":2,"method":"block","params":`+modernParams("")+`}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderProtocolVersion, modern)
		req.Header.Set(HeaderMethod, "block")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	defer func() { <-second }()
	select {
	case <-f.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the second request did not start")
	}
	closed := make(chan struct{})
	go func() { h.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not cancel the stateless request")
	}
	if f.cancelled.Load() != 2 {
		t.Errorf("cancelled %d", f.cancelled.Load())
	}
}

// A long request with nothing to say switches to SSE and keeps the
// connection alive with comments.
func TestStatelessKeepAlive(t *testing.T) {
	f := newStatelessFactory()
	h := NewHandler(slowFactory{f}, &Options{KeepAlive: 20 * time.Millisecond})
	ts := httptest.NewServer(h)
	defer func() { ts.Close(); h.Close() }()
	r := postStateless(t, ts.URL, "slow-echo", modernParams(""), nil)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") || !strings.Contains(r.body, ":\n") || !strings.Contains(r.body, `"id":7`) {
		t.Errorf("keep-alive stream %q", r.body)
	}
}

type slowFactory struct{ *statelessFactory }

func (f slowFactory) HandleStateless(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) []byte {
	time.Sleep(100 * time.Millisecond)
	return f.statelessFactory.HandleStateless(ctx, &jsonrpc.Request{ID: req.ID, Method: "echo", Params: req.Params}, sink)
}

// StatelessVersions lists the stateless revisions, as mcp.Server does.
func (f *statelessFactory) StatelessVersions() []string { return []string{modern} }
