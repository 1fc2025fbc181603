// Package examples_test builds every program under examples/ and runs it
// the way its doc comment says, so that an example that does not build,
// panics at start or does not do what it claims fails make test.
package examples_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/auto"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// tested lists the programs under examples/ and the test that runs each.
// TestEveryExampleIsTested fails when a directory is missing here.
var tested = map[string]string{
	"greeter":    "TestGreeter",
	"httpserver": "TestHTTPServer",
	"client":     "TestClient",
	"counterapp": "TestCounterAppOverStdio",
}

func TestEveryExampleIsTested(t *testing.T) {
	dirs, err := filepath.Glob("*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no examples found")
	}
	for _, d := range dirs {
		name := filepath.Dir(d)
		if _, ok := tested[name]; !ok {
			t.Errorf("examples/%s has no smoke test: add one to examples_test.go and list it in tested", name)
		}
	}
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binary builds every example once and returns the path of one.
func binary(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "switchboard-examples-")
		if buildErr != nil {
			return
		}
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goBin); err != nil {
			goBin = "go"
		}
		var pkgs []string
		for n := range tested {
			pkgs = append(pkgs, "./"+n)
		}
		cmd := exec.Command(goBin, append([]string{"build", "-o", binDir + string(filepath.Separator)}, pkgs...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{err: err, out: string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("building the examples: %v", buildErr)
	}
	return filepath.Join(binDir, name)
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// capture is a Dialer that keeps the stdio connection it makes, to read
// the server process's exit status after Close.
type capture struct {
	transport.Dialer
	conn *stdio.ClientConn
}

func (c *capture) Dial(ctx context.Context) (transport.ClientConn, error) {
	conn, err := c.Dialer.Dial(ctx)
	if sc, ok := conn.(*stdio.ClientConn); ok {
		c.conn = sc
	}
	return conn, err
}

func connect(t *testing.T, ctx context.Context, d transport.Dialer) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "examples-test", Version: "1"}, nil).Connect(ctx, d)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return cs
}

// greeter: "switchboard call greet name=Ada -- go run ./examples/greeter".
func TestGreeter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	d := &capture{Dialer: stdio.Command(binary(t, "greeter"), nil, &stdio.CommandOptions{Stderr: &stderr})}
	cs := connect(t, ctx, d)
	var names []string
	for tool, err := range cs.Tools(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	if len(names) != 1 || names[0] != "greet" {
		t.Errorf("tools %v, want [greet]", names)
	}
	for _, tt := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"name": "Ada"}, "Hello, Ada"},
		{map[string]any{"name": "Ada", "language": "fr"}, "Bonjour, Ada"},
	} {
		res, err := cs.CallToolArgs(ctx, "greet", tt.args)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Greeting string `json:"greeting"`
		}
		if res.IsError || json.Unmarshal(res.StructuredContent, &out) != nil || out.Greeting != tt.want {
			t.Errorf("greet %v: %+v %s, want %q", tt.args, res.Content, res.StructuredContent, tt.want)
		}
	}
	res, err := cs.CallToolArgs(ctx, "greet", map[string]any{"name": "Ada", "language": "de"})
	if err != nil || !res.IsError {
		t.Errorf("greet in an unlisted language: %v %+v, want a tool error", err, res)
	}
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if st := d.conn.ProcessState(); st == nil || st.ExitCode() != 0 {
		t.Errorf("greeter exit state %v after the client closed its input, want 0; stderr:\n%s", st, stderr.String())
	}
}

