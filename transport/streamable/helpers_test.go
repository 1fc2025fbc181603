package streamable

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/sse"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

var allVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26"}

// testFactory creates testSessions speaking a tiny protocol:
//
//	initialize {protocolVersion}        result {protocolVersion}; "fail" fails
//	echo <params>                      result = params
//	slow {steps, delayMs}              one progress notification per step
//	sleep {ms}                         sleeps without sending anything
//	close-stream {retry}               progress "before", CloseStream, waits
//	                                   for the factory's gate, progress "after"
//	ask                                sends a request to the client and
//	                                   returns its answer
//	block                              waits for the factory's release or
//	                                   its context
//	stuck                              waits for the factory's release
//	                                   only, ignoring cancellation
//	info                               reports RequestInfo and context values
//	notify                             sends a notification on the standalone sink
//	panic                              panics
//	cancelled                          returns no response
type testFactory struct {
	versions []string
	err      error // returned by NewSession when set

	gate        chan struct{} // close-stream waits for it
	release     chan struct{} // block waits for it
	gateOnce    sync.Once
	releaseOnce sync.Once

	running, maxRunning atomic.Int32 // concurrent "block" handlers
	finished            atomic.Int32 // completed HandleRequest calls
	sendErrs            atomic.Int32 // failed sink.Send calls

	mu       sync.Mutex
	sessions map[string]*testSession
}

func newTestFactory() *testFactory {
	return &testFactory{
		versions: allVersions,
		gate:     make(chan struct{}),
		release:  make(chan struct{}),
		sessions: make(map[string]*testSession),
	}
}

func (f *testFactory) SupportedVersions() []string { return f.versions }

func (f *testFactory) NewSession(ctx context.Context, id string, standalone transport.Sink) (transport.Session, error) {
	if f.err != nil {
		return nil, f.err
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &testSession{f: f, id: id, standalone: standalone, ctx: sctx, cancel: cancel,
		waiters: make(map[string]chan *jsonrpc.Response)}
	if info := transport.RequestInfoFrom(ctx); info != nil {
		s.initHost = info.Host
	}
	f.mu.Lock()
	f.sessions[id] = s
	f.mu.Unlock()
	return s, nil
}

func (f *testFactory) session(id string) *testSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions[id]
}

type testSession struct {
	f          *testFactory
	id         string
	standalone transport.Sink
	ctx        context.Context
	cancel     context.CancelFunc
	closes     atomic.Int32
	initHost   string

	mu      sync.Mutex
	version string
	notes   []string
	asks    int
	waiters map[string]chan *jsonrpc.Response
}

func (s *testSession) ID() string { return s.id }

func (s *testSession) ProtocolVersion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

func (s *testSession) Close() {
	s.closes.Add(1)
	s.cancel()
}

func (s *testSession) Done() <-chan struct{} { return s.ctx.Done() }

func (s *testSession) HandleNotification(_ context.Context, req *jsonrpc.Request) {
	s.mu.Lock()
	s.notes = append(s.notes, req.Method)
	s.mu.Unlock()
}

func (s *testSession) notifications() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.notes...)
}

func (s *testSession) HandleResponse(resp *jsonrpc.Response) {
	key, _ := resp.ID.Str()
	s.mu.Lock()
	ch := s.waiters[key]
	delete(s.waiters, key)
	s.mu.Unlock()
	if ch != nil {
		ch <- resp
	}
}

func result(id jsonrpc.ID, v any) []byte {
	b, err := jsonrpc.AppendResult(nil, id, v)
	if err != nil {
		panic(err)
	}
	return b
}

func errorResponse(id jsonrpc.ID, msg string) []byte {
	return jsonrpc.AppendErrorResponse(nil, id, jsonrpc.ErrInternal("%s", msg))
}

