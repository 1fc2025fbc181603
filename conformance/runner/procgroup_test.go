package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether process pid exists (and is not a zombie).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// readPID waits for file to hold a pid.
func readPID(t *testing.T, file string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(file); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", file)
	return 0
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d survived the run", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunGroup(t *testing.T) {
	tests := []struct {
		name         string
		script       string // $PIDFILE receives a background child's pid when set
		timeout      time.Duration
		cancelAfter  time.Duration
		wantExit     int
		wantTimedOut bool
		wantCanceled bool
		strayChild   bool
		wantOutput   string
	}{
		{name: "success", script: "echo out; echo err >&2", timeout: 10 * time.Second, wantOutput: "out\nerr\n"},
		{name: "exit status", script: "exit 3", timeout: 10 * time.Second, wantExit: 3},
		{name: "stray child killed after exit", script: `sleep 300 & echo $! > "$PIDFILE"; exit 0`,
			timeout: 10 * time.Second, strayChild: true},
		{name: "timeout kills the group", script: `sleep 300 & echo $! > "$PIDFILE"; wait`,
			timeout: 500 * time.Millisecond, wantExit: -1, wantTimedOut: true, strayChild: true},
		{name: "timeout with SIGTERM ignored", script: `trap '' TERM; sleep 300 & echo $! > "$PIDFILE"; while :; do sleep 1; done`,
			timeout: 500 * time.Millisecond, wantExit: -1, wantTimedOut: true, strayChild: true},
		{name: "cancel kills the group", script: `sleep 300 & echo $! > "$PIDFILE"; wait`,
			timeout: time.Minute, cancelAfter: 300 * time.Millisecond, wantExit: -1, wantCanceled: true, strayChild: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "pid")
			out, err := os.Create(filepath.Join(dir, "out"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			ctx := context.Background()
			if tt.cancelAfter > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.cancelAfter)
				defer cancel()
			}
			env := append(os.Environ(), "PIDFILE="+pidFile)
			start := time.Now()
			r := runGroup(ctx, []string{"/bin/sh", "-c", tt.script}, env, dir, out, tt.timeout)
			if r.err != nil {
				t.Fatalf("runGroup error: %v", r.err)
			}
			if r.exitCode != tt.wantExit || r.timedOut != tt.wantTimedOut || r.canceled != tt.wantCanceled {
				t.Errorf("runGroup = exit %d timedOut %v canceled %v, want %d %v %v",
					r.exitCode, r.timedOut, r.canceled, tt.wantExit, tt.wantTimedOut, tt.wantCanceled)
			}
			if r.duration <= 0 || r.duration > time.Since(start) {
				t.Errorf("duration %v out of range", r.duration)
			}
			if tt.strayChild {
				waitDead(t, readPID(t, pidFile))
			}
			if tt.wantOutput != "" {
				data, _ := os.ReadFile(out.Name())
				if string(data) != tt.wantOutput {
					t.Errorf("output = %q, want %q", data, tt.wantOutput)
				}
			}
		})
	}
}

func TestRunGroupStartError(t *testing.T) {
	r := runGroup(context.Background(), []string{filepath.Join(t.TempDir(), "missing")}, nil, "", os.Stderr, time.Second)
	if r.err == nil || r.exitCode != -1 {
		t.Errorf("runGroup of a missing binary = %+v, want an error", r)
	}
}
