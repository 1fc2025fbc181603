package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

// fakeNode stands in for the pinned node running the suite. It answers
// --version, and for "--require PRELOAD ENTRY COMMAND ..." acts out the
// suite: list prints a catalog, server and client write a checks.json (under
// the -o directory, in a subdirectory as the suite does) per scenario name
// and exit as the suite would.
const fakeNode = `#!/bin/sh
if [ "$1" = "--version" ]; then echo "${FAKE_NODE_VERSION:-v22.22.0}"; exit 0; fi
[ "$1" = "--require" ] || { echo "fake node: no preload" >&2; exit 9; }
[ -f "$2" ] || { echo "fake node: preload $2 missing" >&2; exit 9; }
shift 3
cmd=$1; shift
case $cmd in
list)
  if [ "$1" = "--server" ]; then
    printf 'Server scenarios (test against a server):\n  - pass-one [2025-06-18,2025-11-25]\n  - fail-one [2025-11-25]\n  - warn-one [2025-11-25]\n  - skip-one [draft]\n  - crash\n  - hang\n'
  else
    printf 'Client scenarios (test against a client):\n  - initialize [2025-11-25]\n  - tools_call [2025-11-25]\n  - auth/a [2025-11-25]\n  - auth/b [extension]\n'
  fi
  exit 0;;
esac
while [ $# -gt 0 ]; do
  case $1 in
  --scenario) s=$2; shift 2;;
  -o) o=$2; shift 2;;
  --url|--command|--timeout) echo "$1=$2"; shift 2;;
  *) echo "fake node: unexpected $1" >&2; exit 9;;
  esac
done
[ -n "$s" ] && [ -n "$o" ] || { echo "fake node: need --scenario and -o" >&2; exit 9; }
d="$o/$cmd-$s-2026-01-01T00-00-00-000Z"
mkdir -p "$d"
w() { printf '%s' "$1" > "$d/checks.json"; }
case $s in
pass-one|initialize|auth/b) w '[{"id":"ok","name":"OK","description":"d","status":"SUCCESS","timestamp":"t"},{"id":"log","status":"INFO"}]'; exit 0;;
fail-one) w '[{"id":"ok","status":"SUCCESS"},{"id":"bad","status":"FAILURE","errorMessage":"it broke"}]'; exit 1;;
warn-one) w '[{"id":"ok","status":"SUCCESS"},{"id":"meh","status":"WARNING","errorMessage":"should"}]'; exit 0;;
skip-one) w '[{"id":"sk","status":"SKIPPED"}]'; exit 0;;
tools_call) w '[{"id":"ok","status":"SUCCESS"},{"id":"meh","status":"WARNING","errorMessage":"late"}]'; exit 1;;
auth/a) echo "Client exited with code 2" >&2; w '[{"id":"ok","status":"SUCCESS"}]'; exit 1;;
crash) echo "TypeError: boom" >&2; exit 1;;
hang) sleep 300 & wait;;
esac
exit 9
`

