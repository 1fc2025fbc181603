package limits_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/internal/govtest"
	"github.com/switchboard-mcp/switchboard/limits"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/policy"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// tenRules is a policy of 10 rules of the kinds docs/policy.md shows; none
// denies the benchmark's calls, so that every rule is evaluated.
var tenRules = policy.Config{Rules: []policy.Rule{
	{Name: "no-destructive-for-contractors", When: `kind == "tool" && tool.annotations.destructiveHint && "contractors" in identity.groups`},
	{Name: "no-etc", When: `method == "tools/call" && has(args.path) && string(args.path).startsWith("/etc")`},
	{Name: "prod-needs-grant", When: `upstream == "prod" && !("prod:session" in identity.scopes)`},
	{Name: "tenant-server", When: `server == "acme" && tenant != "acme"`},
	{Name: "no-anonymous-writes", When: `identity.anonymous && !tool.annotations.readOnlyHint && kind == "tool" && upstream == "crm"`},
	{Name: "no-secrets", When: `name.contains("secret")`},
	{Name: "office-hours", When: `upstream == "payroll" && now.getHours() < 6`},
	{Name: "big-exports", When: `original == "export" && has(args.limit) && int(args.limit) > 10000`},
	{Name: "client-allowlist", When: `upstream == "admin" && client.name != "console"`},
	{Name: "interns-read-only", When: `"interns" in identity.groups && !tool.annotations.readOnlyHint`},
}}

