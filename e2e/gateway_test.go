package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// startGatewayServe starts `switchboard serve` with args on an ephemeral port and
// returns its base URL.
func startGatewayServe(t *testing.T, args ...string) *httpServer {
	t.Helper()
	return startGatewayEnv(t, nil, args...)
}

func startGatewayEnv(t *testing.T, env []string, args ...string) *httpServer {
	t.Helper()
	s := startStdioEnv(t, nil, env, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	deadline := time.Now().Add(3 * wait)
	for {
		if m := listeningRE.FindStringSubmatch(s.stderr.String()); m != nil {
			return &httpServer{stdioServer: s, base: "http://" + m[1]}
		}
		select {
		case <-s.exited:
			t.Fatalf("serve exited: %v\n%s", s.err, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not report its address:\n%s", s.stderr.String())
		}
	}
}

func gatewayTools(t *testing.T, ctx context.Context, cs *mcp.ClientSession) []string {
	t.Helper()
	var names []string
	for tool, err := range cs.Tools(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	return names
}

// Client configuration files are used as they are: a Claude Desktop file
// with the app's own settings beside mcpServers, and a VS Code mcp.json
// with comments, "servers", "inputs" and typed entries.
func TestGatewayClientConfigFiles(t *testing.T) {
	t.Parallel()
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }
	files := map[string]string{
		"claude_desktop_config.json": `{
  "mcpServers": {
    "demo": {"command": ` + q(binary) + `, "args": ["demo", "everything"]},
    "second": {"command": ` + q(binary) + `, "args": ["demo", "everything"], "env": {"DEMO_TOKEN": "secret"}}
  },
  "globalShortcut": "Alt+Space"
}`,
		"mcp.json": `// VS Code: .vscode/mcp.json
{
  "inputs": [
    {"type": "promptString", "id": "token", "description": "A token", "password": true}
  ],
  "servers": {
    "demo": {
      "type": "stdio",
      "command": ` + q(binary) + `,
      "args": ["demo", "everything"],
      "env": {"TOKEN": "${input:token}"}, // from SWITCHBOARD_INPUT_TOKEN
    },
    "second": {"type": "stdio", "command": ` + q(binary) + `, "args": ["demo", "everything"]},
  },
}`,
	}
	for name, body := range files {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			srv := startGatewayEnv(t, []string{"SWITCHBOARD_INPUT_TOKEN=t0k3n"}, "--config", path)
			ctx, cancel := context.WithTimeout(context.Background(), 3*wait)
			defer cancel()
			cs, err := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, streamable.NewDialer(srv.base+"/mcp", nil))
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			names := gatewayTools(t, ctx, cs)
			for _, want := range []string{"demo_echo", "second_echo"} {
				if !slices.Contains(names, want) {
					t.Errorf("tools lack %s: %v", want, names)
				}
			}
			res, err := cs.CallToolArgs(ctx, "second_echo", map[string]any{"text": "from " + name})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Content[0].(*protocol.TextContent).Text; !strings.Contains(got, "from "+name) {
				t.Errorf("second_echo: %q", got)
			}
			if strings.Contains(srv.stderr.String(), "secret") || strings.Contains(srv.stderr.String(), "t0k3n") {
				t.Errorf("a secret reached the log:\n%s", srv.stderr.String())
			}
		})
	}
}

// serve --stdio: a client that only starts processes reaches the
// upstreams through the gateway's standard input and output.
func TestGatewayStdio(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*wait)
	defer cancel()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx,
		stdio.Command(binary, []string{"serve", "--stdio"}, &stdio.CommandOptions{Stderr: os.Stderr}))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if names := gatewayTools(t, ctx, cs); !slices.Contains(names, "echo") {
		t.Errorf("zero-config tools over stdio: %v", names)
	}
	res, err := cs.CallToolArgs(ctx, "echo", map[string]any{"text": "through stdio"})
	if err != nil || !strings.Contains(res.Content[0].(*protocol.TextContent).Text, "through stdio") {
		t.Errorf("echo: %v %v", res, err)
	}
}

// SIGTERM with a call in flight: the gateway finishes within its drain
// bound, exits 0, and leaves no upstream process behind.
func TestGatewayShutdown(t *testing.T) {
	t.Parallel()
	srv := startGatewayServe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*wait)
	defer cancel()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, streamable.NewDialer(srv.base+"/mcp", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallToolArgs(ctx, "echo", map[string]any{"text": "x"}); err != nil {
		t.Fatal(err)
	}
	children := childPIDs(srv.cmd.Process.Pid)
	if len(children) == 0 {
		t.Fatal("no upstream process under the gateway")
	}
	done := make(chan error, 1)
	go func() {
		_, err := cs.CallToolArgs(ctx, "count_slowly", map[string]any{"to": 5, "delayMs": 200})
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv.waitExit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d\n%s", code, srv.stderr.String())
	}
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if err := <-done; err != nil {
		t.Errorf("the call in flight at SIGTERM: %v (it should have finished)", err)
	}
	for _, pid := range children {
		if alive(pid) {
			t.Errorf("upstream process %d outlived the gateway", pid)
		}
	}
}

// childPIDs lists the children of pid (Linux /proc).
func childPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			if n, err := strconv.Atoi(e.Name()); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
