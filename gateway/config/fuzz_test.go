package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// addFixtureSeeds adds every fixture file to the corpus.
func addFixtureSeeds(f *testing.F, add func(data []byte, yaml bool)) {
	files, _ := filepath.Glob("testdata/*.*")
	bad, _ := filepath.Glob("testdata/bad/*")
	files = append(append(files, bad...), "testdata/project/.vscode/mcp.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(data, FormatOf(file, data) == FormatYAML)
	}
}

// FuzzParse checks that Parse never panics or hangs on any input, in
// either format, and that what it returns is consistent: an error is an
// Errors list of messages, a config has servers of a known type with
// exactly one of a command or a URL.
func FuzzParse(f *testing.F) {
	addFixtureSeeds(f, func(data []byte, yaml bool) { f.Add(data, yaml) })
	f.Add([]byte(`{"mcpServers": {"a": {"command": "${A:-x}", "env": {"K": "$${B}"}}}}`), false)
	f.Add([]byte("mcpServers:\n  a: &x {url: 'https://h/'}\n  b: *x\n"), true)
	env := map[string]string{"A": "1", "HOME": "/h", "SWITCHBOARD_INPUT_X": "x"}
	dir := f.TempDir() // envFile reads stay inside an empty directory
	f.Fuzz(func(t *testing.T, data []byte, yaml bool) {
		format := FormatJSON
		if yaml {
			format = FormatYAML
		}
		cfg, err := Parse(data, format, &LoadOptions{LookupEnv: lookup(env), BaseDir: dir})
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 || cfg != nil {
				t.Fatalf("error %v (%T), config %v", err, err, cfg)
			}
			for _, e := range es {
				if e.Msg == "" || e.Line < 0 {
					t.Fatalf("bad error %#v", e)
				}
			}
			return
		}
		for name, s := range cfg.Servers {
			if s.Name != name {
				t.Fatalf("server %q named %q", name, s.Name)
			}
			switch s.Type {
			case TypeStdio:
				if s.Command == "" || s.URL != "" {
					t.Fatalf("stdio server %q: command %q url %q", name, s.Command, s.URL)
				}
			case TypeHTTP, TypeSSE:
				if s.Command != "" || s.URL == "" {
					t.Fatalf("%s server %q: command %q url %q", s.Type, name, s.Command, s.URL)
				}
			default:
				t.Fatalf("server %q: type %q", name, s.Type)
			}
		}
		seen := map[string]string{}
		for name, p := range cfg.Prefixes() {
			if p == "" {
				continue
			}
			if other, dup := seen[p]; dup {
				t.Fatalf("servers %q and %q share prefix %q", name, other, p)
			}
			seen[p] = name
		}
	})
}

// FuzzExpand checks the substitution: no panic, text without "$" is kept,
// and substituted values are never scanned again.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"", "plain", "${A}", "${A:-d}", "$$", "$${A}", "${env:A}", "${input:x}", "${", "${}", "a$", "${workspaceFolder}", "${userHome}", "${A:-${B}}"} {
		f.Add(s, "value")
	}
	f.Fuzz(func(t *testing.T, s, value string) {
		x := newExpander(&LoadOptions{LookupEnv: lookup(map[string]string{"A": value, "HOME": "/h"}), BaseDir: "/w"})
		out, problems := x.expand(s)
		// Problems do not depend on values (so they cannot show them).
		other := newExpander(&LoadOptions{LookupEnv: lookup(map[string]string{"A": value + "!", "HOME": "/h"}), BaseDir: "/w"})
		if _, p2 := other.expand(s); !slices.Equal(problems, p2) {
			t.Fatalf("problems depend on the value: %q vs %q", problems, p2)
		}
		if !strings.Contains(s, "$") && (out != s || problems != nil) {
			t.Fatalf("expand(%q) = %q, %q", s, out, problems)
		}
		if s == "${A}" && out != value {
			t.Fatalf("expand(${A}) = %q, want %q", out, value)
		}
	})
}

// FuzzEnvFile checks the env file parser: no panic, and problems never
// quote the file.
func FuzzEnvFile(f *testing.F) {
	f.Add([]byte("A=1\nexport B='x'\nC=\"y\\n\" # c\n# comment\n"))
	f.Add([]byte("A=\"open\nB"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, problems := parseEnvFile(data)
		for k := range vars {
			if !envName.MatchString(k) {
				t.Fatalf("bad key %q", k)
			}
		}
		for _, p := range problems {
			if !strings.HasPrefix(p, "line ") {
				t.Fatalf("problem %q", p)
			}
		}
	})
}
