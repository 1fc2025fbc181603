package portability

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fixture is a realistic file of one client, in testdata/clients.
type fixture struct {
	client string
	file   string
	// servers are the names Read must find.
	servers []string
	opts    Options
}

var fixtures = []fixture{
	{client: "claude-desktop", file: "claude-desktop.json", servers: []string{"filesystem", "github", "sqlite"}},
	{client: "claude-code", file: "claude-code.mcp.json", servers: []string{"api", "db", "legacy"}},
	{client: "claude-code-user", file: "claude-code-user.json", servers: []string{"sentry"}},
	{client: "claude-code-local", file: "claude-code-user.json", servers: []string{"playwright"}, opts: Options{Project: "/home/alice/src/shop"}},
	{client: "cursor", file: "cursor.json", servers: []string{"filesystem", "linear", "postgres"}},
	{client: "vscode", file: "vscode.json", servers: []string{"fetch", "github", "perplexity"}},
	{client: "windsurf", file: "windsurf.json", servers: []string{"figma", "github"}},
	{client: "zed", file: "zed.json", servers: []string{"filesystem", "legacy-time", "remote-docs"}},
	{client: "codex", file: "codex.toml", servers: []string{"context7", "figma", "local"}},
	{client: "goose", file: "goose.yaml", servers: []string{"github", "search"}},
	{client: "gemini", file: "gemini.json", servers: []string{"events", "github", "python-tools"}},
	{client: "cline", file: "cline.json", servers: []string{"brave-search", "legacy", "remote"}},
	{client: "continue", file: "continue.yaml", servers: []string{"Linear", "SQLite MCP", "Supabase"}},
	{client: "opencode", file: "opencode.json", servers: []string{"everything", "jira", "sentry"}},
	{client: "lmstudio", file: "lmstudio.json", servers: []string{"hf-mcp-server", "time"}},
	{client: "switchboard", file: "switchboard.yaml", servers: []string{"files", "github"}, opts: Options{Format: YAML}},
}

func readFixture(t *testing.T, f fixture) (*Client, []byte, *Options) {
	t.Helper()
	c, err := Lookup(f.client)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "clients", f.file))
	if err != nil {
		t.Fatal(err)
	}
	o := f.opts
	o.IncludeSecrets = true
	return c, data, &o
}

func mustRead(t *testing.T, c *Client, data []byte, o *Options) *Set {
	t.Helper()
	set, _, err := c.Read(data, o)
	if err != nil {
		t.Fatalf("%s: Read: %v", c.ID, err)
	}
	return set
}

// sameServers fails unless two sets have the same servers.
func sameServers(t *testing.T, what string, want, got *Set) {
	t.Helper()
	if !slices.Equal(want.Names(), got.Names()) {
		t.Fatalf("%s: servers %q, want %q", what, got.Names(), want.Names())
	}
	for _, w := range want.Servers {
		if g := got.Lookup(w.Name); !g.Equal(w) {
			t.Errorf("%s: %s:\n got %+v\nwant %+v", what, w.Name, *g, *w)
		}
	}
}

