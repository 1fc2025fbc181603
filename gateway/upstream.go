package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/httpclient"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/auto"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// State is the health of an upstream.
type State string

// Upstream states.
const (
	// StateStarting: connecting (spawning the process, dialing, the
	// handshake, the first lists).
	StateStarting State = "starting"
	// StateReady: connected, answering pings.
	StateReady State = "ready"
	// StateDegraded: connected, but pings or list requests fail or time
	// out; calls are still tried.
	StateDegraded State = "degraded"
	// StateFailed: not connected; the gateway retries with backoff.
	StateFailed State = "failed"
	// StateDisabled: configured with disabled set, or disabled at run
	// time.
	StateDisabled State = "disabled"
	// StateStopped: removed from the configuration, or the gateway closed.
	StateStopped State = "stopped"
)

// Backoff of reconnection attempts after a failure.
const (
	minBackoff = 500 * time.Millisecond
	maxBackoff = 30 * time.Second
	// A session that stayed up this long resets the backoff.
	stableAfter = time.Minute
	// Consecutive failed pings that end a session.
	maxPingFailures = 3
)

// upstream is one server behind the gateway: its configuration, its shared
// session (reconnected with backoff after a failure), the per-client
// sessions, and the lists it last reported.
type upstream struct {
	g      *Gateway
	spec   Upstream
	log    *slog.Logger
	dialer transport.Dialer
	// related: the transport tells which call a server message belongs to
	// (Streamable HTTP), so a shared session needs no in-flight tracking.
	related        bool
	timeout        time.Duration
	connectTimeout time.Duration
	pingInterval   time.Duration
	uriPrefix      string       // segment inserted into rewritten resource URIs
	ownHTTP        *http.Client // the upstream's HTTP client, when the gateway made it

	ctx     context.Context // ends when the upstream is stopped
	cancel  context.CancelFunc
	done    chan struct{} // closed when run has returned
	refresh chan struct{} // asks run to fetch the lists again

	mu     sync.Mutex
	prefix string // naming prefix ("" none), set by the catalog
	// stateless: the shared session speaks 2026-07-28 (its results carry
	// that revision's members).
	stateless atomic.Bool
	state     State
	err       error     // why the last connection failed or ended
	retryAt   time.Time // next connection attempt while failed
	since     time.Time // when state was entered
	changed   chan struct{}
	cs        *mcp.ClientSession // the shared session while connected
	// The 2026-07-28 session, for clients of that revision, when the
	// shared session speaks an older one.
	modern     *mcp.ClientSession
	modernDial chan struct{} // closed when a dial in progress ends
	noModern   bool          // the upstream does not offer 2026-07-28
	lists      upstreamLists
	restarts   int
	inflight   int                     // relayed calls in flight (for draining)
	timed      map[*relayCall]struct{} // calls with a deadline, for sweepCalls
	sweep      *time.Timer             // runs sweepCalls at sweepAt
	sweepAt    time.Time               // zero while the timer is not armed
	drained    chan struct{}           // closed when inflight drops to 0 while draining
	calls      map[*relayCall]struct{} // calls in flight on the shared session (transports that cannot relate)
	perClient  map[*mcp.ServerSession]*clientSession
	// The lease pool of per-client mode: sessions lent to one call at a
	// time, for clients without a session (revision 2026-07-28).
	pool     []*mcp.ClientSession
	leased   int
	leases   map[*mcp.ClientSession]*relayCall
	subs     map[string]int // URI -> subscribers on the shared session
	levels   map[*mcp.ServerSession]protocol.LoggingLevel
	setLevel protocol.LoggingLevel // level last set on the shared session
}

// upstreamLists is what an upstream last reported.
type upstreamLists struct {
	info         protocol.Implementation
	version      string
	caps         protocol.ServerCapabilities
	instructions string
	tools        []protocol.Tool
	prompts      []protocol.Prompt
	resources    []protocol.Resource
	templates    []protocol.ResourceTemplate
	fetched      time.Time
	ttlMs        *int64 // shortest freshness hint of the lists (2026-07-28)
}