// governedGateway serves an in-process gateway over an in-memory stdio
// stream, with or without the policy of 10 rules and limits (a rate and
// a concurrency limit that never refuse the benchmark's calls).
func governedGateway(tb testing.TB, governed bool) *gateway.Gateway {
	tb.Helper()
	hooks := gateway.Hooks{Identify: govtest.IdentifyByClientName}
	if governed {
		p, err := policy.New(tenRules, nil)
		if err != nil {
			tb.Fatal(err)
		}
		l, err := limits.New(limits.Options{Rules: []limits.Rule{
			{Name: "per-user", Key: []string{limits.KeyTenant, limits.KeyIdentity}, Rate: "1000000/s"},
			{Name: "per-tool", Key: []string{limits.KeyTool}, Concurrency: 1000},
		}})
		if err != nil {
			tb.Fatal(err)
		}
		hooks.Authorize, hooks.Admit = p.Authorize, l.Admit
	}
	g, err := gateway.New(gateway.Options{Upstreams: []gateway.Upstream{{Name: "demo", Server: everything.NewServer(nil)}}, Hooks: hooks})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { g.Close() })
	return g
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// callRate runs clients sessions that call echo for d and returns calls
// per second of wall time and per second of CPU time (the throughput of
// a dedicated machine, where the gateway is CPU-bound: robust to other
// jobs sharing this one).
func callRate(tb testing.TB, g *gateway.Gateway, path govtest.Path, url string, clients int, d time.Duration) (wall, cpu float64) {
	tb.Helper()
	sessions := make([]*mcp.ClientSession, clients)
	for i := range sessions {
		sessions[i] = govtest.Connect(tb, path, url, g.Server(), fmt.Sprintf("acme/user%d+staff", i), nil)
	}
	args := map[string]any{"text": "hello"}
	var total int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	start, cpu0 := time.Now(), cpuTime()
	for _, cs := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(0)
			for time.Now().Before(stop) {
				if _, err := cs.CallToolArgs(context.Background(), "echo", args); err != nil {
					tb.Error(err)
					return
				}
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return float64(total) / time.Since(start).Seconds(), float64(total) / (cpuTime() - cpu0).Seconds()
}

func benchmarkCalls(b *testing.B, governed bool) {
	g := governedGateway(b, governed)
	cs := govtest.Connect(b, govtest.Stdio, "", g.Server(), "acme/bench+staff", nil)
	args := map[string]any{"text": "hello"}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := cs.CallToolArgs(context.Background(), "echo", args); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGatewayCall is a tools/call through the gateway without
// governance; BenchmarkGatewayCallGoverned with the policy of 10 rules and
// two limits. Compare their ns/op (docs/policy.md reports them).
func BenchmarkGatewayCall(b *testing.B)         { benchmarkCalls(b, false) }
func BenchmarkGatewayCallGoverned(b *testing.B) { benchmarkCalls(b, true) }

// TestGovernanceOverhead measures the throughput of tools/call with and
// without policy (10 rules) and limits, alternating rounds: calls per
// second of CPU time (what a dedicated machine serves when the gateway is
// CPU-bound) and of wall time. It keeps the best CPU ratio of the rounds
// and asserts it is at least 0.85 over Streamable HTTP (how the gateway
// is deployed and benchmarked) when SWITCHBOARD_OVERHEAD_CHECK=1, and logs
// it otherwise (the race detector, in make test, distorts it). It also
// logs the in-memory stdio path, the harshest case: nothing but the
// gateway's own work around the hooks.
func TestGovernanceOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("a throughput measurement")
	}
	base, gov := governedGateway(t, false), governedGateway(t, true)
	serve := func(g *gateway.Gateway, wrap bool) string {
		var h http.Handler = g.Handler()
		if wrap {
			h = limits.HTTPStatus(h)
		}
		ts := httptest.NewServer(h)
		t.Cleanup(ts.Close)
		return ts.URL + gateway.PathMCP
	}
	baseURL, govURL := serve(base, false), serve(gov, true)
	for _, path := range []govtest.Path{govtest.Stateful, govtest.Stdio} {
		best := 0.0
		for round := range 5 {
			bw, bc := callRate(t, base, path, baseURL, 8, 300*time.Millisecond)
			gw, gc := callRate(t, gov, path, govURL, 8, 300*time.Millisecond)
			t.Logf("%s round %d: without governance %.0f calls/s (%.0f per CPU-second), with %.0f calls/s (%.0f per CPU-second): %.2fx wall, %.2fx CPU",
				path, round+1, bw, bc, gw, gc, gw/bw, gc/bc)
			best = max(best, gc/bc)
		}
		t.Logf("%s: best CPU throughput ratio %.2f", path, best)
		if path == govtest.Stateful && os.Getenv("SWITCHBOARD_OVERHEAD_CHECK") == "1" && best < 0.85 {
			t.Errorf("governed throughput over HTTP is %.2fx the ungoverned one, want >= 0.85x", best)
		}
	}
}

// BenchmarkGovernanceHooks is what governance adds to one tools/call:
// the policy of 10 rules (Authorize) and the two limits (Admit and
// release), on the Access the gateway builds for the call.
func BenchmarkGovernanceHooks(b *testing.B) {
	p, err := policy.New(tenRules, nil)
	if err != nil {
		b.Fatal(err)
	}
	l, err := limits.New(limits.Options{Rules: []limits.Rule{
		{Name: "per-user", Key: []string{limits.KeyTenant, limits.KeyIdentity}, Rate: "1000000000/s"},
		{Name: "per-tool", Key: []string{limits.KeyTool}, Concurrency: 1000},
	}})
	if err != nil {
		b.Fatal(err)
	}
	a := &gateway.Access{Method: "tools/call", Kind: "tool", Upstream: "demo", Name: "echo", Original: "echo",
		Tool:      &protocol.Tool{Name: "echo", Description: "Returns its text argument"},
		Arguments: jsontext.Value(`{"text":"hello"}`), Identity: &gateway.Identity{Subject: "bench", Tenant: "acme", Groups: []string{"staff"}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Authorize(ctx, a); err != nil {
			b.Fatal(err)
		}
		rel, err := l.Admit(ctx, a)
		if err != nil {
			b.Fatal(err)
		}
		rel()
	}
}
