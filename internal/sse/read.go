package sse

import (
	"bytes"
	"errors"
	"io"
	"math"
	"time"
)

// initialBufferSize is the size of a Reader's line buffer, which grows to
// hold longer lines (up to the event size limit).
const initialBufferSize = 4096

// maxEmptyReads bounds how many times in a row the underlying reader may
// return no bytes and no error before Next gives up with io.ErrNoProgress.
const maxEmptyReads = 100

var errBadRead = errors.New("sse: underlying reader returned an invalid count")

var bom = []byte("\xEF\xBB\xBF")

// Reader parses an event stream. It is not safe for concurrent use.
type Reader struct {
	rd  io.Reader
	max int

	// buf[r:w] holds bytes read but not yet parsed.
	buf  []byte
	r, w int
	rerr error // error from rd, reported once buf[r:w] is used up

	// lf is the index in buf of the next LF at or after the parse
	// position, or -1 when buf[r:lfEnd] is known to hold none. Caching it
	// keeps a stream of CR-terminated lines from being rescanned for LF
	// once per line.
	lf, lfEnd int

	skipLF  bool // the last line ended with CR: skip an LF that follows
	started bool // the leading BOM has been dealt with

	err    error  // sticky error returned by Next
	lastID string // the last event ID
	data   []byte // the data buffer of the current block
}

// NewReader returns a Reader parsing the event stream read from r.
//
// maxEventSize bounds the size of one event, counted as the total length,
// without line terminators, of the lines of its block other than
// comments. (This bounds the memory an event takes: its ID, Name and Data
// together are never longer.) A non-positive maxEventSize means
// [DefaultMaxEventSize]. Comment lines are skipped as they are read and
// are not limited.
func NewReader(r io.Reader, maxEventSize int) *Reader {
	if maxEventSize <= 0 {
		maxEventSize = DefaultMaxEventSize
	}
	return &Reader{rd: r, max: maxEventSize, lf: -1}
}

// LastEventID returns the last event ID: the value of the id field of the
// last terminated block that had one, or the value given to
// [Reader.SetLastEventID]. Clients send it in the Last-Event-ID header when
// they reconnect. The ID comes from the server unchecked apart from NUL:
// it may hold other control characters, which net/http refuses in a header
// value, so a client should check it before sending it.
func (r *Reader) LastEventID() string { return r.lastID }

// SetLastEventID sets the last event ID, for a client that resumes a
// stream on a new connection with the ID it learned from the previous one.
func (r *Reader) SetLastEventID(id string) { r.lastID = id }

// Next returns the next event of the stream: the next block holding a data
// line, an id field or a retry field (see the package documentation).
//
// At the end of the stream, Next returns io.EOF if the stream ended after a
// complete block (comments may follow it), or io.ErrUnexpectedEOF if it
// ended inside a line or a block, whose fields are then discarded. An
// event larger than the limit yields [ErrEventTooLarge]. Other errors come
// from the underlying reader. Once Next has returned an error, it returns
// the same error on every later call.
//
// Comments, blank lines and blocks that are not reported are consumed
// without returning, so a server can keep Next reading indefinitely:
// bound the stream with a deadline or a request context.
func (r *Reader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	if !r.started {
		r.skipBOM()
	}
	var ev Event
	size := 0        // length of the block's non-comment lines
	pending := false // the block has had a non-comment line
	r.data = r.data[:0]
	for {
		line, comment, err := r.readLine(r.max - size)
		if err != nil {
			if err == io.EOF && pending {
				err = io.ErrUnexpectedEOF
			}
			r.err = err
			r.data, r.buf = nil, nil
			return Event{}, err
		}
		if comment {
			continue
		}
		if len(line) > 0 {
			size += len(line)
			pending = true
			r.field(&ev, line)
			continue
		}
		// A blank line terminates the block.
		if ev.HasID {
			r.lastID = ev.ID
		}
		if ev.HasData || ev.HasID || ev.HasRetry {
			if len(r.data) > 0 {
				ev.Data = make([]byte, len(r.data))
				copy(ev.Data, r.data)
			}
			if cap(r.data) > maxRetainedBuffer {
				r.data = nil
			}
			return ev, nil
		}
		ev = Event{}
		size = 0
		pending = false
		r.data = r.data[:0]
	}
}

// field processes one non-blank, non-comment line of a block.
func (r *Reader) field(ev *Event, line []byte) {
	name, value := line, line[len(line):]
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		if ev.HasData {
			r.data = append(r.data, '\n')
		}
		r.data = append(r.data, value...)
		ev.HasData = true
	case "event":
		ev.Name = eventName(value)
	case "id":
		if bytes.IndexByte(value, 0) >= 0 {
			return // ignored, as the standard requires
		}
		switch {
		case string(value) == ev.ID:
			// Repeated id line: keep the string already made.
		case string(value) == r.lastID:
			ev.ID = r.lastID
		default:
			ev.ID = string(value)
		}
		ev.HasID = true
	case "retry":
		if d, ok := parseRetry(value); ok {
			ev.Retry, ev.HasRetry = d, true
		}
	}
}

