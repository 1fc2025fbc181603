package sse_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	isse "github.com/switchboard-mcp/switchboard/internal/sse"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/sse"
)

const clientWait = 10 * time.Second

// checkGoroutines fails the test if goroutines started during it are
// still running when it ends. Call it first, so that it runs after the
// other cleanups.
func checkGoroutines(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d, before: %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), clientWait)
	t.Cleanup(cancel)
	return ctx
}

// everythingServer serves the everything demo over the legacy transport
// on loopback, at /sse and /message. It records the X-Api-Key header of
// the requests it gets.
type everythingServer struct {
	srv  *httptest.Server
	h    *sse.Handler
	mcp  *mcp.Server
	mu   sync.Mutex
	keys map[string][]string // method → X-Api-Key values seen
}

func startEverything(t *testing.T, h2 bool) *everythingServer {
	t.Helper()
	es := &everythingServer{mcp: everything.NewServer(nil), keys: map[string][]string{}}
	es.h = sse.NewHandler(es.mcp, nil)
	mux := http.NewServeMux()
	mux.Handle("/sse", es.h)
	mux.Handle("/message", es.h)
	es.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		es.mu.Lock()
		es.keys[r.Method] = append(es.keys[r.Method], r.Header.Get("X-Api-Key"))
		es.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	if h2 {
		es.srv.EnableHTTP2 = true
		es.srv.StartTLS()
	} else {
		es.srv.Start()
	}
	t.Cleanup(func() {
		es.h.Close()
		es.srv.Close()
		es.mcp.Close()
	})
	return es
}

// dial connects to url and closes the connection when the test ends.
func dial(t *testing.T, url string, opts *sse.ClientOptions) *sse.ClientConn {
	t.Helper()
	conn, err := sse.NewDialer(url, opts).Dial(ctxT(t))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.(*sse.ClientConn)
}

func request(id int64, method, params string) *jsonrpc.Request {
	r := &jsonrpc.Request{ID: jsonrpc.Int64ID(id), Method: method}
	if params != "" {
		r.Params = jsontext.Value(params)
	}
	return r
}

// recvResponse reads messages until the response to id, skipping
// notifications.
func recvResponse(t *testing.T, conn transport.ClientConn, id int64) *jsonrpc.Response {
	t.Helper()
	ctx := ctxT(t)
	for {
		m, err := conn.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv (waiting for response %d): %v", id, err)
		}
		switch m := m.(type) {
		case *jsonrpc.Response:
			if n, _ := m.ID.Int64(); n == id {
				return m
			}
			t.Fatalf("unexpected response %v", m.ID)
		case *jsonrpc.Request:
			if !m.IsNotification() {
				t.Fatalf("unexpected request %s", m.Method)
			}
		}
	}
}

func initialize(t *testing.T, conn transport.ClientConn) {
	t.Helper()
	ctx := ctxT(t)
	params := `{"protocolVersion":"2024-11-05","capabilities":{"sampling":{}},"clientInfo":{"name":"sse-test","version":"1"}}`
	if err := conn.Send(ctx, request(1, "initialize", params)); err != nil {
		t.Fatal(err)
	}
	resp := recvResponse(t, conn, 1)
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if resp.Error != nil || json.Unmarshal(resp.Result, &res) != nil || res.ProtocolVersion != "2024-11-05" {
		t.Fatalf("initialize: %s %v", resp.Result, resp.Error)
	}
	if err := conn.Send(ctx, &jsonrpc.Request{Method: "notifications/initialized"}); err != nil {
		t.Fatal(err)
	}
}

func echoParams(text string) string {
	return fmt.Sprintf(`{"name":"echo","arguments":{"text":%q}}`, text)
}

func checkEcho(t *testing.T, resp *jsonrpc.Response, text string) {
	t.Helper()
	var res struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if resp.Error != nil || json.Unmarshal(resp.Result, &res) != nil || len(res.Content) != 1 || res.Content[0].Text != text {
		t.Fatalf("echo result: %s %v", resp.Result, resp.Error)
	}
}

