package stdio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// helperEnv names the variable that makes the test binary act as a child
// process for the tests instead of running them.
const helperEnv = "SWITCHBOARD_STDIO_TEST_HELPER"

const waitTimeout = 10 * time.Second

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// runHelper is the child process side of the process tests.
func runHelper(mode string) int {
	ready := func() { fmt.Println(`{"jsonrpc":"2.0","method":"ready"}`) }
	switch mode {
	case "everything":
		if err := everything.NewServer(nil).ServeStdio(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 1
		}
		return 0
	case "garbage":
		fmt.Println("Starting the server on stdout, oops")
		fmt.Fprintln(os.Stderr, "loading config")
		fmt.Fprintln(os.Stderr, "fatal: cannot open config.yaml: \x1b[31mno such file\x1b[0m")
		return 3
	case "flood":
		// More stderr than the tail keeps, then a last line.
		line := strings.Repeat("x", 99) + "\n"
		for range 2000 {
			os.Stderr.WriteString(line)
		}
		os.Stderr.WriteString("the end\n")
		return 1
	case "env":
		vars := map[string]string{}
		for _, name := range []string{"SECRET_X", "EXTRA_Y", "PATH", helperEnv} {
			if v, ok := os.LookupEnv(name); ok {
				vars[name] = v
			}
		}
		params, _ := json.Marshal(vars)
		fmt.Printf(`{"jsonrpc":"2.0","method":"env","params":%s}`+"\n", params)
		io.Copy(io.Discard, os.Stdin) // exit on EOF
		return 0
	case "pwd":
		dir, _ := os.Getwd()
		params, _ := json.Marshal(map[string]string{"dir": dir})
		fmt.Printf(`{"jsonrpc":"2.0","method":"pwd","params":%s}`+"\n", params)
		io.Copy(io.Discard, os.Stdin)
		return 0
	case "hang":
		// Ignores stdin; the default SIGTERM action ends it.
		ready()
		time.Sleep(time.Hour)
		return 0
	case "hang-ignore-term":
		signal.Ignore(syscall.SIGTERM)
		ready()
		time.Sleep(time.Hour)
		return 0
	case "exit-later":
		// Exits on its own while the client waits in Recv.
		ready()
		time.Sleep(300 * time.Millisecond)
		fmt.Fprintln(os.Stderr, "bye")
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	return 2
}

// helper returns a Dialer that runs the test binary in a helper mode.
func helper(t *testing.T, mode string, opts *stdio.CommandOptions) transport.Dialer {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var o stdio.CommandOptions
	if opts != nil {
		o = *opts
	}
	// A race-enabled binary sleeps a second when it exits, unless told
	// not to.
	o.Env = append([]string{helperEnv + "=" + mode, "GORACE=atexit_sleep_ms=0"}, o.Env...)
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	return stdio.Command(exe, nil, &o)
}

// checkGoroutines fails the test if goroutines started during it are
// still running when it ends. Call it first, so that it runs after the
// other cleanups.
func checkGoroutines(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d, before: %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func request(id int64, method, params string) *jsonrpc.Request {
	r := &jsonrpc.Request{ID: jsonrpc.Int64ID(id), Method: method}
	if params != "" {
		r.Params = jsontext.Value(params)
	}
	return r
}

func notification(method string) *jsonrpc.Request {
	return &jsonrpc.Request{Method: method}
}

// recvResponse reads messages until the response to id, skipping
// notifications. A server request fails the test.
func recvResponse(t *testing.T, conn transport.ClientConn, id int64) *jsonrpc.Response {
	t.Helper()
	ctx := ctxT(t)
	for {
		m, err := conn.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv (waiting for response %d): %v", id, err)
		}
		switch m := m.(type) {
		case *jsonrpc.Response:
			if n, _ := m.ID.Int64(); n == id {
				return m
			}
			t.Fatalf("unexpected response %v", m.ID)
		case *jsonrpc.Request:
			if !m.IsNotification() {
				t.Fatalf("unexpected request %s", m.Method)
			}
		}
	}
}

const initParams = `{"protocolVersion":"2025-11-25","capabilities":{"sampling":{}},"clientInfo":{"name":"stdio-test","version":"1"}}`

// initialize runs the initialize handshake.
func initialize(t *testing.T, conn transport.ClientConn) {
	t.Helper()
	ctx := ctxT(t)
	if err := conn.Send(ctx, request(1, "initialize", initParams)); err != nil {
		t.Fatal(err)
	}
	resp := recvResponse(t, conn, 1)
	if resp.Error != nil {
		t.Fatalf("initialize: %v", resp.Error)
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
		ServerInfo      struct {
			Name string `json:"name"`
		} `json:"serverInfo"`
	}
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res.ProtocolVersion != "2025-11-25" || res.ServerInfo.Name != "switchboard-everything" {
		t.Fatalf("initialize result: %s", resp.Result)
	}
	if err := conn.Send(ctx, notification("notifications/initialized")); err != nil {
		t.Fatal(err)
	}
}

// callEcho calls the echo tool and checks its answer.
func callEcho(t *testing.T, conn transport.ClientConn, id int64, text string) {
	t.Helper()
	params := fmt.Sprintf(`{"name":"echo","arguments":{"text":%q}}`, text)
	if err := conn.Send(ctxT(t), request(id, "tools/call", params)); err != nil {
		t.Fatal(err)
	}
	checkEcho(t, recvResponse(t, conn, id), text)
}

func checkEcho(t *testing.T, resp *jsonrpc.Response, text string) {
	t.Helper()
	if resp.Error != nil {
		t.Fatalf("tools/call: %v", resp.Error)
	}
	var res struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res.IsError || len(res.Content) != 1 || res.Content[0].Text != text {
		t.Fatalf("echo result: %s", resp.Result)
	}
}

// inProcess connects a client to the everything server over a Pipe.
func inProcess(t *testing.T, opts *stdio.ClientOptions) *stdio.ClientConn {
	t.Helper()
	client, server := stdio.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- stdio.Serve(ctx, everything.NewServer(nil), server, nil) }()
	conn := stdio.NewClientConn(client, opts)
	t.Cleanup(func() {
		conn.Close()
		cancel()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Error("Serve did not return")
		}
	})
	return conn
}

