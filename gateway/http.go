package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// Paths of the gateway's HTTP endpoints.
const (
	PathMCP     = "/mcp"     // Streamable HTTP (all revisions)
	PathSSE     = "/sse"     // legacy HTTP+SSE stream (2024-11-05)
	PathMessage = "/message" // legacy HTTP+SSE messages
	PathHealthz = "/healthz" // liveness
	PathReadyz  = "/readyz"  // readiness, with the upstreams' states
)

// httpHandlers are the transports of Handler, made once and closed with
// the gateway.
type httpHandlers struct {
	once   sync.Once
	stream *streamable.Handler
	sse    *sse.Handler
}

// MCPHandler returns the Streamable HTTP handler of the front server, to
// mount at an endpoint of one's choice (Handler mounts it at /mcp).
func (g *Gateway) MCPHandler() *streamable.Handler {
	g.http.once.Do(g.makeHTTP)
	return g.http.stream
}

// SSEHandler returns the handler of the legacy HTTP+SSE transport (it
// serves both the stream and the messages).
func (g *Gateway) SSEHandler() *sse.Handler {
	g.http.once.Do(g.makeHTTP)
	return g.http.sse
}

func (g *Gateway) makeHTTP() {
	o := g.opts.HTTP
	if o == nil {
		o = &streamable.Options{}
	}
	if o.Logger == nil {
		c := *o
		c.Logger = g.log
		o = &c
	}
	g.http.stream = streamable.NewHandler(g.sessionFactory(g.front), o)
	g.http.sse = sse.NewHandler(g.front, g.opts.SSE)
}

// Handler returns the gateway's HTTP endpoints: Streamable HTTP at /mcp,
// the legacy HTTP+SSE transport at /sse and /message, liveness at /healthz
// and readiness at /readyz, and each virtual server at /v/NAME/mcp.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	g.Mount(mux)
	return mux
}

// Mount adds the gateway's endpoints to mux (see Handler).
func (g *Gateway) Mount(mux *http.ServeMux) {
	mux.Handle(PathMCP, g.MCPHandler())
	mux.Handle(PathSSE, g.SSEHandler())
	mux.Handle(PathMessage, g.SSEHandler())
	mux.HandleFunc(PathHealthz, g.serveHealthz)
	mux.HandleFunc(PathReadyz, g.serveReadyz)
	g.mountVirtual(mux)
}

func (g *Gateway) serveHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// Ready reports whether the gateway serves: it is not closed, and at least
// one upstream is ready (or degraded), unless none is enabled.
func (g *Gateway) Ready() bool {
	g.mu.Lock()
	closed := g.closed
	g.mu.Unlock()
	if closed {
		return false
	}
	ups, _ := g.Status()
	enabled := 0
	for _, u := range ups {
		switch u.State {
		case StateReady, StateDegraded:
			return true
		case StateDisabled, StateStopped:
		default:
			enabled++
		}
	}
	return enabled == 0
}

func (g *Gateway) serveReadyz(w http.ResponseWriter, r *http.Request) {
	ups, collisions := g.Status()
	type brief struct {
		Name  string `json:"name"`
		State State  `json:"state"`
		Error string `json:"error,omitempty"`
	}
	body := struct {
		Ready      bool        `json:"ready"`
		Upstreams  []brief     `json:"upstreams"`
		Collisions []Collision `json:"collisions,omitempty"`
	}{Ready: g.Ready(), Upstreams: []brief{}, Collisions: collisions}
	for _, u := range ups {
		body.Upstreams = append(body.Upstreams, brief{u.Name, u.State, u.Error})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !body.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(body)
}

// Shutdown ends the transports' sessions and streams within ctx (see
// streamable.Handler.Shutdown); Close then stops the upstreams.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.http.once.Do(func() {})
	var errs []error
	if g.http.stream != nil {
		errs = append(errs, g.http.stream.Shutdown(ctx))
	}
	if g.http.sse != nil {
		errs = append(errs, g.http.sse.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// closeHTTP closes the transports, if they were made.
func (g *Gateway) closeHTTP() {
	g.http.once.Do(func() {}) // none made from now on
	if g.http.stream != nil {
		g.http.stream.Close()
	}
	if g.http.sse != nil {
		g.http.sse.Close()
	}
}

// sessionFactory returns the session factory of srv's Streamable HTTP
// endpoint (see Options.SessionFactory).
func (g *Gateway) sessionFactory(srv *mcp.Server) transport.SessionFactory {
	if g.opts.SessionFactory != nil {
		return g.opts.SessionFactory(srv)
	}
	return srv
}