func TestClientSession(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			checkGoroutines(t)
			es := startEverything(t, h2)
			client := es.srv.Client()
			t.Cleanup(client.CloseIdleConnections)
			conn := dial(t, es.srv.URL+"/sse", &sse.ClientOptions{
				HTTPClient: client,
				Header:     http.Header{"X-Api-Key": {"k1"}},
			})
			sid := conn.SessionID()
			if sid == "" || conn.Endpoint() != es.srv.URL+"/message?sessionId="+sid {
				t.Fatalf("session id %q, endpoint %q", sid, conn.Endpoint())
			}
			initialize(t, conn)
			ctx := ctxT(t)
			if err := conn.Send(ctx, request(2, "tools/list", "")); err != nil {
				t.Fatal(err)
			}
			if resp := recvResponse(t, conn, 2); !bytes.Contains(resp.Result, []byte(`"echo"`)) {
				t.Fatalf("tools/list: %s", resp.Result)
			}
			if err := conn.Send(ctx, request(3, "tools/call", echoParams("over SSE"))); err != nil {
				t.Fatal(err)
			}
			checkEcho(t, recvResponse(t, conn, 3), "over SSE")

			es.mu.Lock()
			for method, keys := range es.keys {
				for _, k := range keys {
					if k != "k1" {
						t.Errorf("%s request with X-Api-Key %q", method, k)
					}
				}
			}
			if len(es.keys["GET"]) != 1 || len(es.keys["POST"]) != 4 {
				t.Errorf("requests seen: %v", es.keys)
			}
			es.mu.Unlock()

			if err := conn.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Recv(ctx); err != transport.ErrConnClosed {
				t.Errorf("Recv after Close = %v", err)
			}
			if err := conn.Send(ctx, request(4, "ping", "")); err != transport.ErrConnClosed {
				t.Errorf("Send after Close = %v", err)
			}
			// Closing the stream ends the session on the server.
			deadline := time.Now().Add(clientWait)
			for n := countSessions(es.mcp); n > 0; n = countSessions(es.mcp) {
				if time.Now().After(deadline) {
					t.Fatalf("%d sessions left on the server after Close", n)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func countSessions(s *mcp.Server) int {
	n := 0
	for range s.Sessions() {
		n++
	}
	return n
}

// TestClientServerRequest answers a request the server sends while it
// serves a tool call.
func TestClientServerRequest(t *testing.T) {
	checkGoroutines(t)
	es := startEverything(t, false)
	conn := dial(t, es.srv.URL+"/sse", nil)
	initialize(t, conn)
	ctx := ctxT(t)
	if err := conn.Send(ctx, request(2, "tools/call", `{"name":"test_sampling","arguments":{"prompt":"hi"}}`)); err != nil {
		t.Fatal(err)
	}
	answered := false
	for {
		m, err := conn.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *jsonrpc.Request:
			if m.Method != "sampling/createMessage" || m.IsNotification() {
				continue
			}
			result := `{"role":"assistant","content":{"type":"text","text":"sampled over SSE"},"model":"m"}`
			if err := conn.Send(ctx, &jsonrpc.Response{ID: m.ID, Result: jsontext.Value(result)}); err != nil {
				t.Fatal(err)
			}
			answered = true
		case *jsonrpc.Response:
			if !answered || !bytes.Contains(m.Result, []byte("sampled over SSE")) {
				t.Fatalf("tool result: %s %v", m.Result, m.Error)
			}
			return
		}
	}
}

func TestClientConcurrentSend(t *testing.T) {
	checkGoroutines(t)
	es := startEverything(t, false)
	conn := dial(t, es.srv.URL+"/sse", nil)
	initialize(t, conn)
	ctx := ctxT(t)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := conn.Send(ctx, request(int64(100+i), "tools/call", echoParams(fmt.Sprint("m", i)))); err != nil {
				t.Error(err)
			}
		})
	}
	seen := map[int64]bool{}
	for len(seen) < n {
		m, err := conn.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		resp, ok := m.(*jsonrpc.Response)
		if !ok {
			continue
		}
		id, _ := resp.ID.Int64()
		if id < 100 || id >= 100+n || seen[id] {
			t.Fatalf("unexpected response %d", id)
		}
		seen[id] = true
		checkEcho(t, resp, fmt.Sprint("m", id-100))
	}
	wg.Wait()
}

// scripted is a raw HTTP server whose GET handler is a script, and which
// records the POSTs it gets.
type scripted struct {
	srv   *httptest.Server
	mu    sync.Mutex
	posts []*http.Request
	// postStatus and postBody answer POSTs (default 202, empty).
	postStatus int
	postBody   string
}

