package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gojson "encoding/json"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// TestGateway runs `switchboard serve --config FILE` in front of three real
// upstreams at once — Switchboard's demo over stdio, the go-sdk peer server
// over Streamable HTTP and @modelcontextprotocol/server-everything over
// stdio — with real clients (Switchboard's and the TypeScript SDK's), and
// checks the relay end to end: merged lists under the configured names,
// calls, sampling and elicitation reaching the client that made the call
// and no other, progress, cancellation seen by the upstream,
// resources/updated, and list_changed after an upstream changes its tools
// and after a configuration reload (a bad reload keeps the running
// configuration).
func TestGateway(t *testing.T) {
	needBins(t)
	node, reason := nodeBin()
	if reason != "" {
		t.Skip(reason)
	}
	_, gosdkURL := startGoPeer(t, bins.gosdkServer, "http")
	everything := filepath.Join(conformanceDir, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
	servers := map[string]any{
		"demo":       map[string]any{"command": bins.switchboard, "args": []string{"demo", "everything"}, "session": "per-client"},
		"gosdk":      map[string]any{"type": "http", "url": gosdkURL},
		"everything": map[string]any{"command": node, "args": []string{"--require", filepath.Join(conformanceDir, "loopback.cjs"), everything, "stdio"}},
	}
	cfg := filepath.Join(t.TempDir(), "mcp.json")
	writeConfig(t, cfg, servers)

	cmd := exec.Command(bins.switchboard, "serve", "--config", cfg, "--addr", "127.0.0.1:0", "-v")
	gw := startHTTPServer(t, cmd, "", true, "/mcp")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	changed := make(chan struct{}, 64)
	updated := make(chan string, 16)
	a := gatewayClient(ctx, t, gw.URL, "alice", func(o *mcp.ClientOptions) {
		o.OnToolsListChanged = func(context.Context, *mcp.ClientSession) { changed <- struct{}{} }
		o.OnResourceUpdated = func(_ context.Context, _ *mcp.ClientSession, p *protocol.ResourceUpdatedNotificationParams) {
			updated <- p.URI
		}
	})
	b := gatewayClient(ctx, t, gw.URL, "bob", nil)

	t.Run("merged lists", func(t *testing.T) {
		tools := listNames(ctx, t, a)
		for _, want := range []string{"demo_echo", "demo_count_slowly", "gosdk_echo", "gosdk_ask_user", "everything_echo", "everything_get-sum"} {
			if !slices.Contains(tools, want) {
				t.Errorf("tools/list lacks %s: %v", want, tools)
			}
		}
		var prompts []string
		for p, err := range a.Prompts(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			prompts = append(prompts, p.Name)
		}
		for _, want := range []string{"demo_test_simple_prompt", "gosdk_greet", "everything_simple-prompt"} {
			if !slices.Contains(prompts, want) {
				t.Errorf("prompts/list lacks %s: %v", want, prompts)
			}
		}
	})

	t.Run("calls", func(t *testing.T) {
		for _, c := range []struct {
			tool string
			args map[string]any
			want string
		}{
			{"demo_echo", map[string]any{"text": "hi demo"}, "hi demo"},
			{"gosdk_echo", map[string]any{"text": "hi go-sdk"}, "hi go-sdk"},
			{"everything_echo", map[string]any{"message": "hi ts"}, "Echo: hi ts"},
		} {
			res, err := a.CallToolArgs(ctx, c.tool, c.args)
			if err != nil {
				t.Errorf("%s: %v", c.tool, err)
				continue
			}
			if got := firstText(res); !strings.Contains(got, c.want) {
				t.Errorf("%s: %q, want %q", c.tool, got, c.want)
			}
		}
	})

	t.Run("sampling and elicitation reach the caller", func(t *testing.T) {
		var wg sync.WaitGroup
		for _, c := range []*mcp.ClientSession{a, b} {
			who := "alice"
			if c == b {
				who = "bob"
			}
			for _, call := range []struct {
				tool string
				args map[string]any
				want string
			}{
				{"gosdk_ask_user", map[string]any{"message": "name?"}, "name=" + who},
				{"gosdk_ask_llm", map[string]any{"prompt": "hi"}, "llm said: " + who + " samples"},
				{"demo_test_elicitation", map[string]any{"message": "name?"}, who},
			} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 3 {
						res, err := c.CallToolArgs(ctx, call.tool, call.args)
						if err != nil {
							t.Errorf("%s %s: %v", who, call.tool, err)
							return
						}
						if got := firstText(res); !strings.Contains(got, call.want) {
							t.Errorf("%s %s: %q, want %q", who, call.tool, got, call.want)
						}
					}
				}()
			}
		}
		wg.Wait()
	})

	t.Run("progress", func(t *testing.T) {
		var mu sync.Mutex
		var got []float64
		pctx := mcp.WithProgress(ctx, func(p *protocol.ProgressNotificationParams) {
			mu.Lock()
			got = append(got, p.Progress)
			mu.Unlock()
		})
		if _, err := a.CallToolArgs(pctx, "gosdk_progress", map[string]any{"steps": 3}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 3 {
			t.Errorf("progress notifications: %v, want 3", got)
		}
	})

	t.Run("cancellation reaches the upstream", func(t *testing.T) {
		cctx, stop := context.WithCancel(ctx)
		first := make(chan struct{}, 1)
		pctx := mcp.WithProgress(cctx, func(*protocol.ProgressNotificationParams) {
			select {
			case first <- struct{}{}:
			default:
			}
		})
		errc := make(chan error, 1)
		go func() {
			_, err := a.CallToolArgs(pctx, "demo_count_slowly", map[string]any{"to": 100, "delayMs": 100})
			errc <- err
		}()
		select {
		case <-first:
		case <-time.After(20 * time.Second):
			t.Fatal("no progress from count_slowly")
		}
		stop()
		<-errc
		waitFor(t, 15*time.Second, "the demo's cancellation in the gateway's log", func() bool {
			return strings.Contains(gw.stderr.String(), "count_slowly: stopped at")
		})
	})

	t.Run("resources/updated", func(t *testing.T) {
		if err := a.Subscribe(ctx, "interop://greeting"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.CallToolArgs(ctx, "gosdk_touch", map[string]any{"uri": "interop://greeting"}); err != nil {
			t.Fatal(err)
		}
		select {
		case uri := <-updated:
			if uri != "interop://greeting" {
				t.Errorf("update for %q", uri)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("no resources/updated")
		}
	})

	t.Run("list_changed from an upstream", func(t *testing.T) {
		drain(changed)
		if _, err := b.CallToolArgs(ctx, "gosdk_grow", nil); err != nil {
			t.Fatal(err)
		}
		waitChan(t, changed, "tools/list_changed after gosdk added a tool")
		waitFor(t, 10*time.Second, "gosdk_grown in tools/list", func() bool { return slices.Contains(listNames(ctx, t, a), "gosdk_grown") })
		res, err := a.CallToolArgs(ctx, "gosdk_grown", nil)
		if err != nil || firstText(res) != "grown" {
			t.Errorf("gosdk_grown: %v %v", res, err)
		}
	})

	t.Run("TypeScript SDK client", func(t *testing.T) {
		p, err := connectTS(ctx, t, "http", nil, gw.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		tools, err := p.List(ctx, "tools")
		if err != nil {
			t.Fatal(err)
		}
		if m := missing(names(tools, "name"), []string{"demo_echo", "gosdk_echo", "everything_echo"}); len(m) > 0 {
			t.Errorf("missing %v", m)
		}
		for _, c := range []struct {
			tool string
			args obj
			want string
		}{
			{"everything_echo", obj{"message": "ts"}, "Echo: ts"},
			{"gosdk_ask_llm", obj{"prompt": "q"}, "llm said: sampled: q"},
			{"demo_test_elicitation", obj{"message": "name?"}, "accept"},
			{"everything_get-sum", obj{"a": 1, "b": 2}, "3"},
		} {
			res, _, err := p.CallTool(ctx, c.tool, c.args, false)
			if err != nil {
				t.Errorf("%s: %v", c.tool, err)
				continue
			}
			if got := mustJSON(res); !strings.Contains(got, c.want) {
				t.Errorf("%s: %s, want %q", c.tool, got, c.want)
			}
		}
		if _, token, err := p.CallTool(ctx, "gosdk_progress", obj{"steps": 2}, true); err != nil || token == nil {
			t.Errorf("progress call: token %v, %v", token, err)
		}
		waitFor(t, 10*time.Second, "progress notifications at the TS client", func() bool {
			n := 0
			for _, no := range p.Notifications() {
				if no.Method == "notifications/progress" {
					n++
				}
			}
			return n >= 2
		})
	})

	t.Run("reload", func(t *testing.T) {
		drain(changed)
		servers["demo2"] = map[string]any{"command": bins.switchboard, "args": []string{"demo", "everything"}}
		writeConfig(t, cfg, servers)
		waitChan(t, changed, "tools/list_changed after the reload")
		waitFor(t, 20*time.Second, "demo2_echo after the reload", func() bool { return slices.Contains(listNames(ctx, t, a), "demo2_echo") })

		// A bad file keeps the running configuration, and says why.
		if err := os.WriteFile(cfg, []byte(`{"mcpServers": {"x": {"comand": "nope"}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 15*time.Second, "the reload error in the gateway's log", func() bool {
			return strings.Contains(gw.stderr.String(), "comand")
		})
		if res, err := a.CallToolArgs(ctx, "demo2_echo", map[string]any{"text": "still"}); err != nil || !strings.Contains(firstText(res), "still") {
			t.Errorf("demo2_echo after a bad reload: %v %v", res, err)
		}
	})
}

func writeConfig(t *testing.T, path string, servers map[string]any) {
	t.Helper()
	b, err := gojson.MarshalIndent(map[string]any{"mcpServers": servers}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// gatewayClient connects a Switchboard client that answers elicitation
// with its name and sampling with "<name> samples".
func gatewayClient(ctx context.Context, t *testing.T, url, who string, edit func(*mcp.ClientOptions)) *mcp.ClientSession {
	t.Helper()
	o := &mcp.ClientOptions{
		Elicit: func(context.Context, *mcp.ClientSession, *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			return &protocol.ElicitResult{Action: protocol.ElicitActionAccept, Content: map[string]any{"name": who, "response": who}}, nil
		},
		CreateMessage: func(context.Context, *mcp.ClientSession, *protocol.CreateMessageRequestParams) (*protocol.CreateMessageResult, error) {
			return &protocol.CreateMessageResult{Role: protocol.RoleAssistant, Model: "test", Content: protocol.SamplingContents{&protocol.TextContent{Text: who + " samples"}}}, nil
		},
	}
	if edit != nil {
		edit(o)
	}
	cs, err := mcp.NewClient(protocol.Implementation{Name: who, Version: "1"}, o).Connect(ctx, streamable.NewDialer(url, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func listNames(ctx context.Context, t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	var out []string
	for tool, err := range cs.Tools(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tool.Name)
	}
	return out
}

func firstText(res *protocol.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*protocol.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if len(res.StructuredContent) > 0 {
		b.Write(res.StructuredContent)
	}
	return b.String()
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitChan(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func drain(ch chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

var _ = fmt.Sprintf