// TestRoundTrip: each client's fixture is imported into a gateway file,
// exported into an empty file of the client's format and into the
// fixture itself, and imported again: the servers are the same
// (references included), and exporting into the fixture changes nothing.
func TestRoundTrip(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.client, func(t *testing.T) {
			c, data, o := readFixture(t, f)
			s1 := mustRead(t, c, data, o)
			if !slices.Equal(s1.Names(), f.servers) {
				t.Fatalf("servers %q, want %q", s1.Names(), f.servers)
			}

			// Import into a new gateway file (YAML and JSON).
			for _, gf := range []Format{YAML, JSON} {
				gwo := &Options{Format: gf, IncludeSecrets: true}
				res, err := Gateway.Edit(nil, s1, gwo)
				if err != nil {
					t.Fatalf("import (%s): %v", gf, err)
				}
				if len(res.Added) != len(s1.Servers) || len(res.Skipped)+len(res.Conflicts) > 0 {
					t.Fatalf("import (%s): %+v", gf, res)
				}
				sg := mustRead(t, Gateway, res.Content, gwo)
				sameServers(t, "gateway "+gf.String(), s1, sg)
				if !reflect.DeepEqual(s1.Inputs, sg.Inputs) {
					t.Errorf("inputs %+v, want %+v", sg.Inputs, s1.Inputs)
				}
				if c == Gateway {
					continue
				}

				// Export into the fixture: every entry is unchanged.
				res, err = c.Edit(data, sg, o)
				if err != nil {
					t.Fatalf("export into the fixture: %v", err)
				}
				if len(res.Unchanged) != len(s1.Servers) || string(res.Content) != string(data) {
					t.Fatalf("export into the fixture changed it: %+v\n%s", res, UnifiedDiff("a", "b", data, res.Content))
				}

				// Export into a new file, and import again.
				res, err = c.Edit(nil, sg, o)
				if err != nil {
					t.Fatalf("export: %v", err)
				}
				if len(res.Added) != len(s1.Servers) {
					t.Fatalf("export: %+v", res)
				}
				s3 := mustRead(t, c, res.Content, o)
				sameServers(t, "import again", s1, s3)
			}
		})
	}
}

// otherKeysKept checks that after differs from before only by added
// lines (and a comma after the line before them, in JSON), and that the
// decoded files differ only by the entry at path.name.
func otherKeysKept(t *testing.T, c *Client, o *Options, before, after []byte, name string) {
	t.Helper()
	ops := editScript(splitLines(string(before)), splitLines(string(after)))
	var removed, added []string
	for _, op := range ops {
		switch op.kind {
		case '-':
			removed = append(removed, op.line)
		case '+':
			added = append(added, op.line)
		}
	}
	switch {
	case len(removed) == 0:
	case len(removed) == 1 && slices.Contains(added, strings.TrimRight(removed[0], "\n")+",\n"):
		// A comma after the member that was last.
	default:
		t.Errorf("lines changed, not only added: %q\n%s", removed, UnifiedDiff("before", "after", before, after))
	}
	db, err := parseDocument(before, c.format(o))
	if err != nil {
		t.Fatal(err)
	}
	da, err := parseDocument(after, c.format(o))
	if err != nil {
		t.Fatalf("the edited file does not parse: %v", err)
	}
	tb, ta := db.tree(), da.tree()
	path := c.d.container(tb, o)
	removeEntry(ta, path, name, c.d.list)
	removeEntry(tb, path, name, c.d.list)
	if !reflect.DeepEqual(prune(tb), prune(ta)) {
		t.Errorf("other keys changed:\nbefore %v\nafter  %v", tb, ta)
	}
}

// removeEntry deletes the entry name at path from a decoded file.
func removeEntry(tree map[string]any, path []string, name string, list bool) {
	parent := tree
	for _, k := range path[:len(path)-1] {
		m, _ := parent[k].(map[string]any)
		if m == nil {
			return
		}
		parent = m
	}
	last := path[len(path)-1]
	if list {
		l, _ := parent[last].([]any)
		parent[last] = slices.DeleteFunc(l, func(e any) bool {
			m, _ := e.(map[string]any)
			return m["name"] == name
		})
		return
	}
	if m, ok := parent[last].(map[string]any); ok {
		delete(m, name)
	}
}

// prune drops empty maps and lists and nulls (a container the edit
// created or filled).
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, c := range x {
			p := prune(c)
			if p == nil {
				continue
			}
			if m, ok := p.(map[string]any); ok && len(m) == 0 {
				continue
			}
			if l, ok := p.([]any); ok && len(l) == 0 {
				continue
			}
			out[k] = p
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, c := range x {
			out = append(out, prune(c))
		}
		return out
	}
	return v
}

