// Package limits counts what clients hold (requests in flight, sessions)
// against a bound for everyone and a bound per client, for the MCP HTTP
// transports.
package limits

import (
	"errors"
	"sync"
)

// Errors returned by Counter.Acquire.
var (
	// ErrGlobal means the bound for everyone is reached: the server is
	// busy (HTTP 503).
	ErrGlobal = errors.New("limits: the server-wide limit is reached")
	// ErrPerClient means the client's own bound is reached (HTTP 429).
	ErrPerClient = errors.New("limits: the per-client limit is reached")
)

// Counter counts units held, in all and per client key. It is safe for
// concurrent use; the zero value has no bounds.
type Counter struct {
	max, perClient int

	mu    sync.Mutex
	total int
	by    map[string]int
}

// New returns a counter bounding the units held to max in all and to
// perClient per client key; a bound of zero or less is no bound.
func New(max, perClient int) *Counter {
	return &Counter{max: max, perClient: perClient}
}

// Acquire takes one unit for client, or returns ErrGlobal or ErrPerClient
// without taking it. Every successful Acquire must be matched by one
// Release with the same key.
func (c *Counter) Acquire(client string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max > 0 && c.total >= c.max {
		return ErrGlobal
	}
	n := c.by[client]
	if c.perClient > 0 && n >= c.perClient {
		return ErrPerClient
	}
	if c.by == nil {
		c.by = make(map[string]int)
	}
	c.by[client] = n + 1
	c.total++
	return nil
}

// Release gives back a unit that Acquire took for client. A Release
// without an Acquire is a bug of the caller; it is ignored rather than
// allowed to corrupt the counts (or to crash a server).
func (c *Counter) Release(client string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.by[client]
	if n <= 0 {
		return
	}
	if n == 1 {
		delete(c.by, client)
	} else {
		c.by[client] = n - 1
	}
	c.total--
}

// Held returns the units held in all and by client.
func (c *Counter) Held(client string) (total, byClient int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, c.by[client]
}
