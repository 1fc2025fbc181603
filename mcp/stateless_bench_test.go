package mcp_test

import (
	"context"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// BenchmarkStatelessToolsCall is BenchmarkToolsCall for a request of
// revision 2026-07-28: per-request _meta parsed and checked, the result
// decorated with resultType and serverInfo.
func BenchmarkStatelessToolsCall(b *testing.B) {
	s := mcp.NewServer(protocol.Implementation{Name: "bench", Version: "1"}, nil)
	mcp.AddTool(s, &protocol.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.Request, in benchEchoIn) (string, error) {
		return in.Text, nil
	})
	frame := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello world"},` +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},` +
		`"io.modelcontextprotocol/clientInfo":{"name":"b","version":"1"}}}}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m, err := jsonrpc.Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		if out := s.HandleStateless(ctx, m.(*jsonrpc.Request), discardSink{}); len(out) == 0 {
			b.Fatal("no response")
		}
	}
}

// BenchmarkStatelessMRTRRound is one retry of a multi round-trip request
// that completes: the requestState verified, the handler re-run with its
// answer.
func BenchmarkStatelessMRTRRound(b *testing.B) {
	s := mcp.NewServer(protocol.Implementation{Name: "bench", Version: "1"}, nil)
	mcp.AddTool(s, &protocol.Tool{Name: "ask"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{Message: "name?", RequestedSchema: &protocol.ElicitSchema{
			Properties: map[string]protocol.PrimitiveSchema{"name": &protocol.StringSchema{}}}})
		if err != nil {
			return "", err
		}
		return res.Content["name"].(string), nil
	})
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}}`
	first, _ := jsonrpc.Decode([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ask",` + meta + `}}`))
	out := s.HandleStateless(context.Background(), first.(*jsonrpc.Request), discardSink{})
	resp, _ := jsonrpc.Decode(out)
	var ir protocol.InputRequiredResult
	if err := jsonUnmarshal(resp.(*jsonrpc.Response).Result, &ir); err != nil || ir.RequestState == "" {
		b.Fatalf("round 1: %s", out)
	}
	frame := []byte(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ask","requestState":"` + ir.RequestState +
		`","inputResponses":{"elicit-1":{"action":"accept","content":{"name":"x"}}},` + meta + `}}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m, _ := jsonrpc.Decode(frame)
		if out := s.HandleStateless(ctx, m.(*jsonrpc.Request), discardSink{}); len(out) == 0 {
			b.Fatal("no response")
		}
	}
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
