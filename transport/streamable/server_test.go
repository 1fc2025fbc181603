package streamable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

const echoReq = `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":1}}`

func TestPostStatus(t *testing.T) {
	e := newEnv(t, &Options{MaxBodyBytes: 1024})
	sid := e.initialize("2025-11-25")
	sid0326 := e.initialize("2025-03-26")
	tests := []struct {
		name     string
		sid      string
		body     string
		hdr      hdrs
		want     int
		wantCode int64  // JSON-RPC error code in the body, 0 for none
		wantID   string // id in the error body
		wantMsg  string // substring of the error message
	}{
		{name: "json response", sid: sid, body: echoReq, want: 200},
		{name: "content type with params", sid: sid, body: echoReq, hdr: hdrs{"Content-Type": "Application/JSON; charset=utf-8"}, want: 200},
		{name: "no content type", sid: sid, body: echoReq, hdr: hdrs{"Content-Type": ""}, want: 415, wantCode: -32600},
		{name: "wrong content type", sid: sid, body: echoReq, hdr: hdrs{"Content-Type": "text/plain"}, want: 415, wantCode: -32600},
		{name: "accept neither", sid: sid, body: echoReq, hdr: hdrs{"Accept": "text/html"}, want: 406, wantCode: -32600},
		{name: "accept q=0", sid: sid, body: echoReq, hdr: hdrs{"Accept": "application/json;q=0, text/event-stream;q=0"}, want: 406},
		{name: "no accept", sid: sid, body: echoReq, hdr: hdrs{"Accept": ""}, want: 200},
		{name: "accept wildcard", sid: sid, body: echoReq, hdr: hdrs{"Accept": "*/*"}, want: 200},
		{name: "unsupported version header", sid: sid, body: echoReq, hdr: hdrs{HeaderProtocolVersion: "1999-01-01"}, want: 400,
			wantCode: -32600, wantMsg: "2025-11-25, 2025-06-18, 2025-03-26"},
		{name: "version header other than negotiated", sid: sid, body: echoReq, hdr: hdrs{HeaderProtocolVersion: "2025-03-26"}, want: 200},
		{name: "malformed json", sid: sid, body: `{"jsonrpc":`, want: 400, wantCode: -32700, wantID: "null"},
		{name: "not a message", sid: sid, body: `{"jsonrpc":"1.0","id":5,"method":"echo"}`, want: 400, wantCode: -32600, wantID: "5"},
		{name: "empty body", sid: sid, body: ``, want: 400, wantCode: -32700},
		{name: "too large", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":"` + strings.Repeat("a", 2000) + `"}}`, want: 413, wantCode: -32600},
		{name: "initialize with session", sid: sid, body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`, want: 400, wantMsg: HeaderSessionID},
		{name: "missing session", body: echoReq, want: 400, wantMsg: "missing " + HeaderSessionID},
		{name: "unknown session", sid: "no-such-session", body: echoReq, want: 404},
		{name: "hostile session id", sid: strings.Repeat("x", 1000), body: echoReq, want: 404},
		{name: "notification", sid: sid, body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, want: 202},
		{name: "response", sid: sid, body: `{"jsonrpc":"2.0","id":"x","result":{}}`, want: 202},
		{name: "batch on 2025-11-25", sid: sid, body: `[` + echoReq + `]`, want: 400, wantCode: -32600, wantMsg: "batch"},
		{name: "batch on 2025-03-26", sid: sid0326, body: `[` + echoReq + `]`, want: 200},
		{name: "batch with invalid member", sid: sid0326, body: `[` + echoReq + `,{"jsonrpc":"2.0","id":7}]`, want: 400, wantCode: -32600, wantID: "7"},
		{name: "empty batch", sid: sid0326, body: `[]`, want: 400, wantCode: -32600},
		{name: "initialize in batch", body: `[{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}]`, want: 400, wantMsg: "batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do(http.MethodPost, tt.sid, tt.body, tt.hdr)
			body := readBody(t, resp)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == 202 && body != "" {
				t.Errorf("202 with body %q", body)
			}
			if tt.want >= 400 {
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("error Content-Type = %q", ct)
				}
				code, id, msg := rpcError(t, body)
				if tt.wantCode != 0 && code != tt.wantCode {
					t.Errorf("error code = %d, want %d (%s)", code, tt.wantCode, msg)
				}
				if tt.wantID != "" && id != tt.wantID {
					t.Errorf("error id = %s, want %s", id, tt.wantID)
				}
				if !strings.Contains(msg, tt.wantMsg) {
					t.Errorf("error message %q does not mention %q", msg, tt.wantMsg)
				}
			}
		})
	}
}

func TestOtherMethods(t *testing.T) {
	e := newEnv(t, nil)
	for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodOptions} {
		resp := e.do(m, "", "", nil)
		readBody(t, resp)
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, POST, DELETE" {
			t.Errorf("%s: status %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

func TestGetStatus(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	tests := []struct {
		name string
		sid  string
		hdr  hdrs
		want int
	}{
		{name: "no sse in accept", sid: sid, hdr: hdrs{"Accept": "application/json"}, want: 406},
		{name: "missing session", want: 400},
		{name: "unknown session", sid: "nope", want: 404},
		{name: "unsupported version", sid: sid, hdr: hdrs{HeaderProtocolVersion: "2020-01-01"}, want: 400},
		{name: "last event id too long", sid: sid, hdr: hdrs{"Last-Event-ID": strings.Repeat("1", 300) + "-1"}, want: 400},
		{name: "unknown last event id", sid: sid, hdr: hdrs{"Last-Event-ID": "5-77"}, want: 400},
		{name: "garbage last event id", sid: sid, hdr: hdrs{"Last-Event-ID": "garbage"}, want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do(http.MethodGet, tt.sid, "", tt.hdr)
			body := readBody(t, resp)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			rpcError(t, body)
		})
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	s := e.f.session(sid)

	for _, tt := range []struct {
		name string
		sid  string
		want int
	}{
		{"missing", "", 400},
		{"unknown", "nope", 404},
		{"valid", sid, 200},
		{"again", sid, 404},
	} {
		resp := e.do(http.MethodDelete, tt.sid, "", nil)
		readBody(t, resp)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: DELETE status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if s.closes.Load() == 0 {
		t.Error("DELETE did not close the session")
	}
	if n := e.h.SessionCount(); n != 0 {
		t.Errorf("SessionCount = %d after DELETE", n)
	}
	resp := e.post(sid, echoReq)
	readBody(t, resp)
	if resp.StatusCode != 404 {
		t.Errorf("POST after DELETE: %d, want 404", resp.StatusCode)
	}
}

func TestInitialize(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-06-18")
	if len(sid) < 22 {
		t.Errorf("session id %q is too short to be unguessable", sid)
	}
	for _, c := range []byte(sid) {
		if c < 0x21 || c > 0x7e {
			t.Fatalf("session id %q has a non-visible character", sid)
		}
	}
	if sid2 := e.initialize("2025-06-18"); sid2 == sid {
		t.Fatal("two sessions got the same id")
	}
	if got := e.f.session(sid).ProtocolVersion(); got != "2025-06-18" {
		t.Errorf("negotiated %q", got)
	}
	if host := e.f.session(sid).initHost; host == "" {
		t.Error("NewSession's context carried no RequestInfo")
	}

	// A failed initialization leaves no session behind.
	resp := e.post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"fail"}}`)
	body := readBody(t, resp)
	if resp.Header.Get(HeaderSessionID) != "" {
		t.Errorf("failed initialize returned session id; body %s", body)
	}
	if code, _, _ := rpcError(t, body); code != -32603 {
		t.Errorf("failed initialize body %s", body)
	}
	waitFor(t, "failed session to end", func() bool { return e.h.SessionCount() == 2 })
}

func TestNotificationsAndResponsesDelivered(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	resp := e.post(sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	readBody(t, resp)
	if resp.StatusCode != 202 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := e.f.session(sid).notifications(); len(got) != 1 || got[0] != "notifications/initialized" {
		t.Fatalf("notifications = %v", got)
	}
}

func TestAdaptiveJSON(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	resp := e.post(sid, echoReq)
	body := readBody(t, resp)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	if want := `{"jsonrpc":"2.0","id":1,"result":{"x":1}}`; body != want {
		t.Fatalf("body %s, want %s", body, want)
	}
}

// readEvents reads a whole SSE response.
func readEvents(t *testing.T, resp *http.Response) []sseEvent {
	t.Helper()
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q, want text/event-stream", ct)
	}
	var evs []sseEvent
	r := newEventReader(resp.Body)
	for {
		ev, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("reading events: %v", err)
			}
			return evs
		}
		evs = append(evs, ev)
	}
}

