package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// stdioClient is one MCP session over a child's stdin and stdout that keeps
// a fixed number of tools/call requests in flight.
type stdioClient struct {
	w  *bufio.Writer
	r  *bufio.Reader
	wc io.Closer
}

func newStdioClient(stdin io.WriteCloser, stdout io.Reader) *stdioClient {
	return &stdioClient{w: bufio.NewWriterSize(stdin, 64<<10), r: bufio.NewReaderSize(stdout, 64<<10), wc: stdin}
}

func (c *stdioClient) send(msg []byte) error {
	if _, err := c.w.Write(msg); err != nil {
		return err
	}
	if err := c.w.WriteByte('\n'); err != nil {
		return err
	}
	return c.w.Flush()
}

// readLine returns the next line; the slice is valid until the next read.
func (c *stdioClient) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := slices.Clone(line)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(long) > maxResponse {
				return nil, errors.New("stdio: response line too long")
			}
			line, err = c.r.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	return line, err
}

// handshake sends initialize, waits for its response, then sends
// notifications/initialized.
func (c *stdioClient) handshake() error {
	if err := c.send(initializeBody); err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	for {
		line, err := c.readLine()
		if err != nil {
			return fmt.Errorf("initialize: reading the response: %w", err)
		}
		if id, ok := parseID(line); ok && id == 1 {
			if !bytes.Contains(line, []byte(`"result"`)) {
				return fmt.Errorf("initialize: %.300s", line)
			}
			break
		}
	}
	return c.send(initializedBody)
}

// stdioTarget is a stdio server child with one initialized session and a
// reader that matches responses to requests for the whole session; each
// round runs a writer that keeps inflight requests outstanding.
type stdioTarget struct {
	c        *child
	cl       *stdioClient
	inflight int

	slots    chan int       // free request slots
	sendTime []atomic.Int64 // per slot, since epoch
	seq      []int64        // per slot, requests sent
	body     []byte
	epoch    time.Time

	recording atomic.Bool
	rec       atomic.Pointer[recorder]

	readerDone chan struct{}
	readErr    error
}

// newStdioTarget runs the handshake on c and starts the reader.
func newStdioTarget(ctx context.Context, c *child, inflight int) (*stdioTarget, error) {
	t := &stdioTarget{
		c: c, cl: newStdioClient(c.stdin, c.stdout), inflight: inflight,
		slots: make(chan int, inflight), sendTime: make([]atomic.Int64, inflight), seq: make([]int64, inflight),
		body: slices.Clone(callTemplate), epoch: time.Now(), readerDone: make(chan struct{}),
	}
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hsErr := make(chan error, 1)
	go func() { hsErr <- t.cl.handshake() }()
	select {
	case err := <-hsErr:
		if err != nil {
			c.stop()
			return nil, err
		}
	case <-hctx.Done():
		c.stop() // unblocks the handshake
		return nil, fmt.Errorf("stdio handshake: %w", hctx.Err())
	}
	for k := range inflight {
		t.slots <- k
	}
	t.rec.Store(newRecorder())
	go t.read()
	return t, nil
}

// read matches responses to slots until the server's stdout ends. Slot k
// carries ids idBase + n*inflight + k, and is reused only after its
// response arrived, so sendTime[k] belongs to one request at a time.
func (t *stdioTarget) read() {
	defer close(t.readerDone)
	for {
		line, err := t.cl.readLine()
		if err != nil {
			t.readErr = err
			return
		}
		id, ok := parseID(line)
		if !ok || id < idBase {
			continue // a notification or the initialize response
		}
		k := int((id - idBase) % int64(t.inflight))
		d := time.Since(t.epoch) - time.Duration(t.sendTime[k].Load())
		good := bytes.Contains(line, okMarker) && bytes.Contains(line, []byte(`"result"`))
		t.rec.Load().result(t.recording.Load(), good, d)
		select {
		case t.slots <- k:
		default:
		}
	}
}

func (t *stdioTarget) proc() *child { return t.c }

func (t *stdioTarget) close() {
	t.c.stop() // closes stdin; the server exits and its stdout ends
	<-t.readerDone
}

func (t *stdioTarget) round(ctx context.Context, warmup, d time.Duration) (RoundStats, error) {
	rec := newRecorder()
	t.rec.Store(rec)
	stopc := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() { writerDone <- t.write(stopc) }()
	var stopErr error
	stop := sync.OnceFunc(func() {
		close(stopc)
		if err := <-writerDone; err != nil {
			stopErr = err
		}
		// Let the requests in flight come back, so that the next round
		// starts with every slot free. Taking every slot off the channel
		// also orders the reader's last records before our reading them.
		free := make([]int, 0, t.inflight)
		defer func() {
			for _, k := range free {
				t.slots <- k
			}
		}()
		deadline := time.NewTimer(5 * time.Second)
		defer deadline.Stop()
		for len(free) < t.inflight {
			select {
			case k := <-t.slots:
				free = append(free, k)
			case <-deadline.C:
				stopErr = errors.Join(stopErr, fmt.Errorf("%d responses missing after the round", t.inflight-len(free)))
				return
			case <-t.readerDone:
				stopErr = errors.Join(stopErr, fmt.Errorf("stdio session broke: %v: %s", t.readErr, t.c.tail))
				return
			}
		}
	})
	st, err := measureRound(ctx, []*child{t.c}, warmup, d, &t.recording, []*recorder{rec}, stop)
	if err == nil {
		err = stopErr
	}
	return st, err
}

// write sends a request whenever a slot is free, flushing when no other
// slot is, until stopc closes.
func (t *stdioTarget) write(stopc <-chan struct{}) error {
	w := t.cl.w
	for {
		var k int
		select {
		case k = <-t.slots:
		case <-stopc:
			return w.Flush()
		case <-t.readerDone:
			return fmt.Errorf("stdio session broke: %v: %s", t.readErr, t.c.tail)
		}
		t.seq[k]++
		putID(t.body, t.seq[k]*int64(t.inflight)+int64(k))
		t.sendTime[k].Store(int64(time.Since(t.epoch)))
		_, err := w.Write(t.body)
		if err == nil {
			err = w.WriteByte('\n')
		}
		if err == nil && len(t.slots) == 0 {
			err = w.Flush()
		}
		if err != nil {
			return err
		}
	}
}
