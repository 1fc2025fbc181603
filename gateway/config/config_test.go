package config

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testEnv is the environment the fixtures are loaded with.
var testEnv = map[string]string{
	"API_KEY":                          "sk-api-secret",
	"FIGMA_TOKEN":                      "figma-secret",
	"GEMINI_MCP_TOKEN":                 "gemini-secret",
	"GITHUB_TOKEN":                     "ghp-secret",
	"HOME":                             "/home/alice",
	"LINEAR_API_KEY":                   "lin-secret",
	"PATH":                             "/usr/bin:/bin",
	"PGPASSWORD":                       "pg-secret",
	"SWITCHBOARD_INPUT_GITHUB_TOKEN":   "input-gh-secret",
	"SWITCHBOARD_INPUT_PERPLEXITY_KEY": "input-pplx-secret",
	"TOOLS_DIR":                        "", // set but empty: the default applies
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// srv is what a fixture test checks of a server.
type srv struct {
	typ, command, url string
	args              []string
	env, headers      map[string]string
	cwd               string
	disabled          bool
	prefix            string // effective
	timeout           time.Duration
}

func check(t *testing.T, cfg *Config, name string, want srv) {
	t.Helper()
	s := cfg.Servers[name]
	if s == nil {
		t.Fatalf("no server %q; have %v", name, cfg.Names())
	}
	if s.Name != name || s.Type != want.typ || s.Command != want.command || s.URL != want.url || s.Cwd != want.cwd || s.Disabled != want.disabled {
		t.Errorf("%s: got name=%q type=%q command=%q url=%q cwd=%q disabled=%v; want type=%q command=%q url=%q cwd=%q disabled=%v",
			name, s.Name, s.Type, s.Command, s.URL, s.Cwd, s.Disabled, want.typ, want.command, want.url, want.cwd, want.disabled)
	}
	if !slices.Equal(s.Args, want.args) {
		t.Errorf("%s: args %q, want %q", name, s.Args, want.args)
	}
	if !maps.Equal(s.Env, want.env) {
		t.Errorf("%s: env %q, want %q", name, s.Env, want.env)
	}
	if !maps.Equal(s.Headers, want.headers) {
		t.Errorf("%s: headers %q, want %q", name, s.Headers, want.headers)
	}
	if got := cfg.ServerPrefix(name); got != want.prefix {
		t.Errorf("%s: prefix %q, want %q", name, got, want.prefix)
	}
	if time.Duration(s.Timeout) != want.timeout {
		t.Errorf("%s: timeout %v, want %v", name, s.Timeout, want.timeout)
	}
}

func TestFixtures(t *testing.T) {
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	project := abs("testdata/project")
	tests := []struct {
		file    string
		format  Format
		servers map[string]srv
		gateway *Gateway // nil: the defaults
		inputs  int
	}{
		{file: "claude_desktop_config.json", format: FormatJSON, servers: map[string]srv{
			"filesystem": {typ: "stdio", command: "npx", args: []string{"-y", "@modelcontextprotocol/server-filesystem", "/Users/alice/Desktop", "/Users/alice/Downloads"}, prefix: "filesystem"},
			"github":     {typ: "stdio", command: "npx", args: []string{"-y", "@modelcontextprotocol/server-github"}, env: map[string]string{"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_exampleexampleexampleexample0000"}, prefix: "github"},
			"sqlite":     {typ: "stdio", command: "uvx", args: []string{"mcp-server-sqlite", "--db-path", "/Users/alice/test.db"}, prefix: "sqlite"},
			"weather":    {typ: "stdio", command: "node", args: []string{"/Users/alice/Library/Application Support/Claude/Claude Extensions/weather/server/index.js"}, env: map[string]string{"PATH": "/opt/tools:/usr/bin:/bin"}, prefix: "weather"},
		}},
		{file: "cursor_mcp.json", format: FormatJSON, servers: map[string]srv{
			"linear":   {typ: "http", url: "https://mcp.linear.app/mcp", headers: map[string]string{"Authorization": "Bearer lin-secret"}, prefix: "linear"},
			"postgres": {typ: "stdio", command: "npx", args: []string{"-y", "@modelcontextprotocol/server-postgres", "postgresql://localhost/mydb"}, env: map[string]string{"PGPASSWORD": "pg-secret"}, prefix: "postgres"},
			"browser":  {typ: "sse", url: "http://localhost:3001/sse", prefix: "browser"},
		}},
		{file: "project/.vscode/mcp.json", format: FormatJSON, inputs: 2, servers: map[string]srv{
			"github": {typ: "http", url: "https://api.githubcopilot.com/mcp/", headers: map[string]string{"Authorization": "Bearer input-gh-secret"}, prefix: "github"},
			"perplexity": {typ: "stdio", command: "npx", args: []string{"-y", "server-perplexity-ask"}, cwd: project, prefix: "perplexity",
				env: map[string]string{"PERPLEXITY_API_KEY": "input-pplx-secret", "LOG_LEVEL": "debug", "QUOTED": "a b\tc", "LITERAL": "x $y"}},
			"fetch": {typ: "stdio", command: "uvx", args: []string{"mcp-server-fetch"}, prefix: "fetch"},
		}},
		{file: "claude_code.mcp.json", format: FormatJSON, servers: map[string]srv{
			"api-server":  {typ: "http", url: "https://api.example.com/mcp", headers: map[string]string{"Authorization": "Bearer sk-api-secret"}, prefix: "api-server"},
			"events":      {typ: "sse", url: "https://events.example.com/sse", prefix: "events"},
			"local-tools": {typ: "stdio", command: "/opt/tools/bin/server", args: []string{"--config", "./config.json", "--price", "$5"}, env: map[string]string{"CACHE_DIR": "/tmp/cache"}, prefix: "local-tools"},
		}},
		{file: "windsurf_mcp_config.json", format: FormatJSON, servers: map[string]srv{
			"figma": {typ: "http", url: "https://mcp.figma.com/mcp", headers: map[string]string{"X-Figma-Token": "figma-secret"}, prefix: "figma"},
			"git":   {typ: "stdio", command: "uvx", args: []string{"mcp-server-git", "--repository", "/home/alice/src/repo"}, disabled: true, prefix: "git"},
		}},
		{file: "cline_mcp_settings.json", format: FormatJSON, servers: map[string]srv{
			"brave-search": {typ: "stdio", command: "npx", args: []string{"-y", "@modelcontextprotocol/server-brave-search"}, env: map[string]string{"BRAVE_API_KEY": "BSA-example"}, prefix: "brave-search", timeout: time.Minute},
			"remote":       {typ: "http", url: "https://example.com/mcp", prefix: "remote", timeout: 2 * time.Minute},
			"legacy":       {typ: "sse", url: "https://legacy.example.com/sse", prefix: "legacy"},
		}},
		{file: "gemini_settings.json", format: FormatJSON, servers: map[string]srv{
			"stream": {typ: "http", url: "https://stream.example.com/mcp", headers: map[string]string{"Authorization": "Bearer gemini-secret"}, prefix: "stream"},
			"python": {typ: "stdio", command: "python", args: []string{"-m", "my_server"}, cwd: abs("testdata/servers/python"), env: map[string]string{"API_KEY": "$MY_API_KEY"}, prefix: "python"},
		}},
		{file: "gateway.yaml", format: FormatYAML,
			gateway: &Gateway{Name: "team-gateway", Addr: "0.0.0.0:9090", DataDir: abs("testdata/state"), Prefix: "always", Separator: "__",
				CallTimeout: Duration(2 * time.Minute), ConnectTimeout: Duration(10 * time.Second), PingInterval: 0},
			servers: map[string]srv{
				"demo":       {typ: "stdio", command: "switchboard", args: []string{"demo", "everything"}, prefix: "demo"},
				"github":     {typ: "http", url: "https://api.githubcopilot.com/mcp/", headers: map[string]string{"Authorization": "Bearer ghp-secret"}, prefix: "gh", timeout: 30 * time.Second},
				"everything": {typ: "stdio", command: "npx", args: []string{"-y", "@modelcontextprotocol/server-everything"}, prefix: ""},
				"legacy":     {typ: "sse", url: "https://legacy.example.com/sse", disabled: true, prefix: "legacy"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			cfg, err := Load(path, &LoadOptions{LookupEnv: lookup(testEnv)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if cfg.Path != abs(path) || cfg.Format != tt.format {
				t.Errorf("Path %q Format %v, want %q %v", cfg.Path, cfg.Format, abs(path), tt.format)
			}
			if got, want := cfg.Names(), slices.Sorted(maps.Keys(tt.servers)); !slices.Equal(got, want) {
				t.Fatalf("servers %q, want %q", got, want)
			}
			for name, want := range tt.servers {
				check(t, cfg, name, want)
			}
			wantGW := Default().Gateway
			if tt.gateway != nil {
				wantGW = *tt.gateway
			}
			if cfg.Gateway != wantGW {
				t.Errorf("gateway %+v, want %+v", cfg.Gateway, wantGW)
			}
			if len(cfg.Inputs) != tt.inputs {
				t.Errorf("%d inputs, want %d", len(cfg.Inputs), tt.inputs)
			}
		})
	}
}

func TestFixtureDetails(t *testing.T) {
	cfg, err := Load("testdata/gateway.yaml", &LoadOptions{LookupEnv: lookup(testEnv)})
	if err != nil {
		t.Fatal(err)
	}
	demo := cfg.Servers["demo"]
	if demo.Session != SessionPerClient || demo.MaxSessions != 8 || !demo.InheritEnv {
		t.Errorf("demo: session %q max %d inherit %v", demo.Session, demo.MaxSessions, demo.InheritEnv)
	}
	if gh := cfg.Servers["github"]; gh.Session != SessionShared || gh.MaxSessions != DefaultMaxSessions {
		t.Errorf("github: defaults not applied: %q %d", gh.Session, gh.MaxSessions)
	}
	if got := cfg.ExposedName("github", "create_issue"); got != "gh__create_issue" {
		t.Errorf("ExposedName = %q", got)
	}
	if got := cfg.ExposedName("everything", "echo"); got != "echo" {
		t.Errorf("ExposedName = %q", got)
	}

	vs, err := Load("testdata/project/.vscode/mcp.json", &LoadOptions{LookupEnv: lookup(testEnv)})
	if err != nil {
		t.Fatal(err)
	}
	want := []Input{
		{ID: "github-token", Type: "promptString", Description: "GitHub Personal Access Token", Password: true},
		{ID: "perplexity-key", Type: "promptString", Description: "Perplexity API Key", Password: true},
	}
	if !slices.Equal(vs.Inputs, want) {
		t.Errorf("inputs %+v", vs.Inputs)
	}
	abs, _ := filepath.Abs("testdata/project/.env")
	if vs.Servers["perplexity"].EnvFile != abs {
		t.Errorf("envFile %q, want %q", vs.Servers["perplexity"].EnvFile, abs)
	}
}

func TestBadFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []string // "line path: message-substring"; the exact list of paths
	}{
		{"unknown_key.json", []string{
			`13 gateway.adr: unknown key "adr" (did you mean "addr"?)`,
			`14 mcpServer: unknown key "mcpServer" (did you mean "mcpServers"?)`,
			`9 mcpServers.fetch.arguments: unknown key "arguments" (did you mean "args"?)`,
			`10 mcpServers.fetch.includeTools: "includeTools" (a tool filter) is not supported`,
			`3 mcpServers.github: needs "command"`,
			`4 mcpServers.github.comand: unknown key "comand" (did you mean "command"?)`,
			`15 registry.url: unknown key "url"`,
		}},
		{"wrong_type.yaml", []string{
			`2 gateway.name: want a string, got a number`,
			`6 mcpServers.files.args: want an array of strings, got a string`,
			`9 mcpServers.files.disabled: want a boolean (true or false), got a string`,
			`7 mcpServers.files.env: want an object of strings, got an array`,
			`10 mcpServers.files.maxSessions: want a whole number`,
			`11 mcpServers.remote: want an object, got a string`,
		}},
		{"command_and_url.json", []string{
			`3 mcpServers.both: both "command" and "url" given`,
			`8 mcpServers.ftp.url: URL scheme must be http or https, not "ftp"`,
			`6 mcpServers.http-headers-env.env: "env" applies to stdio servers`,
			`4 mcpServers.neither: needs "command" (a stdio server) or "url"`,
			`7 mcpServers.stdio-headers.headers: headers apply to http and sse servers`,
			`5 mcpServers.stdio-url.type: type "stdio" needs "command", not "url"`,
			`9 mcpServers.two-urls.serverUrl: "url" and "serverUrl" both give the URL`,
			`10 mcpServers.weird-type.type: unknown server type "websocket"`,
			`10 mcpServers.weird-type.url: URL scheme must be http or https, not "wss"`,
			`13 servers.both: server "both" is also defined at mcpServers.both`,
		}},
		{"missing_var.json", []string{
			`12 servers.local.args[0]: unknown reference "${...}"`,
			`11 servers.local.env.BROKEN: unterminated "${"`,
			`11 servers.local.env.TOKEN: environment variable SECRET_TOKEN is not set`,
			`7 servers.remote.headers.Authorization: input "api-key" has no value: set the environment variable SWITCHBOARD_INPUT_API_KEY`,
			`6 servers.remote.url: environment variable MCP_HOST is not set`,
		}},
		{"duplicate_prefix.yaml", []string{
			`11 mcpServers.beta.prefix: its prefix "tools" is also the prefix of server "alpha"`,
			`14 mcpServers.gamma.prefix: want at most 64 of the characters`,
			`4 mcpServers.my_server: its default prefix "my_server" is also the prefix of server "my server"`,
		}},
		{"bad_duration.json", []string{
			`2 gateway.callTimeout: want a duration like "30s"`,
			`2 gateway.pingInterval: a duration cannot be negative`,
			`4 mcpServers.slow.connectTimeout: want a duration ("30s", "5m") or a number of seconds, got a boolean`,
			`4 mcpServers.slow.timeout: want a duration like "30s"`,
		}},
		{"syntax.json", []string{`4 JSON: column 5: invalid character '"' after object value`}},
		{"syntax.yaml", []string{`4 YAML: mapping key "a" already defined`}},
		{"not_object.json", []string{`1 the file must hold an object`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cfg, err := Load(filepath.Join("testdata/bad", tt.file), &LoadOptions{LookupEnv: lookup(nil)})
			if cfg != nil {
				t.Error("a config for an invalid file")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v (%T), want Errors", err, err)
			}
			var got []string
			for _, e := range es {
				got = append(got, itoa(e.Line)+" "+e.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d:\n got %s\nwant %s...", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestNoSecretsInErrors checks that no value of env, headers, URLs or
// args appears in an error, whatever is wrong around it.
func TestNoSecretsInErrors(t *testing.T) {
	const secret = "s3cr3t-Value"
	files := []string{
		`{"mcpServers": {"a": {"url": "ftp://u:` + secret + `@h/?k=` + secret + `", "headers": {"X": "` + secret + `\n"}, "env": {"E": "` + secret + `"}}}}`,
		`{"mcpServers": {"a": {"command": "x", "env": {"E": "${` + secret + `"}}}}`,
		`{"mcpServers": {"a": {"command": "x", "env": {"E": "` + secret + `${` + secret + `}"}}}}`,
		`{"mcpServers": {"a": {"command": "x", "headers": {"H": "` + secret + `"}, "args": ["` + secret + `", 1]}}}`,
		`{"mcpServers": {"a": {"command": "x", "env": {"E": "` + secret + `\q"}}}}`,
		`{"mcpServers": {"a": {"command": "x", "env": {"E": "` + secret + `"} "x": 1}}}`,
		"mcpServers:\n  a:\n    command: x\n    env: {E: \"" + secret + "\\q\"}\n",
		"mcpServers:\n  a:\n    url: \"http://" + secret + ":80:80/x\"\n",
		"mcpServers:\n  a:\n    url: \"" + secret + "://h/x\"\n",
		"mcpServers:\n  a:\n    url: \"%" + secret + "\"\n",
	}
	for i, f := range files {
		_, err := Parse([]byte(f), FormatAuto, &LoadOptions{LookupEnv: lookup(map[string]string{"T": secret})})
		if err == nil {
			t.Errorf("file %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), strings.ToLower(secret)) {
			t.Errorf("file %d: the error shows the secret: %v", i, err)
		}
	}
}

func TestSchema(t *testing.T) {
	if _, err := compiledSchema(); err != nil { // compiling checks it against the 2020-12 meta-schema
		t.Fatalf("the schema does not compile: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["$id"] != SchemaID || doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$id %v $schema %v", doc["$id"], doc["$schema"])
	}
	props := func(v any) []string {
		return slices.Sorted(maps.Keys(v.(map[string]any)["properties"].(map[string]any)))
	}
	defs := doc["$defs"].(map[string]any)
	sorted := func(lists ...[]string) []string {
		var all []string
		for _, l := range lists {
			all = append(all, l...)
		}
		slices.Sort(all)
		return all
	}
	if got, want := props(doc), sorted(topKeys, reservedTopKeys, ignoredTopKeys); !slices.Equal(got, want) {
		t.Errorf("top-level keys of the schema %q, of the decoder %q", got, want)
	}
	if got, want := props(defs["gateway"]), sorted(gatewayKeys); !slices.Equal(got, want) {
		t.Errorf("gateway keys of the schema %q, of the decoder %q", got, want)
	}
	if got, want := props(defs["server"]), sorted(serverKeys, slices.Collect(maps.Keys(ignoredServerKeys)), slices.Collect(maps.Keys(unsupportedServerKeys))); !slices.Equal(got, want) {
		t.Errorf("server keys of the schema %q, of the decoder %q", got, want)
	}
	types := defs["server"].(map[string]any)["properties"].(map[string]any)["type"].(map[string]any)["enum"].([]any)
	if len(types) != len(typeAliases) {
		t.Errorf("the schema lists %d types, the decoder %d", len(types), len(typeAliases))
	}
	for _, ty := range types {
		if _, ok := typeAliases[ty.(string)]; !ok {
			t.Errorf("type %v of the schema unknown to the decoder", ty)
		}
	}
}

// TestFixturesMatchSchema validates every good fixture with the schema
// alone, so that editors using the published schema accept them too.
func TestFixturesMatchSchema(t *testing.T) {
	sch, err := compiledSchema()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/*.*")
	files = append(files, "testdata/project/.vscode/mcp.json")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tr, perr := parseTree(data, FormatOf(f, data))
		if perr != nil {
			t.Fatalf("%s: %v", f, perr)
		}
		if err := sch.Validate(tr.root); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if len(files) < 8 {
		t.Errorf("only %d fixtures", len(files))
	}
}

// TestSchemaErrors checks what only the schema reports, and how its
// errors read.
func TestSchemaErrors(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{`{"inputs": [{"type": "promptString"}]}`, `inputs[0]: missing key "id"`},
		{`{"mcpServers": {"a": {"command": "x", "session": 1}}}`, `mcpServers.a.session: want a string, got a number`},
		{`{"mcpServers": {"a": {"command": "x", "maxSessions": 0}}}`, `mcpServers.a.maxSessions: want a whole number from 1 to 1000000`},
		{`{"inputs": [{"id": "x", "password": "yes"}]}`, `inputs[0].password: want a boolean, got a string`},
		{`{"$schema": 1}`, `$schema: want a string, got a number`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.src), FormatJSON, nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s:\n got %v\nwant %s", tt.src, err, tt.want)
		}
	}
}
