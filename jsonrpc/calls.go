package jsonrpc

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by calls still waiting when their connection closes.
var ErrClosed = errors.New("jsonrpc: connection closed")

// Calls correlates outgoing requests with the responses that answer them.
// It allocates request ids (increasing integers) and hands each response to
// the caller waiting for it. The zero value is ready to use; a Calls is safe
// for concurrent use.
type Calls struct {
	mu      sync.Mutex
	next    int64
	pending map[ID]chan *Response
	closed  error
}

// Call is an outgoing request waiting for its response.
type Call struct {
	id    ID
	ch    chan *Response
	calls *Calls
}

// ID returns the id to send the request with.
func (c *Call) ID() ID { return c.id }

// Start allocates an id for a new outgoing request and registers it. The
// caller sends the request and then calls Wait, or Abandon if sending failed.
func (c *Calls) Start() (*Call, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed != nil {
		return nil, c.closed
	}
	if c.pending == nil {
		c.pending = make(map[ID]chan *Response)
	}
	c.next++
	id := Int64ID(c.next)
	ch := make(chan *Response, 1)
	c.pending[id] = ch
	return &Call{id: id, ch: ch, calls: c}, nil
}

// Wait blocks until the response arrives, ctx is done, or the Calls is
// closed. A response carrying an error object is returned as that *Error.
// When ctx ends first, the call is forgotten (a late response is dropped)
// and ctx's error is returned; the caller decides whether to tell the peer.
func (c *Call) Wait(ctx context.Context) (*Response, error) {
	select {
	case r, ok := <-c.ch:
		if !ok {
			return nil, c.calls.closedErr()
		}
		if r.Error != nil {
			return r, r.Error
		}
		return r, nil
	case <-ctx.Done():
		c.Abandon()
		// A response may have raced with cancellation; prefer it.
		select {
		case r, ok := <-c.ch:
			if ok {
				if r.Error != nil {
					return r, r.Error
				}
				return r, nil
			}
		default:
		}
		return nil, context.Cause(ctx)
	}
}

// Abandon forgets the call: a response that arrives later is dropped.
func (c *Call) Abandon() {
	c.calls.mu.Lock()
	if ch, ok := c.calls.pending[c.id]; ok && ch == c.ch {
		delete(c.calls.pending, c.id)
	}
	c.calls.mu.Unlock()
}

// Deliver hands a response to the call waiting for it. It reports false
// when no call is waiting for that id (unknown, late or duplicate).
func (c *Calls) Deliver(r *Response) bool {
	c.mu.Lock()
	ch, ok := c.pending[r.ID]
	if ok {
		delete(c.pending, r.ID)
	}
	c.mu.Unlock()
	if ok {
		ch <- r // buffered; never blocks
	}
	return ok
}

// Pending reports how many calls are waiting.
func (c *Calls) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// Close fails every waiting call with err (ErrClosed when nil) and makes
// further Start calls fail.
func (c *Calls) Close(err error) {
	if err == nil {
		err = ErrClosed
	}
	c.mu.Lock()
	if c.closed == nil {
		c.closed = err
	}
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, ch := range pending {
		close(ch)
	}
}

func (c *Calls) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed != nil {
		return c.closed
	}
	return ErrClosed
}
