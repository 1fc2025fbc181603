package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/sse"
)

// TestSupergatewayBridge puts a stdio server behind supergateway's
// stdio-to-SSE bridge (npm supergateway, pinned in ../conformance). The
// bridge runs one server process for all its SSE clients and forwards each
// client's initialize to it, so a stdio server must answer a second
// initialize on its connection: every client must get a working session,
// whether it comes after another left or while another is connected. The
// TypeScript reference server (server-everything) behind the same bridge
// is the control.
func TestSupergatewayBridge(t *testing.T) {
	needBins(t)
	node, reason := nodeBin()
	if reason != "" {
		t.Skip(reason)
	}
	sg := filepath.Join(conformanceDir, "node_modules", "supergateway", "dist", "index.js")
	if _, err := os.Stat(sg); err != nil {
		t.Skipf("supergateway is not installed (%s missing): run `make test`, which runs `npm ci` in conformance/ from its lockfile", sg)
	}
	everything := filepath.Join(conformanceDir, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
	for _, tc := range []struct {
		name    string
		command []string
		argName string // the echo tool's argument
	}{
		{"switchboard", demoStdioCommand(), "text"},
		{"reference", []string{node, everything, "stdio"}, "message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port := freePort(t)
			var quoted []string
			for _, a := range tc.command {
				quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
			}
			cmd := exec.Command(node, "--require", filepath.Join(conformanceDir, "loopback.cjs"), sg,
				"--stdio", strings.Join(quoted, " "), "--port", fmt.Sprint(port), "--logLevel", "none")
			url := fmt.Sprintf("http://127.0.0.1:%d/sse", port)
			startHTTPServer(t, cmd, url, false, "")
			ctx := testContext(t, 60*time.Second)

			n := 0
			connect := func() *mcp.ClientSession {
				t.Helper()
				n++
				c := mcp.NewClient(protocol.Implementation{Name: fmt.Sprintf("client-%d", n), Version: "1"}, nil)
				cs, err := c.Connect(ctx, sse.NewDialer(url, nil))
				if err != nil {
					t.Fatalf("client %d: connect through supergateway: %v", n, err)
				}
				return cs
			}
			echo := func(cs *mcp.ClientSession, who string) {
				t.Helper()
				res, err := cs.CallToolArgs(ctx, "echo", map[string]any{tc.argName: who})
				if err != nil {
					t.Fatalf("%s: echo: %v", who, err)
				}
				if !strings.Contains(firstText(res), who) {
					t.Fatalf("%s: echo answered %+v", who, res.Content)
				}
			}
			a := connect()
			echo(a, "first client")
			b := connect() // while the first is connected
			echo(b, "second client")
			echo(a, "first client again")
			a.Close()
			b.Close()
			c := connect() // after both left
			echo(c, "third client")
			c.Close()
		})
	}
}
