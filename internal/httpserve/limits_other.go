//go:build !unix

package httpserve

// defaultMaxConns is DefaultMaxConns where the limit on open files is not
// known.
func defaultMaxConns() int { return DefaultMaxConns }
