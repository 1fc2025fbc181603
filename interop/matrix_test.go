package interop

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
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
	shown  string // a short annotation shown in the cell
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
	mu    sync.Mutex
	note  string
	shown string // shown next to PASS (see annotate)
}

// annotate sets a short text shown in the cell next to its status, such
// as the protocol version a peer negotiated.
func (c *cellT) annotate(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shown = s
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
			r.note, r.shown = c.note, c.shown
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

// Fixed column and row orders, so that the tables do not depend on which
// parallel test finished first.
var (
	peerOrder      = []string{"go-sdk", "mcp-go", "ts-sdk", "server-everything"}
	transportOrder = []string{"stdio", "http"}
)

// rowOrder is the canonical order of the rows of part.
func rowOrder(part string) []string {
	var rows []string
	add := func(f string) {
		if !slices.Contains(rows, f) {
			rows = append(rows, f)
		}
	}
	switch part {
	case "A":
		for i, s := range stepsA {
			add(s.feature)
			if i == 0 {
				add(featureUnpinned)
			}
		}
	case "B":
		for _, srv := range []serverB{goSDKServerB(), mcpGoServerB(), everythingServerB()} {
			for _, s := range srv.steps {
				add(s.feature)
			}
		}
	case "A26":
		for _, s := range stepsA26() {
			add(s.feature)
		}
	case "B26":
		for _, s := range goPeerSteps2026("", false) {
			add(s.feature)
		}
	}
	return rows
}

// sortedBy orders items by their position in order; items not in order
// keep their relative order at the end.
func sortedBy(items, order []string) []string {
	out := slices.Clone(items)
	pos := func(s string) int {
		if i := slices.Index(order, s); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b string) int { return pos(a) - pos(b) })
	return out
}

// guardSetup records every feature of a column as failed if t fails
// before the returned function is called (when the server or the session
// could not be set up), so that such a column still shows in the matrix.
func guardSetup(t *testing.T, part, peer, transport string, features []string) (done func()) {
	ok := false
	t.Cleanup(func() {
		if ok || !t.Failed() {
			return
		}
		matrix.Lock()
		recorded := false
		for k := range matrix.cells {
			if k.part == part && k.peer == peer && k.transport == transport {
				recorded = true
				break
			}
		}
		matrix.Unlock()
		if !recorded {
			for _, f := range features {
				recordCell(cellKey{part, peer, transport, f}, cellResult{status: "FAIL", note: "setup failed (see the test log)"})
			}
		}
	})
	return func() { ok = true }
}

// matrixMarkdown renders the recorded results of part as a Markdown table
// (features down, peer/transport across), followed by the notes of the
// cells that did not pass.
func matrixMarkdown(part string) string {
	matrix.Lock()
	defer matrix.Unlock()
	var colOrder []string
	for _, p := range peerOrder {
		for _, tr := range transportOrder {
			colOrder = append(colOrder, p+" / "+tr)
		}
	}
	cols := sortedBy(matrix.cols[part], colOrder)
	rows := sortedBy(matrix.order[part], rowOrder(part))
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
			if r.shown != "" {
				cell += " (" + mdEscape(r.shown) + ")"
			}
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

// runStamp describes the run that produced a table: when, on what, and
// from which state of the repository.
func runStamp() string {
	state := "unknown commit"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		state = "commit " + strings.TrimSpace(string(out))
		if out, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", "..").Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
			state += " plus uncommitted changes"
		}
	}
	race := ""
	if raceEnabled {
		race = ", -race"
	}
	return fmt.Sprintf("_Last run: %s, %s, %s/%s%s, %s._\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH, race, state)
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
		s = s[:i+len(begin)] + "\n" + runStamp() + "\n" + matrixMarkdown(part) + s[j:]
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
