package portability

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzClients are the clients FuzzRead picks from by its first byte.
var fuzzClients = append(Clients(), Gateway)

func addFixtureSeeds(f *testing.F, add func(i int, data []byte)) {
	for _, fx := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", "clients", fx.file))
		if err != nil {
			f.Fatal(err)
		}
		for i, c := range fuzzClients {
			if c.ID == fx.client {
				add(i, data)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join("testdata", "clients", "server.json"))
	if err != nil {
		f.Fatal(err)
	}
	add(len(fuzzClients)-2, data)
}

// FuzzRead feeds arbitrary content to every client's mapping layer: Read
// must not panic; what it reads must write into a new file and read back
// the same, and writing it into the file it came from must change
// nothing.
func FuzzRead(f *testing.F) {
	addFixtureSeeds(f, func(i int, data []byte) { f.Add(uint8(i), data) })
	f.Add(uint8(0), []byte(`{"mcpServers":{"a":{"command":"x","args":[1,true,null],"env":{"K":2}}}}`))
	f.Add(uint8(9), []byte("extensions:\n  a:\n    type: stdio\n    cmd: x\n    env_keys: [A]\n"))
	f.Add(uint8(8), []byte("[mcp_servers.a]\ncommand = 'x'\nenv_vars = ['A']\n"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		c := fuzzClients[int(which)%len(fuzzClients)]
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("%s: %v for %d bytes", c.ID, d, len(data))
			}
		}()
		o := &Options{Project: "/p", IncludeSecrets: true}
		if c == Gateway {
			o.Format = FormatOf(map[bool]string{true: "x.yaml", false: "x.json"}[which%2 == 0])
		}
		set, notes, err := c.Read(data, o)
		if err != nil {
			return
		}
		for _, n := range notes {
			_ = n.String()
		}
		if c.ImportOnly || len(set.Servers) == 0 {
			return
		}
		res, err := c.Edit(nil, set, o)
		if err != nil {
			if strings.Contains(err.Error(), "reads back differently") || strings.Contains(err.Error(), "does not read back") {
				t.Fatalf("%s: %v", c.ID, err)
			}
			return
		}
		back, _, err := c.Read(res.Content, o)
		if err != nil {
			t.Fatalf("%s: the written file does not read: %v\n%s", c.ID, err, res.Content)
		}
		for _, name := range res.Added {
			if back.Lookup(name) == nil {
				t.Fatalf("%s: %q not read back", c.ID, name)
			}
		}
		again, err := c.Edit(data, set, o)
		if err != nil {
			return // e.g. an entry written in a style the editor does not change
		}
		if again.Changed() && len(again.Added)+len(again.Replaced) > 0 {
			t.Fatalf("%s: writing the servers read from a file back into it changes it: %+v\n%s", c.ID, again, UnifiedDiff("a", "b", data, again.Content))
		}
	})
}

// FuzzValue checks the reference parser: the canonical form is stable,
// and a literal survives the trip through the canonical form.
func FuzzValue(f *testing.F) {
	for _, s := range []string{"${A}", "$${x}", "Bearer ${env:T}", "{env:X}", "${{ secrets.K }}", "$A$B", "${A:-b}c", "${", "$", "$$$", "${input:k}"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, v string, s uint8) {
		syn := syntax(int(s) % (int(synContinue) + 1))
		c := toCanonical(v, syn)
		if again := toCanonical(c, synGateway); again != c {
			t.Fatalf("canonical form of %q (%d) is not stable: %q then %q", v, syn, c, again)
		}
		lit := toCanonical(v, synNone)
		segs := parseValue(lit, synGateway)
		if got := render(segs, synNone); got != v {
			t.Fatalf("literal %q → %q → %q", v, lit, got)
		}
		for _, sg := range segs {
			if sg.isRef() {
				t.Fatalf("literal %q reads as a reference: %q", v, lit)
			}
		}
		_ = IsSecret("TOKEN", v)
		r := &Redactor{}
		r.AddValue(v)
		_ = r.Redact(v + " " + c)
	})
}

