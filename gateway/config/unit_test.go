package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "alpha", "EMPTY": "", "HOME": "/home/u", "SWITCHBOARD_INPUT_API_KEY": "k"}
	x := newExpander(&LoadOptions{LookupEnv: lookup(env), BaseDir: "/work/proj/.vscode"})
	tests := []struct {
		in, want, problem string
	}{
		{in: "plain", want: "plain"},
		{in: "", want: ""},
		{in: "${A}", want: "alpha"},
		{in: "x${A}y${A}", want: "xalphayalpha"},
		{in: "${env:A}", want: "alpha"},
		{in: "${A:-d}", want: "alpha"},
		{in: "${UNSET:-d}", want: "d"},
		{in: "${EMPTY:-d}", want: "d"},
		{in: "${EMPTY}", want: ""},
		{in: "${UNSET:-}", want: ""},
		{in: "${UNSET:-http://h:1/x}", want: "http://h:1/x"},
		{in: "${env:UNSET:-d}", want: "d"},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "$$$$", want: "$$"},
		{in: "$A", want: "$A"},
		{in: "a$", want: "a$"},
		{in: "cost: $5", want: "cost: $5"},
		{in: "${input:api-key}", want: "k"},
		{in: "${input:API_KEY}", want: "k"},
		{in: "${workspaceFolder}/x", want: "/work/proj/x"},
		{in: "${userHome}/.config", want: "/home/u/.config"},
		{in: "${pathSeparator}", want: string(filepath.Separator)},
		{in: "${/}", want: string(filepath.Separator)},
		{in: "${UNSET}", problem: "environment variable UNSET is not set"},
		{in: "${env:UNSET}", problem: "environment variable UNSET is not set"},
		{in: "${input:other}", problem: `input "other" has no value: set the environment variable SWITCHBOARD_INPUT_OTHER`},
		{in: "${input:}", problem: "empty input name"},
		{in: "${A", problem: `unterminated "${"`},
		{in: "${}", problem: "unknown reference"},
		{in: "${1A}", problem: "unknown reference"},
		{in: "${A B}", problem: "unknown reference"},
		{in: "${config:x}", problem: "unknown reference"},
	}
	for _, tt := range tests {
		got, problems := x.expand(tt.in)
		if tt.problem == "" {
			if len(problems) > 0 || got != tt.want {
				t.Errorf("expand(%q) = %q, %q; want %q", tt.in, got, problems, tt.want)
			}
			continue
		}
		if len(problems) != 1 || !strings.Contains(problems[0], tt.problem) {
			t.Errorf("expand(%q) problems %q, want one with %q", tt.in, problems, tt.problem)
		}
	}
}

func TestWorkspaceAndHome(t *testing.T) {
	tests := []struct{ dir, want string }{
		{"/p", "/p"},
		{"/p/.vscode", "/p"},
		{"/p/.cursor/", "/p"},
		{"/p/config", "/p/config"},
	}
	for _, tt := range tests {
		if got := workspaceFolder(filepath.FromSlash(tt.dir)); got != filepath.FromSlash(tt.want) {
			t.Errorf("workspaceFolder(%q) = %q, want %q", tt.dir, got, tt.want)
		}
	}
	// Without a file, ${workspaceFolder} is an error; without HOME, ${userHome}.
	_, err := Parse([]byte(`{"mcpServers": {"a": {"command": "${workspaceFolder}/x", "cwd": "${userHome}"}}}`), FormatJSON, &LoadOptions{LookupEnv: lookup(nil)})
	if err == nil || !strings.Contains(err.Error(), "mcpServers.a.command: ${workspaceFolder} is unknown") || !strings.Contains(err.Error(), "mcpServers.a.cwd: ${userHome} is unknown") {
		t.Errorf("err = %v", err)
	}
}

