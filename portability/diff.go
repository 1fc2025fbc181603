package portability

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

// op is one line of an edit script.
type op struct {
	kind byte // ' ', '-' or '+'
	line string
}

// splitLines splits text into lines, each without its line break; a
// missing final line break is kept as a marker on the last line.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// editScript returns a shortest edit script from a to b (Myers' O(ND)
// algorithm, with the trace kept to walk it back).
func editScript(a, b []string) []op {
	n, m := len(a), len(b)
	max := n + m
	off := max + 1
	v := make([]int, 2*max+2)
	var trace [][]int
	done := false
	for d := 0; d <= max && !done; d++ {
		snapshot := make([]int, len(v))
		copy(snapshot, v)
		trace = append(trace, snapshot)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				done = true
				break
			}
		}
	}
	// Walk back through the trace.
	var ops []op
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		vd := trace[d]
		k := x - y
		var prevK int
		if d == 0 {
			prevK = 0
		} else if k == -d || k != d && vd[off+k-1] < vd[off+k+1] {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := 0
		if d > 0 {
			prevX = vd[off+prevK]
		}
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			ops = append(ops, op{' ', a[x]})
		}
		if d > 0 {
			if x == prevX {
				y--
				ops = append(ops, op{'+', b[y]})
			} else {
				x--
				ops = append(ops, op{'-', a[x]})
			}
		}
	}
	for i, j := 0, len(ops)-1; i < j; i, j = i+1, j-1 {
		ops[i], ops[j] = ops[j], ops[i]
	}
	return ops
}

// UnifiedDiff returns the unified diff (3 lines of context) that turns
// old into new, with the file names in its header; "" when they are the
// same.
func UnifiedDiff(oldName, newName string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	ops := editScript(splitLines(string(old)), splitLines(string(new)))
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", oldName, newName)
	// Positions (1-based) of each op in old and new.
	type pos struct{ a, b int }
	at := make([]pos, len(ops)+1)
	ai, bi := 1, 1
	for i, o := range ops {
		at[i] = pos{ai, bi}
		if o.kind != '+' {
			ai++
		}
		if o.kind != '-' {
			bi++
		}
	}
	at[len(ops)] = pos{ai, bi}
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-diffContext, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				end = min(end+diffContext, len(ops))
				break
			}
			end = run
		}
		na, nb := 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				na++
			}
			if o.kind != '-' {
				nb++
			}
		}
		sa, sb := at[start].a, at[start].b
		if na == 0 {
			sa--
		}
		if nb == 0 {
			sb--
		}
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkRange(sa, na), hunkRange(sb, nb))
		for _, o := range ops[start:end] {
			b.WriteByte(o.kind)
			b.WriteString(o.line)
			if !strings.HasSuffix(o.line, "\n") {
				b.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = end
	}
	return b.String()
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}
