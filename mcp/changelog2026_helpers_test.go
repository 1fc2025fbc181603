package mcp_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// Helpers of the revision 2026-07-28 tests (changelog2026_test.go). Names
// start with c26 to stay clear of the other test files of the package.

const v26 = protocol.Version20260728

// c26Meta is a valid per-request _meta.
func c26Meta(caps map[string]any) map[string]any {
	if caps == nil {
		caps = map[string]any{}
	}
	return map[string]any{
		protocol.MetaProtocolVersion:    v26,
		protocol.MetaClientCapabilities: caps,
		protocol.MetaClientInfo:         map[string]any{"name": "raw-test-client", "version": "1.0.0"},
	}
}

// c26HTTP is the everything server on a Streamable HTTP test server.
type c26HTTP struct {
	t   *testing.T
	srv *mcp.Server
	h   *streamable.Handler
	ts  *httptest.Server
}

func c26NewHTTP(t *testing.T, srv *mcp.Server, opts *streamable.Options) *c26HTTP {
	t.Helper()
	if srv == nil {
		srv = everything.NewServer(nil)
	}
	h := streamable.NewHandler(srv, opts)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		h.Close()
		srv.Close()
	})
	return &c26HTTP{t: t, srv: srv, h: h, ts: ts}
}

// c26Reply is the answer to a raw POST.
type c26Reply struct {
	status int
	header http.Header
	body   []byte
	// msgs are the JSON-RPC messages of the body (one for JSON, the
	// events of an SSE stream).
	msgs []jsonrpc.Message
	// ids are the SSE event ids seen.
	ids []string
}

// response returns the response message of the reply.
func (r *c26Reply) response(t *testing.T) *jsonrpc.Response {
	t.Helper()
	for _, m := range r.msgs {
		if resp, ok := m.(*jsonrpc.Response); ok {
			return resp
		}
	}
	t.Fatalf("no response in the reply (status %d): %s", r.status, r.body)
	return nil
}

// notifications returns the notifications of the reply.
func (r *c26Reply) notifications(method string) []*jsonrpc.Request {
	var out []*jsonrpc.Request
	for _, m := range r.msgs {
		if n, ok := m.(*jsonrpc.Request); ok && n.IsNotification() && (method == "" || n.Method == method) {
			out = append(out, n)
		}
	}
	return out
}

// result decodes the result of the reply into v and returns the raw
// result.
func (r *c26Reply) result(t *testing.T, v any) jsontext.Value {
	t.Helper()
	resp := r.response(t)
	if resp.Error != nil {
		t.Fatalf("error %d: %s (status %d)", resp.Error.Code, resp.Error.Message, r.status)
	}
	if v != nil {
		if err := json.Unmarshal(resp.Result, v); err != nil {
			t.Fatalf("decoding %s: %v", resp.Result, err)
		}
	}
	return resp.Result
}

// errCode returns the code of the reply's error response (0 for a result).
func (r *c26Reply) errCode(t *testing.T) int64 {
	t.Helper()
	resp := r.response(t)
	if resp.Error == nil {
		return 0
	}
	return resp.Error.Code
}

// c26Params builds request params: members plus _meta (nil meta leaves
// _meta out).
func c26Params(members map[string]any, meta map[string]any) jsontext.Value {
	obj := map[string]any{}
	for k, v := range members {
		obj[k] = v
	}
	if meta != nil {
		obj["_meta"] = meta
	}
	b, err := json.Marshal(obj, json.Deterministic(true))
	if err != nil {
		panic(err)
	}
	return b
}

// c26Headers returns the standard headers of a 2026-07-28 POST for method
// and params.
func c26Headers(method string, params jsontext.Value) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	h.Set(streamable.HeaderProtocolVersion, v26)
	h.Set(streamable.HeaderMethod, method)
	var p struct {
		Name   string `json:"name"`
		URI    string `json:"uri"`
		TaskID string `json:"taskId"`
	}
	_ = json.Unmarshal(params, &p)
	switch method {
	case protocol.MethodToolsCall, protocol.MethodPromptsGet:
		h.Set(streamable.HeaderName, p.Name)
	case protocol.MethodResourcesRead:
		h.Set(streamable.HeaderName, p.URI)
	case protocol.MethodTasksGet, protocol.MethodTasksUpdate, protocol.MethodTasksCancel:
		h.Set(streamable.HeaderName, p.TaskID)
	}
	return h
}

// post sends one request with the standard headers (edit adjusts them).
func (s *c26HTTP) post(id int64, method string, params jsontext.Value, edit func(http.Header)) *c26Reply {
	s.t.Helper()
	h := c26Headers(method, params)
	if edit != nil {
		edit(h)
	}
	body := jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: jsonrpc.Int64ID(id), Method: method, Params: params})
	return s.do(http.MethodPost, h, body)
}