func TestInProcessSession(t *testing.T) {
	checkGoroutines(t)
	conn := inProcess(t, nil)
	initialize(t, conn)
	if err := conn.Send(ctxT(t), request(2, "tools/list", "")); err != nil {
		t.Fatal(err)
	}
	resp := recvResponse(t, conn, 2)
	if !bytes.Contains(resp.Result, []byte(`"echo"`)) {
		t.Fatalf("tools/list: %s", resp.Result)
	}
	callEcho(t, conn, 3, "hello")
	callEcho(t, conn, 4, "line\nbreak and \"quotes\" and ünïcode")
}

// TestInProcessServerRequest answers a request the server sends while
// serving a tool call (sampling).
func TestInProcessServerRequest(t *testing.T) {
	checkGoroutines(t)
	conn := inProcess(t, nil)
	initialize(t, conn)
	ctx := ctxT(t)
	if err := conn.Send(ctx, request(2, "tools/call", `{"name":"test_sampling","arguments":{"prompt":"hi"}}`)); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := conn.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *jsonrpc.Request:
			if m.Method != "sampling/createMessage" || m.IsNotification() {
				continue
			}
			result := `{"role":"assistant","content":{"type":"text","text":"sampled!"},"model":"test-model"}`
			if err := conn.Send(ctx, &jsonrpc.Response{ID: m.ID, Result: jsontext.Value(result)}); err != nil {
				t.Fatal(err)
			}
		case *jsonrpc.Response:
			if !bytes.Contains(m.Result, []byte("sampled!")) {
				t.Fatalf("tool result: %s %v", m.Result, m.Error)
			}
			return
		}
	}
}