func startScripted(t *testing.T, get func(w http.ResponseWriter, r *http.Request)) *scripted {
	t.Helper()
	s := &scripted{postStatus: http.StatusAccepted}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			s.mu.Lock()
			s.posts = append(s.posts, r)
			status, respBody := s.postStatus, s.postBody
			s.mu.Unlock()
			w.WriteHeader(status)
			io.WriteString(w, respBody)
			return
		}
		get(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// sseStart writes the headers of an event stream.
func sseStart(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
}

func sseWrite(w http.ResponseWriter, raw string) {
	io.WriteString(w, raw)
	w.(http.Flusher).Flush()
}

// TestClientEndpointOrigin checks how endpoint events are resolved, and
// that endpoints on another origin are refused.
func TestClientEndpointOrigin(t *testing.T) {
	checkGoroutines(t)
	var endpoint string
	var mu sync.Mutex
	s := startScripted(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ep := endpoint
		mu.Unlock()
		sseStart(w)
		sseWrite(w, "event: endpoint\ndata: "+ep+"\n\n")
		<-r.Context().Done()
	})
	u, _ := url.Parse(s.srv.URL)
	port := u.Port()
	for _, tc := range []struct {
		data     string
		want     string // the endpoint, relative to the server; "" if refused
		session  string
		errMatch string
	}{
		{data: "/message?sessionId=abc", want: "/message?sessionId=abc", session: "abc"},
		{data: "message?sessionId=abc", want: "/mcp/message?sessionId=abc", session: "abc"},
		{data: "  /message?sessionId=spaces  ", want: "/message?sessionId=spaces", session: "spaces"},
		{data: s.srv.URL + "/messages/?session_id=py#frag", want: "/messages/?session_id=py", session: "py"},
		{data: "HTTP://127.0.0.1:" + port + "/x", want: "/x"},
		{data: "http://evil.example/message?sessionId=abc", errMatch: "another origin"},
		{data: "//evil.example/message", errMatch: "another origin"},
		{data: "https://127.0.0.1:" + port + "/message", errMatch: "another origin"},
		{data: "http://127.0.0.1:1/message", errMatch: "another origin"},
		{data: "http://localhost:" + port + "/message", errMatch: "another origin"},
		{data: "javascript:alert(1)", errMatch: "another origin"},
		{data: "", errMatch: "empty"},
		{data: "http://[::1", errMatch: "not a URL"},
	} {
		t.Run(tc.data, func(t *testing.T) {
			mu.Lock()
			endpoint = tc.data
			mu.Unlock()
			s.mu.Lock()
			s.posts = nil
			s.mu.Unlock()
			conn, err := sse.NewDialer(s.srv.URL+"/mcp/sse", &sse.ClientOptions{
				Header: http.Header{"Authorization": {"Bearer secret"}},
			}).Dial(ctxT(t))
			if tc.want == "" {
				if err == nil {
					conn.Close()
					t.Fatalf("Dial accepted the endpoint %q", tc.data)
				}
				if !strings.Contains(err.Error(), tc.errMatch) {
					t.Fatalf("Dial error %q, want it to mention %q", err, tc.errMatch)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			c := conn.(*sse.ClientConn)
			if got := c.Endpoint(); got != s.srv.URL+tc.want {
				t.Errorf("endpoint %q, want %q", got, s.srv.URL+tc.want)
			}
			if c.SessionID() != tc.session {
				t.Errorf("session id %q, want %q", c.SessionID(), tc.session)
			}
			if err := conn.Send(ctxT(t), &jsonrpc.Request{Method: "notifications/initialized"}); err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(s.posts) != 1 {
				t.Fatalf("%d POSTs", len(s.posts))
			}
			p := s.posts[0]
			body, _ := io.ReadAll(p.Body)
			if p.URL.RequestURI() != tc.want || p.Header.Get("Content-Type") != "application/json" ||
				p.Header.Get("Authorization") != "Bearer secret" || string(body) != `{"jsonrpc":"2.0","method":"notifications/initialized"}` {
				t.Errorf("POST %s %v %s", p.URL.RequestURI(), p.Header, body)
			}
		})
	}
}

// TestClientRedirects checks that the stream may be redirected within
// its origin but not to another one.
func TestClientRedirects(t *testing.T) {
	checkGoroutines(t)
	other := startScripted(t, func(w http.ResponseWriter, r *http.Request) {
		sseStart(w)
		sseWrite(w, "event: endpoint\ndata: /message?sessionId=other\n\n")
		<-r.Context().Done()
	})
	s := startScripted(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, "/new/sse", http.StatusTemporaryRedirect)
		case "/away":
			http.Redirect(w, r, other.srv.URL+"/sse", http.StatusTemporaryRedirect)
		case "/new/sse":
			sseStart(w)
			sseWrite(w, "event: endpoint\ndata: message?sessionId=new\n\n")
			<-r.Context().Done()
		}
	})
	conn := dial(t, s.srv.URL+"/old", nil)
	if conn.Endpoint() != s.srv.URL+"/new/message?sessionId=new" {
		t.Errorf("endpoint %q", conn.Endpoint())
	}
	conn.Close()
	_, err := sse.NewDialer(s.srv.URL+"/away", &sse.ClientOptions{Header: http.Header{"X-Api-Key": {"secret"}}}).Dial(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), "redirect to another origin") {
		t.Fatalf("Dial through a cross-origin redirect: %v", err)
	}
}