// dataOf lists the non-empty data of events.
func dataOf(evs []sseEvent) []string {
	var out []string
	for _, ev := range evs {
		if ev.Data != "" {
			out = append(out, ev.Data)
		}
	}
	return out
}

func TestAdaptiveSSEAndPriming(t *testing.T) {
	tests := []struct {
		version     string
		wantPriming bool
	}{
		{"2025-03-26", false},
		{"2025-06-18", false},
		{"2025-11-25", true},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			e := newEnv(t, &Options{RetryInterval: 1500 * time.Millisecond})
			sid := e.initialize(tt.version)
			resp := e.post(sid, `{"jsonrpc":"2.0","id":9,"method":"slow","params":{"steps":3,"delayMs":1}}`)
			evs := readEvents(t, resp)
			want := []string{string(progress(0)), string(progress(1)), string(progress(2)), `{"jsonrpc":"2.0","id":9,"result":{"steps":3}}`}
			if got := dataOf(evs); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("data = %q\nwant %q", got, want)
			}
			primed := evs[0].Data == "" && evs[0].ID != ""
			if primed != tt.wantPriming {
				t.Fatalf("priming event = %v, want %v (first event %+v)", primed, tt.wantPriming, evs[0])
			}
			if primed && (!evs[0].HasRetry || evs[0].Retry != 1500) {
				t.Errorf("priming event without retry 1500: %+v", evs[0])
			}
			ids := map[string]bool{}
			for _, ev := range evs {
				if ev.ID == "" || ids[ev.ID] {
					t.Fatalf("event id %q missing or repeated in %+v", ev.ID, evs)
				}
				ids[ev.ID] = true
			}
		})
	}
}

func TestSlowRequestSwitchesToSSE(t *testing.T) {
	e := newEnv(t, &Options{JSONResponseWindow: 20 * time.Millisecond})
	sid := e.initialize("2025-11-25")
	evs := readEvents(t, e.post(sid, `{"jsonrpc":"2.0","id":2,"method":"sleep","params":{"ms":150}}`))
	if len(evs) != 2 || evs[0].Data != "" || evs[1].Data != `{"jsonrpc":"2.0","id":2,"result":"slept"}` {
		t.Fatalf("events %+v, want priming then the response", evs)
	}
}

