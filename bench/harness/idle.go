package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/servers"
)

// IdleResult is the server-side cost of idle initialized sessions: the
// growth of the live heap and of the goroutine count over a fresh
// server's, divided by the number of sessions.
type IdleResult struct {
	Impl           string  `json:"impl"`
	Sessions       int     `json:"sessions"`
	Status         string  `json:"status"`
	HeapPerSession float64 `json:"heapBytesPerSession"`
	GoroutinesPer  float64 `json:"goroutinesPerSession"`
	StackPer       float64 `json:"stackBytesPerSession"`
	Heap           uint64  `json:"heapAlloc"`
	Goroutines     int     `json:"goroutines"`
}

// fetchStats asks a server's side endpoint for its Stats, on a connection
// of its own that is closed afterwards (so that it is no goroutine in the
// next reading).
func fetchStats(ctx context.Context, sideURL string) (servers.Stats, error) {
	var st servers.Stats
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sideURL+"/stats", nil)
	if err != nil {
		return st, err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("stats: status %d", resp.StatusCode)
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&st)
	return st, err
}

// runIdle opens sessions (initialize + initialized, no GET stream) up to
// each count in counts, holding them open, and reads the server's stats at
// each step with the client's connections closed.
func runIdle(ctx context.Context, c *child, impl string, counts []int) ([]IdleResult, error) {
	if c.sideURL == "" {
		return nil, errors.New("server has no side endpoint")
	}
	base, err := settledStats(ctx, c.sideURL)
	if err != nil {
		return nil, err
	}
	const creators = 8
	var out []IdleResult
	opened := 0
	for _, n := range counts {
		tr := newTransport(creators)
		var next atomic.Int64
		next.Store(int64(opened))
		var wg sync.WaitGroup
		errs := make([]error, creators)
		for w := range creators {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					s := &httpSession{tr: tr, url: c.mcpURL}
					ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
					err := s.initialize(ictx)
					cancel()
					if err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		tr.CloseIdleConnections()
		if err := errors.Join(errs...); err != nil {
			return out, fmt.Errorf("%d sessions: %w", n, err)
		}
		opened = n
		st, err := settledStats(ctx, c.sideURL)
		if err != nil {
			return out, err
		}
		out = append(out, IdleResult{
			Impl:           impl,
			Sessions:       n,
			HeapPerSession: (float64(st.HeapAlloc) - float64(base.HeapAlloc)) / float64(n),
			GoroutinesPer:  float64(st.Goroutines-base.Goroutines) / float64(n),
			StackPer:       (float64(st.StackInuse) - float64(base.StackInuse)) / float64(n),
			Heap:           st.HeapAlloc,
			Goroutines:     st.Goroutines,
		})
	}
	return out, nil
}

// settledStats reads the stats after the server's connection goroutines
// have wound down: it retries for up to two seconds while the goroutine
// count is still falling.
func settledStats(ctx context.Context, sideURL string) (servers.Stats, error) {
	var last servers.Stats
	for i := range 10 {
		st, err := fetchStats(ctx, sideURL)
		if err != nil {
			return st, err
		}
		if i > 0 && st.Goroutines >= last.Goroutines {
			return st, nil
		}
		last = st
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return st, err
		}
	}
	return last, nil
}