// fakeInstall builds a conformance directory whose "node" is fakeNode.
func fakeInstall(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"package.json": `{"name":"x","private":true,"dependencies":{"node":"22.22.0","@modelcontextprotocol/conformance":"0.1.16"}}`,
		"loopback.cjs": "// preload\n",
		"node_modules/@modelcontextprotocol/conformance/package.json":  `{"name":"@modelcontextprotocol/conformance","version":"0.1.16","bin":{"conformance":"dist/index.js"}}`,
		"node_modules/@modelcontextprotocol/conformance/dist/index.js": "// suite\n",
		"node_modules/node/bin/node":                                   fakeNode,
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readSummary(t *testing.T, path string) summary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunWithFakeSuite(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantCode    int
		wantResults map[string]result
		wantLine    string   // the closing count line
		wantStdout  []string // further substrings of stdout
		wantNotes   map[string]string
	}{
		{
			name:     "server, everything",
			args:     []string{"server", "--url", "http://127.0.0.1:9/mcp", "--expect", "6", "--timeout", "1s"},
			wantCode: 1,
			wantResults: map[string]result{"pass-one": resultPass, "fail-one": resultFail, "warn-one": resultWarn,
				"skip-one": resultSkip, "crash": resultFail, "hang": resultFail},
			wantLine:   "server scenarios: 1 passed, 3 failed, 1 with warnings (of 6)",
			wantStdout: []string{"FAILURE bad: it broke", "WARNING meh: should", "skipped (no SUCCESS, FAILURE or WARNING checks): skip-one"},
			wantNotes:  map[string]string{"crash": "the suite wrote no checks.json", "hang": "timed out"},
		},
		{
			name:     "server, default --expect is the pinned suite's count",
			args:     []string{"server", "--url", "http://127.0.0.1:9/mcp", "--timeout", "1s"},
			wantCode: 1,
			wantResults: map[string]result{"pass-one": resultPass, "fail-one": resultFail, "warn-one": resultWarn,
				"skip-one": resultSkip, "crash": resultFail, "hang": resultFail},
			wantStdout: []string{"problem: ran 6 scenarios, expected 32 (--expect)"},
		},
		{
			name:        "server, --suite-filter",
			args:        []string{"server", "--url", "http://127.0.0.1:9/mcp", "--suite-filter", "pass"},
			wantCode:    0,
			wantResults: map[string]result{"pass-one": resultPass},
			wantLine:    "server scenarios: 1 passed, 0 failed, 0 with warnings (of 1)",
		},
		{
			name:        "server, catalog shorter than --expect",
			args:        []string{"server", "--url", "http://127.0.0.1:9/mcp", "--scenario", "pass-one", "--expect", "2"},
			wantCode:    1,
			wantResults: map[string]result{"pass-one": resultPass},
			wantStdout:  []string{"problem: ran 1 scenarios, expected 2 (--expect)"},
		},
		{
			name:        "server, warnings and skips pass",
			args:        []string{"server", "--url", "http://127.0.0.1:9/mcp", "--scenario", "warn-one,skip-one"},
			wantCode:    0,
			wantResults: map[string]result{"warn-one": resultWarn, "skip-one": resultSkip},
			wantLine:    "server scenarios: 0 passed, 0 failed, 1 with warnings (of 2)",
		},
		{
			name:        "server, --fail-on-skip",
			args:        []string{"server", "--url", "http://127.0.0.1:9/mcp", "--scenario", "skip-one", "--fail-on-skip"},
			wantCode:    1,
			wantResults: map[string]result{"skip-one": resultSkip},
		},
		{
			name:        "client, default selection",
			args:        []string{"client", "--command", "my-client --flag", "--expect", "2"},
			wantCode:    1,
			wantResults: map[string]result{"initialize": resultPass, "tools_call": resultFail},
			wantLine:    "client scenarios: 1 passed, 1 failed, 0 with warnings (of 2)",
			wantStdout:  []string{"WARNING meh: late"},
		},
		{
			name:        "client, --auth",
			args:        []string{"client", "--command", "c", "--scenario", "initialize", "--auth"},
			wantCode:    1,
			wantResults: map[string]result{"initialize": resultPass, "auth/a": resultFail, "auth/b": resultPass},
			wantNotes:   map[string]string{"auth/a": "client exited with code 2"},
		},
		{
			name:        "client, prefix",
			args:        []string{"client", "--command", "c", "--suite-filter", "auth/b"},
			wantCode:    0,
			wantResults: map[string]result{"auth/b": resultPass},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fakeInstall(t)
			out := filepath.Join(t.TempDir(), "results")
			var stdout, stderr bytes.Buffer
			args := append(slices.Clone(tt.args), "--dir", dir, "--out", out)
			code := run(context.Background(), args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if tt.wantLine != "" && !strings.HasSuffix(stdout.String(), "\n"+tt.wantLine+"\n") {
				t.Errorf("stdout does not end with %q:\n%s", tt.wantLine, stdout.String())
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			s := readSummary(t, filepath.Join(out, "summary.json"))
			if s.OK != (tt.wantCode == 0) || s.SuiteVersion != "0.1.16" || s.NodeVersion != "v22.22.0" {
				t.Errorf("summary: ok=%v suite=%q node=%q", s.OK, s.SuiteVersion, s.NodeVersion)
			}
			got := map[string]result{}
			for _, r := range s.Scenarios {
				got[r.Name] = r.Result
				if _, err := os.Stat(r.SuiteLog); err != nil {
					t.Errorf("%s: suite log: %v", r.Name, err)
				}
				if want, ok := tt.wantNotes[r.Name]; ok &&
					!slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, want) }) {
					t.Errorf("%s: notes %q lack %q", r.Name, r.Notes, want)
				}
			}
			if len(got) != len(tt.wantResults) {
				t.Errorf("ran %v, want %v", got, tt.wantResults)
			}
			for name, want := range tt.wantResults {
				if got[name] != want {
					t.Errorf("%s: %s, want %s", name, got[name], want)
				}
			}
		})
	}
}

