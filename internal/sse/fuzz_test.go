package sse

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"testing/iotest"
	"time"
)

// refParse is a reference parser for differential testing: a literal,
// whole-input transcription of the standard's algorithm (data buffer with a
// trailing LF, last event ID buffer) plus this package's reporting rules
// and size limit. It shares no code with Reader.
func refParse(in []byte, limit int) (evs []Event, lastIDs []string, err error) {
	in = bytes.TrimPrefix(in, []byte("\xEF\xBB\xBF"))

	var (
		dataBuf   []byte
		eventType string
		id        string
		hasID     bool
		retry     time.Duration
		hasRetry  bool
		lastID    string
		size      int
		pending   bool
	)
	for len(in) > 0 {
		i := bytes.IndexAny(in, "\r\n")
		if i < 0 {
			// A partial line at the end of the stream.
			if in[0] != ':' && size+len(in) > limit {
				return evs, lastIDs, ErrEventTooLarge
			}
			return evs, lastIDs, io.ErrUnexpectedEOF
		}
		line := in[:i]
		if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
			i++
		}
		in = in[i+1:]

		switch {
		case len(line) == 0:
			if hasID {
				lastID = id
			}
			if len(dataBuf) > 0 || hasID || hasRetry {
				ev := Event{ID: id, HasID: hasID, Name: eventType, Retry: retry, HasRetry: hasRetry}
				if len(dataBuf) > 0 {
					ev.HasData = true
					ev.Data = dataBuf[:len(dataBuf)-1]
				}
				evs = append(evs, ev)
				lastIDs = append(lastIDs, lastID)
			}
			dataBuf, eventType, id, hasID, retry, hasRetry = nil, "", "", false, 0, false
			size, pending = 0, false
			continue
		case line[0] == ':':
			continue
		}
		size += len(line)
		if size > limit {
			return evs, lastIDs, ErrEventTooLarge
		}
		pending = true
		name, value := string(line), ""
		if c := bytes.IndexByte(line, ':'); c >= 0 {
			name, value = string(line[:c]), string(line[c+1:])
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch name {
		case "event":
			eventType = value
		case "data":
			dataBuf = append(dataBuf, value...)
			dataBuf = append(dataBuf, '\n')
		case "id":
			if !bytes.Contains([]byte(value), []byte{0}) {
				id, hasID = value, true
			}
		case "retry":
			digits := value != ""
			for _, c := range []byte(value) {
				if c < '0' || c > '9' {
					digits = false
				}
			}
			if digits {
				n, err := strconv.ParseUint(value, 10, 64)
				if err != nil || n > math.MaxInt64/uint64(time.Millisecond) {
					retry = math.MaxInt64
				} else {
					retry = time.Duration(n) * time.Millisecond
				}
				hasRetry = true
			}
		}
	}
	if pending {
		return evs, lastIDs, io.ErrUnexpectedEOF
	}
	return evs, lastIDs, io.EOF
}

// TestRefParse checks the reference parser itself against the table.
func TestRefParse(t *testing.T) {
	for _, tc := range readerCases {
		limit := tc.max
		if limit == 0 {
			limit = DefaultMaxEventSize
		}
		evs, _, err := refParse([]byte(tc.in), limit)
		wantErr := tc.err
		if wantErr == nil {
			wantErr = io.EOF
		}
		if err != wantErr || len(evs) != len(tc.want) {
			t.Errorf("%s: got %+v, %v", tc.name, evs, err)
			continue
		}
		for i := range evs {
			if !eventsEqual(evs[i], tc.want[i]) {
				t.Errorf("%s: event %d: got %+v, want %+v", tc.name, i, evs[i], tc.want[i])
			}
		}
	}
}

