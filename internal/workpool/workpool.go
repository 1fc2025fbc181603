// Package workpool runs functions on reused goroutines.
//
// A goroutine starts with a small stack; one that serves an MCP request
// calls deep enough (transport, session, dispatch, JSON decoding, a
// gateway's relay) to grow it several times, copying it each time. Under
// load that growth was a fifth of the gateway's instructions per call. A
// Pool keeps the goroutines that finish their function and hands them the
// next one, last in first out, so that the next request runs on a stack
// that has already grown.
package workpool

import "sync"

// Pool is a set of idle goroutines. Its zero value is not usable: see New.
type Pool struct {
	max    int
	mu     sync.Mutex
	idle   []*worker
	closed bool
}

type worker struct {
	fn chan func()
}

// New returns a pool that keeps at most maxIdle idle goroutines.
func New(maxIdle int) *Pool {
	return &Pool{max: maxIdle}
}

// Go runs f on an idle goroutine of the pool, or on a new one when none is
// idle (also after Close). f should not panic: a panic ends the program,
// as in a goroutine of its own.
func (p *Pool) Go(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.fn <- f // buffered: the worker is parked on it, or about to be
		return
	}
	p.mu.Unlock()
	go p.run(&worker{fn: make(chan func(), 1)}, f)
}

func (p *Pool) run(w *worker, f func()) {
	for f != nil {
		f()
		f = nil // let it be collected while the worker is idle
		p.mu.Lock()
		if p.closed || len(p.idle) >= p.max {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		f = <-w.fn
	}
}

// Close ends the idle goroutines; goroutines running a function end when
// it returns. Go still works after Close, on new goroutines that end with
// their function.
func (p *Pool) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, w := range idle {
		w.fn <- nil
	}
}
