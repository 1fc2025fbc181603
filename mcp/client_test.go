package mcp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// pipeDialer connects a client to a server in the same process over a
// pair of pipes speaking the stdio framing.
type pipeDialer struct {
	t       *testing.T
	factory transport.SessionFactory
}

func (d pipeDialer) Dial(ctx context.Context) (transport.ClientConn, error) {
	cr, sw := io.Pipe()
	sr, cw := io.Pipe()
	srvStream := stdio.NewStream(sr, sw, nil)
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = stdio.Serve(sctx, d.factory, srvStream, nil)
	}()
	d.t.Cleanup(func() { cancel(); srvStream.Close(); <-done })
	return &pipeConn{s: stdio.NewStream(cr, cw, nil), msgs: make(chan jsonrpc.Message, 16), quit: make(chan struct{}), stop: func() { cancel(); srvStream.Close() }}, nil
}

type pipeConn struct {
	s    *stdio.Stream
	wmu  sync.Mutex
	once sync.Once
	msgs chan jsonrpc.Message
	quit chan struct{}
	stop func()
	rerr error
	rdy  sync.Once
}

func (c *pipeConn) start() {
	c.rdy.Do(func() {
		go func() {
			defer close(c.msgs)
			for {
				f, err := c.s.ReadFrame()
				if err != nil {
					c.rerr = err
					return
				}
				m, err := jsonrpc.Decode(bytes.Clone(f))
				if err != nil {
					continue
				}
				select {
				case c.msgs <- m:
				case <-c.quit:
					return
				}
			}
		}()
	})
}

func (c *pipeConn) Send(ctx context.Context, m jsonrpc.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.quit:
		return transport.ErrConnClosed
	default:
	}
	return c.s.WriteFrame(jsonrpc.AppendMessage(nil, m))
}

func (c *pipeConn) Recv(ctx context.Context) (jsonrpc.Message, error) {
	c.start()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			return nil, c.rerr
		}
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.quit:
		return nil, transport.ErrConnClosed
	}
}

func (c *pipeConn) Close() error {
	c.once.Do(func() { close(c.quit); c.stop(); c.s.Close() })
	return nil
}

func connect(t *testing.T, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	srv := everything.NewServer(nil)
	c := mcp.NewClient(protocol.Implementation{Name: "test", Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, pipeDialer{t: t, factory: srv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func TestClientBasics(t *testing.T) {
	cs := connect(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if v := cs.ProtocolVersion(); v != protocol.LatestVersion {
		t.Errorf("version %q", v)
	}
	if err := cs.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	var names []string
	for tool, err := range cs.Tools(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "echo") {
		t.Errorf("tools: %v", names)
	}
	res, err := cs.CallToolArgs(ctx, "echo", map[string]string{"text": "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || len(res.Content) != 1 {
		t.Fatalf("result %+v", res)
	}
	if tc, ok := res.Content[0].(*protocol.TextContent); !ok || !strings.Contains(tc.Text, "hi") {
		t.Errorf("content %#v", res.Content[0])
	}
	_, err = cs.CallToolArgs(ctx, "no_such_tool", nil)
	if !mcp.IsProtocolError(err, jsonrpc.CodeInvalidParams) {
		t.Errorf("unknown tool: %v", err)
	}
	n := 0
	for _, err := range cs.Resources(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Error("no resources")
	}
	for _, err := range cs.Prompts(ctx) {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestClientProgressAndLogs(t *testing.T) {
	var mu sync.Mutex
	var logs []string
	cs := connect(t, &mcp.ClientOptions{OnLog: func(_ context.Context, _ *mcp.ClientSession, p *protocol.LoggingMessageNotificationParams) {
		mu.Lock()
		defer mu.Unlock()
		b, _ := json.Marshal(p.Data)
		logs = append(logs, string(b))
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []float64
	pctx := mcp.WithProgress(ctx, func(p *protocol.ProgressNotificationParams) { got = append(got, p.Progress) })
	if _, err := cs.CallToolArgs(pctx, "test_tool_with_progress", nil); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Error("no progress notifications")
	}
	if _, err := cs.CallToolArgs(ctx, "test_tool_with_logging", nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logs) == 0 {
		t.Error("no log messages")
	}
}

func TestClientAnswersServerRequests(t *testing.T) {
	cs := connect(t, &mcp.ClientOptions{
		CreateMessage: func(_ context.Context, _ *mcp.ClientSession, p *protocol.CreateMessageRequestParams) (*protocol.CreateMessageResult, error) {
			return &protocol.CreateMessageResult{Role: protocol.RoleAssistant, Model: "test-model", Content: protocol.SamplingContents{&protocol.TextContent{Text: "sampled!"}}}, nil
		},
		Elicit: func(_ context.Context, _ *mcp.ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			return &protocol.ElicitResult{Action: protocol.ElicitActionAccept, Content: map[string]any{"username": "ann", "email": "a@example.com"}}, nil
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := cs.CallToolArgs(ctx, "test_sampling", map[string]string{"prompt": "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(res); !strings.Contains(string(b), "sampled!") || res.IsError {
		t.Errorf("sampling result %s", b)
	}
	res, err = cs.CallToolArgs(ctx, "test_elicitation", map[string]string{"message": "who?"})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(res); !strings.Contains(string(b), "accept") || res.IsError {
		t.Errorf("elicitation result %s", b)
	}
}

func TestClientRefusesUnconfiguredSampling(t *testing.T) {
	cs := connect(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := cs.CallToolArgs(ctx, "test_sampling", map[string]string{"prompt": "hello"})
	if err == nil && !res.IsError {
		t.Fatalf("sampling without a handler succeeded: %+v", res)
	}
}

func TestClientCancelSendsNotification(t *testing.T) {
	cs := connect(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := cs.CallToolArgs(ctx, "count_slowly", map[string]any{"to": 50, "delayMs": 100})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("call outlived its context")
	}
	// The session stays usable.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := cs.Ping(ctx2); err != nil {
		t.Fatal(err)
	}
}

func TestClientTask(t *testing.T) {
	cs := connect(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var states []protocol.TaskStatus
	res, err := cs.CallToolAsTask(ctx, &protocol.CallToolRequestParams{Name: "count_slowly", Arguments: []byte(`{"to":2,"delayMs":10}`)}, time.Minute, func(t *protocol.Task) { states = append(states, t.Status) })
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || len(states) == 0 {
		t.Fatalf("res %+v states %v", res, states)
	}
}

func TestClientCloseNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 5 {
		srv := everything.NewServer(nil)
		c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cs, err := c.Connect(ctx, pipeDialer{t: t, factory: srv})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		cs.Close()
		if err := cs.Ping(context.Background()); !errors.Is(err, mcp.ErrClientClosed) {
			t.Errorf("ping after close: %v", err)
		}
		srv.Close()
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("goroutines: %d before, %d after", before, n)
	}
}
