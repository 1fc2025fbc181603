package console

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// LogRecord is one gateway log record as the admin API shows it.
type LogRecord struct {
	// Seq numbers records from 1, in order.
	Seq     int64          `json:"seq"`
	Time    time.Time      `json:"time"`
	Level   string         `json:"level"`
	Message string         `json:"message"`
	Attrs   map[string]any `json:"attrs,omitempty"`
}

// LogBuffer keeps the gateway's most recent log records for the admin API
// and streams new ones to watchers. Wrap the gateway's log handler with
// Handler so that every record goes to both. It is safe for concurrent
// use.
type LogBuffer struct {
	mu       sync.Mutex
	size     int
	records  []LogRecord // ring
	next     int64       // seq of the next record
	watchers map[chan LogRecord]struct{}
}

// DefaultLogBufferSize is how many records a LogBuffer keeps when NewLogBuffer
// is given 0.
const DefaultLogBufferSize = 1000

// NewLogBuffer returns a buffer of the last size records.
func NewLogBuffer(size int) *LogBuffer {
	if size <= 0 {
		size = DefaultLogBufferSize
	}
	return &LogBuffer{size: size, next: 1, watchers: map[chan LogRecord]struct{}{}}
}

// Since returns the kept records with a sequence number above seq, oldest
// first.
func (b *LogBuffer) Since(seq int64) []LogRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]LogRecord, 0, len(b.records))
	for _, r := range b.records {
		if r.Seq > seq {
			out = append(out, r)
		}
	}
	return out
}

// Watch returns a channel of the records logged from now on, until ctx
// ends. A watcher that does not keep up loses records rather than slow
// the gateway down.
func (b *LogBuffer) Watch(ctx context.Context) <-chan LogRecord {
	ch := make(chan LogRecord, 256)
	b.mu.Lock()
	b.watchers[ch] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		delete(b.watchers, ch)
		b.mu.Unlock()
		close(ch)
	})
	return ch
}

func (b *LogBuffer) add(r LogRecord) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r.Seq = b.next
	b.next++
	if len(b.records) < b.size {
		b.records = append(b.records, r)
	} else {
		copy(b.records, b.records[1:])
		b.records[len(b.records)-1] = r
	}
	for ch := range b.watchers {
		select {
		case ch <- r:
		default:
		}
	}
}

// Handler returns an slog.Handler that passes records to next and keeps
// them in b (at next's level).
func (b *LogBuffer) Handler(next slog.Handler) slog.Handler {
	return &teeHandler{b: b, next: next}
}

type teeHandler struct {
	b      *LogBuffer
	next   slog.Handler
	attrs  []slog.Attr
	groups []string
}

func (h *teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *teeHandler) Handle(ctx context.Context, r slog.Record) error {
	rec := LogRecord{Time: r.Time, Level: r.Level.String(), Message: r.Message}
	add := func(a slog.Attr) {
		if rec.Attrs == nil {
			rec.Attrs = map[string]any{}
		}
		key := a.Key
		for i := len(h.groups) - 1; i >= 0; i-- {
			key = h.groups[i] + "." + key
		}
		v := a.Value.Resolve()
		switch v.Kind() {
		case slog.KindAny:
			if err, ok := v.Any().(error); ok {
				rec.Attrs[key] = err.Error()
			} else {
				rec.Attrs[key] = v.String()
			}
		case slog.KindGroup:
			rec.Attrs[key] = v.String()
		default:
			rec.Attrs[key] = v.Any()
		}
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool {
		add(a)
		return true
	})
	h.b.add(rec)
	return h.next.Handle(ctx, r)
}

func (h *teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	c.next = h.next.WithAttrs(attrs)
	return &c
}

func (h *teeHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.groups = append(append([]string(nil), h.groups...), name)
	c.next = h.next.WithGroup(name)
	return &c
}
