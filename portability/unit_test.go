package portability

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestToCanonical(t *testing.T) {
	tests := []struct {
		syn  syntax
		in   string
		want string
	}{
		{synNone, "plain", "plain"},
		{synNone, "${NOT_A_REF}", "$${NOT_A_REF}"},
		{synNone, "a$$b", "a$$$b"},
		{synNone, "cost $5", "cost $5"},
		{synGateway, "${env:TOKEN}", "${TOKEN}"},
		{synGateway, "Bearer ${TOKEN:-dev}", "Bearer ${TOKEN:-dev}"},
		{synGateway, "$${x} and $$", "$${x} and $"}, // a lone "$" needs no escape
		{synGateway, "${input:api-key}", "${input:api-key}"},
		{synGateway, "${userHome}/x${/}y", "${userHome}/x${pathSeparator}y"},
		{synGateway, "${not valid}", "${not valid}"},
		{synGateway, "${unterminated", "${unterminated"},
		{synDollar, "${API_KEY}", "${API_KEY}"},
		{synDollar, "${URL:-https://x}/mcp", "${URL:-https://x}/mcp"},
		{synDollar, "${env:X}", "$${env:X}"},
		{synGemini, "$TOKEN", "${TOKEN}"},
		{synGemini, "Bearer $GH_PAT!", "Bearer ${GH_PAT}!"},
		{synGemini, "${A:-b}", "${A:-b}"},
		{synVSCode, "${env:GITHUB_TOKEN}", "${GITHUB_TOKEN}"},
		{synVSCode, "${input:key}", "${input:key}"},
		{synVSCode, "${workspaceFolder}/db", "${workspaceFolder}/db"},
		{synVSCode, "${TOKEN}", "$${TOKEN}"},
		{synCursor, "${input:key}", "$${input:key}"},
		{synCursor, "${userHome}", "${userHome}"},
		{synWindsurf, "${env:K}", "${K}"},
		{synWindsurf, "${userHome}", "$${userHome}"},
		{synOpencode, "Bearer {env:SENTRY_TOKEN}", "Bearer ${SENTRY_TOKEN}"},
		{synOpencode, "{file:~/.secret}", "{file:~/.secret}"},
		{synContinue, "${{ secrets.LINEAR_API_KEY }}", "${LINEAR_API_KEY}"},
		{synContinue, "Bearer ${{secrets.K}}", "Bearer ${K}"},
		{synContinue, "${{ inputs.x }}", "$${{ inputs.x }}"},
	}
	for _, tt := range tests {
		if got := toCanonical(tt.in, tt.syn); got != tt.want {
			t.Errorf("toCanonical(%q, %d) = %q, want %q", tt.in, tt.syn, got, tt.want)
		}
	}
}

func TestRender(t *testing.T) {
	const v = "Bearer ${TOKEN}"
	tests := []struct {
		syn  syntax
		want string
	}{
		{synGateway, "Bearer ${TOKEN}"},
		{synDollar, "Bearer ${TOKEN}"},
		{synGemini, "Bearer ${TOKEN}"},
		{synVSCode, "Bearer ${env:TOKEN}"},
		{synCursor, "Bearer ${env:TOKEN}"},
		{synWindsurf, "Bearer ${env:TOKEN}"},
		{synOpencode, "Bearer {env:TOKEN}"},
		{synContinue, "Bearer ${{ secrets.TOKEN }}"},
	}
	for _, tt := range tests {
		got := render(parseValue(v, synGateway), tt.syn)
		if got != tt.want {
			t.Errorf("render(%d) = %q, want %q", tt.syn, got, tt.want)
		}
		if back := toCanonical(got, tt.syn); back != v {
			t.Errorf("syntax %d: %q reads back as %q", tt.syn, got, back)
		}
	}
}

