package mcp_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

type callerKey struct{}

// Over Streamable HTTP the handlers of server requests and notifications
// sent on a call's response stream see the values of that call's context:
// concurrent calls each get their own elicitation and log message.
func TestClientHandlerContextOfRelatedCall(t *testing.T) {
	srv := mcp.NewServer(protocol.Implementation{Name: "s", Version: "1"}, nil)
	srv.AddTool(&protocol.Tool{Name: "ask"}, func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		if err := req.Log(ctx, protocol.LoggingLevelInfo, "", "working"); err != nil {
			return nil, err
		}
		res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{Message: "name?", RequestedSchema: &protocol.ElicitSchema{}})
		if err != nil {
			return nil, err
		}
		return mcp.TextResult(fmt.Sprint(res.Content["who"])), nil
	})
	defer srv.Close()
	h := streamable.NewHandler(srv, nil)
	defer h.Close()
	ts := httptest.NewServer(h)
	defer ts.Close()

	var mu sync.Mutex
	logs := map[string]int{}
	c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{
		Elicit: func(ctx context.Context, _ *mcp.ClientSession, _ *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			who, _ := ctx.Value(callerKey{}).(string)
			if who == "" {
				return nil, fmt.Errorf("elicitation without the caller's context")
			}
			return &protocol.ElicitResult{Action: protocol.ElicitActionAccept, Content: map[string]any{"who": who}}, nil
		},
		OnLog: func(ctx context.Context, _ *mcp.ClientSession, _ *protocol.LoggingMessageNotificationParams) {
			who, _ := ctx.Value(callerKey{}).(string)
			mu.Lock()
			logs[who]++
			mu.Unlock()
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, streamable.NewDialer(ts.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.SetLogLevel(ctx, protocol.LoggingLevelDebug); err != nil {
		t.Fatal(err)
	}

	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := fmt.Sprintf("caller-%d", i)
			res, err := cs.CallToolArgs(context.WithValue(ctx, callerKey{}, who), "ask", nil)
			if err != nil {
				errs <- err
				return
			}
			if res.IsError {
				errs <- fmt.Errorf("%s: tool error %v", who, res.Content)
				return
			}
			if got := res.Content[0].(*protocol.TextContent).Text; got != who {
				errs <- fmt.Errorf("%s got the answer of %s", who, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range n {
		if who := fmt.Sprintf("caller-%d", i); logs[who] != 1 {
			t.Errorf("log messages seen with %s's context: %d, want 1 (all: %v)", who, logs[who], logs)
		}
	}
}
