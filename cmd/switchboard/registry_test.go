package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/registry"
	"github.com/switchboard-mcp/switchboard/store"
)

// TestAddUpstream edits configuration files in place: comments and other
// keys stay, the entry lands in mcpServers (or VS Code's servers), and the
// result loads.
func TestAddUpstream(t *testing.T) {
	entry := map[string]any{"command": "npx", "args": []string{"-y", "pkg@1.0.0"}, "env": map[string]string{"TOKEN": "${TOKEN}"}}
	tests := []struct {
		name, file, content string
		keep                []string
	}{
		{"json with comments", "gw.json", "{\n  // gateway settings\n  \"gateway\": {\"name\": \"gw\"},\n  \"mcpServers\": {\"a\": {\"command\": \"echo\"}}\n}\n", []string{"// gateway settings", `"gateway"`}},
		{"vs code servers", "mcp.json", "{\n  \"servers\": {\"a\": {\"type\": \"stdio\", \"command\": \"echo\"}},\n  \"inputs\": []\n}\n", []string{`"inputs"`}},
		{"json without servers", "empty.json", "{\"gateway\": {\"name\": \"gw\"}}", []string{`"gateway"`}},
		{"yaml with comments", "gw.yaml", "# top comment\ngateway:\n  name: gw # the name\nmcpServers:\n  a:\n    command: echo\n", []string{"# top comment", "# the name"}},
		{"yaml without servers", "gw2.yaml", "gateway:\n  name: gw\n", []string{"gateway:"}},
		{"new file", "new.yaml", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tc.file)
			if tc.content != "" {
				os.WriteFile(p, []byte(tc.content), 0o640)
			}
			if err := addUpstream(p, "files", entry, false); err != nil {
				t.Fatal(err)
			}
			out, _ := os.ReadFile(p)
			for _, k := range tc.keep {
				if !strings.Contains(string(out), k) {
					t.Errorf("lost %q:\n%s", k, out)
				}
			}
			cfg, err := config.Load(p, &config.LoadOptions{Raw: true})
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			s := cfg.Servers["files"]
			if s == nil || s.Command != "npx" || len(s.Args) != 2 || s.Env["TOKEN"] != "${TOKEN}" {
				t.Fatalf("entry %+v\n%s", s, out)
			}
			if tc.content != "" {
				if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
					t.Errorf("mode %v", st.Mode().Perm())
				}
			}
			// The same name again needs force.
			if err := addUpstream(p, "files", entry, false); err == nil {
				t.Error("replaced without force")
			}
			if err := addUpstream(p, "files", map[string]any{"type": "http", "url": "https://x.example.com/mcp"}, true); err != nil {
				t.Fatal(err)
			}
			cfg, _ = config.Load(p, &config.LoadOptions{Raw: true})
			if cfg.Servers["files"].URL != "https://x.example.com/mcp" {
				t.Fatal("force did not replace")
			}
		})
	}
}

func TestDecodeServerDoc(t *testing.T) {
	card := `{"$schema":"https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json","name":"com.example/remote","version":"1.0.0",
		"description":"A card","remotes":[{"type":"streamable-http","url":"https://mcp.example.com/mcp","supportedProtocolVersions":["2025-11-25"]}]}`
	sj, _, err := decodeServerDoc([]byte(card), "card")
	if err != nil || sj.Name != "com.example/remote" || len(sj.Remotes) != 1 {
		t.Fatalf("card: %+v %v", sj, err)
	}
	entry := `{"server":{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"com.example/x-tool","description":"d","version":"1.0.0"},"_meta":{}}`
	if sj, _, err := decodeServerDoc([]byte(entry), "entry"); err != nil || sj.Name != "com.example/x-tool" {
		t.Fatalf("entry: %+v %v", sj, err)
	}
	if _, _, err := decodeServerDoc([]byte(`{"name":"bad"}`), "bad"); err == nil {
		t.Fatal("an invalid server.json was accepted")
	}
}

// TestInstallPrompt: prompted secrets of a stdio server go to an env file
// (mode 0600) that the entry names; other inputs are written as values.
func TestInstallPrompt(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "server.json")
	os.WriteFile(doc, []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"com.example/prompted","description":"d","version":"1.0.0",
 "packages":[{"registryType":"pypi","identifier":"mcp-x","version":"0.1.0","transport":{"type":"stdio"},
 "environmentVariables":[{"name":"API_KEY","isSecret":true},{"name":"REGION"}]}]}`), 0o644)
	cfgPath := filepath.Join(dir, "gw.yaml")
	cmd := newRegistryInstallCmd()
	cmd.SetIn(strings.NewReader("s3cret\neu-west\n"))
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{doc, "--gateway-config", cfgPath, "--prompt"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Servers["prompted"]
	if s == nil || s.Command != "uvx" || s.Env["REGION"] != "eu-west" || s.Env["API_KEY"] != "s3cret" {
		t.Fatalf("entry %+v", s)
	}
	raw, _ := os.ReadFile(cfgPath)
	if strings.Contains(string(raw), "s3cret") {
		t.Fatalf("a secret in the configuration file:\n%s", raw)
	}
	if st, err := os.Stat(filepath.Join(dir, "prompted.env")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("env file: %v %v", st, err)
	}
}

// TestRunMirrors: a mirror with an interval syncs at start and again.
func TestRunMirrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src, dst := regStore(t), regStore(t)
	api, _ := registry.NewServer(registry.Options{Store: src, AnonymousReads: true})
	hs := httptest.NewServer(api)
	defer hs.Close()
	publish := func(name string) {
		doc := []byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json","name":"` + name + `","description":"d","version":"1.0.0"}`)
		if _, err := src.Publish(ctx, &registry.ServerJSON{Name: name, Version: "1.0.0", Description: "d"}, doc, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	publish("com.example/first")
	runMirrors(ctx, dst, []config.RegistryMirror{{URL: hs.URL, Interval: config.Duration(50 * time.Millisecond)}}, slog.New(slog.DiscardHandler))
	wait := func(n int64) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			if c, _ := dst.Count(ctx); c == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the mirror does not have %d versions", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait(1)
	publish("com.example/second")
	wait(2)
}

func regStore(t *testing.T) *registry.SQLStore {
	db, err := store.Open(context.Background(), t.TempDir(), &store.Options{MasterKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h, d := db.RegistryDB()
	st, err := registry.OpenSQL(h, d)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