func TestIsSecret(t *testing.T) {
	tests := []struct {
		key, value string
		want       bool
	}{
		{"GITHUB_PERSONAL_ACCESS_TOKEN", "ghp_x", true},
		{"API_KEY", "abc123", true},
		{"apiKey", "abc123", true},
		{"Authorization", "Bearer abc", true},
		{"X-Api-Key", "abc", true},
		{"LOG_LEVEL", "debug", false},
		{"NODE_ENV", "production", false},
		{"DATABASE_URL", "postgres://u:p@h/db", false},
		{"OPENAI", "sk-abcdef", true},
		{"SSH_KEY_PATH", "/home/alice/.ssh/id", false},
		{"API_KEY", "${API_KEY}", false},
		{"Authorization", "Bearer ${TOKEN}", false},
		{"TOKEN", "", false},
		{"ENABLE_AUTH", "true", false},
	}
	for _, tt := range tests {
		if got := IsSecret(tt.key, tt.value); got != tt.want {
			t.Errorf("IsSecret(%q, %q) = %v, want %v", tt.key, tt.value, got, tt.want)
		}
	}
}

func TestSecretVarName(t *testing.T) {
	tests := []struct{ server, field, key, want string }{
		{"github", "env", "GITHUB_TOKEN", "GITHUB_TOKEN"},
		{"linear", "headers", "Authorization", "LINEAR_TOKEN"},
		{"my-api", "headers", "X-Api-Key", "MY_API_X_API_KEY"},
		{"1st", "headers", "K", "_1ST_K"},
	}
	for _, tt := range tests {
		if got := secretVarName(tt.server, tt.field, tt.key); got != tt.want {
			t.Errorf("secretVarName(%q, %q, %q) = %q, want %q", tt.server, tt.field, tt.key, got, tt.want)
		}
	}
}

// noteFor returns the notes about server's key.
func noteFor(ns []Note, server, key string) []Note {
	var out []Note
	for _, n := range ns {
		if n.Server == server && n.Key == key {
			out = append(out, n)
		}
	}
	return out
}

// TestSecrets: how literal secrets and references reach targets with and
// without references, with and without IncludeSecrets; notes name keys
// and variables, never values.
func TestSecrets(t *testing.T) {
	const secret = "ghp_s3cr3tvalue0000"
	src := &Set{Servers: []*Server{
		{Name: "gh", Transport: Stdio, Command: "npx", Env: map[string]string{"GITHUB_TOKEN": secret, "LOG_LEVEL": "debug", "REF": "${MY_REF}"}},
		{Name: "api", Transport: HTTP, URL: "https://api.example.com/mcp", Headers: map[string]string{"Authorization": "Bearer " + secret}},
	}}
	env := map[string]string{"MY_REF": "from-env"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		client   string
		include  bool
		server   string
		key      string
		want     string // the value written; "" when left out
		level    Level
		noteHas  string
		wantNote bool
	}{
		{"cursor", false, "gh", "GITHUB_TOKEN", "${env:GITHUB_TOKEN}", Warning, "GITHUB_TOKEN", true},
		{"cursor", false, "gh", "LOG_LEVEL", "debug", Info, "", false},
		{"cursor", false, "gh", "REF", "${env:MY_REF}", Info, "", false},
		{"cursor", true, "gh", "GITHUB_TOKEN", secret, Info, "", false},
		{"claude-desktop", false, "gh", "GITHUB_TOKEN", "", Warning, "--include-secrets", true},
		{"claude-desktop", false, "gh", "REF", "", Warning, "${MY_REF}", true},
		{"claude-desktop", true, "gh", "REF", "from-env", Info, "MY_REF", true},
		{"claude-desktop", true, "gh", "GITHUB_TOKEN", secret, Info, "", false},
		{"claude-code", false, "api", "Authorization", "Bearer ${API_TOKEN}", Warning, "API_TOKEN", true},
		{"zed", false, "api", "Authorization", "", Warning, "literal secret", true},
		{"codex", false, "gh", "GITHUB_TOKEN", "", Warning, "", true}, // becomes env_vars
	}
	for _, tt := range tests {
		c, _ := Lookup(tt.client)
		o := &Options{IncludeSecrets: tt.include, LookupEnv: lookup}
		res, err := c.Edit(nil, src, o)
		if err != nil {
			t.Fatalf("%s: %v", tt.client, err)
		}
		set := mustRead(t, c, res.Content, o)
		s := set.Lookup(tt.server)
		if s == nil {
			t.Fatalf("%s: %s not written: %v", tt.client, tt.server, res.Notes)
		}
		field, m := "env", s.Env
		if s.Remote() {
			field, m = "headers", s.Headers
		}
		got, ok := m[tt.key]
		canonWant := toCanonical(tt.want, c.d.syn)
		if tt.client == "codex" {
			canonWant = "${GITHUB_TOKEN}"
		}
		if tt.want == "" && tt.client != "codex" {
			if ok {
				t.Errorf("%s %v: %s.%s written as %q, want it left out", tt.client, tt.include, tt.server, tt.key, got)
			}
		} else if got != canonWant {
			t.Errorf("%s %v: %s.%s = %q, want %q", tt.client, tt.include, tt.server, tt.key, got, canonWant)
		}
		ns := noteFor(res.Notes, tt.server, field+"."+tt.key)
		if tt.wantNote && tt.noteHas != "" && (len(ns) == 0 || !strings.Contains(ns[0].Msg, tt.noteHas) || ns[0].Level != tt.level) {
			t.Errorf("%s %v: %s.%s: notes %v, want a %s mentioning %q", tt.client, tt.include, tt.server, tt.key, ns, tt.level, tt.noteHas)
		}
		if !tt.wantNote && len(ns) > 0 {
			t.Errorf("%s %v: %s.%s: unexpected notes %v", tt.client, tt.include, tt.server, tt.key, ns)
		}
		for _, n := range res.Notes {
			if strings.Contains(n.String(), secret) || strings.Contains(n.String(), "from-env") {
				t.Errorf("%s: a note shows a secret: %s", tt.client, n)
			}
		}
	}
}