func TestResponseModes(t *testing.T) {
	const slow = `{"jsonrpc":"2.0","id":3,"method":"slow","params":{"steps":2,"delayMs":1}}`
	tests := []struct {
		name     string
		mode     ResponseMode
		accept   string
		body     string
		wantSSE  bool
		sendErrs int32
	}{
		{name: "adaptive fast", mode: ResponseAdaptive, body: echoReq, wantSSE: false},
		{name: "adaptive progress", mode: ResponseAdaptive, body: slow, wantSSE: true},
		{name: "json mode drops progress", mode: ResponseJSON, body: slow, wantSSE: false, sendErrs: 2},
		{name: "sse mode", mode: ResponseSSE, body: echoReq, wantSSE: true},
		{name: "json-only client", mode: ResponseAdaptive, accept: "application/json", body: slow, wantSSE: false, sendErrs: 2},
		{name: "json-only client in sse mode", mode: ResponseSSE, accept: "application/json", body: echoReq, wantSSE: false},
		{name: "sse-only client", mode: ResponseAdaptive, accept: "text/event-stream", body: echoReq, wantSSE: true},
		{name: "sse-only client in json mode", mode: ResponseJSON, accept: "text/event-stream", body: echoReq, wantSSE: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, &Options{ResponseMode: tt.mode})
			sid := e.initialize("2025-11-25")
			var hdr hdrs
			if tt.accept != "" {
				hdr = hdrs{"Accept": tt.accept}
			}
			resp := e.do(http.MethodPost, sid, tt.body, hdr)
			if tt.wantSSE {
				evs := readEvents(t, resp)
				if d := dataOf(evs); len(d) == 0 || !strings.Contains(d[len(d)-1], `"result"`) {
					t.Fatalf("SSE without final response: %+v", evs)
				}
			} else {
				body := readBody(t, resp)
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" || !strings.Contains(body, `"result"`) {
					t.Fatalf("Content-Type %q body %s, want JSON response", ct, body)
				}
			}
			if got := e.f.sendErrs.Load(); got != tt.sendErrs {
				t.Errorf("failed Sends = %d, want %d", got, tt.sendErrs)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-03-26")
	body := `[{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1}},` +
		`{"jsonrpc":"2.0","method":"notifications/initialized"},` +
		`{"jsonrpc":"2.0","id":"two","method":"echo","params":{"b":2}}]`
	resp := e.post(sid, body)
	got := readBody(t, resp)
	want := `[{"jsonrpc":"2.0","id":1,"result":{"a":1}},{"jsonrpc":"2.0","id":"two","result":{"b":2}}]`
	if got != want {
		t.Fatalf("batch response %s\nwant %s", got, want)
	}
	if n := e.f.session(sid).notifications(); len(n) != 1 {
		t.Fatalf("notifications in batch: %v", n)
	}
	// A batch of notifications only is accepted without a body.
	resp = e.post(sid, `[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"b"}]`)
	if b := readBody(t, resp); resp.StatusCode != 202 || b != "" {
		t.Fatalf("notification batch: %d %s", resp.StatusCode, b)
	}
	// A batch whose members stream switches to SSE and carries all
	// responses.
	resp = e.post(sid, `[{"jsonrpc":"2.0","id":1,"method":"echo"},{"jsonrpc":"2.0","id":2,"method":"slow","params":{"steps":1,"delayMs":1}}]`)
	d := dataOf(readEvents(t, resp))
	// The two requests run concurrently, so their responses may come in
	// either order; both must be there.
	all := strings.Join(d, " ")
	if len(d) != 3 || !strings.Contains(all, `"id":1,"result"`) || !strings.Contains(all, `"id":2,"result"`) {
		t.Fatalf("streamed batch: %q", d)
	}
}

func TestPanicAndNoResponse(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	resp := e.post(sid, `{"jsonrpc":"2.0","id":4,"method":"panic"}`)
	if code, id, _ := rpcError(t, readBody(t, resp)); code != -32603 || id != "4" {
		t.Fatalf("panic answered with code %d id %s", code, id)
	}
	// A request without a response still gets a stream, an empty one (see
	// TestRequestWithoutResponseIsAnswered).
	resp = e.post(sid, `{"jsonrpc":"2.0","id":5,"method":"cancelled"}`)
	if b := readBody(t, resp); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != mediaSSE || b != "" {
		t.Fatalf("no-response request answered %d %q", resp.StatusCode, b)
	}
}

func TestRequestContext(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	resp := e.do(http.MethodPost, sid, `{"jsonrpc":"2.0","id":1,"method":"info"}`, hdrs{"X-Test": "hello"})
	var r struct {
		Result struct {
			Header string `json:"header"`
			Value  string `json:"value"`
			Host   string `json:"host"`
			Cause  string `json:"cause"`
			Remote bool   `json:"remote"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(readBody(t, resp)), &r); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.url)
	if r.Result.Header != "hello" || r.Result.Value != "from-middleware" || !r.Result.Remote || r.Result.Host != u.Host || r.Result.Cause != "<nil>" {
		t.Fatalf("request context: %+v", r.Result)
	}
}

// A client disconnecting from a stream it can resume (it got the priming
// event's id) does not cancel its request; ending the session does. (A
// client that cannot resume does: TestDisconnectedRequestCancelled.)
func TestDisconnectIsNotCancellation(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	ctx, cancel := context.WithCancel(context.Background())
	resp := e.doCtx(ctx, http.MethodPost, sid, `{"jsonrpc":"2.0","id":1,"method":"block"}`, nil)
	if ev, err := newEventReader(resp.Body).Next(); err != nil || ev.ID == "" {
		t.Fatalf("priming event %+v, %v", ev, err)
	}
	waitFor(t, "handler to start", func() bool { return e.f.running.Load() == 1 })
	cancel()
	resp.Body.Close()
	time.Sleep(50 * time.Millisecond)
	if e.f.running.Load() != 1 {
		t.Fatal("the request was cancelled by the client's disconnection")
	}
	readBody(t, e.do(http.MethodDelete, sid, "", nil))
	waitFor(t, "handler to be cancelled by DELETE", func() bool { return e.f.running.Load() == 0 })
}

func TestCloseStreamAndResume(t *testing.T) {
	for _, order := range []string{"resume-while-running", "resume-after-completion"} {
		t.Run(order, func(t *testing.T) {
			e := newEnv(t, nil)
			sid := e.initialize("2025-11-25")
			resp := e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"close-stream","params":{"retry":250}}`)
			evs := readEvents(t, resp)
			// priming, "before", then a retry field and the end.
			if len(evs) != 3 || evs[0].Data != "" || evs[1].Data != string(progress("before")) || !evs[2].HasRetry || evs[2].Retry != 250 {
				t.Fatalf("POST stream: %+v", evs)
			}
			last := evs[1].ID

			if order == "resume-after-completion" {
				e.f.openGate()
				waitFor(t, "tool to finish", func() bool { return e.f.finished.Load() == 2 })
			} else {
				go func() {
					time.Sleep(50 * time.Millisecond)
					e.f.openGate()
				}()
			}
			resp = e.do(http.MethodGet, sid, "", hdrs{"Last-Event-ID": last})
			got := readEvents(t, resp)
			want := []string{string(progress("after")), `{"jsonrpc":"2.0","id":1,"result":"reconnected"}`}
			if d := dataOf(got); fmt.Sprint(d) != fmt.Sprint(want) {
				t.Fatalf("resumed stream data %q, want %q", d, want)
			}
			for _, ev := range got {
				if ev.Data != "" && (ev.ID == "" || ev.ID == last || ev.ID == evs[0].ID) {
					t.Fatalf("resumed event with bad id: %+v", ev)
				}
			}
			// Resuming from the priming event replays everything.
			resp = e.do(http.MethodGet, sid, "", hdrs{"Last-Event-ID": evs[0].ID})
			want = append([]string{string(progress("before"))}, want...)
			if d := dataOf(readEvents(t, resp)); fmt.Sprint(d) != fmt.Sprint(want) {
				t.Fatalf("replay from priming %q, want %q", d, want)
			}
		})
	}
}

