//go:build !race

package interop

// raceEnabled reports whether the tests run with the race detector.
const raceEnabled = false
