package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// This file routes what flows from upstreams to clients: the requests an
// upstream makes of the client (sampling, elicitation, roots) reach the
// client whose call caused them; notifications (log messages, resource
// updates, list changes) reach the clients they concern. It also keeps the
// per-client upstream sessions, and the subscriptions and log levels the
// clients set.

// clientInfo is how the gateway introduces itself to upstreams.
func (g *Gateway) clientInfo() protocol.Implementation {
	return protocol.Implementation{Name: g.opts.Name, Version: g.opts.Version}
}

// allClientCaps are the capabilities a shared session declares: it relays
// for clients of every kind, and refuses in their name what a client
// lacks. It declares MCP Apps too, so that an upstream which checks for
// the extension offers its apps (the gateway relays them to the clients
// that render them, and the console renders them; a tool linked to an app
// still answers with content for clients that do not). The map is never
// modified: whoever adds to it clones it first.
var allClientCaps = protocol.ClientCapabilities{
	Roots:       &protocol.RootsCapability{ListChanged: true},
	Sampling:    &protocol.SamplingCapability{Tools: &protocol.EmptyCapability{}, Context: &protocol.EmptyCapability{}},
	Elicitation: &protocol.ElicitationCapability{Form: &protocol.EmptyCapability{}, URL: &protocol.EmptyCapability{}},
	Extensions:  map[string]jsontext.Value{ExtensionUI: jsontext.Value(`{"mimeTypes":["` + apps.MIMEType + `"]}`)},
}

// sharedClient returns the client of u's shared session.
func (g *Gateway) sharedClient(u *upstream) *mcp.Client {
	caps := allClientCaps
	return mcp.NewClient(g.clientInfo(), g.clientOptions(u, nil, &caps))
}

