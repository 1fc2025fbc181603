package sse

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/sse"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

const waitTimeout = 5 * time.Second

// testServer is a Handler behind a real HTTP server on loopback, mounted
// at /sse + /message and at /mcp/sse + /mcp/message.
type testServer struct {
	t   *testing.T
	h   *Handler
	f   *testFactory
	srv *httptest.Server
}

func newTestServer(t *testing.T, f *testFactory, opts *Options) *testServer {
	t.Helper()
	return startTestServer(t, f, opts, false)
}

// startTestServer starts a test server, speaking HTTP/2 over TLS if h2.
func startTestServer(t *testing.T, f *testFactory, opts *Options, h2 bool) *testServer {
	t.Helper()
	if f == nil {
		f = newTestFactory()
	}
	h := NewHandler(f, opts)
	mux := http.NewServeMux()
	for _, p := range []string{"/sse", "/message", "/mcp/sse", "/mcp/message", "/custom/post"} {
		mux.Handle(p, h)
	}
	// Attach a context value from a header, to check that request
	// contexts keep the POST's values.
	withValue := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("X-Value"); v != "" {
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, v))
		}
		mux.ServeHTTP(w, r)
	})
	srv := httptest.NewUnstartedServer(withValue)
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	ts := &testServer{t: t, h: h, f: f, srv: srv}
	t.Cleanup(func() {
		ts.closeHandler()
		srv.Close()
	})
	return ts
}

// closeHandler closes the handler, failing the test if that hangs.
func (ts *testServer) closeHandler() {
	ts.t.Helper()
	done := make(chan struct{})
	go func() {
		ts.h.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		ts.t.Fatal("Handler.Close did not return")
	}
}

// event is one SSE event as the client saw it.
type event struct {
	Type string
	Data string
}

// sseClient is one client connection: the SSE stream and the endpoint it
// announced.
type sseClient struct {
	t        *testing.T
	ts       *testServer
	resp     *http.Response
	events   chan event
	readErr  chan error // the reader's final error (io.EOF for a clean end)
	stop     chan struct{}
	endpoint *url.URL
}

// connect opens an SSE stream at path and reads the endpoint event.
func (ts *testServer) connect(path string) *sseClient {
	ts.t.Helper()
	resp := ts.get(path, nil)
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ts.t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		ts.t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	c := &sseClient{
		t:       ts.t,
		ts:      ts,
		resp:    resp,
		events:  make(chan event, 16),
		readErr: make(chan error, 1),
		stop:    make(chan struct{}),
	}
	go c.read()
	ts.t.Cleanup(c.close)
	ev := c.next()
	if ev.Type != "endpoint" {
		ts.t.Fatalf("first event is %q (%q), want endpoint", ev.Type, ev.Data)
	}
	u, err := url.Parse(ev.Data)
	if err != nil {
		ts.t.Fatalf("endpoint %q: %v", ev.Data, err)
	}
	c.endpoint = u
	return c
}

func (ts *testServer) get(path string, header http.Header) *http.Response {
	ts.t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.srv.URL+path, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	return resp
}

// do sends a request to the test server and returns the status, headers
// and body.
func (ts *testServer) do(method, target, contentType string, body io.Reader, header http.Header) (int, http.Header, []byte) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+target, body)
	if err != nil {
		ts.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// read feeds c.events from the stream until it ends or c is closed.
func (c *sseClient) read() {
	defer close(c.events)
	r := sse.NewReader(c.resp.Body, 0)
	for {
		ev, err := r.Next()
		if err != nil {
			c.readErr <- err
			return
		}
		if !ev.HasData {
			continue
		}
		select {
		case c.events <- event{Type: ev.Type(), Data: string(ev.Data)}:
		case <-c.stop:
			c.readErr <- nil
			return
		}
	}
}

// close drops the connection.
func (c *sseClient) close() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
		c.resp.Body.Close()
	}
}