// eventName returns b as a string, without allocating for the event names
// MCP uses.
func eventName(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "message":
		return "message"
	case "endpoint":
		return "endpoint"
	}
	return string(b)
}

// parseRetry parses a retry field value: one or more ASCII digits, a number
// of milliseconds. Values too large for a time.Duration saturate.
func parseRetry(v []byte) (time.Duration, bool) {
	if len(v) == 0 {
		return 0, false
	}
	const limit = math.MaxInt64 / int64(time.Millisecond)
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= limit {
			n = n*10 + int64(c-'0')
		}
	}
	if n > limit {
		return time.Duration(math.MaxInt64), true
	}
	return time.Duration(n) * time.Millisecond, true
}

// skipBOM skips a UTF-8 byte order mark at the start of the stream.
func (r *Reader) skipBOM() {
	for r.w-r.r < len(bom) && r.rerr == nil {
		r.fill()
	}
	if bytes.HasPrefix(r.buf[r.r:r.w], bom) {
		r.r += len(bom)
	}
	r.started = true
}

// readLine returns the next line, without its terminator. The line aliases
// r.buf and is valid until the next call. For a comment line, readLine
// reports comment and no content: comments are discarded as they arrive,
// whatever their length. A line longer than budget yields
// ErrEventTooLarge; at the end of the stream, a partial line yields
// io.ErrUnexpectedEOF.
func (r *Reader) readLine(budget int) (line []byte, comment bool, err error) {
	scanned := 0 // buf[r.r:r.r+scanned] holds no CR or LF
	for {
		if r.skipLF && r.r < r.w {
			if r.buf[r.r] == '\n' {
				r.r++
			}
			r.skipLF = false
		}
		if !comment && r.r < r.w && r.buf[r.r] == ':' {
			comment = true
		}
		if end := r.indexEOL(r.r + scanned); end >= 0 {
			line = r.buf[r.r:end]
			r.r = end + 1
			if r.buf[end] == '\r' {
				if r.r < r.w {
					if r.buf[r.r] == '\n' {
						r.r++
					}
				} else {
					r.skipLF = true
				}
			}
			if comment {
				return nil, true, nil
			}
			if len(line) > budget {
				return nil, false, ErrEventTooLarge
			}
			return line, false, nil
		}
		// The line goes on past the buffered bytes.
		partial := r.w - r.r
		if comment {
			r.r, r.w = 0, 0 // drop what has been seen of it
			r.lf, r.lfEnd = -1, 0
			scanned = 0
		} else {
			if partial > budget {
				return nil, false, ErrEventTooLarge
			}
			scanned = partial
		}
		if r.rerr != nil {
			if r.rerr == io.EOF && (partial > 0 || comment) {
				return nil, false, io.ErrUnexpectedEOF
			}
			return nil, false, r.rerr
		}
		r.fill()
		// The skipLF check at the top of the loop can apply only at the
		// start of a line, which is where it was set: no line bytes have
		// been buffered since.
	}
}

// indexEOL returns the index in buf of the first CR or LF at or after
// from, or -1 if buf[from:r.w] holds neither.
func (r *Reader) indexEOL(from int) int {
	lf := r.lf
	if lf < from {
		start := max(from, r.lfEnd)
		if i := bytes.IndexByte(r.buf[start:r.w], '\n'); i >= 0 {
			lf = start + i
		} else {
			lf = -1
		}
		r.lf, r.lfEnd = lf, r.w
		if lf >= 0 {
			r.lfEnd = lf + 1
		}
	}
	end := r.w
	if lf >= 0 {
		end = lf
	}
	if i := bytes.IndexByte(r.buf[from:end], '\r'); i >= 0 {
		return from + i
	}
	return lf
}

// fill reads more bytes into buf, first moving the unparsed bytes to its
// front and growing it if it is full. It records a read error in r.rerr.
func (r *Reader) fill() {
	if r.r == r.w && len(r.buf) > maxRetainedBuffer {
		r.buf = nil
	}
	if r.buf == nil {
		r.buf = make([]byte, initialBufferSize)
		r.r, r.w = 0, 0
		r.lf, r.lfEnd = -1, 0
	}
	if r.r > 0 {
		copy(r.buf, r.buf[r.r:r.w])
		r.w -= r.r
		if r.lf >= 0 {
			r.lf -= r.r
		}
		r.lfEnd = max(r.lfEnd-r.r, 0)
		r.r = 0
	}
	if r.w == len(r.buf) {
		// A line as long as the buffer: grow it, but not beyond what a
		// line within the limit needs. (readLine fails lines longer than
		// the limit before the buffer could reach that size.)
		n := min(2*len(r.buf), r.max+1)
		if n <= len(r.buf) {
			n = 2 * len(r.buf)
		}
		nb := make([]byte, n)
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for range maxEmptyReads {
		n, err := r.rd.Read(r.buf[r.w:])
		if n < 0 || n > len(r.buf)-r.w {
			r.rerr = errBadRead
			return
		}
		r.w += n
		if err != nil {
			r.rerr = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.rerr = io.ErrNoProgress
}
