package mcp_test

// Test harness for the server tests: a ServerSession driven directly through
// its transport.Session methods, with recording sinks standing in for the
// transport's streams, and an in-process stdio pipe for tests that need the
// real framing and JSON-RPC decoding of the stdio transport.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// testWait bounds every wait in these tests.
const testWait = 5 * time.Second

// srvImpl is the identity of the servers under test.
var srvImpl = protocol.Implementation{Name: "test-server", Version: "0.0.1"}

// clientAnswer computes the client's answer to a server-to-client request;
// nil means the client never answers.
type clientAnswer func(req *jsonrpc.Request) *jsonrpc.Response

// frameSink is a transport.Sink that records what the server sends. Every
// frame must be one valid JSON-RPC message. Requests from the server are
// answered, if answer is set, by delivering the answer to the session the
// way a transport would (asynchronously, from another goroutine).
type frameSink struct {
	t       testing.TB
	mu      sync.Mutex
	msgs    []jsonrpc.Message
	changed chan struct{} // closed and replaced on every Send
	answer  func() clientAnswer
	deliver func(*jsonrpc.Response)
	wg      *sync.WaitGroup // answer goroutines
	failing atomic.Bool     // Send fails (the client went away)
}

func newFrameSink(t testing.TB) *frameSink {
	return &frameSink{t: t, changed: make(chan struct{}), wg: new(sync.WaitGroup)}
}

// Send implements transport.Sink.
func (s *frameSink) Send(ctx context.Context, msg []byte) error {
	if s.failing.Load() {
		return io.ErrClosedPipe
	}
	if !jsontext.Value(msg).IsValid() {
		s.t.Errorf("server sent invalid JSON: %q", msg)
		return fmt.Errorf("invalid JSON")
	}
	m, err := jsonrpc.Decode(bytes.Clone(msg))
	if err != nil {
		s.t.Errorf("server sent an invalid JSON-RPC message %s: %v", msg, err)
		return err
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	if req, ok := m.(*jsonrpc.Request); ok && !req.IsNotification() && s.answer != nil {
		if answer := s.answer(); answer != nil {
			if resp := answer(req); resp != nil {
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					s.deliver(resp)
				}()
			}
		}
	}
	return nil
}

// all returns a copy of the messages received so far.
func (s *frameSink) all() []jsonrpc.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]jsonrpc.Message(nil), s.msgs...)
}

// requests returns the requests and notifications received with the given
// method.
func (s *frameSink) requests(method string) []*jsonrpc.Request {
	var out []*jsonrpc.Request
	for _, m := range s.all() {
		if r, ok := m.(*jsonrpc.Request); ok && r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// waitFor waits until a message satisfying pred has arrived and returns it.
func (s *frameSink) waitFor(pred func(jsonrpc.Message) bool) jsonrpc.Message {
	s.t.Helper()
	deadline := time.NewTimer(testWait)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for _, m := range s.msgs {
			if pred(m) {
				s.mu.Unlock()
				return m
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			s.t.Fatalf("timed out waiting for a message; got %d: %s", len(s.all()), describeMsgs(s.all()))
			return nil
		}
	}
}

// waitMethod waits for a request or notification with the given method.
func (s *frameSink) waitMethod(method string) *jsonrpc.Request {
	s.t.Helper()
	return s.waitFor(func(m jsonrpc.Message) bool {
		r, ok := m.(*jsonrpc.Request)
		return ok && r.Method == method
	}).(*jsonrpc.Request)
}

func describeMsgs(msgs []jsonrpc.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		b.Write(jsonrpc.AppendMessage(nil, m))
		b.WriteByte('\n')
	}
	return b.String()
}

// sessHarness drives one ServerSession the way a transport does.
type sessHarness struct {
	t   *testing.T
	srv *mcp.Server
	ss  *mcp.ServerSession
	out *frameSink // the session's standalone stream

	nextID atomic.Int64
	mu     sync.Mutex
	answer clientAnswer
	sinks  []*frameSink
}

// sessionCounter makes session ids unique, as transports do.
var sessionCounter atomic.Int64

// newSessHarness opens a session on srv. The session is closed when the test
// ends, and the test fails if it leaves requests in flight.
func newSessHarness(t *testing.T, srv *mcp.Server) *sessHarness {
	t.Helper()
	h := &sessHarness{t: t, srv: srv}
	h.out = h.newSink()
	sess, err := srv.NewSession(context.Background(), fmt.Sprintf("sess-%d", sessionCounter.Add(1)), h.out)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	h.ss = sess.(*mcp.ServerSession)
	t.Cleanup(func() {
		h.ss.Close()
		h.mu.Lock()
		sinks := h.sinks
		h.mu.Unlock()
		for _, s := range sinks {
			s.wg.Wait()
		}
	})
	return h
}

// newSink returns a sink that answers server requests as the sessHarness's
// client does.
func (h *sessHarness) newSink() *frameSink {
	s := newFrameSink(h.t)
	s.answer = func() clientAnswer {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.answer
	}
	s.deliver = func(r *jsonrpc.Response) { h.ss.HandleResponse(r) }
	h.mu.Lock()
	h.sinks = append(h.sinks, s)
	h.mu.Unlock()
	return s
}

// setAnswer sets how the client answers server-to-client requests.
func (h *sessHarness) setAnswer(a clientAnswer) {
	h.mu.Lock()
	h.answer = a
	h.mu.Unlock()
}

// rawParams encodes params: nil for none, a string or jsontext.Value as
// raw JSON, anything else with json.Marshal.
func rawParams(t testing.TB, params any) jsontext.Value {
	t.Helper()
	switch p := params.(type) {
	case nil:
		return nil
	case string:
		return jsontext.Value(p)
	case jsontext.Value:
		return p
	}
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatalf("encoding params: %v", err)
	}
	return b
}

