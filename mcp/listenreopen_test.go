package mcp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// The client reopens its own subscriptions/listen stream when it ends, and
// list-changed notifications reach it again afterwards.
func TestClientReopensListen(t *testing.T) {
	srv := mcp.NewServer(protocol.Implementation{Name: "s", Version: "1"}, nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "a"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) { return "a", nil })
	h := streamable.NewHandler(srv, nil)
	t.Cleanup(func() { h.Close() })
	var listens atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Mcp-Method") == protocol.MethodSubscriptionsListen {
			listens.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	changed := make(chan struct{}, 16)
	c26Client(t, streamable.NewDialer(ts.URL, nil), &mcp.ClientOptions{ProtocolVersion: v26,
		OnToolsListChanged: func(context.Context, *mcp.ClientSession) { changed <- struct{}{} }})

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("the first subscriptions/listen", func() bool { return listens.Load() == 1 })
	// The stream breaks: the client opens a new one.
	ts.CloseClientConnections()
	waitFor("a second subscriptions/listen", func() bool { return listens.Load() >= 2 })
	for len(changed) > 0 {
		<-changed
	}
	// Changes reach the new subscription once the server acknowledged it.
	deadline := time.After(10 * time.Second)
	for i := 0; ; i++ {
		mcp.AddTool(srv, &protocol.Tool{Name: fmt.Sprintf("b%d", i)}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) { return "b", nil })
		select {
		case <-changed:
			return
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("no tools list_changed after the subscription was reopened")
		}
	}
}