func TestInputEnvVar(t *testing.T) {
	for in, want := range map[string]string{
		"api-key":        "SWITCHBOARD_INPUT_API_KEY",
		"github_token":   "SWITCHBOARD_INPUT_GITHUB_TOKEN",
		"perplexity.key": "SWITCHBOARD_INPUT_PERPLEXITY_KEY",
		"x9":             "SWITCHBOARD_INPUT_X9",
		"é":              "SWITCHBOARD_INPUT__",
	} {
		if got := InputEnvVar(in); got != want {
			t.Errorf("InputEnvVar(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseEnvFile(t *testing.T) {
	vars, problems := parseEnvFile([]byte("\ufeff# comment\n\nA=1\nexport B = two words \nC=\"q \\\"x\\\" \\n\" # c\nD='lit $x \\n'\nE=\nF=v # comment\nG=a=b\r\n"))
	want := map[string]string{"A": "1", "B": "two words", "C": "q \"x\" \n", "D": `lit $x \n`, "E": "", "F": "v", "G": "a=b"}
	if len(problems) > 0 || len(vars) != len(want) {
		t.Fatalf("vars %q problems %q", vars, problems)
	}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("%s = %q, want %q", k, vars[k], v)
		}
	}
	for _, bad := range []string{"NOEQUALS", "1A=x", "A B=x", "A=\"open", "A='open", "A=\"x\" y", "=x"} {
		_, problems := parseEnvFile([]byte("OK=1\n" + bad + "\n"))
		if len(problems) != 1 || !strings.HasPrefix(problems[0], "line 2: ") {
			t.Errorf("%q: problems %q", bad, problems)
		}
		if strings.Contains(problems[0], "open") || strings.Contains(problems[0], "=x") {
			t.Errorf("%q: a problem shows the line: %q", bad, problems[0])
		}
	}
}

func TestEnvFileErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.env"), []byte("GOOD=1\nnot a line\n"), 0o600)
	_, err := Parse([]byte(`{"mcpServers": {
		"a": {"command": "x", "envFile": "missing.env"},
		"b": {"command": "x", "envFile": "bad.env"}}}`), FormatJSON, &LoadOptions{BaseDir: dir, LookupEnv: lookup(nil)})
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("err = %v", err)
	}
	if es[0].Path != "mcpServers.a.envFile" || !strings.Contains(es[0].Msg, "does not exist") ||
		es[1].Path != "mcpServers.b.envFile" || es[1].Msg != "line 2: want KEY=VALUE with KEY made of A-Z a-z 0-9 _" {
		t.Errorf("errors:\n%v", err)
	}
}

func TestRaw(t *testing.T) {
	src := `{"mcpServers": {
		"a": {"url": "${BASE}/mcp", "headers": {"Authorization": "Bearer ${env:TOKEN}"}, "timeout": "${T}"},
		"b": {"command": "${HOME}/bin/x", "envFile": "${workspaceFolder}/.env", "cwd": "${workspaceFolder}"}}}`
	cfg, err := Parse([]byte(src), FormatJSON, &LoadOptions{Raw: true, LookupEnv: lookup(nil)})
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Servers["a"], cfg.Servers["b"]
	if a.URL != "${BASE}/mcp" || a.Headers["Authorization"] != "Bearer ${env:TOKEN}" || a.Timeout != 0 {
		t.Errorf("a = %+v", a)
	}
	if b.Command != "${HOME}/bin/x" || b.EnvFile != "${workspaceFolder}/.env" || b.Cwd != "${workspaceFolder}" || b.Env != nil {
		t.Errorf("b = %+v", b)
	}
}

