package e2e

// The bounded load tests of issue 10: a real `switchboard serve` process
// over loopback, with fixed counts and time limits, so that they can run
// in CI (`go test -race ./...`) in well under 30 seconds on two busy
// cores.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serveProcess is `switchboard serve` on an ephemeral loopback port.
type serveProcess struct {
	*stdioServer
	addr string // 127.0.0.1:PORT
}

var serveListeningRE = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// startServe starts `switchboard serve --addr 127.0.0.1:0 extra...`.
func startServe(t *testing.T, extra ...string) *serveProcess {
	t.Helper()
	s := startStdio(t, nil, append([]string{"serve", "--addr", "127.0.0.1:0"}, extra...)...)
	deadline := time.Now().Add(wait)
	for {
		if m := serveListeningRE.FindStringSubmatch(s.stderr.String()); m != nil {
			return &serveProcess{stdioServer: s, addr: m[1]}
		}
		select {
		case <-s.exited:
			t.Fatalf("the server exited: %v\n%s", s.err, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not report its address:\n%s", s.stderr.String())
		}
	}
}

// memory returns the process's resident set and its peak, in bytes, from
// /proc (0, 0 where there is none).
func (s *serveProcess) memory() (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	field := func(name string) int64 {
		i := bytes.Index(b, []byte(name+":"))
		if i < 0 {
			return 0
		}
		f := strings.Fields(string(b[i+len(name)+1:]))
		if len(f) < 2 {
			return 0
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		return n << 10 // kB
	}
	return field("VmRSS"), field("VmHWM")
}

// rawConn is an HTTP/1.1 connection driven by hand, so that a test can
// stop reading, trickle a body or hold a connection idle, which
// net/http's client does not do.
type rawConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

// dialFrom connects to addr from the loopback address src ("" for any):
// the server's per-client limits tell clients apart by address.
func dialFrom(t testing.TB, addr, src string) *rawConn {
	t.Helper()
	d := net.Dialer{Timeout: wait}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dialing %s from %s: %v", addr, src, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReaderSize(c, 64<<10)}
}

// send writes a request; body may be nil.
func (rc *rawConn) send(method string, hdr map[string]string, body []byte) {
	rc.t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s /mcp HTTP/1.1\r\nHost: %s\r\n", method, rc.c.RemoteAddr())
	if body != nil {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	for k, v := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	b.Write(body)
	_ = rc.c.SetWriteDeadline(time.Now().Add(wait))
	if _, err := rc.c.Write(b.Bytes()); err != nil {
		rc.t.Fatalf("%s: %v", method, err)
	}
}

// response reads the status line and headers of the next response; the
// body is left to the caller.
func (rc *rawConn) response() *http.Response {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.t.Fatalf("reading a response: %v", err)
	}
	return resp
}

// roundTrip sends a request and reads its whole response.
func (rc *rawConn) roundTrip(method string, hdr map[string]string, body []byte) (*http.Response, []byte) {
	rc.t.Helper()
	rc.send(method, hdr, body)
	resp := rc.response()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatalf("reading a response body: %v", err)
	}
	return resp, b
}

const initializeBody = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"load","version":"1"}}}`

var jsonOnly = map[string]string{"Accept": "application/json"}

// initializeOn opens a session on rc and returns its id, or "" and the
// status when the server refuses.
func (rc *rawConn) initializeOn() (string, int) {
	rc.t.Helper()
	resp, body := rc.roundTrip(http.MethodPost, jsonOnly, []byte(initializeBody))
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode == http.StatusOK && sid == "" {
		rc.t.Fatalf("initialize: no session id: %s", body)
	}
	return sid, resp.StatusCode
}

// parallel runs f(i) for i in [0, n) on workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// stallReader sends on rc, pipelined, tools/calls whose JSON answers
// (echoes of size bytes each, count of them) add up to far more than
// loopback socket buffers hold, and then reads nothing: the server's
// writes block.
// The requests are written by a goroutine, since the server stops reading
// them once its answers block; it ends when the connection closes.
func stallReader(rc *rawConn, sid string, size, count int) {
	rc.t.Helper()
	_ = rc.c.(*net.TCPConn).SetReadBuffer(4 << 10)
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + strings.Repeat("s", size) + `"}}}`)
	var req bytes.Buffer
	for range count {
		fmt.Fprintf(&req, "POST /mcp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json\r\n"+
			"Mcp-Session-Id: %s\r\nMcp-Protocol-Version: 2025-11-25\r\nContent-Length: %d\r\n\r\n", rc.c.RemoteAddr(), sid, len(body))
		req.Write(body)
	}
	go func() { _, _ = rc.c.Write(req.Bytes()) }()
}

