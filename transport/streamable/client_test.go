package streamable_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// testTimeout bounds every wait of these tests.
const testTimeout = 10 * time.Second

// checkLeaks fails the test if goroutines started during it are still
// running once its cleanups have run. Register it first: cleanups run in
// reverse order, so it runs last.
func checkLeaks(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("goroutine leak: %d running, %d before\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// recorded is an HTTP request as a server saw it.
type recorded struct {
	Method string
	Header http.Header
	Body   string
}

// recorder records the requests reaching a handler.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{r.Method, r.Header.Clone(), string(body)})
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (rec *recorder) all() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.reqs...)
}

func (rec *recorder) count(method string) int {
	n := 0
	for _, r := range rec.all() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// logRecorder is a slog.Handler keeping the messages logged.
type logRecorder struct {
	mu   *sync.Mutex
	msgs *[]string
}

func newLogRecorder() logRecorder { return logRecorder{&sync.Mutex{}, new([]string)} }

func (l logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.msgs = append(*l.msgs, r.Message)
	return nil
}
func (l logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logRecorder) WithGroup(string) slog.Handler      { return l }

func (l logRecorder) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range *l.msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// everythingEnv runs the everything demo server behind the Streamable
// HTTP handler on a loopback httptest server.
type everythingEnv struct {
	srv *mcp.Server
	h   *streamable.Handler
	hs  *httptest.Server
	rec *recorder
	url string
}

func newEverything(t *testing.T, opts *streamable.Options) *everythingEnv {
	t.Helper()
	srv := everything.NewServer(nil)
	h := streamable.NewHandler(srv, opts)
	rec := &recorder{}
	hs := httptest.NewServer(rec.wrap(h))
	t.Cleanup(func() {
		h.Close()
		hs.CloseClientConnections()
		hs.Close()
		srv.Close()
	})
	return &everythingEnv{srv: srv, h: h, hs: hs, rec: rec, url: hs.URL + "/mcp"}
}

// dial connects to url; the connection is closed when the test ends.
func dial(t *testing.T, url string, opts *streamable.ClientOptions) *streamable.ClientConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cc, err := streamable.NewDialer(url, opts).Dial(ctx)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc.(*streamable.ClientConn)
}

func request(id int64, method, params string) *jsonrpc.Request {
	r := &jsonrpc.Request{ID: jsonrpc.Int64ID(id), Method: method}
	if params != "" {
		r.Params = jsontext.Value(params)
	}
	return r
}

func notification(method, params string) *jsonrpc.Request {
	r := &jsonrpc.Request{Method: method}
	if params != "" {
		r.Params = jsontext.Value(params)
	}
	return r
}

func send(t *testing.T, cc transport.ClientConn, msg jsonrpc.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := cc.Send(ctx, msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

func recv(t *testing.T, cc transport.ClientConn) jsonrpc.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	m, err := cc.Recv(ctx)
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	return m
}

// await receives messages until the response to id, and returns it with
// the messages that came before it.
func await(t *testing.T, cc transport.ClientConn, id int64) (*jsonrpc.Response, []jsonrpc.Message) {
	t.Helper()
	var before []jsonrpc.Message
	for {
		m := recv(t, cc)
		if r, ok := m.(*jsonrpc.Response); ok && r.ID == jsonrpc.Int64ID(id) {
			return r, before
		}
		before = append(before, m)
	}
}

// call sends a request and awaits its response.
func call(t *testing.T, cc transport.ClientConn, id int64, method, params string) (*jsonrpc.Response, []jsonrpc.Message) {
	t.Helper()
	send(t, cc, request(id, method, params))
	return await(t, cc, id)
}

const initParams = `{"protocolVersion":"2025-11-25","capabilities":{"sampling":{},"elicitation":{}},"clientInfo":{"name":"client-test","version":"1"}}`

// initialize runs the initialization handshake and returns the
// negotiated version.
func initialize(t *testing.T, cc *streamable.ClientConn) string {
	t.Helper()
	resp, _ := call(t, cc, 0, "initialize", initParams)
	if resp.Error != nil {
		t.Fatalf("initialize: %v", resp.Error)
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		t.Fatalf("initialize result: %v", err)
	}
	cc.SetProtocolVersion(res.ProtocolVersion)
	send(t, cc, notification("notifications/initialized", ""))
	return res.ProtocolVersion
}

// toolText returns the text of the first content block of a tools/call
// result.
func toolText(t *testing.T, r *jsonrpc.Response) string {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("tools/call: %v", r.Error)
	}
	var res struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil || len(res.Content) == 0 {
		t.Fatalf("tools/call result %s: %v", r.Result, err)
	}
	if res.IsError {
		t.Fatalf("tool failed: %s", r.Result)
	}
	return res.Content[0].Text
}

func methods(msgs []jsonrpc.Message) []string {
	var out []string
	for _, m := range msgs {
		if r, ok := m.(*jsonrpc.Request); ok {
			out = append(out, r.Method)
		}
	}
	return out
}