// next returns the next event, failing the test if none comes.
func (c *sseClient) next() event {
	c.t.Helper()
	select {
	case ev, ok := <-c.events:
		if !ok {
			c.t.Fatalf("stream ended: %v", <-c.readErr)
		}
		return ev
	case <-time.After(waitTimeout):
		c.t.Fatal("no event")
	}
	panic("unreachable")
}

// nextMessage returns the next event, which must be a message.
func (c *sseClient) nextMessage() jsonrpc.Message {
	c.t.Helper()
	ev := c.next()
	if ev.Type != "message" {
		c.t.Fatalf("event type %q, want message (data %q)", ev.Type, ev.Data)
	}
	m, err := jsonrpc.Decode([]byte(ev.Data))
	if err != nil {
		c.t.Fatalf("message %q: %v", ev.Data, err)
	}
	return m
}

// nextResponse returns the next message, which must be a response.
func (c *sseClient) nextResponse() *jsonrpc.Response {
	c.t.Helper()
	m := c.nextMessage()
	r, ok := m.(*jsonrpc.Response)
	if !ok {
		c.t.Fatalf("got %#v, want a response", m)
	}
	return r
}

// waitEnd waits for the server to end the stream.
func (c *sseClient) waitEnd() {
	c.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return
			}
			if ev.Type == "endpoint" {
				c.t.Fatalf("unexpected event %+v", ev)
			}
		case <-deadline:
			c.t.Fatal("stream did not end")
		}
	}
}

// sessionID returns the id in the endpoint URL.
func (c *sseClient) sessionID() string { return c.endpoint.Query().Get("sessionId") }

// post sends body to the endpoint and returns the status and body.
func (c *sseClient) post(body string) (int, []byte) {
	c.t.Helper()
	status, _, b := c.ts.do(http.MethodPost, c.endpoint.String(), "application/json", strings.NewReader(body), nil)
	return status, b
}

// mustPost posts body and requires 202 Accepted.
func (c *sseClient) mustPost(body string) {
	c.t.Helper()
	if status, b := c.post(body); status != http.StatusAccepted {
		c.t.Fatalf("POST %s: status %d: %s", body, status, b)
	}
}

// session returns the session the factory created for the next connect.
func (ts *testServer) session() *testSess {
	ts.t.Helper()
	select {
	case s := <-ts.f.created:
		return s
	case <-time.After(waitTimeout):
		ts.t.Fatal("no session created")
	}
	panic("unreachable")
}

// eventually polls cond until it holds or the wait times out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkNoLeak waits for the goroutine count to come back to base.
func checkNoLeak(t *testing.T, ts *testServer, base int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ts.srv.Client().CloseIdleConnections()
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want at most %d:\n%s", n, base, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func resultOf(t *testing.T, r *jsonrpc.Response) map[string]any {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("response %v: error %v", r.ID, r.Error)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Result, &m); err != nil {
		t.Fatalf("result %s: %v", r.Result, err)
	}
	return m
}

// errorBody decodes an HTTP error body, which must be a JSON-RPC error
// response.
func errorBody(t *testing.T, b []byte) *jsonrpc.Response {
	t.Helper()
	m, err := jsonrpc.Decode(b)
	if err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	r, ok := m.(*jsonrpc.Response)
	if !ok || r.Error == nil {
		t.Fatalf("error body %q is not an error response", b)
	}
	return r
}