// clientOptions builds the options of an upstream client. owner is the
// client session a per-client session belongs to (nil for the shared one).
func (g *Gateway) clientOptions(u *upstream, owner *mcp.ServerSession, caps *protocol.ClientCapabilities) *mcp.ClientOptions {
	o := &mcp.ClientOptions{
		Capabilities:    caps,
		ProtocolVersion: u.spec.ProtocolVersion,
		Logger:          u.log,
		MaxInFlight:     64,
		SamplingTools:   true,
		ElicitURL:       true,
		Sending:         g.opts.Hooks.UpstreamMiddleware,
	}
	switch u.spec.ProtocolVersion {
	case "auto":
		o.ProtocolVersion, o.DiscoverModern = "", true
	}
	o.CreateMessage = func(ctx context.Context, cs *mcp.ClientSession, p *protocol.CreateMessageRequestParams) (*protocol.CreateMessageResult, error) {
		rc, ss, err := g.target(ctx, u, owner, cs, protocol.MethodSamplingCreateMessage)
		if err != nil {
			return nil, err
		}
		switch {
		case rc != nil && rc.ex != nil:
			var res protocol.CreateMessageResult
			return &res, rc.ex.ask(ctx, protocol.MethodSamplingCreateMessage, p, &res)
		case rc != nil:
			res, err := rc.dreq.CreateMessage(ctx, p)
			return res, clientSideError(err, "sampling")
		}
		res, err := ss.CreateMessage(ctx, p)
		return res, clientSideError(err, "sampling")
	}
	o.Elicit = func(ctx context.Context, cs *mcp.ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
		rc, ss, err := g.target(ctx, u, owner, cs, protocol.MethodElicitationCreate)
		if err != nil {
			return nil, err
		}
		if p.EffectiveMode() == protocol.ElicitModeURL && p.ElicitationID != "" {
			who := ss
			if rc != nil && rc.dreq != nil {
				who = rc.dreq.Session
			}
			if who != nil {
				g.urlElicit.Store(urlElicitKey{u, p.ElicitationID}, who)
			}
		}
		switch {
		case rc != nil && rc.ex != nil:
			var res protocol.ElicitResult
			return &res, rc.ex.ask(ctx, protocol.MethodElicitationCreate, p, &res)
		case rc != nil:
			res, err := rc.dreq.Elicit(ctx, p)
			return res, clientSideError(err, "elicitation")
		}
		res, err := ss.Elicit(ctx, p)
		return res, clientSideError(err, "elicitation")
	}
	o.ListRoots = func(ctx context.Context, cs *mcp.ClientSession) ([]protocol.Root, error) {
		rc, ss, err := g.target(ctx, u, owner, cs, protocol.MethodRootsList)
		if err != nil {
			return nil, err
		}
		var res *protocol.ListRootsResult
		switch {
		case rc != nil && rc.ex != nil:
			res = &protocol.ListRootsResult{}
			err = rc.ex.ask(ctx, protocol.MethodRootsList, &protocol.ListRootsRequestParams{}, res)
		case rc != nil:
			res, err = rc.dreq.ListRoots(ctx)
		default:
			res, err = ss.ListRoots(ctx)
		}
		if err != nil {
			return nil, clientSideError(err, "roots")
		}
		return res.Roots, nil
	}
	if len(g.opts.Hooks.Observe) > 0 {
		cm, el, lr := o.CreateMessage, o.Elicit, o.ListRoots
		who := func(ctx context.Context, cs *mcp.ClientSession, method string) (*mcp.Request, *mcp.ServerSession) {
			rc, ss, _ := g.target(ctx, u, owner, cs, method)
			switch {
			case rc != nil && rc.ex != nil:
				return rc.ex.current(), nil
			case rc != nil:
				return rc.dreq, nil
			}
			return nil, ss
		}
		o.CreateMessage = func(ctx context.Context, cs *mcp.ClientSession, p *protocol.CreateMessageRequestParams) (*protocol.CreateMessageResult, error) {
			start := time.Now()
			res, err := cm(ctx, cs, p)
			d, ss := who(ctx, cs, protocol.MethodSamplingCreateMessage)
			g.observeUpstreamRequest(ctx, u, d, ss, protocol.MethodSamplingCreateMessage, p, start, res, err)
			return res, err
		}
		o.Elicit = func(ctx context.Context, cs *mcp.ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			start := time.Now()
			res, err := el(ctx, cs, p)
			d, ss := who(ctx, cs, protocol.MethodElicitationCreate)
			g.observeUpstreamRequest(ctx, u, d, ss, protocol.MethodElicitationCreate, p, start, res, err)
			return res, err
		}
		o.ListRoots = func(ctx context.Context, cs *mcp.ClientSession) ([]protocol.Root, error) {
			start := time.Now()
			roots, err := lr(ctx, cs)
			d, ss := who(ctx, cs, protocol.MethodRootsList)
			var res any
			if err == nil {
				res = &protocol.ListRootsResult{Roots: roots}
			}
			g.observeUpstreamRequest(ctx, u, d, ss, protocol.MethodRootsList, struct{}{}, start, res, err)
			return roots, err
		}
	}
	o.OnLog = func(ctx context.Context, cs *mcp.ClientSession, p *protocol.LoggingMessageNotificationParams) {
		logger := u.spec.Name
		if p.Logger != "" {
			logger += "/" + p.Logger
		}
		if rc := relayFrom(ctx); rc != nil {
			if rc.ex != nil {
				if d := rc.ex.current(); d != nil {
					_ = d.Log(ctx, p.Level, logger, p.Data)
				}
				return
			}
			_ = rc.dreq.Log(ctx, p.Level, logger, p.Data)
			return
		}
		if owner != nil {
			_ = owner.Log(ctx, p.Level, logger, p.Data)
			return
		}
		for _, ss := range g.allSessions() {
			if g.sessionMay(ctx, ss, u) {
				_ = ss.Log(ctx, p.Level, logger, p.Data)
			}
		}
	}
	o.OnResourceUpdated = func(ctx context.Context, cs *mcp.ClientSession, p *protocol.ResourceUpdatedNotificationParams) {
		uri := g.cat.Load().exposeURI(u, p.URI)
		if owner != nil {
			_ = owner.Notify(ctx, protocol.NotificationResourcesUpdated, &protocol.ResourceUpdatedNotificationParams{URI: uri})
			return
		}
		for _, srv := range g.servers() {
			srv.ResourceUpdated(ctx, uri)
		}
	}
	if owner == nil {
		changed := func(context.Context, *mcp.ClientSession) { u.requestRefresh() }
		o.OnToolsListChanged, o.OnPromptsListChanged, o.OnResourcesChanged = changed, changed, changed
	}
	o.OnElicitationComplete = func(ctx context.Context, cs *mcp.ClientSession, p *protocol.ElicitationCompleteNotificationParams) {
		v, ok := g.urlElicit.LoadAndDelete(urlElicitKey{u, p.ElicitationID})
		if !ok {
			return
		}
		_ = v.(*mcp.ServerSession).CompleteElicitation(ctx, p.ElicitationID)
	}
	return o
}

