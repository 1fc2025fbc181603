package interop

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// A cellKey names one cell of the interoperability matrix: one feature
// exercised by one client against one server over one transport.
type cellKey struct {
	part      string // "A" (peer clients, our server) or "B" (our client, peer servers)
	peer      string // the peer implementation (client in A, server in B)
	transport string // "stdio" or "http"
	feature   string // the row, e.g. "tools/call echo"
}

// column is the matrix column a cell belongs to.
func (k cellKey) column() string { return k.peer + " / " + k.transport }

// A cellResult is the outcome of one cell.
type cellResult struct {
	status string // PASS, FAIL or SKIP
	note   string // the first failure or skip message, if any
}

// matrix collects cell results from every test of the run.
var matrix = struct {
	sync.Mutex
	cells map[cellKey]cellResult
	order map[string][]string // part → features in first-seen order
	cols  map[string][]string // part → columns in first-seen order
}{cells: map[cellKey]cellResult{}, order: map[string][]string{}, cols: map[string][]string{}}

func recordCell(k cellKey, r cellResult) {
	matrix.Lock()
	defer matrix.Unlock()
	matrix.cells[k] = r
	if !slices.Contains(matrix.order[k.part], k.feature) {
		matrix.order[k.part] = append(matrix.order[k.part], k.feature)
	}
	if !slices.Contains(matrix.cols[k.part], k.column()) {
		matrix.cols[k.part] = append(matrix.cols[k.part], k.column())
	}
}

// cellT is the *testing.T of one cell. It records the first failure or
// skip message so that the matrix can show why a cell did not pass.
type cellT struct {
	*testing.T
	mu   sync.Mutex
	note string
}

func (c *cellT) setNote(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.note == "" {
		c.note = s
	}
}

// Errorf records the message and marks the cell failed.
func (c *cellT) Errorf(format string, args ...any) {
	c.T.Helper()
	c.setNote(fmt.Sprintf(format, args...))
	c.T.Errorf(format, args...)
}

// Error records the message and marks the cell failed.
func (c *cellT) Error(args ...any) {
	c.T.Helper()
	c.setNote(fmt.Sprint(args...))
	c.T.Error(args...)
}

// Fatalf records the message and stops the cell.
func (c *cellT) Fatalf(format string, args ...any) {
	c.T.Helper()
	c.setNote(fmt.Sprintf(format, args...))
	c.T.Fatalf(format, args...)
}

// Fatal records the message and stops the cell.
func (c *cellT) Fatal(args ...any) {
	c.T.Helper()
	c.setNote(fmt.Sprint(args...))
	c.T.Fatal(args...)
}

// Skipf records the reason and skips the cell.
func (c *cellT) Skipf(format string, args ...any) {
	c.T.Helper()
	c.setNote(fmt.Sprintf(format, args...))
	c.T.Skipf(format, args...)
}

// Skip records the reason and skips the cell.
func (c *cellT) Skip(args ...any) {
	c.T.Helper()
	c.setNote(fmt.Sprint(args...))
	c.T.Skip(args...)
}

// runCell runs fn as the subtest k.feature of t and records its outcome.
func runCell(t *testing.T, k cellKey, fn func(t *cellT)) bool {
	t.Helper()
	return t.Run(k.feature, func(tt *testing.T) {
		c := &cellT{T: tt}
		tt.Cleanup(func() {
			r := cellResult{status: "PASS"}
			switch {
			case tt.Failed():
				r.status = "FAIL"
			case tt.Skipped():
				r.status = "SKIP"
			}
			c.mu.Lock()
			r.note = c.note
			c.mu.Unlock()
			recordCell(k, r)
		})
		fn(c)
	})
}

// skipColumn records every feature of a column as skipped for reason, and
// skips t. It is used when the peer cannot run at all (say, node_modules
// is not installed).
func skipColumn(t *testing.T, part, peer, transport string, features []string, reason string) {
	t.Helper()
	for _, f := range features {
		recordCell(cellKey{part, peer, transport, f}, cellResult{status: "SKIP", note: reason})
	}
	t.Skip(reason)
}

// failColumn records every feature of a column as failed for reason, and
// fails t. It is used when the session could not be set up.
func failColumn(t *testing.T, part, peer, transport string, features []string, reason string) {
	t.Helper()
	for _, f := range features {
		recordCell(cellKey{part, peer, transport, f}, cellResult{status: "FAIL", note: reason})
	}
	t.Fatal(reason)
}

// matrixMarkdown renders the recorded results of part as a Markdown table
// (features down, peer/transport across), followed by the notes of the
// cells that did not pass.
func matrixMarkdown(part string) string {
	matrix.Lock()
	defer matrix.Unlock()
	cols := matrix.cols[part]
	rows := matrix.order[part]
	if len(cols) == 0 {
		return "_no results recorded_\n"
	}
	var b strings.Builder
	b.WriteString("| feature |")
	for _, c := range cols {
		b.WriteString(" " + c + " |")
	}
	b.WriteString("\n| --- |")
	for range cols {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	type noted struct {
		ref  string
		cell string
		note string
	}
	var notes []noted
	noteRefs := map[string]string{} // note text → reference, so repeated notes share one
	pass, fail, skip := 0, 0, 0
	for _, f := range rows {
		b.WriteString("| " + mdEscape(f) + " |")
		for _, c := range cols {
			var r cellResult
			found := false
			for k, v := range matrix.cells {
				if k.part == part && k.feature == f && k.column() == c {
					r, found = v, true
					break
				}
			}
			if !found {
				b.WriteString(" — |")
				continue
			}
			cell := r.status
			switch r.status {
			case "PASS":
				pass++
			case "FAIL":
				fail++
			case "SKIP":
				skip++
			}
			if r.note != "" && r.status != "PASS" {
				n := firstLine(r.note)
				ref, ok := noteRefs[n]
				if !ok {
					ref = fmt.Sprintf("%s%d", strings.ToLower(part), len(noteRefs)+1)
					noteRefs[n] = ref
					notes = append(notes, noted{ref: ref, cell: f + " @ " + c, note: n})
				}
				cell += " [" + ref + "]"
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%d passed, %d failed, %d skipped.\n", pass, fail, skip)
	if len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- [%s] (first at %s): %s\n", n.ref, mdEscape(n.cell), mdEscape(n.note))
		}
	}
	return b.String()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	const max = 300
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// updateDoc replaces the text between the markers
// "<!-- matrix:PART:begin -->" and "<!-- matrix:PART:end -->" in the file
// at path with the rendered tables.
func updateDoc(path string, parts ...string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(doc)
	for _, part := range parts {
		begin := "<!-- matrix:" + part + ":begin -->"
		end := "<!-- matrix:" + part + ":end -->"
		i := strings.Index(s, begin)
		j := strings.Index(s, end)
		if i < 0 || j < i {
			return fmt.Errorf("%s: markers %s … %s not found", path, begin, end)
		}
		s = s[:i+len(begin)] + "\n" + matrixMarkdown(part) + s[j:]
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
