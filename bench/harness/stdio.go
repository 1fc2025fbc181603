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

// runStdio measures one implementation's stdio server with inflight
// pipelined requests.
func runStdio(ctx context.Context, cfg *Config, ch *child, inflight int) ([]RoundStats, error) {
	c := newStdioClient(ch.stdin, ch.stdout)
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hsErr := make(chan error, 1)
	go func() { hsErr <- c.handshake() }()
	select {
	case err := <-hsErr:
		if err != nil {
			return nil, err
		}
	case <-hctx.Done():
		return nil, fmt.Errorf("stdio handshake: %w", hctx.Err())
	}

	// Slot k carries ids idBase + n*inflight + k; a slot is reused only
	// after its response arrived, so sendTime[k] belongs to one request.
	slots := make(chan int, inflight)
	for k := range inflight {
		slots <- k
	}
	sendTime := make([]atomic.Int64, inflight)
	seq := make([]int64, inflight)
	body := slices.Clone(callTemplate)
	epoch := time.Now()

	clk := &clock{}
	clk.round.Store(-1)
	rec := newRecorder(cfg.Rounds)
	wctx, wcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var readErr, writeErr error
	wg.Add(2)
	go func() { // writer
		defer wg.Done()
		for {
			var k int
			select {
			case k = <-slots:
			case <-wctx.Done():
				return
			}
			seq[k]++
			putID(body, seq[k]*int64(inflight)+int64(k))
			sendTime[k].Store(int64(time.Since(epoch)))
			_, err := c.w.Write(body)
			if err == nil {
				err = c.w.WriteByte('\n')
			}
			if err == nil && len(slots) == 0 {
				err = c.w.Flush()
			}
			if err != nil {
				if wctx.Err() == nil {
					writeErr = err
					wcancel()
				}
				return
			}
		}
	}()
	go func() { // reader
		defer wg.Done()
		for {
			line, err := c.readLine()
			if err != nil {
				if wctx.Err() == nil {
					readErr = err
					wcancel()
				}
				return
			}
			id, ok := parseID(line)
			if !ok || id < idBase {
				continue // a notification or the initialize response
			}
			k := int((id - idBase) % int64(inflight))
			d := time.Since(epoch) - time.Duration(sendTime[k].Load())
			if bytes.Contains(line, okMarker) && bytes.Contains(line, []byte(`"result"`)) {
				rec.add(clk.round.Load(), d)
			} else {
				rec.errors++
			}
			select {
			case slots <- k:
			default:
			}
		}
	}()
	stop := func() {
		wcancel()
		// Closing stdin ends the server, which closes stdout and so
		// releases the reader.
		_ = c.wc.Close()
		select {
		case <-ch.done:
		case <-time.After(3 * time.Second):
			_ = ch.cmd.Process.Kill()
		}
		wg.Wait()
	}
	rounds, err := runRounds(ctx, cfg, ch, clk, []*recorder{rec}, stop)
	if err == nil && (readErr != nil || writeErr != nil) {
		err = fmt.Errorf("stdio session broke: read %v, write %v: %s", readErr, writeErr, ch.tail)
	}
	return rounds, err
}
