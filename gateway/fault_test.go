package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// helperEnv makes the test binary act as an upstream server process.
const helperEnv = "SWITCHBOARD_GATEWAY_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// runHelper is an upstream process of the fault tests.
func runHelper(mode string) int {
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "fatal: missing API key")
		return 2
	case "garbage":
		fmt.Println("Welcome to my server! Listening on stdout...")
		fmt.Println("{not json")
		fmt.Fprintln(os.Stderr, "oops")
		return 1
	case "garbage-serve":
		fmt.Println("banner line that is not JSON")
	}
	s := mcp.NewServer(protocol.Implementation{Name: "helper", Version: "1"}, nil)
	s.AddTool(&protocol.Tool{Name: "echo"}, func(_ context.Context, _ *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return mcp.TextResult(string(call.Arguments)), nil
	})
	s.AddTool(&protocol.Tool{Name: "crash"}, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		fmt.Fprintln(os.Stderr, "crashing on purpose")
		os.Exit(3)
		return nil, nil
	})
	s.AddTool(&protocol.Tool{Name: "hang"}, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		select {} // ignores cancellation too
	})
	if err := s.ServeStdio(context.Background()); err != nil {
		return 1
	}
	return 0
}

// helperUpstream is an upstream spec running this test binary as mode.
func helperUpstream(t *testing.T, name, mode string) gateway.Upstream {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return gateway.Upstream{Name: name, Command: &gateway.Command{Path: exe, Args: []string{"-test.run=^$"}, Env: []string{helperEnv + "=" + mode}}}
}

func waitState(t *testing.T, g *gateway.Gateway, name string, want gateway.State, cond func(gateway.UpstreamStatus) bool) gateway.UpstreamStatus {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, _ := g.Status()
		for _, s := range st {
			if s.Name == name && s.State == want && (cond == nil || cond(s)) {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("upstream %s never reached %s: %+v", name, want, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantUpstreamError(t *testing.T, err error, upstream, contains string) {
	t.Helper()
	var je *jsonrpc.Error
	if !errors.As(err, &je) {
		t.Fatalf("got %v, want a protocol error", err)
	}
	if !strings.Contains(je.Message, fmt.Sprintf("%q", upstream)) || !strings.Contains(je.Message, contains) {
		t.Errorf("error %q does not name upstream %q and say %q", je.Message, upstream, contains)
	}
}

// An upstream killed in the middle of a call: its caller gets an error
// naming it, the other upstreams keep serving, and it is restarted.
func TestUpstreamKilledMidCall(t *testing.T) {
	g, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{
		helperUpstream(t, "a", "server"),
		{Name: "b", Server: newAskServer(nil).Server},
	}})
	cs := connect(t, url, nil)
	_, err := cs.CallToolArgs(ctxT(t), "a_crash", nil)
	wantUpstreamError(t, err, "a", "")
	if res, err := cs.CallToolArgs(ctxT(t), "b_ask", nil); err != nil || !res.IsError {
		// b_ask elicits and this client cannot answer: a tool error, not
		// a failure of the gateway.
		t.Errorf("b_ask after a's crash: %v %v", res, err)
	}
	s := waitState(t, g, "a", gateway.StateReady, func(s gateway.UpstreamStatus) bool { return s.Restarts >= 1 })
	if s.Restarts < 1 {
		t.Errorf("restarts: %d", s.Restarts)
	}
	res, err := cs.CallToolArgs(ctxT(t), "a_echo", map[string]any{"x": 1})
	if err != nil || text(t, res) != `{"x":1}` {
		t.Errorf("a_echo after the restart: %v %v", res, err)
	}
}

// An upstream that hangs: the call times out with an error naming it.
func TestUpstreamHangs(t *testing.T) {
	up := helperUpstream(t, "a", "server")
	up.Timeout = 300 * time.Millisecond
	_, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{up, {Name: "b", Server: newAskServer(nil).Server}}})
	cs := connect(t, url, nil)
	start := time.Now()
	_, err := cs.CallToolArgs(ctxT(t), "a_hang", nil)
	wantUpstreamError(t, err, "a", "did not answer tools/call within 300ms")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	if _, err := cs.CallToolArgs(ctxT(t), "a_echo", nil); err != nil {
		t.Errorf("a_echo after a hung call: %v", err)
	}
}

// Upstreams that exit at start or write garbage fail, with their stderr in
// the status; the gateway and the other upstreams serve; callers of the
// failed ones get errors naming them. Garbage before valid messages is
// skipped.
func TestUpstreamExitAndGarbage(t *testing.T) {
	g, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{
		helperUpstream(t, "quits", "exit"),
		helperUpstream(t, "noisy", "garbage"),
		helperUpstream(t, "banner", "garbage-serve"),
		{Name: "good", Server: newAskServer(nil).Server},
	}})
	s := waitState(t, g, "quits", gateway.StateFailed, nil)
	if !strings.Contains(s.Error, "missing API key") {
		t.Errorf("quits: error %q lacks its stderr", s.Error)
	}
	waitState(t, g, "noisy", gateway.StateFailed, nil)
	waitState(t, g, "banner", gateway.StateReady, nil)
	waitState(t, g, "good", gateway.StateReady, nil)
	if !g.Ready() {
		t.Error("the gateway is not ready with two upstreams up")
	}
	cs := connect(t, url, nil)
	names := toolNames(t, cs)
	for _, want := range []string{"banner_echo", "good_ask"} {
		if !contains(names, want) {
			t.Errorf("tools lack %s: %v", want, names)
		}
	}
	if res, err := cs.CallToolArgs(ctxT(t), "banner_echo", map[string]any{"ok": true}); err != nil || text(t, res) != `{"ok":true}` {
		t.Errorf("banner_echo: %v %v", res, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