// startHTTPServer runs the httpserver example on a free port and returns
// its URL and process.
func startHTTPServer(t *testing.T) (string, *exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary(t, "httpserver"), "-addr", "127.0.0.1:0")
	pr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	var log bytes.Buffer
	urlc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/mcp`)
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if u := re.FindString(sc.Text()); u != "" && !sent {
				urlc <- u
				sent = true
			}
		}
		close(urlc)
	}()
	select {
	case u, ok := <-urlc:
		if !ok {
			t.Fatalf("httpserver exited without printing its URL")
		}
		return u, cmd, &log
	case <-time.After(20 * time.Second):
		t.Fatalf("httpserver did not print its URL")
	}
	return "", nil, nil
}

// httpserver: "go run ./examples/httpserver -addr 127.0.0.1:8081", then
// "switchboard inspect http://127.0.0.1:8081/mcp".
func TestHTTPServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url, cmd, _ := startHTTPServer(t)
	cs := connect(t, ctx, auto.NewHTTPDialer(url, nil))
	res, err := cs.CallToolArgs(ctx, "add", map[string]any{"a": 1, "b": 2.5})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Sum float64 `json:"sum"`
	}
	if res.IsError || json.Unmarshal(res.StructuredContent, &out) != nil || out.Sum != 3.5 {
		t.Errorf("add: %+v %s", res.Content, res.StructuredContent)
	}
	rr, err := cs.ReadResource(ctx, "example://time")
	if err != nil || len(rr.Contents) != 1 {
		t.Fatalf("read example://time: %v %+v", err, rr)
	}
	if tc, ok := rr.Contents[0].(*protocol.TextResourceContents); !ok {
		t.Errorf("example://time: %T", rr.Contents[0])
	} else if _, err := time.Parse(time.RFC3339, tc.Text); err != nil {
		t.Errorf("example://time is not a time: %q", tc.Text)
	}
	cs.Close()
	// Interrupted, it shuts down and exits 0.
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("httpserver after SIGINT: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("httpserver did not exit after SIGINT")
	}
}

// client: "go run ./examples/client http://127.0.0.1:8081/mcp add
// '{"a":1,"b":2}'" and "go run ./examples/client -- go run ./examples/greeter".
func TestClient(t *testing.T) {
	url, _, _ := startHTTPServer(t)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, binary(t, "client"), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("client %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run(url, "add", `{"a":1,"b":2}`)
	for _, want := range []string{"connected to example-http", "tool add: Add two numbers", `"sum":3`} {
		if !strings.Contains(out, want) {
			t.Errorf("client over HTTP: output lacks %q:\n%s", want, out)
		}
	}
	out = run("--", binary(t, "greeter"))
	for _, want := range []string{"connected to greeter", "tool greet: Greet someone by name"} {
		if !strings.Contains(out, want) {
			t.Errorf("client over stdio: output lacks %q:\n%s", want, out)
		}
	}
}

// counterapp: an MCP App over stdio, as "switchboard serve --config" runs
// it: the app's resource reads back as the app's HTML, show_counter links
// to it, counter_increment (for the app only) counts, and the program ends
// cleanly when its input closes.
func TestCounterAppOverStdio(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	d := &capture{Dialer: stdio.Command(binary(t, "counterapp"), nil, &stdio.CommandOptions{Stderr: &stderr})}
	cs := connect(t, ctx, d)
	var uri string
	for tool, err := range cs.Tools(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if tool.Name == "show_counter" {
			ui, _ := tool.Meta["ui"].(map[string]any)
			uri, _ = ui["resourceUri"].(string)
		}
	}
	if !strings.HasPrefix(uri, "ui://") {
		t.Fatalf("show_counter links to %q, want a ui:// resource", uri)
	}
	read, err := cs.ReadResource(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Contents) != 1 {
		t.Fatalf("%s: %d contents, want 1", uri, len(read.Contents))
	}
	if tc, ok := read.Contents[0].(*protocol.TextResourceContents); !ok || tc.MIMEType != "text/html;profile=mcp-app" || !strings.Contains(strings.ToLower(tc.Text), "<html") {
		t.Errorf("%s reads as %#v, want the app's HTML", uri, read.Contents[0])
	}
	var last string
	for range 2 {
		res, err := cs.CallToolArgs(ctx, "counter_increment", map[string]any{"by": 2})
		if err != nil || res.IsError {
			t.Fatalf("counter_increment: %v %+v", err, res)
		}
		last = string(res.StructuredContent)
	}
	if !strings.Contains(last, "4") {
		t.Errorf("after two increments by 2 the counter reads %s, want 4", last)
	}
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if st := d.conn.ProcessState(); st == nil || st.ExitCode() != 0 || stderr.Len() != 0 {
		t.Errorf("counterapp ended with %v and stderr %q, want status 0 and nothing", st, stderr.String())
	}
}