// CloseStream on a session older than 2025-11-25 has no priming event to
// resume from, so it is ignored and the response comes on the POST.
func TestCloseStreamIgnoredWithoutPriming(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-06-18")
	go func() {
		time.Sleep(50 * time.Millisecond)
		e.f.openGate()
	}()
	resp := e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"close-stream"}`)
	d := dataOf(readEvents(t, resp))
	if len(d) != 3 || !strings.Contains(d[2], `"reconnected"`) {
		t.Fatalf("events %q", d)
	}
}

func TestResumeAfterDisconnect(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	const steps = 6
	ctx, cancel := context.WithCancel(context.Background())
	resp := e.doCtx(ctx, http.MethodPost, sid, fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"slow","params":{"steps":%d,"delayMs":40}}`, steps), nil)
	r := newEventReader(resp.Body)
	var seen []sseEvent
	for len(seen) < 3 { // priming and two progress events
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ev)
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "request to finish", func() bool { return e.f.finished.Load() == 2 })

	resp = e.do(http.MethodGet, sid, "", hdrs{"Last-Event-ID": seen[2].ID})
	rest := readEvents(t, resp)
	all := append(dataOf(seen), dataOf(rest)...)
	var want []string
	for i := range steps {
		want = append(want, string(progress(i)))
	}
	want = append(want, `{"jsonrpc":"2.0","id":1,"result":{"steps":6}}`)
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Fatalf("events across the reconnection:\n%q\nwant\n%q", all, want)
	}
}

