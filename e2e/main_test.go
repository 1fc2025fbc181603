package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// wait bounds every wait of these tests.
const wait = 10 * time.Second

// binary is the switchboard binary built by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "switchboard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "switchboard")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/switchboard-mcp/switchboard/cmd/switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool(), args...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building switchboard: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// goTool returns the go command that runs these tests.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// message is a decoded JSON-RPC message with its raw text.
type message struct {
	raw []byte
	jsonrpc.Message
}

func (m message) request() (*jsonrpc.Request, bool) {
	r, ok := m.Message.(*jsonrpc.Request)
	return r, ok
}

func (m message) response() (*jsonrpc.Response, bool) {
	r, ok := m.Message.(*jsonrpc.Response)
	return r, ok
}

// inbox collects the messages a client receives.
type inbox struct {
	mu      sync.Mutex
	msgs    []message
	closed  bool
	changed chan struct{}
}

func newInbox() *inbox { return &inbox{changed: make(chan struct{})} }

// add decodes and stores one message, or each member of a batch (the
// answer to a 2025-03-26 batch); it reports an invalid one.
func (b *inbox) add(raw []byte) error {
	msgs, errs, _, err := jsonrpc.DecodeBatch(bytes.Clone(raw))
	if err == nil {
		err = errors.Join(errs...)
	}
	if err != nil {
		return fmt.Errorf("invalid message from the server %q: %w", raw, err)
	}
	b.mu.Lock()
	for _, m := range msgs {
		b.msgs = append(b.msgs, message{raw: bytes.Clone(raw), Message: m})
	}
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
	return nil
}

func (b *inbox) close() {
	b.mu.Lock()
	b.closed = true
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// waitFor waits for a message satisfying pred.
func (b *inbox) waitFor(t testing.TB, what string, pred func(message) bool) message {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		b.mu.Lock()
		for _, m := range b.msgs {
			if pred(m) {
				b.mu.Unlock()
				return m
			}
		}
		closed, ch := b.closed, b.changed
		b.mu.Unlock()
		if closed {
			t.Fatalf("waiting for %s: the stream ended", what)
		}
		select {
		case <-ch:
		case <-timer.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// response waits for the response with the given id.
func (b *inbox) response(t testing.TB, id jsonrpc.ID) *jsonrpc.Response {
	t.Helper()
	m := b.waitFor(t, "the response to "+id.String(), func(m message) bool {
		r, ok := m.response()
		return ok && r.ID == id
	})
	r, _ := m.response()
	return r
}

// requests returns the requests and notifications received with method.
func (b *inbox) requests(method string) []*jsonrpc.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*jsonrpc.Request
	for _, m := range b.msgs {
		if r, ok := m.request(); ok && r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// answerer computes the client's answer to a request from the server:
// a result, or an error.
type answerer func(req *jsonrpc.Request) (any, *jsonrpc.Error)

// stdioServer is a switchboard child process spoken to over its stdin and
// stdout.
type stdioServer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	wmu    sync.Mutex
	in     *inbox
	stderr *lockedBuffer
	exited chan struct{}
	err    error // the process's exit status, once exited is closed
	nextID int64
	answer answerer
}

// startStdio starts `switchboard args...` and reads its output until it
// exits. The process is killed when the test ends if still running.
func startStdio(t *testing.T, answer answerer, args ...string) *stdioServer {
	t.Helper()
	return startStdioEnv(t, answer, nil, args...)
}

// startStdioEnv is startStdio with env added to the process's environment.
func startStdioEnv(t *testing.T, answer answerer, env []string, args ...string) *stdioServer {
	t.Helper()
	s := &stdioServer{t: t, in: newInbox(), stderr: &lockedBuffer{}, exited: make(chan struct{}), answer: answer}
	s.cmd = exec.Command(binary, args...)
	if env != nil {
		s.cmd.Env = append(os.Environ(), env...)
	}
	s.cmd.Stderr = s.stderr
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer s.in.close()
		r := bufio.NewReaderSize(stdout, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				if aerr := s.in.add(line); aerr != nil {
					t.Error(aerr)
				} else {
					s.maybeAnswer(line)
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		<-readDone // Wait closes stdout: read it all first
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("server stderr:\n%s", s.stderr.String())
		}
	})
	return s
}

// maybeAnswer answers a request from the server.
func (s *stdioServer) maybeAnswer(line []byte) {
	m, _ := jsonrpc.Decode(bytes.Clone(line))
	req, ok := m.(*jsonrpc.Request)
	if !ok || req.IsNotification() || s.answer == nil {
		return
	}
	result, rerr := s.answer(req)
	resp := &jsonrpc.Response{ID: req.ID, Error: rerr}
	if rerr == nil {
		b, err := json.Marshal(result)
		if err != nil {
			s.t.Errorf("encoding an answer: %v", err)
			return
		}
		resp.Result = b
	}
	s.write(jsonrpc.AppendResponse(nil, resp))
}

func (s *stdioServer) write(frame []byte) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if _, err := s.stdin.Write(append(frame, '\n')); err != nil {
		s.t.Errorf("writing to the server: %v", err)
	}
}

// call sends a request and waits for its response.
func (s *stdioServer) call(method string, params any) *jsonrpc.Response {
	s.t.Helper()
	s.wmu.Lock()
	s.nextID++
	id := jsonrpc.Int64ID(s.nextID)
	s.wmu.Unlock()
	s.write(jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: id, Method: method, Params: rawJSON(s.t, params)}))
	return s.in.response(s.t, id)
}