type urlElicitKey struct {
	u  *upstream
	id string
}

// target finds who gets a request an upstream makes of the client over
// session cs: the relayed call it belongs to, or the client session that
// owns the upstream session.
func (g *Gateway) target(ctx context.Context, u *upstream, owner *mcp.ServerSession, cs *mcp.ClientSession, method string) (*relayCall, *mcp.ServerSession, error) {
	if rc := relayFrom(ctx); rc != nil {
		return rc, nil, nil
	}
	if owner != nil {
		return nil, owner, nil
	}
	u.mu.Lock()
	if rc := u.leases[cs]; rc != nil {
		u.mu.Unlock()
		return rc, nil, nil // a leased session carries one call at a time
	}
	// A shared session whose transport cannot say which call a message
	// belongs to: unambiguous only with one call in flight.
	n := len(u.calls)
	var only *relayCall
	for rc := range u.calls {
		only = rc
	}
	u.mu.Unlock()
	if n == 1 && !u.related {
		return only, nil, nil
	}
	why := "outside any call"
	if n > 1 {
		why = fmt.Sprintf("while %d calls are in flight over its shared session, and its transport does not tell which one asks", n)
	}
	return nil, nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError,
		Message: fmt.Sprintf("switchboard: upstream %q sent %s %s; the gateway cannot tell which client to ask (configure the upstream with session: per-client)", u.spec.Name, method, why)}
}

// clientSideError maps a failure to ask the client into the error the
// upstream gets.
func clientSideError(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, mcp.ErrCapability) {
		return &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: fmt.Sprintf("the client behind the gateway does not support %s", what)}
	}
	return err
}

// upstreamSession is the upstream session a relayed request uses.
type upstreamSession struct {
	cs      *mcp.ClientSession
	shared  bool
	leased  bool // taken from the pool for this one call
	release func()
}

// sessionFor returns the upstream session for a request of the client:
// the shared one, or in per-client mode the client's own (a session of
// its own leased from a pool for the requests of clients without a
// session, revision 2026-07-28).
func (u *upstream) sessionFor(ctx context.Context, dreq *mcp.Request) (*upstreamSession, error) {
	if u.sessionMode() == SessionPerClient {
		if dreq != nil && dreq.Session != nil {
			cs, err := u.perClientSession(ctx, dreq.Session)
			if err != nil {
				return nil, err
			}
			return &upstreamSession{cs: cs, release: func() {}}, nil
		}
		return u.lease(ctx)
	}
	cs, err := u.shared(ctx)
	if err != nil {
		return nil, err
	}
	return &upstreamSession{cs: cs, shared: true, release: func() {}}, nil
}

