//go:build unix

package stdio

import (
	"errors"
	"os/exec"
	"syscall"
)

// setProcessGroup makes the server the leader of a new process group, so
// that stopping it reaches the processes it starts too (npx, uvx and
// shell wrappers start the real server as a child).
func setProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// signalGroup sends sig to the server's process group. It reports false
// when the group has no process left.
func signalGroup(pid int, sig syscall.Signal) bool {
	err := syscall.Kill(-pid, sig)
	return !errors.Is(err, syscall.ESRCH)
}
