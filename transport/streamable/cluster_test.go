package streamable

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// clusterFactory is a testFactory whose session ids carry the session's
// protocol version, so that another instance can restore them.
type clusterFactory struct {
	*testFactory
	mu         sync.Mutex
	terminated []string
}

func (f *clusterFactory) NewSessionID(_ context.Context, init *jsonrpc.Request) (string, error) {
	v := "2025-11-25"
	if strings.Contains(string(init.Params), "2025-06-18") {
		v = "2025-06-18"
	}
	return "v:" + v + ":" + rand.Text(), nil
}

func (f *clusterFactory) RestoreSession(ctx context.Context, id string, standalone transport.Sink) (transport.Session, error) {
	parts := strings.SplitN(id, ":", 3)
	if len(parts) != 3 || parts[0] != "v" {
		return nil, ErrUnknownSession
	}
	s, err := f.NewSession(ctx, id, standalone)
	if err != nil {
		return nil, err
	}
	s.(*testSession).version = parts[1]
	return s, nil
}

func (f *clusterFactory) TerminateSession(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.terminated = append(f.terminated, id)
	return nil
}

// sharedStore is a SharedEventStore for tests: one MemoryEventStore seen
// by several handlers, each through its own view naming its instance.
type sharedStore struct {
	*MemoryEventStore
	mu   sync.Mutex
	done map[string]bool // session/stream
}

type storeView struct {
	*sharedStore
	instance string
}

func (v storeView) Instance() string { return v.instance }

func (v storeView) OpenStream(context.Context, string, string, []jsonrpc.ID) error { return nil }

func (v storeView) CompleteStream(_ context.Context, session, stream string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.done[session+"/"+stream] = true
	return nil
}

func (v storeView) DeleteSession(context.Context, string) error { return nil }

