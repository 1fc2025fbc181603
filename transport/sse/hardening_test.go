package sse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Shutdown returns when its context ends even if a request ignores
// cancellation; Close then finishes in the background.
func TestShutdownIsBounded(t *testing.T) {
	f := newTestFactory()
	ts := newTestServer(t, f, nil)
	c := ts.connect("/sse")
	c.mustPost(`{"jsonrpc":"2.0","id":1,"method":"stuck"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := ts.h.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
	close(f.release)
	if err := ts.h.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown = %v", err)
	}
}

// A request beyond a full session does not wait silently: after a short
// wait its POST is refused with 429, Retry-After and a JSON-RPC error
// (issue 10, finding 4).
func TestFullSessionRefuses(t *testing.T) {
	ts := newTestServer(t, nil, &Options{MaxInFlightPerSession: 2})
	c := ts.connect("/sse")
	c.mustPost(`{"jsonrpc":"2.0","id":1,"method":"block"}`)
	c.mustPost(`{"jsonrpc":"2.0","id":2,"method":"block"}`)
	eventually(t, "two requests to run", func() bool { return ts.f.inFlight.Load() == 2 })
	answered := make(chan struct {
		status int
		hdr    http.Header
		body   []byte
	}, 1)
	start := time.Now()
	go func() {
		status, hdr, b := ts.do(http.MethodPost, c.endpoint.String(), "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":3,"method":"block"}`), nil)
		answered <- struct {
			status int
			hdr    http.Header
			body   []byte
		}{status, hdr, b}
	}()
	select {
	case r := <-answered:
		if r.status != http.StatusTooManyRequests || r.hdr.Get("Retry-After") == "" || !strings.Contains(string(r.body), `"id":3`) {
			t.Fatalf("third request: %d, Retry-After %q, %s", r.status, r.hdr.Get("Retry-After"), r.body)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("refused after %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the third request still waits silently after 5s")
	}
	close(ts.f.release)
}

// One client cannot have more than MaxInFlightPerClient requests in flight
// (default 256) over all its sessions.
func TestInFlightPerClientBound(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	var clients []*sseClient
	for range 5 { // 5 × 64 request slots
		clients = append(clients, ts.connect("/sse"))
	}
	for i := range 256 {
		clients[i%5].mustPost(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"block"}`, i))
	}
	eventually(t, "256 requests to run", func() bool { return ts.f.inFlight.Load() == 256 })
	status, hdr, b := ts.do(http.MethodPost, clients[0].endpoint.String(), "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":"x","method":"block"}`), nil)
	if status != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || !strings.Contains(string(b), `"id":"x"`) {
		t.Fatalf("request 257: %d, Retry-After %q, %s", status, hdr.Get("Retry-After"), b)
	}
	close(ts.f.release)
}

// Open streams are bounded per client and in all.
func TestSessionLimits(t *testing.T) {
	ts := newTestServer(t, nil, &Options{MaxSessions: 3, MaxSessionsPerClient: 2,
		ClientKey: func(r *http.Request) string { return r.Header.Get("X-Client") }})
	open := func(client string) (*http.Response, bool) {
		resp := ts.get("/sse", http.Header{"X-Client": {client}})
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return resp, false
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp, true
	}
	a1, _ := open("a")
	open("a")
	if resp, ok := open("a"); ok || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a third stream for a: %d", resp.StatusCode)
	}
	if _, ok := open("b"); !ok {
		t.Fatal("b refused")
	}
	if resp, ok := open("c"); ok || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a stream beyond MaxSessions: %d", resp.StatusCode)
	}
	a1.Body.Close()
	eventually(t, "a's stream to end", func() bool {
		resp, ok := open("c")
		if ok {
			return true
		}
		return resp.StatusCode == 0
	})
}