func TestEndpointEvent(t *testing.T) {
	tests := []struct {
		name        string
		messagePath string
		get         string
		wantPath    string
		wantQuery   url.Values // besides sessionId
	}{
		{name: "default sibling", get: "/sse", wantPath: "/message"},
		{name: "default nested", get: "/mcp/sse", wantPath: "/mcp/message"},
		{name: "configured", messagePath: "/custom/post", get: "/sse", wantPath: "/custom/post"},
		{name: "configured with query", messagePath: "/custom/post?tenant=a", get: "/mcp/sse", wantPath: "/custom/post", wantQuery: url.Values{"tenant": {"a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, nil, &Options{MessagePath: tt.messagePath})
			c := ts.connect(tt.get)
			sess := ts.session()
			if c.endpoint.Path != tt.wantPath {
				t.Errorf("endpoint path %q, want %q", c.endpoint.Path, tt.wantPath)
			}
			if c.endpoint.IsAbs() || c.endpoint.Host != "" {
				t.Errorf("endpoint %q is not a path", c.endpoint)
			}
			q := c.endpoint.Query()
			id := q.Get("sessionId")
			if id == "" || id != sess.id {
				t.Errorf("sessionId %q, session created with %q", id, sess.id)
			}
			for k, v := range tt.wantQuery {
				if q.Get(k) != v[0] {
					t.Errorf("query %s=%q, want %q", k, q.Get(k), v[0])
				}
			}
			if sess.newInfo == nil || sess.newInfo.RemoteAddr == "" {
				t.Errorf("NewSession context lacks RequestInfo: %+v", sess.newInfo)
			}
			// The endpoint works.
			c.mustPost(`{"jsonrpc":"2.0","id":1,"method":"initialize"}`)
			if r := c.nextResponse(); r.ID != jsonrpc.Int64ID(1) {
				t.Errorf("response id %v", r.ID)
			}
		})
	}
}

func TestSessionIDsDiffer(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	seen := map[string]bool{}
	for range 5 {
		id := ts.connect("/sse").sessionID()
		if seen[id] {
			t.Fatalf("session id %q issued twice", id)
		}
		seen[id] = true
	}
}

func TestRoundTrip(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.connect("/sse")
	sess := ts.session()

	c.mustPost(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05"}}`)
	r := c.nextResponse()
	if r.ID != jsonrpc.Int64ID(1) || resultOf(t, r)["protocolVersion"] != "2024-11-05" {
		t.Fatalf("initialize response: %+v %s", r, r.Result)
	}

	// Notifications are handled before the POST is answered.
	c.mustPost(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	select {
	case n := <-sess.notifications:
		if n.Method != "notifications/initialized" {
			t.Fatalf("notification %q", n.Method)
		}
	default:
		t.Fatal("notification not handled when the POST was answered")
	}

	// Related messages come on the same stream, before the response.
	c.mustPost(`{"jsonrpc":"2.0","id":"s","method":"slow","params":{"n":3}}`)
	for i := range 3 {
		m := c.nextMessage()
		n, ok := m.(*jsonrpc.Request)
		if !ok || n.Method != "notifications/progress" || !n.IsNotification() {
			t.Fatalf("message %d: %#v", i, m)
		}
		var p struct{ Progress int }
		if err := json.Unmarshal(n.Params, &p, json.MatchCaseInsensitiveNames(true)); err != nil || p.Progress != i {
			t.Fatalf("progress %s, want %d", n.Params, i)
		}
	}
	r = c.nextResponse()
	if r.ID != jsonrpc.StringID("s") || resultOf(t, r)["sent"] != 3.0 {
		t.Fatalf("slow response: %v %s", r.ID, r.Result)
	}

	// Errors from the session come back as error responses.
	c.mustPost(`{"jsonrpc":"2.0","id":2,"method":"nope"}`)
	r = c.nextResponse()
	if r.ID != jsonrpc.Int64ID(2) || r.Error == nil || r.Error.Code != jsonrpc.CodeMethodNotFound {
		t.Fatalf("nope response: %+v", r)
	}
}

func TestServerToClientRequest(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.connect("/sse")

	c.mustPost(`{"jsonrpc":"2.0","id":5,"method":"ask"}`)
	m := c.nextMessage()
	req, ok := m.(*jsonrpc.Request)
	if !ok || req.Method != "roots/list" || req.IsNotification() {
		t.Fatalf("got %#v, want a roots/list request", m)
	}
	id := string(req.ID.AppendJSON(nil))
	c.mustPost(`{"jsonrpc":"2.0","id":` + id + `,"result":{"roots":[]}}`)

	r := c.nextResponse()
	if r.ID != jsonrpc.Int64ID(5) {
		t.Fatalf("response id %v, want 5", r.ID)
	}
	var res struct {
		Answer jsontext.Value `json:"answer"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil || string(res.Answer) != `{"roots":[]}` {
		t.Fatalf("ask result %s", r.Result)
	}
}

func TestRequestContext(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.connect("/sse")

	header := http.Header{"X-Test": {"hello"}, "X-Value": {"from-middleware"}}
	status, _, body := ts.do(http.MethodPost, c.endpoint.String(), "application/json",
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"block"}`), header)
	if status != http.StatusAccepted {
		t.Fatalf("status %d: %s", status, body)
	}
	if len(body) != 0 {
		t.Errorf("202 body %q, want empty", body)
	}
	// The POST is over; its request context is done, the handler's is not.
	eventually(t, "block to start", func() bool { return ts.f.inFlight.Load() == 1 })
	ts.f.release <- struct{}{}
	res := resultOf(t, c.nextResponse())
	if res["err"] != nil {
		t.Errorf("handler context ended with the POST: %v", res["err"])
	}
	if res["value"] != "from-middleware" {
		t.Errorf("context value %v, want the POST context's", res["value"])
	}
	if res["header"] != "hello" {
		t.Errorf("RequestInfo header X-Test = %v", res["header"])
	}
	if res["remote"] == "" || res["remote"] == nil {
		t.Errorf("RequestInfo RemoteAddr empty")
	}
	if h, _ := res["host"].(string); !strings.HasPrefix(h, "127.0.0.1:") {
		t.Errorf("RequestInfo Host %q", res["host"])
	}
}

func TestStandaloneBeforeStart(t *testing.T) {
	f := newTestFactory()
	f.greeting = []byte(`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"hi"}}`)
	ts := newTestServer(t, f, nil)
	c := ts.connect("/sse") // fails unless the endpoint event comes first
	m := c.nextMessage()
	if n, ok := m.(*jsonrpc.Request); !ok || n.Method != "notifications/message" {
		t.Fatalf("got %#v, want the greeting", m)
	}
}

func TestConcurrencyBound(t *testing.T) {
	const limit = 2
	ts := newTestServer(t, nil, &Options{MaxInFlightPerSession: limit})
	c := ts.connect("/sse")

	// limit requests start at once; the POSTs are answered while they run.
	for i := range limit {
		c.mustPost(`{"jsonrpc":"2.0","id":` + string(rune('1'+i)) + `,"method":"block"}`)
	}
	eventually(t, "requests to start", func() bool { return ts.f.inFlight.Load() == limit })

	// One more waits for a slot before its POST is answered.
	answered := make(chan int, 1)
	go func() {
		status, _ := c.post(`{"jsonrpc":"2.0","id":9,"method":"block"}`)
		answered <- status
	}()
	select {
	case s := <-answered:
		t.Fatalf("POST over the limit answered (%d) while the limit is reached", s)
	case <-time.After(200 * time.Millisecond):
	}
	if n := ts.f.maxInFlight.Load(); n != limit {
		t.Fatalf("%d requests ran at once, limit %d", n, limit)
	}

	ts.f.release <- struct{}{}
	c.nextResponse()
	select {
	case s := <-answered:
		if s != http.StatusAccepted {
			t.Fatalf("status %d", s)
		}
	case <-time.After(waitTimeout):
		t.Fatal("POST not answered after a slot freed up")
	}
	eventually(t, "third request to start", func() bool { return ts.f.inFlight.Load() == limit })
	ts.f.release <- struct{}{}
	ts.f.release <- struct{}{}
	c.nextResponse()
	c.nextResponse()
	if n := ts.f.maxInFlight.Load(); n != limit {
		t.Fatalf("%d requests ran at once, limit %d", n, limit)
	}
}

// hideLength hides the length of a body so that it is sent chunked.
type hideLength struct{ io.Reader }

func TestErrorStatuses(t *testing.T) {
	ts := newTestServer(t, nil, &Options{MaxBodyBytes: 1024})
	c := ts.connect("/sse")
	ep := c.endpoint.String()
	valid := `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	big := `{"jsonrpc":"2.0","method":"x","params":{"pad":"` + strings.Repeat("a", 2000) + `"}}`

	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		body        io.Reader
		want        int
		wantCode    int64      // JSON-RPC error code in the body; 0: not checked
		wantID      jsonrpc.ID // id of the error response
	}{
		{name: "accepted", method: "POST", target: ep, contentType: "application/json", body: strings.NewReader(valid), want: 202},
		{name: "accepted with charset", method: "POST", target: ep, contentType: "application/json; charset=utf-8", body: strings.NewReader(valid), want: 202},
		{name: "missing sessionId", method: "POST", target: "/message", contentType: "application/json", body: strings.NewReader(valid), want: 400, wantCode: jsonrpc.CodeInvalidRequest},
		{name: "empty sessionId", method: "POST", target: "/message?sessionId=", contentType: "application/json", body: strings.NewReader(valid), want: 400, wantCode: jsonrpc.CodeInvalidRequest},
		{name: "unknown session", method: "POST", target: "/message?sessionId=NOPE", contentType: "application/json", body: strings.NewReader(valid), want: 404, wantCode: jsonrpc.CodeInvalidRequest},
		{name: "wrong content type", method: "POST", target: ep, contentType: "text/plain", body: strings.NewReader(valid), want: 415},
		{name: "missing content type", method: "POST", target: ep, body: strings.NewReader(valid), want: 415},
		{name: "malformed content type", method: "POST", target: ep, contentType: "application/", body: strings.NewReader(valid), want: 415},
		{name: "too large", method: "POST", target: ep, contentType: "application/json", body: strings.NewReader(big), want: 413},
		{name: "too large chunked", method: "POST", target: ep, contentType: "application/json", body: hideLength{strings.NewReader(big)}, want: 413},
		{name: "bad json", method: "POST", target: ep, contentType: "application/json", body: strings.NewReader(`{"jsonrpc":`), want: 400, wantCode: jsonrpc.CodeParseError},
		{name: "empty body", method: "POST", target: ep, contentType: "application/json", body: strings.NewReader(``), want: 400, wantCode: jsonrpc.CodeParseError},
		{name: "trailing garbage", method: "POST", target: ep, contentType: "application/json", body: strings.NewReader(valid + `x`), want: 400, wantCode: jsonrpc.CodeParseError},
		{name: "not a message", method: "POST", target: ep, contentType: "application/json", body: strings.NewReader(`{"jsonrpc":"2.0","id":7}`), want: 400, wantCode: jsonrpc.CodeInvalidRequest, wantID: jsonrpc.Int64ID(7)},
		{name: "wrong version", method: "POST", target: ep, contentType: "application/json", body: strings.NewReader(`{"jsonrpc":"1.0","id":"a","method":"x"}`), want: 400, wantCode: jsonrpc.CodeInvalidRequest, wantID: jsonrpc.StringID("a")},
		{name: "empty batch", method: "POST", target: ep, contentType: "application/json", body: strings.NewReader(`[]`), want: 400, wantCode: jsonrpc.CodeInvalidRequest},
		{name: "batch in 2024-11-05", method: "POST", target: ep, contentType: "application/json", body: strings.NewReader(`[` + valid + `]`), want: 400, wantCode: jsonrpc.CodeInvalidRequest},
		{name: "PUT", method: "PUT", target: ep, contentType: "application/json", body: strings.NewReader(valid), want: 405},
		{name: "DELETE", method: "DELETE", target: "/sse", want: 405},
		{name: "PATCH", method: "PATCH", target: "/message", want: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == nil {
				body = http.NoBody
			}
			status, header, b := ts.do(tt.method, tt.target, tt.contentType, body, nil)
			if status != tt.want {
				t.Fatalf("status %d, want %d (body %s)", status, tt.want, b)
			}
			if status == http.StatusMethodNotAllowed && header.Get("Allow") != "GET, POST" {
				t.Errorf("Allow %q", header.Get("Allow"))
			}
			if status >= 400 {
				r := errorBody(t, b)
				if tt.wantCode != 0 && r.Error.Code != tt.wantCode {
					t.Errorf("error code %d, want %d (%s)", r.Error.Code, tt.wantCode, r.Error.Message)
				}
				if r.ID != tt.wantID {
					t.Errorf("error id %v, want %v", r.ID, tt.wantID)
				}
			}
		})
	}

	// None of this broke the session.
	c.mustPost(`{"jsonrpc":"2.0","id":1,"method":"initialize"}`)
	if r := c.nextResponse(); r.ID != jsonrpc.Int64ID(1) || r.Error != nil {
		t.Fatalf("response after errors: %+v", r)
	}
}

func TestBatch(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.connect("/sse")
	sess := ts.session()
	c.mustPost(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26"}}`)
	c.nextResponse()

	c.mustPost(`[
		{"jsonrpc":"2.0","id":10,"method":"slow","params":{"n":1}},
		{"jsonrpc":"2.0","method":"notifications/initialized"},
		{"jsonrpc":"1.0","id":11,"method":"slow"},
		{"jsonrpc":"2.0","id":12,"method":"nope"}
	]`)
	select {
	case n := <-sess.notifications:
		if n.Method != "notifications/initialized" {
			t.Fatalf("notification %q", n.Method)
		}
	default:
		t.Fatal("the batch's notification was not handled")
	}
	got := map[jsonrpc.ID]*jsonrpc.Response{}
	progress := 0
	for len(got) < 3 {
		switch m := c.nextMessage().(type) {
		case *jsonrpc.Response:
			got[m.ID] = m
		case *jsonrpc.Request:
			if _, done := got[jsonrpc.Int64ID(10)]; done {
				t.Fatal("progress after its request's response")
			}
			progress++
		}
	}
	if progress != 1 {
		t.Errorf("%d progress notifications, want 1", progress)
	}
	if r := got[jsonrpc.Int64ID(10)]; r == nil || r.Error != nil {
		t.Errorf("response 10: %+v", r)
	}
	if r := got[jsonrpc.Int64ID(11)]; r == nil || r.Error == nil || r.Error.Code != jsonrpc.CodeInvalidRequest {
		t.Errorf("response 11: %+v", r)
	}
	if r := got[jsonrpc.Int64ID(12)]; r == nil || r.Error == nil || r.Error.Code != jsonrpc.CodeMethodNotFound {
		t.Errorf("response 12: %+v", r)
	}
}

func TestNewSessionError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "limit", err: transport.ErrSessionLimit, want: http.StatusServiceUnavailable},
		{name: "wrapped limit", err: errors.Join(errors.New("busy"), transport.ErrSessionLimit), want: http.StatusServiceUnavailable},
		{name: "other", err: errors.New("boom"), want: http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTestFactory()
			f.newErr = tt.err
			ts := newTestServer(t, f, nil)
			status, _, b := ts.do(http.MethodGet, "/sse", "", http.NoBody, nil)
			if status != tt.want {
				t.Fatalf("status %d, want %d", status, tt.want)
			}
			errorBody(t, b)
		})
	}
}