func TestStandaloneStream(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	const note = `{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`

	// Sent before any GET: stored, delivered to the first GET.
	readBody(t, e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"notify"}`))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	get := e.doCtx(ctx, http.MethodGet, sid, "", nil)
	if get.StatusCode != 200 || get.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET: %d %s", get.StatusCode, get.Header.Get("Content-Type"))
	}
	r := newEventReader(get.Body)
	ev, err := r.Next()
	if err != nil || ev.Data != note || ev.ID == "" {
		t.Fatalf("first standalone event %+v, %v", ev, err)
	}
	// Sent while the GET is open: delivered live, on it only.
	resp := e.post(sid, `{"jsonrpc":"2.0","id":2,"method":"notify"}`)
	if b := readBody(t, resp); strings.Contains(b, "list_changed") {
		t.Fatalf("standalone message on the POST response: %s", b)
	}
	ev2, err := r.Next()
	if err != nil || ev2.Data != note || ev2.ID == ev.ID {
		t.Fatalf("live standalone event %+v, %v", ev2, err)
	}

	// A second GET replaces the first, whose response ends.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	get2 := e.doCtx(ctx2, http.MethodGet, sid, "", nil)
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("first GET after replacement: %v, want EOF", err)
	}
	get.Body.Close()
	r2 := newEventReader(get2.Body)
	priming, err := r2.Next()
	if err != nil || priming.Data != "" || priming.ID == "" {
		t.Fatalf("second GET's priming event %+v, %v", priming, err)
	}
	readBody(t, e.post(sid, `{"jsonrpc":"2.0","id":3,"method":"notify"}`))
	ev3, err := r2.Next()
	if err != nil || ev3.Data != note {
		t.Fatalf("event on second GET %+v, %v", ev3, err)
	}
	cancel2()
	get2.Body.Close()

	// Resuming the standalone stream replays what came after.
	e.h.mu.RLock()
	ss := e.h.sessions[sid]
	e.h.mu.RUnlock()
	waitFor(t, "GET to detach", func() bool {
		st := ss.standaloneStream()
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.conn == nil
	})
	readBody(t, e.post(sid, `{"jsonrpc":"2.0","id":4,"method":"notify"}`))
	ctx3, cancel3 := context.WithCancel(context.Background())
	defer cancel3()
	get3 := e.doCtx(ctx3, http.MethodGet, sid, "", hdrs{"Last-Event-ID": priming.ID})
	r3 := newEventReader(get3.Body)
	for i := range 2 {
		ev, err := r3.Next()
		if err != nil || ev.Data != note {
			t.Fatalf("resumed standalone event %d: %+v, %v", i, ev, err)
		}
	}
	cancel3()
	get3.Body.Close()
}

func TestServerToClientRequest(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	resp := e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"ask"}`)
	r := newEventReader(resp.Body)
	defer resp.Body.Close()
	var ask sseEvent
	for ask.Data == "" {
		var err error
		if ask, err = r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(ask.Data, `"method":"sampling/createMessage"`) {
		t.Fatalf("expected a sampling request, got %s", ask.Data)
	}
	ack := e.post(sid, `{"jsonrpc":"2.0","id":"ask-1","result":{"text":"hi"}}`)
	readBody(t, ack)
	if ack.StatusCode != 202 {
		t.Fatalf("posting the answer: %d", ack.StatusCode)
	}
	final, err := r.Next()
	if err != nil || final.Data != `{"jsonrpc":"2.0","id":1,"result":{"answer":{"text":"hi"}}}` {
		t.Fatalf("final %+v, %v", final, err)
	}
	// A JSON-only client cannot receive the question: Send fails at once.
	resp = e.do(http.MethodPost, sid, `{"jsonrpc":"2.0","id":2,"method":"ask"}`, hdrs{"Accept": "application/json"})
	if _, _, msg := rpcError(t, readBody(t, resp)); !strings.Contains(msg, "cannot ask") {
		t.Fatalf("JSON-only ask: %s", msg)
	}
}

