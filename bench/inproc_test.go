package bench

// In-process cost of one tools/call (echo), measured with testing.B at
// three depths. Input validation is on for every MCP implementation
// (Switchboard and go-sdk always validate; mcp-go gets
// WithInputSchemaValidation). The harness runs these with
// `go test -run '^$' -bench ToolsCall -benchmem` and parses the output.
//
//   - session: the protocol layer alone, no transport. Switchboard: the
//     frame decoded with jsonrpc.Decode and served by
//     ServerSession.HandleRequest after initialize; mcp-go:
//     MCPServer.HandleMessage on a registered in-process session plus
//     json.Marshal of its response; baseline: encoding/json decode and
//     encode. go-sdk has no synchronous entry point and is measured at the
//     stream depth only.
//   - stream: a whole session over an in-memory pipe with each library's
//     newline-delimited stdio framing (Switchboard ServeStream with a
//     stdio.Stream, mcp-go StdioServer.Listen, go-sdk IOTransport, the
//     baseline stdio loop), one request in flight. This includes the
//     goroutine hand-offs of each design.
//   - http: the Streamable HTTP handler's ServeHTTP with a reused request
//     and a response writer that keeps nothing (no sockets).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	mcpgoserver "github.com/mark3labs/mcp-go/server"

	"github.com/switchboard-mcp/switchboard/bench/servers"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

var (
	benchInit        = []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}`)
	benchInitialized = []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	benchCall        = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}`)
	benchOK          = []byte(`"text":"hello"`)
)

func checkEcho(b *testing.B, resp []byte) {
	if !bytes.Contains(resp, benchOK) || !bytes.Contains(resp, []byte(`"result"`)) {
		b.Fatalf("unexpected response: %.300s", resp)
	}
}

func BenchmarkToolsCall(b *testing.B) {
	b.Run("session", func(b *testing.B) {
		b.Run(servers.Baseline, benchSessionBaseline)
		b.Run(servers.Switchboard, benchSessionSwitchboard)
		b.Run(servers.MCPGo, func(b *testing.B) { benchSessionMCPGo(b, true) })
		b.Run(servers.MCPGo+"-novalidate", func(b *testing.B) { benchSessionMCPGo(b, false) })
	})
	b.Run("stream", func(b *testing.B) {
		for _, impl := range servers.Names {
			b.Run(impl, func(b *testing.B) { benchStream(b, impl) })
		}
	})
	b.Run("http", func(b *testing.B) {
		for _, impl := range servers.Names {
			b.Run(impl, func(b *testing.B) { benchHTTP(b, impl) })
		}
	})
}

func benchSessionBaseline(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		resp, err := servers.BaselineHandleMessage(benchCall)
		if err != nil {
			b.Fatal(err)
		}
		checkEcho(b, resp)
	}
}

type discardSink struct{}

func (discardSink) Send(context.Context, []byte) error { return nil }

func decodeRequest(b *testing.B, frame []byte) *jsonrpc.Request {
	m, err := jsonrpc.Decode(frame)
	if err != nil {
		b.Fatal(err)
	}
	req, ok := m.(*jsonrpc.Request)
	if !ok {
		b.Fatalf("%s is not a request", frame)
	}
	return req
}

func benchSessionSwitchboard(b *testing.B) {
	ctx := b.Context()
	srv := servers.NewSwitchboardServer()
	var sink transport.Sink = discardSink{}
	sess, err := srv.NewSession(ctx, "bench", sink)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	if resp := sess.HandleRequest(ctx, decodeRequest(b, benchInit), sink); !bytes.Contains(resp, []byte(`"result"`)) {
		b.Fatalf("initialize: %s", resp)
	}
	sess.HandleNotification(ctx, decodeRequest(b, benchInitialized))
	b.ReportAllocs()
	for b.Loop() {
		resp := sess.HandleRequest(ctx, decodeRequest(b, benchCall), sink)
		checkEcho(b, resp)
	}
}