// TestClientDialErrors checks that Dial fails clearly and in time.
func TestClientDialErrors(t *testing.T) {
	checkGoroutines(t)
	s := startScripted(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/unauthorized":
			w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="x"`)
			http.Error(w, "who are you?", http.StatusUnauthorized)
		case "/gone":
			http.NotFound(w, r)
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html></html>")
		case "/short":
			sseStart(w)
			sseWrite(w, ": hello\n\nevent: message\ndata: {}\n\n")
		case "/silent":
			sseStart(w)
			<-r.Context().Done()
		case "/huge-endpoint":
			sseStart(w)
			sseWrite(w, "event: endpoint\ndata: /"+strings.Repeat("a", 2000)+"\n\n")
			<-r.Context().Done()
		}
	})
	for _, tc := range []struct {
		name, url string
		opts      sse.ClientOptions
		ctxTime   time.Duration
		check     func(t *testing.T, err error)
	}{
		{name: "unauthorized", url: s.srv.URL + "/unauthorized", check: func(t *testing.T, err error) {
			var he *transport.HTTPError
			if !errors.As(err, &he) || he.StatusCode != 401 || he.Body != "who are you?" ||
				!strings.Contains(http.Header(he.Header).Get("WWW-Authenticate"), "resource_metadata") {
				t.Fatalf("error %v, want an HTTPError 401", err)
			}
		}},
		{name: "not an event stream", url: s.srv.URL + "/html", check: wantErr("text/html")},
		{name: "stream ends first", url: s.srv.URL + "/short", check: func(t *testing.T, err error) {
			if !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "before the endpoint event") {
				t.Fatalf("error %v", err)
			}
		}},
		{name: "no endpoint in time", url: s.srv.URL + "/silent", opts: sse.ClientOptions{EndpointTimeout: 200 * time.Millisecond}, check: wantErr("timed out waiting for the endpoint")},
		{name: "context ends", url: s.srv.URL + "/silent", ctxTime: 200 * time.Millisecond, check: func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v, want DeadlineExceeded", err)
			}
		}},
		{name: "endpoint too large", url: s.srv.URL + "/huge-endpoint", opts: sse.ClientOptions{MaxMessageSize: 1000}, check: func(t *testing.T, err error) {
			if !errors.Is(err, isse.ErrEventTooLarge) {
				t.Fatalf("error %v", err)
			}
		}},
		{name: "empty answer", url: s.srv.URL + "/nothing-here", check: wantErr("not an SSE endpoint")}, // 200 with no body
		{name: "not found", url: s.srv.URL + "/gone", check: func(t *testing.T, err error) {
			var he *transport.HTTPError
			if !errors.As(err, &he) || he.StatusCode != 404 {
				t.Fatalf("error %v, want an HTTPError 404", err)
			}
		}},
		{name: "bad scheme", url: "ftp://127.0.0.1/sse", check: wantErr("http or https")},
		{name: "no host", url: "http:///sse", check: wantErr("http or https")},
		{name: "connection refused", url: "http://127.0.0.1:1/sse", check: wantErr("opening the stream")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			if tc.ctxTime > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTime)
				defer cancel()
			}
			start := time.Now()
			conn, err := sse.NewDialer(tc.url, &tc.opts).Dial(ctx)
			if err == nil {
				conn.Close()
				t.Fatal("Dial succeeded")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Dial took %v", d)
			}
			tc.check(t, err)
		})
	}
}

func wantErr(substr string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), substr) {
			t.Fatalf("error %v, want it to mention %q", err, substr)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestClientGarbageStream feeds the client a stream mixing valid
// messages with garbage; the valid messages arrive, the rest is skipped,
// and the end of the stream is reported.
func TestClientGarbageStream(t *testing.T) {
	checkGoroutines(t)
	s := startScripted(t, func(w http.ResponseWriter, r *http.Request) {
		sseStart(w)
		sseWrite(w, "\xEF\xBB\xBF: a comment first\n\nevent: endpoint\r\ndata: /message?sessionId=g\r\n\r\n")
		sseWrite(w, "data: not json\n\n")
		sseWrite(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"one\"}\n\n")
		sseWrite(w, ": keepalive\n\n")
		sseWrite(w, "event: other\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"ignored\"}\n\n")
		sseWrite(w, "id: 5\n\nretry: 10\n\n")
		sseWrite(w, "data: {\"jsonrpc\":\"2.0\",\ndata: \"method\":\"two\"}\n\n") // two data lines, one message
		sseWrite(w, "data: [{\"jsonrpc\":\"2.0\",\"method\":\"b1\"},{\"x\":1},{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}]\n\n")
		sseWrite(w, "event: endpoint\ndata: http://evil.example/\n\n")
		sseWrite(w, "\x00\xff\xfe garbage line\r\r\n\n")
		sseWrite(w, "data: {\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"bad id\"}\n\n")
		sseWrite(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"three\"}\n\n")
		sseWrite(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"cut off") // ends mid-event
	})
	var logs syncBuffer
	conn := dial(t, s.srv.URL+"/sse", &sse.ClientOptions{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if conn.SessionID() != "g" {
		t.Errorf("session id %q", conn.SessionID())
	}
	ctx := ctxT(t)
	var got []string
	var end error
	for end == nil {
		m, err := conn.Recv(ctx)
		switch m := m.(type) {
		case *jsonrpc.Request:
			got = append(got, m.Method)
		case *jsonrpc.Response:
			got = append(got, "response "+m.ID.String())
		}
		end = err
	}
	if want := []string{"one", "two", "b1", "response 9", "three"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(end, io.EOF) || !strings.Contains(end.Error(), "closed the stream") {
		t.Errorf("end of stream: %v", end)
	}
	if _, err := conn.Recv(ctx); err != end {
		t.Errorf("second Recv after the end = %v", err)
	}
	l := logs.String()
	if n := strings.Count(l, "invalid message skipped"); n != 3 {
		t.Errorf("%d invalid messages logged:\n%s", n, l)
	}
	if strings.Contains(l, "not json") || strings.Contains(l, "sessionId") {
		t.Errorf("message bodies or session ids logged:\n%s", l)
	}
}

// TestClientServerEnds checks Recv when the server ends the session.
func TestClientServerEnds(t *testing.T) {
	checkGoroutines(t)
	es := startEverything(t, false)
	conn := dial(t, es.srv.URL+"/sse", nil)
	initialize(t, conn)
	ctx := ctxT(t)
	recvErr := make(chan error, 1)
	go func() {
		_, err := conn.Recv(ctx)
		recvErr <- err
	}()
	es.h.Close()
	select {
	case err := <-recvErr:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("Recv = %v, want io.EOF", err)
		}
	case <-time.After(clientWait):
		t.Fatal("Recv still blocked after the server ended")
	}
	// The handler now refuses messages.
	err := conn.Send(ctx, request(2, "ping", ""))
	var he *transport.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("Send after the server closed = %v", err)
	}
	if strings.Contains(err.Error(), conn.SessionID()) {
		t.Errorf("the error shows the session id: %v", err)
	}
}

// TestClientSendErrors checks refusals and the failure to reach the
// endpoint.
func TestClientSendErrors(t *testing.T) {
	checkGoroutines(t)
	s := startScripted(t, func(w http.ResponseWriter, r *http.Request) {
		sseStart(w)
		sseWrite(w, "event: endpoint\ndata: /message?sessionId=secret-session\n\n")
		<-r.Context().Done()
	})
	conn := dial(t, s.srv.URL+"/sse", nil)
	ctx := ctxT(t)
	for _, tc := range []struct {
		status int
		body   string
		ok     bool
	}{
		{status: 202, ok: true},
		{status: 200, body: "fine", ok: true},
		{status: 204, ok: true},
		{status: 404, body: `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"unknown or expired session"}}`},
		{status: 400, body: strings.Repeat("e", 10000)},
		{status: 500},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			s.mu.Lock()
			s.postStatus, s.postBody = tc.status, tc.body
			s.mu.Unlock()
			err := conn.Send(ctx, request(1, "ping", ""))
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var he *transport.HTTPError
			if !errors.As(err, &he) || he.StatusCode != tc.status || len(he.Body) > 4096 || !strings.HasPrefix(tc.body, he.Body) {
				t.Fatalf("Send = %v, want an HTTPError %d", err, tc.status)
			}
			if strings.Contains(err.Error(), "secret-session") {
				t.Errorf("the error shows the session id: %v", err)
			}
		})
	}
	// The server going away makes Send fail without showing the session id.
	s.srv.CloseClientConnections()
	s.srv.Listener.Close()
	err := conn.Send(ctx, request(2, "ping", ""))
	if err == nil || strings.Contains(err.Error(), "secret-session") {
		t.Fatalf("Send to a server that is gone = %v", err)
	}
}

// TestClientOversizeMessage checks that an event over MaxMessageSize
// ends the connection with a clear error.
func TestClientOversizeMessage(t *testing.T) {
	checkGoroutines(t)
	s := startScripted(t, func(w http.ResponseWriter, r *http.Request) {
		sseStart(w)
		sseWrite(w, "event: endpoint\ndata: /message?sessionId=x\n\n")
		sseWrite(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"small\"}\n\n")
		sseWrite(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"big\",\"params\":{\"x\":\""+strings.Repeat("x", 5000)+"\"}}\n\n")
		<-r.Context().Done()
	})
	conn := dial(t, s.srv.URL+"/sse", &sse.ClientOptions{MaxMessageSize: 1000})
	ctx := ctxT(t)
	if m, err := conn.Recv(ctx); err != nil || m.(*jsonrpc.Request).Method != "small" {
		t.Fatalf("Recv = %v, %v", m, err)
	}
	if _, err := conn.Recv(ctx); !errors.Is(err, isse.ErrEventTooLarge) {
		t.Fatalf("Recv = %v, want ErrEventTooLarge", err)
	}
}

// TestClientCloseUnblocks checks that Close ends a pending Recv and a
// POST the server holds.
func TestClientCloseUnblocks(t *testing.T) {
	checkGoroutines(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			// Hold the POST until the client gives up.
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		sseStart(w)
		sseWrite(w, "event: endpoint\ndata: /hold\n\n")
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	defer close(release)
	conn := dial(t, srv.URL+"/sse", nil)
	ctx := ctxT(t)
	recvErr := make(chan error, 1)
	go func() {
		_, err := conn.Recv(ctx)
		recvErr <- err
	}()
	sendErr := make(chan error, 1)
	go func() { sendErr <- conn.Send(ctx, request(1, "ping", "")) }()
	time.Sleep(100 * time.Millisecond)

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := conn.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv with a short context = %v", err)
	}
	if err := conn.Send(short, request(2, "ping", "")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send with a short context = %v", err)
	}

	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan error{"Recv": recvErr, "Send": sendErr} {
		select {
		case err := <-ch:
			if err != transport.ErrConnClosed {
				t.Errorf("%s = %v, want ErrConnClosed", name, err)
			}
		case <-time.After(clientWait):
			t.Fatalf("%s still blocked after Close", name)
		}
	}
}

// TestClientHTTPTimeoutSparesStream checks that HTTPClient.Timeout
// bounds the POSTs but not the stream.
func TestClientHTTPTimeoutSparesStream(t *testing.T) {
	checkGoroutines(t)
	es := startEverything(t, false)
	client := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	conn := dial(t, es.srv.URL+"/sse", &sse.ClientOptions{HTTPClient: client})
	initialize(t, conn)
	time.Sleep(600 * time.Millisecond)
	if err := conn.Send(ctxT(t), request(2, "tools/call", echoParams("still here"))); err != nil {
		t.Fatal(err)
	}
	checkEcho(t, recvResponse(t, conn, 2), "still here")
}
