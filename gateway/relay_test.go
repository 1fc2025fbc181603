package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// askServer is an upstream whose "ask" tool elicits a name and returns it,
// and whose "slow" tool waits until it is cancelled.
type askServer struct {
	*mcp.Server
	cancelled chan struct{}
	started   chan struct{}
}

func newAskServer(versions []string) *askServer {
	s := &askServer{
		Server:    mcp.NewServer(protocol.Implementation{Name: "ask", Version: "1"}, &mcp.ServerOptions{SupportedVersions: versions}),
		cancelled: make(chan struct{}, 16),
		started:   make(chan struct{}, 16),
	}
	s.AddTool(&protocol.Tool{Name: "ask"}, func(ctx context.Context, req *mcp.Request, _ *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		res, err := req.Elicit(mcp.WithInputKey(ctx, "name"), &protocol.ElicitRequestParams{Message: "Your name?",
			RequestedSchema: &protocol.ElicitSchema{Properties: map[string]protocol.PrimitiveSchema{"name": &protocol.StringSchema{}}}})
		if err != nil {
			return nil, err
		}
		return mcp.TextResult(fmt.Sprintf("hello %v (%s)", res.Content["name"], res.Action)), nil
	})
	s.AddTool(&protocol.Tool{Name: "slow"}, func(ctx context.Context, req *mcp.Request, _ *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		s.started <- struct{}{}
		<-ctx.Done()
		s.cancelled <- struct{}{}
		return nil, ctx.Err()
	})
	return s
}

// answerWith answers elicitations with a fixed name and counts them.
func answerWith(name string, n *atomic.Int32) *mcp.ClientOptions {
	return &mcp.ClientOptions{Elicit: func(ctx context.Context, _ *mcp.ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
		n.Add(1)
		return &protocol.ElicitResult{Action: protocol.ElicitActionAccept, Content: map[string]any{"name": name}}, nil
	}}
}

// Concurrent clients each get their own elicitations, whether the upstream
// is shared over Streamable HTTP (the transport tells which call asks) or
// runs per client over stdio.
func TestElicitationReachesTheCallingClient(t *testing.T) {
	httpUp := newAskServer(nil)
	h := streamable.NewHandler(httpUp, nil)
	ts := httptest.NewServer(h)
	defer func() { h.Close(); ts.Close() }()
	_, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{
		{Name: "web", URL: ts.URL},
		{Name: "local", Server: newAskServer(nil).Server, Session: gateway.SessionPerClient},
	}})
	const clients = 4
	var wg sync.WaitGroup
	for i := range clients {
		for _, tool := range []string{"web_ask", "local_ask"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var n atomic.Int32
				name := fmt.Sprintf("client-%d", i)
				cs := connect(t, url, answerWith(name, &n))
				for range 3 {
					res, err := cs.CallToolArgs(ctxT(t), tool, nil)
					if err != nil {
						t.Errorf("%s %s: %v", name, tool, err)
						return
					}
					if got, want := text(t, res), "hello "+name+" (accept)"; got != want {
						t.Errorf("%s %s: %q, want %q", name, tool, got, want)
					}
				}
				if n.Load() != 3 {
					t.Errorf("%s got %d elicitations, want 3", name, n.Load())
				}
			}()
		}
	}
	wg.Wait()
}

