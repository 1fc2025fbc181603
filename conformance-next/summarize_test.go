// Package conformancenext has no Go code: its test checks summarize.mjs,
// which reports the pre-release conformance suite's runs.
package conformancenext

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A run whose scored scenarios pass reads as a pass: scenarios the suite
// does not score print no FAIL (they are xfail), and the exit status is 0.
// A scored failure is FAIL and exits 1.
func TestSummarize(t *testing.T) {
	node := filepath.Join("..", "conformance", "node_modules", "node", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		t.Skipf("pinned Node not installed (%s missing): run `make test`, which runs `npm ci` in conformance/", node)
	}
	const scored = "✓ tools-list: 4 passed, 0 failed\n✓ caching: 8 passed, 0 failed\n"
	const notScored = "✗ tasks-mrtr-composition: 1 passed, 1 failed\n✓ tasks-lifecycle: 9 passed, 0 failed\n" +
		"Not scored for 2026-07-28: 2 scenario(s) run, 1 failing. These do not affect conformance.\n" +
		"  ✗ tasks-mrtr-composition (extension)\n  ✓ tasks-lifecycle (extension)\n"
	run := func(log string) (string, int) {
		t.Helper()
		dir := t.TempDir()
		path := filepath.Join(dir, "suite.log")
		if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(node, "summarize.mjs", dir, path).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	out, code := run(scored + notScored)
	if code != 0 || regexp.MustCompile(`\bFAIL\b`).MatchString(out) || !strings.Contains(out, "xfail tasks-mrtr-composition") ||
		!strings.Contains(out, "pass  tasks-lifecycle") || !strings.Contains(out, "PASS  tools-list") {
		t.Errorf("passing run, exit %d:\n%s", code, out)
	}
	out, code = run("✗ tools-list: 3 passed, 1 failed\n" + notScored)
	if code != 1 || !strings.Contains(out, "FAIL  tools-list") {
		t.Errorf("failing run, exit %d:\n%s", code, out)
	}
}
