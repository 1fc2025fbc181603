//go:build unix

package stdio_test

import (
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