// A 2026-07-28 client in front of a 2025-11-25 upstream whose tool elicits:
// the call ends with input_required and completes when the client retries
// (the client library retries by itself).
func TestBridge2026ClientTo2025Upstream(t *testing.T) {
	up := newAskServer([]string{protocol.Version20251125})
	_, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{{Name: "old", Server: up.Server}}})
	var n atomic.Int32
	o := answerWith("ada", &n)
	o.ProtocolVersion = protocol.Version20260728
	cs := connect(t, url, o)
	if !cs.Stateless() {
		t.Fatal("the client did not speak 2026-07-28")
	}
	res, err := cs.CallToolArgs(ctxT(t), "ask", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, res); got != "hello ada (accept)" || n.Load() != 1 {
		t.Errorf("%q after %d elicitations", got, n.Load())
	}

	// Raw rounds: the input key is the gateway's, and a retry with an
	// unknown exchange is refused clearly.
	ctx := mcp.WithInputRequiredResult(ctxT(t))
	var ir protocol.InputRequiredResult
	if err := cs.Call(ctx, protocol.MethodToolsCall, map[string]any{"name": "ask"}, &ir); err != nil {
		t.Fatal(err)
	}
	if ir.ResultType != protocol.ResultTypeInputRequired || len(ir.InputRequests) != 1 {
		t.Fatalf("first round: %+v", ir)
	}
	var key string
	for k := range ir.InputRequests {
		key = k
	}
	err = cs.Call(ctx, protocol.MethodToolsCall, map[string]any{"name": "ask", "requestState": ir.RequestState,
		"inputResponses": map[string]any{"sbx.0000.1": map[string]any{"action": "decline"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "no longer held") {
		t.Errorf("retry for an unknown exchange: %v", err)
	}
	// A retry that answers another question of the exchange is asked
	// again.
	var again protocol.InputRequiredResult
	if err := cs.Call(ctx, protocol.MethodToolsCall, map[string]any{"name": "ask", "requestState": ir.RequestState,
		"inputResponses": map[string]any{key + "9": map[string]any{"action": "decline"}}}, &again); err != nil {
		t.Fatal(err)
	}
	if _, ok := again.InputRequests[key]; !ok || again.ResultType != protocol.ResultTypeInputRequired {
		t.Errorf("retry without the answer: %+v", again)
	}
	var res2 protocol.CallToolResult
	if err := cs.Call(ctx, protocol.MethodToolsCall, map[string]any{"name": "ask", "requestState": ir.RequestState,
		"inputResponses": map[string]any{key: map[string]any{"action": "accept", "content": map[string]any{"name": "bob"}}}}, &res2); err != nil {
		t.Fatal(err)
	}
	if got := text(t, &res2); got != "hello bob (accept)" {
		t.Errorf("second round: %q", got)
	}
}

// A 2025-11-25 client in front of an upstream that speaks only 2026-07-28
// and answers input_required: the client gets an ordinary elicitation and
// the gateway retries upstream.
func TestBridge2025ClientTo2026Upstream(t *testing.T) {
	up := newAskServer([]string{protocol.Version20260728}) // stateless revisions only
	if len(up.SupportedVersions()) != 0 || len(up.StatelessVersions()) == 0 {
		t.Fatalf("fixture: versions %v / %v", up.SupportedVersions(), up.StatelessVersions())
	}
	h := streamable.NewHandler(up, nil)
	ts := httptest.NewServer(h)
	defer func() { h.Close(); ts.Close() }()
	g, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{{Name: "new", URL: ts.URL, ProtocolVersion: protocol.Version20260728}}})
	if st, _ := g.Status(); st[0].ProtocolVersion != protocol.Version20260728 {
		t.Fatalf("upstream speaks %q", st[0].ProtocolVersion)
	}
	var n atomic.Int32
	cs := connect(t, url, answerWith("eve", &n))
	if cs.ProtocolVersion() != protocol.Version20251125 {
		t.Fatalf("client speaks %s", cs.ProtocolVersion())
	}
	res, err := cs.CallToolArgs(ctxT(t), "ask", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, res); got != "hello eve (accept)" || n.Load() != 1 {
		t.Errorf("%q after %d elicitations", got, n.Load())
	}
}

// A client's cancellation reaches the upstream as notifications/cancelled.
func TestCancellationReachesUpstream(t *testing.T) {
	for _, mode := range []string{"http", "stdio"} {
		t.Run(mode, func(t *testing.T) {
			up := newAskServer(nil)
			spec := gateway.Upstream{Name: "up", Server: up.Server}
			if mode == "http" {
				h := streamable.NewHandler(up, nil)
				ts := httptest.NewServer(h)
				defer func() { h.Close(); ts.Close() }()
				spec = gateway.Upstream{Name: "up", URL: ts.URL}
			}
			_, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{spec}})
			cs := connect(t, url, nil)
			ctx, cancel := context.WithCancel(ctxT(t))
			errc := make(chan error, 1)
			go func() {
				_, err := cs.CallToolArgs(ctx, "slow", nil)
				errc <- err
			}()
			select {
			case <-up.started:
			case <-time.After(10 * time.Second):
				t.Fatal("the call did not reach the upstream")
			}
			cancel()
			select {
			case <-up.cancelled:
			case <-time.After(10 * time.Second):
				t.Fatal("the upstream's handler was not cancelled")
			}
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("call: %v", err)
			}
		})
	}
}

