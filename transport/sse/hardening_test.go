package sse

import (
	"context"
	"errors"
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
