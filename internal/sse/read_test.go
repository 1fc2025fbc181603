package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readerCase is one parsing case: an input stream, the events and last
// event IDs Next should return for it, and the error that ends it.
type readerCase struct {
	name    string
	in      string
	max     int // 0: no particular limit
	want    []Event
	lastIDs []string // LastEventID after each event; nil: all ""
	err     error    // final error; nil: io.EOF
}

// msg is a data event.
func msg(data string) Event { return Event{Data: []byte(data), HasData: true} }

func withID(e Event, id string) Event { e.ID, e.HasID = id, true; return e }

func withName(e Event, name string) Event { e.Name = name; return e }

func withRetry(e Event, d time.Duration) Event { e.Retry, e.HasRetry = d, true; return e }

var readerCases = []readerCase{
	{name: "empty stream", in: ""},
	{name: "simple", in: "data: hello\n\n", want: []Event{msg("hello")}},
	{name: "no space after colon", in: "data:hello\n\n", want: []Event{msg("hello")}},
	{name: "only one space stripped", in: "data:  hello \n\n", want: []Event{msg(" hello ")}},
	{name: "tab not stripped", in: "data:\thello\n\n", want: []Event{msg("\thello")}},
	{name: "colon in value", in: "data: a: b:c\n\n", want: []Event{msg("a: b:c")}},
	{name: "multi-line data", in: "data: a\ndata: b\ndata: c\n\n", want: []Event{msg("a\nb\nc")}},
	{name: "empty data field without colon", in: "data\n\n", want: []Event{msg("")}},
	{name: "empty data field with colon", in: "data:\n\n", want: []Event{msg("")}},
	{name: "empty data field with space", in: "data: \n\n", want: []Event{msg("")}},
	{name: "two empty data lines", in: "data\ndata\n\n", want: []Event{msg("\n")}},
	{name: "trailing empty data line", in: "data: a\ndata:\n\n", want: []Event{msg("a\n")}},
	{name: "leading empty data line", in: "data:\ndata: a\n\n", want: []Event{msg("\na")}},
	{name: "two events", in: "data: 1\n\ndata: 2\n\n", want: []Event{msg("1"), msg("2")}},
	{name: "CRLF", in: "data: a\r\ndata: b\r\n\r\n", want: []Event{msg("a\nb")}},
	{name: "CR", in: "data: a\rdata: b\r\r", want: []Event{msg("a\nb")}},
	{name: "CRLF is one line ending", in: "data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n", want: []Event{msg("a\nb"), msg("c")}},
	{name: "LFCR is two line endings", in: "data: a\n\rdata: b\n\n", want: []Event{msg("a"), msg("b")}},
	{name: "mixed endings", in: "data: a\r\n\rdata: b\n\r\n", want: []Event{msg("a"), msg("b")}},
	{name: "CR CR LF", in: "data: a\r\r\n", want: []Event{msg("a")}},
	{name: "leading blank lines", in: "\n\r\n\rdata: x\n\n", want: []Event{msg("x")}},
	{name: "blank lines between events", in: "data: 1\n\n\n\n\r\n\rdata: 2\n\n", want: []Event{msg("1"), msg("2")}},
	{name: "NUL in data kept", in: "data: a\x00b\n\n", want: []Event{msg("a\x00b")}},
	{name: "invalid UTF-8 kept", in: "data: \xff\xfe\xc3\n\n", want: []Event{msg("\xff\xfe\xc3")}},

	{name: "event name", in: "event: endpoint\ndata: /message?sessionId=1\n\n", want: []Event{withName(msg("/message?sessionId=1"), "endpoint")}},
	{name: "event name message", in: "event: message\ndata: {}\n\n", want: []Event{withName(msg("{}"), "message")}},
	{name: "later event name wins", in: "event: a\nevent: b\ndata: x\n\n", want: []Event{withName(msg("x"), "b")}},
	{name: "empty event name", in: "event: a\nevent:\ndata: x\n\n", want: []Event{msg("x")}},
	{name: "event name does not persist", in: "event: a\ndata: 1\n\ndata: 2\n\n", want: []Event{withName(msg("1"), "a"), msg("2")}},
	{name: "event name only is not reported", in: "event: a\n\ndata: 1\n\n", want: []Event{msg("1")}},
	{name: "event name after data", in: "data: x\nevent: late\n\n", want: []Event{withName(msg("x"), "late")}},

	{name: "comment only", in: ": ping\n\n"},
	{name: "empty comment", in: ":\n\n"},
	{name: "comment inside block", in: "data: a\n: note\ndata: b\n\n", want: []Event{msg("a\nb")}},
	{name: "comment with colons", in: ":data: x\n\n"},
	{name: "comment without blank line at end", in: "data: a\n\n: bye\n", want: []Event{msg("a")}},
	{name: "unknown field", in: "foo: bar\ndata: x\n\n", want: []Event{msg("x")}},
	{name: "unknown field only", in: "foo: bar\n\n"},
	{name: "field names are case-sensitive", in: "Data: x\nID: 1\nRetry: 5\n\n"},
	{name: "field name with space", in: "data : x\n\n"},
	{name: "leading space is not a comment", in: " : x\ndata: y\n\n", want: []Event{msg("y")}},

	{name: "priming event", in: "id: 5\ndata: \n\n", want: []Event{withID(msg(""), "5")}, lastIDs: []string{"5"}},
	{name: "id only", in: "id: 7\n\n", want: []Event{withID(Event{}, "7")}, lastIDs: []string{"7"}},
	{name: "id persists", in: "id: 1\ndata: a\n\ndata: b\n\n", want: []Event{withID(msg("a"), "1"), msg("b")}, lastIDs: []string{"1", "1"}},
	{name: "empty id resets", in: "id: 1\ndata: a\n\nid\ndata: b\n\n", want: []Event{withID(msg("a"), "1"), withID(msg("b"), "")}, lastIDs: []string{"1", ""}},
	{name: "empty id with colon", in: "id: 1\n\nid:\n\n", want: []Event{withID(Event{}, "1"), withID(Event{}, "")}, lastIDs: []string{"1", ""}},
	{name: "later id wins", in: "id: 1\nid: 2\ndata: x\n\n", want: []Event{withID(msg("x"), "2")}, lastIDs: []string{"2"}},
	{name: "id with colon and spaces", in: "id:  a:b \n\n", want: []Event{withID(Event{}, " a:b ")}, lastIDs: []string{" a:b "}},
	{name: "id with NUL ignored", in: "id: a\x00b\ndata: x\n\n", want: []Event{msg("x")}},
	{name: "id with NUL keeps earlier id", in: "id: 1\nid: \x00\ndata: x\n\n", want: []Event{withID(msg("x"), "1")}, lastIDs: []string{"1"}},
	{name: "id with NUL only is not reported", in: "id: \x00\n\ndata: x\n\n", want: []Event{msg("x")}},
	{name: "same id twice", in: "id: 3\ndata: a\n\nid: 3\ndata: b\n\n", want: []Event{withID(msg("a"), "3"), withID(msg("b"), "3")}, lastIDs: []string{"3", "3"}},

	{name: "retry only", in: "retry: 1500\n\n", want: []Event{withRetry(Event{}, 1500*time.Millisecond)}},
	{name: "retry zero", in: "retry: 0\n\n", want: []Event{withRetry(Event{}, 0)}},
	{name: "retry leading zeros", in: "retry: 0010\n\n", want: []Event{withRetry(Event{}, 10*time.Millisecond)}},
	{name: "retry with data and id", in: "retry: 3000\nid: 9\ndata: x\n\n", want: []Event{withRetry(withID(msg("x"), "9"), 3*time.Second)}, lastIDs: []string{"9"}},
	{name: "later retry wins", in: "retry: 1\nretry: 2\n\n", want: []Event{withRetry(Event{}, 2*time.Millisecond)}},
	{name: "invalid retry keeps earlier", in: "retry: 1\nretry: x\n\n", want: []Event{withRetry(Event{}, time.Millisecond)}},
	{name: "retry not digits", in: "retry: 15a\n\n"},
	{name: "retry empty", in: "retry:\n\nretry\n\n"},
	{name: "retry negative", in: "retry: -1\n\n"},
	{name: "retry plus sign", in: "retry: +1\n\n"},
	{name: "retry fraction", in: "retry: 1.5\n\n"},
	{name: "retry extra space", in: "retry:  10\n\n"},
	{name: "retry trailing space", in: "retry: 10 \n\n"},
	{name: "retry unicode digit", in: "retry: \u0661\n\n"},
	{name: "retry saturates", in: "retry: 99999999999999999999999999\n\n", want: []Event{withRetry(Event{}, math.MaxInt64)}},
	{name: "retry largest exact", in: fmt.Sprintf("retry: %d\n\n", math.MaxInt64/int64(time.Millisecond)), want: []Event{withRetry(Event{}, time.Duration(math.MaxInt64/int64(time.Millisecond))*time.Millisecond)}},
	{name: "retry just above", in: fmt.Sprintf("retry: %d\n\n", math.MaxInt64/int64(time.Millisecond)+1), want: []Event{withRetry(Event{}, math.MaxInt64)}},

	{name: "BOM skipped", in: "\xEF\xBB\xBFdata: x\n\n", want: []Event{msg("x")}},
	{name: "BOM before comment", in: "\xEF\xBB\xBF: hi\ndata: x\n\n", want: []Event{msg("x")}},
	{name: "BOM only", in: "\xEF\xBB\xBF"},
	{name: "second BOM not skipped", in: "\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n", want: []Event{msg("y")}},
	{name: "BOM later not skipped", in: "data: a\n\n\xEF\xBB\xBFdata: b\n\n", want: []Event{msg("a")}},
	{name: "partial BOM", in: "\xEF\xBBdata: x\n\ndata: y\n\n", want: []Event{msg("y")}},
	{name: "BOM in data kept", in: "data: \xEF\xBB\xBFx\n\n", want: []Event{msg("\xEF\xBB\xBFx")}},

	{name: "unterminated last event", in: "data: a\n\ndata: b\n", want: []Event{msg("a")}, err: io.ErrUnexpectedEOF},
	{name: "unterminated last line", in: "data: a\n\ndata: b", want: []Event{msg("a")}, err: io.ErrUnexpectedEOF},
	{name: "unterminated id is not learned", in: "id: 1\n\nid: 2\n", want: []Event{withID(Event{}, "1")}, lastIDs: []string{"1"}, err: io.ErrUnexpectedEOF},
	{name: "unterminated comment", in: "data: a\n\n: bye", want: []Event{msg("a")}, err: io.ErrUnexpectedEOF},
	{name: "unterminated unknown field", in: "x\n", err: io.ErrUnexpectedEOF},
	{name: "ends with CR", in: "data: a\r\r", want: []Event{msg("a")}},
	{name: "ends after single CR", in: "data: a\r", err: io.ErrUnexpectedEOF},

	{name: "limit exact", in: "data: 0123\n\n", max: 10, want: []Event{msg("0123")}},
	{name: "limit exceeded", in: "data: 01234\n\n", max: 10, err: ErrEventTooLarge},
	{name: "limit counts all lines", in: "data: 01\ndata: 2\n\n", max: 14, err: ErrEventTooLarge},
	{name: "limit all lines exact", in: "data: 01\ndata: 2\n\n", max: 15, want: []Event{msg("01\n2")}},
	{name: "limit counts fields", in: "id: 12345\ndata\n\n", max: 12, err: ErrEventTooLarge},
	{name: "limit counts unknown fields", in: "foo: barbaz\ndata: x\n\n", max: 10, err: ErrEventTooLarge},
	{name: "limit ignores line endings", in: "data: 0\r\ndata: 1\r\n\r\n", max: 14, want: []Event{msg("0\n1")}},
	{name: "limit per event", in: "data: 0123\n\ndata: 4567\n\n", max: 10, want: []Event{msg("0123"), msg("4567")}},
	{name: "limit resets after unreported block", in: "event: 012\n\ndata: 0123\n\n", max: 10, want: []Event{msg("0123")}},
	{name: "limit ignores comments", in: ": " + strings.Repeat("c", 100) + "\ndata: x\n\n", max: 10, want: []Event{msg("x")}},
	{name: "limit events before", in: "data: a\n\ndata: " + strings.Repeat("x", 100) + "\n\ndata: b\n\n", max: 20, want: []Event{msg("a")}, err: ErrEventTooLarge},
	{name: "limit unterminated line", in: "data: " + strings.Repeat("x", 100), max: 20, err: ErrEventTooLarge},
	{name: "limit unterminated line within", in: "data: xx", max: 20, err: io.ErrUnexpectedEOF},
	{name: "limit of one", in: "\n\n:comment\n", max: 1},
}

