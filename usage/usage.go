// Package usage attributes cost to the gateway's callers and enforces
// budgets.
//
// Every tool call costs units ([Costs]: a default, per upstream, per tool,
// or what the tool's result reports in its _meta when the configuration
// trusts it). A [Meter] keeps a ledger of calls, errors, denials and cost
// per hour, tenant, identity (subject), client, upstream and tool, written
// to the store in the background ([Storage]; store.DB.Usage implements
// it), and enforces [Budget]s per tenant or identity per hour, day, week
// or month: once a budget is spent, calls get a tool error that states the
// budget and when it resets; crossing the warning threshold and spending
// a budget are logged and reported (Options.OnBudget, which the gateway
// turns into audit records).
//
// Plug a Meter into the gateway with its Middleware (gateway.Hooks.
// Middleware), Authorize (in gateway.Hooks.Authorize) and Observe
// (gateway.Hooks.Observe).
package usage

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/gateway"
)

// DefaultMetaKey is the _meta key of a tool result that reports the
// call's cost (a number of units), read when Costs.TrustResultMeta is set.
const DefaultMetaKey = "switchboard/cost"

// Costs says what a tool call costs, in units.
type Costs struct {
	// Default is the cost of a call no other entry prices (0: free).
	Default float64
	// Upstreams prices every tool of an upstream, by upstream name.
	Upstreams map[string]float64
	// Tools prices one tool, by "upstream/tool" (the upstream's own tool
	// name) or by the name clients see; it wins over Upstreams.
	Tools map[string]float64
	// TrustResultMeta uses the cost a tool result reports in its _meta
	// (under MetaKey) instead of the configured one.
	TrustResultMeta bool
	// MetaKey is the _meta key read (default DefaultMetaKey).
	MetaKey string
}

// Static returns the configured cost of a call of upstream's tool
// (original is the upstream's own name, exposed the one clients see).
func (c *Costs) Static(upstream, original, exposed string) float64 {
	if c == nil {
		return 0
	}
	if v, ok := c.Tools[upstream+"/"+original]; ok {
		return v
	}
	if v, ok := c.Tools[exposed]; ok && exposed != "" {
		return v
	}
	if v, ok := c.Upstreams[upstream]; ok {
		return v
	}
	return c.Default
}

// Of returns the cost of a finished call: what its result reports when
// trusted, else the configured cost. Calls that did not run (errors,
// denials, cancellations) cost nothing.
func (c *Costs) Of(e *gateway.Event) float64 {
	if e.Outcome != gateway.OutcomeOK && e.Outcome != gateway.OutcomeToolError {
		return 0
	}
	if c != nil && c.TrustResultMeta {
		if v, ok := resultCost(e.Result, c.metaKey()); ok {
			return v
		}
	}
	return c.Static(e.Upstream, e.Original, e.Name)
}

func (c *Costs) metaKey() string {
	if c.MetaKey == "" {
		return DefaultMetaKey
	}
	return c.MetaKey
}

// resultCost reads the cost a result reports in its _meta.
func resultCost(raw jsontext.Value, key string) (float64, bool) {
	if len(raw) == 0 || !strings.Contains(string(raw), key) {
		return 0, false
	}
	var r struct {
		Meta map[string]jsontext.Value `json:"_meta"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return 0, false
	}
	v, ok := r.Meta[key]
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.Trim(string(v), `"`), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// Periods of budgets and of ledger queries.
const (
	Hour  = "hour"
	Day   = "day"
	Week  = "week"
	Month = "month"
)

// PeriodStart returns the start (UTC) of the period that contains t.
func PeriodStart(period string, t time.Time) time.Time {
	t = t.UTC()
	switch period {
	case Hour:
		return t.Truncate(time.Hour)
	case Week:
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		wd := (int(d.Weekday()) + 6) % 7 // Monday = 0
		return d.AddDate(0, 0, -wd)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// PeriodEnd returns the end of the period that starts at start.
func PeriodEnd(period string, start time.Time) time.Time {
	switch period {
	case Hour:
		return start.Add(time.Hour)
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 1)
}

// ValidPeriod reports whether p names a budget period.
func ValidPeriod(p string) bool { return p == Hour || p == Day || p == Week || p == Month }

// Row is one line of the ledger: the usage of one caller of one tool in
// one period (an hour as stored; a day or the whole range in queries).
type Row struct {
	// Period is the start of the period (zero for a query's total).
	Period   time.Time `json:"period,omitzero"`
	Tenant   string    `json:"tenant,omitzero"`
	Subject  string    `json:"identity,omitzero"`
	Client   string    `json:"client,omitzero"`
	Upstream string    `json:"upstream,omitzero"`
	Tool     string    `json:"tool,omitzero"`
	// Calls counts the tool calls, Errors those that failed (tool or
	// protocol error), Denied those refused (policy or budget).
	Calls  int64 `json:"calls"`
	Errors int64 `json:"errors"`
	Denied int64 `json:"denied"`
	// Cost is the units charged.
	Cost float64 `json:"cost"`
}

// Dimensions of the ledger, for Query.GroupBy.
const (
	ByTenant   = "tenant"
	ByIdentity = "identity"
	ByClient   = "client"
	ByUpstream = "upstream"
	ByTool     = "tool"
)

// Query selects and sums ledger rows.
type Query struct {
	// Since and Until bound the hours (Since inclusive, Until exclusive).
	Since, Until time.Time
	// Filters; empty selects everything.
	Tenant, Subject, Client, Upstream, Tool string
	// GroupBy lists the dimensions kept (ByTenant, ...); the others are
	// summed over. Nil keeps all of them.
	GroupBy []string
	// Period is Hour, Day, or "" to sum over the whole range.
	Period string
}

// Storage keeps the ledger.
type Storage interface {
	// AddUsage adds rows (by hour) to the ledger.
	AddUsage(ctx context.Context, rows []Row) error
	// Usage sums the ledger as q says, ordered by period then the kept
	// dimensions.
	Usage(ctx context.Context, q *Query) ([]Row, error)
}

// ValidGroupBy checks dimension names.
func ValidGroupBy(dims []string) error {
	for _, d := range dims {
		switch d {
		case ByTenant, ByIdentity, ByClient, ByUpstream, ByTool:
		default:
			return fmt.Errorf("usage: unknown dimension %q (tenant, identity, client, upstream, tool)", d)
		}
	}
	return nil
}
