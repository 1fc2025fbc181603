package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Budget scopes: whose spending a budget bounds.
const (
	PerTenant   = "tenant"
	PerIdentity = "identity"
)

// DefaultWarnAt is the fraction of a budget at which a warning is given.
const DefaultWarnAt = 0.8

// Budget bounds the cost units a tenant or an identity may spend per
// period.
type Budget struct {
	// Name identifies the budget in refusals, logs and audit records.
	Name string
	// Per is PerTenant or PerIdentity: each tenant (or identity) gets its
	// own allowance.
	Per string
	// Match restricts the budget to one tenant or identity ("" or "*":
	// every one).
	Match string
	// Period is Hour, Day, Week or Month (UTC; weeks start on Monday).
	Period string
	// Limit is the units allowed per period.
	Limit float64
	// WarnAt is the fraction of Limit at which a warning is given
	// (default DefaultWarnAt; negative: none).
	WarnAt float64
}

// BudgetEvent reports a budget's warning threshold crossed or the budget
// spent (or a call refused because it is).
type BudgetEvent struct {
	Budget *Budget
	// Key is the tenant or identity.
	Key string
	// Kind is "warning", "exhausted" (the budget was just spent) or
	// "refused" (a call was refused).
	Kind          string
	Used, Limit   float64
	Start, Resets time.Time
	// Identity is the caller of the call that caused the event.
	Identity *gateway.Identity
}

// Options configure a Meter.
type Options struct {
	// Storage keeps the ledger (nil: no ledger; budgets count from zero at
	// start).
	Storage Storage
	// Costs prices the calls.
	Costs *Costs
	// Budgets are enforced on tool calls.
	Budgets []Budget
	// FlushInterval is how often the ledger is written (default 5s).
	FlushInterval time.Duration
	// OnBudget receives budget events (called on the request's goroutine:
	// queue the work).
	OnBudget func(BudgetEvent)
	Logger   *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// Meter prices calls, keeps the ledger and enforces budgets. Its methods
// are safe for concurrent use.
type Meter struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	pending map[rowKey]*Row
	budgets map[budgetKey]*budgetState

	flushNow chan chan error
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

type rowKey struct {
	hour                                    int64
	tenant, subject, client, upstream, tool string
}

type budgetKey struct {
	b     int // index in opts.Budgets
	key   string
	start int64
}

type budgetState struct {
	used, reserved    float64
	warned, exhausted bool
}

// NewMeter starts a meter (its ledger writer runs until Close).
func NewMeter(opts Options) (*Meter, error) {
	for i := range opts.Budgets {
		b := &opts.Budgets[i]
		if b.Name == "" {
			b.Name = "budget-" + strconv.Itoa(i+1)
		}
		if b.Per != PerTenant && b.Per != PerIdentity {
			return nil, fmt.Errorf("usage: budget %q: per must be %q or %q", b.Name, PerTenant, PerIdentity)
		}
		if b.Period == "" {
			b.Period = Day
		}
		if !ValidPeriod(b.Period) {
			return nil, fmt.Errorf("usage: budget %q: unknown period %q (hour, day, week or month)", b.Name, b.Period)
		}
		if b.Limit < 0 {
			return nil, fmt.Errorf("usage: budget %q: negative limit", b.Name)
		}
		if b.WarnAt == 0 {
			b.WarnAt = DefaultWarnAt
		}
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Costs == nil {
		opts.Costs = &Costs{}
	}
	m := &Meter{opts: opts, log: opts.Logger, pending: map[rowKey]*Row{}, budgets: map[budgetKey]*budgetState{},
		flushNow: make(chan chan error), stop: make(chan struct{}), done: make(chan struct{})}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	go m.run()
	return m, nil
}

// call is what the meter keeps of a tool call between Authorize and
// Observe.
type call struct {
	reserved []reservation
	cost     float64
	costSet  bool
}

type reservation struct {
	k   budgetKey
	est float64
}

type callKey struct{}

// Middleware attaches the meter's state to each tools/call, so that the
// reservation Authorize makes is settled by Observe: add it to
// gateway.Hooks.Middleware.
func (m *Meter) Middleware() mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, req *mcp.Request) (any, error) {
			if req.Method != protocol.MethodToolsCall {
				return next(ctx, req)
			}
			return next(context.WithValue(ctx, callKey{}, &call{}), req)
		}
	}
}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// keyFor returns whose allowance of b a caller uses ("" when b does not
// apply).
func (b *Budget) keyFor(id *gateway.Identity) string {
	if id == nil {
		return ""
	}
	k := id.Tenant
	if b.Per == PerIdentity {
		k = id.Subject
	}
	if k == "" || (b.Match != "" && b.Match != "*" && b.Match != k) {
		return ""
	}
	return k
}

