package mcp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// The stdio transport runs at most MaxInFlight requests of a session at a
// time; the others wait and all are answered in the end.
func TestMaxInFlightBound(t *testing.T) {
	const bound, total = 3, 10
	srv := newSrv(&mcp.ServerOptions{MaxInFlight: bound})
	var active, peak atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, total)
	mcp.AddTool(srv, &protocol.Tool{Name: "slow"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		n := active.Add(1)
		defer active.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return "ok", nil
	})
	p := startStdioPipe(t, srv)
	p.initialize(protocol.LatestVersion)
	// One write: the pipe is synchronous, and the server stops reading
	// while the bound is reached.
	var lines []string
	for i := range total {
		lines = append(lines, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"slow"}}`, i))
	}
	p.send(strings.Join(lines, "\n"))
	for range bound {
		recvWithin(t, started, "a request to start")
	}
	select {
	case <-started:
		t.Fatalf("more than %d requests run at once", bound)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	seen := map[string]bool{}
	for range total {
		_, resp := p.recvResponse()
		if resp.Error != nil {
			t.Errorf("request %v: %v", resp.ID, resp.Error)
		}
		seen[resp.ID.String()] = true
	}
	if len(seen) != total {
		t.Errorf("%d distinct responses, want %d", len(seen), total)
	}
	if got := peak.Load(); got != bound {
		t.Errorf("peak concurrency %d, want %d", got, bound)
	}
}

// Many requests of every kind on one session at once, while the server's
// features change under them. Run with -race.
func TestConcurrentRequestsOneSession(t *testing.T) {
	srv := newResourceServer(nil)
	for name, p := range map[string]*protocol.Prompt{"p": {Name: "p"}} {
		srv.AddPrompt(p, func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
			return &protocol.GetPromptResult{Messages: []protocol.PromptMessage{{Role: protocol.RoleUser, Content: &protocol.TextContent{Text: name}}}}, nil
		})
	}
	mcp.AddTool(srv, &protocol.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.Request, in struct {
		Text string `json:"text"`
	}) (string, error) {
		req.Progress(ctx, 1, 1, "")
		req.Log(ctx, protocol.LoggingLevelInfo, "", in.Text)
		return in.Text, nil
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Add(1)
	go func() {
		defer churn.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("tmp%d", i%5)
			srv.AddTool(&protocol.Tool{Name: name}, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
				return nil, nil
			})
			srv.UseTools()
			srv.RemoveTools(name)
			srv.ResourceUpdated(context.Background(), "test://readme")
		}
	}()

	calls := []struct {
		method, params string
		check          string // substring of the result
	}{
		{protocol.MethodToolsCall, `{"name":"echo","arguments":{"text":"T%d"},"_meta":{"progressToken":%d}}`, `"T%d"`},
		{protocol.MethodToolsList, `{}`, `"echo"`},
		{protocol.MethodResourcesRead, `{"uri":"test://users/u%d/posts/1"}`, `u%d`},
		{protocol.MethodResourcesSubscribe, `{"uri":"test://readme"}`, `{}`},
		{protocol.MethodPromptsGet, `{"name":"p"}`, `"p"`},
		{protocol.MethodPing, `{}`, `{}`},
		{protocol.MethodLoggingSetLevel, `{"level":"debug"}`, `{}`},
	}
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				n := g*1000 + i
				c := calls[n%len(calls)]
				params := c.params
				if strings.Contains(params, "%d") {
					params = strings.ReplaceAll(params, "%d", fmt.Sprint(n))
				}
				id := jsonrpc.StringID(fmt.Sprintf("r-%d", n))
				raw, _ := h.roundTrip(context.Background(), id, c.method, params)
				resp := mustDecodeResponse(t, raw)
				if resp.ID != id || resp.Error != nil {
					t.Errorf("%s %s: id %v error %v", c.method, params, resp.ID, resp.Error)
					continue
				}
				if want := strings.ReplaceAll(c.check, "%d", fmt.Sprint(n)); !strings.Contains(string(resp.Result), want) {
					t.Errorf("%s: result %s lacks %s", c.method, resp.Result, want)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	churn.Wait()
}

// Sessions that end, over every transport and with work in flight, leave
// no goroutine behind.
func TestNoGoroutineLeaks(t *testing.T) {
	base := stableGoroutines() // whatever the process runs anyway
	t.Run("sessions", func(t *testing.T) {
		srv := newSrv(nil)
		b := addBlockingTool(srv, "block")
		j := addJobTool(srv, protocol.TaskSupportOptional)
		addSamplingTool(srv, false)

		// stdio: a request in flight when the client goes away.
		p := startStdioPipe(t, srv)
		p.initialize(protocol.LatestVersion)
		p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"block"}}`)
		recvWithin(t, b.started, "the blocking tool")
		p.close()

		// Direct sessions: a running task, a server request nobody answers.
		h := newSessHarness(t, srv)
		h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{Sampling: &protocol.SamplingCapability{}})
		startTask(t, h, "ok", "")
		recvWithin(t, j.started, "the job")
		asked := make(chan struct{}, 1)
		h.setAnswer(func(*jsonrpc.Request) *jsonrpc.Response {
			asked <- struct{}{}
			return nil // never answers
		})
		answered := make(chan []byte, 1)
		go func() {
			raw, _ := h.roundTrip(context.Background(), jsonrpc.Int64ID(77), protocol.MethodToolsCall, `{"name":"ask"}`)
			answered <- raw
		}()
		recvWithin(t, asked, "the sampling request")
		h.ss.Close()
		recvWithin(t, answered, "the tool call to end with its session")

		// Streamable HTTP: a session left open, ended by Close.
		handler := streamable.NewHandler(srv, nil)
		ts := httptest.NewServer(handler)
		client := &http.Client{Transport: &http.Transport{}}
		c := &httpMCP{t: t, url: ts.URL, client: client}
		c.call("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`)
		c.call("tools/list", `{}`)
		handler.Close()
		ts.Close()
		client.CloseIdleConnections()
		srv.Close()
	})
	if got := settleGoroutines(base); got > base {
		t.Errorf("%d goroutines after the sessions ended, %d before:\n%s", got, base, goroutineDump())
	}
}