func TestClientEndToEnd(t *testing.T) {
	for _, mode := range []streamable.ResponseMode{streamable.ResponseAdaptive, streamable.ResponseJSON, streamable.ResponseSSE} {
		t.Run(mode.String(), func(t *testing.T) {
			checkLeaks(t)
			env := newEverything(t, &streamable.Options{ResponseMode: mode})
			cc := dial(t, env.url, nil)

			if v := initialize(t, cc); v != "2025-11-25" {
				t.Errorf("negotiated %q", v)
			}
			sid := cc.SessionID()
			if sid == "" {
				t.Fatal("no session id after initialize")
			}

			resp, _ := call(t, cc, 1, "tools/list", "")
			if resp.Error != nil || !strings.Contains(string(resp.Result), `"name":"echo"`) {
				t.Fatalf("tools/list: %v %s", resp.Error, resp.Result)
			}
			resp, _ = call(t, cc, 2, "tools/call", `{"name":"echo","arguments":{"text":"hello"}}`)
			if got := toolText(t, resp); got != "hello" {
				t.Errorf("echo = %q", got)
			}
			resp, _ = call(t, cc, 3, "resources/read", `{"uri":"test://static-text"}`)
			if resp.Error != nil {
				t.Errorf("resources/read: %v", resp.Error)
			}
			resp, _ = call(t, cc, 4, "prompts/get", `{"name":"test_simple_prompt"}`)
			if resp.Error != nil {
				t.Errorf("prompts/get: %v", resp.Error)
			}

			// The headers the server saw.
			for _, r := range env.rec.all() {
				if r.Method != http.MethodPost {
					continue
				}
				var m struct {
					Method string `json:"method"`
				}
				_ = json.Unmarshal([]byte(r.Body), &m)
				h := r.Header
				if got := h.Get("Accept"); !strings.Contains(got, "application/json") || !strings.Contains(got, "text/event-stream") {
					t.Errorf("%s: Accept %q", m.Method, got)
				}
				if got := h.Get("Content-Type"); got != "application/json" {
					t.Errorf("%s: Content-Type %q", m.Method, got)
				}
				if got := h.Get("Mcp-Method"); got != m.Method {
					t.Errorf("%s: Mcp-Method %q", m.Method, got)
				}
				wantName := map[string]string{"tools/call": "echo", "resources/read": "test://static-text", "prompts/get": "test_simple_prompt"}[m.Method]
				if got := h.Get("Mcp-Name"); got != wantName {
					t.Errorf("%s: Mcp-Name %q, want %q", m.Method, got, wantName)
				}
				wantSID, wantVersion := sid, "2025-11-25"
				if m.Method == "initialize" {
					wantSID, wantVersion = "", ""
				}
				if got := h.Get("Mcp-Session-Id"); got != wantSID {
					t.Errorf("%s: Mcp-Session-Id %q, want %q", m.Method, got, wantSID)
				}
				if got := h.Get("MCP-Protocol-Version"); got != wantVersion {
					t.Errorf("%s: MCP-Protocol-Version %q, want %q", m.Method, got, wantVersion)
				}
			}

			if err := cc.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if n := env.h.SessionCount(); n != 0 {
				t.Errorf("%d sessions after Close (DELETE not sent?)", n)
			}
			if env.rec.count(http.MethodDelete) != 1 {
				t.Errorf("%d DELETE requests", env.rec.count(http.MethodDelete))
			}
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			if _, err := cc.Recv(ctx); !errors.Is(err, transport.ErrConnClosed) {
				t.Errorf("Recv after Close: %v", err)
			}
			if err := cc.Send(ctx, notification("notifications/initialized", "")); !errors.Is(err, transport.ErrConnClosed) {
				t.Errorf("Send after Close: %v", err)
			}
			if err := cc.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func TestClientProgressAndLogging(t *testing.T) {
	for _, mode := range []streamable.ResponseMode{streamable.ResponseAdaptive, streamable.ResponseSSE} {
		t.Run(mode.String(), func(t *testing.T) {
			checkLeaks(t)
			env := newEverything(t, &streamable.Options{ResponseMode: mode})
			cc := dial(t, env.url, &streamable.ClientOptions{DisableStandaloneStream: true})
			initialize(t, cc)

			resp, before := call(t, cc, 1, "tools/call", `{"name":"test_tool_with_progress","arguments":{},"_meta":{"progressToken":"tok-1"}}`)
			toolText(t, resp)
			if got := methods(before); len(got) != 3 || got[0] != "notifications/progress" || got[2] != "notifications/progress" {
				t.Errorf("messages before the response: %v", got)
			}

			send(t, cc, request(2, "logging/setLevel", `{"level":"debug"}`))
			await(t, cc, 2)
			resp, before = call(t, cc, 3, "tools/call", `{"name":"test_tool_with_logging","arguments":{}}`)
			toolText(t, resp)
			if got := methods(before); len(got) != 3 || got[0] != "notifications/message" {
				t.Errorf("messages before the response: %v", got)
			}
			if n := env.rec.count(http.MethodGet); n != 0 {
				t.Errorf("%d GET requests with the standalone stream disabled", n)
			}
		})
	}
}

// TestClientServerRequest answers a sampling request the server sends on
// the stream of a tools/call.
func TestClientServerRequest(t *testing.T) {
	checkLeaks(t)
	env := newEverything(t, nil)
	cc := dial(t, env.url, nil)
	initialize(t, cc)

	send(t, cc, request(7, "tools/call", `{"name":"test_sampling","arguments":{"prompt":"say hi"}}`))
	m := recv(t, cc)
	req, ok := m.(*jsonrpc.Request)
	if !ok || req.Method != "sampling/createMessage" || req.IsNotification() {
		t.Fatalf("got %#v, want a sampling/createMessage request", m)
	}
	if !strings.Contains(string(req.Params), "say hi") {
		t.Errorf("sampling params %s", req.Params)
	}
	send(t, cc, &jsonrpc.Response{ID: req.ID, Result: jsontext.Value(`{"role":"assistant","content":{"type":"text","text":"hi there"},"model":"test-model"}`)})
	resp, _ := await(t, cc, 7)
	if got := toolText(t, resp); got != "LLM response: hi there" {
		t.Errorf("tool result %q", got)
	}
	// The response was POSTed without Mcp-Method (it has no method).
	for _, r := range env.rec.all() {
		if r.Method == http.MethodPost && strings.Contains(r.Body, `"result"`) {
			if h := r.Header.Get("Mcp-Method"); h != "" {
				t.Errorf("response POSTed with Mcp-Method %q", h)
			}
		}
	}
}

// TestClientStandaloneStream receives a list_changed notification on the
// standalone GET stream.
func TestClientStandaloneStream(t *testing.T) {
	checkLeaks(t)
	env := newEverything(t, nil)
	cc := dial(t, env.url, nil)
	initialize(t, cc)
	sid := cc.SessionID()

	waitFor(t, "the standalone GET", func() bool { return env.rec.count(http.MethodGet) > 0 })
	env.srv.RemoveTools("add")
	m := recv(t, cc)
	if r, ok := m.(*jsonrpc.Request); !ok || r.Method != "notifications/tools/list_changed" {
		t.Fatalf("got %#v, want notifications/tools/list_changed", m)
	}
	for _, r := range env.rec.all() {
		if r.Method != http.MethodGet {
			continue
		}
		if got := r.Header.Get("Accept"); got != "text/event-stream" {
			t.Errorf("GET Accept %q", got)
		}
		if got := r.Header.Get("Mcp-Session-Id"); got != sid {
			t.Errorf("GET session %q, want %q", got, sid)
		}
		if got := r.Header.Get("Mcp-Protocol-Version"); got != "2025-11-25" {
			t.Errorf("GET version %q", got)
		}
	}
	// Setting the version again does not open a second stream.
	cc.SetProtocolVersion("2025-11-25")
	time.Sleep(50 * time.Millisecond)
	if n := env.rec.count(http.MethodGet); n != 1 {
		t.Errorf("%d GET requests, want 1", n)
	}
}

// TestClientResumption calls the tool that closes its stream mid-call
// (SEP-1699 polling): the client resumes with GET and Last-Event-ID after
// the announced retry delay.
func TestClientResumption(t *testing.T) {
	for _, mode := range []streamable.ResponseMode{streamable.ResponseSSE, streamable.ResponseAdaptive} {
		t.Run(mode.String(), func(t *testing.T) { testResumption(t, mode) })
	}
}

func testResumption(t *testing.T, mode streamable.ResponseMode) {
	checkLeaks(t)
	env := newEverything(t, &streamable.Options{ResponseMode: mode})
	cc := dial(t, env.url, &streamable.ClientOptions{DisableStandaloneStream: true})
	initialize(t, cc)

	start := time.Now()
	resp, _ := call(t, cc, 1, "tools/call", `{"name":"test_reconnection","arguments":{}}`)
	if got := toolText(t, resp); !strings.Contains(got, "Reconnection test completed") {
		t.Errorf("result %q", got)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("resumed after %v, before the 500ms retry delay", d)
	}
	var gets []recorded
	for _, r := range env.rec.all() {
		if r.Method == http.MethodGet {
			gets = append(gets, r)
		}
	}
	if len(gets) != 1 || gets[0].Header.Get("Last-Event-Id") == "" {
		t.Fatalf("resuming GETs: %v", gets)
	}
}

// TestClientConcurrentCalls sends from many goroutines while one
// goroutine receives, as the protocol layer does.
func TestClientConcurrentCalls(t *testing.T) {
	for _, mode := range []streamable.ResponseMode{streamable.ResponseJSON, streamable.ResponseSSE} {
		t.Run(mode.String(), func(t *testing.T) {
			checkLeaks(t)
			env := newEverything(t, &streamable.Options{ResponseMode: mode})
			cc := dial(t, env.url, nil)
			initialize(t, cc)

			const calls = 32
			got := make(map[jsonrpc.ID]string)
			recvDone := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				for len(got) < calls {
					m, err := cc.Recv(ctx)
					if err != nil {
						recvDone <- err
						return
					}
					if r, ok := m.(*jsonrpc.Response); ok {
						got[r.ID] = string(r.Result)
					}
				}
				recvDone <- nil
			}()
			var wg sync.WaitGroup
			for i := range calls {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
					defer cancel()
					err := cc.Send(ctx, request(int64(100+i), "tools/call", fmt.Sprintf(`{"name":"echo","arguments":{"text":"msg-%d"}}`, i)))
					if err != nil {
						t.Errorf("Send %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			if err := <-recvDone; err != nil {
				t.Fatalf("Recv: %v (got %d responses)", err, len(got))
			}
			for i := range calls {
				if r := got[jsonrpc.Int64ID(int64(100+i))]; !strings.Contains(r, fmt.Sprintf(`"msg-%d"`, i)) {
					t.Errorf("response %d: %s", i, r)
				}
			}
		})
	}
}

func TestClientSessionExpired(t *testing.T) {
	checkLeaks(t)
	env := newEverything(t, nil)
	cc := dial(t, env.url, &streamable.ClientOptions{DisableStandaloneStream: true})
	initialize(t, cc)
	old := cc.SessionID()

	for ss := range env.srv.Sessions() {
		ss.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	err := cc.Send(ctx, request(1, "tools/list", ""))
	if !errors.Is(err, transport.ErrSessionExpired) {
		t.Fatalf("Send after the session ended: %v, want ErrSessionExpired", err)
	}
	if sid := cc.SessionID(); sid != "" {
		t.Errorf("session id %q kept after 404", sid)
	}

	// The same connection initializes a new session.
	initialize(t, cc)
	if sid := cc.SessionID(); sid == "" || sid == old {
		t.Errorf("new session id %q (old %q)", sid, old)
	}
	resp, _ := call(t, cc, 2, "tools/call", `{"name":"echo","arguments":{"text":"again"}}`)
	if got := toolText(t, resp); got != "again" {
		t.Errorf("echo = %q", got)
	}
}

// TestClientStandaloneSessionExpired: the standalone stream learns of the
// session's end (404 on reconnection) and forgets the session id.
func TestClientStandaloneSessionExpired(t *testing.T) {
	checkLeaks(t)
	env := newEverything(t, nil)
	cc := dial(t, env.url, nil)
	initialize(t, cc)
	waitFor(t, "the standalone GET", func() bool { return env.rec.count(http.MethodGet) > 0 })
	for ss := range env.srv.Sessions() {
		ss.Close()
	}
	// Any request makes the handler notice; the GET stream then ends and
	// its reconnection gets 404.
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_ = cc.Send(ctx, request(1, "ping", ""))
	waitFor(t, "the session id to be forgotten", func() bool { return cc.SessionID() == "" })
}

func TestClientCloseDuringStream(t *testing.T) {
	checkLeaks(t)
	env := newEverything(t, &streamable.Options{ResponseMode: streamable.ResponseSSE})
	cc := dial(t, env.url, nil)
	initialize(t, cc)

	send(t, cc, request(1, "tools/call", `{"name":"count_slowly","arguments":{"to":100,"delayMs":20},"_meta":{"progressToken":1}}`))
	if m, ok := recv(t, cc).(*jsonrpc.Request); !ok || m.Method != "notifications/progress" {
		t.Fatalf("got %#v, want progress", m)
	}
	done := make(chan error, 1)
	go func() {
		_, err := cc.Recv(context.Background())
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the stream run into backpressure
	start := time.Now()
	if err := cc.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	// Recv either got a message before Close or ErrConnClosed; a second
	// Recv is certain to fail.
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("Recv blocked after Close")
	}
	if _, err := cc.Recv(context.Background()); !errors.Is(err, transport.ErrConnClosed) {
		t.Errorf("Recv after Close: %v", err)
	}
	waitFor(t, "the session to end", func() bool { return env.h.SessionCount() == 0 })
}

// TestClientCancelStopsStream: sending notifications/cancelled stops the
// request's stream; no response is delivered for it.
func TestClientCancelStopsStream(t *testing.T) {
	checkLeaks(t)
	env := newEverything(t, &streamable.Options{ResponseMode: streamable.ResponseSSE})
	cc := dial(t, env.url, &streamable.ClientOptions{DisableStandaloneStream: true})
	initialize(t, cc)

	send(t, cc, request(1, "tools/call", `{"name":"count_slowly","arguments":{"to":50,"delayMs":20},"_meta":{"progressToken":1}}`))
	recv(t, cc) // first progress
	send(t, cc, notification("notifications/cancelled", `{"requestId":1,"reason":"test"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	for {
		m, err := cc.Recv(ctx)
		if err != nil {
			break // nothing more: the stream is closed
		}
		if r, ok := m.(*jsonrpc.Response); ok {
			t.Fatalf("response after cancellation: %v %s", r.Error, r.Result)
		}
	}
	resp, _ := call(t, cc, 2, "ping", "")
	if resp.Error != nil {
		t.Errorf("ping: %v", resp.Error)
	}
}

func TestClientHTTPErrors(t *testing.T) {
	long := strings.Repeat("x", 10000)
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		body     string
		wantBody string
	}{
		{"401 with WWW-Authenticate", 401, map[string]string{"WWW-Authenticate": `Bearer resource_metadata="https://rs.example/.well-known/oauth-protected-resource"`}, "unauthorized", "unauthorized"},
		{"403", 403, nil, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"forbidden"}}`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"forbidden"}}`},
		{"404 without a session", 404, nil, "no such endpoint", "no such endpoint"},
		{"500 with a long body", 500, nil, long, long[:4096]},
		{"503 with invalid UTF-8", 503, map[string]string{"Retry-After": "5"}, "busy\xff", "busy\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			t.Cleanup(hs.Close)
			cc := dial(t, hs.URL, nil)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			err := cc.Send(ctx, request(0, "initialize", initParams))
			var he *transport.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("Send: %v, want *HTTPError", err)
			}
			if he.StatusCode != tt.status || !strings.HasPrefix(he.Status, fmt.Sprint(tt.status)) {
				t.Errorf("status %d %q", he.StatusCode, he.Status)
			}
			if he.Body != tt.wantBody {
				t.Errorf("body %q (%d bytes), want %d bytes", truncateForLog(he.Body), len(he.Body), len(tt.wantBody))
			}
			for k, v := range tt.header {
				if got := http.Header(he.Header).Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func truncateForLog(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// scripted is a hostile or unusual server written as a handler per
// request; it also records the requests.
func scripted(t *testing.T, h http.HandlerFunc) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	hs := httptest.NewServer(rec.wrap(h))
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
	})
	return hs, rec
}

func writeSSE(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/event-stream")
	io.WriteString(w, s)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

func writeJSON(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, s)
}

// TestClientHostileResponses checks that whatever a server answers to a
// request, the client neither crashes nor hangs: it delivers what is
// valid and always ends with a response for the request, its own error
// response when the server's is missing.
func TestClientHostileResponses(t *testing.T) {
	const resp1 = `{"jsonrpc":"2.0","id":1,"result":{"ok":true}}`
	big := strings.Repeat("a", 2000)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		// want lists the messages expected before the final response to
		// id 1: methods of requests, "response:<id>" of other responses.
		want []string
		// wantErr is a substring of the client's own error response, ""
		// when the server's response is expected.
		wantErr string
		wantLog string
	}{
		{
			name: "garbage data then a response",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeSSE(w, "data: not json\n\n: comment\n\ndata: {\"jsonrpc\":\"2.0\"}\n\nevent: ping\ndata: {}\n\n"+
					"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\ndata: "+resp1+"\n\n")
			},
			want:    []string{"notifications/message"},
			wantLog: "malformed",
		},
		{
			name: "binary garbage, no event id",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeSSE(w, "\x00\xff\xfe\r\r\n\ndata\x00: \x01\x02\n\nid\n\nretry: x\n\n")
			},
			wantErr: "no event id",
		},
		{
			name: "closed mid-response without event ids",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeSSE(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"res")
			},
			want:    []string{"notifications/progress"},
			wantErr: "no event id",
		},
		{
			name: "oversize SSE event",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeSSE(w, "id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\""+big+"\"}\n\n")
			},
			wantErr: "larger than 1024 bytes",
		},
		{
			name: "oversize JSON body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, `{"jsonrpc":"2.0","id":1,"result":"`+big+`"}`)
			},
			wantErr: "larger than 1024 bytes",
		},
		{
			name:    "malformed JSON body",
			handler: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, `{"jsonrpc":"2.0","id":1,`) },
			wantErr: "malformed response",
		},
		{
			name:    "empty JSON body",
			handler: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, "") },
			wantErr: "malformed response",
		},
		{
			name: "JSON answer for another id",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, `{"jsonrpc":"2.0","id":99,"result":{}}`)
			},
			want:    []string{"response:99"},
			wantErr: "no response to request 1",
		},
		{
			name: "JSON batch with a bad element",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, `[{"jsonrpc":"2.0","id":99,"result":{}},{"bad":1},`+resp1+`]`)
			},
			want:    []string{"response:99"},
			wantLog: "malformed",
		},
		{
			name: "SSE stream ends after the response",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeSSE(w, "id: a\nretry: 10\ndata:\n\nid: b\ndata: "+resp1+"\n\n")
				// A stream left open after the response must not keep the
				// client reading.
				<-r.Context().Done()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			hs, _ := scripted(t, tt.handler)
			logs := newLogRecorder()
			cc := dial(t, hs.URL, &streamable.ClientOptions{MaxMessageSize: 1024, Logger: slog.New(logs)})
			send(t, cc, request(1, "tools/call", `{"name":"x"}`))
			resp, before := await(t, cc, 1)
			var got []string
			for _, m := range before {
				switch m := m.(type) {
				case *jsonrpc.Request:
					got = append(got, m.Method)
				case *jsonrpc.Response:
					got = append(got, "response:"+m.ID.String())
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("messages before the response: %v, want %v", got, tt.want)
			}
			switch {
			case tt.wantErr == "" && resp.Error != nil:
				t.Errorf("error response %v, want the server's", resp.Error)
			case tt.wantErr != "" && (resp.Error == nil || !strings.Contains(resp.Error.Message, tt.wantErr)):
				t.Errorf("response %v %s, want an error containing %q", resp.Error, resp.Result, tt.wantErr)
			case tt.wantErr != "" && resp.Error.Code != jsonrpc.CodeInternalError:
				t.Errorf("error code %d", resp.Error.Code)
			}
			if tt.wantLog != "" && !logs.contains(tt.wantLog) {
				t.Errorf("nothing logged about %q", tt.wantLog)
			}
		})
	}
}

func TestClientSendRefusals(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		msg     jsonrpc.Message
		wantErr string // "" for success
	}{
		{"202 to a request", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) },
			request(1, "ping", ""), "without a response"},
		{"unexpected content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>")
		}, request(1, "ping", ""), "unexpected Content-Type"},
		{"202 to a notification", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) },
			notification("notifications/initialized", ""), ""},
		{"200 with a body to a notification", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, "{}") },
			notification("notifications/initialized", ""), ""},
		{"202 to a response", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) },
			&jsonrpc.Response{ID: jsonrpc.StringID("s1"), Result: jsontext.Value(`{}`)}, ""},
		{"malformed session id", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Mcp-Session-Id", "a b")
			writeJSON(w, `{"jsonrpc":"2.0","id":0,"result":{}}`)
		}, request(0, "initialize", initParams), "malformed Mcp-Session-Id"},
		{"nil request", func(w http.ResponseWriter, r *http.Request) {}, (*jsonrpc.Request)(nil), "nil message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			hs, _ := scripted(t, tt.handler)
			cc := dial(t, hs.URL, nil)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			err := cc.Send(ctx, tt.msg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Send: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Send: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestClientServerNeverAnswers: Send and Recv honour their contexts, and
// Close ends streams that never deliver.
func TestClientServerNeverAnswers(t *testing.T) {
	checkLeaks(t)
	release := make(chan struct{})
	hs, _ := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Mcp-Method"), "silent") {
			writeSSE(w, ": just a comment\n\n")
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	cc := dial(t, hs.URL, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := cc.Send(ctx, request(1, "hang", "")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send to a server that never answers: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send returned after %v", d)
	}

	send(t, cc, request(2, "silent", ""))
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := cc.Recv(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Recv: %v", err)
	}
	if err := cc.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// resumeServer answers a POST with an SSE stream that gives event id
// "e1" and a retry delay, then breaks; GETs are answered by get.
func resumeServer(t *testing.T, retryMS int, get http.HandlerFunc) (*httptest.Server, *recorder) {
	return scripted(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			w.Header().Set("Mcp-Session-Id", "sess-1")
			writeSSE(w, fmt.Sprintf("id: e1\nretry: %d\ndata:\n\n", retryMS))
		case http.MethodGet:
			get(w, r)
		case http.MethodDelete:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
}

func TestClientResumeHostile(t *testing.T) {
	const resp0 = `{"jsonrpc":"2.0","id":0,"result":{}}`
	tests := []struct {
		name      string
		retryMS   int
		max       int
		get       func(n int32, w http.ResponseWriter, r *http.Request)
		wantErr   string
		wantGETs  int
		wantSID   string // session id after the exchange
		minElapse time.Duration
	}{
		{
			name: "resumed", retryMS: 200, max: 3, wantGETs: 1, wantSID: "sess-1", minElapse: 200 * time.Millisecond,
			get: func(n int32, w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Last-Event-Id") != "e1" {
					w.WriteHeader(400)
					return
				}
				writeSSE(w, "id: e2\ndata: "+resp0+"\n\n")
			},
		},
		{
			name: "server errors until the attempts run out", retryMS: 10, max: 3, wantGETs: 3, wantSID: "sess-1",
			wantErr: "3 attempts",
			get:     func(n int32, w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) },
		},
		{
			name: "resumption disabled", retryMS: 10, max: -1, wantGETs: 0, wantSID: "sess-1",
			wantErr: "resumption disabled",
			get:     func(n int32, w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) },
		},
		{
			name: "polling with progress outlasts MaxReconnects", retryMS: 10, max: 2, wantGETs: 6, wantSID: "sess-1",
			get: func(n int32, w http.ResponseWriter, r *http.Request) {
				if n < 6 {
					writeSSE(w, fmt.Sprintf("id: p%d\ndata:\n\n", n))
					return
				}
				writeSSE(w, "id: last\ndata: "+resp0+"\n\n")
			},
		},
		{
			name: "polling without progress gives up", retryMS: 10, max: 3, wantGETs: 3, wantSID: "sess-1",
			wantErr: "3 attempts",
			get:     func(n int32, w http.ResponseWriter, r *http.Request) { writeSSE(w, "retry: 10\n\n") },
		},
		{
			name: "session gone", retryMS: 10, max: 3, wantGETs: 1, wantSID: "",
			wantErr: "expired",
			get:     func(n int32, w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) },
		},
		{
			name: "no GET streams", retryMS: 10, max: 3, wantGETs: 1, wantSID: "sess-1",
			wantErr: "cannot resume",
			get:     func(n int32, w http.ResponseWriter, r *http.Request) { w.WriteHeader(405) },
		},
		{
			name: "GET answered with JSON", retryMS: 10, max: 2, wantGETs: 2, wantSID: "sess-1",
			wantErr: "2 attempts",
			get:     func(n int32, w http.ResponseWriter, r *http.Request) { writeJSON(w, resp0) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			var gets atomic.Int32
			hs, rec := resumeServer(t, tt.retryMS, func(w http.ResponseWriter, r *http.Request) {
				tt.get(gets.Add(1), w, r)
			})
			cc := dial(t, hs.URL, &streamable.ClientOptions{MaxReconnects: tt.max})
			start := time.Now()
			send(t, cc, request(0, "initialize", initParams))
			resp, _ := await(t, cc, 0)
			if d := time.Since(start); d < tt.minElapse {
				t.Errorf("answered after %v, before the retry delay %v", d, tt.minElapse)
			}
			switch {
			case tt.wantErr == "" && resp.Error != nil:
				t.Errorf("error response %v", resp.Error)
			case tt.wantErr != "" && (resp.Error == nil || !strings.Contains(resp.Error.Message, tt.wantErr)):
				t.Errorf("response %v, want an error containing %q", resp.Error, tt.wantErr)
			}
			if n := rec.count(http.MethodGet); n != tt.wantGETs {
				t.Errorf("%d GETs, want %d", n, tt.wantGETs)
			}
			if sid := cc.SessionID(); sid != tt.wantSID {
				t.Errorf("session id %q, want %q", sid, tt.wantSID)
			}
			for _, r := range rec.all() {
				if r.Method == http.MethodGet && r.Header.Get("Mcp-Session-Id") != "sess-1" {
					t.Errorf("GET without the session id")
				}
			}
		})
	}
}

func TestClientStandaloneHostile(t *testing.T) {
	t.Run("405 means no stream", func(t *testing.T) {
		checkLeaks(t)
		hs, rec := scripted(t, func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodPost:
				w.Header().Set("Mcp-Session-Id", "s")
				writeJSON(w, `{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25"}}`)
			default:
				w.WriteHeader(http.StatusMethodNotAllowed)
			}
		})
		cc := dial(t, hs.URL, nil)
		initialize(t, cc)
		time.Sleep(100 * time.Millisecond)
		if n := rec.count(http.MethodGet); n != 1 {
			t.Errorf("%d GETs, want 1", n)
		}
		if err := cc.Close(); err != nil {
			t.Errorf("Close with DELETE answered 405: %v", err)
		}
	})

	t.Run("reconnects with Last-Event-ID", func(t *testing.T) {
		checkLeaks(t)
		var gets atomic.Int32
		var lastIDs sync.Map
		hs, _ := scripted(t, func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodPost:
				if r.Header.Get("Mcp-Method") == "initialize" {
					w.Header().Set("Mcp-Session-Id", "s")
					writeJSON(w, `{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25"}}`)
					return
				}
				w.WriteHeader(202)
			case http.MethodGet:
				n := gets.Add(1)
				lastIDs.Store(n, r.Header.Get("Last-Event-Id"))
				switch n {
				case 1:
					writeSSE(w, "id: s1\nretry: 20\ndata:\n\n") // then the connection drops
				case 2:
					w.WriteHeader(500) // a failure: backoff
				case 3:
					writeSSE(w, "id: s2\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n")
					<-r.Context().Done()
				default:
					w.WriteHeader(500)
				}
			}
		})
		cc := dial(t, hs.URL, nil)
		initialize(t, cc)
		m := recv(t, cc)
		if r, ok := m.(*jsonrpc.Request); !ok || r.Method != "notifications/tools/list_changed" {
			t.Fatalf("got %#v", m)
		}
		for n, want := range map[int32]string{1: "", 2: "s1", 3: "s1"} {
			if got, _ := lastIDs.Load(n); got != want {
				t.Errorf("GET %d: Last-Event-ID %q, want %q", n, got, want)
			}
		}
	})

	t.Run("404 forgets the session", func(t *testing.T) {
		checkLeaks(t)
		hs, _ := scripted(t, func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodPost:
				w.Header().Set("Mcp-Session-Id", "s")
				writeJSON(w, `{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25"}}`)
			case http.MethodGet:
				w.WriteHeader(404)
			default:
				w.WriteHeader(404)
			}
		})
		cc := dial(t, hs.URL, nil)
		send(t, cc, request(0, "initialize", initParams))
		await(t, cc, 0)
		cc.SetProtocolVersion("2025-11-25")
		waitFor(t, "the session id to be forgotten", func() bool { return cc.SessionID() == "" })
	})

	t.Run("no session, no stream", func(t *testing.T) {
		checkLeaks(t)
		hs, rec := scripted(t, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, `{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25"}}`)
		})
		cc := dial(t, hs.URL, nil)
		initialize(t, cc)
		time.Sleep(50 * time.Millisecond)
		if n := rec.count(http.MethodGet); n != 0 {
			t.Errorf("%d GETs without a session", n)
		}
		if err := cc.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if n := rec.count(http.MethodDelete); n != 0 {
			t.Errorf("%d DELETEs without a session", n)
		}
	})
}