// state returns (creating, from the ledger) the state of a budget for a
// key in the period containing t. m.mu is held.
func (m *Meter) stateLocked(ctx context.Context, i int, key string, t time.Time) (*budgetState, budgetKey) {
	b := &m.opts.Budgets[i]
	start := PeriodStart(b.Period, t)
	k := budgetKey{b: i, key: key, start: start.UnixMilli()}
	if s, ok := m.budgets[k]; ok {
		return s, k
	}
	// A new period: forget the old ones of this budget and key.
	for old := range m.budgets {
		if old.b == i && old.key == key {
			delete(m.budgets, old)
		}
	}
	s := &budgetState{}
	if m.opts.Storage != nil {
		q := &Query{Since: start, Until: PeriodEnd(b.Period, start), GroupBy: []string{}}
		if b.Per == PerTenant {
			q.Tenant = key
		} else {
			q.Subject = key
		}
		rows, err := m.opts.Storage.Usage(ctx, q)
		if err != nil {
			m.log.Warn("usage: reading the ledger for a budget", "budget", b.Name, "err", err)
		}
		for _, r := range rows {
			s.used += r.Cost
		}
		// What this process has not written yet.
		for rk, r := range m.pending {
			if rk.hour >= start.UnixMilli() && ((b.Per == PerTenant && rk.tenant == key) || (b.Per == PerIdentity && rk.subject == key)) {
				s.used += r.Cost
			}
		}
		s.warned = b.WarnAt > 0 && s.used >= b.WarnAt*b.Limit
		s.exhausted = s.used >= b.Limit
	}
	m.budgets[k] = s
	return s, k
}

// Authorize refuses a tool call whose caller's budget is spent, with a
// tool error stating the budget and when it resets, and otherwise
// reserves the call's configured cost. Use it in gateway.Hooks.Authorize.
func (m *Meter) Authorize(ctx context.Context, a *gateway.Access) error {
	if a.Listing || a.Method != protocol.MethodToolsCall || len(m.opts.Budgets) == 0 {
		return nil
	}
	est := m.opts.Costs.Static(a.Upstream, a.Original, a.Name)
	now := m.opts.Now()
	c := callFrom(ctx)
	var events []BudgetEvent
	m.mu.Lock()
	var refusal error
	var res []reservation
	for i := range m.opts.Budgets {
		b := &m.opts.Budgets[i]
		key := b.keyFor(a.Identity)
		if key == "" {
			continue
		}
		s, k := m.stateLocked(ctx, i, key, now)
		if s.used >= b.Limit || (est > 0 && s.used+s.reserved+est > b.Limit) {
			start := time.UnixMilli(k.start).UTC()
			resets := PeriodEnd(b.Period, start)
			refusal = &gateway.Denial{Rule: "budget:" + b.Name, ToolError: true, Reason: fmt.Sprintf(
				"the %s budget %q of %s %q is spent: %s of %s units used this %s (this call costs %s); it resets at %s (in %s)",
				adjective(b.Period), b.Name, b.Per, key, fmtUnits(s.used+s.reserved), fmtUnits(b.Limit), b.Period, fmtUnits(est),
				resets.Format(time.RFC3339), resets.Sub(now).Round(time.Second))}
			events = append(events, BudgetEvent{Budget: b, Key: key, Kind: "refused", Used: s.used, Limit: b.Limit, Start: start, Resets: resets, Identity: a.Identity})
			break
		}
		res = append(res, reservation{k: k, est: est})
	}
	if refusal == nil {
		for _, r := range res {
			m.budgets[r.k].reserved += r.est
		}
		if c != nil {
			c.reserved = append(c.reserved, res...)
		} else {
			// No middleware: nothing will settle the reservation.
			for _, r := range res {
				m.budgets[r.k].reserved -= r.est
			}
		}
	}
	m.mu.Unlock()
	m.emit(events)
	return refusal
}

// adjective is a period's adjective: hourly, daily, weekly, monthly.
func adjective(period string) string {
	if period == Day {
		return "daily"
	}
	return period + "ly"
}