// An upstream that adds a tool makes the gateway tell its clients, and a
// reload that adds an upstream does too.
func TestListChangedFromUpstreamAndReload(t *testing.T) {
	up := newAskServer(nil)
	g, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{{Name: "a", Server: up.Server}}})
	changed := make(chan struct{}, 16)
	cs := connect(t, url, &mcp.ClientOptions{OnToolsListChanged: func(context.Context, *mcp.ClientSession) { changed <- struct{}{} }})
	waitChanged := func(what string) {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(10 * time.Second):
			t.Fatalf("no tools/list_changed after %s", what)
		}
	}
	up.AddTool(&protocol.Tool{Name: "late"}, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return mcp.TextResult("late"), nil
	})
	waitChanged("the upstream added a tool")
	if names := toolNames(t, cs); !slices.Contains(names, "late") {
		t.Errorf("tools after the change: %v", names)
	}

	// A second upstream: names get prefixes (auto naming), in one change.
	if err := g.Update([]gateway.Upstream{{Name: "a", Server: up.Server}, {Name: "b", Server: newAskServer(nil).Server}}); err != nil {
		t.Fatal(err)
	}
	waitChanged("the reload")
	names := toolNames(t, cs)
	for _, want := range []string{"a_late", "a_ask", "b_ask"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools after the reload lack %s: %v", want, names)
		}
	}
	res, err := cs.CallToolArgs(ctxT(t), "a_late", nil)
	if err != nil || text(t, res) != "late" {
		t.Errorf("a_late: %v %v", res, err)
	}
	// An invalid update is refused and changes nothing.
	if err := g.Update([]gateway.Upstream{{Name: "a", Server: up.Server}, {Name: "a", Server: up.Server}}); err == nil {
		t.Error("an update with two upstreams of one name was accepted")
	}
	if st, _ := g.Status(); len(st) != 2 {
		t.Errorf("after a refused update: %d upstreams", len(st))
	}
}

// Subscriptions go upstream, and updates come back under the exposed URI.
func TestResourceUpdatedRelayed(t *testing.T) {
	up := newAskServer(nil)
	up.AddResource(&protocol.Resource{URI: "note://one", Name: "one"}, func(ctx context.Context, _ *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
		return mcp.TextResource(uri, "text/plain", "1"), nil
	})
	other := newAskServer(nil)
	other.AddResource(&protocol.Resource{URI: "note://one", Name: "one"}, func(ctx context.Context, _ *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
		return mcp.TextResource(uri, "text/plain", "other"), nil
	})
	_, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{{Name: "a", Server: up.Server}, {Name: "b", Server: other.Server}}})
	updates := make(chan string, 16)
	cs := connect(t, url, &mcp.ClientOptions{OnResourceUpdated: func(_ context.Context, _ *mcp.ClientSession, p *protocol.ResourceUpdatedNotificationParams) {
		updates <- p.URI
	}})
	if err := cs.Subscribe(ctxT(t), "note://a/one"); err != nil {
		t.Fatal(err)
	}
	// The upstream learns of the subscription asynchronously of nothing:
	// Subscribe returned after the upstream's answer.
	up.ResourceUpdated(context.Background(), "note://one")
	select {
	case got := <-updates:
		if got != "note://a/one" {
			t.Errorf("update for %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no resources/updated")
	}
	other.ResourceUpdated(context.Background(), "note://one") // not subscribed
	select {
	case got := <-updates:
		t.Errorf("update of an unsubscribed resource: %q", got)
	case <-time.After(200 * time.Millisecond):
	}
}

// An unknown tool, and a failed upstream, give clear errors.
func TestErrorsNameTheUpstream(t *testing.T) {
	g, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{
		{Name: "good", Server: newAskServer(nil).Server},
		{Name: "broken", Command: &gateway.Command{Path: "/nonexistent/mcp-server"}},
	}, StartupWait: 5 * time.Second})
	st, _ := g.Status()
	for _, s := range st {
		if s.Name == "broken" && (s.State != gateway.StateFailed || !strings.Contains(s.Error, "nonexistent")) {
			t.Errorf("broken: %s %q", s.State, s.Error)
		}
	}
	cs := connect(t, url, nil)
	if names := toolNames(t, cs); !slices.Contains(names, "good_ask") {
		t.Errorf("tools: %v", names)
	}
	_, err := cs.CallToolArgs(ctxT(t), "broken_x", nil)
	var je *jsonrpc.Error
	if !errors.As(err, &je) || !strings.Contains(je.Message, "broken_x") {
		t.Errorf("unknown tool: %v", err)
	}
}

// A tool the upstream runs only as a task: the client calls it as a task
// of the gateway's, and the gateway runs it as a task upstream.
func TestTaskRequiredToolRelayed(t *testing.T) {
	up := mcp.NewServer(protocol.Implementation{Name: "tasks", Version: "1"}, nil)
	ran := make(chan string, 4)
	up.AddTool(&protocol.Tool{Name: "job", Execution: &protocol.ToolExecution{TaskSupport: protocol.TaskSupportRequired}},
		func(ctx context.Context, req *mcp.Request, _ *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			ran <- req.TaskID()
			return mcp.TextResult("done"), nil
		})
	_, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{{Name: "t", Server: up}}})
	cs := connect(t, url, nil)
	if _, err := cs.CallToolArgs(ctxT(t), "job", nil); err == nil {
		t.Error("a task-required tool ran without a task")
	}
	res, err := cs.CallToolAsTask(ctxT(t), &protocol.CallToolRequestParams{Name: "job"}, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	if text(t, res) != "done" {
		t.Errorf("result %+v", res)
	}
	if id := <-ran; id == "" {
		t.Error("the upstream did not run the tool as a task")
	}
}