// TestConcurrentSend sends many requests from many goroutines; every one
// must arrive whole and be answered.
func TestConcurrentSend(t *testing.T) {
	checkGoroutines(t)
	conn := inProcess(t, nil)
	initialize(t, conn)
	ctx := ctxT(t)
	const n = 100
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			params := fmt.Sprintf(`{"name":"echo","arguments":{"text":"msg %d %s"}}`, i, strings.Repeat("y", i*100))
			if err := conn.Send(ctx, request(int64(100+i), "tools/call", params)); err != nil {
				t.Error(err)
			}
		})
	}
	seen := map[int64]bool{}
	for len(seen) < n {
		m, err := conn.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		resp, ok := m.(*jsonrpc.Response)
		if !ok {
			continue
		}
		id, _ := resp.ID.Int64()
		i := int(id - 100)
		if i < 0 || i >= n || seen[id] {
			t.Fatalf("unexpected response id %d", id)
		}
		seen[id] = true
		checkEcho(t, resp, fmt.Sprintf("msg %d %s", i, strings.Repeat("y", i*100)))
	}
	wg.Wait()
}

// rawPair returns a client connection and the server's end of its
// stream, for tests that script the server.
func rawPair(t *testing.T, clientOpts *stdio.Options, opts *stdio.ClientOptions) (*stdio.ClientConn, *stdio.Stream) {
	t.Helper()
	cr, sw := io.Pipe()
	sr, cw := io.Pipe()
	conn := stdio.NewClientConn(stdio.NewStream(cr, cw, clientOpts), opts)
	server := stdio.NewStream(sr, sw, nil)
	t.Cleanup(func() {
		conn.Close()
		server.Close()
	})
	return conn, server
}

// TestInvalidFrames checks that invalid and oversized frames are skipped
// and reported, and the stream stays usable.
func TestInvalidFrames(t *testing.T) {
	checkGoroutines(t)
	var mu sync.Mutex
	var errs []error
	conn, server := rawPair(t, &stdio.Options{MaxMessageSize: 200}, &stdio.ClientOptions{OnDecodeError: func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}})
	frames := []string{
		`this is not json`,
		`{"jsonrpc":"2.0","method":"first"}`,
		`{"jsonrpc":"2.0","method":"big","params":{"x":"` + strings.Repeat("z", 300) + `"}}`,
		`{"jsonrpc":"1.0","method":"wrong version"}`,
		`{"jsonrpc":"2.0","id":7,"result":{}}`,
		`[{"jsonrpc":"2.0","method":"batch1"},{"bad":true},{"jsonrpc":"2.0","method":"batch2"}]`,
		`   `,
		`{"jsonrpc":"2.0","method":"last"}`,
	}
	go func() {
		for _, f := range frames {
			if err := server.WriteFrame([]byte(f)); err != nil {
				return
			}
		}
	}()
	ctx := ctxT(t)
	var got []string
	for len(got) < 5 {
		m, err := conn.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *jsonrpc.Request:
			got = append(got, m.Method)
		case *jsonrpc.Response:
			got = append(got, "response "+m.ID.String())
		}
	}
	want := []string{"first", "response 7", "batch1", "batch2", "last"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 4 {
		t.Fatalf("decode errors: %v", errs)
	}
	if !errors.Is(errs[1], jsonrpc.ErrFrameTooLarge) {
		t.Errorf("second error = %v, want ErrFrameTooLarge", errs[1])
	}
	for _, i := range []int{0, 2, 3} {
		var de *jsonrpc.DecodeError
		if !errors.As(errs[i], &de) {
			t.Errorf("error %d = %v, want a DecodeError", i, errs[i])
		}
	}
}

// TestStreamEnd checks what Recv reports when the server's side ends,
// and that messages sent before are delivered first.
func TestStreamEnd(t *testing.T) {
	checkGoroutines(t)
	conn, server := rawPair(t, nil, nil)
	go func() {
		server.WriteFrame([]byte(`{"jsonrpc":"2.0","method":"bye"}`))
		server.Close()
	}()
	ctx := ctxT(t)
	m, err := conn.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := m.(*jsonrpc.Request); !ok || r.Method != "bye" {
		t.Fatalf("got %#v", m)
	}
	for range 2 {
		if _, err := conn.Recv(ctx); err != io.EOF {
			t.Fatalf("Recv after end = %v, want io.EOF", err)
		}
	}
	if err := conn.Send(ctx, notification("x")); err == nil {
		t.Fatal("Send to a closed stream succeeded")
	}
	conn.Close()
	if _, err := conn.Recv(ctx); err != transport.ErrConnClosed {
		t.Fatalf("Recv after Close = %v", err)
	}
}