func TestIdleExpiry(t *testing.T) {
	t.Run("clock", func(t *testing.T) {
		e := newEnv(t, &Options{IdleTimeout: time.Minute})
		var mu sync.Mutex
		now := time.Now()
		e.h.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		sid := e.initialize("2025-11-25")
		e.h.mu.RLock()
		s := e.h.sessions[sid]
		e.h.mu.RUnlock()
		// The end of an HTTP request counts as activity: let it happen
		// before moving the clock.
		idle := func() { waitFor(t, "session to be idle", func() bool { return s.active.Load() == 0 }) }
		idle()
		advance(50 * time.Second)
		readBody(t, e.post(sid, echoReq)) // activity resets the clock
		idle()
		advance(50 * time.Second)
		resp := e.post(sid, echoReq)
		readBody(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("session expired early: %d", resp.StatusCode)
		}
		idle()
		advance(61 * time.Second)
		resp = e.post(sid, echoReq)
		readBody(t, resp)
		if resp.StatusCode != 404 {
			t.Fatalf("expired session answered %d", resp.StatusCode)
		}
		if e.f.session(sid).closes.Load() == 0 {
			t.Fatal("expired session not closed")
		}
	})
	t.Run("janitor", func(t *testing.T) {
		e := newEnv(t, &Options{IdleTimeout: 30 * time.Millisecond})
		sid := e.initialize("2025-11-25")
		s := e.f.session(sid)
		waitFor(t, "janitor to end the session", func() bool { return e.h.SessionCount() == 0 && s.closes.Load() > 0 })
	})
	t.Run("busy sessions do not expire", func(t *testing.T) {
		e := newEnv(t, &Options{IdleTimeout: 30 * time.Millisecond})
		sid := e.initialize("2025-11-25")
		done := make(chan struct{})
		go func() {
			defer close(done)
			readBody(t, e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"sleep","params":{"ms":200}}`))
		}()
		<-done
		if e.f.session(sid).closes.Load() != 0 {
			t.Fatal("session expired while a request was running")
		}
	})
	t.Run("self-closed sessions are reaped", func(t *testing.T) {
		e := newEnv(t, &Options{IdleTimeout: -1})
		sid := e.initialize("2025-11-25")
		e.f.session(sid).cancel() // the protocol layer ends the session
		resp := e.post(sid, echoReq)
		readBody(t, resp)
		if resp.StatusCode != 404 {
			t.Fatalf("closed session answered %d", resp.StatusCode)
		}
	})
}

func TestHostOriginChecks(t *testing.T) {
	e := newEnv(t, &Options{AllowedHosts: []string{"mcp.internal"}, AllowedOrigins: []string{"https://app.example"}})
	u, _ := url.Parse(e.url)
	own := u.Host
	initBody := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}`
	tests := []struct {
		name string
		hdr  hdrs
		want int
	}{
		{name: "own host", hdr: hdrs{"Host": own, "Origin": "http://" + own}, want: 200},
		{name: "localhost name", hdr: hdrs{"Host": "localhost:1234"}, want: 200},
		{name: "rebinding host and origin", hdr: hdrs{"Host": "evil.example.com", "Origin": "http://evil.example.com"}, want: 403},
		{name: "rebinding host", hdr: hdrs{"Host": "evil.example.com"}, want: 403},
		{name: "foreign origin", hdr: hdrs{"Origin": "http://evil.example.com"}, want: 403},
		{name: "null origin", hdr: hdrs{"Origin": "null"}, want: 403},
		{name: "allowed host", hdr: hdrs{"Host": "mcp.internal:9999"}, want: 200},
		{name: "allowed origin", hdr: hdrs{"Origin": "https://app.example"}, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do(http.MethodPost, "", initBody, tt.hdr)
			body := readBody(t, resp)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == 403 {
				if _, id, _ := rpcError(t, body); id != "null" {
					t.Errorf("403 body id %s", id)
				}
			}
		})
	}
}

func TestSessionLimits(t *testing.T) {
	e := newEnv(t, &Options{MaxSessions: 2, MaxSessionsPerClient: -1})
	e.initialize("2025-11-25")
	e.initialize("2025-11-25")
	resp := e.post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`)
	readBody(t, resp)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over MaxSessions: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	e2 := newEnv(t, nil)
	e2.f.err = fmt.Errorf("full: %w", transport.ErrSessionLimit)
	resp = e2.post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`)
	readBody(t, resp)
	if resp.StatusCode != 503 {
		t.Fatalf("factory session limit: %d", resp.StatusCode)
	}
	e2.f.err = errors.New("broken")
	resp = e2.post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`)
	readBody(t, resp)
	if resp.StatusCode != 500 {
		t.Fatalf("factory failure: %d", resp.StatusCode)
	}
}

func TestInFlightBound(t *testing.T) {
	e := newEnv(t, &Options{MaxInFlightPerSession: 2})
	sid := e.initialize("2025-11-25")
	var wg sync.WaitGroup
	codes := make(chan int, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := e.post(sid, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"block"}`, i))
			readBody(t, resp)
			codes <- resp.StatusCode
		}()
	}
	waitFor(t, "two handlers to run", func() bool { return e.f.running.Load() == 2 })
	time.Sleep(50 * time.Millisecond)
	if m := e.f.maxRunning.Load(); m != 2 {
		t.Fatalf("max concurrent handlers %d, want 2", m)
	}
	e.f.releaseAll()
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("status %d", c)
		}
	}
	if m := e.f.maxRunning.Load(); m != 2 {
		t.Fatalf("max concurrent handlers %d, want 2", m)
	}
}

func TestCloseEndsEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		e := newEnv(t, &Options{KeepAlive: 10 * time.Millisecond})
		var sids []string
		for range 3 {
			sids = append(sids, e.initialize("2025-11-25"))
		}
		var wg sync.WaitGroup
		for _, sid := range sids {
			wg.Add(2)
			go func() {
				defer wg.Done()
				resp := e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"block"}`)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
			go func() {
				defer wg.Done()
				resp := e.do(http.MethodGet, sid, "", nil)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
		waitFor(t, "handlers to run", func() bool { return e.f.running.Load() == 3 })
		time.Sleep(30 * time.Millisecond) // let keep-alives flow
		if err := e.h.Close(); err != nil {
			t.Fatal(err)
		}
		if e.f.running.Load() != 0 {
			t.Fatal("Close returned with handlers running")
		}
		wg.Wait() // every open response ended
		if n := e.h.SessionCount(); n != 0 {
			t.Fatalf("%d sessions after Close", n)
		}
		resp := e.post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`)
		readBody(t, resp)
		if resp.StatusCode != 503 {
			t.Fatalf("initialize after Close: %d", resp.StatusCode)
		}
		e.srv.Client().CloseIdleConnections()
		e.srv.Close()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d, before: %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeepAlive(t *testing.T) {
	e := newEnv(t, &Options{KeepAlive: 10 * time.Millisecond})
	sid := e.initialize("2025-06-18")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := e.doCtx(ctx, http.MethodGet, sid, "", nil)
	defer resp.Body.Close()
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(resp.Body, buf, 3)
	if err != nil || !strings.HasPrefix(string(buf[:n]), ":") {
		t.Fatalf("expected a keep-alive comment, got %q, %v", buf[:n], err)
	}
}

// tinySession is the smallest possible protocol session, for measuring the
// transport's own per-session memory.
type tinySession struct{ done chan struct{} }