// loopbackSources returns n source addresses 127.0.0.2, 127.0.0.3, …; the
// test is skipped where they cannot be used (all of 127/8 is loopback on
// Linux, not everywhere).
func loopbackSources(t *testing.T, addr string, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("127.0.0.%d", i+2)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(out[n-1])}, Timeout: time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot connect from %s: %v", out[n-1], err)
	}
	c.Close()
	return out
}

// SIGTERM to `switchboard serve` with 1,000 open SSE streams and clients
// that stopped reading large responses exits within 10 s, with default
// limits (issue 10, finding 2 and the acceptance criteria); memory stays
// under a stated bound.
func TestLoadShutdown(t *testing.T) {
	const (
		streams  = 1000
		stalled  = 4
		respSize = 3 << 20 // four of them pipelined: more than loopback buffers hold
	)
	s := startServe(t)
	sources := loopbackSources(t, s.addr, 4)

	// 1,000 sessions with their standalone GET stream open, from four
	// addresses (the default per-client session limit is 1,000).
	start := time.Now()
	conns := make([]*rawConn, streams)
	parallel(streams, 16, func(i int) {
		rc := dialFrom(t, s.addr, sources[i%len(sources)])
		sid, status := rc.initializeOn()
		if sid == "" {
			t.Errorf("initialize %d: status %d", i, status)
			return
		}
		rc.send(http.MethodGet, map[string]string{"Accept": "text/event-stream", "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}, nil)
		if resp := rc.response(); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %d: status %d", i, resp.StatusCode)
		}
		conns[i] = rc
	})
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d streams open in %v", streams, time.Since(start))

	// Clients that stop reading large JSON answers.
	for range stalled {
		rc := dialFrom(t, s.addr, "127.0.0.1")
		sid, status := rc.initializeOn()
		if sid == "" {
			t.Fatalf("initialize: status %d", status)
		}
		stallReader(rc, sid, respSize, 4)
	}
	time.Sleep(time.Second) // let the answers fill the socket buffers
	rss, peak := s.memory()
	t.Logf("server memory with %d streams and %d stalled readers: RSS %d MiB, peak %d MiB", streams, stalled, rss>>20, peak>>20)

	start = time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
	}
	d := time.Since(start)
	t.Logf("exit %v after SIGTERM", d)
	if d > 10*time.Second {
		t.Fatalf("the server took %v to exit after SIGTERM, want at most 10s", d)
	}
	if bound := memoryBound(256 << 20); peak > bound {
		t.Errorf("peak RSS %d MiB, over the bound of %d MiB", peak>>20, bound>>20)
	}
}

// memoryBound is the bound on a server's peak memory in these tests:
// base, and five times that for a server built with the race detector,
// whose shadow memory multiplies what a process uses.
func memoryBound(base int64) int64 {
	if raceEnabled {
		return 5 * base
	}
	return base
}

