//go:build unix

package stdio_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// TestShutdownEscalation checks Close's shutdown order on servers that
// do not exit when their stdin closes.
func TestShutdownEscalation(t *testing.T) {
	checkGoroutines(t)
	const step = 300 * time.Millisecond
	for _, tc := range []struct {
		mode     string
		signal   syscall.Signal
		min, max time.Duration
	}{
		{mode: "everything", signal: -1, min: 0, max: step},
		{mode: "hang", signal: syscall.SIGTERM, min: step, max: 2 * step},
		{mode: "hang-ignore-term", signal: syscall.SIGKILL, min: 2 * step, max: 3 * step},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			conn, err := helper(t, tc.mode, &stdio.CommandOptions{ShutdownTimeout: step}).Dial(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Wait until the helper runs (and has set up its signal
			// handling).
			if tc.mode == "everything" {
				initialize(t, conn)
			} else if _, err := conn.Recv(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := conn.Close(); err != nil {
				t.Fatal(err)
			}
			d := time.Since(start)
			// Allow for slow machines above the expected bound.
			if d < tc.min || d > tc.max+time.Second {
				t.Errorf("Close took %v, want between %v and %v", d, tc.min, tc.max)
			}
			st := conn.(*stdio.ClientConn).ProcessState()
			if st == nil {
				t.Fatal("no process state after Close: not reaped")
			}
			ws := st.Sys().(syscall.WaitStatus)
			switch {
			case tc.signal < 0:
				if !ws.Exited() || ws.ExitStatus() != 0 {
					t.Errorf("state %v, want a clean exit", st)
				}
			case !ws.Signaled() || ws.Signal() != tc.signal:
				t.Errorf("state %v, want killed by %v", st, tc.signal)
			}
			// Reaped: the pid is no longer ours to wait for.
			var status syscall.WaitStatus
			if _, err := syscall.Wait4(st.Pid(), &status, syscall.WNOHANG, nil); err != syscall.ECHILD {
				t.Errorf("Wait4 on the server's pid = %v, want ECHILD", err)
			}
		})
	}
}

// A server started through a wrapper (npx, uvx, a shell script) runs as
// the wrapper's child: Close stops the whole process group, so nothing is
// left running with parent PID 1.
func TestCloseStopsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// The shell starts a long-lived child, then serves nothing until its
	// stdin closes; the child ignores nothing and would outlive it.
	script := `sleep 300 & echo $! > "` + pidFile + `"; cat >/dev/null`
	conn, err := stdio.Command("sh", []string{"-c", script}, &stdio.CommandOptions{ShutdownTimeout: 2 * time.Second}).Dial(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(pidFile)
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			pid = n
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the wrapper's child did not start")
		}
	}
	start := time.Now()
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	for deadline := time.Now().Add(3 * time.Second); processRuns(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the wrapper's child (pid %d) still runs after Close", pid)
		}
	}
}

// processRuns reports whether pid is a live process (not a zombie).
func processRuns(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil && runtime.GOOS != "linux"
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b)[i+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
