package mcp_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// A server that forgets the session (404 on its id) gets a new initialize
// from the client, transparently, and the hook hears of it.
func TestClientReinitializesExpiredSession(t *testing.T) {
	var mu sync.Mutex
	var sessions []*mcp.ServerSession
	srv := everything.NewServer(&mcp.ServerOptions{OnSessionStart: func(ss *mcp.ServerSession) {
		mu.Lock()
		sessions = append(sessions, ss)
		mu.Unlock()
	}})
	defer srv.Close()
	h := streamable.NewHandler(srv, nil)
	defer h.Close()
	ts := httptest.NewServer(h)
	defer ts.Close()

	expired := make(chan error, 1)
	c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{
		OnSessionExpired: func(_ *mcp.ClientSession, err error) { expired <- err },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, streamable.NewDialer(ts.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	first := cs.SessionID()

	mu.Lock()
	old := sessions[0]
	mu.Unlock()
	old.Close() // the server ends the session
	deadline := time.Now().Add(5 * time.Second)
	for h.SessionCount() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}

	res, err := cs.CallToolArgs(ctx, "echo", map[string]string{"text": "again"})
	if err != nil || res.IsError {
		t.Fatalf("call after expiry: %v %+v", err, res)
	}
	select {
	case err := <-expired:
		if err != nil {
			t.Fatalf("re-initialization failed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnSessionExpired was not called")
	}
	if cs.SessionID() == first || cs.SessionID() == "" {
		t.Errorf("session id %q after expiry (was %q)", cs.SessionID(), first)
	}
}

// Cancelling a call's context sends notifications/cancelled: the server's
// handler sees its context end. Over Streamable HTTP the cancellation comes
// while the POST still waits for its response headers (the adaptive JSON
// window), which once lost the notification.
func TestClientCancelReachesServer(t *testing.T) {
	srv := mcp.NewServer(protocol.Implementation{Name: "s", Version: "1"}, nil)
	started := make(chan struct{})
	stopped := make(chan struct{})
	mcp.AddTool(srv, &protocol.Tool{Name: "block"}, func(ctx context.Context, _ *mcp.Request, _ struct{}) (string, error) {
		close(started)
		<-ctx.Done()
		close(stopped)
		return "", ctx.Err()
	})
	h := streamable.NewHandler(srv, nil)
	defer h.Close()
	ts := httptest.NewServer(h)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, streamable.NewDialer(ts.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	cctx, ccancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallToolArgs(cctx, "block", nil)
		errc <- err
	}()
	<-started
	ccancel()
	if err := <-errc; err == nil {
		t.Fatal("cancelled call succeeded")
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the server's handler was not cancelled")
	}
}

// SetRoots tells the server, which then lists the new roots.
func TestClientRoots(t *testing.T) {
	changed := make(chan *mcp.ServerSession, 1)
	srv := mcp.NewServer(protocol.Implementation{Name: "s", Version: "1"}, &mcp.ServerOptions{
		OnRootsListChanged: func(_ context.Context, ss *mcp.ServerSession) { changed <- ss },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{
		Roots: []protocol.Root{{URI: "file:///a", Name: "a"}},
	})
	cs, err := c.Connect(ctx, pipeDialer{t: t, factory: srv})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.SetRoots(ctx, []protocol.Root{{URI: "file:///b", Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	var ss *mcp.ServerSession
	select {
	case ss = <-changed:
	case <-ctx.Done():
		t.Fatal("no roots/list_changed")
	}
	if caps := ss.ClientCapabilities(); !caps.SupportsRoots() {
		t.Error("roots capability not declared")
	}
	res, err := ss.ListRoots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Roots) != 1 || res.Roots[0].URI != "file:///b" {
		t.Fatalf("roots %+v", res.Roots)
	}
}
