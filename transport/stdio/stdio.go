// Package stdio implements the MCP stdio transport: newline-delimited
// JSON-RPC messages over a pair of byte streams, normally a process's stdin
// and stdout. Logs belong on stderr, never on the message stream.
package stdio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// DefaultMaxMessageSize bounds one message when Options.MaxMessageSize is 0.
const DefaultMaxMessageSize = 16 << 20

// Options configure a Stream.
type Options struct {
	// MaxMessageSize bounds the size of one incoming message in bytes. A
	// longer line is discarded and reported as jsonrpc.ErrFrameTooLarge.
	MaxMessageSize int
}

// Stream is a jsonrpc.Stream of newline-delimited messages.
type Stream struct {
	r      *bufio.Reader
	w      *bufio.Writer
	closer func() error
	max    int
	line   []byte

	closeOnce sync.Once
	closeErr  error
}

// NewStream returns a stream reading from r and writing to w. If r or w
// implement io.Closer, Close closes them (once each).
func NewStream(r io.Reader, w io.Writer, opts *Options) *Stream {
	s := &Stream{r: bufio.NewReaderSize(r, 64<<10), w: bufio.NewWriterSize(w, 64<<10), max: DefaultMaxMessageSize}
	if opts != nil && opts.MaxMessageSize > 0 {
		s.max = opts.MaxMessageSize
	}
	var closers []io.Closer
	if c, ok := r.(io.Closer); ok {
		closers = append(closers, c)
	}
	if c, ok := w.(io.Closer); ok && any(w) != any(r) {
		closers = append(closers, c)
	}
	s.closer = func() error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c.Close())
		}
		return errors.Join(errs...)
	}
	return s
}

