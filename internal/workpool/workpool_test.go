package workpool

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPoolRunsAndReuses(t *testing.T) {
	p := New(4)
	var n atomic.Int64
	for range 100 {
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			p.Go(func() { n.Add(1); wg.Done() })
		}
		wg.Wait()
	}
	if n.Load() != 400 {
		t.Fatalf("ran %d functions, want 400", n.Load())
	}
	p.mu.Lock()
	idle := len(p.idle)
	p.mu.Unlock()
	if idle == 0 || idle > 4 {
		t.Fatalf("%d idle workers, want 1..4", idle)
	}
}

func TestCloseEndsIdleWorkers(t *testing.T) {
	base := runtime.NumGoroutine()
	p := New(8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		p.Go(func() { time.Sleep(time.Millisecond); wg.Done() })
	}
	wg.Wait()
	p.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d, before: %d", runtime.NumGoroutine(), base)
		}
		time.Sleep(time.Millisecond)
	}
	done := make(chan struct{})
	p.Go(func() { close(done) })
	<-done
}
