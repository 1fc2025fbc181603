package jsonrpc

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lineStream is a Stream of newline-delimited frames read from r; written
// frames are collected.
type lineStream struct {
	sc     *bufio.Scanner
	closer io.Closer
	max    int

	mu  sync.Mutex
	out []string
}

func newLineStream(r io.Reader) *lineStream {
	s := &lineStream{sc: bufio.NewScanner(r), max: 1 << 20}
	if c, ok := r.(io.Closer); ok {
		s.closer = c
	}
	return s
}

func (s *lineStream) ReadFrame() ([]byte, error) {
	if !s.sc.Scan() {
		if err := s.sc.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	if len(s.sc.Bytes()) > s.max {
		return nil, ErrFrameTooLarge
	}
	return s.sc.Bytes(), nil
}

func (s *lineStream) WriteFrame(f []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = append(s.out, string(f))
	return nil
}

func (s *lineStream) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

func (s *lineStream) written() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.out...)
}

// echoHandler answers every request with its params after delay, counting
// the requests running at once.
type echoHandler struct {
	conn    *Conn
	delay   time.Duration
	running atomic.Int32
	peak    atomic.Int32
	notes   atomic.Int32
}

func (h *echoHandler) HandleRequest(ctx context.Context, req *Request) {
	n := h.running.Add(1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	defer h.running.Add(-1)
	select {
	case <-time.After(h.delay):
	case <-ctx.Done():
		return
	}
	h.conn.WriteMessage(&Response{ID: req.ID, Result: []byte(`{"ok":true}`)})
}

func (h *echoHandler) HandleNotification(ctx context.Context, req *Request) { h.notes.Add(1) }
func (h *echoHandler) HandleResponse(*Response)                             {}

func TestConnAnswersBeforeClosingOnEOF(t *testing.T) {
	// A peer that writes requests and closes its side at once (like
	// `printf ... | server`) still gets its answers.
	in := `{"jsonrpc":"2.0","id":1,"method":"a"}` + "\n" + `{"jsonrpc":"2.0","id":2,"method":"b"}` + "\n"
	s := newLineStream(strings.NewReader(in))
	c := NewConn(s, ConnOptions{})
	h := &echoHandler{conn: c, delay: 100 * time.Millisecond}
	if err := c.Serve(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	out := s.written()
	if len(out) != 2 {
		t.Fatalf("wrote %q", out)
	}
}

func TestConnDrainTimeout(t *testing.T) {
	in := `{"jsonrpc":"2.0","id":1,"method":"slow"}` + "\n"
	s := newLineStream(strings.NewReader(in))
	c := NewConn(s, ConnOptions{DrainTimeout: 50 * time.Millisecond})
	h := &echoHandler{conn: c, delay: time.Hour}
	start := time.Now()
	if err := c.Serve(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Serve took %v with a 50ms drain timeout", d)
	}
}

func TestConnBoundsConcurrency(t *testing.T) {
	var b bytes.Buffer
	for i := 1; i <= 20; i++ {
		b.WriteString(`{"jsonrpc":"2.0","id":` + itoa(i) + `,"method":"m"}` + "\n")
	}
	s := newLineStream(&b)
	c := NewConn(s, ConnOptions{MaxInFlight: 3})
	h := &echoHandler{conn: c, delay: 20 * time.Millisecond}
	if err := c.Serve(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if p := h.peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..3", p)
	}
	if n := len(s.written()); n != 20 {
		t.Errorf("%d responses, want 20", n)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestConnRejectsBadFrames(t *testing.T) {
	tests := []struct {
		name, in string
		allow    bool
		want     string // substring of the only response, "" for none
	}{
		{"parse error", "{nope\n", false, `"code":-32700`},
		{"wrong version", `{"jsonrpc":"1.0","id":1,"method":"m"}` + "\n", false, `"code":-32600`},
		{"batch refused", `[{"jsonrpc":"2.0","id":1,"method":"m"}]` + "\n", false, "batches are not accepted"},
		{"batch allowed", `[{"jsonrpc":"2.0","id":1,"method":"m"}]` + "\n", true, `"ok":true`},
		{"notification gets no answer", `{"jsonrpc":"2.0","method":"n"}` + "\n", false, ""},
		{"empty lines skipped", "\n\n", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newLineStream(strings.NewReader(tt.in))
			c := NewConn(s, ConnOptions{AllowBatch: func() bool { return tt.allow }})
			h := &echoHandler{conn: c}
			if err := c.Serve(context.Background(), h); err != nil {
				t.Fatal(err)
			}
			out := s.written()
			if tt.want == "" {
				if len(out) != 0 {
					t.Fatalf("wrote %q", out)
				}
				return
			}
			if len(out) != 1 || !strings.Contains(out[0], tt.want) {
				t.Fatalf("wrote %q, want one containing %q", out, tt.want)
			}
		})
	}
}

func TestConnOversizeFrameIsNotFatal(t *testing.T) {
	big := `{"jsonrpc":"2.0","id":1,"method":"m","params":{"x":"` + strings.Repeat("a", 2000) + `"}}`
	in := big + "\n" + `{"jsonrpc":"2.0","id":2,"method":"m"}` + "\n"
	s := newLineStream(strings.NewReader(in))
	s.max = 1000
	c := NewConn(s, ConnOptions{})
	h := &echoHandler{conn: c}
	if err := c.Serve(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	out := strings.Join(s.written(), "\n")
	if !strings.Contains(out, "too large") || !strings.Contains(out, `"id":2`) {
		t.Fatalf("wrote %q", out)
	}
}

func TestConnCloseEndsServe(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	s := newLineStream(r)
	c := NewConn(s, ConnOptions{})
	done := make(chan error, 1)
	go func() { done <- c.Serve(context.Background(), &echoHandler{conn: c}) }()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
}

func TestConnContextEndsServe(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	s := newLineStream(r)
	c := NewConn(s, ConnOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, &echoHandler{conn: c}) }()
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

// batchStream is a BatchStream that records each WriteFrames call; the
// first one is slow, like a write to a peer that reads late.
type batchStream struct {
	lineStream
	writes atomic.Int32
	slow   time.Duration
}

func (s *batchStream) AppendFrame(dst, f []byte) ([]byte, error) {
	return append(append(dst, f...), '\n'), nil
}

func (s *batchStream) WriteFrames(b []byte) error {
	if s.writes.Add(1) == 1 {
		time.Sleep(s.slow)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		s.out = append(s.out, line)
	}
	return nil
}

func TestConnCombinesWrites(t *testing.T) {
	s := &batchStream{lineStream: *newLineStream(strings.NewReader("")), slow: 50 * time.Millisecond}
	c := NewConn(s, ConnOptions{})
	// The first write is slow; the frames written meanwhile go out
	// together after it.
	first := make(chan struct{})
	go func() {
		defer close(first)
		c.WriteMessage(&Response{ID: Int64ID(0), Result: []byte(`{}`)})
	}()
	time.Sleep(10 * time.Millisecond)
	var wg sync.WaitGroup
	const n = 100
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.WriteMessage(&Response{ID: Int64ID(int64(i)), Result: []byte(`{}`)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	<-first
	// Wait for the writer in progress to finish.
	c.writeMu.Lock()
	for c.writing {
		c.writeMu.Unlock()
		time.Sleep(time.Millisecond)
		c.writeMu.Lock()
	}
	c.writeMu.Unlock()
	out := s.written()
	if len(out) != n+1 {
		t.Fatalf("%d frames written, want %d", len(out), n+1)
	}
	seen := map[string]bool{}
	for _, f := range out {
		m, err := Decode([]byte(f))
		if err != nil {
			t.Fatalf("frame %q: %v", f, err)
		}
		seen[m.(*Response).ID.String()] = true
	}
	if len(seen) != n+1 {
		t.Errorf("%d distinct responses", len(seen))
	}
	if w := s.writes.Load(); w > 10 {
		t.Errorf("%d writes for %d frames written behind a slow one; want them combined", w, n+1)
	}
	t.Logf("%d frames in %d writes", n+1, s.writes.Load())
}

// failStream fails every write.
type failStream struct{ batchStream }

func (s *failStream) WriteFrames([]byte) error { return io.ErrClosedPipe }

func TestConnWriteErrorSticks(t *testing.T) {
	s := &failStream{}
	s.lineStream = *newLineStream(strings.NewReader(""))
	c := NewConn(s, ConnOptions{})
	for range 2 {
		if err := c.Write([]byte(`{}`)); err != io.ErrClosedPipe {
			t.Fatalf("err = %v", err)
		}
	}
}

// serverHandler answers through RequestServer.
type serverHandler struct{ echoHandler }

func (h *serverHandler) ServeRequest(ctx context.Context, req *Request) []byte {
	return AppendMessage(nil, &Response{ID: req.ID, Result: []byte(`{"ok":true}`)})
}

func TestConnBatchAnsweredWithArray(t *testing.T) {
	in := `[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"note"},{"jsonrpc":"1.0","id":3,"method":"bad"},{"jsonrpc":"2.0","id":2,"method":"b"}]` + "\n" +
		`[{"jsonrpc":"2.0","method":"only-a-note"}]` + "\n"
	s := newLineStream(strings.NewReader(in))
	c := NewConn(s, ConnOptions{AllowBatch: func() bool { return true }})
	h := &serverHandler{}
	if err := c.Serve(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	out := s.written()
	if len(out) != 1 {
		t.Fatalf("wrote %q, want one array", out)
	}
	msgs, _, isBatch, err := DecodeBatch([]byte(out[0]))
	if err != nil || !isBatch || len(msgs) != 3 {
		t.Fatalf("response %s: %d messages, batch %v, err %v", out[0], len(msgs), isBatch, err)
	}
	if !strings.Contains(out[0], `"id":1,"result"`) || !strings.Contains(out[0], `"id":2,"result"`) || !strings.Contains(out[0], `"id":3,"error"`) {
		t.Fatalf("response %s", out[0])
	}
	if h.notes.Load() != 2 {
		t.Errorf("%d notifications handled, want 2", h.notes.Load())
	}
}

// orderHandler records the order in which requests finish and
// notifications arrive.
type orderHandler struct {
	echoHandler
	mu  sync.Mutex
	log []string
}

func (h *orderHandler) HandleRequest(ctx context.Context, req *Request) {
	h.echoHandler.HandleRequest(ctx, req)
	h.mu.Lock()
	h.log = append(h.log, "done "+req.Method)
	h.mu.Unlock()
}

func (h *orderHandler) HandleNotification(ctx context.Context, req *Request) {
	h.mu.Lock()
	h.log = append(h.log, "note "+req.Method)
	h.mu.Unlock()
}

func TestConnInlineRequestsFinishBeforeTheNextMessage(t *testing.T) {
	in := `{"jsonrpc":"2.0","id":1,"method":"first"}` + "\n" +
		`{"jsonrpc":"2.0","method":"after"}` + "\n" +
		`{"jsonrpc":"2.0","id":2,"method":"other"}` + "\n"
	s := newLineStream(strings.NewReader(in))
	c := NewConn(s, ConnOptions{Inline: func(r *Request) bool { return r.Method == "first" }})
	h := &orderHandler{echoHandler: echoHandler{conn: c, delay: 50 * time.Millisecond}}
	if err := c.Serve(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.log) != 3 || h.log[0] != "done first" || h.log[1] != "note after" {
		t.Errorf("order %q, want the inline request done before the notification after it", h.log)
	}
	if out := s.written(); len(out) != 2 {
		t.Errorf("wrote %q", out)
	}
}

func TestErrorMessageNotRepeatingTheCode(t *testing.T) {
	for _, tt := range []struct {
		e    *Error
		want string
	}{
		{&Error{Code: -32602, Message: "MCP error -32602: Tool x not found"}, "jsonrpc error -32602: Tool x not found"},
		{&Error{Code: -32602, Message: "MCP error -32601: odd"}, "jsonrpc error -32602: MCP error -32601: odd"},
		{&Error{Code: -32603, Message: "boom", Data: []byte(`{"a":1}`)}, `jsonrpc error -32603: boom (data: {"a":1})`},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}