// TestWireFormat checks the bytes on the wire: the endpoint event as
// 2024-11-05 clients parse it, then keep-alive comments.
func TestWireFormat(t *testing.T) {
	ts := newTestServer(t, nil, &Options{KeepAlive: 20 * time.Millisecond})
	resp := ts.get("/sse", nil)
	defer resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q", cc)
	}
	br := bufio.NewReader(resp.Body)
	deadline := time.AfterFunc(waitTimeout, func() { resp.Body.Close() })
	defer deadline.Stop()
	var head []string
	for range 3 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		head = append(head, line)
	}
	if head[0] != "event: endpoint\n" || !strings.HasPrefix(head[1], "data: /message?sessionId=") || head[2] != "\n" {
		t.Fatalf("stream starts with %q", head)
	}
	comments := 0
	for comments < 3 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d comments: %v", comments, err)
		}
		if !strings.HasPrefix(line, ":") && line != "\n" {
			t.Fatalf("unexpected line %q", line)
		}
		if strings.HasPrefix(line, ":") {
			comments++
		}
	}

	// Messages are "message" events, named explicitly.
	endpoint := strings.TrimSuffix(strings.TrimPrefix(head[1], "data: "), "\n")
	status, _, b := ts.do(http.MethodPost, endpoint, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize"}`), nil)
	if status != http.StatusAccepted {
		t.Fatalf("POST: %d %s", status, b)
	}
	var ev []string
	for len(ev) < 3 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if len(ev) == 0 && (strings.HasPrefix(line, ":") || line == "\n") {
			continue // a keep-alive
		}
		ev = append(ev, line)
	}
	want := "data: " + `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2024-11-05"}}` + "\n"
	if ev[0] != "event: message\n" || ev[1] != want || ev[2] != "\n" {
		t.Fatalf("message event %q", ev)
	}
}