func TestTypes(t *testing.T) {
	tests := []struct {
		entry, typ, err string
	}{
		{entry: `{"command": "x"}`, typ: "stdio"},
		{entry: `{"url": "https://h/"}`, typ: "http"},
		{entry: `{"serverUrl": "https://h/"}`, typ: "http"},
		{entry: `{"uri": "https://h/"}`, typ: "http"},
		{entry: `{"httpUrl": "https://h/"}`, typ: "http"},
		{entry: `{"type": "sse", "url": "https://h/"}`, typ: "sse"},
		{entry: `{"type": "streamable-http", "url": "https://h/"}`, typ: "http"},
		{entry: `{"type": "streamableHttp", "url": "https://h/"}`, typ: "http"},
		{entry: `{"type": "streamable_http", "url": "https://h/"}`, typ: "http"},
		{entry: `{"type": "remote", "url": "https://h/"}`, typ: "http"},
		{entry: `{"type": "local", "command": "x"}`, typ: "stdio"},
		{entry: `{"transportType": "stdio", "command": "x"}`, typ: "stdio"},
		{entry: `{"transportType": "http", "type": "streamableHttp", "url": "https://h/"}`, typ: "http"},
		{entry: `{"type": "sse", "httpUrl": "https://h/"}`, err: `s.a.type: "httpUrl" implies type "http", not "sse"`},
		{entry: `{"type": "sse", "transportType": "stdio", "url": "https://h/"}`, err: `s.a.transportType: "transportType" says "stdio" but "type" says "sse"`},
		{entry: `{"type": "http", "command": "x"}`, err: `s.a.type: type "http" needs "url", not "command"`},
		{entry: `{"command": ""}`, err: `s.a.command: must not be empty`},
		{entry: `{"command": []}`, err: `s.a.command: must not be empty`},
		{entry: `{"url": "/relative"}`, err: `s.a.url: want an absolute http:// or https:// URL`},
		{entry: `{"url": "https://"}`, err: `s.a.url: the URL has no host`},
		{entry: `{"url": "https://h/%zz"}`, err: `s.a.url: not a valid URL`},
		{entry: `{"url": "https://h/", "inheritEnv": true}`, err: `s.a.inheritEnv: "inheritEnv" applies to stdio servers (a command), not to an http server`},
		{entry: `{"url": "https://h/", "args": []}`, typ: "http"},
		{entry: `{"command": "x", "headers": {}}`, typ: "stdio"},
		{entry: `{"command": "x", "disabled": true, "enabled": false}`, typ: "stdio"},
		{entry: `{"command": "x", "disabled": true, "enabled": true}`, err: `s.a.enabled: "enabled": true contradicts "disabled": true`},
		{entry: `{"command": "x", "disabled": false, "enabled": false}`, err: `s.a.enabled: "enabled": false contradicts "disabled": false`},
		{entry: `{"command": "x", "session": "per-user"}`, err: `s.a.session: want "shared" or "per-client", got "per-user"`},
		{entry: `{"command": "x", "env": {"A=B": "1"}}`, err: `s.a.env["A=B"]: "A=B" is not a valid environment variable name`},
		{entry: `{"url": "https://h/", "headers": {"Bad Name": "1"}}`, err: `s.a.headers["Bad Name"]: "Bad Name" is not a valid header name`},
		{entry: `{"url": "https://h/", "headers": {"X": "a\r\nInjected: 1"}}`, err: `s.a.headers.X: the value contains a line break or NUL`},
	}
	for _, tt := range tests {
		cfg, err := Parse([]byte(`{"mcpServers": {"a": `+tt.entry+`}}`), FormatJSON, nil)
		if tt.err != "" {
			want := strings.Replace(tt.err, "s.a", "mcpServers.a", 1)
			if err == nil || err.Error() != want {
				t.Errorf("%s:\n got %v\nwant %s", tt.entry, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.entry, err)
			continue
		}
		if got := cfg.Servers["a"].Type; got != tt.typ {
			t.Errorf("%s: type %q, want %q", tt.entry, got, tt.typ)
		}
	}
}

func TestGatewaySettings(t *testing.T) {
	tests := []struct{ gw, err string }{
		{`{"addr": "localhost"}`, `gateway.addr: want HOST:PORT, e.g. "127.0.0.1:8080"`},
		{`{"addr": "localhost:http"}`, `gateway.addr: port "http" is not a number from 0 to 65535`},
		{`{"addr": ":0"}`, ``},
		{`{"addr": "[::1]:8080"}`, ``},
		{`{"name": " "}`, `gateway.name: must not be empty`},
		{`{"separator": ""}`, `gateway.separator: want 1 to 8 of the characters A-Z a-z 0-9 _ . -`},
		{`{"separator": "::"}`, `gateway.separator: want 1 to 8 of the characters A-Z a-z 0-9 _ . -`},
		{`{"separator": "."}`, ``},
		{`{"callTimeout": 0.5, "connectTimeout": "1h30m", "pingInterval": "0"}`, ``},
		{`{"callTimeout": 1e300}`, `gateway.callTimeout: duration out of range`},
		{`[]`, `gateway: want an object, got an array`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(`{"gateway": `+tt.gw+`}`), FormatJSON, nil)
		if (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("%s:\n got %v\nwant %s", tt.gw, err, tt.err)
		}
	}
}

func TestPrefixes(t *testing.T) {
	pfx := func(s string) *string { return &s }
	one := &Server{Name: "solo"}
	tests := []struct {
		mode    string
		servers map[string]*Server
		want    map[string]string
	}{
		{"auto", map[string]*Server{"solo": one}, map[string]string{"solo": ""}},
		{"auto", map[string]*Server{"solo": {Prefix: pfx("s")}}, map[string]string{"solo": "s"}},
		{"always", map[string]*Server{"solo": one}, map[string]string{"solo": "solo"}},
		{"never", map[string]*Server{"a": {}, "b": {Prefix: pfx("bee")}}, map[string]string{"a": "", "b": "bee"}},
		{"auto", map[string]*Server{"my server": {}, "b": {Prefix: pfx("")}, "c": {Disabled: true}}, map[string]string{"my server": "my_server", "b": "", "c": "c"}},
	}
	for _, tt := range tests {
		c := &Config{Gateway: Gateway{Prefix: tt.mode, Separator: "_"}, Servers: tt.servers}
		got := c.Prefixes()
		for name, want := range tt.want {
			if got[name] != want {
				t.Errorf("mode %s, %v: prefix of %q = %q, want %q", tt.mode, c.Names(), name, got[name], want)
			}
		}
	}
	if got := DefaultPrefixOf("github.com/x y:é"); got != "github.com_x_y__" {
		t.Errorf("DefaultPrefixOf = %q", got)
	}
	if got := DefaultPrefixOf(strings.Repeat("a", 100)); len(got) != 64 {
		t.Errorf("DefaultPrefixOf is %d long", len(got))
	}
	// One server in auto mode: no prefix, so no collision is possible.
	cfg, err := Parse([]byte("mcpServers:\n  only: {command: x}\n"), FormatYAML, nil)
	if err != nil || cfg.ExposedName("only", "t") != "t" {
		t.Errorf("err %v, name %q", err, cfg.ExposedName("only", "t"))
	}
	// In never mode servers without a prefix do not collide.
	if _, err := Parse([]byte(`{"gateway": {"prefix": "never"}, "mcpServers": {"a b": {"command": "x"}, "a_b": {"command": "y"}}}`), FormatJSON, nil); err != nil {
		t.Error(err)
	}
}

func TestDiff(t *testing.T) {
	load := func(src string) *Config {
		t.Helper()
		c, err := Parse([]byte(src), FormatYAML, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old := load("mcpServers:\n  a: {command: x}\n  b: {command: y, args: [1a]}\n  c: {url: 'https://h/'}\n  d: {command: z}\n")
	cur := load("mcpServers:\n  a: {command: x, args: []}\n  b: {command: y, args: [2a]}\n  c: {url: 'https://h/', headers: {A: b}}\n  e: {command: z}\n  f: {command: z}\n")
	added, removed, changed := cur.Diff(old)
	if !slices.Equal(added, []string{"e", "f"}) || !slices.Equal(removed, []string{"d"}) || !slices.Equal(changed, []string{"b", "c"}) {
		t.Errorf("added %q removed %q changed %q", added, removed, changed)
	}
	added, removed, changed = cur.Diff(nil)
	if len(added) != 5 || removed != nil || changed != nil {
		t.Errorf("from nil: added %q removed %q changed %q", added, removed, changed)
	}
	added, removed, changed = cur.Diff(cur)
	if added != nil || removed != nil || changed != nil {
		t.Errorf("no change: added %q removed %q changed %q", added, removed, changed)
	}
	p1, p2 := "x", "x"
	if !(&Server{Prefix: &p1}).Equal(&Server{Prefix: &p2}) || (&Server{Prefix: &p1}).Equal(&Server{}) {
		t.Error("Equal compares prefixes by value")
	}
}

func TestRedacted(t *testing.T) {
	p := "pre"
	s := &Server{
		Name: "x", Type: "http", Prefix: &p,
		URL:     "https://user:pw@h.example/mcp?api_key=K1&v=2#frag",
		Env:     map[string]string{"TOKEN": "T1"},
		Headers: map[string]string{"Authorization": "Bearer T2"},
		Args:    []string{"-y", "--api-key", "K2", "--token=K3", "--verbose", "--name", "n", "Authorization: Bearer K4", "https://h/?token=K5", "--password"},
	}
	r := s.Redacted()
	out, _ := json.Marshal(r)
	for _, secret := range []string{"pw", "K1", "T1", "T2", "K2", "K3", "K4", "K5", "frag"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("%q shows in %s", secret, out)
		}
	}
	wantArgs := []string{"-y", "--api-key", RedactedValue, "--token=" + RedactedValue, "--verbose", "--name", "n", "Authorization: " + RedactedValue, "https://h/?token=" + RedactedValue, "--password"}
	if !slices.Equal(r.Args, wantArgs) {
		t.Errorf("args %q, want %q", r.Args, wantArgs)
	}
	if r.Env["TOKEN"] != RedactedValue || r.Headers["Authorization"] != RedactedValue || r.URL != "https://user:"+RedactedValue+"@h.example/mcp?api_key="+RedactedValue+"&v="+RedactedValue {
		t.Errorf("redacted: %+v", r)
	}
	if s.Env["TOKEN"] != "T1" || s.Args[2] != "K2" || *r.Prefix != "pre" || r.Prefix == s.Prefix {
		t.Error("Redacted changed the original or shares its prefix")
	}
	if RedactURL("http://h/mcp") != "http://h/mcp" || RedactURL("") != "" || RedactURL("%zz") != RedactedValue {
		t.Error("RedactURL")
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{`"30s"`, 30 * time.Second, false},
		{`"1h30m"`, 90 * time.Minute, false},
		{`30`, 30 * time.Second, false},
		{`0.25`, 250 * time.Millisecond, false},
		{`"0"`, 0, false},
		{`"-1s"`, 0, true},
		{`-1`, 0, true},
		{`"soon"`, 0, true},
		{`true`, 0, true},
	}
	for _, tt := range tests {
		var d Duration
		err := json.Unmarshal([]byte(tt.in), &d)
		if (err != nil) != tt.err || (err == nil && time.Duration(d) != tt.want) {
			t.Errorf("%s: %v, %v", tt.in, time.Duration(d), err)
		}
	}
	b, _ := json.Marshal(struct{ D Duration }{Duration(90 * time.Second)})
	if string(b) != `{"D":"1m30s"}` {
		t.Errorf("marshal: %s", b)
	}
}

func TestFormatOf(t *testing.T) {
	tests := []struct {
		path, data string
		want       Format
	}{
		{"a.yaml", "{}", FormatYAML},
		{"a.YML", "", FormatYAML},
		{"a.json", "x: 1", FormatJSON},
		{"a.jsonc", "", FormatJSON},
		{"config", "  // c\n/* d */ {", FormatJSON},
		{"config", "\ufeff{}", FormatJSON},
		{"config", "mcpServers: {}", FormatYAML},
		{"config", "# c\n{a: 1}", FormatYAML},
		{"config", "", FormatYAML},
		{"config", "/* unterminated", FormatYAML},
	}
	for _, tt := range tests {
		if got := FormatOf(tt.path, []byte(tt.data)); got != tt.want {
			t.Errorf("FormatOf(%q, %q) = %v, want %v", tt.path, tt.data, got, tt.want)
		}
	}
}

func TestEdgeFiles(t *testing.T) {
	tests := []struct {
		name, src string
		format    Format
		err       string
	}{
		{"empty json", "", FormatJSON, ""},
		{"empty yaml", "# nothing\n", FormatYAML, ""},
		{"null yaml", "null\n", FormatYAML, "the file must hold an object (a mapping), not null"},
		{"two documents", "a: 1\n---\nb: 2\n", FormatYAML, "YAML: more than one document in the file"},
		{"deep json", strings.Repeat("[", 100) + strings.Repeat("]", 100), FormatJSON, "JSON: objects and arrays nested more than 64 deep"},
		{"duplicate json key", `{"mcpServers": {}, "mcpServers": {}}`, FormatJSON, `mcpServers: duplicate key "mcpServers"`},
		{"yaml timestamp", "mcpServers:\n  a:\n    command: !!timestamp 2001-12-14\n", FormatYAML, "mcpServers.a.command: a timestamp is not a valid value here"},
		{"yaml binary", "mcpServers:\n  a:\n    command: !!binary aGVsbG8=\n", FormatYAML, "mcpServers.a.command: binary data is not a valid value here"},
		{"yaml nan", "gateway:\n  callTimeout: .nan\n", FormatYAML, "gateway.callTimeout: not a finite number"},
		{"yaml number key", "mcpServers:\n  1: {command: x}\n", FormatYAML, ""},
		{"yaml anchors", "x: &s {command: x}\nmcpServers:\n  a: *s\n", FormatYAML, "x: unknown key"},
		{"yaml merge", "gateway: {name: g}\nmcpServers:\n  a: &a {command: x, env: {A: '$${A}'}}\n  b:\n    <<: *a\n    args: [y]\n", FormatYAML, ""},
		{"big number", `{"gateway": {"callTimeout": 1e999}}`, FormatJSON, "gateway.callTimeout: number out of range"},
		{"too large", `{"x": "` + strings.Repeat("a", MaxFileSize) + `"}`, FormatJSON, "file too large"},
	}
	for _, tt := range tests {
		cfg, err := Parse([]byte(tt.src), tt.format, nil)
		if tt.err == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.err)
		}
		_ = cfg
	}
	// Aliases do not share substituted strings: "$$" becomes "$" once.
	cfg, err := Parse([]byte("mcpServers:\n  a: &a {command: x, env: {A: '$$1'}}\n  b: *a\n"), FormatYAML, nil)
	if err != nil || cfg.Servers["a"].Env["A"] != "$1" || cfg.Servers["b"].Env["A"] != "$1" {
		t.Errorf("aliases: %v %+v", err, cfg)
	}
	// An alias bomb is bounded.
	var sb strings.Builder
	sb.WriteString("a: &a [x,x,x,x,x,x,x,x,x,x]\n")
	for c := 'b'; c <= 'j'; c++ {
		prev := string(c - 1)
		sb.WriteString(string(c) + ": &" + string(c) + " [" + strings.Repeat("*"+prev+",", 9) + "*" + prev + "]\n")
	}
	if _, err := Parse([]byte(sb.String()), FormatYAML, nil); err == nil || !strings.Contains(err.Error(), "more than 100000 values") {
		t.Errorf("alias bomb: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	c := Default()
	if c.Gateway.Name != DefaultName || c.Gateway.Addr != DefaultAddr || c.Gateway.Prefix != PrefixAuto || c.Gateway.Separator != "_" ||
		c.Gateway.CallTimeout != DefaultCallTimeout || c.Gateway.ConnectTimeout != DefaultConnectTimeout || c.Gateway.PingInterval != DefaultPingInterval || len(c.Servers) != 0 {
		t.Errorf("Default() = %+v", c)
	}
}

func TestErrorsValue(t *testing.T) {
	_, err := Parse([]byte(`{"mcpServers": {"a": {"comand": "x"}, "b.c": {"command": "y", "env": {"K": "${MISSING}"}}}}`), FormatJSON, &LoadOptions{LookupEnv: lookup(nil)})
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("%T", err)
	}
	var one *Error
	if !errors.As(err, &one) || one.Path != "mcpServers.a" {
		t.Errorf("errors.As(*Error) = %+v", one)
	}
	want := "mcpServers.a: needs \"command\" (a stdio server) or \"url\" (an http or sse server)\n" +
		"mcpServers.a.comand: unknown key \"comand\" (did you mean \"command\"?)\n" +
		"mcpServers[\"b.c\"].env.K: environment variable MISSING is not set (write ${MISSING:-default} to give a default)"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
	if (&Error{Msg: "m"}).Error() != "m" {
		t.Error("an error without a path")
	}
}
