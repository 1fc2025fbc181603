package streamable

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

type replayed struct {
	id   string
	data string
}

func replayAll(t *testing.T, s EventStore, session, last string) (string, []replayed, error) {
	t.Helper()
	var got []replayed
	stream, err := s.Replay(context.Background(), session, last, func(id string, data []byte) error {
		got = append(got, replayed{id, string(data)})
		return nil
	})
	return stream, got, err
}

func mustAppend(t *testing.T, s EventStore, session, stream, data string) string {
	t.Helper()
	id, err := s.Append(context.Background(), session, stream, []byte(data))
	if err != nil {
		t.Fatalf("Append(%s, %s): %v", session, stream, err)
	}
	return id
}

func TestMemoryEventStoreReplay(t *testing.T) {
	s := NewMemoryEventStore(nil)
	a1 := mustAppend(t, s, "s1", "1", "")
	b1 := mustAppend(t, s, "s1", "2", "b1")
	a2 := mustAppend(t, s, "s1", "1", "a2")
	a3 := mustAppend(t, s, "s1", "1", "a3")
	b2 := mustAppend(t, s, "s1", "2", "b2")
	other := mustAppend(t, s, "s2", "1", "x")

	ids := map[string]bool{}
	for _, id := range []string{a1, b1, a2, a3, b2} {
		if ids[id] {
			t.Fatalf("duplicate event id %q", id)
		}
		ids[id] = true
	}

	tests := []struct {
		name       string
		session    string
		last       string
		wantStream string
		want       []replayed
		wantErr    bool
	}{
		{name: "from priming", session: "s1", last: a1, wantStream: "1", want: []replayed{{a2, "a2"}, {a3, "a3"}}},
		{name: "middle", session: "s1", last: a2, wantStream: "1", want: []replayed{{a3, "a3"}}},
		{name: "last", session: "s1", last: a3, wantStream: "1", want: nil},
		{name: "other stream", session: "s1", last: b1, wantStream: "2", want: []replayed{{b2, "b2"}}},
		{name: "id of another session", session: "s2", last: a2, wantErr: true},
		{name: "same id in another session", session: "s2", last: other, wantStream: "1", want: nil},
		{name: "unknown session", session: "nope", last: a1, wantErr: true},
		{name: "never issued", session: "s1", last: "1-99", wantErr: true},
		{name: "wrong stream for seq", session: "s1", last: "1-2", wantErr: true},
		{name: "unknown stream", session: "s1", last: "7-1", wantErr: true},
		{name: "malformed", session: "s1", last: "garbage", wantErr: true},
		{name: "zero", session: "s1", last: "1-0", wantErr: true},
		{name: "negative", session: "s1", last: "1--1", wantErr: true},
		{name: "empty", session: "s1", last: "", wantErr: true},
		{name: "trailing dash", session: "s1", last: "1-", wantErr: true},
		{name: "too long", session: "s1", last: strings.Repeat("1", 300) + "-1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream, got, err := replayAll(t, s, tt.session, tt.last)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownEvent) {
					t.Fatalf("Replay(%q) error = %v, want ErrUnknownEvent", tt.last, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Replay(%q): %v", tt.last, err)
			}
			if stream != tt.wantStream {
				t.Errorf("stream = %q, want %q", stream, tt.wantStream)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("replayed %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMemoryEventStoreReplayStopsOnError(t *testing.T) {
	s := NewMemoryEventStore(nil)
	first := mustAppend(t, s, "s", "1", "")
	mustAppend(t, s, "s", "1", "a")
	mustAppend(t, s, "s", "1", "b")
	boom := errors.New("boom")
	n := 0
	_, err := s.Replay(context.Background(), "s", first, func(string, []byte) error {
		n++
		return boom
	})
	if !errors.Is(err, boom) || n != 1 {
		t.Fatalf("Replay = %v after %d calls, want boom after 1", err, n)
	}
}

func TestMemoryEventStoreSessionLimit(t *testing.T) {
	// Room for three 36-byte events per session (100 bytes each with the
	// overhead).
	s := NewMemoryEventStore(&MemoryEventStoreOptions{MaxSessionBytes: 3 * (36 + eventOverhead)})
	data := func(i int) string { return fmt.Sprintf("%036d", i) }
	var ids []string
	for i := range 5 {
		ids = append(ids, mustAppend(t, s, "s", "1", data(i)))
	}
	// Events 0 and 1 were evicted: resuming after 0 would lose 1.
	if _, _, err := replayAll(t, s, "s", ids[0]); !errors.Is(err, ErrUnknownEvent) {
		t.Fatalf("resume after an evicted gap: err = %v, want ErrUnknownEvent", err)
	}
	// Resuming after 1 (evicted, but nothing after it is) still works.
	_, got, err := replayAll(t, s, "s", ids[1])
	if err != nil || len(got) != 3 || got[0].data != data(2) {
		t.Fatalf("resume after evicted event 1 = %v, %v; want events 2..4", got, err)
	}
	_, got, err = replayAll(t, s, "s", ids[3])
	if err != nil || len(got) != 1 || got[0].data != data(4) {
		t.Fatalf("resume after 3 = %v, %v", got, err)
	}
	if _, b := s.Stats(); b != 3*(36+eventOverhead) {
		t.Errorf("bytes = %d, want %d", b, 3*(36+eventOverhead))
	}
	// An event over the per-session limit is refused.
	if _, err := s.Append(context.Background(), "s", "1", make([]byte, 400)); !errors.Is(err, ErrEventTooLarge) {
		t.Errorf("oversized Append error = %v, want ErrEventTooLarge", err)
	}
}

func TestMemoryEventStoreEvictedStreamKeepsUniqueIDs(t *testing.T) {
	s := NewMemoryEventStore(&MemoryEventStoreOptions{MaxSessionBytes: 2 * (10 + eventOverhead)})
	seen := map[string]bool{}
	for i := range 20 {
		// Stream "1" is evicted entirely now and then by stream "2".
		stream := "1"
		if i%3 != 0 {
			stream = "2"
		}
		id := mustAppend(t, s, "s", stream, "0123456789")
		if seen[id] {
			t.Fatalf("event id %q issued twice", id)
		}
		seen[id] = true
	}
}

func TestMemoryEventStoreTotalLimit(t *testing.T) {
	const ev = 36 + eventOverhead
	s := NewMemoryEventStore(&MemoryEventStoreOptions{MaxSessionBytes: 10 * ev, MaxTotalBytes: 4 * ev})
	d := strings.Repeat("x", 36)
	a1 := mustAppend(t, s, "a", "1", d)
	a2 := mustAppend(t, s, "a", "1", d)
	b1 := mustAppend(t, s, "b", "1", d)
	mustAppend(t, s, "b", "1", d)
	// Three sessions share 4 events: 1.33 each. c's first event evicts
	// the oldest event of a session over its share (a1), its second one
	// the oldest of the session still over its share (b1, not a2).
	c1 := mustAppend(t, s, "c", "1", d)
	mustAppend(t, s, "c", "1", d)
	if _, b := s.Stats(); b != 4*ev {
		t.Fatalf("bytes = %d, want %d", b, 4*ev)
	}
	if _, got, err := replayAll(t, s, "a", a1); err != nil || len(got) != 1 || got[0].id != a2 {
		// a1 is gone but nothing of its stream after it.
		t.Fatalf("resume after a1 = %v, %v; want a2", got, err)
	}
	if _, got, err := replayAll(t, s, "b", b1); err != nil || len(got) != 1 {
		t.Fatalf("resume after b1 = %v, %v; want b2", got, err)
	}
	if _, got, err := replayAll(t, s, "c", c1); err != nil || len(got) != 1 {
		t.Fatalf("resume after c1 = %v, %v; want c2", got, err)
	}
	// A session over its share pays for its own events: a fourth c event
	// evicts c1, though a2 and b2 are older.
	mustAppend(t, s, "c", "1", d)
	mustAppend(t, s, "c", "1", d)
	if _, got, err := replayAll(t, s, "a", a1); err != nil || len(got) != 1 {
		t.Fatalf("a lost a2 to c's traffic: %v, %v", got, err)
	}
	if _, _, err := replayAll(t, s, "c", c1); err == nil {
		t.Fatal("c1 and c2 are still retained")
	}
	// Ids of a session keep counting after its events were evicted.
	s.DeleteSession(context.Background(), "c")
	mustAppend(t, s, "b", "1", d)
	mustAppend(t, s, "b", "1", d)
	mustAppend(t, s, "b", "1", d)
	if id := mustAppend(t, s, "a", "1", d); id == a1 || id == a2 {
		t.Fatalf("reissued id %q", id)
	}
}

func TestMemoryEventStoreDeleteSession(t *testing.T) {
	s := NewMemoryEventStore(nil)
	id := mustAppend(t, s, "a", "1", "")
	mustAppend(t, s, "a", "1", "x")
	mustAppend(t, s, "b", "1", "y")
	if err := s.DeleteSession(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := replayAll(t, s, "a", id); !errors.Is(err, ErrUnknownEvent) {
		t.Fatalf("replay after DeleteSession: %v", err)
	}
	if n, b := s.Stats(); n != 1 || b != 1+eventOverhead {
		t.Fatalf("Stats = %d sessions, %d bytes; want 1, %d", n, b, 1+eventOverhead)
	}
	if err := s.DeleteSession(context.Background(), "missing"); err != nil {
		t.Fatalf("DeleteSession(missing) = %v", err)
	}
	// Many sessions coming and going leave nothing behind.
	for i := range 1000 {
		sid := fmt.Sprint("tmp", i)
		mustAppend(t, s, sid, "1", "z")
		_ = s.DeleteSession(context.Background(), sid)
	}
	s.mu.Lock()
	nonEmpty := s.nonEmpty
	s.mu.Unlock()
	if n, b := s.Stats(); n != 1 || b != 1+eventOverhead || nonEmpty != 1 {
		t.Fatalf("after 1000 sessions came and went: %d sessions, %d bytes, %d holding events", n, b, nonEmpty)
	}
}

func TestMemoryEventStoreConcurrent(t *testing.T) {
	s := NewMemoryEventStore(&MemoryEventStoreOptions{MaxSessionBytes: 4 << 10, MaxTotalBytes: 16 << 10})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sid := fmt.Sprint("s", g%3)
			first, err := s.Append(context.Background(), sid, fmt.Sprint(g), nil)
			if err != nil {
				t.Error(err)
				return
			}
			prev := first
			for i := range 300 {
				id, err := s.Append(context.Background(), sid, fmt.Sprint(g), []byte(fmt.Sprint(i)))
				if err != nil {
					t.Error(err)
					return
				}
				// Replay from the previous event must yield exactly the
				// new one, or report that it was evicted.
				var got []string
				_, err = s.Replay(context.Background(), sid, prev, func(id string, _ []byte) error {
					got = append(got, id)
					return nil
				})
				if err == nil && (len(got) != 1 || got[0] != id) {
					t.Errorf("replay after %s = %v, want [%s]", prev, got, id)
					return
				}
				if err != nil && !errors.Is(err, ErrUnknownEvent) {
					t.Error(err)
					return
				}
				prev = id
				if i%100 == 99 && g == 0 {
					_ = s.DeleteSession(context.Background(), sid)
				}
			}
		}()
	}
	wg.Wait()
	if _, b := s.Stats(); b > 16<<10 {
		t.Fatalf("store holds %d bytes, over its limit", b)
	}
}

func FuzzLastEventID(f *testing.F) {
	for _, s := range []string{"1-1", "0-2", "12-345", "", "-", "1-", "-1", "a-b-3", "1-18446744073709551615", "1-18446744073709551616", "x\n-1", "1-+1", "1- 1"} {
		f.Add(s)
	}
	store := NewMemoryEventStore(nil)
	ctx := context.Background()
	for i := range 5 {
		_, _ = store.Append(ctx, "s", fmt.Sprint(i%2), []byte(fmt.Sprint(i)))
	}
	f.Fuzz(func(t *testing.T, id string) {
		valid := validEventID(id)
		if valid && (len(id) == 0 || len(id) > maxEventIDLen) {
			t.Fatalf("validEventID(%q) = true", id)
		}
		stream, seq, ok := parseMemEventID(id)
		if ok {
			if seq == 0 || stream == "" || !strings.HasPrefix(id, stream+"-") {
				t.Fatalf("parseMemEventID(%q) = %q, %d", id, stream, seq)
			}
		}
		n := 0
		_, err := store.Replay(ctx, "s", id, func(string, []byte) error { n++; return nil })
		if err != nil && !errors.Is(err, ErrUnknownEvent) {
			t.Fatalf("Replay(%q) = %v", id, err)
		}
		if err != nil && n > 0 {
			t.Fatalf("Replay(%q) replayed %d events and failed", id, n)
		}
	})
}

// One session's traffic cannot evict another session's events below the
// guaranteed per-session share (issue 10, finding 8): a quiet session keeps
// its events, so its client can resume, while a noisy one floods the store.
func TestMemoryEventStoreFairShare(t *testing.T) {
	const total = 256 << 10
	s := NewMemoryEventStore(&MemoryEventStoreOptions{MaxSessionBytes: total, MaxTotalBytes: total})
	kb := strings.Repeat("q", 1<<10)
	prime := mustAppend(t, s, "quiet", "1", "")
	for range 3 {
		mustAppend(t, s, "quiet", "1", kb)
	}
	var last string
	for range 1000 { // 1 MiB, four times the store
		last = mustAppend(t, s, "noisy", "1", kb)
	}
	if _, got, err := replayAll(t, s, "quiet", prime); err != nil || len(got) != 3 {
		t.Fatalf("quiet session after the flood: %d events, %v; want its 3 events", len(got), err)
	}
	if _, b := s.Stats(); b > total {
		t.Fatalf("store holds %d bytes, over its limit %d", b, total)
	}
	// The noisy session keeps its newest events, up to what is left.
	if _, _, err := replayAll(t, s, "noisy", last); err != nil {
		t.Fatalf("noisy session lost its latest event: %v", err)
	}
}

// The store's accounting stays exact under random traffic: total bytes,
// sessions holding events, and the limits.
func TestMemoryEventStoreAccounting(t *testing.T) {
	const total, perSession = 8 << 10, 4 << 10
	s := NewMemoryEventStore(&MemoryEventStoreOptions{MaxSessionBytes: perSession, MaxTotalBytes: total, MinSessionBytes: 1 << 10})
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		sid := fmt.Sprint("s", rng.IntN(12))
		switch rng.IntN(50) {
		case 0:
			_ = s.DeleteSession(context.Background(), sid)
		default:
			mustAppend(t, s, sid, fmt.Sprint(rng.IntN(3)), strings.Repeat("x", rng.IntN(700)))
		}
		s.mu.Lock()
		sum, nonEmpty := 0, 0
		for _, ms := range s.sessions {
			b := 0
			for _, e := range ms.queue {
				b += e.size()
			}
			if b != ms.bytes || b > perSession {
				s.mu.Unlock()
				t.Fatalf("op %d: session %s holds %d bytes, accounts %d", i, ms.id, b, ms.bytes)
			}
			sum += b
			if b > 0 {
				nonEmpty++
			}
		}
		ok := sum == s.bytes && nonEmpty == s.nonEmpty && sum <= total
		s.mu.Unlock()
		if !ok {
			t.Fatalf("op %d: %d bytes in sessions, store accounts %d; %d sessions hold events, store counts %d", i, sum, s.bytes, nonEmpty, s.nonEmpty)
		}
	}
}