func newUpstream(g *Gateway, spec Upstream) (*upstream, error) {
	u := &upstream{
		g:              g,
		spec:           spec,
		log:            g.log.With("upstream", spec.Name),
		timeout:        pick(spec.Timeout, g.opts.CallTimeout),
		connectTimeout: pick(spec.ConnectTimeout, g.opts.ConnectTimeout),
		pingInterval:   pick(spec.PingInterval, g.opts.PingInterval),
		done:           make(chan struct{}),
		refresh:        make(chan struct{}, 1),
		changed:        make(chan struct{}),
		state:          StateStarting,
		since:          time.Now(),
		calls:          map[*relayCall]struct{}{},
		perClient:      map[*mcp.ServerSession]*clientSession{},
		leases:         map[*mcp.ClientSession]*relayCall{},
		subs:           map[string]int{},
		levels:         map[*mcp.ServerSession]protocol.LoggingLevel{},
	}
	if spec.Disabled {
		u.state = StateDisabled
	}
	u.uriPrefix = SanitizePrefix(spec.Name)
	if spec.Prefix != nil && *spec.Prefix != "" {
		u.uriPrefix = *spec.Prefix
	}
	d, related, err := u.makeDialer()
	if err != nil {
		return nil, err
	}
	u.dialer, u.related = d, related
	u.ctx, u.cancel = context.WithCancel(context.Background())
	return u, nil
}

func pick(own, def time.Duration) time.Duration {
	if own != 0 {
		return own
	}
	return def
}

// makeDialer builds the dialer of the upstream's transport.
func (u *upstream) makeDialer() (transport.Dialer, bool, error) {
	s := &u.spec
	n := 0
	for _, set := range []bool{s.Command != nil, s.URL != "", s.Server != nil, s.Dialer != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, false, fmt.Errorf("upstream %q: exactly one of a command, a URL, an in-process server and a dialer is needed (%d given)", s.Name, n)
	}
	switch {
	case s.Command != nil:
		if s.Command.Path == "" {
			return nil, false, fmt.Errorf("upstream %q: the command is empty", s.Name)
		}
		return stdio.Command(s.Command.Path, s.Command.Args, &stdio.CommandOptions{
			Env:        s.Command.Env,
			InheritEnv: s.Command.InheritEnv,
			Dir:        s.Command.Dir,
			Stderr:     &stderrLogger{log: u.log},
		}), false, nil
	case s.URL != "" && s.SSE:
		return sse.NewDialer(s.URL, &sse.ClientOptions{HTTPClient: s.HTTPClient, Header: s.Header}), false, nil
	case s.URL != "":
		hc := s.HTTPClient
		if hc == nil {
			// A pool as large as the calls the gateway may have in flight
			// to the upstream, so that they reuse connections.
			hc = httpclient.NewPool(streamable.DefaultResponseHeaderTimeout, upstreamConns)
			u.ownHTTP = hc
		}
		return auto.NewHTTPDialer(s.URL, &auto.Options{HTTPClient: hc, Header: s.Header}), true, nil
	case s.Server != nil:
		return inProcessDialer{s.Server}, false, nil
	}
	return s.Dialer, false, nil
}

// upstreamConns is the idle connection pool size of an HTTP upstream.
const upstreamConns = 256

// inProcessDialer connects to a server in the same process over an
// in-memory stream.
type inProcessDialer struct{ srv *mcp.Server }

func (d inProcessDialer) Dial(ctx context.Context) (transport.ClientConn, error) {
	client, server := stdio.Pipe()
	go d.srv.ServeStream(context.WithoutCancel(ctx), server)
	return stdio.NewClientConn(client, nil), nil
}

// stderrLogger turns a stdio upstream's stderr into log records, one per
// line, bounded in length.
type stderrLogger struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

const maxStderrLine = 4 << 10

