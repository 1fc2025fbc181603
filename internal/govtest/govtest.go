// Package govtest holds test helpers of the governance packages (policy,
// limits, tenants, pins): a gateway served over HTTP, and clients over
// each path the gateway serves — stateful Streamable HTTP (2025-11-25),
// stateless Streamable HTTP (2026-07-28) and stdio.
package govtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// Ctx returns a context that ends with the test (or after a minute).
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Gateway starts a gateway over HTTP; it returns the gateway and its base
// URL (no path).
func Gateway(t testing.TB, opts gateway.Options) (*gateway.Gateway, string) {
	t.Helper()
	g, err := gateway.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(g.Handler())
	t.Cleanup(func() {
		g.Close()
		ts.Close()
	})
	return g, ts.URL
}

// Path is a way a client reaches the gateway.
type Path string

// Paths.
const (
	Stateful  Path = "stateful-http"  // Streamable HTTP, revision 2025-11-25, with a session
	Stateless Path = "stateless-http" // Streamable HTTP, revision 2026-07-28
	Stdio     Path = "stdio"          // the front server over a stdio stream
)

// Paths lists every path.
var Paths = []Path{Stateful, Stateless, Stdio}

// IdentifyByClientName is an Identify hook for tests: the subject is the
// client's name; "tenant/name" names a tenant too; groups come after a
// "+": "acme/ada+admins+ops".
func IdentifyByClientName(_ context.Context, r *mcp.Request) *gateway.Identity {
	name := r.ClientInfo().Name
	if name == "" {
		return nil
	}
	id := &gateway.Identity{Method: "test"}
	rest := name
	if i := indexByte(rest, '+'); i >= 0 {
		for _, g := range splitPlus(rest[i+1:]) {
			id.Groups = append(id.Groups, g)
		}
		rest = rest[:i]
	}
	if i := indexByte(rest, '/'); i >= 0 {
		id.Tenant, rest = rest[:i], rest[i+1:]
	}
	id.Subject = rest
	return id
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func splitPlus(s string) []string {
	var out []string
	for s != "" {
		i := indexByte(s, '+')
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
	return out
}

// Connect connects a client called name to the gateway over path: url is
// the Streamable HTTP endpoint for the HTTP paths; srv the server served
// over stdio for Stdio.
func Connect(t testing.TB, path Path, url string, srv *mcp.Server, name string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	return ConnectHTTP(t, path, url, srv, name, opts, nil)
}

// ConnectHTTP is Connect with the HTTP client of the HTTP paths.
func ConnectHTTP(t testing.TB, path Path, url string, srv *mcp.Server, name string, opts *mcp.ClientOptions, hc *http.Client) *mcp.ClientSession {
	t.Helper()
	var o mcp.ClientOptions
	if opts != nil {
		o = *opts
	}
	var d transport.Dialer
	switch path {
	case Stateful:
		o.ProtocolVersion = protocol.Version20251125
		d = streamable.NewDialer(url, &streamable.ClientOptions{HTTPClient: hc})
	case Stateless:
		o.ProtocolVersion = protocol.Version20260728
		d = streamable.NewDialer(url, &streamable.ClientOptions{HTTPClient: hc})
	case Stdio:
		d = pipeDialer{srv}
	}
	cs, err := mcp.NewClient(protocol.Implementation{Name: name, Version: "1"}, &o).Connect(Ctx(t), d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	if path == Stateless && !cs.Stateless() {
		t.Fatal("the client did not speak 2026-07-28")
	}
	return cs
}

// pipeDialer serves a server over an in-memory stdio stream.
type pipeDialer struct{ srv *mcp.Server }

func (d pipeDialer) Dial(ctx context.Context) (transport.ClientConn, error) {
	client, server := stdio.Pipe()
	go d.srv.ServeStream(context.WithoutCancel(ctx), server)
	return stdio.NewClientConn(client, nil), nil
}

// ToolNames lists the tools a client sees.
func ToolNames(t testing.TB, cs *mcp.ClientSession) []string {
	t.Helper()
	var names []string
	for tool, err := range cs.Tools(Ctx(t)) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

// RPCCode returns the JSON-RPC error code of err (0 when err is not one).
func RPCCode(err error) int {
	var je *jsonrpc.Error
	if errors.As(err, &je) {
		return int(je.Code)
	}
	return 0
}

// Events collects gateway events.
type Events struct {
	mu     sync.Mutex
	events []*gateway.Event
}

// Observe is a Hooks.Observe function.
func (l *Events) Observe(_ context.Context, e *gateway.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// Find returns the events of method (and name, when not "").
func (l *Events) Find(method, name string) []*gateway.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*gateway.Event
	for _, e := range l.events {
		if (method == "" || e.Method == method) && (name == "" || e.Name == name) {
			out = append(out, e)
		}
	}
	return out
}

// All returns every event so far.
func (l *Events) All() []*gateway.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// StatusRecorder is an http.RoundTripper that records the status codes
// and Retry-After headers of the responses.
type StatusRecorder struct {
	mu      sync.Mutex
	Codes   []int
	Retries []string
}

// RoundTrip implements http.RoundTripper.
func (r *StatusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && req.Method == http.MethodPost {
		r.mu.Lock()
		r.Codes = append(r.Codes, resp.StatusCode)
		r.Retries = append(r.Retries, resp.Header.Get("Retry-After"))
		r.mu.Unlock()
	}
	return resp, err
}

// Last returns the last POST's status code and Retry-After.
func (r *StatusRecorder) Last() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.Codes) == 0 {
		return 0, ""
	}
	return r.Codes[len(r.Codes)-1], r.Retries[len(r.Retries)-1]
}
