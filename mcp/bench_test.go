package mcp_test

import (
	"context"
	"testing"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

type discardSink struct{}

func (discardSink) Send(context.Context, []byte) error { return nil }

type benchEchoIn struct {
	Text string `json:"text"`
}

// newBenchSession returns an initialized session of a server with an echo
// tool (input validation on, as by default).
func newBenchSession(b *testing.B) transport.Session {
	s := mcp.NewServer(protocol.Implementation{Name: "bench", Version: "1"}, nil)
	mcp.AddTool(s, &protocol.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.Request, in benchEchoIn) (string, error) {
		return in.Text, nil
	})
	sess, err := s.NewSession(context.Background(), "bench", discardSink{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	init, _ := jsonrpc.Decode([]byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`))
	sess.HandleRequest(ctx, init.(*jsonrpc.Request), discardSink{})
	note, _ := jsonrpc.Decode([]byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	sess.HandleNotification(ctx, note.(*jsonrpc.Request))
	b.Cleanup(sess.Close)
	return sess
}

// BenchmarkToolsCall is the in-process cost of one tools/call: decode the
// frame, dispatch, validate the arguments, run the handler, encode the
// response.
func BenchmarkToolsCall(b *testing.B) {
	sess := newBenchSession(b)
	frame := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello world"}}}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m, err := jsonrpc.Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		if out := sess.HandleRequest(ctx, m.(*jsonrpc.Request), discardSink{}); len(out) == 0 {
			b.Fatal("no response")
		}
	}
}

// BenchmarkToolsList measures one tools/list of a one-tool server.
func BenchmarkToolsList(b *testing.B) {
	sess := newBenchSession(b)
	frame := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/list"}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m, _ := jsonrpc.Decode(frame)
		sess.HandleRequest(ctx, m.(*jsonrpc.Request), discardSink{})
	}
}
