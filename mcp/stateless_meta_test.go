package mcp_test

import (
	"testing"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// After server/discover a client speaks revision 2026-07-28, where every
// request carries _meta. A request without it gets the same error over
// stdio as over Streamable HTTP (-32602 naming the missing members), not
// the 2025 "send initialize first".
func TestStatelessRequestWithoutMetaSameErrorOnStdioAndHTTP(t *testing.T) {
	h := c26NewHTTP(t, nil, nil)
	if r := h.post(1, protocol.MethodServerDiscover, c26Params(nil, c26Meta(nil)), nil); r.status != 200 {
		t.Fatalf("HTTP discover: %d %s", r.status, r.body)
	}
	p := c26NewRawPipe(t, everything.NewServer(nil))
	if resp, _ := p.call(1, protocol.MethodServerDiscover, c26Params(nil, c26Meta(nil))); resp.Error != nil {
		t.Fatalf("stdio discover: %v", resp.Error)
	}
	for i, tc := range []struct {
		method string
		params map[string]any
	}{
		{protocol.MethodToolsList, nil},
		{protocol.MethodToolsCall, map[string]any{"name": "echo", "arguments": map[string]any{"text": "x"}}},
		{protocol.MethodPing, nil},
	} {
		params := c26Params(tc.params, nil)
		r := h.post(int64(10+i), tc.method, params, nil)
		httpErr := r.response(t).Error
		resp, _ := p.call(int64(10+i), tc.method, params)
		stdioErr := resp.Error
		if httpErr == nil || stdioErr == nil {
			t.Fatalf("%s without _meta: HTTP error %v, stdio error %v; want errors", tc.method, httpErr, stdioErr)
		}
		if httpErr.Code != jsonrpc.CodeInvalidParams || stdioErr.Code != httpErr.Code || stdioErr.Message != httpErr.Message {
			t.Errorf("%s without _meta:\n  HTTP:  %d %s\n  stdio: %d %s\nwant the same -32602 error", tc.method, httpErr.Code, httpErr.Message, stdioErr.Code, stdioErr.Message)
		}
	}
	// The connection may still fall back to the initialize handshake.
	resp, _ := p.call(20, protocol.MethodInitialize, c26Params(map[string]any{"protocolVersion": protocol.Version20251125,
		"capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "c", "version": "1"}}, nil))
	if resp.Error != nil {
		t.Fatalf("initialize after discover: %v", resp.Error)
	}
	p.send(0, protocol.NotificationInitialized, nil)
	if resp, _ := p.call(21, protocol.MethodToolsList, nil); resp.Error != nil {
		t.Errorf("tools/list in the 2025 session after discover: %v", resp.Error)
	}
}