func (tinySession) ID() string              { return "" }
func (tinySession) ProtocolVersion() string { return "2025-11-25" }
func (tinySession) HandleRequest(_ context.Context, req *jsonrpc.Request, _ transport.Sink) []byte {
	return result(req.ID, struct{}{})
}
func (tinySession) HandleNotification(context.Context, *jsonrpc.Request) {}
func (tinySession) HandleResponse(*jsonrpc.Response)                     {}
func (tinySession) Close()                                               {}
func (s tinySession) Done() <-chan struct{}                              { return s.done }

type tinyFactory struct{}

func (tinyFactory) SupportedVersions() []string { return allVersions }
func (tinyFactory) NewSession(context.Context, string, transport.Sink) (transport.Session, error) {
	return tinySession{done: closedNever}, nil
}

var closedNever = make(chan struct{})

func TestMemoryPerIdleSession(t *testing.T) {
	if testing.Short() {
		t.Skip("memory measurement")
	}
	h := NewHandler(tinyFactory{}, &Options{MaxSessionsPerClient: -1}) // one client
	defer h.Close()
	init := func() {
		req := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("initialize: %d %s", rec.Code, rec.Body)
		}
	}
	init() // start the janitor, warm up pools
	const n = 1000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		init()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("transport heap per idle session: %d bytes (%d sessions)", per, h.SessionCount())
	if per > 2048 {
		t.Fatalf("an idle session costs %d bytes, want well under 2 KiB", per)
	}
	if h.SessionCount() != n+1 {
		t.Fatalf("SessionCount %d", h.SessionCount())
	}
}

func TestParseAccept(t *testing.T) {
	tests := []struct {
		values    []string
		json, sse bool
	}{
		{nil, true, true},
		{[]string{""}, false, false},
		{[]string{"application/json, text/event-stream"}, true, true},
		{[]string{"application/json", "text/event-stream"}, true, true},
		{[]string{"text/event-stream"}, false, true},
		{[]string{"APPLICATION/JSON"}, true, false},
		{[]string{"*/*"}, true, true},
		{[]string{"application/*"}, true, false},
		{[]string{"text/*;q=0.5"}, false, true},
		{[]string{"*/*, text/event-stream;q=0"}, true, false},
		{[]string{"application/json;q=0, */*"}, false, true},
		{[]string{"application/json; q=0.000"}, false, false},
		{[]string{"application/json;q=0.001"}, true, false},
		{[]string{"application/json;q=bogus"}, true, false},
		{[]string{"text/html, application/xhtml+xml"}, false, false},
		{[]string{"*/json"}, false, false},
		{[]string{"application/json-seq"}, false, false},
		{[]string{" application/json ;charset=utf-8 , text/event-stream"}, true, true},
		{[]string{"/", ",,,", ";;"}, false, false},
	}
	for _, tt := range tests {
		json, sse := parseAccept(tt.values)
		if json != tt.json || sse != tt.sse {
			t.Errorf("parseAccept(%q) = %v, %v; want %v, %v", tt.values, json, sse, tt.json, tt.sse)
		}
	}
}

func FuzzAccept(f *testing.F) {
	for _, s := range []string{"application/json", "text/event-stream;q=0", "*/*;q=0.5, application/*", ";;q=", "a/b;q=1e309", "*/x"} {
		f.Add(s, "text/*")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		json, sse := parseAccept([]string{a, b})
		// Adding an exact, preferred range for a type admits it.
		if j, _ := parseAccept([]string{a, b, "application/json;q=1"}); !j && !strings.Contains(a+b, "application/json") {
			t.Fatalf("exact application/json not admitted after %q %q", a, b)
		}
		_, _ = json, sse
		isJSONContentType(a)
	})
}

// FuzzGetLastEventID feeds arbitrary Last-Event-ID values to the GET
// handler in process.
func FuzzGetLastEventID(f *testing.F) {
	for _, s := range []string{"1-1", "0-1", "0-2", "x", "", "1-", strings.Repeat("9", 300), "1-\x00", "\xff-1"} {
		f.Add(s)
	}
	h := NewHandler(newTestFactory(), nil)
	f.Cleanup(func() { h.Close() })
	init := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
	init.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, init)
	sid := rec.Header().Get(HeaderSessionID)
	slow := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":2,"method":"slow","params":{"steps":2}}`))
	slow.Header.Set("Content-Type", "application/json")
	slow.Header.Set(HeaderSessionID, sid)
	h.ServeHTTP(httptest.NewRecorder(), slow)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	f.Fuzz(func(t *testing.T, id string) {
		req := httptest.NewRequestWithContext(cancelled, http.MethodGet, "/mcp", nil)
		req.Header.Set(HeaderSessionID, sid)
		req.Header.Set("Accept", "text/event-stream")
		req.Header[HeaderLastEventID] = []string{id}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 500:
		default:
			t.Fatalf("Last-Event-ID %q: status %d", id, rec.Code)
		}
		if rec.Code == 200 && !validEventID(id) && id != "" {
			t.Fatalf("invalid Last-Event-ID %q accepted", id)
		}
	})
}

