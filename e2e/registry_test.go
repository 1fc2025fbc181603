package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeRegistryAndCards runs "switchboard serve --config" with a
// registry section: the registry API is mounted under its path, the
// gateway's Server Card and AI catalog are served, "inspect --card"
// validates the card, and "registry install" adds a server of the
// registry to the running gateway, which reloads it.
func TestServeRegistryAndCards(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gateway.yaml")
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	os.WriteFile(cfg, []byte(`# the gateway
mcpServers:
  demo:
    command: `+q(binary)+`
    args: [demo, everything]
registry:
  path: /registry
  adminTokens: ["registry-admin"]
  cards:
    namespace: com.example
`), 0o600)
	s := startServe(t, "--config", cfg, "--data-dir", filepath.Join(dir, "data"))
	base := "http://" + s.addr

	// The gateway's card.
	resp, err := http.Get(base + "/mcp/server-card")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/mcp-server-card+json" {
		t.Fatalf("card: %v %v", resp, err)
	}
	var card struct {
		Name string `json:"name"`
	}
	json.NewDecoder(resp.Body).Decode(&card)
	resp.Body.Close()
	if card.Name != "com.example/switchboard" {
		t.Fatalf("card name %q", card.Name)
	}
	out, err := exec.Command(binary, "inspect", "--card", base+"/mcp").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Valid:         yes") {
		t.Fatalf("inspect --card: %v\n%s", err, out)
	}

	// Publish a server whose package is this program's demo server.
	doc := map[string]any{
		"$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
		"name":    "com.example/demo-two", "description": "The demo, from the registry", "version": "1.0.0",
		"packages": []any{map[string]any{"registryType": "mcpb", "identifier": "https://example.com/demo.mcpb",
			"fileSha256": strings.Repeat("ab", 32), "transport": map[string]any{"type": "stdio"},
			"packageArguments": []any{map[string]any{"type": "positional", "value": "demo"}, map[string]any{"type": "positional", "value": "everything"}}}},
	}
	b, _ := json.Marshal(doc)
	req, _ := http.NewRequest("POST", base+"/registry/v0.1/publish", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer registry-admin")
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("publish: %v %s", err, body)
	}
	resp.Body.Close()
	resp, err = http.Get(base + "/registry/v0.1/servers/" + url.PathEscape("com.example/demo-two") + "/versions/latest")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("lookup: %v %v", resp, err)
	}
	resp.Body.Close()

	out, err = exec.Command(binary, "registry", "install", "com.example/demo-two", "--registry", base+"/registry",
		"--gateway-config", cfg, "--command", binary).CombinedOutput()
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	edited, _ := os.ReadFile(cfg)
	if !strings.Contains(string(edited), "# the gateway") || !strings.Contains(string(edited), "demo-two:") {
		t.Fatalf("the configuration file:\n%s", edited)
	}
	// The running gateway reloads the file and starts the new upstream.
	deadline := time.Now().Add(3 * wait)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), `"name":"demo-two","state":"ready"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the installed upstream is not ready: %s\n%s", body, s.stderr.String())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}
