package streamable

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A POST carrying requests is answered with JSON or an SSE stream even
// when the requests end without a response, as a request the client
// cancelled does: never with an empty 202 (issue 10, finding 11).
func TestRequestWithoutResponseIsAnswered(t *testing.T) {
	const cancelled = `{"jsonrpc":"2.0","id":5,"method":"cancelled"}`
	tests := []struct {
		name    string
		version string
		mode    ResponseMode
		accept  string
		body    string
		wantSSE bool
		want    string // the JSON body
	}{
		{name: "adaptive", version: "2025-11-25", body: cancelled, wantSSE: true},
		{name: "adaptive without priming", version: "2025-06-18", body: cancelled, wantSSE: true},
		{name: "sse mode", version: "2025-11-25", mode: ResponseSSE, body: cancelled, wantSSE: true},
		{name: "json mode", version: "2025-11-25", mode: ResponseJSON, body: cancelled,
			want: `{"jsonrpc":"2.0","id":5,"error":{"code":-32603,"message":"request cancelled: no response"}}`},
		{name: "json-only client", version: "2025-11-25", accept: "application/json", body: cancelled,
			want: `{"jsonrpc":"2.0","id":5,"error":{"code":-32603,"message":"request cancelled: no response"}}`},
		{name: "json-only batch", version: "2025-03-26", accept: "application/json",
			body: `[{"jsonrpc":"2.0","id":1,"method":"cancelled"},{"jsonrpc":"2.0","id":2,"method":"echo"}]`,
			want: `[{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"request cancelled: no response"}},{"jsonrpc":"2.0","id":2,"result":{}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, &Options{ResponseMode: tt.mode})
			sid := e.initialize(tt.version)
			var hdr hdrs
			if tt.accept != "" {
				hdr = hdrs{"Accept": tt.accept}
			}
			resp := e.do(http.MethodPost, sid, tt.body, hdr)
			ct := resp.Header.Get("Content-Type")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d (Content-Type %q), want 200", resp.StatusCode, ct)
			}
			if tt.wantSSE {
				if ct != mediaSSE {
					t.Fatalf("Content-Type %q, want an SSE stream", ct)
				}
				// Nothing but, in SSE mode, the priming event sent before
				// the request ran.
				if evs := readEvents(t, resp); len(dataOf(evs)) != 0 || (tt.mode != ResponseSSE && len(evs) != 0) {
					t.Fatalf("events %+v, want none", evs)
				}
				return
			}
			if body := readBody(t, resp); ct != mediaJSON || body != tt.want {
				t.Fatalf("Content-Type %q body %s, want %s", ct, body, tt.want)
			}
		})
	}
}

// The same holds for stateless requests.
func TestStatelessRequestWithoutResponseIsAnswered(t *testing.T) {
	_, _, url := newStatelessServer(t, nil)
	r := postStateless(t, url, "none", modernParams(""), nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != mediaSSE || r.body != "" {
		t.Fatalf("adaptive: %d %q %q, want an empty SSE stream", r.status, r.header.Get("Content-Type"), r.body)
	}
	r = postStateless(t, url, "none", modernParams(""), func(h http.Header) { h.Set("Accept", "application/json") })
	if r.status != http.StatusOK || r.body != `{"jsonrpc":"2.0","id":7,"error":{"code":-32603,"message":"request cancelled: no response"}}` {
		t.Fatalf("JSON only: %d %s", r.status, r.body)
	}
}

// A protocol version header naming no revision the server speaks is
// refused with a 400 that names that header, whichever way the request
// would have been routed (issue 10, finding 11).
func TestBogusProtocolVersionHeader(t *testing.T) {
	_, _, url := newStatelessServer(t, nil)
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	post := func(url string, edit func(http.Header)) statelessReply {
		return postStatelessBody(t, url, `{"jsonrpc":"2.0","id":7,"method":"tools/list"}`, edit)
	}
	tests := []struct {
		name string
		do   func() statelessReply
		code string
	}{
		{"stateless handler, no Mcp-Method", func() statelessReply {
			return post(url, func(h http.Header) { h.Set(HeaderProtocolVersion, "bogus"); h.Del(HeaderMethod) })
		}, "-32022"},
		{"stateless handler, with Mcp-Method", func() statelessReply {
			return post(url, func(h http.Header) { h.Set(HeaderProtocolVersion, "bogus") })
		}, "-32022"},
		{"stateless handler, with a session id", func() statelessReply {
			return post(url, func(h http.Header) {
				h.Set(HeaderProtocolVersion, "bogus")
				h.Del(HeaderMethod)
				h.Set(HeaderSessionID, "whatever")
			})
		}, "-32022"},
		{"sessions only", func() statelessReply {
			return post(e.url, func(h http.Header) { h.Set(HeaderProtocolVersion, "bogus"); h.Set(HeaderSessionID, sid) })
		}, "-32600"},
		{"GET on the stateless handler", func() statelessReply {
			return getReply(t, url, func(h http.Header) { h.Set(HeaderProtocolVersion, "bogus") })
		}, "-32600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"code":`+tt.code) ||
				!strings.Contains(r.body, HeaderProtocolVersion+" header") || !strings.Contains(r.body, `bogus`) ||
				strings.Contains(r.body, HeaderMethod) {
				t.Fatalf("%d %s: want 400 with code %s naming the %s header and its value", r.status, r.body, tt.code, HeaderProtocolVersion)
			}
		})
	}
	// A request whose _meta names the same unknown revision gets the
	// protocol's answer, as before: -32022 with the supported revisions.
	r := postStatelessBody(t, url, `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01"}}}`,
		func(h http.Header) { h.Set(HeaderProtocolVersion, "2099-01-01") })
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"code":-32022`) || !strings.Contains(r.body, `"supported":["2026-07-28","2025-11-25"`) {
		t.Fatalf("unknown revision in header and _meta: %d %s", r.status, r.body)
	}
}

// postStatelessBody posts body with the headers of a stateless tools/list,
// edited by edit.
func postStatelessBody(t *testing.T, url, body string, edit func(http.Header)) statelessReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(HeaderProtocolVersion, modern)
	req.Header.Set(HeaderMethod, "tools/list")
	if edit != nil {
		edit(req.Header)
	}
	return doReply(t, req)
}

func getReply(t *testing.T, url string, edit func(http.Header)) statelessReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	edit(req.Header)
	return doReply(t, req)
}

func doReply(t *testing.T, req *http.Request) statelessReply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return statelessReply{resp.StatusCode, resp.Header, readBody(t, resp)}
}

// countingServer serves h on loopback and counts the ServeHTTP calls in
// progress.
func countingServer(t *testing.T, h http.Handler) (url string, active *atomic.Int32) {
	t.Helper()
	active = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Add(-1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL, active
}

// stalledPost sends a POST on a raw connection that then reads nothing,
// with a small receive buffer, so that a large response blocks the
// server's writes.
func stalledPost(t *testing.T, url string, hdr http.Header, body []byte) net.Conn {
	t.Helper()
	u, _ := neturl.Parse(url)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", u.Path, u.Host, len(body))
	for k, vs := range hdr {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	b.Write(body)
	go func() { _, _ = c.Write(b.Bytes()) }() // the server reads it all before answering
	return c
}

// A client that never reads a large JSON response releases the handler
// (and the response's buffer) within the write timeout (issue 10,
// finding 2). The response is larger than what loopback socket buffers
// absorb (at most 4 MiB by default on Linux).
func TestJSONResponseWriteDeadline(t *testing.T) {
	const size = 8 << 20
	params := `{"text":"` + strings.Repeat("a", size) + `"}`
	opts := &Options{WriteTimeout: 300 * time.Millisecond, MaxBodyBytes: 2 * size}
	for _, tt := range []struct {
		name string
		do   func(t *testing.T) (net.Conn, *atomic.Int32)
	}{
		{"session", func(t *testing.T) (net.Conn, *atomic.Int32) {
			h := NewHandler(newTestFactory(), opts)
			t.Cleanup(func() { h.Close() })
			url, active := countingServer(t, h)
			sid := initializeAt(t, url)
			return stalledPost(t, url+"/mcp", http.Header{
				HeaderSessionID: {sid}, "Accept": {"application/json"},
			}, []byte(`{"jsonrpc":"2.0","id":1,"method":"echo","params":`+params+`}`)), active
		}},
		{"stateless", func(t *testing.T) (net.Conn, *atomic.Int32) {
			h := NewHandler(newStatelessFactory(), opts)
			t.Cleanup(func() { h.Close() })
			url, active := countingServer(t, h)
			meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`
			return stalledPost(t, url+"/mcp", http.Header{
				HeaderProtocolVersion: {modern}, HeaderMethod: {"echo"}, "Accept": {"application/json"},
			}, []byte(`{"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"`+strings.Repeat("a", size)+`",`+meta+`}}`)), active
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, active := tt.do(t)
			deadline := time.Now().Add(10 * time.Second)
			for active.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			// Decoding, serving and encoding 8 MiB takes a while under the
			// race detector on a busy machine; without the write deadline
			// the handler never returns.
			start := time.Now()
			for active.Load() != 0 {
				if time.Since(start) > 15*time.Second {
					t.Fatalf("the handler is still writing to a client that does not read, %v after the request arrived", time.Since(start))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// initializeAt opens a session at url (+"/mcp") and returns its id.
func initializeAt(t *testing.T, url string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	sid := resp.Header.Get(HeaderSessionID)
	if sid == "" {
		t.Fatalf("initialize: %d, no session id", resp.StatusCode)
	}
	return sid
}

// Shutdown returns when its context ends even if a request handler ignores
// cancellation; Close then finishes in the background.
func TestShutdownIsBounded(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"stuck"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(HeaderSessionID, sid)
	go func() {
		if resp, err := e.srv.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, "the stuck request to start", func() bool { return e.f.running.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := e.h.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
	e.f.releaseAll()
	if err := e.h.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown = %v", err)
	}
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address src; the test is skipped where that address cannot be
// used.
func clientFrom(t *testing.T, src string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	if c, err := d.Dial("tcp", "127.0.0.1:1"); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
		t.Skipf("cannot connect from %s: %v", src, err)
	} else if c != nil {
		c.Close()
	}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// initializeWith opens a session with client c; it returns the session id
// ("" if refused) and the response.
func initializeWith(t *testing.T, c *http.Client, url string, hdr http.Header) (string, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		return "", resp
	}
	return resp.Header.Get(HeaderSessionID), resp
}

// One client flooding initialize cannot fill the session table: by default
// a client (an address) holds at most a tenth of MaxSessions, and its own
// oldest idle sessions make room for its new ones, so another client still
// gets a session (issue 10, finding 3).
func TestSessionFloodDoesNotLockOutOthers(t *testing.T) {
	e := newEnv(t, &Options{MaxSessions: 20})
	flooder, other := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	var sids []string
	for i := range 25 {
		sid, resp := initializeWith(t, flooder, e.url, nil)
		if sid == "" {
			t.Fatalf("flood initialize %d: %d (Retry-After %q)", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		sids = append(sids, sid)
	}
	if sid, resp := initializeWith(t, other, e.url, nil); sid == "" {
		t.Fatalf("second client locked out: %d", resp.StatusCode)
	}
	if n := e.h.SessionCount(); n != 3 {
		t.Fatalf("%d sessions, want the flooder's 2 and the other client's 1", n)
	}
	// The flooder's newest sessions are the ones left.
	for i, sid := range sids {
		resp := e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"echo"}`)
		readBody(t, resp)
		if want := i >= len(sids)-2; (resp.StatusCode == http.StatusOK) != want {
			t.Errorf("session %d: %d, live %v", i, resp.StatusCode, want)
		}
	}
}

// The per-client session limit: a client at its limit loses its own
// session idle the longest; busy sessions are kept (429 when all are
// busy); other clients are untouched; the global limit still answers 503.
func TestSessionsPerClient(t *testing.T) {
	e := newEnv(t, &Options{MaxSessions: 5, MaxSessionsPerClient: 3,
		ClientKey: func(r *http.Request) string { return r.Header.Get("X-Client") }})
	c := e.srv.Client()
	as := func(client string) http.Header { return http.Header{"X-Client": {client}} }
	open := func(client string) string {
		t.Helper()
		sid, resp := initializeWith(t, c, e.url, as(client))
		if sid == "" {
			t.Fatalf("initialize for %s: %d", client, resp.StatusCode)
		}
		return sid
	}
	alive := func(sid string) bool {
		resp := e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"echo"}`)
		readBody(t, resp)
		return resp.StatusCode == http.StatusOK
	}
	a1, a2, a3 := open("a"), open("a"), open("a")
	b1 := open("b")
	time.Sleep(2 * time.Millisecond)
	alive(a1) // a2 is now a's session idle the longest
	a4 := open("a")
	if alive(a2) || !alive(a1) || !alive(a3) || !alive(a4) || !alive(b1) {
		t.Fatalf("after a's fourth session: a1 %v a2 %v a3 %v a4 %v b1 %v; want only a2 ended",
			alive(a1), alive(a2), alive(a3), alive(a4), alive(b1))
	}
	// Busy sessions are not ended: with a request in flight on each of a's
	// sessions, a fifth initialize is refused.
	var wg sync.WaitGroup
	for _, sid := range []string{a1, a3, a4} {
		wg.Go(func() { readBody(t, e.post(sid, `{"jsonrpc":"2.0","id":2,"method":"block"}`)) })
	}
	waitFor(t, "three blocked requests", func() bool { return e.f.running.Load() == 3 })
	sid, resp := initializeWith(t, c, e.url, as("a"))
	if sid != "" || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("initialize with every session busy: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.f.releaseAll()
	wg.Wait()
	// The global limit: a (3) + b (1) + c (1) fill it.
	open("c")
	sid, resp = initializeWith(t, c, e.url, as("d"))
	if sid != "" || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("initialize beyond MaxSessions: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Ending sessions frees their client's places.
	for _, sid := range []string{a1, a3, a4} {
		readBody(t, e.do(http.MethodDelete, sid, "", nil))
	}
	e.h.mu.RLock()
	_, tracked := e.h.clients["a"]
	e.h.mu.RUnlock()
	if tracked {
		t.Error("client a is still tracked after its sessions ended")
	}
	open("d")
}

// postAsync sends a POST in a goroutine and reports its status (0 on a
// transport error) and body on the returned channel.
func postAsync(c *http.Client, url, sid, body string, hdr http.Header) <-chan reply {
	out := make(chan reply, 1)
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(HeaderSessionID, sid)
	for k, v := range hdr {
		req.Header[k] = v
	}
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			out <- reply{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		out <- reply{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
	}()
	return out
}

type reply struct {
	status int
	header http.Header
	body   string
	err    error
}

// The request beyond a full session does not wait silently: after a short
// wait it is refused with 429, Retry-After and a JSON-RPC error carrying
// its id (issue 10, finding 4).
func TestFullSessionRefuses(t *testing.T) {
	e := newEnv(t, &Options{MaxInFlightPerSession: 2})
	sid := e.initialize("2025-11-25")
	c := &http.Client{Timeout: 5 * time.Second}
	blocked := []<-chan reply{
		postAsync(c, e.url, sid, `{"jsonrpc":"2.0","id":1,"method":"block"}`, nil),
		postAsync(c, e.url, sid, `{"jsonrpc":"2.0","id":2,"method":"block"}`, nil),
	}
	waitFor(t, "two blocked requests", func() bool { return e.f.running.Load() == 2 })
	start := time.Now()
	r := <-postAsync(c, e.url, sid, `{"jsonrpc":"2.0","id":3,"method":"echo"}`, nil)
	if r.err != nil {
		t.Fatalf("the third request: %v after %v", r.err, time.Since(start))
	}
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, `"id":3`) {
		t.Fatalf("the third request: %d, Retry-After %q, body %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("refused after %v", d)
	}
	e.f.releaseAll()
	for _, ch := range blocked {
		if r := <-ch; r.status != http.StatusOK {
			t.Errorf("blocked request: %d %v", r.status, r.err)
		}
	}
}

// One client cannot have more than MaxInFlightPerClient requests in
// flight (default 256), however many sessions it opens; beyond that it
// gets 429 at once (issue 10, finding 4).
func TestInFlightPerClientBound(t *testing.T) {
	e := newEnv(t, nil)
	c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 400}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	var sids []string
	for range 5 { // 5 × 64 = 320 request slots
		sids = append(sids, e.initialize("2025-11-25"))
	}
	var replies []<-chan reply
	for i := range 256 {
		replies = append(replies, postAsync(c, e.url, sids[i%5], fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"block"}`, i), nil))
	}
	waitFor(t, "256 blocked requests", func() bool { return e.f.running.Load() == 256 })
	r := <-postAsync(c, e.url, sids[0], `{"jsonrpc":"2.0","id":"x","method":"echo"}`, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, `"id":"x"`) {
		t.Errorf("request 257: %d %v, Retry-After %q, %s", r.status, r.err, r.header.Get("Retry-After"), r.body)
	}
	if n := e.f.running.Load(); n != 256 {
		t.Errorf("%d requests running", n)
	}
	e.f.releaseAll()
	for _, ch := range replies {
		<-ch
	}
}

// The work of a client that disconnected from a POST it cannot resume
// (a plain JSON answer, or an SSE stream that gave it no event id yet) is
// cancelled (issue 10, finding 4).
func TestDisconnectedRequestCancelled(t *testing.T) {
	for _, accept := range []string{"application/json", "application/json, text/event-stream"} {
		t.Run(accept, func(t *testing.T) {
			e := newEnv(t, nil)
			sid := e.initialize("2025-11-25")
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"block"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", accept)
				req.Header.Set(HeaderSessionID, sid)
				if resp, err := e.srv.Client().Do(req); err == nil {
					resp.Body.Close()
				}
			}()
			waitFor(t, "the request to start", func() bool { return e.f.running.Load() == 1 })
			cancel() // within the JSON response window: no event id sent
			<-done
			waitFor(t, "the request to be cancelled", func() bool { return e.f.running.Load() == 0 })
		})
	}
}

// Stateless requests count against the per-client bound too.
func TestStatelessInFlightPerClientBound(t *testing.T) {
	f, _, url := newStatelessServer(t, nil)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 400}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for i := range 256 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"block","params":%s}`, i, modernParams(""))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderProtocolVersion, modern)
		req.Header.Set(HeaderMethod, "block")
		wg.Go(func() {
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	for range 256 {
		select {
		case <-f.started:
		case <-time.After(10 * time.Second):
			t.Fatal("the blocked requests did not start")
		}
	}
	r := postStateless(t, url, "echo", modernParams(""), nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("request 257: %d, Retry-After %q, %s", r.status, r.header.Get("Retry-After"), r.body)
	}
}

// The requests of a stream whose client left while able to resume it run
// for ResumeWindow at most unless a client resumes the stream.
func TestResumeWindow(t *testing.T) {
	for _, resume := range []bool{false, true} {
		t.Run(fmt.Sprint("resume=", resume), func(t *testing.T) {
			e := newEnv(t, &Options{ResumeWindow: 300 * time.Millisecond})
			sid := e.initialize("2025-11-25")
			ctx, cancel := context.WithCancel(context.Background())
			resp := e.doCtx(ctx, http.MethodPost, sid, `{"jsonrpc":"2.0","id":1,"method":"block"}`, nil)
			ev, err := newEventReader(resp.Body).Next()
			if err != nil || ev.ID == "" {
				t.Fatalf("priming event %+v, %v", ev, err)
			}
			waitFor(t, "the request to start", func() bool { return e.f.running.Load() == 1 })
			cancel()
			resp.Body.Close()
			if !resume {
				start := time.Now()
				waitFor(t, "the request to be cancelled", func() bool { return e.f.running.Load() == 0 })
				if d := time.Since(start); d < 150*time.Millisecond {
					t.Errorf("cancelled after %v, before the window", d)
				}
				return
			}
			get := e.do(http.MethodGet, sid, "", hdrs{"Last-Event-ID": ev.ID})
			time.Sleep(600 * time.Millisecond) // twice the window
			if e.f.running.Load() != 1 {
				t.Fatal("a resumed stream's request was cancelled")
			}
			e.f.releaseAll()
			if d := dataOf(readEvents(t, get)); len(d) != 1 || !strings.Contains(d[0], `"released"`) {
				t.Fatalf("resumed stream: %q", d)
			}
		})
	}
}
