package gateway_test

import (
	"context"
	"testing"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

type benchSink struct{}

func (benchSink) Send(context.Context, []byte) error { return nil }

type benchEchoIn struct {
	Text string `json:"text"`
}

// BenchmarkRelayToolsCall is the in-process cost of one tools/call relayed
// by the gateway: the front session decodes and dispatches it, the relay
// sends it to an upstream server in the same process over an in-memory
// stdio pipe (the stdio client's code path), the upstream runs its echo
// tool, and the result comes back. Calls are sequential, so writes are
// not combined.
func BenchmarkRelayToolsCall(b *testing.B) {
	up := mcp.NewServer(protocol.Implementation{Name: "up", Version: "1"}, nil)
	mcp.AddTool(up, &protocol.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.Request, in benchEchoIn) (string, error) {
		return in.Text, nil
	})
	g, err := gateway.New(gateway.Options{Upstreams: []gateway.Upstream{{Name: "echo", Server: up}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close() })
	ctx := context.Background()
	sess, err := g.Server().NewSession(ctx, "bench", benchSink{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sess.Close)
	init, _ := jsonrpc.Decode([]byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`))
	sess.HandleRequest(ctx, init.(*jsonrpc.Request), benchSink{})
	note, _ := jsonrpc.Decode([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	sess.HandleNotification(ctx, note.(*jsonrpc.Request))
	frame := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello world"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		m, err := jsonrpc.Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		out := sess.HandleRequest(ctx, m.(*jsonrpc.Request), benchSink{})
		if len(out) == 0 || !containsText(out) {
			b.Fatalf("response %s", out)
		}
	}
}

func containsText(b []byte) bool {
	const want = `"text":"hello world"`
	for i := 0; i+len(want) <= len(b); i++ {
		if string(b[i:i+len(want)]) == want {
			return true
		}
	}
	return false
}
