package sse

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
		err  bool
	}{
		{name: "empty event", ev: Event{}, want: ""},
		{name: "data", ev: Event{Data: []byte("hello")}, want: "data: hello\n\n"},
		{name: "empty data", ev: Event{HasData: true}, want: "data:\n\n"},
		{name: "empty non-nil data without flag", ev: Event{Data: []byte{}}, want: ""},
		{name: "priming", ev: Event{ID: "5", HasData: true}, want: "id: 5\ndata:\n\n"},
		{name: "all fields", ev: Event{ID: "s1/7", Name: "message", Data: []byte("{}"), Retry: 1500 * time.Millisecond}, want: "event: message\nid: s1/7\nretry: 1500\ndata: {}\n\n"},
		{name: "empty id", ev: Event{HasID: true}, want: "id:\n\n"},
		{name: "id with spaces", ev: Event{ID: " a b "}, want: "id:  a b \n\n"},
		{name: "retry only", ev: Event{Retry: 3 * time.Second}, want: "retry: 3000\n\n"},
		{name: "retry zero", ev: Event{HasRetry: true}, want: "retry: 0\n\n"},
		{name: "retry rounds down", ev: Event{Retry: 1999 * time.Microsecond}, want: "retry: 1\n\n"},
		{name: "retry below a millisecond", ev: Event{Retry: time.Microsecond}, want: "retry: 0\n\n"},
		{name: "name only", ev: Event{Name: "ping"}, want: "event: ping\n\n"},
		{name: "data with LF", ev: Event{Data: []byte("a\nb")}, want: "data: a\ndata: b\n\n"},
		{name: "data with CRLF", ev: Event{Data: []byte("a\r\nb")}, want: "data: a\ndata: b\n\n"},
		{name: "data with CR", ev: Event{Data: []byte("a\rb")}, want: "data: a\ndata: b\n\n"},
		{name: "data with LFCR", ev: Event{Data: []byte("a\n\rb")}, want: "data: a\ndata:\ndata: b\n\n"},
		{name: "data with CR CR LF", ev: Event{Data: []byte("a\r\r\nb")}, want: "data: a\ndata:\ndata: b\n\n"},
		{name: "data ends with LF", ev: Event{Data: []byte("a\n")}, want: "data: a\ndata:\n\n"},
		{name: "data ends with CR", ev: Event{Data: []byte("a\r")}, want: "data: a\ndata:\n\n"},
		{name: "data is LF", ev: Event{Data: []byte("\n")}, want: "data:\ndata:\n\n"},
		{name: "data starts with space", ev: Event{Data: []byte(" x")}, want: "data:  x\n\n"},
		{name: "data starts with colon", ev: Event{Data: []byte(":x")}, want: "data: :x\n\n"},
		{name: "data with NUL", ev: Event{Data: []byte("a\x00b")}, want: "data: a\x00b\n\n"},
		{name: "id with LF", ev: Event{ID: "a\nb", Data: []byte("x")}, err: true},
		{name: "id with CR", ev: Event{ID: "a\r", Data: []byte("x")}, err: true},
		{name: "id with NUL", ev: Event{ID: "\x00"}, err: true},
		{name: "name with LF", ev: Event{Name: "a\n", Data: []byte("x")}, err: true},
		{name: "name with CR", ev: Event{Name: "\ra"}, err: true},
		{name: "name with NUL", ev: Event{Name: "a\x00"}, err: true},
		{name: "negative retry", ev: Event{Retry: -time.Millisecond}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix")
			got, err := AppendEvent(prefix, tt.ev)
			if tt.err {
				if !errors.Is(err, ErrInvalidEvent) {
					t.Fatalf("error %v, want ErrInvalidEvent", err)
				}
				if string(got) != "prefix" {
					t.Fatalf("dst changed to %q on error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix"+tt.want {
				t.Errorf("got %q, want %q", got, "prefix"+tt.want)
			}
		})
	}
}

func TestAppendComment(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", ":\n\n"},
		{"ping", ": ping\n\n"},
		{" x", ":  x\n\n"},
		{"a\nb", ": a\n: b\n\n"},
		{"a\r\nb\rc", ": a\n: b\n: c\n\n"},
		{"a\n", ": a\n:\n\n"},
	}
	for _, tt := range tests {
		if got := string(AppendComment([]byte("p"), tt.text)); got != "p"+tt.want {
			t.Errorf("AppendComment(%q) = %q, want %q", tt.text, got, "p"+tt.want)
		}
		// A comment is invisible to a reader.
		r := NewReader(strings.NewReader(string(AppendComment(nil, tt.text))+"data: x\n\n"), 0)
		if ev, err := r.Next(); err != nil || string(ev.Data) != "x" {
			t.Errorf("reading after comment %q: %+v, %v", tt.text, ev, err)
		}
	}
}

func TestAppendEventAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	data := []byte(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x\ny"}}`)
	multi := []byte("line 1\nline 2\r\nline 3\rline 4")
	if n := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = AppendEvent(buf[:0], Event{ID: "stream-1/42", Name: "message", Data: data, Retry: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		buf, _ = AppendEvent(buf[:0], Event{Data: multi})
		buf = AppendComment(buf[:0], "ping")
	}); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

// TestAppendDataLinear encodes data made of megabytes of CR, which a naive
// encoder searching for the next LF from each CR handles in quadratic time.
func TestAppendDataLinear(t *testing.T) {
	data := []byte(strings.Repeat("\r", 4<<20) + "\n")
	done := make(chan int, 1)
	go func() {
		b, _ := AppendEvent(nil, Event{Data: data})
		done <- len(b)
	}()
	select {
	case n := <-done:
		if want := len("data:\n")*(4<<20+1) + 1; n != want {
			t.Errorf("encoded %d bytes, want %d", n, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("encoding takes quadratic time")
	}
}

// unwrapper hides a ResponseWriter's Flush behind Unwrap, as middleware
// wrappers do.
type unwrapper struct{ rw http.ResponseWriter }

func (u unwrapper) Header() http.Header         { return u.rw.Header() }
func (u unwrapper) Write(b []byte) (int, error) { return u.rw.Write(b) }
func (u unwrapper) WriteHeader(code int)        { u.rw.WriteHeader(code) }
func (u unwrapper) Unwrap() http.ResponseWriter { return u.rw }

// noFlushRW is a ResponseWriter that cannot flush.
type noFlushRW struct {
	h http.Header
	bytes.Buffer
}

func (n *noFlushRW) Header() http.Header { return n.h }
func (n *noFlushRW) WriteHeader(int)     {}

// countFlush records writes and flushes.
type countFlush struct {
	bytes.Buffer
	flushes  int
	flushErr error
	writeErr error
}

func (c *countFlush) Write(b []byte) (int, error) {
	if c.writeErr != nil {
		return 0, c.writeErr
	}
	return c.Buffer.Write(b)
}

func (c *countFlush) FlushError() error { c.flushes++; return c.flushErr }

func TestWriter(t *testing.T) {
	const want = "id: 1\ndata: {}\n\n: ping\n\n"
	write := func(t *testing.T, w *Writer) {
		t.Helper()
		if err := w.Write(Event{ID: "1", Data: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
		if err := w.Comment("ping"); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("ResponseRecorder", func(t *testing.T) {
		rec := httptest.NewRecorder()
		write(t, NewWriter(rec))
		if rec.Body.String() != want || !rec.Flushed {
			t.Errorf("body %q, flushed %v", rec.Body.String(), rec.Flushed)
		}
	})
	t.Run("wrapped ResponseWriter", func(t *testing.T) {
		rec := httptest.NewRecorder()
		write(t, NewWriter(unwrapper{rec}))
		if rec.Body.String() != want || !rec.Flushed {
			t.Errorf("body %q, flushed %v", rec.Body.String(), rec.Flushed)
		}
	})
	t.Run("ResponseWriter without Flush", func(t *testing.T) {
		rw := &noFlushRW{h: http.Header{}}
		write(t, NewWriter(rw))
		if rw.String() != want {
			t.Errorf("body %q", rw.String())
		}
	})
	t.Run("bufio.Writer", func(t *testing.T) {
		var out bytes.Buffer
		write(t, NewWriter(bufio.NewWriter(&out)))
		if out.String() != want {
			t.Errorf("body %q: not flushed", out.String())
		}
	})
	t.Run("FlushError", func(t *testing.T) {
		cf := &countFlush{}
		write(t, NewWriter(cf))
		if cf.String() != want || cf.flushes != 2 {
			t.Errorf("body %q, %d flushes", cf.String(), cf.flushes)
		}
	})
	t.Run("plain writer", func(t *testing.T) {
		var out bytes.Buffer
		write(t, NewWriter(&out))
		if out.String() != want {
			t.Errorf("body %q", out.String())
		}
	})
	t.Run("invalid event", func(t *testing.T) {
		cf := &countFlush{}
		w := NewWriter(cf)
		if err := w.Write(Event{ID: "a\nb"}); !errors.Is(err, ErrInvalidEvent) {
			t.Fatalf("error %v", err)
		}
		if cf.Len() != 0 || cf.flushes != 0 {
			t.Fatalf("wrote %q, flushed %d times", cf.String(), cf.flushes)
		}
		write(t, w)
		if cf.String() != want {
			t.Errorf("body %q", cf.String())
		}
	})
	t.Run("write error is sticky", func(t *testing.T) {
		boom := errors.New("boom")
		cf := &countFlush{writeErr: boom}
		w := NewWriter(cf)
		if err := w.Write(Event{Data: []byte("x")}); err != boom {
			t.Fatalf("error %v", err)
		}
		cf.writeErr = nil
		if err := w.Write(Event{Data: []byte("x")}); err != boom {
			t.Fatalf("second error %v", err)
		}
		if err := w.Comment("x"); err != boom {
			t.Fatalf("comment error %v", err)
		}
		if cf.Len() != 0 || cf.flushes != 0 {
			t.Errorf("wrote %q, flushed %d times after an error", cf.String(), cf.flushes)
		}
	})
	t.Run("flush error is sticky", func(t *testing.T) {
		boom := errors.New("boom")
		cf := &countFlush{flushErr: boom}
		w := NewWriter(cf)
		if err := w.Comment("x"); err != boom {
			t.Fatalf("error %v", err)
		}
		cf.flushErr = nil
		if err := w.Comment("y"); err != boom {
			t.Fatalf("second error %v", err)
		}
		if cf.String() != ": x\n\n" {
			t.Errorf("body %q", cf.String())
		}
	})
	t.Run("large event buffer not retained", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out)
		big := bytes.Repeat([]byte("x"), 2*maxRetainedBuffer)
		if err := w.Write(Event{Data: big}); err != nil {
			t.Fatal(err)
		}
		if cap(w.buf) > maxRetainedBuffer {
			t.Errorf("kept a %d-byte buffer", cap(w.buf))
		}
		if out.Len() != len(big)+len("data: \n\n") {
			t.Errorf("wrote %d bytes", out.Len())
		}
	})
}

func TestWriterAllocs(t *testing.T) {
	w := NewWriter(httptest.NewRecorder())
	w.w = discard{}
	ev := Event{ID: "7", Data: []byte(`{"jsonrpc":"2.0","id":1,"result":{}}`)}
	if err := w.Write(ev); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
		if err := w.Comment("ping"); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

func TestIsEventStream(t *testing.T) {
	tests := []struct {
		ct   string
		want bool
	}{
		{"text/event-stream", true},
		{"TEXT/Event-Stream", true},
		{"text/event-stream; charset=utf-8", true},
		{"text/event-stream;charset=utf-8", true},
		{" text/event-stream ; x=y", true},
		{"\ttext/event-stream\t", true},
		{"text/event-stream;", true},
		{"", false},
		{"text/event-streams", false},
		{"text/event", false},
		{"application/json", false},
		{"text/event-stream, application/json", false},
		{"text/event-stream\n", false},
		{"text /event-stream", false},
		{"text/plain; x=text/event-stream", false},
	}
	for _, tt := range tests {
		if got := IsEventStream(tt.ct); got != tt.want {
			t.Errorf("IsEventStream(%q) = %v, want %v", tt.ct, got, tt.want)
		}
	}
}
