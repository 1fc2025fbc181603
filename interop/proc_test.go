package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// tailBuffer keeps the last max bytes written to it. It collects the
// stderr of child processes, shown when a test fails.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// processGroup makes cmd the leader of a new process group, so that
// stopGroup can end it together with its own children (node's, say).
func processGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// groupCommand returns a command in its own process group whose whole group
// is killed when t ends (after t's later cleanups, such as closing a client
// session, have run), so that no child outlives a test.
func groupCommand(t testing.TB, name string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, name, args...)
	processGroup(cmd)
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 3 * time.Second
	return cmd
}

// stopGroup asks the process group of cmd to terminate (SIGTERM), waits up
// to grace for the leader to exit, then kills the group.
func stopGroup(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	if cmd.Process == nil {
		return
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(grace):
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// An httpServer is a server process under test, serving MCP over HTTP.
type httpServer struct {
	URL    string // the Streamable HTTP endpoint
	stderr *tailBuffer
}

var listeningRE = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// startHTTPServer starts cmd (which must serve Streamable HTTP) and waits
// until it is ready: when addrFromStderr is set, until it prints
// "listening on 127.0.0.1:PORT" on stderr (the endpoint is then
// http://ADDR+path); otherwise until url accepts TCP connections. The
// process group is stopped when t ends.
func startHTTPServer(t testing.TB, cmd *exec.Cmd, url string, addrFromStderr bool, path string) *httpServer {
	t.Helper()
	processGroup(cmd)
	srv := &httpServer{URL: url, stderr: newTailBuffer(64 << 10)}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = srv.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(done)
	}()
	addrc := make(chan string, 1)
	go func() {
		// Copy stderr into the tail buffer, noting the listening address.
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(srv.stderr, line)
			if m := listeningRE.FindStringSubmatch(line); m != nil && !sent {
				addrc <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		stopGroup(cmd, done, 3*time.Second)
		if t.Failed() {
			t.Logf("stderr of %s:\n%s", cmd.Path, srv.stderr)
		}
	})

	deadline := time.After(15 * time.Second)
	if addrFromStderr {
		select {
		case addr := <-addrc:
			srv.URL = "http://" + addr + path
			return srv
		case <-done:
			t.Fatalf("%s exited before listening:\n%s", cmd.Path, srv.stderr)
		case <-deadline:
			t.Fatalf("%s did not report a listening address in 15s:\n%s", cmd.Path, srv.stderr)
		}
	}
	u, err := urlHostPort(url)
	if err != nil {
		t.Fatal(err)
	}
	for {
		c, err := net.DialTimeout("tcp", u, time.Second)
		if err == nil {
			c.Close()
			return srv
		}
		select {
		case <-done:
			t.Fatalf("%s exited before listening:\n%s", cmd.Path, srv.stderr)
		case <-deadline:
			t.Fatalf("%s not listening on %s after 15s:\n%s", cmd.Path, u, srv.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func urlHostPort(raw string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		return "", err
	}
	host := req.URL.Host
	if _, _, err := net.SplitHostPort(host); err != nil {
		return "", fmt.Errorf("%s: no port", raw)
	}
	return host, nil
}

// startDemoHTTP starts `switchboard demo everything --http 127.0.0.1:0`
// and returns its Streamable HTTP endpoint.
func startDemoHTTP(t testing.TB) *httpServer {
	t.Helper()
	needBins(t)
	cmd := exec.Command(bins.switchboard, "demo", "everything", "--http", "127.0.0.1:0")
	return startHTTPServer(t, cmd, "", true, "/mcp")
}

// demoStdioCommand is the command line of the demo server over stdio.
func demoStdioCommand() []string {
	return []string{bins.switchboard, "demo", "everything"}
}

// testContext returns a context bounded by d and by t's deadline.
func testContext(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// quote renders a command line for messages.
func quote(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(a))
	}
	return b.String()
}
