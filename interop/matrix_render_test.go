package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMatrixMarkdown checks the rendering of the result tables on a part
// ("T") of its own.
func TestMatrixMarkdown(t *testing.T) {
	cells := []struct {
		k cellKey
		r cellResult
	}{
		{cellKey{"T", "mcp-go", "http", "ping"}, cellResult{status: "PASS"}},
		{cellKey{"T", "go-sdk", "stdio", "ping"}, cellResult{status: "FAIL", note: "boom | pipe\nsecond line"}},
		{cellKey{"T", "go-sdk", "stdio", "echo"}, cellResult{status: "SKIP", note: "boom | pipe"}},
		{cellKey{"T", "mcp-go", "http", "echo"}, cellResult{status: "PASS", shown: "2025-11-25"}},
	}
	for _, c := range cells {
		recordCell(c.k, c.r)
	}
	got := matrixMarkdown("T")
	for _, want := range []string{
		"| feature | go-sdk / stdio | mcp-go / http |",
		"| ping | FAIL [t1] | PASS |",
		"| echo | SKIP [t1] | PASS (2025-11-25) |",
		"2 passed, 1 failed, 1 skipped.",
		`- [t1] (first at ping @ go-sdk / stdio): boom \| pipe`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rendering lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "second line") {
		t.Errorf("notes should keep their first line only:\n%s", got)
	}
	if got := matrixMarkdown("no-such-part"); !strings.Contains(got, "no results") {
		t.Errorf("empty part: %q", got)
	}

	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.md")
	if err := os.WriteFile(doc, []byte("intro\n<!-- matrix:T:begin -->\nold table\n<!-- matrix:T:end -->\noutro\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := updateDoc(doc, "T"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(doc)
	s := string(b)
	if strings.Contains(s, "old table") || !strings.Contains(s, "| ping | FAIL [t1] | PASS |") ||
		!strings.HasPrefix(s, "intro\n<!-- matrix:T:begin -->\n_Last run: ") || !strings.HasSuffix(s, "<!-- matrix:T:end -->\noutro\n") {
		t.Errorf("updated doc:\n%s", s)
	}
	if err := updateDoc(doc, "missing"); err == nil {
		t.Error("updateDoc without markers succeeded")
	}
}
