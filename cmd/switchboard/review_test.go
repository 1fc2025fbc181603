package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/internal/pgtest"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// TestMain lets the test binary run as the switchboard command, for tests
// that start it as a server process.
func TestMain(m *testing.M) {
	if os.Getenv("SWITCHBOARD_TEST_AS_CLI") == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	pgtest.Stop() // the PostgreSQL cluster some tests started
	os.Exit(code)
}

// serveTestHTTP serves srv over Streamable HTTP for the test and returns its
// URL.
func serveTestHTTP(t *testing.T, srv *mcp.Server) string {
	t.Helper()
	h := streamable.NewHandler(srv, nil)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		h.Close()
		srv.Close()
	})
	return ts.URL
}

// reviewServer has the tools the review of the CLI found wanting.
func reviewServer() *mcp.Server {
	s := mcp.NewServer(protocol.Implementation{Name: "review", Version: "1"}, nil)
	// Like server-filesystem's read_text_file: text and structured
	// content that differ.
	s.AddTool(&protocol.Tool{Name: "read_text_file", InputSchema: []byte(`{"type":"object","properties":{"path":{"type":"string"}}}`)},
		func(ctx context.Context, req *mcp.Request, p *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return &protocol.CallToolResult{
				Content:           []protocol.Content{&protocol.TextContent{Text: "line one\nline two\n"}},
				StructuredContent: []byte(`{"content":"line one\nline two\n"}`),
			}, nil
		})
	// Echoes its raw arguments; "v" has no type, "n" is a number, "flag"
	// a boolean, "tags" an array, "either" a number or a string.
	s.AddTool(&protocol.Tool{Name: "args", InputSchema: []byte(`{"type":"object","properties":{"v":{},"n":{"type":"number"},"i":{"type":"integer"},"flag":{"type":"boolean"},"tags":{"type":"array"},"either":{"type":["number","string"]},"color":{"enum":["red","green"]}}}`)},
		func(ctx context.Context, req *mcp.Request, p *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return &protocol.CallToolResult{Content: []protocol.Content{&protocol.TextContent{Text: string(p.Arguments)}}}, nil
		})
	// An error as the TypeScript SDK words them.
	s.AddTool(&protocol.Tool{Name: "ts_error", InputSchema: []byte(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.Request, p *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "MCP error -32602: no such file"}
		})
	s.AddTool(&protocol.Tool{Name: "sleep", InputSchema: []byte(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.Request, p *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
	return s
}

// Item 6: call prints one form of the result, pipeable to a file.
func TestCallOutputForms(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	url := serveTestHTTP(t, reviewServer())
	out, err := run(t, "call", url, "read_text_file", "path=/x")
	if err != nil || out != "line one\nline two\n" {
		t.Errorf("default output %q, %v; want the text content exactly", out, err)
	}
	out, err = run(t, "call", url, "read_text_file", "path=/x", "--structured")
	if err != nil || out != "{\n  \"content\": \"line one\\nline two\\n\"\n}\n" {
		t.Errorf("--structured output %q, %v", out, err)
	}
	out, err = run(t, "call", url, "read_text_file", "path=/x", "--json")
	if err != nil || !strings.Contains(out, `"structuredContent"`) || !strings.Contains(out, `"content": [`) {
		t.Errorf("--json output %q, %v", out, err)
	}
	if _, err := run(t, "call", url, "args", "--structured"); err == nil || !strings.Contains(err.Error(), "no structured content") {
		t.Errorf("--structured without structured content: %v", err)
	}
	// A tool error: stdout stays clean, the message goes to stderr.
	eurl := serveTestHTTP(t, everything.NewServer(nil))
	out, errOut, err := runAll(t, "call", eurl, "test_error_handling")
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || out != "" || !strings.Contains(errOut, "the tool reported an error") {
		t.Errorf("tool error: stdout %q, stderr %q, err %v", out, errOut, err)
	}
}

// Item 7: KEY=VALUE arguments follow the tool's input schema; KEY:=JSON
// forces JSON.
func TestCallArgumentsFollowTheSchema(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	eurl := serveTestHTTP(t, everything.NewServer(nil))
	if out, err := run(t, "call", eurl, "echo", "text=42"); err != nil || out != "42\n" {
		t.Errorf("echo text=42 (a string property): %q, %v", out, err)
	}
	url := serveTestHTTP(t, reviewServer())
	for _, tt := range []struct {
		args []string
		want string // the arguments the tool received, or the error
	}{
		{[]string{"n=42", "i=7", "flag=true", `tags=["a"]`}, `{"flag":true,"i":7,"n":42,"tags":["a"]}`},
		{[]string{"v=42", "v2=hello"}, `{"v":42,"v2":"hello"}`},
		{[]string{"either=3", "color=red"}, `{"color":"red","either":3}`},
		{[]string{"either=three"}, `{"either":"three"}`},
		{[]string{"v:=\"42\"", "n:=1e3"}, `{"n":1e3,"v":"42"}`},
		{[]string{"n=forty"}, "error: argument n: the tool wants number"},
		{[]string{"i=1.5"}, "error: argument i: the tool wants integer"},
		{[]string{"flag=yes"}, "error: argument flag: the tool wants boolean"},
		{[]string{"v:=not json"}, "error: argument v:=not json: not valid JSON"},
	} {
		out, err := run(t, append([]string{"call", url, "args"}, tt.args...)...)
		if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%v: %q, %v; want an error containing %q", tt.args, out, err, want)
			}
			continue
		}
		if err != nil || strings.TrimSpace(out) != tt.want {
			t.Errorf("%v: the tool received %q, %v; want %s", tt.args, out, err, tt.want)
		}
	}
}

// Item 9: --protocol-version is checked, and --task works in revision
// 2026-07-28 against the demo server.
func TestCallProtocolVersionAndTask(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	url := serveTestHTTP(t, everything.NewServer(nil))
	if _, err := run(t, "call", url, "echo", "text=x", "--protocol-version", "banana"); err == nil || !strings.Contains(err.Error(), "not a protocol revision") {
		t.Errorf("--protocol-version banana: %v", err)
	}
	for _, v := range []string{"2025-11-25", "2026-07-28"} {
		out, err := run(t, "call", url, "count_slowly", "to=2", "--task", "--protocol-version", v)
		if err != nil || !strings.Contains(out, "counted to 2") {
			t.Errorf("%s: call count_slowly --task: %q, %v", v, out, err)
		}
	}
	cmd := newCallCmd()
	if u := cmd.Flags().Lookup("protocol-version").Usage; !strings.Contains(u, "default "+protocol.LatestVersion) {
		t.Errorf("--protocol-version help %q does not name the default", u)
	}
}

// Item 12: messages of the other commands.
func TestClientCommandMessages(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	url := serveTestHTTP(t, reviewServer())
	_, err := run(t, "call", url, "ts_error")
	if err == nil || err.Error() != "calling ts_error: the server answered with error -32602 (invalid params): no such file" {
		t.Errorf("protocol error reads %q", err)
	}
	_, err = run(t, "call", url, "sleep", "--timeout", "300ms")
	if err == nil || !strings.Contains(err.Error(), "no answer within 300ms (--timeout") || strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("timeout reads %q", err)
	}
	eurl := serveTestHTTP(t, everything.NewServer(nil))
	file := filepath.Join(t.TempDir(), "static.txt")
	out, errOut, err := runAll(t, "read", eurl, "test://static-text", "-o", file)
	if err != nil || out != "" || !strings.Contains(errOut, "wrote ") || !strings.Contains(errOut, file) {
		t.Errorf("read -o: stdout %q, stderr %q, %v", out, errOut, err)
	}
	if b, err := os.ReadFile(file); err != nil || len(b) == 0 {
		t.Errorf("read -o wrote %q, %v", b, err)
	}
	out, errOut, err = runAll(t, "complete", eurl, "--prompt", "test_prompt_with_arguments", "arg1", "zzz")
	if err != nil || out != "" || !strings.Contains(errOut, "no completions") {
		t.Errorf("empty complete: stdout %q, stderr %q, %v", out, errOut, err)
	}
	demo, _, _ := newRootCmd().Find([]string{"demo"})
	if !strings.Contains(demo.Example, "switchboard demo everything") {
		t.Errorf("demo --help has no examples")
	}
	as, _, _ := newRootCmd().Find([]string{"auth-server"})
	if strings.Contains(as.Long, `to "switchboard serve"`) {
		t.Errorf("auth-server --help still says to give its URL to switchboard serve:\n%s", as.Long)
	}
}

