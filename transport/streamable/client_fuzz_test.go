package streamable

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

func TestEncodeHeaderValue(t *testing.T) {
	tests := []struct{ in, want string }{
		// The examples of the 2026-07-28 transport specification.
		{"us-west1", "us-west1"},
		{"Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="},
		{" padded ", "=?base64?IHBhZGRlZCA=?="},
		{"line1\nline2", "=?base64?bGluZTEKbGluZTI=?="},
		{"=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="},
		// More edges.
		{"", ""},
		{"get_weather", "get_weather"},
		{"file:///projects/my app/config.json", "file:///projects/my app/config.json"},
		{"a\tb", "a\tb"},
		{"\ttab", "=?base64?CXRhYg==?="},
		{"trailing ", "=?base64?dHJhaWxpbmcg?="},
		{"nul\x00", "=?base64?bnVsAA==?="},
		{"del\x7f", "=?base64?ZGVsfw==?="},
		{"=?base64?=", "=?base64?PT9iYXNlNjQ/PQ==?="},
		{"=?base64?x", "=?base64?x"},
		{"x?=", "x?="},
	}
	for _, tt := range tests {
		if got := encodeHeaderValue(tt.in); got != tt.want {
			t.Errorf("encodeHeaderValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStringMember(t *testing.T) {
	tests := []struct {
		params, name string
		want         string
		ok           bool
	}{
		{`{"name":"echo","arguments":{"name":"inner"}}`, "name", "echo", true},
		{`{"arguments":{"name":"inner"},"name":"echo"}`, "name", "echo", true},
		{`{"arguments":[{"name":"x"}],"uri":"test://a"}`, "uri", "test://a", true},
		{`{"name":"caf\u00e9 \"q\""}`, "name", `café "q"`, true},
		{` { "name" : "spaced" } `, "name", "spaced", true},
		{`{"name":42}`, "name", "", false},
		{`{"name":null}`, "name", "", false},
		{`{"Name":"x"}`, "name", "", false},
		{`{"other":1}`, "name", "", false},
		{`["name","x"]`, "name", "", false},
		{`{"name":`, "name", "", false},
		{`{"a":[1,2,{"b":}],"name":"x"}`, "name", "", false},
		{``, "name", "", false},
		{`"name"`, "name", "", false},
	}
	for _, tt := range tests {
		got, ok := stringMember(jsontext.Value(tt.params), tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("stringMember(%s, %q) = %q, %v; want %q, %v", tt.params, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSetMethodHeaders(t *testing.T) {
	tests := []struct {
		method, params   string
		wantMethod, name string
	}{
		{"tools/call", `{"name":"echo"}`, "tools/call", "echo"},
		{"tools/call", `{"name":"日本"}`, "tools/call", "=?base64?5pel5pys?="},
		{"prompts/get", `{"name":"p"}`, "prompts/get", "p"},
		{"resources/read", `{"uri":"test://r","name":"ignored"}`, "resources/read", "test://r"},
		{"resources/subscribe", `{"uri":"test://r"}`, "resources/subscribe", ""},
		{"tools/list", `{"cursor":"c"}`, "tools/list", ""},
		{"tools/call", ``, "tools/call", ""},
		{"notifications/initialized", ``, "notifications/initialized", ""},
		{"bad\nmethod", `{"name":"x"}`, "", ""},
		{"", ``, "", ""},
	}
	for _, tt := range tests {
		h := http.Header{}
		setMethodHeaders(h, tt.method, jsontext.Value(tt.params))
		if got := h.Get(HeaderMethod); got != tt.wantMethod {
			t.Errorf("%q: Mcp-Method %q, want %q", tt.method, got, tt.wantMethod)
		}
		if got := h.Get(HeaderName); got != tt.name {
			t.Errorf("%q %s: Mcp-Name %q, want %q", tt.method, tt.params, got, tt.name)
		}
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		retry    time.Duration
		failures int
		min, max time.Duration
	}{
		{time.Second, 0, time.Second, time.Second},
		{0, 0, minReconnectDelay, minReconnectDelay},
		{10 * time.Millisecond, 1, 200 * time.Millisecond, 250 * time.Millisecond},
		{time.Second, 1, 2 * time.Second, 2500 * time.Millisecond},
		{time.Second, 3, 8 * time.Second, 10 * time.Second},
		{time.Second, 100, maxBackoff, maxBackoff * 5 / 4},
		{maxClientRetry, 2, maxClientRetry, maxClientRetry},
	}
	for _, tt := range tests {
		for range 20 {
			if got := backoff(tt.retry, tt.failures); got < tt.min || got > tt.max {
				t.Errorf("backoff(%v, %d) = %v, want in [%v, %v]", tt.retry, tt.failures, got, tt.min, tt.max)
				break
			}
		}
	}
}

// decodeHeaderValue reverses encodeHeaderValue, as a server would.
func decodeHeaderValue(v string) (string, bool) {
	if strings.HasPrefix(v, b64Prefix) && strings.HasSuffix(v, b64Suffix) && len(v) >= len(b64Prefix)+len(b64Suffix) {
		b, err := base64.StdEncoding.DecodeString(v[len(b64Prefix) : len(v)-len(b64Suffix)])
		return string(b), err == nil
	}
	return v, true
}

func FuzzEncodeHeaderValue(f *testing.F) {
	for _, s := range []string{"", "echo", "Hello, 世界", " x", "=?base64?literal?=", "=?base64?=", "a\r\nb", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := encodeHeaderValue(s)
		for i := 0; i < len(v); i++ {
			if b := v[i]; b != '\t' && (b < 0x20 || b > 0x7e) {
				t.Fatalf("encodeHeaderValue(%q) = %q: byte %#x is not allowed in a header value", s, v, b)
			}
		}
		if v != "" && (v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
			t.Fatalf("encodeHeaderValue(%q) = %q: surrounding whitespace", s, v)
		}
		if got, ok := decodeHeaderValue(v); !ok || got != s {
			t.Fatalf("encodeHeaderValue(%q) = %q decodes to %q, %v", s, v, got, ok)
		}
		// net/http accepts it.
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
		req.Header.Set(HeaderName, v)
		var buf bytes.Buffer
		if err := req.Write(&buf); err != nil {
			t.Fatalf("net/http refuses %q: %v", v, err)
		}
	})
}

func FuzzStringMember(f *testing.F) {
	for _, s := range []string{`{"name":"echo"}`, `{"a":{"name":"x"},"name":"y"}`, `{"name":1}`, `[]`, `{"name":"\ud800"}`, `{"name":"a","name":"b"}`} {
		f.Add(s, "name")
	}
	f.Fuzz(func(t *testing.T, params, name string) {
		got, ok := stringMember(jsontext.Value(params), name)
		// For a valid object whose member is a string, the result must
		// agree with a full decode.
		var m map[string]jsontext.Value
		if json.Unmarshal([]byte(params), &m) != nil {
			return
		}
		v, present := m[name]
		var want string
		if !present || v.Kind() != '"' || json.Unmarshal(v, &want) != nil {
			if ok {
				t.Fatalf("stringMember(%s, %q) = %q, true; the member is not a string", params, name, got)
			}
			return
		}
		if !ok || got != want {
			t.Fatalf("stringMember(%s, %q) = %q, %v; want %q", params, name, got, ok, want)
		}
	})
}

// fixedTransport answers every request with one canned response.
type fixedTransport struct {
	status      int
	contentType string
	body        []byte
}

func (ft fixedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	h := http.Header{}
	if ft.contentType != "" {
		h.Set("Content-Type", ft.contentType)
	}
	return &http.Response{
		Status: http.StatusText(ft.status), StatusCode: ft.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(ft.body)), ContentLength: -1, Request: req,
	}, nil
}

// FuzzClientResponse feeds arbitrary server answers to a request through
// the client. Whatever the bytes, the client must not panic, must only
// deliver valid messages, and must deliver a response to the request
// (the server's or its own error) whenever Send succeeded.
func FuzzClientResponse(f *testing.F) {
	seeds := []struct {
		kind byte
		body string
	}{
		{0, "id: 1\nretry: 5\ndata:\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"},
		{0, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\r\n\r\ndata: not json\n\n"},
		{0, "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sampling/createMessage\",\"params\":{}}\n\n"},
		{0, "\xef\xbb\xbfdata: {\"jsonrpc\":\"2.0\",\n\ndata: \"id\":1,\"error\":{\"code\":1,\"message\":\"m\"}}\n\n"},
		{0, "event: other\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"},
		{1, `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`},
		{1, `[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":"1","result":{}}]`},
		{1, `[]`},
		{1, `{"jsonrpc":"2.0","id":1,"error":{"code":-1}}`},
		{2, "<html>"},
		{3, ""},
		{4, "unauthorized"},
	}
	for _, s := range seeds {
		f.Add(s.kind, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, kind byte, body []byte) {
		ft := fixedTransport{status: 200, body: body}
		switch kind % 5 {
		case 0:
			ft.contentType = "text/event-stream"
		case 1:
			ft.contentType = "application/json; charset=utf-8"
		case 2:
			ft.contentType = "text/html"
		case 3:
			ft.status = http.StatusAccepted
		case 4:
			ft.status = http.StatusUnauthorized
		}
		d := NewDialer("http://127.0.0.1:1/mcp", &ClientOptions{
			HTTPClient:     &http.Client{Transport: ft},
			MaxMessageSize: 1024,
			MaxReconnects:  -1,
		})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := d.Dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		id := jsonrpc.Int64ID(1)
		if err := conn.Send(ctx, &jsonrpc.Request{ID: id, Method: "tools/call", Params: jsontext.Value(`{"name":"x"}`)}); err != nil {
			return
		}
		for {
			m, err := conn.Recv(ctx)
			if err != nil {
				t.Fatalf("no response to the request: %v", err)
			}
			enc := jsonrpc.AppendMessage(nil, m)
			if _, err := jsonrpc.Decode(enc); err != nil {
				t.Fatalf("delivered an invalid message %s: %v", enc, err)
			}
			if r, ok := m.(*jsonrpc.Response); ok && r.ID == id {
				return
			}
		}
	})
}
