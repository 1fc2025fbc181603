package servers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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

func TestSwitchboardStatelessUnsupported(t *testing.T) {
	if _, err := NewHTTPHandler(Switchboard, HTTPOptions{Stateless: true}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
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
		{[]string{"-impl", Switchboard, "-stateless", "-side", ""}, ExitUnsupported, UnsupportedPrefix},
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
