package httpserve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// start serves h with opts on a loopback port and returns the server and
// its address. The server is shut down when the test ends.
func start(t *testing.T, h http.Handler, opts *Options) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(h, opts)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Shutdown(context.Background())
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	})
	return s, ln.Addr().String()
}

// readsEOF reports whether the server closes c within d: reads until an
// error, discarding data.
func closedWithin(c net.Conn, d time.Duration) (time.Duration, bool) {
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return time.Since(start), false
	}
	return time.Since(start), true
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A body trickled more slowly than BodyTimeout allows fails to read, and
// its connection is closed; headers arriving too slowly likewise.
func TestSlowRequestsAreCut(t *testing.T) {
	readErr := make(chan error, 1)
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
		if err != nil {
			http.Error(w, "slow body", http.StatusRequestTimeout)
		}
	}), &Options{BodyTimeout: 300 * time.Millisecond, ReadHeaderTimeout: 300 * time.Millisecond})

	t.Run("body", func(t *testing.T) {
		c := dial(t, addr)
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
		stop := make(chan struct{})
		defer close(stop)
		go func() { // one byte every 50ms: 5s for the whole body
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}()
		select {
		case err := <-readErr:
			if err == nil {
				t.Fatal("the trickled body was read to its end")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the handler is still reading the trickled body")
		}
		if d, closed := closedWithin(c, 3*time.Second); !closed {
			t.Fatalf("the connection is still open %v later", d)
		}
	})
	t.Run("headers", func(t *testing.T) {
		c := dial(t, addr)
		fmt.Fprintf(c, "GET / HTTP/1.1\r\n")
		if d, closed := closedWithin(c, 3*time.Second); !closed {
			t.Fatalf("a connection without complete headers is still open after %v", d)
		}
	})
}

// The body deadline does not cut a long response: once the body is read
// it is lifted, and the request's context is not cancelled by it.
func TestBodyDeadlineSparesLongResponses(t *testing.T) {
	const timeout = 200 * time.Millisecond
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Errorf("reading the body: %v", err)
			return
		}
		rc := http.NewResponseController(w)
		for i := range 4 { // 4 × timeout in all
			select {
			case <-r.Context().Done():
				t.Errorf("the request's context ended after %d ticks: %v", i, context.Cause(r.Context()))
				return
			case <-time.After(timeout):
			}
			fmt.Fprintf(w, "tick %d\n", i)
			_ = rc.Flush()
		}
	}), &Options{BodyTimeout: timeout})
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(`{"x":1}`)
		}
		req, _ := http.NewRequest(method, "http://"+addr+"/", body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || strings.Count(string(b), "tick") != 4 {
			t.Fatalf("%s: got %q, %v; want four ticks", method, b, err)
		}
	}
}

// Idle keep-alive connections are closed after IdleTimeout.
func TestIdleConnectionsAreClosed(t *testing.T) {
	_, addr := start(t, http.NotFoundHandler(), &Options{IdleTimeout: 200 * time.Millisecond})
	c := dial(t, addr)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d, closed := closedWithin(c, 3*time.Second); !closed || d < 100*time.Millisecond {
		t.Fatalf("idle connection closed %v (after %v)", closed, d)
	}
}

// Connections beyond MaxConns are closed when accepted; closing one makes
// room for another.
func TestConnectionLimit(t *testing.T) {
	s, addr := start(t, http.NotFoundHandler(), &Options{MaxConns: 3})
	get := func(c net.Conn) error {
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	var conns []net.Conn
	for i := range 3 {
		c := dial(t, addr)
		if err := get(c); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	if n := s.OpenConns(); n != 3 {
		t.Fatalf("OpenConns = %d, want 3", n)
	}
	extra := dial(t, addr)
	if err := get(extra); err == nil {
		t.Fatal("a fourth connection was served")
	}
	conns[0].Close()
	deadline := time.Now().Add(3 * time.Second)
	for s.OpenConns() != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := get(dial(t, addr)); err != nil {
		t.Fatalf("a connection after one closed: %v", err)
	}
}

// Oversized headers are refused.
func TestMaxHeaderBytes(t *testing.T) {
	_, addr := start(t, http.NotFoundHandler(), &Options{MaxHeaderBytes: 1 << 10})
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("b", 8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}

// Shutdown ends within ShutdownTimeout even when a handler is blocked
// writing to a client that does not read and the write deadline is far
// away; hooks run with a context that ends with the timeout.
func TestShutdownIsBounded(t *testing.T) {
	writing := make(chan struct{})
	var handlerDone atomic.Bool
	s, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer handlerDone.Store(true)
		close(writing)
		chunk := make([]byte, 1<<20)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}), &Options{WriteTimeout: time.Minute, ShutdownTimeout: 300 * time.Millisecond})
	hookCtxDone := make(chan time.Duration, 1)
	begin := time.Now()
	s.OnShutdown(func(ctx context.Context) {
		<-ctx.Done()
		hookCtxDone <- time.Since(begin)
	})
	c := dial(t, addr)
	_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	<-writing
	time.Sleep(100 * time.Millisecond) // let the socket buffers fill
	begin = time.Now()
	err := s.Shutdown(context.Background())
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want a forced shutdown", err)
	}
	if !handlerDone.Load() {
		t.Error("the blocked handler is still writing")
	}
	select {
	case d := <-hookCtxDone:
		if d > time.Second {
			t.Errorf("the hook's context ended after %v", d)
		}
	default:
		t.Error("the hook did not see its context end")
	}
}

// A server without busy connections shuts down at once, after its hooks.
func TestShutdownGraceful(t *testing.T) {
	s, addr := start(t, http.NotFoundHandler(), nil)
	var ran atomic.Bool
	s.OnShutdown(func(context.Context) { ran.Store(true) })
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	begin := time.Now()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if d := time.Since(begin); d > time.Second || !ran.Load() {
		t.Fatalf("Shutdown took %v, hook ran: %v", d, ran.Load())
	}
}

// Run serves until its context ends and then shuts down.
func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(http.NotFoundHandler(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestDefaults(t *testing.T) {
	s := New(http.NotFoundHandler(), nil)
	hs := s.HTTPServer()
	if hs.ReadHeaderTimeout != DefaultReadHeaderTimeout || hs.WriteTimeout != DefaultWriteTimeout ||
		hs.IdleTimeout != DefaultIdleTimeout || hs.MaxHeaderBytes != DefaultMaxHeaderBytes || hs.ReadTimeout != 0 {
		t.Errorf("http.Server %+v", hs)
	}
	if s.maxConns <= 0 || s.maxConns > DefaultMaxConns || s.bodyTimeout != DefaultBodyTimeout || s.shutdownTimeout != DefaultShutdownTimeout {
		t.Errorf("maxConns %d, bodyTimeout %v, shutdownTimeout %v", s.maxConns, s.bodyTimeout, s.shutdownTimeout)
	}
	s = New(http.NotFoundHandler(), &Options{ReadHeaderTimeout: -1, WriteTimeout: -1, IdleTimeout: -1, BodyTimeout: -1, MaxConns: -1})
	if hs := s.HTTPServer(); hs.ReadHeaderTimeout != 0 || hs.WriteTimeout != 0 || hs.IdleTimeout != 0 || s.bodyTimeout > 0 || s.maxConns >= 0 {
		t.Errorf("disabled limits: %+v, body %v, conns %d", hs, s.bodyTimeout, s.maxConns)
	}
}