// TestCannotExpress: what a target cannot hold is reported per server,
// never dropped silently.
func TestCannotExpress(t *testing.T) {
	src := &Set{Servers: []*Server{
		{Name: "remote", Transport: HTTP, URL: "https://x.example.com/mcp"},
		{Name: "off", Transport: Stdio, Command: "srv", Disabled: true},
		{Name: "legacy", Transport: SSE, URL: "https://x.example.com/sse"},
		{Name: "dir", Transport: Stdio, Command: "srv", Cwd: "/srv", EnvFile: "/srv/.env"},
		{Name: "dflt", Transport: Stdio, Command: "srv", Env: map[string]string{"LEVEL": "${LEVEL:-info}"}},
		{Name: "in", Transport: Stdio, Command: "srv", Env: map[string]string{"KEY": "${input:api-key}"}},
	}}
	tests := []struct {
		client, server, key, has string
		skipped                  bool
	}{
		{"claude-desktop", "remote", "", "switchboard connect claude-desktop", true},
		{"claude-desktop", "off", "", "disabled", true},
		{"cursor", "off", "", "disabled", true},
		{"zed", "legacy", "url", "legacy SSE", false},
		{"codex", "legacy", "url", "legacy SSE", false},
		{"claude-code", "dir", "cwd", "no cwd setting", false},
		{"claude-code", "dir", "envFile", "no envFile setting", false},
		{"vscode", "dflt", "env.LEVEL", "default of LEVEL", false},
		{"cursor", "in", "env.KEY", "SWITCHBOARD_INPUT_API_KEY", false},
		{"claude-desktop", "in", "env.KEY", "${input:api-key}", false},
	}
	for _, tt := range tests {
		c, _ := Lookup(tt.client)
		res, err := c.Edit(nil, src, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.client, err)
		}
		ns := noteFor(res.Notes, tt.server, tt.key)
		if len(ns) == 0 || !strings.Contains(ns[0].Msg, tt.has) {
			t.Errorf("%s: %s %s: notes %v, want one saying %q", tt.client, tt.server, tt.key, ns, tt.has)
		}
		if got := slices.Contains(res.Skipped, tt.server); got != tt.skipped {
			t.Errorf("%s: %s skipped = %v, want %v", tt.client, tt.server, got, tt.skipped)
		}
	}
	// Windsurf keeps disabled entries, and Cline SSE ones.
	for _, id := range []string{"windsurf", "cline", "zed", "codex", "goose", "opencode", "switchboard"} {
		c, _ := Lookup(id)
		res, err := c.Edit(nil, &Set{Servers: src.Servers[1:2]}, nil)
		if err != nil || !slices.Equal(res.Added, []string{"off"}) {
			t.Fatalf("%s: %v %+v", id, err, res)
		}
		if s := mustRead(t, c, res.Content, nil).Lookup("off"); s == nil || !s.Disabled {
			t.Errorf("%s: disabled entry reads back as %+v", id, s)
		}
	}
}