// FuzzReader parses arbitrary streams, whole and a byte at a time, and
// checks that the Reader never panics, agrees with the reference parser,
// and never returns an event larger than its limit.
func FuzzReader(f *testing.F) {
	for _, tc := range readerCases {
		f.Add([]byte(tc.in), uint16(tc.max))
	}
	f.Add([]byte("id: 1\r\nretry: 10\r\n\r\ndata: a\rdata: b\r\r: c\n"), uint16(0))
	f.Add([]byte("\xEF\xBB\xBF\r\n\r\ndata:\xEF\xBB\xBF\n\n"), uint16(12))
	f.Fuzz(func(t *testing.T, in []byte, lim uint16) {
		limit := int(lim)
		if limit == 0 {
			limit = 1 << 20
		}
		wantEvs, wantIDs, wantErr := refParse(in, limit)
		type shape struct {
			name string
			r    io.Reader
		}
		shapes := []shape{
			{"whole", bytes.NewReader(in)},
			{"HalfReader", iotest.HalfReader(bytes.NewReader(in))},
			{"chunks", &chunkReader{data: in, sizes: []int{1, 3, 2, 7, 1, 64}}},
		}
		if len(in) <= 1024 {
			// Byte by byte is thorough but slow, which matters when the
			// fuzzer minimizes a long input.
			shapes = append(shapes, shape{"OneByteReader", iotest.OneByteReader(bytes.NewReader(in))})
		}
		for _, shape := range shapes {
			r := NewReader(shape.r, limit)
			evs, ids, err := readAll(r)
			if err != wantErr {
				t.Fatalf("%s: error %v, want %v", shape.name, err, wantErr)
			}
			if len(evs) != len(wantEvs) {
				t.Fatalf("%s: got %d events %+v, want %d %+v", shape.name, len(evs), evs, len(wantEvs), wantEvs)
			}
			for i := range evs {
				if !eventsEqual(evs[i], wantEvs[i]) {
					t.Fatalf("%s: event %d: got %+v, want %+v", shape.name, i, evs[i], wantEvs[i])
				}
				if ids[i] != wantIDs[i] {
					t.Fatalf("%s: last event ID after %d: %q, want %q", shape.name, i, ids[i], wantIDs[i])
				}
				if n := len(evs[i].ID) + len(evs[i].Name) + len(evs[i].Data); n > limit {
					t.Fatalf("%s: event %d holds %d bytes, limit %d", shape.name, i, n, limit)
				}
				if !evs[i].HasData && !evs[i].HasID && !evs[i].HasRetry {
					t.Fatalf("%s: event %d reports nothing: %+v", shape.name, i, evs[i])
				}
			}
			if len(r.buf) > max(limit+1, initialBufferSize) {
				t.Fatalf("%s: line buffer grew to %d for a limit of %d", shape.name, len(r.buf), limit)
			}
		}
	})
}

// normalizeEOL returns data with CRLF and CR replaced by LF, which is what
// a reader receives for data written by AppendEvent.
func normalizeEOL(data []byte) []byte {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
}

// expectRead returns what a Reader should return for e written by
// AppendEvent, and whether it returns anything.
func expectRead(e Event) (Event, bool) {
	want := Event{
		ID:       e.ID,
		HasID:    e.HasID || e.ID != "",
		Name:     e.Name,
		Data:     normalizeEOL(e.Data),
		HasData:  e.HasData || len(e.Data) > 0,
		Retry:    e.Retry.Truncate(time.Millisecond),
		HasRetry: e.HasRetry || e.Retry != 0,
	}
	return want, want.HasID || want.HasData || want.HasRetry
}