// clientSession is a per-client upstream session.
type clientSession struct {
	owner *mcp.ServerSession
	ready chan struct{} // closed when the connection attempt ended
	cs    *mcp.ClientSession
	err   error
}

func (c *clientSession) close() {
	<-c.ready
	if c.cs != nil {
		c.cs.Close()
	}
}

// perClientSession returns ss's own session with u, connecting it on
// first use.
func (u *upstream) perClientSession(ctx context.Context, ss *mcp.ServerSession) (*mcp.ClientSession, error) {
	for attempt := 0; ; attempt++ {
		u.mu.Lock()
		switch u.state {
		case StateDisabled, StateStopped:
			u.mu.Unlock()
			return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q is %s", u.spec.Name, u.state)}
		}
		c := u.perClient[ss]
		mine := false
		if c == nil {
			max := u.spec.MaxSessions
			if max <= 0 {
				max = DefaultMaxSessions
			}
			if len(u.perClient) >= max {
				u.mu.Unlock()
				return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q has its maximum of %d client sessions", u.spec.Name, max)}
			}
			c = &clientSession{owner: ss, ready: make(chan struct{})}
			u.perClient[ss] = c
			mine = true
		}
		u.mu.Unlock()
		if mine {
			c.cs, c.err = u.connectPerClient(ss)
			close(c.ready)
			if c.err != nil {
				u.dropPerClient(ss, c)
			}
		}
		select {
		case <-c.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if c.err != nil {
			return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q: opening a session for this client failed: %v", u.spec.Name, c.err)}
		}
		if c.cs.Err() == nil {
			return c.cs, nil
		}
		// The session died (the process crashed): open another, once.
		u.dropPerClient(ss, c)
		c.cs.Close()
		if attempt > 0 {
			return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q: the client's session ended: %v", u.spec.Name, c.cs.Err())}
		}
	}
}

// maxIdleLeases bounds the idle sessions kept in the lease pool.
const maxIdleLeases = 8

// lease takes a session of the per-client pool for one call.
func (u *upstream) lease(ctx context.Context) (*upstreamSession, error) {
	u.mu.Lock()
	for len(u.pool) > 0 {
		cs := u.pool[len(u.pool)-1]
		u.pool = u.pool[:len(u.pool)-1]
		if cs.Err() == nil {
			u.leased++
			u.mu.Unlock()
			return u.leaseOf(cs), nil
		}
		go cs.Close()
	}
	max := u.spec.MaxSessions
	if max <= 0 {
		max = DefaultMaxSessions
	}
	if st := u.state; st == StateDisabled || st == StateStopped {
		u.mu.Unlock()
		return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q is %s", u.spec.Name, st)}
	}
	if len(u.perClient)+u.leased >= max {
		u.mu.Unlock()
		return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q has its maximum of %d client sessions", u.spec.Name, max)}
	}
	u.leased++
	u.mu.Unlock()
	dctx, cancel := context.WithTimeout(u.ctx, u.connectTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	caps := allClientCaps
	cs, err := mcp.NewClient(u.g.clientInfo(), u.g.clientOptions(u, nil, &caps)).Connect(dctx, u.dialer)
	if err != nil {
		u.mu.Lock()
		u.leased--
		u.mu.Unlock()
		return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q: opening a session failed: %v", u.spec.Name, err)}
	}
	return u.leaseOf(cs), nil
}

// leaseOf wraps a leased session; its release puts it back in the pool.
func (u *upstream) leaseOf(cs *mcp.ClientSession) *upstreamSession {
	us := &upstreamSession{cs: cs, leased: true}
	us.release = func() {
		u.mu.Lock()
		delete(u.leases, cs)
		u.leased--
		keep := cs.Err() == nil && len(u.pool) < maxIdleLeases && u.state != StateStopped
		if keep {
			u.pool = append(u.pool, cs)
		}
		u.mu.Unlock()
		if !keep {
			go cs.Close()
		}
	}
	return us
}

func (u *upstream) dropPerClient(ss *mcp.ServerSession, c *clientSession) {
	u.mu.Lock()
	if u.perClient[ss] == c {
		delete(u.perClient, ss)
	}
	u.mu.Unlock()
}

// connectPerClient opens a session with u for client session ss, declaring
// the client's own capabilities.
func (u *upstream) connectPerClient(ss *mcp.ServerSession) (*mcp.ClientSession, error) {
	caps := ss.ClientCapabilities()
	// Only the extensions the gateway relays pass: MCP Apps (its URIs are
	// rewritten both ways), not tasks (the gateway runs its clients'
	// tasks) nor extensions it does not know.
	ui, hasUI := caps.Extensions[ExtensionUI]
	caps.Experimental, caps.Extensions, caps.Tasks = nil, nil, nil
	if hasUI {
		caps.Extensions = map[string]jsontext.Value{ExtensionUI: ui}
	}
	ctx, cancel := context.WithTimeout(u.ctx, u.connectTimeout)
	defer cancel()
	cs, err := mcp.NewClient(u.g.clientInfo(), u.g.clientOptions(u, ss, &caps)).Connect(ctx, u.dialer)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	level := u.levels[ss]
	u.mu.Unlock()
	if level != "" && cs.ServerCapabilities() != nil && cs.ServerCapabilities().Logging != nil {
		if err := cs.SetLogLevel(ctx, level); err != nil {
			u.log.Debug("setting the log level of a client session failed", "err", err)
		}
	}
	return cs, nil
}

// rootsChanged tells the client's own upstream sessions that its roots
// changed (shared sessions ask for roots only within calls, where the
// calling client answers).
func (g *Gateway) rootsChanged(ctx context.Context, ss *mcp.ServerSession) {
	for _, u := range g.upstreamList() {
		if cs := u.existingPerClient(ss); cs != nil && cs.Err() == nil {
			_ = cs.Notify(ctx, protocol.NotificationRootsListChanged, nil)
		}
	}
}

// frontSession is what the gateway keeps of one client session.
type frontSession struct {
	started  time.Time
	inflight atomic.Int64 // relayed calls in flight
	ident    atomic.Pointer[Identity]
	mu       sync.Mutex
	subs     map[string]subscription // exposed URI -> upstream subscription
}

type subscription struct {
	u    *upstream
	orig string
}

func (g *Gateway) frontSession(ss *mcp.ServerSession) *frontSession {
	if v, ok := g.sessions.Load(ss); ok {
		return v.(*frontSession)
	}
	v, _ := g.sessions.LoadOrStore(ss, &frontSession{started: time.Now(), subs: map[string]subscription{}})
	return v.(*frontSession)
}

// sessionEnded releases what a client session held: its per-client
// upstream sessions, subscriptions and log level.
func (g *Gateway) sessionEnded(ss *mcp.ServerSession) {
	var subs []subscription
	if v, ok := g.sessions.LoadAndDelete(ss); ok {
		fs := v.(*frontSession)
		fs.mu.Lock()
		for _, s := range fs.subs {
			subs = append(subs, s)
		}
		fs.mu.Unlock()
	}
	for _, s := range subs {
		s.u.unsubscribeShared(s.orig)
	}
	for _, u := range g.upstreamList() {
		u.mu.Lock()
		c := u.perClient[ss]
		delete(u.perClient, ss)
		_, hadLevel := u.levels[ss]
		delete(u.levels, ss)
		u.mu.Unlock()
		if c != nil {
			go c.close() // the process may take a while to stop
		}
		if hadLevel {
			u.applyLogLevel()
		}
	}
	g.urlElicit.Range(func(k, v any) bool {
		if v == ss {
			g.urlElicit.Delete(k)
		}
		return true
	})
}

// middleware sees the requests the front server handles itself and
// mirrors their effect upstream: log levels and resource subscriptions.
func (g *Gateway) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, req *mcp.Request) (any, error) {
		switch req.Method {
		case protocol.MethodLoggingSetLevel:
			res, err := next(ctx, req)
			if err == nil && req.Session != nil {
				var p protocol.SetLevelRequestParams
				if json.Unmarshal(req.Params, &p) == nil {
					g.setLevel(ctx, req.Session, p.Level)
				}
			}
			return res, err
		case protocol.MethodResourcesSubscribe, protocol.MethodResourcesUnsubscribe:
			res, err := next(ctx, req)
			if err == nil && req.Session != nil {
				var p protocol.SubscribeRequestParams
				if json.Unmarshal(req.Params, &p) == nil {
					if serr := g.subscribe(ctx, req.Session, p.URI, req.Method == protocol.MethodResourcesSubscribe); serr != nil {
						return nil, serr
					}
				}
			}
			return res, err
		case protocol.MethodSubscriptionsListen:
			var p protocol.SubscriptionsListenRequestParams
			if json.Unmarshal(req.Params, &p) == nil && len(p.Notifications.ResourceSubscriptions) > 0 {
				var held []subscription
				for _, uri := range p.Notifications.ResourceSubscriptions {
					if s, ok := g.resolveSubscription(uri); ok && s.u.subscribeShared(ctx, s.orig) == nil {
						held = append(held, s)
					}
				}
				defer func() {
					for _, s := range held {
						s.u.unsubscribeShared(s.orig)
					}
				}()
			}
		}
		return next(ctx, req)
	}
}