// TestVSCodeInputs: inputs referred to are declared in VS Code's file and
// in the gateway's, once.
func TestVSCodeInputs(t *testing.T) {
	set := &Set{
		Servers: []*Server{{Name: "p", Transport: Stdio, Command: "npx", Env: map[string]string{"K": "${input:key}", "M": "${input:missing}"}}},
		Inputs:  []Input{{ID: "key", Type: "promptString", Description: "The key", Password: true}, {ID: "unused"}},
	}
	for _, c := range []*Client{clientByID("vscode"), Gateway} {
		res, err := c.Edit([]byte("{}"), set, &Options{Format: JSON})
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		if !slices.Equal(res.Inputs, []string{"key"}) {
			t.Errorf("%s: inputs added %v", c.ID, res.Inputs)
		}
		if ns := noteFor(res.Notes, "", "inputs"); len(ns) != 1 || !strings.Contains(ns[0].Msg, "missing") {
			t.Errorf("%s: notes %v", c.ID, res.Notes)
		}
		got := mustRead(t, c, res.Content, &Options{Format: JSON})
		if len(got.Inputs) != 1 || got.Inputs[0] != set.Inputs[0] {
			t.Errorf("%s: inputs %+v", c.ID, got.Inputs)
		}
		again, err := c.Edit(res.Content, set, &Options{Format: JSON})
		if err != nil || len(again.Inputs) != 0 || string(again.Content) != string(res.Content) {
			t.Errorf("%s: second edit %v %+v", c.ID, err, again)
		}
	}
}

func clientByID(id string) *Client {
	c, err := Lookup(id)
	if err != nil {
		panic(err)
	}
	return c
}

