package servers

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	initMsg        = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`
	initializedMsg = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	callMsg        = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"héllo \"you\""}}}`
	badCallMsg     = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":5}}}`
	wantEcho       = `"text":"héllo \"you\""`
)

func TestHTTPEcho(t *testing.T) {
	tests := []struct {
		impl string
		opts HTTPOptions
	}{
		{Baseline, HTTPOptions{}},
		{Switchboard, HTTPOptions{}},
		{MCPGo, HTTPOptions{}},
		{MCPGo, HTTPOptions{Validate: true}},
		{MCPGo, HTTPOptions{Stateless: true}},
		{GoSDK, HTTPOptions{}},
		{GoSDK, HTTPOptions{JSONResponse: true}},
		{GoSDK, HTTPOptions{Stateless: true}},
	}
	for _, tt := range tests {
		t.Run(tt.impl, func(t *testing.T) {
			h, err := NewHTTPHandler(tt.impl, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			srv := httptest.NewServer(h)
			defer srv.Close()
			post := func(body, sid string) (*http.Response, string) {
				t.Helper()
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Mcp-Protocol-Version", ProtocolVersion)
				if sid != "" {
					req.Header.Set("Mcp-Session-Id", sid)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, string(b)
			}
			resp, body := post(initMsg, "")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"protocolVersion":"2025-11-25"`) {
				t.Fatalf("initialize: %d %s", resp.StatusCode, body)
			}
			sid := resp.Header.Get("Mcp-Session-Id")
			if !tt.opts.Stateless && sid == "" {
				t.Fatal("stateful server sent no session id")
			}
			if tt.opts.Stateless {
				sid = ""
			}
			if resp, body := post(initializedMsg, sid); resp.StatusCode/100 != 2 {
				t.Fatalf("initialized: %d %s", resp.StatusCode, body)
			}
			if resp, body := post(callMsg, sid); resp.StatusCode != http.StatusOK || !strings.Contains(body, wantEcho) {
				t.Fatalf("tools/call: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// modernMeta is the _meta a request of revision 2026-07-28 carries.
const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"0"}}`

// TestSwitchboardStateless checks that Switchboard's handler, asked for
// the stateless mode, serves revision 2026-07-28 requests without a session
// and enforces what the revision requires of them, so that the load
// client's requests are the ones a real 2026 client sends.
func TestSwitchboardStateless(t *testing.T) {
	if got := StatelessRevision(Switchboard); got != StatelessProtocolVersion {
		t.Fatalf("StatelessRevision(switchboard) = %q", got)
	}
	for _, impl := range []string{Baseline, MCPGo, GoSDK} {
		if got := StatelessRevision(impl); got != "" {
			t.Errorf("StatelessRevision(%s) = %q, want \"\" (initialize-era stateless mode)", impl, got)
		}
	}
	h, err := NewHTTPHandler(Switchboard, HTTPOptions{Stateless: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()

	tests := []struct {
		name       string
		method     string // Mcp-Method header ("" for none)
		toolName   string // Mcp-Name header ("" for none)
		version    string // MCP-Protocol-Version header
		body       string
		wantStatus int
		want       []string
	}{
		{"discover", "server/discover", "", StatelessProtocolVersion,
			`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{` + modernMeta + `}}`,
			http.StatusOK, []string{`"supportedVersions":["2026-07-28"`, `"resultType":"complete"`}},
		{"call", "tools/call", "echo", StatelessProtocolVersion,
			`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"héllo \"you\""},` + modernMeta + `}}`,
			http.StatusOK, []string{wantEcho, `"resultType":"complete"`}},
		{"call without Mcp-Name", "tools/call", "", StatelessProtocolVersion,
			`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},` + modernMeta + `}}`,
			http.StatusBadRequest, []string{`"code":-32020`}},
		{"call without Mcp-Method", "", "echo", StatelessProtocolVersion,
			`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},` + modernMeta + `}}`,
			http.StatusBadRequest, []string{`"code":-32020`}},
		{"call without client capabilities", "tools/call", "echo", StatelessProtocolVersion,
			`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`,
			http.StatusBadRequest, []string{`"code":-32602`}},
		{"invalid arguments", "tools/call", "echo", StatelessProtocolVersion,
			`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"echo","arguments":{"text":5},` + modernMeta + `}}`,
			http.StatusOK, []string{`"isError":true`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Mcp-Protocol-Version", tt.version)
			if tt.method != "" {
				req.Header.Set("Mcp-Method", tt.method)
			}
			if tt.toolName != "" {
				req.Header.Set("Mcp-Name", tt.toolName)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, b)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("response lacks %s: %s", w, b)
				}
			}
			if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
				t.Errorf("stateless response carries Mcp-Session-Id %q", sid)
			}
		})
	}
}

func TestStdioEcho(t *testing.T) {
	for _, impl := range Names {
		t.Run(impl, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cr, sw := io.Pipe()
			sr, cw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- ServeStdio(ctx, impl, sr, sw, StdioOptions{Validate: true})
				sw.Close()
			}()
			r := bufio.NewReader(cr)
			send := func(msg string) {
				if _, err := io.WriteString(cw, msg+"\n"); err != nil {
					t.Fatal(err)
				}
			}
			read := func() string {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				return line
			}
			send(initMsg)
			if l := read(); !strings.Contains(l, `"result"`) {
				t.Fatalf("initialize: %s", l)
			}
			send(initializedMsg)
			send(callMsg)
			if l := read(); !strings.Contains(l, wantEcho) {
				t.Fatalf("tools/call: %s", l)
			}
			if impl != Baseline {
				// Input validation: a number where a string is required
				// is refused, as a tool error or a protocol error.
				send(badCallMsg)
				if l := read(); !strings.Contains(l, `"isError":true`) && !strings.Contains(l, `"error"`) {
					t.Fatalf("invalid arguments accepted: %s", l)
				}
			}
			cw.Close()
			go io.Copy(io.Discard, cr)
			select {
			case <-done:
			case <-ctx.Done():
				t.Fatal("server did not stop at EOF")
			}
		})
	}
}

func TestMainExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"-impl", "nope"}, 2, "unknown -impl"},
		{[]string{"-impl", Switchboard, "-transport", "stdio", "-stateless", "-side", ""}, ExitUnsupported, UnsupportedPrefix},
		{[]string{"-impl", MCPGo, "-transport", "stdio", "-stateless", "-side", ""}, ExitUnsupported, UnsupportedPrefix},
		{[]string{"-impl", Baseline, "-transport", "carrier-pigeon", "-side", ""}, 2, "unknown -transport"},
		{[]string{"-impl", Baseline, "-addr", "0.0.0.0:0", "-side", ""}, 1, "not a loopback"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		got := Main(tt.args, strings.NewReader(""), io.Discard, &stderr)
		if got != tt.want || !strings.Contains(stderr.String(), tt.msg) {
			t.Errorf("Main(%q) = %d, stderr %q; want %d and %q", tt.args, got, stderr.String(), tt.want, tt.msg)
		}
	}
}

// TestGatewayEcho calls the echo tool through NewGateway in front of the
// Switchboard server over Streamable HTTP: one upstream, so the tool keeps
// its name, and validation errors come back from the upstream.
func TestGatewayEcho(t *testing.T) {
	up, err := NewHTTPHandler(Switchboard, HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	if _, err := NewGateway(GatewayOptions{}); err == nil {
		t.Error("NewGateway without an upstream: no error")
	}
	g, err := NewGateway(GatewayOptions{URL: upSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	srv := httptest.NewServer(g.Handler())
	defer srv.Close()
	post := func(body, sid string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", ProtocolVersion)
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post(initMsg, "")
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || sid == "" {
		t.Fatalf("initialize: %d %s", resp.StatusCode, body)
	}
	post(initializedMsg, sid)
	if resp, body := post(callMsg, sid); resp.StatusCode != http.StatusOK || !strings.Contains(body, wantEcho) {
		t.Fatalf("tools/call through the gateway: %d %s", resp.StatusCode, body)
	}
	if _, body := post(badCallMsg, sid); !strings.Contains(body, `"isError":true`) && !strings.Contains(body, `"error"`) {
		t.Errorf("invalid arguments through the gateway: %s", body)
	}
}