// TestRunPassesArguments checks what the suite is given per scenario.
func TestRunPassesArguments(t *testing.T) {
	dir := fakeInstall(t)
	out := filepath.Join(t.TempDir(), "results")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"client", "--dir", dir, "--out", out, "--command", "my-client --flag x",
		"--scenario", "auth/b", "--client-timeout", "7s"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	log, err := os.ReadFile(filepath.Join(out, "auth_b", "suite.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--command=my-client --flag x\n", "--timeout=7000\n"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("suite log lacks %q:\n%s", want, log)
		}
	}
}

func TestRunSetupErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		prepare func(t *testing.T, dir, out string)
		want    string
	}{
		{name: "no mode", args: []string{}, want: "usage:"},
		{name: "bad mode", args: []string{"both"}, want: "usage:"},
		{name: "server without url", args: []string{"server"}, want: "server mode needs --url"},
		{name: "client without command", args: []string{"client"}, want: "client mode needs --command"},
		{name: "client timeout too long", args: []string{"client", "--command", "c", "--client-timeout", "2m"}, want: "--client-timeout"},
		{name: "stray argument", args: []string{"server", "--url", "u", "extra"}, want: "unexpected arguments"},
		{name: "unknown scenario", args: []string{"server", "--url", "u", "--scenario", "nope"}, want: `unknown server scenario "nope"`},
		{name: "out not empty", args: []string{"server", "--url", "u"}, want: "is not empty",
			prepare: func(t *testing.T, dir, out string) {
				os.MkdirAll(out, 0o755)
				os.WriteFile(filepath.Join(out, "old"), nil, 0o644)
			}},
		{name: "node missing", args: []string{"server", "--url", "u"}, want: "run `npm ci` in",
			prepare: func(t *testing.T, dir, out string) { os.Remove(filepath.Join(dir, "node_modules/node/bin/node")) }},
		{name: "suite missing", args: []string{"server", "--url", "u"}, want: "@modelcontextprotocol/conformance not installed: run `npm ci`",
			prepare: func(t *testing.T, dir, out string) {
				os.RemoveAll(filepath.Join(dir, "node_modules/@modelcontextprotocol"))
			}},
		{name: "suite version differs from the pin", args: []string{"server", "--url", "u"}, want: "0.1.15 is installed but package.json pins 0.1.16",
			prepare: func(t *testing.T, dir, out string) {
				os.WriteFile(filepath.Join(dir, "node_modules/@modelcontextprotocol/conformance/package.json"),
					[]byte(`{"version":"0.1.15","bin":{"conformance":"dist/index.js"}}`), 0o644)
			}},
		{name: "node version differs from the pin", args: []string{"server", "--url", "u"}, want: "node v20.20.2 is installed but package.json pins 22.22.0",
			prepare: func(t *testing.T, dir, out string) { t.Setenv("FAKE_NODE_VERSION", "v20.20.2") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fakeInstall(t)
			out := filepath.Join(t.TempDir(), "results")
			if tt.prepare != nil {
				tt.prepare(t, dir, out)
			}
			args := tt.args
			if len(args) > 0 && (args[0] == "server" || args[0] == "client") {
				args = append(slices.Clone(args), "--dir", dir, "--out", out)
			}
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr.String())
			}
		})
	}
}

// TestInstalledSuite checks the real pinned installation, when `npm ci` has
// been run in conformance/: the catalog sizes the --expect defaults assume
// and the loopback preload's own tests.
func TestInstalledSuite(t *testing.T) {
	dir, err := findConformanceDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		t.Skipf("conformance/node_modules not installed (run `npm ci` in %s)", dir)
	}
	ctx := context.Background()
	in, err := locate(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	server, err := in.listScenarios(ctx, "server")
	if err != nil {
		t.Fatal(err)
	}
	if len(server) != pinnedServerScenarios {
		t.Errorf("suite %s lists %d server scenarios, want %d", in.suiteVersion, len(server), pinnedServerScenarios)
	}
	client, err := in.listScenarios(ctx, "client")
	if err != nil {
		t.Fatal(err)
	}
	var auth int
	for _, s := range client {
		if strings.HasPrefix(s.Name, authPrefix) {
			auth++
		}
	}
	if auth != pinnedClientAuthScenarios || len(client)-auth != pinnedClientCoreScenarios {
		t.Errorf("suite %s lists %d+%d client scenarios, want %d+%d", in.suiteVersion,
			len(client)-auth, auth, pinnedClientCoreScenarios, pinnedClientAuthScenarios)
	}

	cmd := exec.CommandContext(ctx, in.node, "--test", "loopback.test.cjs")
	cmd.Dir = in.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("loopback.test.cjs: %v\n%s", err, out)
	}
}