// frame builds the encoded request, decoded again through jsonrpc.Decode as
// a transport would.
func mustDecodeRequest(t testing.TB, frame []byte) *jsonrpc.Request {
	t.Helper()
	m, err := jsonrpc.Decode(frame)
	if err != nil {
		t.Fatalf("decoding request %s: %v", frame, err)
	}
	return m.(*jsonrpc.Request)
}

// roundTrip sends a request with the given id and returns the raw response
// (nil when the server sent none) and the request's sink.
func (h *sessHarness) roundTrip(ctx context.Context, id jsonrpc.ID, method string, params any) ([]byte, *frameSink) {
	h.t.Helper()
	frame := jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: id, Method: method, Params: rawParams(h.t, params)})
	req := mustDecodeRequest(h.t, frame)
	sink := h.newSink()
	resp := h.ss.HandleRequest(ctx, req, sink)
	if resp != nil && !jsontext.Value(resp).IsValid() {
		h.t.Fatalf("%s: response is not valid JSON: %q", method, resp)
	}
	return resp, sink
}

// request sends a request with a fresh integer id and returns the decoded
// response and the request's sink.
func (h *sessHarness) request(method string, params any) (*jsonrpc.Response, *frameSink) {
	h.t.Helper()
	id := jsonrpc.Int64ID(h.nextID.Add(1))
	raw, sink := h.roundTrip(context.Background(), id, method, params)
	if raw == nil {
		h.t.Fatalf("%s: no response", method)
	}
	resp := mustDecodeResponse(h.t, raw)
	if resp.ID != id {
		h.t.Fatalf("%s: response id %v, want %v", method, resp.ID, id)
	}
	return resp, sink
}

func mustDecodeResponse(t testing.TB, raw []byte) *jsonrpc.Response {
	t.Helper()
	m, err := jsonrpc.Decode(bytes.Clone(raw))
	if err != nil {
		t.Fatalf("decoding response %s: %v", raw, err)
	}
	resp, ok := m.(*jsonrpc.Response)
	if !ok {
		t.Fatalf("expected a response, got %s", raw)
	}
	return resp
}

// call sends a request and decodes its result into result (if not nil). It
// returns the JSON-RPC error of a failed request; decoding problems fail
// the test.
func (h *sessHarness) call(method string, params, result any) *jsonrpc.Error {
	h.t.Helper()
	resp, _ := h.request(method, params)
	if resp.Error != nil {
		return resp.Error
	}
	if result != nil {
		if err := json.Unmarshal(resp.Result, result, protocol.UnionUnmarshalers); err != nil {
			h.t.Fatalf("%s: decoding result %s: %v", method, resp.Result, err)
		}
	}
	return nil
}

// mustCall is call that fails the test on a JSON-RPC error.
func (h *sessHarness) mustCall(method string, params, result any) {
	h.t.Helper()
	if err := h.call(method, params, result); err != nil {
		h.t.Fatalf("%s: %v", method, err)
	}
}

// notify sends a notification.
func (h *sessHarness) notify(method string, params any) {
	h.t.Helper()
	frame := jsonrpc.AppendRequest(nil, &jsonrpc.Request{Method: method, Params: rawParams(h.t, params)})
	h.ss.HandleNotification(context.Background(), mustDecodeRequest(h.t, frame))
}

// initialize runs the initialize handshake, offering version and caps.
func (h *sessHarness) initialize(version string, caps protocol.ClientCapabilities) *protocol.InitializeResult {
	h.t.Helper()
	var res protocol.InitializeResult
	h.mustCall(protocol.MethodInitialize, &protocol.InitializeRequestParams{
		ProtocolVersion: version,
		Capabilities:    caps,
		ClientInfo:      protocol.Implementation{Name: "test-client", Version: "1.0"},
	}, &res)
	h.notify(protocol.NotificationInitialized, nil)
	return &res
}