// fuzzEdit checks an editor: adding an entry either fails or gives a file
// that parses, has the entry, and has every other key as before.
func fuzzEdit(t *testing.T, f Format, data []byte, name string, list bool) {
	if !utf8.ValidString(name) {
		return // callers write valid UTF-8 (Edit skips other servers)
	}
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("%v for %d bytes", d, len(data))
		}
	}()
	doc, err := parseDocument(data, f)
	if err != nil {
		return
	}
	before := prune(deepCopy(doc.tree()))
	entry := obj{{"name", name}, {"command", "srv"}, {"args", []string{"-y", "a b"}}, {"env", map[string]string{"K": "v"}}}
	if list {
		err = doc.setListEntry([]string{"mcpServers"}, "name", name, entry)
	} else {
		err = doc.setMapEntry([]string{"mcpServers"}, name, entry)
	}
	if err != nil {
		return
	}
	again, err := parseDocument(doc.bytes(), f)
	if err != nil {
		t.Fatalf("the edited file does not parse: %v\n%s", err, doc.bytes())
	}
	after := again.tree()
	got, _ := lookup(after, []string{"mcpServers"})
	var found any
	switch x := got.(type) {
	case map[string]any:
		found = x[name]
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok && m["name"] == name {
				found = m
			}
		}
	}
	if !reflect.DeepEqual(found, plain(entry)) {
		t.Fatalf("entry %v, want %v\n%s", found, plain(entry), doc.bytes())
	}
	removeEntry(after, []string{"mcpServers"}, name, list)
	if a := prune(after); !reflect.DeepEqual(before, a) {
		if bm, ok := before.(map[string]any); ok {
			// The edit may replace an entry of the same name (and, in a
			// list, every one of that name).
			removeEntry(bm, []string{"mcpServers"}, name, list)
			if reflect.DeepEqual(prune(bm), a) {
				return
			}
		}
		t.Fatalf("other keys changed:\nbefore %v\nafter  %v\n%s", before, a, doc.bytes())
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, c := range x {
			m[k] = deepCopy(c)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, c := range x {
			a[i] = deepCopy(c)
		}
		return a
	}
	return v
}

func FuzzEditJSON(f *testing.F) {
	for _, s := range []string{"", "{}", "{\n  // c\n}", `{"mcpServers": {}}`, "{\"a\": 1, // x\n}", "{\"mcpServers\": {\"x\": {}, } // end\n}", `{"mcpServers": []}`} {
		f.Add([]byte(s), "new")
	}
	addFixtureSeeds(f, func(i int, data []byte) {
		if fuzzClients[i].Format == JSON {
			f.Add(data, "switchboard")
		}
	})
	f.Fuzz(func(t *testing.T, data []byte, name string) { fuzzEdit(t, JSON, data, name, false) })
}

func FuzzEditYAML(f *testing.F) {
	for _, s := range []string{"", "a: 1\n", "mcpServers:\n", "mcpServers: {}\n", "mcpServers:\n  x:\n    command: y\n# end\n", "mcpServers:\n- name: a\n", "# only a comment\n"} {
		f.Add([]byte(s), "new", false)
		f.Add([]byte(s), "new", true)
	}
	for _, name := range []string{"goose.yaml", "continue.yaml", "switchboard.yaml"} {
		data, _ := os.ReadFile(filepath.Join("testdata", "clients", name))
		f.Add(data, "switchboard", name == "continue.yaml")
	}
	f.Fuzz(func(t *testing.T, data []byte, name string, list bool) { fuzzEdit(t, YAML, data, name, list) })
}

func FuzzEditTOML(f *testing.F) {
	for _, s := range []string{"", "a = 1\n", "[mcpServers.x]\ncommand = 'y'\n\n# lead\n[other]\n", "[mcpServers]\nx = {command = 'y'}\n", "[[mcpServers.a]]\n"} {
		f.Add([]byte(s), "x")
	}
	data, _ := os.ReadFile(filepath.Join("testdata", "clients", "codex.toml"))
	f.Add([]byte(strings.ReplaceAll(string(data), "mcp_servers", "mcpServers")), "context7")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		// Replacing an entry's own subtables is part of the edit: the
		// entry's keys are checked, the rest must be as before.
		fuzzEdit(t, TOML, data, name, false)
	})
}
