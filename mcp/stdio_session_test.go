package mcp_test

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// stdioServer serves srv over a pair of pipes and returns the client's
// ends: what it writes, and a reader of the server's lines.
func stdioServer(t *testing.T, srv *mcp.Server) (io.WriteCloser, *bufio.Reader) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeStream(ctx, stdio.NewStream(inR, outW, nil))
		outW.Close()
	}()
	t.Cleanup(func() {
		inW.Close()
		cancel()
		outR.Close()
		<-done
	})
	return inW, bufio.NewReader(outR)
}

// readLine returns the server's next line.
func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	type line struct {
		s   string
		err error
	}
	ch := make(chan line, 1)
	go func() {
		l, err := r.ReadString('\n')
		ch <- line{l, err}
	}()
	select {
	case l := <-ch:
		if l.err != nil {
			t.Fatalf("reading the server's output: %v", l.err)
		}
		return l.s
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the server")
	}
	return ""
}

// readResponses reads the server's lines until it has the responses to
// every id in ids, and returns them by id.
func readResponses(t *testing.T, r *bufio.Reader, ids ...int64) map[int64]*jsonrpc.Response {
	t.Helper()
	got := map[int64]*jsonrpc.Response{}
	for len(got) < len(ids) {
		l := readLine(t, r)
		m, err := jsonrpc.Decode([]byte(strings.TrimSpace(l)))
		if err != nil {
			t.Fatalf("server wrote %q: %v", l, err)
		}
		if resp, ok := m.(*jsonrpc.Response); ok {
			var id int64
			if json.Unmarshal([]byte(resp.ID.String()), &id) == nil {
				got[id] = resp
			}
		}
	}
	return got
}

func echoServer() *mcp.Server {
	s := mcp.NewServer(protocol.Implementation{Name: "order", Version: "1"}, nil)
	mcp.AddTool(s, &protocol.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.Request, in struct {
		Text string `json:"text"`
	}) (string, error) {
		return in.Text, nil
	})
	return s
}

const (
	initLine        = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"pipe","version":"1"}}}` + "\n"
	initializedLine = `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n"
	callLine        = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}` + "\n"
)

// A client that writes initialize, notifications/initialized and a
// request at once (echo ... | server) is served in that order: the
// request is not refused as coming before initialization, and the
// session is initialized (it receives list-changed notifications).
func TestStdioHandshakeInOneWrite(t *testing.T) {
	for i := range 50 {
		srv := echoServer()
		w, r := stdioServer(t, srv)
		if _, err := io.WriteString(w, initLine+initializedLine+callLine); err != nil {
			t.Fatal(err)
		}
		got := readResponses(t, r, 1, 2)
		if e := got[2].Error; e != nil {
			t.Fatalf("run %d: tools/call after initialize in the same write: %v", i, e)
		}
		// The session counts as initialized: it is told of a new tool.
		// (In a goroutine: the notification is written before AddTool
		// returns, and the pipe has no buffer.)
		go srv.AddTool(&protocol.Tool{Name: "late", InputSchema: []byte(`{"type":"object"}`)},
			func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
				return &protocol.CallToolResult{}, nil
			})
		if l := readLine(t, r); !strings.Contains(l, protocol.NotificationToolsListChanged) {
			t.Fatalf("run %d: after adding a tool the server wrote %q; want %s", i, l, protocol.NotificationToolsListChanged)
		}
	}
}

// A second initialize on a stdio connection (a bridge such as
// supergateway passing on each of its clients' handshakes) is answered
// like the first; the revision and identity it declares replace the
// earlier ones, and the session stays usable.
func TestStdioSecondInitialize(t *testing.T) {
	srv := echoServer()
	w, r := stdioServer(t, srv)
	second := `{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"second","version":"2"}}}` + "\n"
	if _, err := io.WriteString(w, initLine+initializedLine+second+initializedLine+callLine); err != nil {
		t.Fatal(err)
	}
	got := readResponses(t, r, 1, 2, 3)
	for id, resp := range got {
		if resp.Error != nil {
			t.Errorf("response %d: %v", id, resp.Error)
		}
	}
	var res protocol.InitializeResult
	if err := json.Unmarshal(got[3].Result, &res); err != nil || res.ProtocolVersion != "2025-06-18" || res.ServerInfo.Name != "order" {
		t.Errorf("second initialize: %s, %v", got[3].Result, err)
	}
	n := 0
	for ss := range srv.Sessions() {
		n++
		if info := ss.ClientInfo(); info.Name != "second" || ss.ProtocolVersion() != "2025-06-18" {
			t.Errorf("after the second initialize the session has client %+v, revision %s", info, ss.ProtocolVersion())
		}
	}
	if n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}