// callTool calls a tool and returns its result, or the protocol error.
func (h *sessHarness) callTool(name string, args any) (*protocol.CallToolResult, *jsonrpc.Error) {
	h.t.Helper()
	p := map[string]any{"name": name}
	if args != nil {
		p["arguments"] = rawParams(h.t, args)
	}
	var res protocol.CallToolResult
	if err := h.call(protocol.MethodToolsCall, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// firstText returns the text of the first text block of a tool result.
func firstText(t testing.TB, res *protocol.CallToolResult) string {
	t.Helper()
	for _, c := range res.Content {
		if tc, ok := c.(*protocol.TextContent); ok {
			return tc.Text
		}
	}
	t.Fatalf("no text content in %+v", res)
	return ""
}

// decodeParamsAs decodes the params of a message from the server.
func decodeParamsAs[T any](t testing.TB, r *jsonrpc.Request) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(r.Params, v, protocol.UnionUnmarshalers); err != nil {
		t.Fatalf("%s: decoding params %s: %v", r.Method, r.Params, err)
	}
	return v
}

// answerWith builds a successful response to a server request.
func answerWith(t testing.TB, id jsonrpc.ID, result any) *jsonrpc.Response {
	b, err := json.Marshal(result)
	if err != nil {
		t.Errorf("encoding result: %v", err)
	}
	return &jsonrpc.Response{ID: id, Result: b}
}

// newSrv returns a server with a logger that reports to the test.
func newSrv(opts *mcp.ServerOptions) *mcp.Server {
	return mcp.NewServer(srvImpl, opts)
}

// stdioPipe is the client end of an in-process stdio connection to a
// server running ServeStream.
type stdioPipe struct {
	t      testing.TB
	w      *io.PipeWriter
	lines  chan []byte
	done   chan error
	cancel context.CancelFunc
}

// startStdioPipe serves srv over an in-process stdio pipe until the test ends.
func startStdioPipe(t testing.TB, srv *mcp.Server) *stdioPipe {
	t.Helper()
	return startStdioPipeOpts(t, srv, nil)
}

// startStdioPipeOpts is startStdioPipe with stream options.
func startStdioPipeOpts(t testing.TB, srv *mcp.Server, opts *stdio.Options) *stdioPipe {
	t.Helper()
	serverIn, clientOut := io.Pipe()
	clientIn, serverOut := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	p := &stdioPipe{t: t, w: clientOut, lines: make(chan []byte, 256), done: make(chan error, 1), cancel: cancel}
	go func() {
		p.done <- srv.ServeStream(ctx, stdio.NewStream(serverIn, serverOut, opts))
	}()
	go func() {
		// Ends when the server closes its output (ServeStream returns).
		defer close(p.lines)
		r := bufio.NewReader(clientIn)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				p.lines <- bytes.TrimRight(line, "\n")
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		p.close()
		select {
		case <-p.done:
		case <-time.After(testWait):
			t.Errorf("ServeStream did not return after the client closed the pipe")
			cancel()
			<-p.done
		}
		cancel()
		for range p.lines {
		}
	})
	return p
}

// close closes the client's output: the server sees EOF.
func (p *stdioPipe) close() {
	p.w.Close()
}

// send writes one line.
func (p *stdioPipe) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.w, line+"\n"); err != nil {
		p.t.Fatalf("writing to the server: %v", err)
	}
}

// recv reads the next message line; it must be valid JSON and a valid
// JSON-RPC message.
func (p *stdioPipe) recv() ([]byte, jsonrpc.Message) {
	p.t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("the server closed its output")
		}
		m, err := jsonrpc.Decode(bytes.Clone(line))
		if err != nil {
			p.t.Fatalf("server wrote an invalid message %q: %v", line, err)
		}
		return line, m
	case <-time.After(testWait):
		p.t.Fatalf("timed out waiting for the server")
	}
	return nil, nil
}

// recvResponse reads messages until a response arrives and returns it.
func (p *stdioPipe) recvResponse() ([]byte, *jsonrpc.Response) {
	p.t.Helper()
	for {
		line, m := p.recv()
		if r, ok := m.(*jsonrpc.Response); ok {
			return line, r
		}
	}
}

// expectSilence checks that the server writes nothing for a short while.
func (p *stdioPipe) expectSilence(d time.Duration) {
	p.t.Helper()
	select {
	case line, ok := <-p.lines:
		if ok {
			p.t.Fatalf("unexpected message from the server: %s", line)
		}
	case <-time.After(d):
	}
}

// initPipe runs the initialize handshake over the pipe.
func (p *stdioPipe) initialize(version string) *protocol.InitializeResult {
	p.t.Helper()
	p.send(`{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"` + version +
		`","capabilities":{},"clientInfo":{"name":"pipe","version":"1"}}}`)
	_, resp := p.recvResponse()
	if resp.Error != nil {
		p.t.Fatalf("initialize: %v", resp.Error)
	}
	var res protocol.InitializeResult
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		p.t.Fatalf("initialize result: %v", err)
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return &res
}

// settleGoroutines waits until the number of goroutines is at most n and
// reports the final count.
func settleGoroutines(n int) int {
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := runtime.NumGoroutine()
		if got <= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stableGoroutines returns the number of goroutines once it stops
// changing (or after a second).
func stableGoroutines() int {
	last, same := runtime.NumGoroutine(), 0
	for i := 0; i < 50 && same < 3; i++ {
		time.Sleep(20 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
	return last
}

// goroutineDump returns the stacks of all goroutines, for failure messages.
func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func ptrTo[T any](v T) *T { return &v }