// checkRoundTrip writes events and comments with AppendEvent and
// AppendComment and reads them back.
func checkRoundTrip(t *testing.T, evs []Event, comments []string) {
	t.Helper()
	var stream []byte
	var want []Event
	var wantIDs []string
	lastID := ""
	for i, e := range evs {
		if i < len(comments) {
			stream = AppendComment(stream, comments[i])
		}
		var err error
		before := len(stream)
		stream, err = AppendEvent(stream, e)
		if err != nil {
			if !errors.Is(err, ErrInvalidEvent) || len(stream) != before {
				t.Fatalf("AppendEvent(%+v): %v, wrote %q", e, err, stream[before:])
			}
			if !badField(e.ID) && !badField(e.Name) && e.Retry >= 0 {
				t.Fatalf("AppendEvent(%+v) rejected a valid event: %v", e, err)
			}
			continue
		}
		if badField(e.ID) || badField(e.Name) || e.Retry < 0 {
			t.Fatalf("AppendEvent(%+v) accepted an invalid event", e)
		}
		if w, ok := expectRead(e); ok {
			want = append(want, w)
			if w.HasID {
				lastID = w.ID
			}
			wantIDs = append(wantIDs, lastID)
		}
	}
	for _, shape := range []struct {
		name string
		r    io.Reader
	}{
		{"whole", bytes.NewReader(stream)},
		{"OneByteReader", iotest.OneByteReader(bytes.NewReader(stream))},
	} {
		got, ids, err := readAll(NewReader(shape.r, len(stream)+1))
		if err != io.EOF {
			t.Fatalf("%s: reading %q: %v", shape.name, stream, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: reading %q: got %+v, want %+v", shape.name, stream, got, want)
		}
		for i := range got {
			if !eventsEqual(got[i], want[i]) || ids[i] != wantIDs[i] {
				t.Fatalf("%s: reading %q: event %d: got %+v (last id %q), want %+v (%q)", shape.name, stream, i, got[i], ids[i], want[i], wantIDs[i])
			}
		}
	}
}

// FuzzRoundTrip encodes arbitrary events and checks that they read back
// as written, or are rejected exactly when they cannot be encoded.
func FuzzRoundTrip(f *testing.F) {
	f.Add("1", "", []byte(`{"jsonrpc":"2.0"}`), int64(0), uint8(0), "ping")
	f.Add("", "", []byte(nil), int64(1500e6), uint8(0), "")
	f.Add("5", "", []byte(nil), int64(0), uint8(1), "")
	f.Add("", "", []byte(nil), int64(0), uint8(2|4), "a\r\nb")
	f.Add(" x", "endpoint", []byte("a\r\nb\rc\n\n"), int64(1), uint8(0), "")
	f.Add("a\nb", "x\r", []byte("\x00"), int64(-1), uint8(7), "\n")
	f.Add("\xEF\xBB\xBF", "\xEF\xBB\xBF", []byte("\xEF\xBB\xBF\r"), int64(0), uint8(0), "\xEF\xBB\xBF")
	f.Fuzz(func(t *testing.T, id, name string, data []byte, retry int64, flags uint8, comment string) {
		e := Event{
			ID: id, HasID: flags&1 != 0,
			Name: name,
			Data: data, HasData: flags&2 != 0,
			Retry: time.Duration(retry), HasRetry: flags&4 != 0,
		}
		// The event alone, then after a comment and between others.
		checkRoundTrip(t, []Event{e}, nil)
		checkRoundTrip(t, []Event{{Data: []byte("before")}, e, {ID: "after", Data: data}}, []string{"", comment, comment})
	})
}

// TestRoundTripRandom writes streams of random events, with data rich in
// line endings, and reads them back.
func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab :\r\n\x00\xEF\xBB\xBF{}\"")
	randBytes := func(n int) []byte {
		b := make([]byte, rng.IntN(n+1))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return b
	}
	for range 2000 {
		n := rng.IntN(6)
		evs := make([]Event, n)
		comments := make([]string, n)
		for i := range evs {
			evs[i] = Event{
				ID: string(randBytes(4)), HasID: rng.IntN(2) == 0,
				Name: string(randBytes(3)),
				Data: randBytes(40), HasData: rng.IntN(2) == 0,
				Retry: time.Duration(rng.Int64N(1e12) - 1e9), HasRetry: rng.IntN(4) == 0,
			}
			if rng.IntN(3) == 0 {
				comments[i] = string(randBytes(5))
			}
		}
		checkRoundTrip(t, evs, comments)
	}
}