// resolveSubscription finds the upstream and original URI of an exposed
// resource or templated URI.
func (g *Gateway) resolveSubscription(uri string) (subscription, bool) {
	c := g.cat.Load()
	if e, ok := c.resources[uri]; ok {
		return subscription{e.u, e.orig}, true
	}
	for _, e := range c.templates {
		if orig, ok := UnrewriteURI(e.u.uriPrefix, uri); ok && e.tmpl.URITemplate != e.orig {
			return subscription{e.u, orig}, true
		}
	}
	u, orig, ok := g.resolveURI(uri)
	if !ok {
		return subscription{}, false
	}
	return subscription{u, orig}, true
}

// subscribe mirrors a client's resources/subscribe (or unsubscribe)
// upstream: on the client's own session in per-client mode, counted on
// the shared session otherwise.
func (g *Gateway) subscribe(ctx context.Context, ss *mcp.ServerSession, uri string, on bool) error {
	fs := g.frontSession(ss)
	if !on {
		fs.mu.Lock()
		s, ok := fs.subs[uri]
		delete(fs.subs, uri)
		fs.mu.Unlock()
		if !ok {
			return nil
		}
		if s.u.sessionMode() == SessionPerClient {
			if cs := s.u.existingPerClient(ss); cs != nil {
				_ = cs.Unsubscribe(ctx, s.orig)
			}
			return nil
		}
		s.u.unsubscribeShared(s.orig)
		return nil
	}
	s, ok := g.resolveSubscription(uri)
	if !ok {
		return mcp.ResourceNotFound(uri)
	}
	fs.mu.Lock()
	_, dup := fs.subs[uri]
	fs.mu.Unlock()
	if dup {
		return nil
	}
	var err error
	if s.u.sessionMode() == SessionPerClient {
		var cs *mcp.ClientSession
		if cs, err = s.u.perClientSession(ctx, ss); err == nil {
			err = cs.Subscribe(ctx, s.orig)
		}
	} else {
		err = s.u.subscribeShared(ctx, s.orig)
	}
	if err != nil {
		var je *jsonrpc.Error
		if errors.As(err, &je) {
			return je
		}
		return jsonrpc.ErrInternal("%v", err)
	}
	fs.mu.Lock()
	fs.subs[uri] = s
	fs.mu.Unlock()
	return nil
}

