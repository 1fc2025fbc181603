package mcp_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// Output schemas that are not object schemas, and structured content that
// is not an object, reach 2026-07-28 clients; earlier clients see neither
// (their revisions allow only objects) and get the value as text.
func TestNonObjectOutputSchemas(t *testing.T) {
	srv := mcp.NewServer(protocol.Implementation{Name: "out", Version: "1"}, nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "primes"}, func(ctx context.Context, req *mcp.Request, _ struct{}) ([]int, error) {
		return []int{2, 3, 5}, nil
	})
	srv.AddTool(&protocol.Tool{Name: "count", OutputSchema: jsontext.Value(`{"type":"integer"}`)},
		func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return &protocol.CallToolResult{Content: []protocol.Content{&protocol.TextContent{Text: "3"}}, StructuredContent: jsontext.Value(`3`)}, nil
		})

	modern := c26NewHTTP(t, srv, nil)
	var lt protocol.ListToolsResult
	modern.post(1, protocol.MethodToolsList, c26Params(nil, c26Meta(nil)), nil).result(t, &lt)
	schemas := map[string]string{}
	for _, tl := range lt.Tools {
		schemas[tl.Name] = string(tl.OutputSchema)
	}
	if schemas["count"] != `{"type":"integer"}` || schemas["primes"] == "" {
		t.Errorf("2026-07-28 output schemas: %v", schemas)
	}
	var res protocol.CallToolResult
	modern.post(2, protocol.MethodToolsCall, c26Params(map[string]any{"name": "primes", "arguments": map[string]any{}}, c26Meta(nil)), nil).result(t, &res)
	if string(res.StructuredContent) != "[2,3,5]" {
		t.Errorf("2026-07-28 structured content %s", res.StructuredContent)
	}

	ctx := context.Background()
	h := streamable.NewHandler(srv, nil)
	t.Cleanup(func() { h.Close() })
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	cs, err := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{ProtocolVersion: "2025-11-25"}).
		Connect(ctx, streamable.NewDialer(ts.URL, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools.Tools {
		if len(tl.OutputSchema) != 0 {
			t.Errorf("2025-11-25 client sees output schema %s of %s", tl.OutputSchema, tl.Name)
		}
	}
	for _, name := range []string{"primes", "count"} {
		r, err := cs.CallTool(ctx, &protocol.CallToolRequestParams{Name: name, Arguments: jsontext.Value(`{}`)})
		if err != nil || len(r.StructuredContent) != 0 || len(r.Content) != 1 {
			t.Errorf("2025-11-25 call of %s: %+v, %v", name, r, err)
		}
	}
}