// ReadFrame returns the next non-empty line without its line ending. The
// slice is valid until the next call.
func (s *Stream) ReadFrame() ([]byte, error) {
	for {
		s.line = s.line[:0]
		tooLarge := false
		for {
			chunk, err := s.r.ReadSlice('\n')
			if !tooLarge {
				if len(s.line)+len(chunk) > s.max+2 {
					tooLarge = true
					s.line = s.line[:0]
				} else {
					s.line = append(s.line, chunk...)
				}
			}
			if err == nil {
				break
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if errors.Is(err, io.EOF) && len(s.line) > 0 && !tooLarge {
				// A final message without a newline still counts.
				return bytes.TrimRight(s.line, "\r\n"), nil
			}
			return nil, err
		}
		if tooLarge {
			return nil, jsonrpc.ErrFrameTooLarge
		}
		line := bytes.TrimRight(s.line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if len(line) > s.max {
			return nil, jsonrpc.ErrFrameTooLarge
		}
		return line, nil
	}
}

// WriteFrame writes frame followed by a newline and flushes.
func (s *Stream) WriteFrame(frame []byte) error {
	if bytes.IndexByte(frame, '\n') >= 0 {
		return errNewline
	}
	if _, err := s.w.Write(frame); err != nil {
		return err
	}
	if err := s.w.WriteByte('\n'); err != nil {
		return err
	}
	return s.w.Flush()
}

var errNewline = errors.New("stdio: message contains a newline")

// AppendFrame appends frame and its newline to dst (jsonrpc.BatchStream).
func (s *Stream) AppendFrame(dst, frame []byte) ([]byte, error) {
	if bytes.IndexByte(frame, '\n') >= 0 {
		return dst, errNewline
	}
	return append(append(dst, frame...), '\n'), nil
}

// WriteFrames writes frames made by AppendFrame and flushes them
// (jsonrpc.BatchStream).
func (s *Stream) WriteFrames(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.w.Flush()
}

// Close closes the underlying reader and writer.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.closer() })
	return s.closeErr
}

// Serve runs one session from factory over s until the peer closes the
// stream or ctx ends. The session is closed when Serve returns.
//
// When ctx ends or the session is closed, Serve closes s, waits for the
// requests in flight (whose contexts are cancelled) and returns, even if a
// read from s is still
// blocked: closing os.Stdin does not interrupt a read when standard input
// is in blocking mode, as it is when a parent hands the server a pipe. That
// read, and the goroutine doing it, end when the peer writes or closes.
func Serve(ctx context.Context, factory transport.SessionFactory, s jsonrpc.Stream, opts *ServeOptions) error {
	var o ServeOptions
	if opts != nil {
		o = *opts
	}
	var sess transport.Session
	conn := jsonrpc.NewConn(s, jsonrpc.ConnOptions{
		MaxInFlight:   o.MaxInFlight,
		AllowBatch:    func() bool { return sess.ProtocolVersion() == "2025-03-26" },
		OnDecodeError: o.OnDecodeError,
		// Requests run concurrently, but initialize is answered before the
		// next message is read: a client may write initialize,
		// notifications/initialized and its first requests at once
		// (printf ... | server), and they must find the session
		// initialized, as they would had the client waited.
		Inline: func(req *jsonrpc.Request) bool { return req.Method == "initialize" },
	})
	sink := connSink{conn}
	sess, err := factory.NewSession(ctx, "", sink)
	if err != nil {
		conn.Close()
		return err
	}
	defer sess.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	go func() {
		// The session may end on its own (Close from the server side).
		select {
		case <-sess.Done():
			conn.Close()
		case <-conn.Done():
		}
	}()
	reqs := new(inflight)
	served := make(chan error, 1)
	go func() { served <- conn.Serve(ctx, handler{sess: sess, conn: conn, sink: sink, reqs: reqs}) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	case <-sess.Done():
	}
	// The stream is closed (by conn.Serve's context, or because the
	// session ended). Wait for the requests in flight, then give the read
	// loop a moment to notice the close; a read blocked on a non-pollable
	// file may not.
	reqs.stop()
	select {
	case err := <-served:
		return err
	case <-time.After(shutdownGrace):
		return nil
	}
}

// shutdownGrace is how long Serve waits, once ctx has ended and the
// requests in flight are done, for a blocked read to return.
const shutdownGrace = 100 * time.Millisecond

// inflight counts the requests being served, and refuses new ones once
// stop has been called.
type inflight struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

func (f *inflight) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	f.wg.Add(1)
	return true
}

func (f *inflight) leave() { f.wg.Done() }

// stop refuses further requests and waits for those in flight.
func (f *inflight) stop() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	f.wg.Wait()
}

// ServeOptions configure Serve.
type ServeOptions struct {
	// MaxInFlight bounds the requests handled at once (0: 64).
	MaxInFlight int
	// OnDecodeError observes invalid incoming messages.
	OnDecodeError func(error)
}

type connSink struct{ conn *jsonrpc.Conn }

func (s connSink) Send(_ context.Context, msg []byte) error { return s.conn.Write(msg) }

type handler struct {
	sess transport.Session
	conn *jsonrpc.Conn
	sink connSink
	reqs *inflight
}

func (h handler) HandleRequest(ctx context.Context, req *jsonrpc.Request) {
	if resp := h.ServeRequest(ctx, req); resp != nil {
		_ = h.conn.Write(resp)
	}
}

// ServeRequest implements jsonrpc.RequestServer, so that a batch is
// answered with one array.
func (h handler) ServeRequest(ctx context.Context, req *jsonrpc.Request) []byte {
	if !h.reqs.enter() {
		return nil // shutting down; the stream is closed
	}
	defer h.reqs.leave()
	return h.sess.HandleRequest(ctx, req, h.sink)
}

func (h handler) HandleNotification(ctx context.Context, req *jsonrpc.Request) {
	h.sess.HandleNotification(ctx, req)
}

func (h handler) HandleResponse(resp *jsonrpc.Response) { h.sess.HandleResponse(resp) }