// chunkReader returns its data in pieces of the given sizes, cycling
// through them.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(c.sizes[c.i%len(c.sizes)], len(p), len(c.data))
	c.i++
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// readerShapes wraps a stream's bytes in readers that deliver them in
// different pieces, so that every case is also parsed with its lines, line
// endings and BOM split across reads.
var readerShapes = []struct {
	name string
	make func(s string) io.Reader
}{
	{"whole", func(s string) io.Reader { return strings.NewReader(s) }},
	{"OneByteReader", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
	{"HalfReader", func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) }},
	{"DataErrReader", func(s string) io.Reader { return iotest.DataErrReader(strings.NewReader(s)) }},
	{"chunks 2,3", func(s string) io.Reader { return &chunkReader{data: []byte(s), sizes: []int{2, 3}} }},
}

// readAll calls Next until it fails, returning the events, the last event
// ID after each, and the error.
func readAll(r *Reader) ([]Event, []string, error) {
	var evs []Event
	var ids []string
	for {
		ev, err := r.Next()
		if err != nil {
			return evs, ids, err
		}
		evs = append(evs, ev)
		ids = append(ids, r.LastEventID())
	}
}

func eventsEqual(a, b Event) bool {
	return a.ID == b.ID && a.HasID == b.HasID && a.Name == b.Name &&
		bytes.Equal(a.Data, b.Data) && a.HasData == b.HasData &&
		a.Retry == b.Retry && a.HasRetry == b.HasRetry
}

