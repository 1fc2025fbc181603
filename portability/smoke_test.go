package portability

import (
	"encoding/json"
	"os"
	"testing"
)

func TestSmoke(t *testing.T) {
	for _, f := range []struct{ id, file string }{
		{"claude-desktop", "claude-desktop.json"}, {"claude-code", "claude-code.mcp.json"}, {"claude-code-user", "claude-code-user.json"},
		{"claude-code-local", "claude-code-user.json"}, {"cursor", "cursor.json"}, {"vscode", "vscode.json"}, {"windsurf", "windsurf.json"},
		{"zed", "zed.json"}, {"codex", "codex.toml"}, {"goose", "goose.yaml"}, {"gemini", "gemini.json"}, {"cline", "cline.json"},
		{"continue", "continue.yaml"}, {"opencode", "opencode.json"}, {"lmstudio", "lmstudio.json"}, {"server-json", "server.json"}, {"switchboard", "switchboard.yaml"},
	} {
		c, err := Lookup(f.id)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile("testdata/clients/" + f.file)
		o := &Options{Project: "/home/alice/src/shop", IncludeSecrets: true}
		if f.id == "switchboard" {
			o.Format = YAML
		}
		set, notes, err := c.Read(data, o)
		if err != nil {
			t.Fatalf("%s: %v", f.id, err)
		}
		b, _ := json.Marshal(set)
		t.Logf("%s: %s %v", f.id, b, notes)
		if c.ImportOnly {
			continue
		}
		res, err := c.Edit(data, set, o)
		if err != nil {
			t.Fatalf("%s: edit same: %v", f.id, err)
		}
		if string(res.Content) != string(data) {
			t.Errorf("%s: rewriting the same servers changed the file:\n%s", f.id, UnifiedDiff("a", "b", data, res.Content))
		}
		res, err = c.Edit(nil, set, o)
		if err != nil {
			t.Fatalf("%s: edit new: %v", f.id, err)
		}
		t.Logf("%s new file:\n%s\nnotes %v", f.id, res.Content, res.Notes)
		set2, _, err := c.Read(res.Content, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range set.Servers {
			if g := set2.Lookup(s.Name); g == nil || !g.Equal(s) {
				t.Errorf("%s: %s round trip: %+v vs %+v", f.id, s.Name, s, g)
			}
		}
		conn := &Set{Servers: []*Server{ConnectEntry("switchboard", c, "http://127.0.0.1:8080/mcp", false, "switchboard", "/etc/sb.yaml")}}
		res, err = c.Edit(data, conn, o)
		if err != nil {
			t.Fatalf("%s: connect: %v", f.id, err)
		}
		t.Logf("%s connect:\n%s", f.id, UnifiedDiff("a", "b", data, res.Content))
	}
}