func benchSessionMCPGo(b *testing.B, validate bool) {
	srv := servers.NewMCPGoServer(validate)
	sess := mcpgoserver.NewInProcessSession("bench", nil)
	ctx := b.Context()
	if err := srv.RegisterSession(ctx, sess); err != nil {
		b.Fatal(err)
	}
	defer srv.UnregisterSession(ctx, "bench")
	ctx = srv.WithContext(ctx, sess)
	init, err := json.Marshal(srv.HandleMessage(ctx, benchInit))
	if err != nil || !bytes.Contains(init, []byte(`"result"`)) {
		b.Fatalf("initialize: %s %v", init, err)
	}
	srv.HandleMessage(ctx, benchInitialized)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := json.Marshal(srv.HandleMessage(ctx, benchCall))
		if err != nil {
			b.Fatal(err)
		}
		checkEcho(b, resp)
	}
}

// pipeClient is the client end of an in-memory stdio session.
type pipeClient struct {
	w  *bufio.Writer
	wc io.Closer
	r  *bufio.Reader
}

func (c *pipeClient) roundTrip(b *testing.B, msg []byte, wantResponse bool) []byte {
	c.w.Write(msg)
	c.w.WriteByte('\n')
	if err := c.w.Flush(); err != nil {
		b.Fatal(err)
	}
	if !wantResponse {
		return nil
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		b.Fatal(err)
	}
	return line
}

func benchStream(b *testing.B, impl string) {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	cr, sw := io.Pipe() // server writes, client reads
	sr, cw := io.Pipe() // client writes, server reads
	done := make(chan error, 1)
	go func() {
		done <- servers.ServeStdio(ctx, impl, sr, sw, servers.StdioOptions{Validate: true})
		sw.Close()
	}()
	c := &pipeClient{w: bufio.NewWriter(cw), wc: cw, r: bufio.NewReaderSize(cr, 64<<10)}
	if resp := c.roundTrip(b, benchInit, true); !bytes.Contains(resp, []byte(`"result"`)) {
		b.Fatalf("initialize: %s", resp)
	}
	c.roundTrip(b, benchInitialized, false)
	b.ReportAllocs()
	for b.Loop() {
		checkEcho(b, c.roundTrip(b, benchCall, true))
	}
	b.StopTimer()
	cw.Close()
	cancel()
	go io.Copy(io.Discard, cr) // let the server finish writing
	<-done
	cr.Close()
}

// nullWriter is an http.ResponseWriter and http.Flusher that keeps only
// the status, the headers and the last body bytes.
type nullWriter struct {
	h    http.Header
	code int
	body []byte
}

func (w *nullWriter) Header() http.Header { return w.h }
func (w *nullWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.body = append(w.body, p...)
	return len(p), nil
}
func (w *nullWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *nullWriter) Flush() {}

type reusableBody struct{ bytes.Reader }

func (*reusableBody) Close() error { return nil }

func benchHTTP(b *testing.B, impl string) {
	h, err := servers.NewHTTPHandler(impl, servers.HTTPOptions{Validate: true})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	post := func(body []byte, sid string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(b.Context(), http.MethodPost, "http://127.0.0.1/mcp", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
			req.Header.Set("Mcp-Protocol-Version", servers.ProtocolVersion)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := post(benchInit, "")
	sid := rec.Header().Get("Mcp-Session-Id")
	if rec.Code != http.StatusOK || sid == "" {
		b.Fatalf("initialize: %d %s", rec.Code, rec.Body)
	}
	if rec := post(benchInitialized, sid); rec.Code/100 != 2 {
		b.Fatalf("initialized: %d %s", rec.Code, rec.Body)
	}

	body := &reusableBody{}
	req := httptest.NewRequestWithContext(b.Context(), http.MethodPost, "http://127.0.0.1/mcp", nil)
	req.Body = body
	req.ContentLength = int64(len(benchCall))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", servers.ProtocolVersion)
	w := &nullWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(benchCall)
		req.Body = body // go-sdk replaces the body with a limiting reader
		clear(w.h)
		w.code, w.body = 0, w.body[:0]
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("status %d: %s", w.code, w.body)
		}
		checkEcho(b, w.body)
	}
}