func (w *stderrLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			if len(w.buf) > maxStderrLine {
				w.emit(w.buf[:maxStderrLine])
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

func (w *stderrLogger) emit(line []byte) {
	s := strings.TrimRight(strings.ToValidUTF8(string(line), "\uFFFD"), "\r")
	if len(s) > maxStderrLine {
		s = s[:maxStderrLine] + "…"
	}
	if s != "" {
		w.log.Info("stderr", "line", s)
	}
}

var _ io.Writer = (*stderrLogger)(nil)

// setState records a state change and wakes waiters.
func (u *upstream) setState(st State, err error) {
	u.mu.Lock()
	prev := u.state
	if prev == StateStopped {
		u.mu.Unlock()
		return
	}
	u.state, u.err, u.since = st, err, time.Now()
	close(u.changed)
	u.changed = make(chan struct{})
	u.mu.Unlock()
	if prev != st {
		if err != nil {
			u.log.Warn("upstream state", "state", st, "err", err)
		} else {
			u.log.Info("upstream state", "state", st)
		}
		u.g.upstreamChanged()
	}
}

// start runs the upstream until stop.
func (u *upstream) start() {
	if u.spec.Disabled {
		close(u.done)
		return
	}
	go u.run()
}

// run connects, keeps the session healthy, and reconnects with backoff
// until the upstream is stopped.
func (u *upstream) run() {
	defer close(u.done)
	backoff := minBackoff
	for u.ctx.Err() == nil {
		u.setState(StateStarting, nil)
		cs, err := u.connect()
		if err != nil {
			if u.ctx.Err() != nil {
				return
			}
			u.fail(err, backoff)
			if !u.sleep(backoff) {
				return
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		began := time.Now()
		err = u.serve(cs)
		if u.ctx.Err() != nil {
			cs.Close()
			return
		}
		cs.Close()
		if time.Since(began) > stableAfter {
			backoff = minBackoff
		}
		u.mu.Lock()
		u.restarts++
		u.mu.Unlock()
		u.fail(err, backoff)
		if !u.sleep(backoff) {
			return
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

func (u *upstream) fail(err error, retry time.Duration) {
	u.mu.Lock()
	u.cs = nil
	u.retryAt = time.Now().Add(retry)
	u.mu.Unlock()
	u.setState(StateFailed, err)
}

func (u *upstream) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-u.ctx.Done():
		return false
	}
}

// connect opens the shared session and fetches the lists.
func (u *upstream) connect() (*mcp.ClientSession, error) {
	ctx, cancel := context.WithTimeout(u.ctx, u.connectTimeout)
	defer cancel()
	cs, err := u.g.sharedClient(u).Connect(ctx, u.dialer)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	lists, err := u.fetchLists(ctx, cs)
	if err != nil {
		cs.Close()
		return nil, err
	}
	u.stateless.Store(lists.version == protocol.Version20260728)
	u.mu.Lock()
	u.cs = cs
	u.lists = lists
	u.setLevel = ""
	u.noModern = false // probe again after a reconnection
	subs := make([]string, 0, len(u.subs))
	for uri := range u.subs {
		subs = append(subs, uri)
	}
	u.mu.Unlock()
	// A reconnected session gets back what the old one had.
	for _, uri := range subs {
		if err := cs.Subscribe(ctx, uri); err != nil {
			u.log.Warn("resubscribing failed", "uri", uri, "err", err)
		}
	}
	u.applyLogLevel()
	u.setState(StateReady, nil)
	u.g.rebuild()
	return cs, nil
}

// serve watches a connected session: pings, list refreshes, its end.
func (u *upstream) serve(cs *mcp.ClientSession) error {
	var tick <-chan time.Time
	if u.pingInterval > 0 {
		t := time.NewTicker(u.pingInterval)
		defer t.Stop()
		tick = t.C
	}
	var ttl <-chan time.Time
	resetTTL := func() {
		if d := u.listTTL(); d > 0 {
			ttl = time.After(d)
		}
	}
	resetTTL()
	failures := 0
	for {
		select {
		case <-u.ctx.Done():
			return u.ctx.Err()
		case <-cs.Done():
			err := cs.Err()
			if err == nil {
				err = errors.New("the session ended")
			}
			return err
		case <-tick:
			ctx, cancel := context.WithTimeout(u.ctx, min(u.connectTimeout, 10*time.Second))
			err := cs.Ping(ctx)
			cancel()
			if err != nil {
				failures++
				if failures >= maxPingFailures {
					return fmt.Errorf("%d pings failed in a row, the last with: %w", failures, err)
				}
				u.setState(StateDegraded, fmt.Errorf("ping failed: %w", err))
				continue
			}
			if failures > 0 || u.State() == StateDegraded {
				failures = 0
				u.setState(StateReady, nil)
			}
		case <-ttl:
			u.requestRefresh()
			ttl = nil
		case <-u.refresh:
			ctx, cancel := context.WithTimeout(u.ctx, u.connectTimeout)
			lists, err := u.fetchLists(ctx, cs)
			cancel()
			if err != nil {
				if cs.Err() != nil {
					continue // the end of the session is handled above
				}
				u.setState(StateDegraded, err)
				continue
			}
			u.mu.Lock()
			u.lists = lists
			u.mu.Unlock()
			if u.State() == StateDegraded && failures == 0 {
				u.setState(StateReady, nil)
			}
			u.g.rebuild()
			resetTTL()
		}
	}
}

// listTTL is how long the lists may be reused, from a 2026-07-28
// upstream's ttlMs; 0 when it gave none.
func (u *upstream) listTTL() time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.lists.ttl()
}

func (l *upstreamLists) ttl() time.Duration {
	if l.ttlMs == nil {
		return 0
	}
	if *l.ttlMs == 0 {
		// "Do not reuse": refetch often, but not in a loop.
		return 5 * time.Second
	}
	// Refetch no more often than once a second, whatever the hint.
	return max(time.Duration(*l.ttlMs)*time.Millisecond, time.Second)
}

// requestRefresh asks the run loop to fetch the lists again.
func (u *upstream) requestRefresh() {
	select {
	case u.refresh <- struct{}{}:
	default:
	}
}

// Bounds on what one upstream may list, against servers that page
// forever or list without end.
const (
	maxListPages = 1000
	maxListItems = 100_000
)

// fetchLists reads every list the upstream offers.
func (u *upstream) fetchLists(ctx context.Context, cs *mcp.ClientSession) (upstreamLists, error) {
	l := upstreamLists{info: cs.ServerInfo(), version: cs.ProtocolVersion(), fetched: time.Now()}
	if c := cs.ServerCapabilities(); c != nil {
		l.caps = *c
	}
	if ir := cs.InitializeResult(); ir != nil {
		l.instructions = ir.Instructions
	} else if dr := cs.DiscoverResult(); dr != nil {
		l.instructions = dr.Instructions
	}
	var err error
	if l.caps.Tools != nil {
		if l.tools, err = fetchAll(ctx, &l, "tools/list", func(c string) ([]protocol.Tool, string, *int64, error) {
			r, err := cs.ListTools(ctx, &protocol.PaginatedRequestParams{Cursor: c})
			if err != nil {
				return nil, "", nil, err
			}
			return r.Tools, r.NextCursor, r.TTLMs, nil
		}); err != nil {
			return l, err
		}
	}
	if l.caps.Prompts != nil {
		if l.prompts, err = fetchAll(ctx, &l, "prompts/list", func(c string) ([]protocol.Prompt, string, *int64, error) {
			r, err := cs.ListPrompts(ctx, &protocol.PaginatedRequestParams{Cursor: c})
			if err != nil {
				return nil, "", nil, err
			}
			return r.Prompts, r.NextCursor, r.TTLMs, nil
		}); err != nil {
			return l, err
		}
	}
	if l.caps.Resources != nil {
		if l.resources, err = fetchAll(ctx, &l, "resources/list", func(c string) ([]protocol.Resource, string, *int64, error) {
			r, err := cs.ListResources(ctx, &protocol.PaginatedRequestParams{Cursor: c})
			if err != nil {
				return nil, "", nil, err
			}
			return r.Resources, r.NextCursor, r.TTLMs, nil
		}); err != nil {
			return l, err
		}
		l.templates, err = fetchAll(ctx, &l, "resources/templates/list", func(c string) ([]protocol.ResourceTemplate, string, *int64, error) {
			r, err := cs.ListResourceTemplates(ctx, &protocol.PaginatedRequestParams{Cursor: c})
			if err != nil {
				return nil, "", nil, err
			}
			return r.ResourceTemplates, r.NextCursor, r.TTLMs, nil
		})
		if err != nil && !mcp.IsProtocolError(err, -32601) { // resources without templates
			return l, err
		}
	}
	return l, nil
}

// fetchAll reads every page of a list, keeping the shortest ttlMs seen.
func fetchAll[T any](ctx context.Context, l *upstreamLists, method string, page func(cursor string) ([]T, string, *int64, error)) ([]T, error) {
	var out []T
	cursor := ""
	for range maxListPages {
		items, next, ttl, err := page(cursor)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if ttl != nil && *ttl >= 0 && (l.ttlMs == nil || *ttl < *l.ttlMs) {
			v := *ttl
			l.ttlMs = &v
		}
		out = append(out, items...)
		if len(out) > maxListItems {
			return nil, fmt.Errorf("%s: more than %d items", method, maxListItems)
		}
		if next == "" {
			return out, nil
		}
		if next == cursor {
			return nil, fmt.Errorf("%s: the server returned the same cursor twice", method)
		}
		cursor = next
	}
	return nil, fmt.Errorf("%s: more than %d pages", method, maxListPages)
}

// State returns the upstream's state.
func (u *upstream) State() State {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.state
}

// stop ends the upstream: after the calls in flight finish (bounded by
// drain), every session is closed.
func (u *upstream) stop(drain time.Duration) {
	u.mu.Lock()
	if u.state == StateStopped {
		u.mu.Unlock()
		return
	}
	var wait chan struct{}
	if u.inflight > 0 && drain > 0 {
		u.drained = make(chan struct{})
		wait = u.drained
	}
	u.mu.Unlock()
	if wait != nil {
		t := time.NewTimer(drain)
		select {
		case <-wait:
		case <-t.C:
			u.log.Warn("calls still in flight after the drain timeout; stopping anyway", "timeout", drain)
		}
		t.Stop()
	}
	u.mu.Lock()
	u.state = StateStopped
	close(u.changed)
	u.changed = make(chan struct{})
	per := make([]*clientSession, 0, len(u.perClient))
	for _, c := range u.perClient {
		per = append(per, c)
	}
	u.perClient = map[*mcp.ServerSession]*clientSession{}
	modern := u.modern
	u.modern = nil
	pool := u.pool
	u.pool = nil
	u.mu.Unlock()
	for _, cs := range pool {
		cs.Close()
	}
	u.cancel()
	<-u.done
	u.mu.Lock()
	if u.sweep != nil {
		u.sweep.Stop()
		u.sweepAt = time.Time{}
	}
	u.mu.Unlock()
	for _, c := range per {
		c.close()
	}
	if modern != nil {
		modern.Close()
	}
	if u.ownHTTP != nil {
		u.ownHTTP.CloseIdleConnections()
	}
}

// callEndedLocked counts a relayed call out of those in flight (for
// draining); u.mu must be held.
func (u *upstream) callEndedLocked() {
	u.inflight--
	if u.inflight == 0 && u.drained != nil {
		close(u.drained)
		u.drained = nil
	}
}

// timeCallLocked puts rc, which has a deadline, under the sweeper's watch;
// u.mu must be held. The sweeper's timer is armed for the earliest
// deadline; with one timeout per upstream, deadlines come in order, so a
// timer already armed needs no change.
func (u *upstream) timeCallLocked(rc *relayCall) {
	if u.timed == nil {
		u.timed = map[*relayCall]struct{}{}
	}
	u.timed[rc] = struct{}{}
	switch {
	case u.sweep == nil:
		u.sweepAt = rc.deadline
		u.sweep = time.AfterFunc(time.Until(rc.deadline), u.sweepCalls)
	case u.sweepAt.IsZero() || rc.deadline.Before(u.sweepAt):
		u.sweepAt = rc.deadline
		u.sweep.Reset(time.Until(rc.deadline))
	}
}

// sweepCalls cancels the calls past their deadline with errCallTimeout
// and arms the timer for the next deadline.
func (u *upstream) sweepCalls() {
	now := time.Now()
	var due []*relayCall
	var next time.Time
	u.mu.Lock()
	for rc := range u.timed {
		if !rc.deadline.After(now) {
			due = append(due, rc)
			delete(u.timed, rc)
		} else if next.IsZero() || rc.deadline.Before(next) {
			next = rc.deadline
		}
	}
	u.sweepAt = next
	if !next.IsZero() {
		u.sweep.Reset(time.Until(next))
	}
	u.mu.Unlock()
	for _, rc := range due {
		rc.cancel(errCallTimeout)
	}
}

// shared returns the shared session, waiting while the upstream starts.
func (u *upstream) shared(ctx context.Context) (*mcp.ClientSession, error) {
	for {
		u.mu.Lock()
		st, cs, err, retry, ch := u.state, u.cs, u.err, u.retryAt, u.changed
		u.mu.Unlock()
		switch st {
		case StateReady, StateDegraded:
			if cs != nil {
				return cs, nil
			}
		case StateFailed:
			msg := fmt.Sprintf("upstream %q is unavailable", u.spec.Name)
			if err != nil {
				msg += ": " + err.Error()
			}
			if d := time.Until(retry); d > 0 {
				msg += fmt.Sprintf(" (next attempt in %s)", d.Round(100*time.Millisecond))
			}
			return nil, &upstreamError{upstream: u.spec.Name, msg: msg}
		case StateDisabled:
			return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q is disabled", u.spec.Name)}
		case StateStopped:
			return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q was removed", u.spec.Name)}
		}
		// Starting: wait for the outcome, within the connect timeout.
		t := time.NewTimer(u.connectTimeout)
		select {
		case <-ch:
			t.Stop()
		case <-t.C:
			return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q is still starting after %s", u.spec.Name, u.connectTimeout)}
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

// upstreamError is a failure of the gateway to reach an upstream.
type upstreamError struct {
	upstream string
	msg      string
}

func (e *upstreamError) Error() string { return e.msg }