func TestClientDisconnectEndsSession(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	// Warm up the client and server so that the baseline counts their
	// long-lived goroutines.
	ts.connect("/sse").close()
	ts.session()
	ts.srv.Client().CloseIdleConnections()
	time.Sleep(50 * time.Millisecond)
	base := runtime.NumGoroutine()

	c := ts.connect("/sse")
	sess := ts.session()
	c.mustPost(`{"jsonrpc":"2.0","id":1,"method":"block"}`)
	c.mustPost(`{"jsonrpc":"2.0","id":2,"method":"ask"}`)
	eventually(t, "block to start", func() bool { return ts.f.inFlight.Load() == 1 })
	c.nextMessage() // the ask's request to the client

	c.close()
	eventually(t, "session Close", sess.closed)
	eventually(t, "block to be cancelled", func() bool { return ts.f.inFlight.Load() == 0 })
	if n := sess.closeCalls.Load(); n != 1 {
		t.Errorf("Close called %d times", n)
	}
	if status, _, _ := ts.do(http.MethodPost, c.endpoint.String(), "application/json", strings.NewReader(`{"jsonrpc":"2.0","method":"x"}`), nil); status != http.StatusNotFound {
		t.Errorf("POST after disconnect: status %d, want 404", status)
	}
	if err := sess.sink.Send(context.Background(), []byte(`{"jsonrpc":"2.0","method":"x"}`)); !errors.Is(err, ErrStreamClosed) {
		t.Errorf("Send after disconnect: %v, want ErrStreamClosed", err)
	}
	checkNoLeak(t, ts, base)
}

