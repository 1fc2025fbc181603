package main

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// groupRun is the outcome of runGroup.
type groupRun struct {
	exitCode int  // -1 when the process ended by a signal
	timedOut bool // killed after the timeout
	canceled bool // killed because ctx ended
	err      error
	duration time.Duration
}

// killGrace is how long a process group gets between SIGTERM and SIGKILL.
const killGrace = 3 * time.Second

// runGroup runs argv in its own process group, with output (which should be
// an *os.File, so that no pipe keeps Wait waiting on grandchildren) as stdout
// and stderr. When timeout passes or ctx ends first, the whole group gets
// SIGTERM, then SIGKILL after killGrace. Once the leader has exited, the group
// gets SIGKILL anyway, so no stray child (say, a client that outlived the
// shell the suite spawned it under) survives the run.
func runGroup(ctx context.Context, argv, env []string, dir string, output io.Writer, timeout time.Duration) groupRun {
	start := time.Now()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout = output
	cmd.Stderr = output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return groupRun{exitCode: -1, err: err, duration: time.Since(start)}
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var r groupRun
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-timer.C:
		r.timedOut = true
		waitErr = stopGroup(pgid, done)
	case <-ctx.Done():
		r.canceled = true
		waitErr = stopGroup(pgid, done)
	}
	// Reap whatever else is left in the group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)

	r.duration = time.Since(start)
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
		r.exitCode = 0
	case errors.As(waitErr, &exitErr):
		r.exitCode = exitErr.ExitCode() // -1 if signaled
	default:
		r.exitCode = -1
		r.err = waitErr
	}
	return r
}

// stopGroup sends SIGTERM to the process group, then SIGKILL if the leader
// has not exited after killGrace, and returns the leader's Wait error.
func stopGroup(pgid int, done <-chan error) error {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-time.After(killGrace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return <-done
}