// The limits of `switchboard serve` under load, with short timeouts set by
// flags: a session flood from one client does not lock out a second
// client; clients that stop reading, trickle a body or hold a keep-alive
// connection idle are cut within their timeouts; memory stays bounded
// (issue 10, findings 2, 3 and 7, and the acceptance criteria).
func TestLoadLimits(t *testing.T) {
	s := startServe(t, "--max-sessions", "200", "--write-timeout", "1s", "--body-timeout", "1s",
		"--idle-conn-timeout", "1s", "--read-header-timeout", "1s")
	other := loopbackSources(t, s.addr, 1)[0]

	t.Run("session flood", func(t *testing.T) {
		// 300 initializes from one address: the table holds 200 sessions,
		// a client 20 (a tenth); the flooder's oldest idle sessions make
		// room for its new ones.
		var refused atomicInt
		parallel(300, 8, func(i int) {
			rc := dialFrom(t, s.addr, "127.0.0.1")
			if sid, status := rc.initializeOn(); sid == "" {
				refused.add(1)
				t.Logf("flood initialize %d: %d", i, status)
			}
			rc.c.Close()
		})
		if n := refused.load(); n > 0 {
			t.Errorf("%d of the flooder's initializes were refused", n)
		}
		rc := dialFrom(t, s.addr, other)
		sid, status := rc.initializeOn()
		if sid == "" {
			t.Fatalf("a second client is locked out: initialize got %d", status)
		}
		resp, body := rc.roundTrip(http.MethodPost, map[string]string{"Accept": "application/json", "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"},
			[]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`))
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"hi"`)) {
			t.Fatalf("the second client's call: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("slow clients", func(t *testing.T) {
		var wg sync.WaitGroup
		// A client that stops reading answers 4 × 3 MiB long: its
		// connection is cut once a write has waited 1s.
		for range 3 {
			rc := dialFrom(t, s.addr, other)
			sid, status := rc.initializeOn()
			if sid == "" {
				t.Fatalf("initialize: %d", status)
			}
			stallReader(rc, sid, 3<<20, 4)
			wg.Go(func() {
				// Wait for the answers to start (relaying 3 MiB takes a
				// while on a loaded machine, with the race detector), then
				// stay stalled for the write timeout and room: reading
				// earlier would let the server write on.
				_ = rc.c.SetReadDeadline(time.Now().Add(wait))
				if _, err := rc.br.Peek(1); err != nil {
					t.Errorf("no answer began: %v", err)
					return
				}
				time.Sleep(3 * time.Second)
				start := time.Now()
				_ = rc.c.SetReadDeadline(start.Add(5 * time.Second))
				n, err := io.Copy(io.Discard, rc.br)
				var ne net.Error
				if (errors.As(err, &ne) && ne.Timeout()) || n >= 4*(3<<20) {
					t.Errorf("a client that stopped reading got %d bytes afterwards (%v): its answers were not cut", n, err)
				}
			})
		}
		// A body trickled one byte every 200 ms: cut after 1s.
		for range 3 {
			wg.Go(func() {
				rc := dialFrom(t, s.addr, other)
				fmt.Fprintf(rc.c, "POST /mcp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: 100\r\n\r\n{", s.addr)
				start := time.Now()
				go func() {
					for range 99 {
						time.Sleep(200 * time.Millisecond)
						if _, err := rc.c.Write([]byte(" ")); err != nil {
							return
						}
					}
				}()
				if d, cut := cutWithin(rc, 5*time.Second); !cut || d > 4*time.Second {
					t.Errorf("a trickled body: connection cut %v after %v", cut, time.Since(start))
				}
			})
		}
		// Keep-alive connections left idle: closed after 1s.
		for range 3 {
			wg.Go(func() {
				rc := dialFrom(t, s.addr, other)
				resp, _ := rc.roundTrip(http.MethodGet, map[string]string{"Accept": "text/event-stream"}, nil)
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("GET without a session: %d", resp.StatusCode)
				}
				if d, cut := cutWithin(rc, 5*time.Second); !cut || d > 4*time.Second {
					t.Errorf("an idle connection: closed %v after %v", cut, d)
				}
			})
		}
		wg.Wait()
	})

	_, peak := s.memory()
	t.Logf("server peak RSS %d MiB", peak>>20)
	if bound := memoryBound(128 << 20); peak > bound {
		t.Errorf("peak RSS %d MiB, over the bound of %d MiB", peak>>20, bound>>20)
	}
}

// cutWithin reads rc until the server closes it or d passes, and reports
// how long that took and whether the server closed it.
func cutWithin(rc *rawConn, d time.Duration) (time.Duration, bool) {
	start := time.Now()
	_ = rc.c.SetReadDeadline(start.Add(d))
	_, err := io.Copy(io.Discard, rc.br)
	var ne net.Error
	return time.Since(start), !(errors.As(err, &ne) && ne.Timeout())
}

// atomicInt is a counter for parallel workers.
type atomicInt struct {
	mu sync.Mutex
	n  int
}

func (a *atomicInt) add(n int) {
	a.mu.Lock()
	a.n += n
	a.mu.Unlock()
}

func (a *atomicInt) load() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}
