package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// run executes the command line with args and returns its stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, _, err := runAll(t, args...)
	return out, err
}

// runAll executes the command line with args and returns its stdout and
// stderr.
func runAll(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	root := newRootCmd()
	var out, errOut syncBuffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (a server's
// stderr is copied by a goroutine of its own).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestClientCommands(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no stored tokens
	srv := everything.NewServer(nil)
	defer srv.Close()
	h := streamable.NewHandler(srv, nil)
	defer h.Close()
	ts := httptest.NewServer(h)
	defer ts.Close()
	url := ts.URL

	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
		exit    int
	}{
		{name: "inspect", args: []string{"inspect", url, "-q"}, want: []string{"Protocol:      2025-11-25", "TOOLS (", "echo", "RESOURCES (", "test://static-text", "PROMPTS ("}},
		{name: "inspect json", args: []string{"inspect", url, "--json"}, want: []string{`"protocolVersion": "2025-11-25"`, `"name": "echo"`}},
		{name: "call text", args: []string{"call", url, "echo", "text=hello there"}, want: []string{"hello there"}},
		{name: "call structured", args: []string{"call", url, "add", "a=1", "--args", `{"b":2.5}`, "--structured"}, want: []string{`"sum": 3.5`}},
		{name: "call content", args: []string{"call", url, "add", "a=1", "b=2.5"}, want: []string{`{"sum":3.5}`}},
		{name: "call json", args: []string{"call", url, "echo", "text=x", "--json"}, want: []string{`"type": "text"`}},
		{name: "tool error exits 1", args: []string{"call", url, "test_error_handling"}, exit: 1},
		{name: "unknown tool", args: []string{"call", url, "no_such_tool"}, wantErr: "no_such_tool"},
		{name: "bad argument", args: []string{"call", url, "echo", "novalue"}, wantErr: "want KEY=VALUE"},
		{name: "read", args: []string{"read", url, "test://static-text"}, want: []string{"static text resource"}},
		{name: "prompt", args: []string{"prompt", url, "test_prompt_with_arguments", "arg1=A", "arg2=B"}, want: []string{"user:", "A", "B"}},
		{name: "complete", args: []string{"complete", url, "--prompt", "test_prompt_with_arguments", "arg1", "pa"}, want: []string{"paris", "park"}},
		{name: "not a url", args: []string{"inspect", "localhost:1"}, wantErr: "not an http(s):// URL"},
		{name: "no server command", args: []string{"inspect", "--"}, wantErr: "no server command"},
		{name: "nobody listening", args: []string{"inspect", "http://127.0.0.1:1/mcp", "--timeout", "5s"}, wantErr: "connecting to http://127.0.0.1:1/mcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, tt.args...)
			var ee exitError
			switch {
			case tt.exit != 0:
				if !errors.As(err, &ee) || ee.code != tt.exit {
					t.Fatalf("err = %v, want exit %d", err, tt.exit)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			case err != nil:
				t.Fatalf("err = %v\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