func TestResumeTakesOver(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.initialize("2025-11-25")
	post := e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"slow","params":{"steps":5,"delayMs":30}}`)
	defer post.Body.Close()
	r := newEventReader(post.Body)
	var first []sseEvent
	for len(first) < 2 { // priming, progress 0
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, ev)
	}
	// The client resumes although the POST is still attached: the GET
	// takes the stream over and the POST ends.
	get := e.do(http.MethodGet, sid, "", hdrs{"Last-Event-ID": first[1].ID})
	var onPost []sseEvent
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		onPost = append(onPost, ev)
	}
	onGet := readEvents(t, get)
	all := append(append(dataOf(first), dataOf(onPost)...), dataOf(onGet)...)
	var want []string
	for i := range 5 {
		want = append(want, string(progress(i)))
	}
	want = append(want, `{"jsonrpc":"2.0","id":1,"result":{"steps":5}}`)
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Fatalf("events across POST and GET:\n%q\nwant\n%q", all, want)
	}
}

func TestStoreForgottenWhenSessionEnds(t *testing.T) {
	store := NewMemoryEventStore(nil)
	e := newEnv(t, &Options{EventStore: store})
	sid := e.initialize("2025-11-25")
	readEvents(t, e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"slow","params":{"steps":2}}`))
	readBody(t, e.post(sid, `{"jsonrpc":"2.0","id":2,"method":"notify"}`))
	if n, _ := store.Stats(); n != 1 {
		t.Fatalf("store holds %d sessions, want 1", n)
	}
	readBody(t, e.do(http.MethodDelete, sid, "", nil))
	waitFor(t, "stored events to be deleted", func() bool { n, b := store.Stats(); return n == 0 && b == 0 })
}

// failingStore refuses every event.
type failingStore struct{}

func (failingStore) Append(context.Context, string, string, []byte) (string, error) {
	return "", errors.New("store down")
}
func (failingStore) Replay(context.Context, string, string, func(string, []byte) error) (string, error) {
	return "", errors.New("store down")
}
func (failingStore) DeleteSession(context.Context, string) error { return nil }

func TestFailingStore(t *testing.T) {
	e := newEnv(t, &Options{EventStore: failingStore{}})
	sid := e.initialize("2025-11-25")
	evs := readEvents(t, e.post(sid, `{"jsonrpc":"2.0","id":1,"method":"slow","params":{"steps":2}}`))
	d := dataOf(evs)
	if len(d) != 3 || !strings.Contains(d[2], `"result"`) {
		t.Fatalf("events without a store: %+v", evs)
	}
	for _, ev := range evs {
		if ev.ID != "" {
			t.Fatalf("event id %q without a store", ev.ID)
		}
	}
	resp := e.do(http.MethodGet, sid, "", hdrs{"Last-Event-ID": "1-1"})
	readBody(t, resp)
	if resp.StatusCode != 500 {
		t.Fatalf("resume with a failing store: %d", resp.StatusCode)
	}
}

func TestSSEOnlyInitialize(t *testing.T) {
	e := newEnv(t, nil)
	resp := e.do(http.MethodPost, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`, hdrs{"Accept": "text/event-stream"})
	sid := resp.Header.Get(HeaderSessionID)
	d := dataOf(readEvents(t, resp))
	if sid == "" || len(d) != 1 || !strings.Contains(d[0], `"protocolVersion"`) {
		t.Fatalf("SSE initialize: session %q, data %q", sid, d)
	}
}

// onlyReader hides the length of a body, as a chunked request does.
type onlyReader struct{ io.Reader }

func TestBodyWithoutLength(t *testing.T) {
	h := NewHandler(newTestFactory(), &Options{MaxBodyBytes: 100})
	defer h.Close()
	tests := []struct {
		name string
		body string
		want int
	}{
		{"fits", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`, 200},
		{"exactly at limit", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"x":"` + strings.Repeat("a", 100-64) + `"}}`, 200},
		{"over limit", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"x":"` + strings.Repeat("a", 200) + `"}}`, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "exactly at limit" && len(tt.body) != 100 {
				t.Fatalf("body is %d bytes", len(tt.body))
			}
			req := httptest.NewRequest(http.MethodPost, "/mcp", onlyReader{strings.NewReader(tt.body)})
			req.ContentLength = -1
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
}

// Many concurrent streams on one session, some of them interrupted and
// resumed: every stream gets exactly its own messages, in order.
func TestConcurrentStreams(t *testing.T) {
	e := newEnv(t, &Options{JSONResponseWindow: 5 * time.Millisecond})
	sid := e.initialize("2025-11-25")
	const streams, steps = 16, 4
	var wg sync.WaitGroup
	for n := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tag := fmt.Sprint("s", n)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			resp := e.doCtx(ctx, http.MethodPost, sid, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"slow","params":{"steps":%d,"delayMs":10,"tag":%q}}`, n, steps, tag), nil)
			r := newEventReader(resp.Body)
			var got []sseEvent
			interrupt := n%2 == 1
			for {
				ev, err := r.Next()
				if err != nil {
					break
				}
				got = append(got, ev)
				if interrupt && len(got) == 2 {
					break
				}
			}
			cancel()
			resp.Body.Close()
			if interrupt {
				last := got[len(got)-1].ID
				resp := e.do(http.MethodGet, sid, "", hdrs{"Last-Event-ID": last})
				got = append(got, readEvents(t, resp)...)
			}
			var want []string
			for i := range steps {
				want = append(want, string(progress(fmt.Sprint(tag, "-", i))))
			}
			want = append(want, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":{"steps":%d}}`, n, steps))
			if d := dataOf(got); fmt.Sprint(d) != fmt.Sprint(want) {
				t.Errorf("stream %d: %q\nwant %q", n, d, want)
			}
		}()
	}
	wg.Wait()
}