func TestServerJSON(t *testing.T) {
	data, err := os.ReadFile("testdata/clients/server.json")
	if err != nil {
		t.Fatal(err)
	}
	c := clientByID("server-json")
	set, ns, err := c.Read(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Server{Name: "weather", Transport: Stdio, Command: "npx",
		Args: []string{"-y", "@example/weather-mcp@1.4.2", "--units=metric", "${REGION}"},
		Env:  map[string]string{"WEATHER_API_KEY": "${WEATHER_API_KEY}", "WEATHER_CACHE_DIR": "/tmp/weather"}}
	if len(set.Servers) != 1 || !set.Servers[0].Equal(want) {
		t.Errorf("package: %+v, want %+v", set.Servers[0], want)
	}
	if len(noteFor(ns, "weather", "env.WEATHER_API_KEY")) != 1 || len(noteFor(ns, "weather", "packageArguments[1]")) != 1 {
		t.Errorf("notes %v", ns)
	}
	set, _, err = c.Read(data, &Options{PreferRemote: true})
	if err != nil {
		t.Fatal(err)
	}
	want = &Server{Name: "weather", Transport: HTTP, URL: "https://${TENANT}.weather.example.com/mcp",
		Headers: map[string]string{"Authorization": "Bearer ${TOKEN}"}}
	if !set.Servers[0].Equal(want) {
		t.Errorf("remote: %+v, want %+v", set.Servers[0], want)
	}
	for _, tt := range []struct{ name, json, err string }{
		{"oci", `{"name":"a/b","packages":[{"registryType":"oci","identifier":"ghcr.io/a/b","version":"1","environmentVariables":[{"name":"K","isSecret":true}]}]}`, ""},
		{"pypi", `{"name":"a/b","packages":[{"registryType":"pypi","identifier":"mcp-b","version":"2.0"}]}`, ""},
		{"mcpb", `{"name":"a/b","packages":[{"registryType":"mcpb","identifier":"https://x/b.mcpb"}]}`, ""},
		{"nothing", `{"name":"a/b"}`, "neither packages nor remotes"},
		{"no name", `{"packages":[]}`, "no name"},
		{"bad", `{"name": 1}`, "name: want string"},
	} {
		set, ns, err := c.Read([]byte(tt.json), nil)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		switch tt.name {
		case "oci":
			if s := set.Servers[0]; s.Command != "docker" || !slices.Equal(s.Args, []string{"run", "-i", "--rm", "-e", "K", "ghcr.io/a/b:1"}) {
				t.Errorf("oci: %+v", s)
			}
		case "pypi":
			if s := set.Servers[0]; s.Command != "uvx" || !slices.Equal(s.Args, []string{"mcp-b@2.0"}) {
				t.Errorf("pypi: %+v", s)
			}
		case "mcpb":
			if len(set.Servers) != 0 || len(ns) != 1 || ns[0].Level != Warning {
				t.Errorf("mcpb: %+v %v", set.Servers, ns)
			}
		}
	}
	if _, err := c.Edit(nil, set, nil); err == nil {
		t.Error("server.json can be written to")
	}
}

func TestDefaultPaths(t *testing.T) {
	env := func(goos string) Env {
		e := Env{GOOS: goos, Home: "/home/alice", Dir: "/work/proj"}
		switch goos {
		case "windows":
			e.Home, e.Dir = `C:\Users\alice`, `C:\work\proj`
			e.Getenv = func(k string) string {
				if k == "APPDATA" {
					return `C:\Users\alice\AppData\Roaming`
				}
				return ""
			}
		case "darwin":
			e.Home = "/Users/alice"
		}
		return e
	}
	tests := []struct{ client, goos, want string }{
		{"claude-desktop", "linux", "/home/alice/.config/Claude/claude_desktop_config.json"},
		{"claude-desktop", "darwin", "/Users/alice/Library/Application Support/Claude/claude_desktop_config.json"},
		{"claude-desktop", "windows", `C:\Users\alice\AppData\Roaming\Claude\claude_desktop_config.json`},
		{"claude-code", "linux", "/work/proj/.mcp.json"},
		{"claude-code-user", "windows", `C:\Users\alice\.claude.json`},
		{"cursor", "darwin", "/Users/alice/.cursor/mcp.json"},
		{"vscode", "linux", "/home/alice/.config/Code/User/mcp.json"},
		{"vscode", "darwin", "/Users/alice/Library/Application Support/Code/User/mcp.json"},
		{"vscode", "windows", `C:\Users\alice\AppData\Roaming\Code\User\mcp.json`},
		{"windsurf", "windows", `C:\Users\alice\.codeium\windsurf\mcp_config.json`},
		{"zed", "darwin", "/Users/alice/.config/zed/settings.json"},
		{"zed", "windows", `C:\Users\alice\AppData\Roaming\Zed\settings.json`},
		{"codex", "linux", "/home/alice/.codex/config.toml"},
		{"goose", "linux", "/home/alice/.config/goose/config.yaml"},
		{"goose", "windows", `C:\Users\alice\AppData\Roaming\Block\goose\config\config.yaml`},
		{"gemini", "windows", `C:\Users\alice\.gemini\settings.json`},
		{"cline", "darwin", "/Users/alice/Library/Application Support/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"},
		{"continue", "linux", "/home/alice/.continue/config.yaml"},
		{"opencode", "darwin", "/Users/alice/.config/opencode/opencode.json"},
		{"lmstudio", "linux", "/home/alice/.lmstudio/mcp.json"},
		{"server-json", "linux", "/work/proj/server.json"},
		{"switchboard", "linux", "/home/alice/.config/switchboard/config.yaml"},
	}
	for _, tt := range tests {
		if got := clientByID(tt.client).DefaultPath(env(tt.goos)); got != tt.want {
			t.Errorf("%s on %s: %q, want %q", tt.client, tt.goos, got, tt.want)
		}
	}
	e := env("linux")
	e.Getenv = func(k string) string {
		return map[string]string{"XDG_CONFIG_HOME": "/xdg", "CODEX_HOME": "/codex"}[k]
	}
	if got := clientByID("goose").DefaultPath(e); got != "/xdg/goose/config.yaml" {
		t.Errorf("XDG_CONFIG_HOME: %q", got)
	}
	if got := clientByID("codex").DefaultPath(e); got != "/codex/config.toml" {
		t.Errorf("CODEX_HOME: %q", got)
	}
	// Every client has a default path.
	for _, c := range Clients() {
		if c.DefaultPath(env("linux")) == "" {
			t.Errorf("%s has no default path", c.ID)
		}
	}
}

func TestLookup(t *testing.T) {
	for id, want := range map[string]string{"Claude": "claude-desktop", "code": "vscode", "gemini-cli": "gemini", "gateway": "switchboard", "ZED": "zed"} {
		c, err := Lookup(id)
		if err != nil || c.ID != want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", id, c, err, want)
		}
	}
	if _, err := Lookup("notepad"); err == nil || !strings.Contains(err.Error(), "claude-desktop") {
		t.Errorf("unknown client: %v", err)
	}
}

