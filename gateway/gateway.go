package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Gateway is an MCP server in front of many upstream servers. Its front
// server (Server) merges the upstreams' tools, prompts, resources and
// templates under names that are a pure function of the configuration,
// and relays every request to the upstream that serves it; Handler serves
// the front over Streamable HTTP and the legacy HTTP+SSE transport,
// Server().ServeStdio over stdio.
//
// A Gateway's methods are safe for concurrent use.
type Gateway struct {
	opts  Options
	log   *slog.Logger
	front *mcp.Server

	mu        sync.Mutex
	upstreams map[string]*upstream
	closed    bool

	rebuildMu sync.Mutex              // serializes rebuilds
	cat       atomic.Pointer[catalog] // what the front server exposes
	exch      exchanges               // 2026-07-28 requests waiting for input
	sessions  sync.Map                // *mcp.ServerSession -> *frontSession
	http      httpHandlers
	urlElicit sync.Map               // urlElicitKey -> *mcp.ServerSession that got the URL elicitation
	onChange  atomic.Pointer[func()] // observer of upstream state changes
	started   time.Time
	virt      virtualServers // virtual servers (virtual.go)
}

// New starts a gateway with the upstreams of opts: it connects to them in
// the background and waits up to Options.StartupWait for them, so that the
// first clients see their tools. An upstream that fails is retried with
// backoff; it is reported by Status, not by an error from New. New fails
// only for invalid options.
func New(opts Options) (*Gateway, error) {
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.Separator == "" {
		opts.Separator = DefaultSeparator
	}
	if opts.Naming == "" {
		opts.Naming = NamingAuto
	}
	switch opts.Naming {
	case NamingAuto, NamingAlways, NamingNever:
	default:
		return nil, fmt.Errorf("gateway: unknown naming mode %q (auto, always or never)", opts.Naming)
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.StartupWait == 0 {
		opts.StartupWait = DefaultStartupWait
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = DefaultDrainTimeout
	}
	if opts.MaxExchanges == 0 {
		opts.MaxExchanges = DefaultMaxExchanges
	}
	g := &Gateway{opts: opts, log: opts.Logger, upstreams: map[string]*upstream{}, started: time.Now()}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	g.cat.Store(&catalog{})
	g.exch.init(opts.MaxExchanges)
	g.front = mcp.NewServer(protocol.Implementation{Name: opts.Name, Version: opts.Version}, g.serverOptions())
	mw := append(append([]mcp.Middleware(nil), opts.Hooks.Middleware...), g.observe, g.remember, g.middleware)
	g.front.Use(mw...)
	if err := g.initVirtual(opts.VirtualServers); err != nil {
		return nil, err
	}

	ups, err := g.makeUpstreams(opts.Upstreams)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	for _, u := range ups {
		g.upstreams[u.spec.Name] = u
	}
	g.mu.Unlock()
	for _, u := range ups {
		u.start()
	}
	g.waitStartup(ups)
	g.rebuild()
	return g, nil
}

// makeUpstreams checks specs and builds their upstreams (not started).
func (g *Gateway) makeUpstreams(specs []Upstream) ([]*upstream, error) {
	seen := map[string]bool{}
	var out []*upstream
	for _, s := range specs {
		if s.Name == "" {
			return nil, errors.New("gateway: an upstream has no name")
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("gateway: two upstreams are named %q", s.Name)
		}
		seen[s.Name] = true
		switch s.Session {
		case "", SessionShared, SessionPerClient:
		default:
			return nil, fmt.Errorf("gateway: upstream %q: unknown session mode %q (shared or per-client)", s.Name, s.Session)
		}
		u, err := newUpstream(g, s)
		if err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		out = append(out, u)
	}
	return out, nil
}

// waitStartup waits, within StartupWait, until no upstream of ups is
// starting any more.
func (g *Gateway) waitStartup(ups []*upstream) {
	if g.opts.StartupWait < 0 || len(ups) == 0 {
		return
	}
	deadline := time.NewTimer(g.opts.StartupWait)
	defer deadline.Stop()
	for _, u := range ups {
		for {
			u.mu.Lock()
			st, ch := u.state, u.changed
			u.mu.Unlock()
			if st != StateStarting {
				break
			}
			select {
			case <-ch:
			case <-deadline.C:
				return
			}
		}
	}
}

// Server returns the front server, to serve it over a transport of one's
// choice (Handler serves it over HTTP).
func (g *Gateway) Server() *mcp.Server { return g.front }

// ServeStdio serves one client over the process's standard input and
// output until it closes them or ctx ends.
func (g *Gateway) ServeStdio(ctx context.Context) error { return g.front.ServeStdio(ctx) }

// upstreamList returns the upstreams sorted by name.
func (g *Gateway) upstreamList() []*upstream {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*upstream, 0, len(g.upstreams))
	for _, u := range g.upstreams {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].spec.Name < out[j].spec.Name })
	return out
}

