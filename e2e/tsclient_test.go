package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/protocol"
)

// tsClient runs conformance/ts-client.mjs (the TypeScript SDK's client)
// with the pinned node and returns its stdout. It skips the test when the
// conformance suite is not installed.
func tsClient(t *testing.T, args ...string) []byte {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "conformance"))
	if err != nil {
		t.Fatal(err)
	}
	node := filepath.Join(dir, "node_modules", "node", "bin", "node")
	if !fileExists(node) || !fileExists(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk")) {
		t.Skip("conformance/node_modules is missing: run `cd conformance && npm ci` (the Makefile does) to test interoperability with the TypeScript SDK client")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(dir, "ts-client.mjs"), "--timeout", "8000"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ts-client %v: %v\nstderr:\n%s\nstdout:\n%s", args, err, stderr.String(), stdout.String())
	}
	return stdout.Bytes()
}

type tsList struct {
	ProtocolVersion   string                      `json:"protocolVersion"`
	ServerInfo        protocol.Implementation     `json:"serverInfo"`
	Capabilities      protocol.ServerCapabilities `json:"capabilities"`
	Tools             []string                    `json:"tools"`
	Resources         []string                    `json:"resources"`
	ResourceTemplates []string                    `json:"resourceTemplates"`
	Prompts           []string                    `json:"prompts"`
}

// The TypeScript SDK client lists and calls the demo over every transport
// and in every revision it and the server share.
func TestTypeScriptClientInterop(t *testing.T) {
	t.Parallel()
	tsClient(t, "--help") // skips early when the suite is not installed
	srv := startHTTP(t)
	transports := map[string][]string{
		"stdio": {"--stdio", "--", binary, "demo", "everything"},
		"http":  {"--url", srv.base + "/mcp"},
		"sse":   {"--sse", srv.base + "/sse"},
	}
	// Listing negotiates the revision and pages through every list; a call
	// per transport is enough on top (each run costs a node start).
	tests := []struct {
		transport string
		version   string // offered; "" lets the SDK choose
		want      string
		call      bool
	}{
		{"stdio", "", protocol.LatestVersion, true},
		{"stdio", "2025-06-18", "2025-06-18", false},
		{"stdio", "2024-11-05", "2024-11-05", false},
		{"http", "", protocol.LatestVersion, true},
		{"http", "2025-03-26", "2025-03-26", false},
		{"sse", "", protocol.LatestVersion, true},
	}
	for _, tt := range tests {
		name := tt.transport + "/" + tt.version
		if tt.version == "" {
			name = tt.transport + "/default"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var opts []string
			if tt.version != "" {
				opts = []string{"--protocol-version", tt.version}
			}
			// The stdio transport must come last.
			args := append(append([]string{"--list"}, opts...), transports[tt.transport]...)
			var list tsList
			out := tsClient(t, args...)
			if err := json.Unmarshal(out, &list); err != nil {
				t.Fatalf("--list output %s: %v", out, err)
			}
			if list.ProtocolVersion != tt.want || list.ServerInfo.Name != "switchboard-everything" {
				t.Errorf("negotiated %q with %q, want %q", list.ProtocolVersion, list.ServerInfo.Name, tt.want)
			}
			if (list.Capabilities.Tasks != nil) != (tt.want == "2025-11-25") {
				t.Errorf("tasks capability %v in %s", list.Capabilities.Tasks, tt.want)
			}
			for _, want := range []string{"echo", "add", "count_slowly"} {
				if !slices.Contains(list.Tools, want) {
					t.Errorf("tools %v lack %s", list.Tools, want)
				}
			}
			if !slices.Contains(list.Resources, "static-text") || !slices.Contains(list.ResourceTemplates, "template") || !slices.Contains(list.Prompts, "test_simple_prompt") {
				t.Errorf("resources %v, templates %v, prompts %v", list.Resources, list.ResourceTemplates, list.Prompts)
			}
			if !tt.call {
				return
			}
			args = append(append([]string{"--call", "echo", "--args", `{"text":"from TypeScript"}`}, opts...), transports[tt.transport]...)
			out = tsClient(t, args...)
			if text, isError := toolText(t, out); text != "from TypeScript" || isError {
				t.Errorf("echo via the TypeScript client: %s", out)
			}
		})
	}
	t.Run("structured output", func(t *testing.T) {
		t.Parallel()
		out := tsClient(t, "--call", "add", "--args", `{"a":2,"b":40}`, "--url", srv.base+"/mcp")
		var res struct {
			StructuredContent map[string]float64 `json:"structuredContent"`
		}
		if err := json.Unmarshal(out, &res); err != nil || res.StructuredContent["sum"] != 42 {
			t.Errorf("add: %s (%v)", out, err)
		}
	})
}
