//go:build unix

package httpserve

import "syscall"

// defaultMaxConns is DefaultMaxConns, or three quarters of the limit on
// open files when that is lower, leaving room for the process's other
// files (and the connections it makes itself).
func defaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return DefaultMaxConns
	}
	if n := rl.Cur / 4 * 3; n < DefaultMaxConns {
		return max(int(n), 1)
	}
	return DefaultMaxConns
}