// applyDiff applies a unified diff made by UnifiedDiff to old.
func applyDiff(t *testing.T, old, diff string) string {
	t.Helper()
	src := splitLines(old)
	var out []string
	next := 0 // next line of src to copy
	lines := strings.SplitAfter(diff, "\n")
	for i := 2; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "@@"):
			var a, b, c, d int
			if _, err := parseHunk(l, &a, &b, &c, &d); err != nil {
				t.Fatalf("hunk header %q: %v", l, err)
			}
			start := a - 1
			if b == 0 {
				start = a
			}
			out = append(out, src[next:start]...)
			next = start
		case strings.HasPrefix(l, " "), strings.HasPrefix(l, "-"):
			if strings.TrimPrefix(l[1:], "") != src[next] && !strings.HasPrefix(lines[i+1], `\`) {
				t.Fatalf("context %q does not match %q", l, src[next])
			}
			if l[0] == ' ' {
				out = append(out, src[next])
			}
			next++
		case strings.HasPrefix(l, "+"):
			add := l[1:]
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], `\`) {
				add = strings.TrimSuffix(add, "\n")
			}
			out = append(out, add)
		}
	}
	out = append(out, src[next:]...)
	return strings.Join(out, "")
}

// parseHunk reads "@@ -a,b +c,d @@" (counts default to 1).
func parseHunk(l string, a, b, c, d *int) (int, error) {
	fields := strings.Fields(l)
	if len(fields) < 3 {
		return 0, errors.New("short")
	}
	read := func(f string, start, n *int) error {
		s, cnt, ok := strings.Cut(f[1:], ",")
		*n = 1
		if ok {
			if _, err := fmtSscan(cnt, n); err != nil {
				return err
			}
		}
		_, err := fmtSscan(s, start)
		return err
	}
	if err := read(fields[1], a, b); err != nil {
		return 0, err
	}
	return 0, read(fields[2], c, d)
}

func TestUnifiedDiff(t *testing.T) {
	if d := UnifiedDiff("a", "b", []byte("x\n"), []byte("x\n")); d != "" {
		t.Errorf("no change: %q", d)
	}
	got := UnifiedDiff("old", "new", []byte("a\nb\nc\n"), []byte("a\nB\nc\nd\n"))
	want := "--- old\n+++ new\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n"
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	cases := [][2]string{
		{"", "new\n"},
		{"old\n", ""},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n", "1\n2\nX\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\nY\n15\n16\nZ\n"},
		{"no newline", "no newline\nat end"},
		{"a\nb\nc\nd\ne\nf\ng\nh\n", "h\ng\nf\ne\nd\nc\nb\na\n"},
	}
	for _, c := range cases {
		d := UnifiedDiff("a", "b", []byte(c[0]), []byte(c[1]))
		if got := applyDiff(t, c[0], d); got != c[1] {
			t.Errorf("applying the diff of %q → %q gives %q:\n%s", c[0], c[1], got, d)
		}
	}
}

func TestRedactor(t *testing.T) {
	r := &Redactor{}
	r.AddServers(&Server{Name: "x", Env: map[string]string{"T": "s3cret-value", "R": "${REF}", "S": "ab"},
		Headers: map[string]string{"Authorization": "Bearer tok\"en-value"}, Args: []string{"--api-key", "arg-secret", "--token=flag-secret", "plain"}})
	r.AddTree(map[string]any{"apiKey": "tree-secret", "nested": map[string]any{"password": []any{"p4ssword"}}, "bearer_token_env_var": "VAR_NAME"})
	text := `T=s3cret-value R=${REF} S=ab "Bearer tok\"en-value" arg-secret --token=flag-secret plain tree-secret p4ssword VAR_NAME`
	got := r.Redact(text)
	for _, leak := range []string{"s3cret-value", `tok\"en-value`, "arg-secret", "flag-secret", "tree-secret", "p4ssword"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q survives: %s", leak, got)
		}
	}
	for _, keep := range []string{"${REF}", "S=ab", "plain", "VAR_NAME", "Bearer "} {
		if !strings.Contains(got, keep) {
			t.Errorf("%q was redacted: %s", keep, got)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 7, 10, 11, 12, 0, time.UTC)

	// A new file, in a new directory: 0600, no backup.
	p := filepath.Join(dir, "sub", "new.json")
	backup, err := WriteFile(p, []byte("{}\n"), now)
	if err != nil || backup != "" {
		t.Fatalf("new file: %q %v", backup, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v", fi.Mode())
	}

	// An existing file keeps its mode; the backup is the old content, 0600.
	p = filepath.Join(dir, "cfg.json")
	if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o644)
	backup, err = WriteFile(p, []byte("new\n"), now)
	if err != nil {
		t.Fatal(err)
	}
	if backup != p+".bak-20261207-101112" {
		t.Errorf("backup %q", backup)
	}
	if b, _ := os.ReadFile(backup); string(b) != "old\n" {
		t.Errorf("backup content %q", b)
	}
	if fi, _ := os.Stat(backup); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v", fi.Mode())
	}
	if b, _ := os.ReadFile(p); string(b) != "new\n" {
		t.Errorf("content %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	// A second write in the same second keeps both backups.
	backup2, err := WriteFile(p, []byte("newer\n"), now)
	if err != nil || backup2 != backup+"-1" {
		t.Errorf("second backup %q %v", backup2, err)
	}
	// No temporary file is left.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	// A symbolic link is followed.
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteFile(link, []byte("via link\n"), now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if b, _ := os.ReadFile(p); string(b) != "via link\n" {
		t.Errorf("target content %q", b)
	}
	// ReadFile: a missing file is not an error.
	if data, exists, err := ReadFile(filepath.Join(dir, "missing")); data != nil || exists || err != nil {
		t.Errorf("missing file: %v %v %v", data, exists, err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, bytes.Repeat([]byte{' '}, MaxFileSize+1), 0o600)
	if _, _, err := ReadFile(big); err == nil {
		t.Error("a file over MaxFileSize was read")
	}
}

func TestWorkspaceOf(t *testing.T) {
	for in, want := range map[string]string{
		"/p/.vscode/mcp.json":  "/p",
		"/p/.cursor/mcp.json":  "/p",
		"/p/.mcp.json":         "/p",
		"/home/a/.config/x.js": "/home/a/.config",
	} {
		if got := WorkspaceOf(in); got != want {
			t.Errorf("WorkspaceOf(%q) = %q, want %q", in, got, want)
		}
	}
	// Read resolves ${workspaceFolder} with Options.Workspace.
	set := mustRead(t, clientByID("vscode"), []byte(`{"servers":{"db":{"type":"stdio","command":"x","args":["${workspaceFolder}/db"]}}}`), &Options{Workspace: "/p"})
	if got := set.Servers[0].Args[0]; got != "/p/db" {
		t.Errorf("workspace folder: %q", got)
	}
}

func fmtSscan(s string, n *int) (int, error) { return fmt.Sscan(s, n) }
