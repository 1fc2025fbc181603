package gateway_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newGateway starts a gateway over HTTP and returns its /mcp URL.
func newGateway(t *testing.T, opts gateway.Options) (*gateway.Gateway, string) {
	t.Helper()
	g, err := gateway.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(g.Handler())
	t.Cleanup(func() {
		g.Close()
		ts.Close()
	})
	return g, ts.URL + gateway.PathMCP
}

// connect opens a client session with the gateway at url.
func connect(t *testing.T, url string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "test-client", Version: "1"}, opts).Connect(ctxT(t), streamable.NewDialer(url, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	var names []string
	for tool, err := range cs.Tools(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	return names
}

func text(t *testing.T, res *protocol.CallToolResult) string {
	t.Helper()
	if len(res.Content) == 0 {
		t.Fatalf("no content in %+v", res)
	}
	tc, ok := res.Content[0].(*protocol.TextContent)
	if !ok {
		t.Fatalf("content is %T", res.Content[0])
	}
	return tc.Text
}

func TestGatewayTwoUpstreams(t *testing.T) {
	a := everything.NewServer(nil)
	b := everything.NewServer(nil)
	g, url := newGateway(t, gateway.Options{Upstreams: []gateway.Upstream{
		{Name: "a", Server: a},
		{Name: "b", Server: b},
	}})
	ups, collisions := g.Status()
	if len(collisions) != 0 {
		t.Errorf("collisions: %v", collisions)
	}
	for _, u := range ups {
		if u.State != gateway.StateReady {
			t.Errorf("upstream %s: %s %s", u.Name, u.State, u.Error)
		}
	}

	var mu sync.Mutex
	var elicited []string
	cs := connect(t, url, &mcp.ClientOptions{
		Elicit: func(ctx context.Context, _ *mcp.ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			mu.Lock()
			elicited = append(elicited, p.Message)
			mu.Unlock()
			return &protocol.ElicitResult{Action: protocol.ElicitActionAccept, Content: map[string]any{"username": "ada", "email": "ada@example.com"}}, nil
		},
	})
	names := toolNames(t, cs)
	for _, want := range []string{"a_echo", "b_echo", "a_add", "b_test_elicitation"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %s: %v", want, names)
		}
	}
	res, err := cs.CallToolArgs(ctxT(t), "b_echo", map[string]any{"text": "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, res); !strings.Contains(got, "hello") {
		t.Errorf("b_echo: %q", got)
	}
	res, err = cs.CallToolArgs(ctxT(t), "a_test_elicitation", map[string]any{"message": "who?"})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || len(elicited) != 1 {
		t.Errorf("elicitation relay: %+v, elicited %v", res, elicited)
	}

	// Progress reaches the client.
	var progress []float64
	pctx := mcp.WithProgress(ctxT(t), func(p *protocol.ProgressNotificationParams) {
		mu.Lock()
		progress = append(progress, p.Progress)
		mu.Unlock()
	})
	if _, err := cs.CallToolArgs(pctx, "a_test_tool_with_progress", nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(progress) == 0 {
		t.Error("no progress relayed")
	}
	mu.Unlock()

	// Resources: the same URIs from both upstreams are rewritten.
	var uris []string
	for r, err := range cs.Resources(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		uris = append(uris, r.URI)
	}
	if !slices.Contains(uris, "test://a/static-text") || !slices.Contains(uris, "test://b/static-text") {
		t.Errorf("resources: %v", uris)
	}
	rr, err := cs.ReadResource(ctxT(t), "test://b/static-text")
	if err != nil {
		t.Fatal(err)
	}
	if got := rr.Contents[0].(*protocol.TextResourceContents); got.URI != "test://b/static-text" {
		t.Errorf("read: uri %q", got.URI)
	}
	// A templated URI of a rewritten template.
	rr, err = cs.ReadResource(ctxT(t), "test://a/template/7/data")
	if err != nil {
		t.Fatal(err)
	}
	if got := rr.Contents[0].(*protocol.TextResourceContents); !strings.Contains(got.Text, "7") {
		t.Errorf("templated read: %+v", got)
	}

	// Prompts and completion.
	pr, err := cs.GetPrompt(ctxT(t), "a_test_prompt_with_arguments", map[string]string{"arg1": "x", "arg2": "y"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Messages) == 0 {
		t.Error("empty prompt")
	}
	comp, err := cs.Complete(ctxT(t), &protocol.CompleteRequestParams{Ref: &protocol.PromptReference{Name: "b_test_prompt_with_arguments"}, Argument: protocol.CompleteArgument{Name: "arg1", Value: "pa"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(comp.Completion.Values) == 0 {
		t.Error("no completion values")
	}
}

// Older clients keep working in front of new upstreams: 2024-11-05 over
// the legacy HTTP+SSE endpoint, 2025-03-26 over Streamable HTTP.
func TestGatewayOlderClients(t *testing.T) {
	g, err := gateway.New(gateway.Options{Upstreams: []gateway.Upstream{{Name: "a", Server: everything.NewServer(nil)}}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(g.Handler())
	defer func() { g.Close(); ts.Close() }()
	for _, c := range []struct {
		version string
		dialer  transport.Dialer
	}{
		{protocol.Version20241105, sse.NewDialer(ts.URL+gateway.PathSSE, nil)},
		{protocol.Version20250326, streamable.NewDialer(ts.URL+gateway.PathMCP, nil)},
	} {
		t.Run(c.version, func(t *testing.T) {
			cs, err := mcp.NewClient(protocol.Implementation{Name: "old", Version: "1"}, &mcp.ClientOptions{ProtocolVersion: c.version}).Connect(ctxT(t), c.dialer)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			if cs.ProtocolVersion() != c.version {
				t.Errorf("negotiated %s", cs.ProtocolVersion())
			}
			res, err := cs.CallToolArgs(ctxT(t), "echo", map[string]any{"text": "old"})
			if err != nil || !strings.Contains(text(t, res), "old") {
				t.Errorf("echo: %v %v", res, err)
			}
		})
	}
}

func TestGatewayHealthEndpoints(t *testing.T) {
	g, err := gateway.New(gateway.Options{Upstreams: []gateway.Upstream{
		{Name: "up", Server: everything.NewServer(nil)},
		{Name: "down", Command: &gateway.Command{Path: "/nonexistent"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(g.Handler())
	defer ts.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(gateway.PathHealthz); code != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", code, body)
	}
	code, body := get(gateway.PathReadyz)
	if code != 200 || !strings.Contains(body, `"name":"down","state":"failed"`) || !strings.Contains(body, `"name":"up","state":"ready"`) {
		t.Errorf("readyz with one upstream up: %d %s", code, body)
	}
	g.Close()
	if code, _ := get(gateway.PathReadyz); code != http.StatusServiceUnavailable {
		t.Errorf("readyz after Close: %d", code)
	}
}

func dialer(url string) transport.Dialer { return streamable.NewDialer(url, nil) }