// pipeTransport answers every request with an SSE body that serve writes
// into a pipe: a write blocks until the client reads it, which makes the
// client's buffering observable.
type pipeTransport struct {
	serve func(w io.Writer)
}

func (p pipeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	go func() {
		p.serve(pw)
		pw.Close()
	}()
	return &http.Response{
		Status: "200 OK", StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: pr, ContentLength: -1, Request: req,
	}, nil
}

// TestClientBackpressure: a client that does not call Recv stops reading
// the server's stream instead of buffering it.
func TestClientBackpressure(t *testing.T) {
	checkLeaks(t)
	const events = 1000
	var written atomic.Int32
	client := &http.Client{Transport: pipeTransport{func(w io.Writer) {
		for i := range events {
			if _, err := fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":{\"i\":%d}}\n\n", i); err != nil {
				return
			}
			written.Add(1)
		}
		fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n")
	}}}
	cc := dial(t, "http://127.0.0.1:1/mcp", &streamable.ClientOptions{HTTPClient: client})
	send(t, cc, request(1, "flood", ""))
	time.Sleep(200 * time.Millisecond)
	if n := written.Load(); n > 40 {
		t.Fatalf("the client read %d events while nobody called Recv", n)
	}
	for i := range events {
		m := recv(t, cc)
		r, ok := m.(*jsonrpc.Request)
		if !ok || string(r.Params) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("message %d: %#v", i, m)
		}
	}
	if _, ok := recv(t, cc).(*jsonrpc.Response); !ok {
		t.Fatal("no response after the notifications")
	}
}

