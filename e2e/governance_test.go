package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// startRedisServer runs Debian's redis-server on a free loopback port
// until the test ends; it returns its URL and a function that kills it.
func startRedisServer(t *testing.T) (string, func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (make test installs Debian's redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(kill)
	deadline := time.Now().Add(wait)
	for {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", port), kill
}

func connectURL(t *testing.T, ctx context.Context, url string) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "e2e", Version: "1"}, nil).Connect(ctx, streamable.NewDialer(url, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// Two gateway processes share a rate limit through a real redis-server:
// 4 calls per minute across both, then HTTP 429 with Retry-After from
// either; with Redis killed, the configured fail mode (closed) holds.
// The same configuration serves a virtual server in search mode and a
// policy that hides and refuses a tool.
func TestGovernanceServe(t *testing.T) {
	t.Parallel()
	redisURL, killRedis := startRedisServer(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gateway.yaml")
	body := fmt.Sprintf(`mcpServers:
  demo: {command: %q, args: [demo, everything]}
policy:
  rules:
    - name: no-math
      when: original == "add"
      reason: arithmetic is not allowed here
limits:
  store: redis
  redis: {url: %q, failMode: closed}
  rules:
    - {name: echo-budget, key: [upstream], tools: [echo], rate: 4/m}
virtualServers:
  finder:
    tools: search
    searchHint: The demo server's test tools.
`, binary, redisURL)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	g1 := startServe(t, "--config", cfg, "--data-dir", filepath.Join(dir, "d1"))
	g2 := startServe(t, "--config", cfg, "--data-dir", filepath.Join(dir, "d2"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*wait)
	defer cancel()
	c1 := connectURL(t, ctx, "http://"+g1.addr+"/mcp")
	c2 := connectURL(t, ctx, "http://"+g2.addr+"/mcp")

	tools := gatewayTools(t, ctx, c1)
	for _, n := range tools {
		if n == "add" {
			t.Errorf("the policy's tool is listed: %v", tools)
		}
	}
	if _, err := c1.CallToolArgs(ctx, "add", map[string]any{"a": 1, "b": 2}); err == nil || !strings.Contains(err.Error(), "no-math") {
		t.Errorf("denied call: %v", err)
	}

	for i := range 4 {
		cs := c1
		if i%2 == 1 {
			cs = c2
		}
		if res, err := cs.CallToolArgs(ctx, "echo", map[string]any{"text": "hi"}); err != nil || res.IsError {
			t.Fatalf("call %d: %v %v", i+1, res, err)
		}
	}
	for i, cs := range []*mcp.ClientSession{c1, c2} {
		_, err := cs.CallToolArgs(ctx, "echo", map[string]any{"text": "hi"})
		var he *transport.HTTPError
		if !errors.As(err, &he) || he.StatusCode != http.StatusTooManyRequests || http.Header(he.Header).Get("Retry-After") == "" {
			t.Errorf("gateway %d after the shared budget: %v", i+1, err)
		}
	}
	// Other tools are not limited by the echo budget.
	if _, err := c2.CallToolArgs(ctx, "test_simple_text", nil); err != nil {
		t.Errorf("another tool: %v", err)
	}
	killRedis()
	// A 429 when the answer is JSON; a tool error when the transport had
	// switched to an event stream while Redis was being dialed.
	res, err := c2.CallToolArgs(ctx, "echo", map[string]any{"text": "hi"})
	var he *transport.HTTPError
	if !(errors.As(err, &he) && he.StatusCode == http.StatusTooManyRequests && strings.Contains(he.Body, "cannot be checked")) &&
		!(err == nil && res.IsError && strings.Contains(res.Content[0].(*protocol.TextContent).Text, "cannot be checked")) {
		t.Errorf("with Redis down (fail closed): %v %v", res, err)
	}

	// The virtual server in search mode.
	vs := connectURL(t, ctx, "http://"+g1.addr+"/v/finder/mcp")
	if got := gatewayTools(t, ctx, vs); len(got) != 2 || got[0] != "call_tool" && got[0] != "find_tools" {
		t.Errorf("search-mode tools: %v", got)
	}
	res, err = vs.CallToolArgs(ctx, "find_tools", map[string]any{"query": "image content"})
	if err != nil || res.IsError || !strings.Contains(string(res.StructuredContent), "test_image_content") || strings.Contains(string(res.StructuredContent), `"add"`) {
		t.Errorf("find_tools: %v %v", res, err)
	}
}

// switchboard policy test prints each fixture's decision and fails when
// one is not the expected one.
func TestPolicyTestCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fixtures := filepath.Join(dir, "fixtures.yaml")
	write := func(expect string) {
		t.Helper()
		body := `policy:
  rules:
    - name: contractors-read-only
      when: '"contractors" in identity.groups && !tool.annotations.readOnlyHint'
      reason: contractors may only read
cases:
  - name: contractor writes
    tool: fs_write
    identity: {subject: bob, groups: [contractors]}
    expect: ` + expect + `
  - name: contractor reads
    tool: fs_read
    annotations: {readOnlyHint: true}
    identity: {subject: bob, groups: [contractors]}
    expect: allow
  - name: staff writes
    tool: fs_write
    identity: {subject: ada, groups: [staff]}
`
		if err := os.WriteFile(fixtures, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("deny")
	out, err := exec.Command(binary, "policy", "test", fixtures).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{`PASS  contractor writes: deny by rule "contractors-read-only": contractors may only read`,
		`PASS  contractor reads: allow (rule "default")`, `      staff writes: allow (rule "default")`, "2 passed, 0 failed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	write("allow")
	out, err = exec.Command(binary, "policy", "test", fixtures).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "FAIL  contractor writes") || !strings.Contains(string(out), "(want allow)") {
		t.Errorf("a failing case: %v\n%s", err, out)
	}
}