func progress(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return []byte(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":` + string(b) + `}}`)
}

func (s *testSession) send(ctx context.Context, sink transport.Sink, msg []byte) {
	if err := sink.Send(ctx, msg); err != nil {
		s.f.sendErrs.Add(1)
	}
}

func (s *testSession) HandleRequest(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) []byte {
	defer s.f.finished.Add(1)
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
		Steps           int    `json:"steps"`
		DelayMs         int    `json:"delayMs"`
		Ms              int    `json:"ms"`
		Retry           int    `json:"retry"`
		Tag             string `json:"tag"`
	}
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &p); err != nil {
			return errorResponse(req.ID, "bad params")
		}
	}
	switch req.Method {
	case "initialize":
		if p.ProtocolVersion == "fail" {
			return errorResponse(req.ID, "initialization refused")
		}
		if p.ProtocolVersion == "" {
			p.ProtocolVersion = "2025-11-25"
		}
		s.mu.Lock()
		s.version = p.ProtocolVersion
		s.mu.Unlock()
		return result(req.ID, map[string]string{"protocolVersion": p.ProtocolVersion})
	case "echo":
		if req.Params == nil {
			return result(req.ID, struct{}{})
		}
		return result(req.ID, req.Params)
	case "slow":
		for i := range p.Steps {
			if p.Tag != "" {
				s.send(ctx, sink, progress(fmt.Sprint(p.Tag, "-", i)))
			} else {
				s.send(ctx, sink, progress(i))
			}
			time.Sleep(time.Duration(p.DelayMs) * time.Millisecond)
		}
		return result(req.ID, map[string]int{"steps": p.Steps})
	case "sleep":
		select {
		case <-time.After(time.Duration(p.Ms) * time.Millisecond):
			return result(req.ID, "slept")
		case <-ctx.Done():
			return errorResponse(req.ID, "cancelled")
		}
	case "close-stream":
		s.send(ctx, sink, progress("before"))
		sink.(transport.StreamCloser).CloseStream(p.Retry)
		select {
		case <-s.f.gate:
		case <-ctx.Done():
			return errorResponse(req.ID, "cancelled")
		}
		s.send(ctx, sink, progress("after"))
		return result(req.ID, "reconnected")
	case "ask":
		s.mu.Lock()
		s.asks++
		key := fmt.Sprint("ask-", s.asks)
		ch := make(chan *jsonrpc.Response, 1)
		s.waiters[key] = ch
		s.mu.Unlock()
		if err := sink.Send(ctx, jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: jsonrpc.StringID(key),
			Method: "sampling/createMessage", Params: jsontext.Value(`{}`)})); err != nil {
			return errorResponse(req.ID, "cannot ask: "+err.Error())
		}
		select {
		case resp := <-ch:
			return result(req.ID, map[string]jsontext.Value{"answer": resp.Result})
		case <-ctx.Done():
			return errorResponse(req.ID, "cancelled")
		}
	case "block":
		n := s.f.running.Add(1)
		for {
			m := s.f.maxRunning.Load()
			if n <= m || s.f.maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		defer s.f.running.Add(-1)
		select {
		case <-s.f.release:
			return result(req.ID, "released")
		case <-ctx.Done():
			return errorResponse(req.ID, "cancelled")
		}
	case "stuck":
		s.f.running.Add(1)
		defer s.f.running.Add(-1)
		<-s.f.release
		return result(req.ID, "released")
	case "info":
		info := transport.RequestInfoFrom(ctx)
		if info == nil {
			return errorResponse(req.ID, "no RequestInfo")
		}
		v, _ := ctx.Value(testCtxKey{}).(string)
		return result(req.ID, map[string]any{"header": info.Header.Get("X-Test"), "value": v,
			"remote": info.RemoteAddr != "", "host": info.Host, "cause": fmt.Sprint(context.Cause(ctx))})
	case "notify":
		note := []byte(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`)
		if err := s.standalone.Send(ctx, note); err != nil {
			return errorResponse(req.ID, err.Error())
		}
		return result(req.ID, "notified")
	case "panic":
		panic("boom")
	case "cancelled":
		return nil
	}
	return jsonrpc.AppendErrorResponse(nil, req.ID, jsonrpc.ErrMethodNotFound(req.Method))
}

type testCtxKey struct{}

// testLogger logs to stderr at debug level when STREAMABLE_DEBUG is set.
func testLogger() *slog.Logger {
	if os.Getenv("STREAMABLE_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testEnv struct {
	t   *testing.T
	f   *testFactory
	h   *Handler
	srv *httptest.Server
	url string
}

// newEnv starts a Handler behind a loopback httptest server. The wrapper
// adds a context value to every request, standing in for authentication
// middleware.
func newEnv(t *testing.T, opts *Options) *testEnv {
	t.Helper()
	f := newTestFactory()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	h := NewHandler(f, opts)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), testCtxKey{}, "from-middleware")))
	}))
	t.Cleanup(func() {
		f.releaseAll()
		f.openGate()
		h.Close()
		srv.CloseClientConnections()
		srv.Close()
	})
	return &testEnv{t: t, f: f, h: h, srv: srv, url: srv.URL + "/mcp"}
}

// openGate lets close-stream handlers go on; it may be called more than
// once.
func (f *testFactory) openGate() {
	f.gateOnce.Do(func() { close(f.gate) })
}

// releaseAll lets block handlers return; it may be called more than once.
func (f *testFactory) releaseAll() {
	f.releaseOnce.Do(func() { close(f.release) })
}

type hdrs map[string]string

// do sends one request with default headers for its method, overridden by
// hdr (an empty value deletes a header).
func (e *testEnv) do(method, sid, body string, hdr hdrs) *http.Response {
	e.t.Helper()
	return e.doCtx(context.Background(), method, sid, body, hdr)
}

func (e *testEnv) doCtx(ctx context.Context, method, sid, body string, hdr hdrs) *http.Response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	switch method {
	case http.MethodPost:
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	case http.MethodGet:
		req.Header.Set("Accept", "text/event-stream")
	}
	if sid != "" {
		req.Header.Set(HeaderSessionID, sid)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s: %v", method, err)
	}
	return resp
}

// initialize opens a session on the given protocol version and returns its
// id.
func (e *testEnv) initialize(version string) string {
	e.t.Helper()
	resp := e.do(http.MethodPost, "", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"`+version+`"}}`, nil)
	body := readBody(e.t, resp)
	sid := resp.Header.Get(HeaderSessionID)
	if resp.StatusCode != http.StatusOK || sid == "" {
		e.t.Fatalf("initialize: %d, session %q, body %s", resp.StatusCode, sid, body)
	}
	return sid
}

func (e *testEnv) post(sid, body string) *http.Response {
	e.t.Helper()
	return e.do(http.MethodPost, sid, body, nil)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return string(b)
}

// rpcError decodes a JSON-RPC error response body.
func rpcError(t *testing.T, body string) (code int64, id string, msg string) {
	t.Helper()
	var r struct {
		ID    jsontext.Value `json:"id"`
		Error struct {
			Code    int64  `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return r.Error.Code, string(r.ID), r.Error.Message
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sseEvent is an SSE block as the tests look at it.
type sseEvent struct {
	ID       string
	Data     string // "" for the priming event and retry-only blocks
	Retry    int    // milliseconds
	HasRetry bool
}

// eventReader reads the blocks of an SSE response that carry data, an id
// or a retry field.
type eventReader struct{ r *sse.Reader }

func newEventReader(r io.Reader) *eventReader { return &eventReader{sse.NewReader(r, 0)} }

func (er *eventReader) Next() (sseEvent, error) {
	ev, err := er.r.Next()
	if err != nil {
		return sseEvent{}, err
	}
	return sseEvent{ID: ev.ID, Data: string(ev.Data), Retry: int(ev.Retry / time.Millisecond), HasRetry: ev.HasRetry}, nil
}