func (v storeView) Follow(ctx context.Context, session, last string, fn func(string, []byte) error) (string, error) {
	cursor := last
	for {
		stream, err := v.Replay(ctx, session, cursor, func(id string, data []byte) error {
			cursor = id
			return fn(id, data)
		})
		if err != nil {
			return stream, err
		}
		v.mu.Lock()
		done := v.done[session+"/"+stream]
		v.mu.Unlock()
		if done {
			_, err := v.Replay(ctx, session, cursor, fn)
			return stream, err
		}
		select {
		case <-ctx.Done():
			return stream, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

var _ SharedEventStore = storeView{}

// twoInstances starts two handlers sharing a store, each with its own
// factory (as two processes would have).
func twoInstances(t *testing.T) (a, b *testEnv, fa, fb *clusterFactory) {
	t.Helper()
	shared := &sharedStore{MemoryEventStore: NewMemoryEventStore(nil), done: map[string]bool{}}
	mk := func(name string) (*testEnv, *clusterFactory) {
		f := &clusterFactory{testFactory: newTestFactory()}
		h := NewHandler(f, &Options{EventStore: storeView{shared, name}, Logger: testLogger(), KeepAlive: -1})
		srv := httptest.NewServer(h)
		t.Cleanup(func() {
			f.releaseAll()
			f.openGate()
			h.Close()
			srv.CloseClientConnections()
			srv.Close()
		})
		return &testEnv{t: t, f: f.testFactory, h: h, srv: srv, url: srv.URL + "/mcp"}, f
	}
	a, fa = mk("a")
	b, fb = mk("b")
	return
}

// A session created on one instance is served by another, which restores
// it from its id; unknown ids get 404; DELETE reaches the terminator.
func TestClusterRestore(t *testing.T) {
	a, b, _, fb := twoInstances(t)
	sid := a.initialize("2025-06-18")
	if !strings.HasPrefix(sid, "v:2025-06-18:") {
		t.Fatalf("minted id %q", sid)
	}
	tests := []struct {
		name   string
		env    *testEnv
		sid    string
		status int
	}{
		{"creating instance", a, sid, 200},
		{"other instance restores", b, sid, 200},
		{"restored copy reused", b, sid, 200},
		{"not restorable", b, "bad-id", 404},
		{"too long", b, "v:2025-11-25:" + strings.Repeat("x", MaxSessionIDLen), 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.env.post(tt.sid, `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"x":1}}`)
			body := readBody(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d %s, want %d", resp.StatusCode, body, tt.status)
			}
		})
	}
	if b.h.SessionCount() != 1 || fb.session(sid).ProtocolVersion() != "2025-06-18" {
		t.Fatalf("restored sessions %d, version %q", b.h.SessionCount(), fb.session(sid).ProtocolVersion())
	}
	resp := b.do(http.MethodDelete, sid, "", nil)
	readBody(t, resp)
	if resp.StatusCode != 200 || len(fb.terminated) != 1 || fb.terminated[0] != sid {
		t.Fatalf("DELETE: %d, terminated %v", resp.StatusCode, fb.terminated)
	}
}

// A client that loses the stream of a request running on one instance
// resumes it on the other, which follows the shared store to the end.
func TestClusterFollow(t *testing.T) {
	a, b, _, _ := twoInstances(t)
	sid := a.initialize("2025-11-25")
	resp := a.do(http.MethodPost, sid, `{"jsonrpc":"2.0","id":7,"method":"slow","params":{"steps":6,"delayMs":30}}`, hdrs{"Accept": "text/event-stream"})
	er := newEventReader(resp.Body)
	var last string
	for last == "" || !strings.Contains(last, "-") {
		ev, err := er.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Data != "" {
			last = ev.ID
			break
		}
	}
	resp.Body.Close() // the client loses the stream after one progress event
	g := b.do(http.MethodGet, sid, "", hdrs{HeaderLastEventID: last})
	if g.StatusCode != 200 {
		t.Fatalf("resume on b: %d %s", g.StatusCode, readBody(t, g))
	}
	body := readBody(t, g)
	if !strings.Contains(body, `"id":7`) || strings.Count(body, "notifications/progress") != 5 {
		t.Fatalf("followed stream: %s", body)
	}
}

// Drain refuses new sessions and ends open streams with a retry field;
// the request goes on and its events are stored.
func TestClusterDrain(t *testing.T) {
	a, b, _, _ := twoInstances(t)
	sid := a.initialize("2025-11-25")
	resp := a.do(http.MethodPost, sid, `{"jsonrpc":"2.0","id":3,"method":"slow","params":{"steps":4,"delayMs":50}}`, hdrs{"Accept": "text/event-stream"})
	er := newEventReader(resp.Body)
	var last string
	for last == "" {
		ev, err := er.Next()
		if err != nil {
			t.Fatal(err)
		}
		last = ev.ID
	}
	a.h.Drain()
	var sawRetry bool
	for {
		ev, err := er.Next()
		if err != nil {
			break
		}
		if ev.ID != "" {
			last = ev.ID
		}
		sawRetry = sawRetry || ev.Retry > 0
	}
	resp.Body.Close()
	if !sawRetry {
		t.Error("the drained stream ended without a retry field")
	}
	r := a.do(http.MethodPost, "", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}`, nil)
	readBody(t, r)
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("initialize while draining: %d", r.StatusCode)
	}
	g := b.do(http.MethodGet, sid, "", hdrs{HeaderLastEventID: last})
	if body := readBody(t, g); !strings.Contains(body, `"id":3`) {
		t.Fatalf("resumed on b after the drain: %d %s", g.StatusCode, body)
	}
}

// FuzzStatelessHeaders checks the validation that lets intermediaries
// trust Mcp-Method and Mcp-Name (a balancer routing or a limiter counting
// on them): whatever the header values and the body, an accepted request's
// Mcp-Method equals the body's method and its Mcp-Name, decoded, the
// body's name.
func FuzzStatelessHeaders(f *testing.F) {
	f.Add("tools/call", "echo", "tools/call", `{"name":"echo"}`)
	f.Add("tools/call", "=?base64?ZWNobw==?=", "tools/call", `{"name":"echo"}`)
	f.Add("tools/list", "", "tools/call", `{"name":"echo"}`)
	f.Add("resources/read", "file:///x", "resources/read", `{"uri":"file:///x"}`)
	f.Add("prompts/get", "a", "prompts/get", `{"name":"a","name":"b"}`)
	f.Fuzz(func(t *testing.T, hMethod, hName, method, params string) {
		hdr := http.Header{}
		hdr.Set(HeaderMethod, hMethod)
		hdr.Set(HeaderProtocolVersion, "2026-07-28")
		if hName != "" {
			hdr.Set(HeaderName, hName)
		}
		req := &jsonrpc.Request{ID: jsonrpc.Int64ID(1), Method: method, Params: []byte(params)}
		if checkStatelessHeaders(hdr, req) != nil {
			return
		}
		if hMethod != method {
			t.Fatalf("accepted Mcp-Method %q for method %q", hMethod, method)
		}
		if hName == "" {
			return
		}
		member := map[string]string{"tools/call": "name", "prompts/get": "name", "resources/read": "uri", "tasks/get": "taskId", "tasks/update": "taskId", "tasks/cancel": "taskId"}[method]
		if member == "" {
			return
		}
		got, err := unsentinelHeaderValue(hName)
		body, ok := stringMember(req.Params, member)
		if err != nil || !ok || got != body {
			t.Fatalf("accepted Mcp-Name %q for %s %q", hName, member, body)
		}
	})
}