func (s *c26HTTP) do(method string, h http.Header, body []byte) *c26Reply {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.ts.URL, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header = h
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		s.t.Fatal(err)
	}
	r := &c26Reply{status: resp.StatusCode, header: resp.Header, body: data}
	switch ct := resp.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "text/event-stream"):
		r.msgs, r.ids = c26ParseSSE(s.t, data)
	case strings.HasPrefix(ct, "application/json") && len(data) > 0:
		m, err := jsonrpc.Decode(data)
		if err != nil {
			s.t.Fatalf("decoding %s: %v", data, err)
		}
		r.msgs = []jsonrpc.Message{m}
	}
	return r
}

// c26ParseSSE returns the messages and event ids of an SSE body.
func c26ParseSSE(t *testing.T, data []byte) ([]jsonrpc.Message, []string) {
	t.Helper()
	var (
		msgs []jsonrpc.Message
		ids  []string
		buf  []byte
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	flush := func() {
		if len(buf) > 0 {
			m, err := jsonrpc.Decode(buf)
			if err != nil {
				t.Fatalf("decoding event %s: %v", buf, err)
			}
			msgs = append(msgs, m)
		}
		buf = nil
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "data:"):
			buf = append(buf, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
		case strings.HasPrefix(line, "id:"):
			ids = append(ids, strings.TrimSpace(strings.TrimPrefix(line, "id:")))
		}
	}
	flush()
	return msgs, ids
}

// c26Client connects a client with the given options (ProtocolVersion
// defaults to 2026-07-28) over d.
func c26Client(t *testing.T, d transport.Dialer, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	o := mcp.ClientOptions{ProtocolVersion: v26}
	if opts != nil {
		o = *opts
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "c26-client", Version: "1.0.0"}, &o).Connect(ctx, d)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// c26Handlers answer input requests the way the conformance suite does.
func c26Handlers(o *mcp.ClientOptions) *mcp.ClientOptions {
	o.Elicit = func(ctx context.Context, cs *mcp.ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
		if p.Mode == protocol.ElicitModeURL {
			return &protocol.ElicitResult{Action: protocol.ElicitActionAccept}, nil
		}
		content := map[string]any{}
		for _, name := range p.RequestedSchema.PropertyNames() {
			content[name] = "answer-to-" + name
		}
		return &protocol.ElicitResult{Action: protocol.ElicitActionAccept, Content: content}, nil
	}
	o.CreateMessage = func(ctx context.Context, cs *mcp.ClientSession, p *protocol.CreateMessageRequestParams) (*protocol.CreateMessageResult, error) {
		return &protocol.CreateMessageResult{Role: protocol.RoleAssistant, Model: "test-model",
			Content: protocol.SamplingContents{&protocol.TextContent{Text: "sampled"}}}, nil
	}
	o.Roots = []protocol.Root{{URI: "file:///tmp/root", Name: "root"}}
	return o
}

// c26Pipe serves srv over an in-memory stdio pipe and returns a dialer
// for the client side. The connection can be dialed once.
func c26Pipe(t *testing.T, srv *mcp.Server) transport.Dialer {
	t.Helper()
	a, b := stdio.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeStream(ctx, a)
	}()
	t.Cleanup(func() {
		cancel()
		a.Close()
		b.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("stdio server did not stop")
		}
	})
	return c26PipeDialer{conn: stdio.NewClientConn(b, nil)}
}

type c26PipeDialer struct{ conn transport.ClientConn }

func (d c26PipeDialer) Dial(context.Context) (transport.ClientConn, error) { return d.conn, nil }

// c26RawPipe is a stdio pipe driven message by message.
type c26RawPipe struct {
	t    *testing.T
	conn *stdio.ClientConn
}

func c26NewRawPipe(t *testing.T, srv *mcp.Server) *c26RawPipe {
	t.Helper()
	d := c26Pipe(t, srv).(c26PipeDialer)
	return &c26RawPipe{t: t, conn: d.conn.(*stdio.ClientConn)}
}

func (p *c26RawPipe) send(id int64, method string, params jsontext.Value) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var req jsonrpc.Request
	req.Method, req.Params = method, params
	if id != 0 {
		req.ID = jsonrpc.Int64ID(id)
	}
	if err := p.conn.Send(ctx, &req); err != nil {
		p.t.Fatal(err)
	}
}

// recv returns the next message.
func (p *c26RawPipe) recv() jsonrpc.Message {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := p.conn.Recv(ctx)
	if err != nil {
		p.t.Fatalf("recv: %v", err)
	}
	return m
}

// call sends a request and returns its response, collecting the
// notifications that arrive first.
func (p *c26RawPipe) call(id int64, method string, params jsontext.Value) (*jsonrpc.Response, []*jsonrpc.Request) {
	p.t.Helper()
	p.send(id, method, params)
	var notes []*jsonrpc.Request
	for {
		switch m := p.recv().(type) {
		case *jsonrpc.Response:
			if m.ID == jsonrpc.Int64ID(id) {
				return m, notes
			}
		case *jsonrpc.Request:
			notes = append(notes, m)
		}
	}
}

// c26Recorder records the headers of the HTTP requests a client sends.
type c26Recorder struct {
	mu   sync.Mutex
	reqs []http.Header
	next http.RoundTripper
}

func (r *c26Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Header.Clone())
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *c26Recorder) headers() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.reqs...)
}