// TestClientCloseUnblocksReaders: Close ends a stream whose reader is
// blocked on a full delivery channel.
func TestClientCloseUnblocksReaders(t *testing.T) {
	checkLeaks(t)
	client := &http.Client{Transport: pipeTransport{func(w io.Writer) {
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":{\"i\":%d}}\n\n", i); err != nil {
				return
			}
		}
	}}}
	cc := dial(t, "http://127.0.0.1:1/mcp", &streamable.ClientOptions{HTTPClient: client})
	send(t, cc, request(1, "flood", ""))
	recv(t, cc)
	time.Sleep(50 * time.Millisecond)
	if err := cc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestClientStaticHeaders: ClientOptions.Header goes on every request;
// the transport's own headers win.
func TestClientStaticHeaders(t *testing.T) {
	checkLeaks(t)
	env := newEverything(t, nil)
	cc := dial(t, env.url, &streamable.ClientOptions{Header: http.Header{
		"X-Api-Key":      {"k1"},
		"Mcp-Session-Id": {"spoofed"},
	}})
	initialize(t, cc)
	call(t, cc, 1, "ping", "")
	cc.Close()
	for _, r := range env.rec.all() {
		if got := r.Header.Get("X-Api-Key"); got != "k1" {
			t.Errorf("%s: X-Api-Key %q", r.Method, got)
		}
		if r.Header.Get("Mcp-Session-Id") == "spoofed" {
			t.Errorf("%s: the static header replaced the session id", r.Method)
		}
	}
}

func TestDialerURLs(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:1/mcp", true},
		{"https://example.com/mcp", true},
		{"ftp://example.com/mcp", false},
		{"/mcp", false},
		{"http://", false},
		{"http://[::1", false},
	}
	for _, tt := range tests {
		cc, err := streamable.NewDialer(tt.url, nil).Dial(context.Background())
		if (err == nil) != tt.ok {
			t.Errorf("Dial(%q): %v", tt.url, err)
		}
		if cc != nil {
			cc.Close()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := streamable.NewDialer("http://127.0.0.1:1/", nil).Dial(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a cancelled context: %v", err)
	}
}

// waitFor polls cond until it holds or the test's patience runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
