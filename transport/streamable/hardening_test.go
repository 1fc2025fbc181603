package streamable

import (
	"net/http"
	"strings"
	"testing"
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