func TestServerEndsSession(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.connect("/sse")
	sess := ts.session()
	sess.Close()
	c.waitEnd()
	if err := <-c.readErr; err != nil && !errors.Is(err, io.EOF) {
		t.Errorf("stream ended with %v, want a clean end", err)
	}
	if status, _ := c.post(`{"jsonrpc":"2.0","method":"x"}`); status != http.StatusNotFound {
		t.Errorf("POST after the session ended: status %d, want 404", status)
	}
}

func TestHandlerClose(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c1 := ts.connect("/sse")
	s1 := ts.session()
	c2 := ts.connect("/mcp/sse")
	s2 := ts.session()
	c1.mustPost(`{"jsonrpc":"2.0","id":1,"method":"block"}`)
	eventually(t, "block to start", func() bool { return ts.f.inFlight.Load() == 1 })

	ts.closeHandler()
	if !s1.closed() || !s2.closed() {
		t.Errorf("sessions closed: %v %v", s1.closed(), s2.closed())
	}
	if n := ts.f.inFlight.Load(); n != 0 {
		t.Errorf("%d requests still running after Close", n)
	}
	c1.waitEnd()
	c2.waitEnd()

	if status, _, b := ts.do(http.MethodGet, "/sse", "", http.NoBody, nil); status != http.StatusServiceUnavailable {
		t.Errorf("GET after Close: status %d, want 503", status)
	} else {
		errorBody(t, b)
	}
	if status, _ := c1.post(`{"jsonrpc":"2.0","method":"x"}`); status != http.StatusServiceUnavailable {
		t.Errorf("POST after Close: status %d, want 503", status)
	}
	ts.closeHandler() // idempotent
}

