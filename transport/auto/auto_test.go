package auto_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/auto"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// legacyOnly serves the 2024-11-05 transport at one URL: GET opens the
// event stream, POST (with sessionId) carries messages; a Streamable HTTP
// POST (no sessionId) is refused.
func legacyOnly(h http.Handler, gets *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			gets.Add(1)
		}
		if r.Method == http.MethodPost && r.URL.Query().Get("sessionId") == "" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestHTTPDialer(t *testing.T) {
	srv := everything.NewServer(nil)
	defer srv.Close()
	streamH := streamable.NewHandler(srv, nil)
	defer streamH.Close()
	sseH := sse.NewHandler(srv, &sse.Options{MessagePath: "/legacy"})
	defer sseH.Close()
	mux := http.NewServeMux()
	mux.Handle("/mcp", streamH)
	var gets atomic.Int32
	mux.Handle("/legacy", legacyOnly(sseH, &gets))
	ts := httptest.NewServer(mux)
	defer ts.Close()

	for _, tt := range []struct {
		path       string
		wantLegacy bool
	}{
		{"/mcp", false},
		{"/legacy", true},
	} {
		t.Run(tt.path, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, nil)
			cs, err := c.Connect(ctx, auto.NewHTTPDialer(ts.URL+tt.path, nil))
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			res, err := cs.CallToolArgs(ctx, "echo", map[string]string{"text": "hi"})
			if err != nil || res.IsError {
				t.Fatalf("echo: %v %+v", err, res)
			}
			// The legacy transport has sessionId in its endpoint; Streamable
			// HTTP an Mcp-Session-Id: both report one.
			if cs.SessionID() == "" {
				t.Error("no session id")
			}
			if used := gets.Load() > 0; used != tt.wantLegacy {
				t.Errorf("legacy event stream opened: %v, want %v", used, tt.wantLegacy)
			}
		})
	}
}

func TestHTTPDialerNoServer(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, nil)
	if _, err := c.Connect(ctx, auto.NewHTTPDialer(ts.URL+"/mcp", nil)); err == nil {
		t.Fatal("connected to a server that speaks neither transport")
	}
}

// A client that probes with server/discover first stays on Streamable HTTP
// and speaks 2026-07-28 when the server offers it.
func TestHTTPDialerDiscoverFirst(t *testing.T) {
	srv := everything.NewServer(nil)
	defer srv.Close()
	h := streamable.NewHandler(srv, nil)
	defer h.Close()
	ts := httptest.NewServer(h)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{DiscoverModern: true})
	cs, err := c.Connect(ctx, auto.NewHTTPDialer(ts.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if v := cs.ProtocolVersion(); v != protocol.Version20260728 {
		t.Errorf("negotiated %q", v)
	}
	if res, err := cs.CallToolArgs(ctx, "echo", map[string]string{"text": "hi"}); err != nil || res.IsError {
		t.Fatalf("echo: %v %+v", err, res)
	}
}
