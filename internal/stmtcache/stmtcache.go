// Package stmtcache keeps prepared statements of a database/sql pool by
// their SQL text. On SQLite (modernc.org/sqlite) compiling a statement
// can cost more than running it, and database/sql compiles a query each
// time it is run unprepared; a *sql.Stmt is compiled once per
// connection and is safe for concurrent use.
package stmtcache

import (
	"context"
	"database/sql"
	"sync"
)

// Cache holds the prepared statements of DB, at most Max of them (0: 64).
// The zero value with DB set is ready to use; a Cache must not be copied
// after first use.
type Cache struct {
	DB  *sql.DB
	Max int

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// Get returns the statement of q, prepared on first use. It returns nil
// when the cache is full or preparing fails: the caller then runs q
// unprepared (and gets the error from there).
func (c *Cache) Get(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[q]; ok {
		return st
	}
	max := c.Max
	if max <= 0 {
		max = 64
	}
	if len(c.stmts) >= max {
		return nil
	}
	st, err := c.DB.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[q] = st
	return st
}

// Close closes the statements (not the DB).
func (c *Cache) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}
