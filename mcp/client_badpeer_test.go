package mcp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

type dialFunc func(ctx context.Context) (transport.ClientConn, error)

func (f dialFunc) Dial(ctx context.Context) (transport.ClientConn, error) { return f(ctx) }

// badServer runs script on the server end of an in-memory pipe: it gets
// each request the client sends (after a correct initialize exchange) and
// writes whatever it likes back.
func badServer(t *testing.T, script func(s *stdio.Stream, req *jsonrpc.Request)) transport.Dialer {
	return dialFunc(func(ctx context.Context) (transport.ClientConn, error) {
		cli, srv := stdio.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				f, err := srv.ReadFrame()
				if err != nil {
					return
				}
				m, err := jsonrpc.Decode(bytes.Clone(f))
				if err != nil {
					continue
				}
				req, ok := m.(*jsonrpc.Request)
				if !ok || req.IsNotification() {
					continue
				}
				if req.Method == protocol.MethodInitialize {
					res := fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{},"logging":{}},"serverInfo":{"name":"bad","version":"0"}}}`, req.ID.AppendJSON(nil))
					if srv.WriteFrame([]byte(res)) != nil {
						return
					}
					continue
				}
				script(srv, req)
			}
		}()
		t.Cleanup(func() { srv.Close(); <-done })
		return stdio.NewClientConn(cli, nil), nil
	})
}

func result(id jsonrpc.ID, body string) []byte {
	return []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`, id.AppendJSON(nil), body))
}

func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestClientBadPeers(t *testing.T) {
	tests := []struct {
		name    string
		script  func(s *stdio.Stream, req *jsonrpc.Request)
		opts    *mcp.ClientOptions
		timeout time.Duration
		check   func(t *testing.T, res *protocol.ListToolsResult, err error, elapsed time.Duration)
	}{{
		name: "garbage then answer",
		script: func(s *stdio.Stream, req *jsonrpc.Request) {
			s.WriteFrame([]byte("this is not json"))
			s.WriteFrame([]byte(`{"jsonrpc":"1.0","id":1}`))
			s.WriteFrame([]byte{0xff, 0xfe, 0x00})
			s.WriteFrame(result(req.ID, `{"tools":[{"name":"x","inputSchema":{"type":"object"}}]}`))
		},
		check: func(t *testing.T, res *protocol.ListToolsResult, err error, _ time.Duration) {
			if err != nil || len(res.Tools) != 1 {
				t.Fatalf("res %+v err %v", res, err)
			}
		},
	}, {
		name: "unknown id then answer",
		script: func(s *stdio.Stream, req *jsonrpc.Request) {
			s.WriteFrame(result(jsonrpc.Int64ID(987654), `{"tools":[]}`))
			s.WriteFrame(result(jsonrpc.StringID("nope"), `{"tools":[]}`))
			s.WriteFrame(result(req.ID, `{"tools":[]}`))
		},
		check: func(t *testing.T, res *protocol.ListToolsResult, err error, _ time.Duration) {
			if err != nil || res == nil {
				t.Fatalf("res %+v err %v", res, err)
			}
		},
	}, {
		name:    "never answers",
		script:  func(s *stdio.Stream, req *jsonrpc.Request) {},
		timeout: 300 * time.Millisecond,
		check: func(t *testing.T, res *protocol.ListToolsResult, err error, elapsed time.Duration) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v", err)
			}
			if elapsed > 2*time.Second {
				t.Errorf("took %v past a 300ms timeout", elapsed)
			}
		},
	}, {
		name:   "never answers, client default timeout",
		script: func(s *stdio.Stream, req *jsonrpc.Request) {},
		opts:   &mcp.ClientOptions{Timeout: 200 * time.Millisecond},
		check: func(t *testing.T, res *protocol.ListToolsResult, err error, elapsed time.Duration) {
			if !errors.Is(err, context.DeadlineExceeded) || elapsed > 2*time.Second {
				t.Fatalf("err = %v after %v", err, elapsed)
			}
		},
	}, {
		name:   "closes mid-stream",
		script: func(s *stdio.Stream, req *jsonrpc.Request) { s.Close() },
		check: func(t *testing.T, res *protocol.ListToolsResult, err error, elapsed time.Duration) {
			if err == nil || !strings.Contains(err.Error(), "connection to the server ended") {
				t.Fatalf("err = %v", err)
			}
			if elapsed > 2*time.Second {
				t.Errorf("took %v", elapsed)
			}
		},
	}, {
		name: "floods notifications",
		script: func(s *stdio.Stream, req *jsonrpc.Request) {
			for i := range 5000 {
				s.WriteFrame([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"flood %d"}}`, i)))
			}
			s.WriteFrame(result(req.ID, `{"tools":[]}`))
		},
		opts: &mcp.ClientOptions{OnLog: func(context.Context, *mcp.ClientSession, *protocol.LoggingMessageNotificationParams) {}},
		check: func(t *testing.T, res *protocol.ListToolsResult, err error, _ time.Duration) {
			if err != nil {
				t.Fatal(err)
			}
		},
	}, {
		name: "error response",
		script: func(s *stdio.Stream, req *jsonrpc.Request) {
			s.WriteFrame([]byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"error":{"code":-32000,"message":"boom"}}`, req.ID.AppendJSON(nil))))
		},
		check: func(t *testing.T, res *protocol.ListToolsResult, err error, _ time.Duration) {
			if !mcp.IsProtocolError(err, -32000) || !strings.Contains(err.Error(), "boom") {
				t.Fatalf("err = %v", err)
			}
		},
	}, {
		name: "result of the wrong shape",
		script: func(s *stdio.Stream, req *jsonrpc.Request) {
			s.WriteFrame(result(req.ID, `{"tools":"not a list"}`))
		},
		check: func(t *testing.T, res *protocol.ListToolsResult, err error, _ time.Duration) {
			if err == nil || !strings.Contains(err.Error(), "decoding") {
				t.Fatalf("err = %v", err)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			func() {
				c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, tt.opts)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				cs, err := c.Connect(ctx, badServer(t, tt.script))
				if err != nil {
					t.Fatal(err)
				}
				defer cs.Close()
				cctx := ctx
				if tt.timeout > 0 {
					var ccancel context.CancelFunc
					cctx, ccancel = context.WithTimeout(ctx, tt.timeout)
					defer ccancel()
				}
				start := time.Now()
				res, err := cs.ListTools(cctx, nil)
				tt.check(t, res, err, time.Since(start))
			}()
			checkNoLeak(t, before)
		})
	}
}

