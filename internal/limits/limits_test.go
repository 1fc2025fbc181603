package limits

import (
	"errors"
	"sync"
	"testing"
)

func TestCounter(t *testing.T) {
	type op struct {
		release bool
		client  string
		want    error
	}
	tests := []struct {
		name           string
		max, perClient int
		ops            []op
		total          int
	}{
		{"per client", 10, 2, []op{{false, "a", nil}, {false, "a", nil}, {false, "a", ErrPerClient}, {false, "b", nil}}, 3},
		{"global", 3, 2, []op{{false, "a", nil}, {false, "b", nil}, {false, "c", nil}, {false, "d", ErrGlobal}}, 3},
		{"global before per client", 2, 2, []op{{false, "a", nil}, {false, "a", nil}, {false, "a", ErrGlobal}}, 2},
		{"release makes room", 2, 1, []op{{false, "a", nil}, {false, "a", ErrPerClient}, {true, "a", nil}, {false, "a", nil}}, 1},
		{"no bounds", 0, 0, []op{{false, "a", nil}, {false, "a", nil}, {false, "a", nil}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.max, tt.perClient)
			for i, o := range tt.ops {
				if o.release {
					c.Release(o.client)
					continue
				}
				if err := c.Acquire(o.client); !errors.Is(err, o.want) || (err == nil) != (o.want == nil) {
					t.Fatalf("op %d: Acquire(%q) = %v, want %v", i, o.client, err, o.want)
				}
			}
			if total, _ := c.Held(""); total != tt.total {
				t.Errorf("total %d, want %d", total, tt.total)
			}
		})
	}
}

func TestCounterConcurrent(t *testing.T) {
	c := New(50, 10)
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			key := string(rune('a' + g%5))
			for range 1000 {
				if c.Acquire(key) == nil {
					if total, mine := c.Held(key); total > 50 || mine > 10 {
						t.Errorf("held %d in all, %d by %s", total, mine, key)
					}
					c.Release(key)
				}
			}
		})
	}
	wg.Wait()
	if total, _ := c.Held(""); total != 0 {
		t.Fatalf("total %d after every release", total)
	}
	c.mu.Lock()
	n := len(c.by)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d keys left", n)
	}
}

func TestReleaseWithoutAcquireIsIgnored(t *testing.T) {
	c := New(1, 1)
	c.Release("a")
	if err := c.Acquire("a"); err != nil {
		t.Fatalf("Acquire after a stray Release: %v", err)
	}
	if err := c.Acquire("b"); err != ErrGlobal {
		t.Fatalf("the stray Release made room: %v", err)
	}
}
