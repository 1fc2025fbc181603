package usage_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/internal/pgtest"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/store"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
	"github.com/switchboard-mcp/switchboard/usage"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

func openDB(t *testing.T, backend string) *store.DB {
	opts := &store.Options{MasterKey: testKey}
	if backend == "postgres" {
		opts.URL = pgtest.DSN(t)
	}
	db, err := store.Open(context.Background(), t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// pricedServer has a tool whose result reports its own cost.
func pricedServer() *mcp.Server {
	s := mcp.NewServer(protocol.Implementation{Name: "priced", Version: "1"}, nil)
	s.AddTool(&protocol.Tool{Name: "priced"}, func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		res := mcp.TextResult("done")
		res.Meta = protocol.Meta{usage.DefaultMetaKey: 2.5}
		return res, nil
	})
	return s
}

// startGateway serves a gateway with the meter's hooks, for tenant acme.
func startGateway(t *testing.T, m *usage.Meter) *mcp.ClientSession {
	t.Helper()
	hooks := gateway.Hooks{
		Identify: func(ctx context.Context, r *mcp.Request) *gateway.Identity {
			return &gateway.Identity{Subject: "alice", Tenant: "acme", ClientID: "app-1"}
		},
		Middleware: []mcp.Middleware{m.Middleware()},
		Authorize:  m.Authorize,
		Observe:    []func(context.Context, *gateway.Event){m.Observe},
	}
	g, err := gateway.New(gateway.Options{Hooks: hooks, Upstreams: []gateway.Upstream{
		{Name: "a", Server: everything.NewServer(nil)},
		{Name: "c", Server: pricedServer()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(g.Handler())
	t.Cleanup(func() { g.Close(); ts.Close() })
	cs, err := mcp.NewClient(protocol.Implementation{Name: "test-client", Version: "1"}, nil).Connect(ctxT(t), streamable.NewDialer(ts.URL+gateway.PathMCP, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func textOf(res *protocol.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*protocol.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// A budget of 5 units at 1 unit a call: five calls go through, the sixth
// gets a tool error stating the budget and when it resets; the warning
// and the exhaustion are reported; the ledger sums match the calls; a
// restarted meter still knows the budget is spent.
func TestBudget(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := openDB(t, backend)
			var (
				mu     sync.Mutex
				events []string
			)
			opts := usage.Options{
				Storage: db.Usage(),
				Costs:   &usage.Costs{Default: 1, Tools: map[string]float64{"a/add": 2}, TrustResultMeta: true},
				Budgets: []usage.Budget{{Name: "daily", Per: usage.PerTenant, Period: usage.Day, Limit: 5}},
				OnBudget: func(e usage.BudgetEvent) {
					mu.Lock()
					events = append(events, e.Kind)
					mu.Unlock()
				},
			}
			m, err := usage.NewMeter(opts)
			if err != nil {
				t.Fatal(err)
			}
			cs := startGateway(t, m)
			ctx := ctxT(t)
			for i := range 5 {
				res, err := cs.CallToolArgs(ctx, "a_echo", map[string]any{"text": "x"})
				if err != nil || res.IsError {
					t.Fatalf("call %d: %v %v", i+1, textOf(res), err)
				}
			}
			res, err := cs.CallToolArgs(ctx, "a_echo", map[string]any{"text": "x"})
			if err != nil {
				t.Fatalf("the refusal is a protocol error, not a tool error: %v", err)
			}
			msg := textOf(res)
			reset := usage.PeriodEnd(usage.Day, usage.PeriodStart(usage.Day, time.Now())).Format(time.RFC3339)
			if !res.IsError || !strings.Contains(msg, `daily budget "daily" of tenant "acme" is spent`) || !strings.Contains(msg, "5 of 5 units") ||
				!strings.Contains(msg, "resets at "+reset) {
				t.Fatalf("the sixth call: isError %v %q", res.IsError, msg)
			}
			mu.Lock()
			got := strings.Join(events, ",")
			mu.Unlock()
			if got != "warning,exhausted,refused" {
				t.Errorf("budget events %q", got)
			}
			if err := m.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			rows, err := db.Usage().Usage(ctx, &usage.Query{GroupBy: []string{usage.ByTenant, usage.ByIdentity, usage.ByClient, usage.ByUpstream, usage.ByTool}})
			if err != nil {
				t.Fatal(err)
			}
			want := usage.Row{Tenant: "acme", Subject: "alice", Client: "app-1", Upstream: "a", Tool: "echo", Calls: 6, Denied: 1, Cost: 5}
			if len(rows) != 1 || rows[0] != want {
				t.Fatalf("ledger %+v, want %+v", rows, want)
			}
			// By day, the same sums.
			days, err := db.Usage().Usage(ctx, &usage.Query{Period: usage.Day, GroupBy: []string{}})
			if err != nil || len(days) != 1 || days[0].Calls != 6 || days[0].Cost != 5 || !days[0].Period.Equal(usage.PeriodStart(usage.Day, time.Now())) {
				t.Fatalf("by day: %+v %v", days, err)
			}
			m.Close()

			// A restarted meter reads the ledger: the budget stays spent.
			m2, err := usage.NewMeter(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer m2.Close()
			if spent, err := m2.Spent(ctx, "daily", "acme", time.Now()); err != nil || spent != 5 {
				t.Fatalf("spent after a restart: %v %v", spent, err)
			}
			cs2 := startGateway(t, m2)
			if res, err := cs2.CallToolArgs(ctx, "a_echo", map[string]any{"text": "x"}); err != nil || !res.IsError {
				t.Fatalf("a call after the restart: %v %v", res, err)
			}
		})
	}
}

// A trusted result's _meta cost replaces the configured one; the
// configured per-tool price applies otherwise.
func TestCosts(t *testing.T) {
	db := openDB(t, "sqlite")
	m, err := usage.NewMeter(usage.Options{Storage: db.Usage(),
		Costs: &usage.Costs{Default: 1, Tools: map[string]float64{"a/add": 2}, Upstreams: map[string]float64{"c": 7}, TrustResultMeta: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cs := startGateway(t, m)
	ctx := ctxT(t)
	for _, call := range []struct {
		name string
		args map[string]any
	}{{"a_add", map[string]any{"a": 1, "b": 2}}, {"a_add", map[string]any{"a": 1, "b": 2}}, {"c_priced", nil}, {"a_echo", map[string]any{"text": "x"}}} {
		if _, err := cs.CallToolArgs(ctx, call.name, call.args); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Usage().Usage(ctx, &usage.Query{GroupBy: []string{usage.ByUpstream, usage.ByTool}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	calls := map[string]int64{}
	for _, r := range rows {
		got[r.Upstream+"/"+r.Tool] = r.Cost
		calls[r.Upstream+"/"+r.Tool] = r.Calls
	}
	if got["a/add"] != 4 || got["c/priced"] != 2.5 || got["a/echo"] != 1 || calls["a/add"] != 2 {
		t.Fatalf("costs %v calls %v", got, calls)
	}
}

func TestPeriods(t *testing.T) {
	at := time.Date(2026, 12, 9, 15, 30, 0, 0, time.UTC) // a Wednesday
	for _, c := range []struct {
		period     string
		start, end string
	}{
		{usage.Hour, "2026-12-09T15:00:00Z", "2026-12-09T16:00:00Z"},
		{usage.Day, "2026-12-09T00:00:00Z", "2026-12-10T00:00:00Z"},
		{usage.Week, "2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z"},
		{usage.Month, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
	} {
		s := usage.PeriodStart(c.period, at)
		if s.Format(time.RFC3339) != c.start || usage.PeriodEnd(c.period, s).Format(time.RFC3339) != c.end {
			t.Errorf("%s: %s .. %s", c.period, s, usage.PeriodEnd(c.period, s))
		}
	}
}