func TestClientServerRequestCancelled(t *testing.T) {
	// The server asks for an elicitation, then cancels it: the handler's
	// context ends and no response is sent.
	var cancelled atomic.Bool
	started := make(chan struct{})
	d := badServer(t, func(s *stdio.Stream, req *jsonrpc.Request) {
		s.WriteFrame([]byte(`{"jsonrpc":"2.0","id":"e1","method":"elicitation/create","params":{"message":"hi","requestedSchema":{"type":"object","properties":{}}}}`))
		<-started
		s.WriteFrame([]byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"e1"}}`))
		time.Sleep(100 * time.Millisecond)
		s.WriteFrame(result(req.ID, `{"tools":[]}`))
	})
	c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{
		Elicit: func(ctx context.Context, _ *mcp.ClientSession, _ *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			close(started)
			<-ctx.Done()
			cancelled.Store(true)
			return nil, ctx.Err()
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !cancelled.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !cancelled.Load() {
		t.Error("the elicitation handler was not cancelled")
	}
}

func TestClientRefusesUnsupportedVersion(t *testing.T) {
	d := dialFunc(func(ctx context.Context) (transport.ClientConn, error) {
		cli, srv := stdio.Pipe()
		go func() {
			f, err := srv.ReadFrame()
			if err != nil {
				return
			}
			m, _ := jsonrpc.Decode(bytes.Clone(f))
			req := m.(*jsonrpc.Request)
			srv.WriteFrame(result(req.ID, `{"protocolVersion":"1999-01-01","capabilities":{},"serverInfo":{"name":"old","version":"0"}}`))
		}()
		t.Cleanup(func() { srv.Close() })
		return stdio.NewClientConn(cli, nil), nil
	})
	c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.Connect(ctx, d)
	if err == nil || !strings.Contains(err.Error(), "1999-01-01") {
		t.Fatalf("err = %v", err)
	}
}