// c26Text returns the text of the first text block of a tool result.
func c26Text(t *testing.T, res *protocol.CallToolResult) string {
	t.Helper()
	for _, c := range res.Content {
		if tc, ok := c.(*protocol.TextContent); ok {
			return tc.Text
		}
	}
	t.Fatalf("no text in %+v", res)
	return ""
}

// c26Stream is an open POST whose SSE response is read event by event.
type c26Stream struct {
	t      *testing.T
	cancel context.CancelFunc
	resp   *http.Response
	msgs   chan jsonrpc.Message
	ids    chan string
	done   chan struct{}
}

// open POSTs a request and reads its SSE response in the background.
func (s *c26HTTP) open(id int64, method string, params jsontext.Value) *c26Stream {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := c26Headers(method, params)
	body := jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: jsonrpc.Int64ID(id), Method: method, Params: params})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.ts.URL, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header = h
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		cancel()
		s.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		s.t.Fatalf("%s answered %d %s: %s", method, resp.StatusCode, ct, b)
	}
	st := &c26Stream{t: s.t, cancel: cancel, resp: resp, msgs: make(chan jsonrpc.Message, 64), ids: make(chan string, 64), done: make(chan struct{})}
	go func() {
		defer close(st.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var buf []byte
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && len(buf) > 0:
				if m, err := jsonrpc.Decode(buf); err == nil {
					st.msgs <- m
				}
				buf = nil
			case strings.HasPrefix(line, "data:"):
				buf = append(buf, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
			case strings.HasPrefix(line, "id:"):
				st.ids <- strings.TrimSpace(strings.TrimPrefix(line, "id:"))
			}
		}
	}()
	s.t.Cleanup(st.close)
	return st
}

// next returns the next message of the stream.
func (st *c26Stream) next() jsonrpc.Message {
	st.t.Helper()
	select {
	case m := <-st.msgs:
		return m
	case <-time.After(10 * time.Second):
		st.t.Fatal("no message on the stream within 10s")
	}
	return nil
}

// none checks that no message arrives for a while.
func (st *c26Stream) none(d time.Duration) {
	st.t.Helper()
	select {
	case m := <-st.msgs:
		st.t.Errorf("unexpected message %+v", m)
	case <-time.After(d):
	}
}

func (st *c26Stream) close() {
	st.cancel()
	<-st.done
}

func c26DialHTTP(t *testing.T, srv *mcp.Server) *mcp.ClientSession {
	s := c26NewHTTP(t, srv, nil)
	return c26Client(t, streamable.NewDialer(s.ts.URL, nil), &mcp.ClientOptions{DiscoverModern: true})
}

func c26DialStdio(t *testing.T, srv *mcp.Server) *mcp.ClientSession {
	return c26Client(t, c26Pipe(t, srv), &mcp.ClientOptions{DiscoverModern: true})
}

// c26SessionsOnly hides a server's stateless handling from a transport, as
// a server of an earlier revision would have none.
type c26SessionsOnly struct{ s *mcp.Server }

func (f c26SessionsOnly) NewSession(ctx context.Context, id string, standalone transport.Sink) (transport.Session, error) {
	return f.s.NewSession(ctx, id, standalone)
}
func (f c26SessionsOnly) SupportedVersions() []string { return f.s.SupportedVersions() }

func c26DialHTTPNoStateless(t *testing.T, srv *mcp.Server) *mcp.ClientSession {
	h := streamable.NewHandler(c26SessionsOnly{srv}, nil)
	ts := httptest.NewServer(h)
	t.Cleanup(func() { ts.CloseClientConnections(); ts.Close(); h.Close(); srv.Close() })
	return c26Client(t, streamable.NewDialer(ts.URL, nil), &mcp.ClientOptions{DiscoverModern: true})
}

// c26NoDiscover is a session that refuses anything before initialize, as
// servers of earlier revisions do.
type c26NoDiscover struct{ transport.Session }

func (s c26NoDiscover) HandleRequest(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) []byte {
	if req.Method == protocol.MethodServerDiscover {
		return jsonrpc.AppendErrorResponse(nil, req.ID, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "not initialized"})
	}
	return s.Session.HandleRequest(ctx, req, sink)
}

type c26NoDiscoverFactory struct{ c26SessionsOnly }

func (f c26NoDiscoverFactory) NewSession(ctx context.Context, id string, standalone transport.Sink) (transport.Session, error) {
	s, err := f.s.NewSession(ctx, id, standalone)
	if err != nil {
		return nil, err
	}
	return c26NoDiscover{s}, nil
}

func c26DialStdioNoDiscover(t *testing.T, srv *mcp.Server) *mcp.ClientSession {
	a, b := stdio.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = stdio.Serve(ctx, c26NoDiscoverFactory{c26SessionsOnly{srv}}, a, nil)
	}()
	t.Cleanup(func() { cancel(); a.Close(); b.Close(); <-done })
	return c26Client(t, c26PipeDialer{conn: stdio.NewClientConn(b, nil)}, &mcp.ClientOptions{DiscoverModern: true})
}