// TestConnect: connecting each fixture adds exactly the gateway's entry
// and keeps every other line and key.
func TestConnect(t *testing.T) {
	for _, f := range fixtures {
		if f.client == "switchboard" {
			continue
		}
		for _, stdio := range []bool{false, true} {
			name := f.client
			if stdio {
				name += "/stdio"
			}
			t.Run(name, func(t *testing.T) {
				c, data, o := readFixture(t, f)
				entry := ConnectEntry("switchboard", c, "http://127.0.0.1:8080/mcp", stdio, "/usr/local/bin/switchboard", "/home/alice/.config/switchboard/config.yaml")
				if !c.Remote && entry.Transport != Stdio {
					t.Fatalf("%s takes no URLs, got %+v", c.ID, entry)
				}
				res, err := c.Edit(data, &Set{Servers: []*Server{entry}}, o)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(res.Added, []string{"switchboard"}) || len(res.Notes) > 0 {
					t.Fatalf("result %+v", res)
				}
				otherKeysKept(t, c, o, data, res.Content, "switchboard")
				before := mustRead(t, c, data, o)
				after := mustRead(t, c, res.Content, o)
				if got := after.Lookup("switchboard"); got == nil || !got.Equal(entry) {
					t.Errorf("entry %+v, want %+v", got, entry)
				}
				after.Servers = slices.DeleteFunc(after.Servers, func(s *Server) bool { return s.Name == "switchboard" })
				sameServers(t, "the other servers", before, after)

				// Connecting again changes nothing.
				again, err := c.Edit(res.Content, &Set{Servers: []*Server{entry}}, o)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(again.Unchanged, []string{"switchboard"}) || string(again.Content) != string(res.Content) {
					t.Errorf("second connect: %+v", again)
				}
			})
		}
	}
}

// TestReplaceKeepsTheRest: replacing one entry (with Replace) rewrites
// only that entry's lines; comments and other entries stay.
func TestReplaceKeepsTheRest(t *testing.T) {
	tests := []struct {
		fixture fixture
		server  string
		keep    []string // lines that must survive
	}{
		{fixtures[7], "filesystem", []string{"// Installed from the extension store: Zed starts it itself.", `"vim_mode": false, // trailing comma allowed`, "// Zed settings"}},
		{fixtures[9], "github", []string{"# A remote server", "GOOSE_MODE: smart_approve", "    type: builtin"}},
		{fixtures[8], "context7", []string{"# Docs search, over stdio.", "[mcp_servers.figma]", "[profiles.fast]", `approval_policy = "on-request"`}},
		{fixtures[12], "Supabase", []string{"# MCP servers, used in agent mode", "  - provider: docs", "    apiKey: ${{ secrets.ANTHROPIC_API_KEY }}"}},
		{fixtures[5], "fetch", []string{"// Inputs are prompted on first server start, then stored securely by VS Code.", "// https://github.com/ppl-ai/modelcontextprotocol/"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture.client, func(t *testing.T) {
			c, data, o := readFixture(t, tt.fixture)
			set := mustRead(t, c, data, o)
			s := set.Lookup(tt.server).Clone()
			s.Args = append(s.Args, "--verbose")
			res, err := c.Edit(data, &Set{Servers: []*Server{s}}, o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Conflicts, []string{tt.server}) || string(res.Content) != string(data) {
				t.Fatalf("without Replace: %+v", res)
			}
			o.Replace = true
			res, err = c.Edit(data, &Set{Servers: []*Server{s}}, o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Replaced, []string{tt.server}) {
				t.Fatalf("with Replace: %+v", res)
			}
			after := mustRead(t, c, res.Content, o)
			for _, old := range set.Servers {
				want := old
				if old.Name == tt.server {
					want = s
				}
				if got := after.Lookup(old.Name); got == nil || !got.Equal(want) {
					t.Errorf("%s: %+v, want %+v", old.Name, got, want)
				}
			}
			for _, line := range tt.keep {
				if !strings.Contains(string(res.Content), line+"\n") {
					t.Errorf("line %q lost:\n%s", line, res.Content)
				}
			}
		})
	}
}
