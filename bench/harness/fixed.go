package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// FixedClient is the load client of the other rows, sending a fixed number
// of calls rather than calling for a fixed time (see cmd/callcount).
type FixedClient struct {
	t *httpTarget
}

// NewFixedClient opens sessions workers on the Streamable HTTP server at
// url: 2025-11-25 sessions, or with modern revision 2026-07-28 clients
// without sessions. Each worker's first call is checked.
func NewFixedClient(ctx context.Context, url string, modern bool, sessions int) (*FixedClient, error) {
	mode := modeSession
	if modern {
		mode = modeModern
	}
	t, err := newHTTPTarget(ctx, &child{mcpURL: url, done: make(chan struct{})}, sessions, mode)
	if err != nil {
		return nil, err
	}
	return &FixedClient{t: t}, nil
}

// Run sends n calls, spread over the workers (each with one call in
// flight), and returns how many succeeded.
func (f *FixedClient) Run(n int) (int, error) {
	ss := f.t.sessions
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ok   int
		errs []error
	)
	for i, s := range ss {
		k := n / len(ss)
		if i < n%len(ss) {
			k++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			good := 0
			var err error
			for range k {
				var o bool
				if o, err = s.call(s.next()); err != nil {
					break
				}
				if o {
					good++
				}
			}
			mu.Lock()
			ok += good
			if err != nil {
				errs = append(errs, fmt.Errorf("session %d: %w", i, err))
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return ok, errors.Join(errs...)
}

// Close closes the workers' connections.
func (f *FixedClient) Close() { f.t.tr.CloseIdleConnections() }