func checkEvents(t *testing.T, got, want []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range got {
		if !eventsEqual(got[i], want[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestReader(t *testing.T) {
	for _, tc := range readerCases {
		for _, shape := range readerShapes {
			t.Run(tc.name+"/"+shape.name, func(t *testing.T) {
				r := NewReader(shape.make(tc.in), tc.max)
				got, ids, err := readAll(r)
				wantErr := tc.err
				if wantErr == nil {
					wantErr = io.EOF
				}
				if err != wantErr {
					t.Errorf("error %v, want %v", err, wantErr)
				}
				checkEvents(t, got, tc.want)
				wantIDs := tc.lastIDs
				if wantIDs == nil {
					wantIDs = make([]string, len(tc.want))
				}
				if fmt.Sprint(ids) != fmt.Sprint(wantIDs) {
					t.Errorf("last event IDs %q, want %q", ids, wantIDs)
				}
				for _, ev := range got {
					if ev.Data != nil && len(ev.Data) == 0 {
						t.Errorf("empty Data is not nil: %+v", ev)
					}
				}
			})
		}
	}
}

// TestReaderSplits parses each case with its input split in two at every
// position, the first part delivered by one Read and the rest by the next.
func TestReaderSplits(t *testing.T) {
	for _, tc := range readerCases {
		if len(tc.in) > 200 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i <= len(tc.in); i++ {
				r := NewReader(&chunkReader{data: []byte(tc.in), sizes: []int{i, len(tc.in)}}, tc.max)
				got, _, err := readAll(r)
				if (tc.err == nil && err != io.EOF) || (tc.err != nil && err != tc.err) {
					t.Fatalf("split at %d: error %v", i, err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("split at %d: got %+v, want %+v", i, got, tc.want)
				}
				for j := range got {
					if !eventsEqual(got[j], tc.want[j]) {
						t.Fatalf("split at %d: event %d: got %+v, want %+v", i, j, got[j], tc.want[j])
					}
				}
			}
		})
	}
}

func TestReaderErrorsAreSticky(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		err  error
	}{
		{"EOF", "data: a\n\n", 0, io.EOF},
		{"unexpected EOF", "data: a\n\ndata: b", 0, io.ErrUnexpectedEOF},
		{"too large", "data: a\n\ndata: 0123456789\n\ndata: b\n\n", 10, ErrEventTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in), tt.max)
			if _, err := r.Next(); err != nil {
				t.Fatalf("first Next: %v", err)
			}
			for i := range 3 {
				if ev, err := r.Next(); err != tt.err {
					t.Fatalf("call %d: %+v, %v; want %v", i, ev, err, tt.err)
				}
			}
		})
	}
}