func fmtUnits(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Cost returns the cost of a finished tools/call event (computed once per
// call): for the audit record.
func (m *Meter) Cost(ctx context.Context, e *gateway.Event) float64 {
	if c := callFrom(ctx); c != nil {
		if !c.costSet {
			c.cost, c.costSet = m.opts.Costs.Of(e), true
		}
		return c.cost
	}
	return m.opts.Costs.Of(e)
}

// Observe charges a finished tool call to its caller: the ledger and the
// budgets. Use it in gateway.Hooks.Observe, before the audit writer's.
func (m *Meter) Observe(ctx context.Context, e *gateway.Event) {
	if e.Kind != gateway.KindRequest || e.Method != protocol.MethodToolsCall {
		return
	}
	cost := m.Cost(ctx, e)
	now := m.opts.Now()
	id := e.Identity
	rk := rowKey{hour: PeriodStart(Hour, e.Time).UnixMilli(), upstream: e.Upstream, tool: e.Original}
	if rk.tool == "" {
		rk.tool = e.Name
	}
	if id != nil {
		rk.tenant, rk.subject, rk.client = id.Tenant, id.Subject, id.ClientID
	}
	if rk.client == "" {
		rk.client = e.Client.Name
	}
	var events []BudgetEvent
	m.mu.Lock()
	r := m.pending[rk]
	if r == nil {
		r = &Row{Period: time.UnixMilli(rk.hour).UTC(), Tenant: rk.tenant, Subject: rk.subject, Client: rk.client, Upstream: rk.upstream, Tool: rk.tool}
		m.pending[rk] = r
	}
	r.Calls++
	r.Cost += cost
	switch e.Outcome {
	case gateway.OutcomeError, gateway.OutcomeToolError:
		r.Errors++
	case gateway.OutcomeDenied:
		r.Denied++
	}
	settled := map[budgetKey]bool{}
	if c := callFrom(ctx); c != nil {
		for _, res := range c.reserved {
			if s, ok := m.budgets[res.k]; ok {
				s.reserved -= res.est
				s.used += cost
				settled[res.k] = true
				events = m.thresholdsLocked(res.k, s, id, events)
			}
		}
		c.reserved = nil
	}
	if cost > 0 {
		for i := range m.opts.Budgets {
			b := &m.opts.Budgets[i]
			key := b.keyFor(id)
			if key == "" {
				continue
			}
			s, k := m.stateLocked(ctx, i, key, now)
			if settled[k] {
				continue
			}
			s.used += cost
			events = m.thresholdsLocked(k, s, id, events)
		}
	}
	m.mu.Unlock()
	m.emit(events)
}

// thresholdsLocked notes a budget crossing its warning threshold or its
// limit.
func (m *Meter) thresholdsLocked(k budgetKey, s *budgetState, id *gateway.Identity, events []BudgetEvent) []BudgetEvent {
	b := &m.opts.Budgets[k.b]
	start := time.UnixMilli(k.start).UTC()
	ev := BudgetEvent{Budget: b, Key: k.key, Used: s.used, Limit: b.Limit, Start: start, Resets: PeriodEnd(b.Period, start), Identity: id}
	if !s.warned && b.WarnAt > 0 && s.used >= b.WarnAt*b.Limit && s.used < b.Limit {
		s.warned = true
		ev.Kind = "warning"
		events = append(events, ev)
	}
	if !s.exhausted && s.used >= b.Limit {
		s.exhausted, s.warned = true, true
		ev.Kind = "exhausted"
		events = append(events, ev)
	}
	return events
}

func (m *Meter) emit(events []BudgetEvent) {
	for _, ev := range events {
		lvl := slog.LevelWarn
		if ev.Kind == "refused" {
			lvl = slog.LevelDebug
		}
		m.log.Log(context.Background(), lvl, "usage: budget "+ev.Kind, "budget", ev.Budget.Name, ev.Budget.Per, ev.Key,
			"used", ev.Used, "limit", ev.Limit, "period", ev.Budget.Period, "resets", ev.Resets.Format(time.RFC3339))
		if m.opts.OnBudget != nil {
			m.opts.OnBudget(ev)
		}
	}
}

// Spent returns the units a tenant or identity (per) used of the period
// of budget name that contains t, as the meter counts them.
func (m *Meter) Spent(ctx context.Context, name, key string, t time.Time) (float64, error) {
	for i := range m.opts.Budgets {
		if m.opts.Budgets[i].Name == name {
			m.mu.Lock()
			s, _ := m.stateLocked(ctx, i, key, t)
			used := s.used
			m.mu.Unlock()
			return used, nil
		}
	}
	return 0, fmt.Errorf("usage: no budget %q", name)
}

func (m *Meter) run() {
	defer close(m.done)
	t := time.NewTicker(m.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := m.write(context.Background()); err != nil {
				m.log.Warn("usage: writing the ledger", "err", err)
			}
		case ack := <-m.flushNow:
			ack <- m.write(context.Background())
		case <-m.stop:
			if err := m.write(context.Background()); err != nil {
				m.log.Error("usage: writing the ledger at shutdown", "err", err)
			}
			return
		}
	}
}

// write moves the pending rows to the ledger (kept pending on failure).
func (m *Meter) write(ctx context.Context) error {
	if m.opts.Storage == nil {
		m.mu.Lock()
		clear(m.pending)
		m.mu.Unlock()
		return nil
	}
	m.mu.Lock()
	if len(m.pending) == 0 {
		m.mu.Unlock()
		return nil
	}
	batch := m.pending
	m.pending = map[rowKey]*Row{}
	m.mu.Unlock()
	rows := make([]Row, 0, len(batch))
	for _, r := range batch {
		rows = append(rows, *r)
	}
	if err := m.opts.Storage.AddUsage(ctx, rows); err != nil {
		m.mu.Lock()
		for k, r := range batch {
			if p := m.pending[k]; p != nil {
				p.Calls += r.Calls
				p.Errors += r.Errors
				p.Denied += r.Denied
				p.Cost += r.Cost
			} else {
				m.pending[k] = r
			}
		}
		m.mu.Unlock()
		return err
	}
	return nil
}

// Flush writes the pending ledger rows now.
func (m *Meter) Flush(ctx context.Context) error {
	ack := make(chan error, 1)
	select {
	case m.flushNow <- ack:
	case <-m.done:
		return errors.New("usage: meter closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ack:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes the pending rows and stops the meter.
func (m *Meter) Close() error {
	m.once.Do(func() {
		close(m.stop)
		<-m.done
	})
	return nil
}
