package mcp_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// A URI longer than ServerOptions.MaxURILength is refused with -32602
// before it reaches a template matcher, whose cost grows faster than the
// URI (issue 10, finding 9).
func TestLongURIRefusedBeforeMatching(t *testing.T) {
	srv := newResourceServer(nil)
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	long := "file:///" + strings.Repeat("a", 1<<20) // matches file:///{+path}
	tests := []struct {
		name   string
		method string
		params any
	}{
		{"read", protocol.MethodResourcesRead, map[string]string{"uri": long}},
		{"subscribe", protocol.MethodResourcesSubscribe, map[string]string{"uri": long}},
		{"complete", protocol.MethodCompletionComplete, map[string]any{
			"ref":      map[string]string{"type": "ref/resource", "uri": long},
			"argument": map[string]string{"name": "path", "value": "x"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			resp, _ := h.request(tt.method, tt.params)
			if resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidParams {
				t.Fatalf("got result of %d bytes, error %.200v; want -32602", len(resp.Result), resp.Error)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if len(resp.Error.Message)+len(resp.Error.Data) > 512 || !strings.Contains(resp.Error.Message, strconv.Itoa(len(long))) {
				t.Errorf("error %.300q (%d bytes): want a short message naming the length", resp.Error.Message, len(resp.Error.Message))
			}
		})
	}
	// A URI within the bound is still matched.
	resp, _ := h.request(protocol.MethodResourcesRead, map[string]string{"uri": "file:///" + strings.Repeat("b", 1000)})
	if resp.Error != nil {
		t.Fatalf("URI of 1008 bytes: %v", resp.Error)
	}
}

// Errors repeat at most a small prefix of the client's input, with an
// ellipsis and the input's length (issue 10, finding 10).
func TestErrorsTruncateEchoedInput(t *testing.T) {
	srv := newResourceServer(nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "noop"}, func(ctx context.Context, req *mcp.Request, in struct{}) (string, error) {
		return "ok", nil
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	huge := strings.Repeat("x", 3<<20)
	unknownURI := "test://nope/" + strings.Repeat("u", 8000) // under the URI bound: looked up, not found
	tests := []struct {
		name   string
		method string
		params any
		input  string
	}{
		{"tool name", protocol.MethodToolsCall, map[string]any{"name": huge}, huge},
		{"prompt name", protocol.MethodPromptsGet, map[string]any{"name": huge}, huge},
		{"method", huge, nil, huge},
		{"unknown uri", protocol.MethodResourcesRead, map[string]string{"uri": unknownURI}, unknownURI},
		{"log level", protocol.MethodLoggingSetLevel, map[string]string{"level": huge}, huge},
		{"completion prompt", protocol.MethodCompletionComplete, map[string]any{
			"ref":      map[string]string{"type": "ref/prompt", "name": huge},
			"argument": map[string]string{"name": "a", "value": "x"},
		}, huge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := h.request(tt.method, tt.params)
			if resp.Error == nil {
				t.Fatalf("no error: %.200s", resp.Result)
			}
			e := resp.Error
			if n := len(e.Message) + len(e.Data); n > 2048 {
				t.Fatalf("error of %d bytes: %.300q", n, e.Message)
			}
			if !strings.Contains(e.Message, "…") || !strings.Contains(e.Message, strconv.Itoa(len(tt.input))+" bytes") {
				t.Errorf("message %q: want an ellipsis and the input's length", e.Message)
			}
		})
	}
	// Short input is repeated as it is.
	resp, _ := h.request(protocol.MethodToolsCall, map[string]any{"name": "nope"})
	if resp.Error == nil || resp.Error.Message != `unknown tool "nope"` {
		t.Fatalf("short name: %v", resp.Error)
	}
}