// errAfter returns its data, then err on every later Read.
type errAfter struct {
	data  string
	err   error
	reads int
}

func (e *errAfter) Read(p []byte) (int, error) {
	e.reads++
	if e.data == "" {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

func TestReaderUnderlyingErrors(t *testing.T) {
	boom := errors.New("boom")
	t.Run("error after events", func(t *testing.T) {
		src := &errAfter{data: "data: a\n\ndata: b", err: boom}
		r := NewReader(src, 0)
		got, _, err := readAll(r)
		if err != boom {
			t.Fatalf("error %v, want %v", err, boom)
		}
		checkEvents(t, got, []Event{msg("a")})
		reads := src.reads
		if _, err := r.Next(); err != boom {
			t.Fatalf("second error %v", err)
		}
		if src.reads != reads {
			t.Errorf("Next read again after a read error")
		}
	})
	t.Run("timeout", func(t *testing.T) {
		r := NewReader(iotest.TimeoutReader(strings.NewReader("data: a\n\ndata: b\n\n")), 0)
		got, _, err := readAll(r)
		if err != iotest.ErrTimeout {
			t.Fatalf("error %v, want ErrTimeout", err)
		}
		checkEvents(t, got, []Event{msg("a"), msg("b")})
	})
	t.Run("no progress", func(t *testing.T) {
		r := NewReader(readerFunc(func([]byte) (int, error) { return 0, nil }), 0)
		if _, err := r.Next(); err != io.ErrNoProgress {
			t.Fatalf("error %v, want io.ErrNoProgress", err)
		}
	})
	for _, n := range []int{-1, 1 << 30} {
		t.Run(fmt.Sprintf("bad count %d", n), func(t *testing.T) {
			r := NewReader(readerFunc(func([]byte) (int, error) { return n, nil }), 0)
			if _, err := r.Next(); err != errBadRead {
				t.Fatalf("error %v, want errBadRead", err)
			}
		})
	}
	t.Run("data with error", func(t *testing.T) {
		done := false
		r := NewReader(readerFunc(func(p []byte) (int, error) {
			if done {
				t.Fatal("Read called after returning an error")
			}
			done = true
			return copy(p, "data: x\n\n"), boom
		}), 0)
		got, _, err := readAll(r)
		if err != boom {
			t.Fatalf("error %v", err)
		}
		checkEvents(t, got, []Event{msg("x")})
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// countingReader counts the bytes it delivers.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// endless repeats a pattern, forever if limit is 0 and otherwise until
// about limit bytes have been read.
type endless struct {
	head, pattern string
	off           int
	limit, n      int
}

func (e *endless) Read(p []byte) (n int, err error) {
	if e.limit > 0 {
		if e.n >= e.limit {
			return 0, io.EOF
		}
		defer func() { e.n += n }()
	}
	for n < len(p) {
		if e.head != "" {
			c := copy(p[n:], e.head)
			e.head = e.head[c:]
			n += c
			continue
		}
		c := copy(p[n:], e.pattern[e.off:])
		e.off = (e.off + c) % len(e.pattern)
		n += c
	}
	return n, nil
}

// TestReaderLimitBoundsReading checks that an endless line, or an endless
// block, fails as soon as it passes the limit, without reading or
// buffering much more than the limit.
func TestReaderLimitBoundsReading(t *testing.T) {
	const limit = 100 << 10
	for _, tc := range []struct{ name, head, pattern string }{
		{"endless line", "data: ", "x"},
		{"endless block", "", "data: xxxxxxxxxxxxxxxx\n"},
		{"endless CR block", "", "data\r"},
		{"endless unknown fields", "", "f\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &countingReader{r: &endless{head: tc.head, pattern: tc.pattern, limit: 10 * limit}}
			r := NewReader(src, limit)
			if _, err := r.Next(); err != ErrEventTooLarge {
				t.Fatalf("error %v, want ErrEventTooLarge", err)
			}
			if src.n > 3*limit {
				t.Errorf("read %d bytes for a limit of %d", src.n, limit)
			}
			if len(r.buf) > limit+1 || cap(r.data) > 2*limit {
				t.Errorf("buffers grew to %d and %d for a limit of %d", len(r.buf), cap(r.data), limit)
			}
		})
	}
}

// TestReaderLongComment checks that comments are skipped as they arrive:
// a comment far longer than the limit neither fails nor grows the buffer.
func TestReaderLongComment(t *testing.T) {
	in := ": " + strings.Repeat("c", 1<<20) + "\r" + ":" + strings.Repeat("d", 1<<20) + "\ndata: ok\n\n"
	r := NewReader(strings.NewReader(in), 16)
	got, _, err := readAll(r)
	if err != io.EOF {
		t.Fatalf("error %v", err)
	}
	checkEvents(t, got, []Event{msg("ok")})
	if len(r.buf) > initialBufferSize {
		t.Errorf("buffer grew to %d", len(r.buf))
	}
}

// TestReaderLargeEvent checks events longer than the initial buffer, and
// that buffers are released after them.
func TestReaderLargeEvent(t *testing.T) {
	big := strings.Repeat("0123456789", 100<<10)
	in := "id: 1\ndata: " + big + "\ndata: " + big + "\n\ndata: small\n\n"
	for _, shape := range readerShapes[:3] {
		t.Run(shape.name, func(t *testing.T) {
			r := NewReader(shape.make(in), 0)
			ev, err := r.Next()
			if err != nil || string(ev.Data) != big+"\n"+big || ev.ID != "1" {
				t.Fatalf("big event: %d bytes, id %q, %v", len(ev.Data), ev.ID, err)
			}
			ev, err = r.Next()
			if err != nil || string(ev.Data) != "small" {
				t.Fatalf("small event: %+v, %v", ev, err)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("end: %v", err)
			}
			if cap(r.data) > maxRetainedBuffer || len(r.buf) > maxRetainedBuffer {
				t.Errorf("buffers kept: data %d, line %d", cap(r.data), len(r.buf))
			}
		})
	}
}

// TestReaderDataIsOwned checks that returned data does not alias the
// reader's buffers.
func TestReaderDataIsOwned(t *testing.T) {
	r := NewReader(strings.NewReader("data: aaaa\n\ndata: bbbb\n\n"), 0)
	first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if string(first.Data) != "aaaa" {
		t.Errorf("first event's data changed to %q", first.Data)
	}
}

// TestReaderLinear parses inputs that a naive line scanner handles in
// quadratic time: a buffer-filling event followed by megabytes of CR-only
// lines, which must not each trigger a search for LF through the buffer.
func TestReaderLinear(t *testing.T) {
	in := "data: " + strings.Repeat("x", 4<<20) + "\n" + strings.Repeat("\r", 4<<20) + "data: y\n\n"
	done := make(chan error, 1)
	go func() {
		r := NewReader(strings.NewReader(in), 0)
		got, _, err := readAll(r)
		if err == io.EOF && len(got) != 2 {
			err = fmt.Errorf("got %d events", len(got))
		} else if err == io.EOF {
			err = nil
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("parsing takes quadratic time")
	}
}

func TestSetLastEventID(t *testing.T) {
	r := NewReader(strings.NewReader("data: a\n\nid: 2\n\n"), 0)
	r.SetLastEventID("1")
	if _, err := r.Next(); err != nil || r.LastEventID() != "1" {
		t.Fatalf("after first event: %q, %v", r.LastEventID(), err)
	}
	if _, err := r.Next(); err != nil || r.LastEventID() != "2" {
		t.Fatalf("after second event: %q, %v", r.LastEventID(), err)
	}
}

func TestReaderAllocs(t *testing.T) {
	const ev = "id: 42\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n"
	src := &endless{pattern: ev}
	r := NewReader(src, 0)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	// One allocation for the data; the id repeats the last one and the
	// name is a constant.
	if n := testing.AllocsPerRun(100, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Errorf("%v allocations per event, want at most 1", n)
	}
}

func TestEventType(t *testing.T) {
	if got := (Event{}).Type(); got != "message" {
		t.Errorf("Type of unnamed event = %q", got)
	}
	if got := (Event{Name: "endpoint"}).Type(); got != "endpoint" {
		t.Errorf("Type of named event = %q", got)
	}
}