func (u *upstream) existingPerClient(ss *mcp.ServerSession) *mcp.ClientSession {
	u.mu.Lock()
	c := u.perClient[ss]
	u.mu.Unlock()
	if c == nil {
		return nil
	}
	select {
	case <-c.ready:
		return c.cs
	default:
		return nil
	}
}

// subscribeShared counts a subscriber of uri on the shared session and
// subscribes upstream for the first one.
func (u *upstream) subscribeShared(ctx context.Context, uri string) error {
	u.mu.Lock()
	u.subs[uri]++
	first := u.subs[uri] == 1
	u.mu.Unlock()
	if !first {
		return nil
	}
	cs, err := u.shared(ctx)
	if err == nil {
		err = cs.Subscribe(ctx, uri)
	}
	if err != nil {
		u.mu.Lock()
		if u.subs[uri]--; u.subs[uri] <= 0 {
			delete(u.subs, uri)
		}
		u.mu.Unlock()
	}
	return err
}

// unsubscribeShared drops a subscriber of uri and unsubscribes upstream
// after the last one.
func (u *upstream) unsubscribeShared(uri string) {
	u.mu.Lock()
	n, ok := u.subs[uri]
	if !ok {
		u.mu.Unlock()
		return
	}
	if n > 1 {
		u.subs[uri] = n - 1
		u.mu.Unlock()
		return
	}
	delete(u.subs, uri)
	cs := u.cs
	u.mu.Unlock()
	if cs != nil {
		ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
		defer cancel()
		_ = cs.Unsubscribe(ctx, uri)
	}
}

