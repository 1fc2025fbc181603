package jsonrpc

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/workpool"
)

// ErrFrameTooLarge is returned by a Stream's ReadFrame for an incoming
// frame over the size limit. The frame is discarded and the stream stays
// usable: a Conn answers with an error and reads on.
var ErrFrameTooLarge = errors.New("jsonrpc: message too large")

// Stream is a bidirectional stream of framed messages, such as
// newline-delimited JSON over a pipe.
type Stream interface {
	// ReadFrame returns the next frame. The slice is only valid until the
	// next call. It returns io.EOF when the peer has closed the stream.
	ReadFrame() ([]byte, error)
	// WriteFrame writes one frame. The Conn never calls it concurrently.
	WriteFrame(frame []byte) error
	// Close releases the stream; a blocked ReadFrame must return.
	Close() error
}

// Handler receives the messages read by a Conn.
type Handler interface {
	// HandleRequest handles a request that expects a response. It runs in
	// its own goroutine, at most ConnOptions.MaxInFlight at a time, and must
	// send the response itself (through Conn.Write). ctx is cancelled when
	// the connection ends.
	HandleRequest(ctx context.Context, req *Request)
	// HandleNotification handles a notification. It runs on the read loop,
	// so it must not block for long; messages after it wait for it.
	HandleNotification(ctx context.Context, req *Request)
	// HandleResponse handles a response to a request sent by this side. It
	// runs on the read loop.
	HandleResponse(resp *Response)
}

// ConnOptions configure a Conn.
type ConnOptions struct {
	// MaxInFlight bounds the requests handled at the same time. When the
	// bound is reached the read loop waits, which pushes back on the peer.
	// Zero means 64.
	MaxInFlight int
	// AllowBatch reports whether a JSON-RPC batch is acceptable now (MCP
	// allowed batches only in revision 2025-03-26). Nil means never.
	AllowBatch func() bool
	// DrainTimeout bounds how long Serve waits, after the peer closed its
	// side of the stream, for running handlers to write their responses.
	// Zero means DefaultDrainTimeout; negative means no wait.
	DrainTimeout time.Duration
	// OnDecodeError, if set, observes frames that were not valid messages
	// (after the error response, if any, was sent).
	OnDecodeError func(err error)
	// Inline, if set, picks requests that are handled on the read loop:
	// HandleRequest returns before the next message is read, so messages
	// that depend on the request's outcome see it (MCP's initialize, which
	// a client may send in the same write as the requests that follow it).
	// Such a handler must not wait for a message from the peer.
	Inline func(req *Request) bool
}

// DefaultDrainTimeout is ConnOptions.DrainTimeout when zero.
const DefaultDrainTimeout = 5 * time.Second

// Conn runs a Handler over a Stream: it reads frames, decodes them,
// dispatches requests concurrently (bounded) and serializes writes.
type Conn struct {
	stream Stream
	opts   ConnOptions

	writeMu sync.Mutex
	wbuf    []byte     // encoding buffer of WriteMessage
	out     []byte     // frames waiting behind a write in progress
	spare   []byte     // the other buffer of the pair
	writing bool       // a goroutine is writing out
	werr    error      // the write error that broke the stream
	wcond   *sync.Cond // signals progress of the writer, on writeMu

	closeOnce sync.Once
	closed    chan struct{}
}

// NewConn returns a Conn over s. Call Serve to start reading.
func NewConn(s Stream, opts ConnOptions) *Conn {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 64
	}
	return &Conn{stream: s, opts: opts, closed: make(chan struct{})}
}

// BatchStream is implemented by streams that can write several frames in
// one system call. A Conn over one combines writes: frames written while
// another goroutine is writing are appended to a buffer and go out
// together with the next write, so that under load responses share system
// calls, and at rest each leaves at once.
type BatchStream interface {
	Stream
	// AppendFrame appends frame, with its delimiter, to dst.
	AppendFrame(dst, frame []byte) ([]byte, error)
	// WriteFrames writes bytes made by AppendFrame and flushes them. The
	// Conn never calls it concurrently.
	WriteFrames(b []byte) error
}

// maxPendingWrite bounds the bytes waiting behind a write in progress;
// writers wait beyond it, which pushes back on handlers when the peer
// does not read.
const maxPendingWrite = 1 << 20

// Write sends one message frame. It is safe for concurrent use.
func (c *Conn) Write(frame []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.writeLocked(frame)
}

// WriteMessage encodes and sends one message.
func (c *Conn) WriteMessage(m Message) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.wbuf = AppendMessage(c.wbuf[:0], m)
	return c.writeLocked(c.wbuf)
}

// writeLocked writes frame with writeMu held. Over a BatchStream it
// appends the frame to the pending bytes; if no other goroutine is
// writing, it becomes the writer and writes (with writeMu released) until
// nothing is pending.
func (c *Conn) writeLocked(frame []byte) error {
	select {
	case <-c.closed:
		return ErrClosed
	default:
	}
	bs, ok := c.stream.(BatchStream)
	if !ok {
		return c.stream.WriteFrame(frame)
	}
	if c.wcond == nil {
		c.wcond = sync.NewCond(&c.writeMu)
	}
	for c.writing && len(c.out) > maxPendingWrite && c.werr == nil {
		c.wcond.Wait()
	}
	if c.werr != nil {
		return c.werr
	}
	var err error
	if c.out, err = bs.AppendFrame(c.out, frame); err != nil {
		return err
	}
	if c.writing {
		return nil // the writer in progress takes it
	}
	c.writing = true
	for len(c.out) > 0 && err == nil {
		buf := c.out
		c.out = c.spare[:0]
		c.writeMu.Unlock()
		err = bs.WriteFrames(buf)
		c.writeMu.Lock()
		c.spare = buf[:0]
		c.wcond.Broadcast()
	}
	c.writing = false
	if err != nil {
		c.werr = err
		c.out = c.out[:0]
		c.wcond.Broadcast()
	}
	return err
}