// Item 12: inspect shows a server command's stderr unless -q.
func TestInspectShowsServerStderr(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	server := []string{"--", "/bin/sh", "-c", "echo hello-from-the-server >&2; exec \"$0\" demo everything", self}
	env := []string{"-e", "SWITCHBOARD_TEST_AS_CLI=1"}
	_, errOut, err := runAll(t, append(append([]string{"inspect"}, env...), server...)...)
	if err != nil || !strings.Contains(errOut, "hello-from-the-server") {
		t.Errorf("inspect: stderr %q, %v; want the server's stderr", errOut, err)
	}
	_, errOut, err = runAll(t, append(append([]string{"inspect", "-q"}, env...), server...)...)
	if err != nil || strings.Contains(errOut, "hello-from-the-server") {
		t.Errorf("inspect -q: stderr %q, %v; want it hidden", errOut, err)
	}
}

// Item 8: login with nobody at a terminal and no browser fails at once,
// after printing the URL, and says how to finish.
func TestLoginWithoutBrowserOrTerminal(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // no xdg-open
	old := isTerminal
	isTerminal = func(*os.File) bool { return false }
	t.Cleanup(func() { isTerminal = old })

	asTS := httptest.NewUnstartedServer(nil)
	rsTS := httptest.NewUnstartedServer(nil)
	asURL := "http://" + asTS.Listener.Addr().String()
	mcpURL := "http://" + rsTS.Listener.Addr().String() + "/mcp"
	as, err := authserver.New(authserver.Options{Issuer: asURL, Resources: []string{mcpURL}})
	if err != nil {
		t.Fatal(err)
	}
	asTS.Config.Handler = as
	asTS.Start()
	defer asTS.Close()
	v, err := as.Verifier(mcpURL)
	if err != nil {
		t.Fatal(err)
	}
	m, err := auth.New(v, &auth.Options{Resource: mcpURL, AuthorizationServers: []string{asURL}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	m.Mount(mux, http.NotFoundHandler())
	rsTS.Config.Handler = mux
	rsTS.Start()
	defer rsTS.Close()

	start := time.Now()
	_, errOut, err := runAll(t, "login", mcpURL)
	if err == nil || !strings.Contains(err.Error(), "--headless") || !strings.Contains(err.Error(), "no browser could be opened") {
		t.Errorf("login: %v; want a failure naming --headless", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("login took %v to fail", d)
	}
	if !strings.Contains(errOut, asURL+"/authorize?") {
		t.Errorf("login did not print the authorization URL:\n%s", errOut)
	}
}

// The README promises --help with examples for every command.
func TestEveryCommandHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.Example == "" && c.Name() != "help" && c.Name() != "completion" {
			t.Errorf("%q has no examples in --help", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd())
}
