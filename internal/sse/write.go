package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

var (
	errBadID    = fmt.Errorf("%w: id contains CR, LF or NUL", ErrInvalidEvent)
	errBadName  = fmt.Errorf("%w: event name contains CR, LF or NUL", ErrInvalidEvent)
	errBadRetry = fmt.Errorf("%w: negative retry", ErrInvalidEvent)
)

// AppendEvent appends the encoding of e to dst and returns the extended
// buffer. Fields are written in the order event, id, retry, data; Retry is
// written in whole milliseconds, rounded down. An event without any field
// to write appends nothing.
//
// An ID or Name containing CR, LF or NUL, or a negative Retry, is rejected
// with an error wrapping [ErrInvalidEvent], and dst is returned unchanged.
// Data may hold anything: every LF, CRLF or lone CR in it starts a new data
// line, so a reader receives the data with line breaks normalized to LF.
//
// AppendEvent does not allocate when dst has room for the result.
func AppendEvent(dst []byte, e Event) ([]byte, error) {
	if badField(e.ID) {
		return dst, errBadID
	}
	if badField(e.Name) {
		return dst, errBadName
	}
	if e.Retry < 0 {
		return dst, errBadRetry
	}
	hasID := e.HasID || e.ID != ""
	hasRetry := e.HasRetry || e.Retry != 0
	hasData := e.HasData || len(e.Data) > 0
	if !hasID && !hasRetry && !hasData && e.Name == "" {
		return dst, nil
	}
	// One up-front reservation covers the common single-line event.
	if need := len(e.Name) + len(e.ID) + len(e.Data) + 64; cap(dst)-len(dst) < need {
		dst = grow(dst, need)
	}
	if e.Name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, e.Name...)
		dst = append(dst, '\n')
	}
	if hasID {
		dst = appendField(dst, "id", e.ID)
	}
	if hasRetry {
		dst = append(dst, "retry: "...)
		dst = strconv.AppendInt(dst, int64(e.Retry/time.Millisecond), 10)
		dst = append(dst, '\n')
	}
	if hasData {
		dst = appendData(dst, e.Data)
	}
	return append(dst, '\n'), nil
}

// AppendComment appends a comment block, text followed by a blank line, to
// dst. Comments are ignored by readers; servers send them to keep idle
// connections open. Each line of a multi-line text (split at LF, CRLF or
// CR) becomes its own comment line: AppendComment(nil, "ping") is
// ": ping\n\n".
func AppendComment(dst []byte, text string) []byte {
	for {
		end, next := len(text), len(text)
		for i := 0; i < len(text); i++ {
			if c := text[i]; c == '\n' || c == '\r' {
				end, next = i, i+1
				if c == '\r' && next < len(text) && text[next] == '\n' {
					next++
				}
				break
			}
		}
		dst = appendField(dst, "", text[:end])
		if end == len(text) {
			return append(dst, '\n')
		}
		text = text[next:]
	}
}

// appendField appends "name: value\n", or "name:\n" for an empty value.
func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':')
	if value != "" {
		dst = append(dst, ' ')
		dst = append(dst, value...)
	}
	return append(dst, '\n')
}

// appendData appends one data line per line of data. It searches for LF
// and CR separately with the vectorized bytes.IndexByte and remembers each
// next position, so that every byte is looked at a bounded number of times
// whatever mix of line endings the data holds.
func appendData(dst, data []byte) []byte {
	lf := indexFrom(data, 0, '\n')
	cr := indexFrom(data, 0, '\r')
	pos := 0
	for {
		end := min(lf, cr)
		line := data[pos:end]
		if len(line) == 0 {
			dst = append(dst, "data:\n"...)
		} else {
			dst = append(dst, "data: "...)
			dst = append(dst, line...)
			dst = append(dst, '\n')
		}
		if end == len(data) {
			return dst
		}
		pos = end + 1
		if data[end] == '\r' && pos < len(data) && data[pos] == '\n' {
			pos++
		}
		if lf < pos {
			lf = indexFrom(data, pos, '\n')
		}
		if cr < pos {
			cr = indexFrom(data, pos, '\r')
		}
	}
}

// indexFrom returns the index of the first c in b[from:], counted from the
// start of b, or len(b) if there is none.
func indexFrom(b []byte, from int, c byte) int {
	if i := bytes.IndexByte(b[from:], c); i >= 0 {
		return from + i
	}
	return len(b)
}

// badField reports whether s holds a byte that cannot appear in an id or
// event name field.
func badField(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\n' || c == '\r' || c == 0 {
			return true
		}
	}
	return false
}

// grow returns b with room for at least n more bytes.
func grow(b []byte, n int) []byte {
	nb := make([]byte, len(b), max(2*cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

// maxRetainedBuffer bounds the buffer a Writer or Reader keeps between
// events, so that one large event does not pin its memory for the life of
// a long stream.
const maxRetainedBuffer = 64 << 10

// Writer writes events to an underlying writer, one Write call per event,
// and flushes after each so that the event reaches the peer at once.
//
// A Writer is not safe for concurrent use. After the underlying writer or
// its flush fails, the stream may end inside an event, so every later call
// returns the same error without writing.
type Writer struct {
	w     io.Writer
	flush func() error
	buf   []byte
	err   error
}

// NewWriter returns a Writer writing to w. It flushes w after every event
// if w has a method FlushError() error, Flush() error or Flush() (as
// http.ResponseWriter implementations and bufio.Writer do), or if w is an
// http.ResponseWriter whose flushing [http.ResponseController] reaches
// through Unwrap methods.
func NewWriter(w io.Writer) *Writer {
	sw := &Writer{w: w}
	switch f := w.(type) {
	case interface{ FlushError() error }:
		sw.flush = f.FlushError
	case interface{ Flush() error }:
		sw.flush = f.Flush
	case http.Flusher:
		sw.flush = func() error { f.Flush(); return nil }
	case http.ResponseWriter:
		rc := http.NewResponseController(f)
		sw.flush = func() error {
			err := rc.Flush()
			if errors.Is(err, http.ErrNotSupported) {
				sw.flush = nil
				return nil
			}
			return err
		}
	}
	return sw
}

// Write writes e and flushes. An event that [AppendEvent] rejects is
// reported with its error and nothing is written; the Writer remains
// usable.
func (w *Writer) Write(e Event) error {
	if w.err != nil {
		return w.err
	}
	b, err := AppendEvent(w.buf[:0], e)
	if err != nil {
		return err
	}
	return w.send(b)
}

// Comment writes a comment block (see [AppendComment]) and flushes.
// Servers send comments such as Comment("ping") to keep idle connections
// from timing out.
func (w *Writer) Comment(text string) error {
	if w.err != nil {
		return w.err
	}
	return w.send(AppendComment(w.buf[:0], text))
}

func (w *Writer) send(b []byte) error {
	if cap(b) <= maxRetainedBuffer {
		w.buf = b[:0]
	}
	if len(b) > 0 {
		if _, err := w.w.Write(b); err != nil {
			w.err = err
			return err
		}
	}
	if w.flush != nil {
		if err := w.flush(); err != nil {
			w.err = err
			return err
		}
	}
	return nil
}
