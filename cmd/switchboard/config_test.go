package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runBoth executes the command line with args and returns its stdout and
// stderr.
func runBoth(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func TestConfigCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("SB_TEST_TOKEN", "tok-s3cret")
	good := write("good.json", `{
  // a comment
  "gateway": {"name": "gw", "prefix": "always"},
  "mcpServers": {
    "github": {"url": "https://api.example.com/mcp?key=k3y-s3cret", "headers": {"Authorization": "Bearer ${SB_TEST_TOKEN}"}},
    "files": {"command": "npx", "args": ["-y", "server files", "--api-key", "arg-s3cret"], "env": {"TOKEN": "${SB_TEST_TOKEN}"}, "disabled": true},
  },
}`)
	bad := write("bad.yaml", "mcpServers:\n  github:\n    comand: npx\n  web:\n    url: https://h/mcp\n    headers: {Authorization: \"Bearer ${SB_TEST_MISSING}\"}\n")
	tests := []struct {
		name       string
		args       []string
		stdout     []string
		stderr     []string
		exit       int
		noSecrets  bool
		jsonOutput bool
	}{
		{name: "schema", args: []string{"config", "schema"}, stdout: []string{`"$schema": "https://json-schema.org/draft/2020-12/schema"`, `"mcpServers"`}},
		{name: "valid", args: []string{"config", "validate", good}, noSecrets: true, stdout: []string{
			good + ": valid (JSON), 2 servers",
			`gateway "gw" on 127.0.0.1:8080; names: prefix always, separator "_"; call timeout 5m0s, connect timeout 30s, ping every 30s`,
			"SERVER  TYPE   NAMES     TARGET                                      NOTES\n",
			"files   stdio  files_*   npx -y 'server files' --api-key <redacted>  disabled; env TOKEN\n",
			"github  http   github_*  https://api.example.com/mcp?key=<redacted>  headers Authorization\n",
		}},
		{name: "valid json", args: []string{"config", "validate", "--json", good}, noSecrets: true, jsonOutput: true, stdout: []string{`"valid": true`, `"namePrefix": "github_"`, `"Authorization": "<redacted>"`}},
		{name: "invalid", args: []string{"config", "validate", bad}, exit: 1, stderr: []string{
			bad + `:2: mcpServers.github: needs "command"`,
			bad + `:3: mcpServers.github.comand: unknown key "comand" (did you mean "command"?)`,
			bad + `:6: mcpServers.web.headers.Authorization: environment variable SB_TEST_MISSING is not set`,
			bad + ": 3 errors",
		}},
		{name: "invalid json", args: []string{"config", "validate", "--json", bad}, exit: 1, jsonOutput: true, stdout: []string{`"valid": false`, `"path": "mcpServers.github.comand"`, `"line": 3`}},
		{name: "raw", args: []string{"config", "validate", "--raw", bad}, exit: 1, stderr: []string{"mcpServers.github.comand", ": 2 errors"}},
		{name: "missing file", args: []string{"config", "validate", filepath.Join(dir, "nope.json")}, exit: -1, stderr: nil},
		{name: "no file", args: []string{"config", "validate"}, exit: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runBoth(t, tt.args...)
			var ee exitError
			switch {
			case tt.exit == 0 && err != nil:
				t.Fatalf("error %v\nstderr: %s", err, stderr)
			case tt.exit > 0 && (!errors.As(err, &ee) || ee.code != tt.exit):
				t.Fatalf("error %v, want exit %d", err, tt.exit)
			case tt.exit < 0 && (err == nil || errors.As(err, &ee)):
				t.Fatalf("error %v, want a plain error", err)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if tt.noSecrets && strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("a secret is printed:\n%s%s", stdout, stderr)
			}
			if tt.jsonOutput && !json.Valid([]byte(stdout)) {
				t.Errorf("not JSON:\n%s", stdout)
			}
		})
	}
}