// Close closes the stream, which ends Serve.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.stream.Close()
	})
	return err
}

// Done is closed when the connection has been closed.
func (c *Conn) Done() <-chan struct{} { return c.closed }

// Serve reads and dispatches messages until the stream ends, ctx is done or
// Close is called. It returns after every request handler it started has
// returned. A clean end of the stream returns nil.
func (c *Conn) Serve(ctx context.Context, h Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	sem := make(chan struct{}, c.opts.MaxInFlight)
	var wg sync.WaitGroup
	// Requests run on reused goroutines, whose stacks have grown already.
	workers := workpool.New(c.opts.MaxInFlight)
	defer func() {
		cancel()
		wg.Wait()
		workers.Close()
	}()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	for {
		frame, err := c.stream.ReadFrame()
		if errors.Is(err, ErrFrameTooLarge) {
			c.reject(&DecodeError{Code: CodeInvalidRequest, Reason: "message too large"})
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && ctx.Err() == nil && !isClosed(c.closed) {
				// The peer is done sending, but requests it already sent
				// still deserve their answers: let the handlers finish
				// (bounded), then close.
				c.drain(ctx, &wg)
			}
			c.Close()
			if errors.Is(err, io.EOF) || ctx.Err() != nil || isClosed(c.closed) {
				return nil
			}
			return err
		}
		if len(frame) == 0 {
			continue
		}
		// Messages refer to their frame; the stream reuses its buffer.
		frame = append([]byte(nil), frame...)
		msgs, errs, isBatch, err := DecodeBatch(frame)
		if err != nil {
			c.reject(err)
			continue
		}
		if isBatch && (c.opts.AllowBatch == nil || !c.opts.AllowBatch()) {
			c.reject(&DecodeError{Code: CodeInvalidRequest, Reason: "batches are not accepted in this protocol revision"})
			continue
		}
		if isBatch {
			if rs, ok := h.(RequestServer); ok {
				if !c.serveBatch(ctx, rs, msgs, errs, sem, &wg) {
					return nil
				}
				continue
			}
		}
		for i, m := range msgs {
			if errs != nil && errs[i] != nil {
				c.reject(errs[i])
				continue
			}
			switch m := m.(type) {
			case *Response:
				h.HandleResponse(m)
			case *Request:
				if m.IsNotification() {
					h.HandleNotification(ctx, m)
					continue
				}
				if c.opts.Inline != nil && c.opts.Inline(m) {
					h.HandleRequest(ctx, m)
					continue
				}
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return nil
				}
				wg.Add(1)
				workers.Go(func() {
					defer func() { <-sem; wg.Done() }()
					h.HandleRequest(ctx, m)
				})
			}
		}
	}
}

// RequestServer is implemented by Handlers that return a request's
// response instead of writing it. A Conn then answers a batch with one
// array holding every response, as JSON-RPC 2.0 asks; without it, the
// responses of a batch are written one by one.
type RequestServer interface {
	// ServeRequest handles a request and returns its encoded response,
	// or nil for none.
	ServeRequest(ctx context.Context, req *Request) []byte
}

// serveBatch dispatches the members of a batch concurrently (within the
// in-flight bound) and writes their responses as one array when the last
// is done. It returns false if ctx ended while waiting for a slot.
func (c *Conn) serveBatch(ctx context.Context, h RequestServer, msgs []Message, errs []error, sem chan struct{}, wg *sync.WaitGroup) bool {
	resps := make([][]byte, len(msgs))
	var bwg sync.WaitGroup
	for i, m := range msgs {
		if errs != nil && errs[i] != nil {
			var de *DecodeError
			if errors.As(errs[i], &de) {
				resps[i] = AppendMessage(nil, &Response{ID: de.ID, Error: de.AsError()})
			}
			if c.opts.OnDecodeError != nil {
				c.opts.OnDecodeError(errs[i])
			}
			continue
		}
		switch m := m.(type) {
		case *Response:
			if hh, ok := h.(Handler); ok {
				hh.HandleResponse(m)
			}
		case *Request:
			if m.IsNotification() {
				if hh, ok := h.(Handler); ok {
					hh.HandleNotification(ctx, m)
				}
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return false
			}
			wg.Add(1)
			bwg.Add(1)
			go func() {
				defer func() { <-sem; bwg.Done(); wg.Done() }()
				resps[i] = h.ServeRequest(ctx, m)
			}()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		bwg.Wait()
		var out []byte
		for _, r := range resps {
			if r == nil {
				continue
			}
			if out == nil {
				out = append(out, '[')
			} else {
				out = append(out, ',')
			}
			out = append(out, r...)
		}
		if out != nil {
			_ = c.Write(append(out, ']'))
		}
	}()
	return true
}

// drain waits for the running request handlers, at most
// ConnOptions.DrainTimeout.
func (c *Conn) drain(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	d := c.opts.DrainTimeout
	if d == 0 {
		d = DefaultDrainTimeout
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	case <-c.closed:
	}
}

func (c *Conn) reject(err error) {
	var de *DecodeError
	if errors.As(err, &de) {
		// A response (or an unreadable message) with a bad shape gets an
		// error reply only if it could have been a request.
		_ = c.WriteMessage(&Response{ID: de.ID, Error: de.AsError()})
	}
	if c.opts.OnDecodeError != nil {
		c.opts.OnDecodeError(err)
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
