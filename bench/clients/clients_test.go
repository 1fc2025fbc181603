package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/servers"
)

// newServer serves the Switchboard bench server's Streamable HTTP handler.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	h, err := servers.NewHTTPHandler(servers.Switchboard, servers.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close() // ends the standalone streams, which srv.Close would wait for
		srv.Close()
	})
	return srv
}

// TestSessions opens two sessions of each client against the Switchboard
// bench server, calls echo a few times on each, and runs a short load.
func TestSessions(t *testing.T) {
	srv := newServer(t)
	for _, impl := range Impls {
		t.Run(impl, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			sessions, err := Open(ctx, impl, srv.URL, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer CloseAll(sessions)
			if len(sessions) != 2 {
				t.Fatalf("%d sessions, want 2", len(sessions))
			}
			for i, s := range sessions {
				if p := s.Protocol(); p != servers.ProtocolVersion {
					t.Errorf("session %d: protocol %q, want %q", i, p, servers.ProtocolVersion)
				}
				for n := range 3 {
					if err := s.Call(ctx); err != nil {
						t.Fatalf("session %d, call %d: %v", i, n, err)
					}
				}
			}
			st, err := Run(ctx, sessions, 20*time.Millisecond, 100*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if st.Calls <= 0 || st.Errors != 0 || st.Sessions != 2 || st.Protocol != servers.ProtocolVersion ||
				st.P50 <= 0 || st.P99 < st.P50 || st.CPU <= 0 || st.CPUPerCall <= 0 || st.Elapsed < 100*time.Millisecond {
				t.Errorf("Run: %+v", st)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.Context(), servers.Baseline, "http://127.0.0.1:1/mcp", 1, nil); err == nil {
		t.Error("Open accepted an unknown client implementation")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, impl := range Impls {
		if ss, err := Open(ctx, impl, "http://127.0.0.1:1/mcp", 1, nil); err == nil {
			CloseAll(ss)
			t.Errorf("%s: Open of a closed port succeeded", impl)
		}
	}
}

// TestMainCommand runs the clientload command against the in-process server.
func TestMainCommand(t *testing.T) {
	srv := newServer(t)
	var out, errOut bytes.Buffer
	code := Main([]string{"-impl", servers.GoSDK, "-url", srv.URL, "-sessions", "2", "-warmup", "20ms", "-duration", "100ms"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var st Stats
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if st.Impl != servers.GoSDK || st.Sessions != 2 || st.Calls <= 0 || st.CPUPerCall <= 0 {
		t.Errorf("output %s", out.String())
	}
	errOut.Reset()
	if code := Main([]string{"-impl", servers.MCPGo, "-url", "http://127.0.0.1:1/mcp", "-duration", "10ms"}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "clientload: mcp-go") {
		t.Errorf("closed port: exit %d, stderr %q", code, errOut.String())
	}
	if code := Main([]string{"-impl", "nope", "-url", srv.URL}, &out, &errOut); code != 2 {
		t.Errorf("unknown -impl: exit %d", code)
	}
}
