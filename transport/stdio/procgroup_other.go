//go:build !unix

package stdio

import (
	"os/exec"
	"syscall"
)

// setProcessGroup does nothing where there are no process groups.
func setProcessGroup(*exec.Cmd) {}

// signalGroup reports that there is no group to signal.
func signalGroup(int, syscall.Signal) bool { return false }

// groupAlive reports that there is no group.
func groupAlive(int) bool { return false }