// naming and separator return the naming settings in force.
func (g *Gateway) naming() Naming {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.opts.Naming
}

func (g *Gateway) separator() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.opts.Separator
}

// SetNaming changes the naming mode and separator (empty keeps the
// current one); the names the gateway exposes change accordingly and
// clients are told.
func (g *Gateway) SetNaming(mode Naming, sep string) error {
	switch mode {
	case "", NamingAuto, NamingAlways, NamingNever:
	default:
		return fmt.Errorf("gateway: unknown naming mode %q (auto, always or never)", mode)
	}
	g.mu.Lock()
	changed := false
	if mode != "" && mode != g.opts.Naming {
		g.opts.Naming, changed = mode, true
	}
	if sep != "" && sep != g.opts.Separator {
		g.opts.Separator, changed = sep, true
	}
	g.mu.Unlock()
	if changed {
		g.rebuild()
	}
	return nil
}

// upstreamChanged is called on every state change of an upstream.
func (g *Gateway) upstreamChanged() {
	if f := g.onChange.Load(); f != nil {
		(*f)()
	}
}

// Update replaces the upstreams with specs, as a diff: new upstreams
// start, removed ones stop once their calls in flight are done (within
// Options.DrainTimeout), changed ones are replaced. Clients stay connected
// and are told of the list changes. It returns once the new upstreams are
// started (waiting up to Options.StartupWait for them to connect) and
// the removed ones stopped.
func (g *Gateway) Update(specs []Upstream) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errors.New("gateway: closed")
	}
	g.mu.Unlock()
	fresh, err := g.makeUpstreams(specs)
	if err != nil {
		return err
	}
	g.mu.Lock()
	var started, stopped []*upstream
	next := map[string]*upstream{}
	for _, u := range fresh {
		old, ok := g.upstreams[u.spec.Name]
		if ok && sameSpec(old.spec, u.spec) {
			next[u.spec.Name] = old
			u.cancel()
			continue
		}
		if ok {
			stopped = append(stopped, old)
		}
		next[u.spec.Name] = u
		started = append(started, u)
	}
	for name, old := range g.upstreams {
		if _, ok := next[name]; !ok {
			stopped = append(stopped, old)
		}
	}
	g.upstreams = next
	g.mu.Unlock()

	var wg sync.WaitGroup
	for _, u := range stopped {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u.stop(g.opts.DrainTimeout)
			u.log.Info("upstream stopped")
		}()
	}
	for _, u := range started {
		u.start()
	}
	g.waitStartup(started)
	g.rebuild()
	wg.Wait()
	return nil
}

// sameSpec reports whether two specs describe the same upstream.
func sameSpec(a, b Upstream) bool {
	if a.Server != nil || b.Server != nil || a.Dialer != nil || b.Dialer != nil || a.HTTPClient != nil || b.HTTPClient != nil {
		return a.Server == b.Server && a.Dialer == b.Dialer && a.HTTPClient == b.HTTPClient && specKey(a) == specKey(b)
	}
	return specKey(a) == specKey(b)
}

func specKey(s Upstream) string {
	s.Server, s.Dialer, s.HTTPClient = nil, nil, nil
	return fmt.Sprintf("%#v|%#v|%v", s, s.Command, s.Prefix != nil && *s.Prefix != "")
}

// SetEnabled enables or disables an upstream at run time (until the next
// Update, which applies the configuration's own setting).
func (g *Gateway) SetEnabled(name string, enabled bool) error {
	g.mu.Lock()
	u, ok := g.upstreams[name]
	g.mu.Unlock()
	if !ok {
		return fmt.Errorf("gateway: no upstream named %q", name)
	}
	spec := u.spec
	spec.Disabled = !enabled
	if spec.Disabled == u.spec.Disabled {
		return nil
	}
	return g.replace(u, spec)
}

// Restart stops an upstream and starts it again.
func (g *Gateway) Restart(name string) error {
	g.mu.Lock()
	u, ok := g.upstreams[name]
	g.mu.Unlock()
	if !ok {
		return fmt.Errorf("gateway: no upstream named %q", name)
	}
	return g.replace(u, u.spec)
}

