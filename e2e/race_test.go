//go:build race

package e2e

// raceEnabled makes TestMain build the server with the race detector too.
const raceEnabled = true
