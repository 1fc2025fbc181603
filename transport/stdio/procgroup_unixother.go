//go:build unix && !linux

package stdio

// groupAlive reports whether a process of the server's group still runs.
func groupAlive(pgid int) bool { return signalGroup(pgid, 0) }