// result is call that decodes the result and fails the test on an error.
func (s *stdioServer) result(method string, params, result any) {
	s.t.Helper()
	resp := s.call(method, params)
	decodeResult(s.t, method, resp, result)
}

func (s *stdioServer) notify(method string, params any) {
	s.write(jsonrpc.AppendRequest(nil, &jsonrpc.Request{Method: method, Params: rawJSON(s.t, params)}))
}

// waitExit waits for the process to exit and returns its exit code.
func (s *stdioServer) waitExit(d time.Duration) int {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(d):
		s.t.Fatalf("the server did not exit within %v", d)
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return 128 + int(st.Signal())
		}
		return ee.ExitCode()
	}
	if s.err != nil {
		s.t.Fatalf("waiting for the server: %v", s.err)
	}
	return 0
}

// rawJSON encodes params: nil for none, a string as raw JSON, else
// json.Marshal.
func rawJSON(t testing.TB, params any) jsontext.Value {
	t.Helper()
	switch p := params.(type) {
	case nil:
		return nil
	case string:
		return jsontext.Value(p)
	}
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeResult(t testing.TB, method string, resp *jsonrpc.Response, result any) {
	t.Helper()
	if resp.Error != nil {
		t.Fatalf("%s: %v", method, resp.Error)
	}
	if result == nil {
		return
	}
	if err := json.Unmarshal(resp.Result, result); err != nil {
		t.Fatalf("%s: decoding %s: %v", method, resp.Result, err)
	}
}

// httpServer is `switchboard demo everything --http 127.0.0.1:0`.
type httpServer struct {
	*stdioServer
	base string // http://127.0.0.1:PORT
}

var listeningRE = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// startHTTP starts the demo on an ephemeral loopback port and returns its
// base URL, read from the address it reports.
func startHTTP(t *testing.T, extra ...string) *httpServer {
	t.Helper()
	s := startStdio(t, nil, append([]string{"demo", "everything", "--http", "127.0.0.1:0"}, extra...)...)
	deadline := time.Now().Add(wait)
	for {
		if m := listeningRE.FindStringSubmatch(s.stderr.String()); m != nil {
			return &httpServer{stdioServer: s, base: "http://" + m[1]}
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

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	id, event, data string
}

// readSSE parses an event stream, sending each event to out, until the
// stream ends or ctx is done. Comments and retry fields are skipped. It is
// deliberately independent of the server's own SSE code.
func readSSE(ctx context.Context, r io.Reader, out chan<- sseEvent) error {
	br := bufio.NewReader(r)
	var ev sseEvent
	var data []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if len(data) > 0 || ev.event != "" {
				ev.data = strings.Join(data, "\n")
				select {
				case out <- ev:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				ev.id = value
			case "event":
				ev.event = value
			case "data":
				data = append(data, value)
			}
		}
	}
}
