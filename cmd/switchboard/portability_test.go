package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// portabilityEnv gives the commands a home of their own.
func portabilityEnv(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("APPDATA", filepath.Join(home, "AppData"))
	t.Setenv("CODEX_HOME", "")
	return home
}

func copyFixture(t *testing.T, name, dst string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "portability", "testdata", "clients", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

func backups(t *testing.T, file string) []string {
	t.Helper()
	m, _ := filepath.Glob(file + ".bak-*")
	return m
}

const fixtureSecret = "ghp_exampleexampleexampleexample0000"

func TestImportExportCommands(t *testing.T) {
	home := portabilityEnv(t)
	desktop := filepath.Join(home, ".config", "Claude", "claude_desktop_config.json")
	orig := copyFixture(t, "claude-desktop.json", desktop)
	gw := filepath.Join(home, "gw.yaml")

	// --dry-run prints the diff, redacted, and writes nothing.
	out, _, err := runBoth(t, "config", "import", "claude-desktop", "--config", gw, "--dry-run", "--include-secrets")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"added  filesystem, github, sqlite", "+mcpServers:", "GITHUB_PERSONAL_ACCESS_TOKEN: <redacted>", "dry run: nothing written"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, fixtureSecret) {
		t.Errorf("dry run shows the secret:\n%s", out)
	}
	if _, err := os.Stat(gw); !os.IsNotExist(err) {
		t.Fatalf("dry run wrote %s", gw)
	}

	// Import: the literal secret becomes a reference, with a warning.
	out, _, err = runBoth(t, "config", "import", "claude-desktop", "--config", gw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "warning: github: env.GITHUB_PERSONAL_ACCESS_TOKEN: a literal secret") || !strings.Contains(out, "wrote "+gw+" (new file)") {
		t.Errorf("import output:\n%s", out)
	}
	data, _ := os.ReadFile(gw)
	if !strings.Contains(string(data), "GITHUB_PERSONAL_ACCESS_TOKEN: ${GITHUB_PERSONAL_ACCESS_TOKEN}") || strings.Contains(string(data), fixtureSecret) {
		t.Errorf("gateway file:\n%s", data)
	}
	if fi, _ := os.Stat(gw); fi.Mode().Perm() != 0o600 {
		t.Errorf("new gateway file mode %v", fi.Mode())
	}
	if b, _ := os.ReadFile(desktop); string(b) != string(orig) {
		t.Error("import changed the source")
	}
	if out, _, _ := runBoth(t, "config", "validate", "--raw", gw); !strings.Contains(out, "valid (YAML), 3 servers") {
		t.Errorf("the imported file does not validate:\n%s", out)
	}

	// Importing again: nothing to do, no backup.
	out, _, err = runBoth(t, "config", "import", "claude-desktop", "--config", gw)
	if err != nil || !strings.Contains(out, "unchanged  filesystem, github, sqlite") || !strings.Contains(out, "no change") || len(backups(t, gw)) != 0 {
		t.Errorf("second import: %v\n%s", err, out)
	}

	// Import another client: a conflict is kept unless --replace.
	cursor := filepath.Join(home, ".cursor", "mcp.json")
	copyFixture(t, "cursor.json", cursor)
	before, _ := os.ReadFile(gw)
	out, _, err = runBoth(t, "config", "import", "cursor", "--config", gw)
	if err != nil || !strings.Contains(out, "conflict  filesystem") || !strings.Contains(out, "added     linear, postgres") {
		t.Fatalf("cursor import: %v\n%s", err, out)
	}
	bk := backups(t, gw)
	if len(bk) != 1 {
		t.Fatalf("backups %v", bk)
	}
	if b, _ := os.ReadFile(bk[0]); string(b) != string(before) {
		t.Error("the backup is not the file as it was")
	}
	if fi, _ := os.Stat(bk[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v", fi.Mode())
	}

	// --server, --replace, --json.
	out, _, err = runBoth(t, "config", "import", "cursor", "--config", gw, "--server", "filesystem", "--replace", "--json", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Result struct{ Replaced []string }
		Diff   string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Result.Replaced) != 1 || !strings.Contains(rep.Diff, "${userHome}/projects") {
		t.Errorf("json: %v %+v\n%s", err, rep, out)
	}

	// Export to a client: Codex's TOML keeps its comments; the gateway's
	// servers appear with Codex's keys.
	codex := filepath.Join(home, ".codex", "config.toml")
	codexOrig := copyFixture(t, "codex.toml", codex)
	out, _, err = runBoth(t, "config", "export", "codex", "--config", gw)
	if err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(codex)
	for _, want := range []string{"# Docs search, over stdio.", "startup_timeout_sec = 20 # slow to start", "[mcp_servers.linear]", "bearer_token_env_var = 'LINEAR_API_KEY'", "env_vars = ['GITHUB_PERSONAL_ACCESS_TOKEN']"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("codex file lacks %q:\n%s", want, data)
		}
	}
	if bk := backups(t, codex); len(bk) != 1 {
		t.Errorf("codex backups %v", bk)
	} else if b, _ := os.ReadFile(bk[0]); string(b) != string(codexOrig) {
		t.Error("codex backup differs from the original")
	}

	// Export to Claude Desktop: the URL server is reported, not dropped.
	out, _, err = runBoth(t, "config", "export", "claude-desktop", "--config", gw, "--dry-run")
	if err != nil || !strings.Contains(out, "skipped") || !strings.Contains(out, "linear: not written") || !strings.Contains(out, "switchboard connect claude-desktop") {
		t.Errorf("export to claude desktop: %v\n%s", err, out)
	}
	if strings.Contains(out, fixtureSecret) {
		t.Errorf("output shows a secret:\n%s", out)
	}

	// Errors.
	for _, args := range [][]string{
		{"config", "import", "notepad"},
		{"config", "import", "zed", "--config", gw},                     // no such file
		{"config", "export", "server-json", "--config", gw},             // import only
		{"config", "export", "cursor", "--config", gw + ".missing"},     // no gateway file
		{"config", "import", "cursor", "--config", gw, "--server", "x"}, // no such server
		{"config", "import", "switchboard"},
	} {
		if _, _, err := runBoth(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestConnectCommand(t *testing.T) {
	home := portabilityEnv(t)
	gw := filepath.Join(home, "gw.yaml")
	if err := os.WriteFile(gw, []byte("gateway:\n  addr: 0.0.0.0:9191\nmcpServers: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fixtures := map[string]string{
		"claude-desktop": "claude-desktop.json", "claude-code": "claude-code.mcp.json", "cursor": "cursor.json",
		"vscode": "vscode.json", "windsurf": "windsurf.json", "zed": "zed.json", "codex": "codex.toml", "goose": "goose.yaml",
		"gemini": "gemini.json", "cline": "cline.json", "continue": "continue.yaml", "opencode": "opencode.json", "lmstudio": "lmstudio.json",
		"claude-code-user": "claude-code-user.json",
	}
	for client, fixture := range fixtures {
		t.Run(client, func(t *testing.T) {
			file := filepath.Join(home, client, filepath.Base(fixture))
			orig := copyFixture(t, fixture, file)
			out, _, err := runBoth(t, "connect", client, "--file", file, "--config", gw, "--dry-run")
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(file); string(b) != string(orig) || len(backups(t, file)) != 0 {
				t.Fatal("--dry-run wrote the file")
			}
			want := "http://127.0.0.1:9191/mcp"
			if client == "claude-desktop" {
				want = "serve --stdio --config " + gw
			}
			if !strings.Contains(out, want) || !strings.Contains(out, "added  switchboard") {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
			if _, _, err := runBoth(t, "connect", client, "--file", file, "--config", gw, "--command", "/usr/bin/switchboard"); err != nil {
				t.Fatal(err)
			}
			bk := backups(t, file)
			if len(bk) != 1 {
				t.Fatalf("backups %v", bk)
			}
			if b, _ := os.ReadFile(bk[0]); string(b) != string(orig) {
				t.Error("the backup differs from the original")
			}
			after, _ := os.ReadFile(file)
			// Every line of the original is still there.
			for _, line := range strings.Split(string(orig), "\n") {
				if !strings.Contains(string(after), strings.TrimRight(line, ",")) {
					t.Errorf("line %q lost", line)
				}
			}
			out, _, err = runBoth(t, "connect", client, "--file", file, "--config", gw, "--command", "/usr/bin/switchboard")
			if err != nil || !strings.Contains(out, "unchanged  switchboard") {
				t.Errorf("second connect: %v\n%s", err, out)
			}
		})
	}
	// Claude Desktop takes no URL.
	if _, _, err := runBoth(t, "connect", "claude-desktop", "--url", "http://x/mcp", "--config", gw); err == nil {
		t.Error("--url for Claude Desktop: no error")
	}
	if _, _, err := runBoth(t, "connect", "cursor", "--url", "http://x/mcp", "--stdio"); err == nil {
		t.Error("--url with --stdio: no error")
	}
}

func TestConfigClientsCommand(t *testing.T) {
	home := portabilityEnv(t)
	copyFixture(t, "cursor.json", filepath.Join(home, ".cursor", "mcp.json"))
	out, _, err := runBoth(t, "config", "clients")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CLIENT", "claude-desktop", "~/.config/Claude/claude_desktop_config.json", "codex", "toml", "server-json", "(import only)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "cursor ") && !strings.HasSuffix(strings.TrimSpace(line), "yes") {
			t.Errorf("cursor's file exists: %q", line)
		}
	}
	out, _, err = runBoth(t, "config", "import", "--list", "--json")
	var rows []clientRow
	if err != nil || json.Unmarshal([]byte(out), &rows) != nil || len(rows) < 16 {
		t.Errorf("--list --json: %v\n%s", err, out)
	}
}