func TestSlowClientLosesSession(t *testing.T) {
	ts := newTestServer(t, nil, &Options{WriteTimeout: 100 * time.Millisecond})
	c := ts.connect("/sse")
	sess := ts.session()
	// The client stops reading: read feeds c.events until its buffer is
	// full, then blocks.
	c.mustPost(`{"jsonrpc":"2.0","id":1,"method":"flood","params":{"size":65536}}`)
	eventually(t, "session to end", sess.closed)
}

func TestHostOrigin(t *testing.T) {
	tests := []struct {
		name   string
		opts   *Options
		header http.Header
		host   string
		want   int
	}{
		{name: "plain", want: 200},
		{name: "localhost", host: "localhost", want: 200},
		{name: "same origin", header: http.Header{"Origin": {"http://{host}"}}, want: 200},
		{name: "rebinding host", host: "evil.example", want: 403},
		{name: "rebinding host allowed", host: "evil.example", opts: &Options{AllowedHosts: []string{"evil.example"}}, want: 200},
		{name: "foreign origin", header: http.Header{"Origin": {"http://evil.example"}}, want: 403},
		{name: "foreign origin allowed", header: http.Header{"Origin": {"http://evil.example"}}, opts: &Options{AllowedOrigins: []string{"http://evil.example"}}, want: 200},
		{name: "protection off", host: "evil.example", header: http.Header{"Origin": {"http://evil.example"}}, opts: &Options{AllowedHosts: []string{"*"}, AllowedOrigins: []string{"*"}}, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, nil, tt.opts)
			host := strings.TrimPrefix(ts.srv.URL, "http://")
			header := http.Header{}
			for k, v := range tt.header {
				header[k] = []string{strings.ReplaceAll(v[0], "{host}", host)}
			}
			// GET
			req, _ := http.NewRequest(http.MethodGet, ts.srv.URL+"/sse", nil)
			req.Header = header.Clone()
			if tt.host != "" {
				req.Host = tt.host
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			resp, err := ts.srv.Client().Do(req.WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("GET: status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusForbidden {
				b, _ := io.ReadAll(resp.Body)
				errorBody(t, b)
			}

			// POST to a session opened without the offending headers.
			c := ts.connect("/sse")
			req, _ = http.NewRequest(http.MethodPost, ts.srv.URL+c.endpoint.String(), strings.NewReader(`{"jsonrpc":"2.0","method":"x"}`))
			req.Header = header.Clone()
			req.Header.Set("Content-Type", "application/json")
			if tt.host != "" {
				req.Host = tt.host
			}
			presp, err := ts.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			presp.Body.Close()
			want := tt.want
			if want == http.StatusOK {
				want = http.StatusAccepted
			}
			if presp.StatusCode != want {
				t.Fatalf("POST: status %d, want %d", presp.StatusCode, want)
			}
		})
	}
}

func TestHTTP2(t *testing.T) {
	ts := startTestServer(t, nil, nil, true)
	c := ts.connect("/sse")
	if c.resp.ProtoMajor != 2 {
		t.Fatalf("protocol %s, want HTTP/2", c.resp.Proto)
	}
	c.mustPost(`{"jsonrpc":"2.0","id":"s","method":"slow","params":{"n":2}}`)
	c.nextMessage()
	c.nextMessage()
	if r := c.nextResponse(); r.ID != jsonrpc.StringID("s") {
		t.Fatalf("response id %v", r.ID)
	}

	// A session the server ends, and Close with another one open.
	sess := ts.session()
	c2 := ts.connect("/sse")
	sess.Close()
	c.waitEnd()
	c2.mustPost(`{"jsonrpc":"2.0","id":1,"method":"block"}`)
	eventually(t, "block to start", func() bool { return ts.f.inFlight.Load() == 1 })
	ts.closeHandler()
	c2.waitEnd()
}