// With KeepAlive, an idle stdio session is pinged, and closed when its
// client stops answering.
func TestKeepAlive(t *testing.T) {
	ended := make(chan struct{})
	srv := newSrv(&mcp.ServerOptions{
		KeepAlive:    50 * time.Millisecond,
		OnSessionEnd: func(*mcp.ServerSession) { close(ended) },
	})
	p := startStdioPipe(t, srv)
	p.initialize(protocol.LatestVersion)
	// Answer three pings, then fall silent.
	for i := 0; i < 3; i++ {
		_, m := p.recv()
		req, ok := m.(*jsonrpc.Request)
		if !ok || req.Method != protocol.MethodPing || req.IsNotification() {
			t.Fatalf("got %+v, want a ping", m)
		}
		if i == 1 {
			// An error answer also shows the client is alive.
			p.send(`{"jsonrpc":"2.0","id":` + req.ID.String() + `,"error":{"code":-32601,"message":"no ping here"}}`)
			continue
		}
		p.send(`{"jsonrpc":"2.0","id":` + req.ID.String() + `,"result":{}}`)
	}
	select {
	case <-ended:
		t.Fatal("the session ended while its client answered pings")
	default:
	}
	_, m := p.recv() // the fourth ping, unanswered
	if req, ok := m.(*jsonrpc.Request); !ok || req.Method != protocol.MethodPing {
		t.Fatalf("got %+v, want a ping", m)
	}
	recvWithin(t, ended, "the unresponsive session to be closed")
	select {
	case <-p.done:
		p.done <- nil // for the cleanup
	case <-time.After(testWait):
		t.Fatal("ServeStream did not return when the session was closed")
	}
}