// setLevel records a client's logging/setLevel and applies it upstream:
// to the client's own sessions, and to the shared sessions as the most
// verbose level any client asked for (each client still gets only the
// messages its own level lets through).
func (g *Gateway) setLevel(ctx context.Context, ss *mcp.ServerSession, level protocol.LoggingLevel) {
	for _, u := range g.upstreamList() {
		u.mu.Lock()
		u.levels[ss] = level
		var own *mcp.ClientSession
		if c := u.perClient[ss]; c != nil {
			select {
			case <-c.ready:
				own = c.cs
			default:
			}
		}
		u.mu.Unlock()
		if own != nil && own.Err() == nil {
			if caps := own.ServerCapabilities(); caps != nil && caps.Logging != nil {
				_ = own.SetLogLevel(ctx, level)
			}
		}
		u.applyLogLevel()
	}
}

// levelRank orders logging levels from most to least verbose.
var levelRank = map[protocol.LoggingLevel]int{
	protocol.LoggingLevelDebug: 0, protocol.LoggingLevelInfo: 1, protocol.LoggingLevelNotice: 2, protocol.LoggingLevelWarning: 3,
	protocol.LoggingLevelError: 4, protocol.LoggingLevelCritical: 5, protocol.LoggingLevelAlert: 6, protocol.LoggingLevelEmergency: 7,
}

// applyLogLevel sets the shared session's level to the most verbose one
// the clients asked for, if it changed.
func (u *upstream) applyLogLevel() {
	u.mu.Lock()
	var want protocol.LoggingLevel
	for _, l := range u.levels {
		if r, ok := levelRank[l]; ok && (want == "" || r < levelRank[want]) {
			want = l
		}
	}
	cs := u.cs
	if want == "" || want == u.setLevel || cs == nil || u.lists.caps.Logging == nil || u.lists.version == protocol.Version20260728 {
		u.mu.Unlock()
		return
	}
	u.setLevel = want
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(u.ctx, 5*time.Second)
	defer cancel()
	if err := cs.SetLogLevel(ctx, want); err != nil {
		u.log.Debug("logging/setLevel failed", "err", err)
		u.mu.Lock()
		u.setLevel = ""
		u.mu.Unlock()
	}
}

// rawOf encodes v for an input request.
func rawOf(v any) jsontext.Value {
	b, _ := json.Marshal(v)
	return b
}