// replace swaps upstream old for a new one built from spec.
func (g *Gateway) replace(old *upstream, spec Upstream) error {
	u, err := newUpstream(g, spec)
	if err != nil {
		return err
	}
	g.mu.Lock()
	if g.upstreams[spec.Name] != old {
		g.mu.Unlock()
		u.cancel()
		return fmt.Errorf("gateway: upstream %q changed meanwhile", spec.Name)
	}
	g.upstreams[spec.Name] = u
	g.mu.Unlock()
	old.stop(g.opts.DrainTimeout)
	u.start()
	g.waitStartup([]*upstream{u})
	g.rebuild()
	return nil
}

// Close stops every upstream (after the calls in flight, within the drain
// timeout) and ends every client session.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	ups := make([]*upstream, 0, len(g.upstreams))
	for _, u := range g.upstreams {
		ups = append(ups, u)
	}
	g.mu.Unlock()
	g.closeHTTP()
	g.front.Close()
	g.closeVirtual()
	g.exch.closeAll()
	var wg sync.WaitGroup
	for _, u := range ups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u.stop(g.opts.DrainTimeout)
		}()
	}
	wg.Wait()
	return nil
}

// UpstreamStatus describes an upstream's health and what it offers.
type UpstreamStatus struct {
	Name  string `json:"name"`
	State State  `json:"state"`
	// Error is why the upstream failed or is degraded.
	Error string `json:"error,omitempty"`
	// Since is when the upstream entered its state.
	Since time.Time `json:"since"`
	// RetryAt is the next connection attempt of a failed upstream.
	RetryAt *time.Time `json:"retryAt,omitempty"`
	// Restarts counts the sessions lost and reconnected.
	Restarts int `json:"restarts"`
	// Transport is "stdio", "http", "sse", "in-process" or "custom".
	Transport string `json:"transport"`
	// Prefix is the naming prefix ("" for none).
	Prefix string `json:"prefix"`
	// Session is the session mode.
	Session SessionMode `json:"session"`
	// Server and ProtocolVersion are what the upstream reported.
	Server          protocol.Implementation     `json:"server"`
	ProtocolVersion string                      `json:"protocolVersion,omitempty"`
	Capabilities    protocol.ServerCapabilities `json:"capabilities"`
	Tools           int                         `json:"tools"`
	Prompts         int                         `json:"prompts"`
	Resources       int                         `json:"resources"`
	Templates       int                         `json:"resourceTemplates"`
	// InFlight counts the relayed calls in flight; ClientSessions the
	// per-client upstream sessions open.
	InFlight       int `json:"inFlight"`
	ClientSessions int `json:"clientSessions"`
}

// Status reports every upstream, sorted by name, and the name collisions.
func (g *Gateway) Status() ([]UpstreamStatus, []Collision) {
	var out []UpstreamStatus
	for _, u := range g.upstreamList() {
		u.mu.Lock()
		s := UpstreamStatus{
			Name: u.spec.Name, State: u.state, Since: u.since, Restarts: u.restarts,
			Transport: u.transportName(), Prefix: u.prefix, Session: u.sessionMode(),
			Server: u.lists.info, ProtocolVersion: u.lists.version, Capabilities: u.lists.caps,
			Tools: len(u.lists.tools), Prompts: len(u.lists.prompts), Resources: len(u.lists.resources), Templates: len(u.lists.templates),
			InFlight: u.inflight, ClientSessions: len(u.perClient),
		}
		if u.err != nil {
			s.Error = u.err.Error()
		}
		if u.state == StateFailed && !u.retryAt.IsZero() {
			t := u.retryAt
			s.RetryAt = &t
		}
		u.mu.Unlock()
		out = append(out, s)
	}
	return out, slices.Clone(g.cat.Load().collisions)
}

func (u *upstream) transportName() string {
	switch {
	case u.spec.Command != nil:
		return "stdio"
	case u.spec.URL != "" && u.spec.SSE:
		return "sse"
	case u.spec.URL != "":
		return "http"
	case u.spec.Server != nil:
		return "in-process"
	}
	return "custom"
}

func (u *upstream) sessionMode() SessionMode {
	if u.spec.Session == "" {
		return SessionShared
	}
	return u.spec.Session
}

// Drain waits until no relayed call is in flight, or ctx ends. A server
// shutting down stops taking requests, drains, then closes the gateway.
func (g *Gateway) Drain(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		n := 0
		for _, u := range g.upstreamList() {
			u.mu.Lock()
			n += u.inflight
			u.mu.Unlock()
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gateway: %d calls still in flight: %w", n, ctx.Err())
		case <-t.C:
		}
	}
}