// TestCloseUnblocks checks that Close ends pending Recv and Send calls.
func TestCloseUnblocks(t *testing.T) {
	checkGoroutines(t)
	conn, _ := rawPair(t, nil, nil) // the server never reads nor writes
	ctx := ctxT(t)
	recvErr := make(chan error, 1)
	go func() {
		_, err := conn.Recv(ctx)
		recvErr <- err
	}()
	sendErr := make(chan error, 1)
	go func() { sendErr <- conn.Send(ctx, notification("blocked")) }()
	time.Sleep(50 * time.Millisecond)

	// Sends behind the blocked one are queued until more than a megabyte
	// waits; then a Send waits, and its context bounds the wait.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := conn.Send(short, notification("second")); err != nil {
		t.Fatalf("second Send = %v, want it queued", err)
	}
	big := &jsonrpc.Request{Method: "big", Params: jsontext.Value(`"` + strings.Repeat("b", 2<<20) + `"`)}
	if err := conn.Send(short, big); err != nil {
		t.Fatalf("third Send = %v, want it queued", err)
	}
	if err := conn.Send(short, notification("fourth")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fourth Send = %v, want DeadlineExceeded", err)
	}
	// Recv honours its context.
	if _, err := conn.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv with an expired context = %v", err)
	}

	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan error{"Recv": recvErr, "Send": sendErr} {
		select {
		case err := <-ch:
			if err != transport.ErrConnClosed {
				t.Errorf("%s = %v, want ErrConnClosed", name, err)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("%s still blocked after Close", name)
		}
	}
	if err := conn.Send(ctx, notification("late")); err != transport.ErrConnClosed {
		t.Errorf("Send after Close = %v", err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// TestBackpressure checks that a client that does not call Recv stops
// reading, so the server's writes block, and that nothing is lost.
func TestBackpressure(t *testing.T) {
	checkGoroutines(t)
	conn, server := rawPair(t, nil, nil)
	const n = 1000
	var mu sync.Mutex
	written := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			if err := server.WriteFrame(fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"m%d"}`, i)); err != nil {
				return
			}
			mu.Lock()
			written++
			mu.Unlock()
		}
	}()
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	w := written
	mu.Unlock()
	if w >= n {
		t.Fatalf("the server wrote all %d messages with no one receiving", n)
	}
	ctx := ctxT(t)
	for i := range n {
		m, err := conn.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m.(*jsonrpc.Request).Method, fmt.Sprintf("m%d", i); got != want {
			t.Fatalf("message %d: %s", i, got)
		}
	}
	<-done
}

func TestPipeCloseEndsBoth(t *testing.T) {
	checkGoroutines(t)
	a, b := stdio.Pipe()
	go a.WriteFrame([]byte("hello"))
	f, err := b.ReadFrame()
	if err != nil || string(f) != "hello" {
		t.Fatalf("ReadFrame = %q, %v", f, err)
	}
	a.Close()
	if _, err := b.ReadFrame(); err != io.EOF {
		t.Errorf("ReadFrame after the other side closed = %v", err)
	}
	if err := b.WriteFrame([]byte("x")); err == nil {
		t.Error("WriteFrame after the other side closed succeeded")
	}
}

// TestProcessSession runs the everything server in a child process.
func TestProcessSession(t *testing.T) {
	checkGoroutines(t)
	conn, err := helper(t, "everything", nil).Dial(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	initialize(t, conn)
	callEcho(t, conn, 2, "from a child process")
	start := time.Now()
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v; the server should exit when its stdin closes", d)
	}
	st := conn.(*stdio.ClientConn).ProcessState()
	if st == nil || !st.Success() {
		t.Fatalf("process state after Close: %v", st)
	}
	if _, err := conn.Recv(ctxT(t)); err != transport.ErrConnClosed {
		t.Fatalf("Recv after Close = %v", err)
	}
}

// TestSwitchboardBinary runs `switchboard demo everything`, the real
// command, as the server. It builds the command, or uses the binary named
// by $SWITCHBOARD_BIN.
func TestSwitchboardBinary(t *testing.T) {
	bin := os.Getenv("SWITCHBOARD_BIN")
	if bin == "" {
		if testing.Short() {
			t.Skip("builds the switchboard command")
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			t.Skip("no go command to build switchboard with")
		}
		bin = filepath.Join(t.TempDir(), "switchboard")
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		buildCtx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		build := exec.CommandContext(buildCtx, goTool, "build", "-o", bin, "github.com/switchboard-mcp/switchboard/cmd/switchboard")
		if out, err := build.CombinedOutput(); err != nil {
			// Another package may be mid-edit; that is not this
			// transport's failure.
			t.Skipf("cannot build switchboard: %v\n%s", err, out)
		}
	}
	checkGoroutines(t)
	ctx := ctxT(t)
	var stderr syncBuffer
	conn, err := stdio.Command(bin, []string{"demo", "everything"}, &stdio.CommandOptions{Stderr: &stderr}).Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	initialize(t, conn)
	callEcho(t, conn, 2, "from switchboard")
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if st := conn.(*stdio.ClientConn).ProcessState(); st == nil || !st.Success() {
		t.Fatalf("switchboard exited with %v; stderr:\n%s", st, stderr.String())
	}
}

func TestCommandNotFound(t *testing.T) {
	checkGoroutines(t)
	for _, tc := range []struct {
		name, cmd, dir string
		is             error
		mention        string
	}{
		{name: "not on PATH", cmd: "switchboard-no-such-server-xyz", is: exec.ErrNotFound, mention: "switchboard-no-such-server-xyz"},
		{name: "no such file", cmd: filepath.Join(t.TempDir(), "missing"), is: os.ErrNotExist, mention: "missing"},
		{name: "no such directory", cmd: os.Args[0], dir: filepath.Join(t.TempDir(), "nodir"), is: os.ErrNotExist, mention: "nodir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := stdio.Command(tc.cmd, nil, &stdio.CommandOptions{Dir: tc.dir}).Dial(ctxT(t))
			if err == nil {
				conn.Close()
				t.Fatal("Dial succeeded")
			}
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("Dial error %q: want %v mentioning %q", err, tc.is, tc.mention)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := helper(t, "everything", nil).Dial(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial with a cancelled context = %v", err)
	}
}

// TestServerCrash checks the error of a server that writes garbage to
// stdout and a complaint to stderr, then exits.
func TestServerCrash(t *testing.T) {
	checkGoroutines(t)
	var stderr syncBuffer
	var decodeErrs int
	conn, err := helper(t, "garbage", &stdio.CommandOptions{
		Stderr:        &stderr,
		OnDecodeError: func(error) { decodeErrs++ },
	}).Dial(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.Recv(ctxT(t))
	var ee *stdio.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("Recv = %v, want an ExitError", err)
	}
	if !errors.Is(err, io.EOF) {
		t.Errorf("the error does not wrap io.EOF")
	}
	if ee.State == nil || ee.State.ExitCode() != 3 {
		t.Errorf("exit state %v", ee.State)
	}
	msg := err.Error()
	for _, want := range []string{"exit status 3", "fatal: cannot open config.yaml", "loading config", "Starting the server on stdout", "1 line(s)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "\x1b") {
		t.Errorf("error message carries a raw escape character: %q", msg)
	}
	if decodeErrs != 1 {
		t.Errorf("OnDecodeError called %d times", decodeErrs)
	}
	if _, err2 := conn.Recv(ctxT(t)); err2 != err {
		t.Errorf("second Recv = %v, want the same error", err2)
	}
	if err := conn.Send(ctxT(t), notification("x")); err == nil {
		t.Error("Send to an exited server succeeded")
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "\x1b[31mno such file") {
		t.Errorf("Stderr writer got %q", stderr.String())
	}
}

// TestStderrTail checks that the error keeps only the end of a long
// stderr, from the start of a line.
func TestStderrTail(t *testing.T) {
	checkGoroutines(t)
	var stderr syncBuffer
	conn, err := helper(t, "flood", &stdio.CommandOptions{Stderr: &stderr}).Dial(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.Recv(ctxT(t))
	var ee *stdio.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("Recv = %v", err)
	}
	if len(ee.Stderr) > stdio.StderrTailSize || len(ee.Stderr) < stdio.StderrTailSize-200 {
		t.Errorf("tail of %d bytes", len(ee.Stderr))
	}
	if !strings.HasSuffix(ee.Stderr, "x\nthe end") || !strings.HasPrefix(ee.Stderr, strings.Repeat("x", 99)+"\n") {
		t.Errorf("tail %q...%q", ee.Stderr[:120], ee.Stderr[len(ee.Stderr)-20:])
	}
	conn.Close()
	if got := len(stderr.String()); got != 2000*100+len("the end\n") {
		t.Errorf("Stderr writer got %d bytes", got)
	}
}

// TestServerExitsWhileReceiving checks that a pending Recv learns of a
// server that exits on its own.
func TestServerExitsWhileReceiving(t *testing.T) {
	checkGoroutines(t)
	conn, err := helper(t, "exit-later", nil).Dial(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := ctxT(t)
	if m, err := conn.Recv(ctx); err != nil || m.(*jsonrpc.Request).Method != "ready" {
		t.Fatalf("Recv = %v, %v", m, err)
	}
	_, err = conn.Recv(ctx)
	var ee *stdio.ExitError
	if !errors.As(err, &ee) || !ee.State.Success() || ee.Stderr != "bye" {
		t.Fatalf("Recv = %v", err)
	}
	if !strings.Contains(err.Error(), "exit status 0") {
		t.Errorf("message: %v", err)
	}
}

// TestEnvironment checks which variables reach the server process.
func TestEnvironment(t *testing.T) {
	checkGoroutines(t)
	t.Setenv("SECRET_X", "hunter2")
	for _, tc := range []struct {
		name    string
		opts    stdio.CommandOptions
		want    map[string]string
		without []string
	}{
		{
			name:    "default",
			want:    map[string]string{"PATH": os.Getenv("PATH")},
			without: []string{"SECRET_X", "EXTRA_Y"},
		},
		{
			name:    "extra",
			opts:    stdio.CommandOptions{Env: []string{"EXTRA_Y=given", "PATH=/override"}},
			want:    map[string]string{"EXTRA_Y": "given", "PATH": "/override"},
			without: []string{"SECRET_X"},
		},
		{
			name: "inherit",
			opts: stdio.CommandOptions{InheritEnv: true, Env: []string{"EXTRA_Y=given"}},
			want: map[string]string{"SECRET_X": "hunter2", "EXTRA_Y": "given", "PATH": os.Getenv("PATH")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := helper(t, "env", &tc.opts).Dial(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			m, err := conn.Recv(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			if err := json.Unmarshal(m.(*jsonrpc.Request).Params, &got); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for _, k := range tc.without {
				if v, ok := got[k]; ok {
					t.Errorf("%s = %q reached the server", k, v)
				}
			}
		})
	}
}

func TestDir(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	conn, err := helper(t, "pwd", &stdio.CommandOptions{Dir: dir}).Dial(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m, err := conn.Recv(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Dir string `json:"dir"`
	}
	json.Unmarshal(m.(*jsonrpc.Request).Params, &got)
	want, _ := filepath.EvalSymlinks(dir)
	if gotDir, _ := filepath.EvalSymlinks(got.Dir); gotDir != want {
		t.Fatalf("server ran in %q, want %q", got.Dir, dir)
	}
}

// TestSendInterruptedByContext fills the pipe to a server that does not
// read: Send gives up when its context ends and the connection is then
// broken.
func TestSendInterruptedByContext(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("pipes have no write deadlines on Windows")
	}
	checkGoroutines(t)
	conn, err := helper(t, "hang", &stdio.CommandOptions{ShutdownTimeout: 200 * time.Millisecond}).Dial(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Recv(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	big := &jsonrpc.Request{Method: "big", Params: jsontext.Value(`"` + strings.Repeat("b", 4<<20) + `"`)}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := conn.Send(ctx, big); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Send returned after %v", d)
	}
	if err := conn.Send(ctxT(t), notification("after")); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("Send after an interrupted send = %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
