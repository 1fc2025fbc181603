package sse

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/sse"
)

// ErrStreamClosed is returned by a session's sink after its SSE stream
// has ended.
var ErrStreamClosed = errors.New("sse: stream closed")

// stream is a session's SSE stream and the transport.Sink over it. Writes
// are serialized by lock, a one-slot channel so that waiting for it can be
// abandoned when the sender's context ends or the stream closes.
type stream struct {
	w            http.ResponseWriter
	sw           *sse.Writer // flushes after every event
	rc           *http.ResponseController
	writeTimeout time.Duration

	lock    chan struct{}
	started bool     // headers and the endpoint event are written; under lock
	pending [][]byte // messages sent before start; under lock

	writing   atomic.Bool // a write is in progress
	isClosed  atomic.Bool
	closed    chan struct{}
	closeOnce sync.Once
	failed    chan struct{} // closed when a write fails
	failOnce  sync.Once
}

func newStream(w http.ResponseWriter, writeTimeout time.Duration) *stream {
	return &stream{
		w:            w,
		sw:           sse.NewWriter(w),
		rc:           http.NewResponseController(w),
		writeTimeout: writeTimeout,
		lock:         make(chan struct{}, 1),
		closed:       make(chan struct{}),
		failed:       make(chan struct{}),
	}
}

// acquire takes the write lock, giving up when ctx ends or the stream
// closes.
func (s *stream) acquire(ctx context.Context) error {
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return ErrStreamClosed
	}
	if s.isClosed.Load() {
		s.release()
		return ErrStreamClosed
	}
	return nil
}

func (s *stream) release() { <-s.lock }

// Send implements transport.Sink: it writes msg as a "message" event. It
// blocks while other messages are being written and returns an error when
// ctx ends first or the stream is closed or broken.
func (s *stream) Send(ctx context.Context, msg []byte) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	if !s.started {
		// The session sent something while being created: keep it until
		// the endpoint event, which must come first, has been written.
		s.pending = append(s.pending, append([]byte(nil), msg...))
		return nil
	}
	return s.write(func(sw *sse.Writer) error { return writeMessage(sw, msg) })
}

// start writes the response headers, the endpoint event and the messages
// sent so far.
func (s *stream) start(endpoint string) error {
	if err := s.acquire(context.Background()); err != nil {
		return err
	}
	defer s.release()
	h := s.w.Header()
	h.Set("Content-Type", sse.ContentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // ask nginx not to buffer the stream
	if s.writeTimeout <= 0 {
		// No limit: lift the server's WriteTimeout, if any, for good.
		_ = s.rc.SetWriteDeadline(time.Time{})
	}
	pending := s.pending
	s.pending = nil
	s.started = true
	return s.write(func(sw *sse.Writer) error {
		if err := sw.Write(sse.Event{Name: "endpoint", Data: []byte(endpoint)}); err != nil {
			return err
		}
		for _, m := range pending {
			if err := writeMessage(sw, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// keepAlive writes a comment, which clients ignore.
func (s *stream) keepAlive() error {
	if err := s.acquire(context.Background()); err != nil {
		return err
	}
	defer s.release()
	return s.write(func(sw *sse.Writer) error { return sw.Comment("keepalive") })
}

// writeMessage writes one JSON-RPC message as a "message" event.
func writeMessage(sw *sse.Writer, msg []byte) error {
	return sw.Write(sse.Event{Name: "message", Data: msg})
}

// write runs f, which writes through the flushing sse.Writer, under the
// write deadline. The caller holds the lock.
func (s *stream) write(f func(*sse.Writer) error) error {
	s.writing.Store(true)
	defer s.writing.Store(false)
	if s.writeTimeout > 0 {
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	}
	// close stores isClosed before it looks at writing: if it missed this
	// write, this check sees the close; if not, its past deadline (set
	// after ours) stops the write.
	if s.isClosed.Load() {
		return ErrStreamClosed
	}
	err := f(s.sw)
	if err != nil {
		s.failOnce.Do(func() { close(s.failed) })
	}
	return err
}

// close stops the stream: later Sends fail, and a write blocked on a
// client that does not read is interrupted. When close returns no write is
// in progress and none will start, so the HTTP handler may return.
func (s *stream) close() {
	s.closeOnce.Do(func() {
		s.isClosed.Store(true)
		close(s.closed)
		if s.writing.Load() {
			_ = s.rc.SetWriteDeadline(time.Now())
		}
		s.lock <- struct{}{} // wait for the writer, if any
		if s.started {
			// Let the server end the response cleanly.
			_ = s.rc.SetWriteDeadline(time.Time{})
		}
		s.pending = nil
		<-s.lock
	})
}
