package bench

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/clients"
	"github.com/switchboard-mcp/switchboard/bench/harness"
	"github.com/switchboard-mcp/switchboard/bench/servers"
)

// serverEnv makes the test binary act as the servers command, and
// clientEnv as the clientload command, so that the harness can start it as
// its server child and its client processes without a separate build.
const (
	serverEnv = "SWITCHBOARD_BENCH_AS_SERVER"
	clientEnv = "SWITCHBOARD_BENCH_AS_CLIENTLOAD"
)

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) == "1" {
		os.Exit(servers.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	if os.Getenv(clientEnv) == "1" {
		os.Exit(clients.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestQuickRun runs every part of the harness except the in-process
// benchmarks (which need go test of their own) briefly against every
// implementation, and checks that each produced sane figures.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes; skipped with -short")
	}
	cfg := harness.QuickConfig()
	cfg.ServerCmd = []string{os.Args[0]}
	cfg.ServerEnv = []string{serverEnv + "=1"}
	cfg.ModDir = "."
	cfg.Sessions = []int{1, 4}
	cfg.StdioInflight = []int{1, 4}
	cfg.IdleSessions = []int{200}
	cfg.Duration = 300 * time.Millisecond
	cfg.Warmup = 100 * time.Millisecond
	cfg.ProfileDuration = time.Second
	cfg.InProc = false
	cfg.Gateway = false // TestQuickGateway
	cfg.Client = false  // TestQuickClient
	var log bytes.Buffer
	cfg.Log = &log

	res, err := harness.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("harness log:\n%s", log.String())
		}
	}()
	if len(res.Problems) > 0 {
		t.Errorf("problems: %q", res.Problems)
	}
	// Every implementation × 2 levels × (stateful, stateless, stdio).
	if got, want := len(res.Load), len(servers.Names)*2*3; got != want {
		t.Errorf("%d load results, want %d", got, want)
	}
	stateless2026 := 0
	for _, r := range res.Load {
		name := r.Mode + "/" + r.Impl
		// Switchboard's stateless rows (its echo server's and the
		// everything demo's) are revision 2026-07-28 requests
		// (server/discover, then tools/call with _meta and the standard
		// headers, counted only with resultType "complete"); every other
		// row speaks 2025-11-25.
		wantProto := servers.ProtocolVersion
		if servers.StatelessRevision(r.Impl) == servers.StatelessProtocolVersion && r.Mode == "http-stateless" {
			wantProto = servers.StatelessProtocolVersion
			stateless2026++
		}
		if r.Mode != "stdio" && r.Protocol != wantProto {
			t.Errorf("%s at %d: protocol %q, want %q", name, r.Clients, r.Protocol, wantProto)
		}
		if r.Status != "" || r.CallsPerS <= 0 || r.P50 <= 0 || r.P99 < r.P50 || r.Errors != 0 {
			t.Errorf("%s at %d: status %q, %.0f calls/s, p50 %v, p99 %v, %d errors", name, r.Clients, r.Status, r.CallsPerS, r.P50, r.P99, r.Errors)
		}
		if r.CPUPerCall <= 0 && r.CallsPerS > 0 {
			t.Errorf("%s at %d: no server CPU measured", name, r.Clients)
		}
	}

	if want := 2 * len(cfg.Sessions); stateless2026 != want { // switchboard and switchboard-demo
		t.Errorf("%d Switchboard stateless (2026-07-28) results, want %d", stateless2026, want)
	}

	idle := map[string]harness.IdleResult{}
	for _, r := range res.Idle {
		idle[r.Impl] = r
	}
	if len(idle) != len(servers.Names) {
		t.Errorf("idle results for %d implementations, want %d", len(idle), len(servers.Names))
	}
	// Known shapes prove the measurement: go-sdk keeps one goroutine per
	// session; the baseline keeps nothing.
	if g := idle[servers.GoSDK].GoroutinesPer; g < 0.9 || g > 1.1 {
		t.Errorf("go-sdk: %.3f goroutines per idle session, want 1", g)
	}
	if h := idle[servers.Baseline].HeapPerSession; h > 1024 {
		t.Errorf("baseline: %.0f heap bytes per idle session, want about 0", h)
	}

	if len(res.Profiles) != 5 {
		t.Errorf("%d profiles, want 5 (switchboard and baseline over http and stdio, switchboard over stateless http)", len(res.Profiles))
	}
	for _, p := range res.Profiles {
		if !strings.Contains(p.CPUTop, "flat%") || len(p.ByArea) == 0 || p.Calls <= 0 {
			t.Errorf("profile of %s over %s empty: %+v", p.Impl, p.Transport, p)
		}
	}

	var md bytes.Buffer
	if err := res.WriteMarkdown(&md, harness.ReportOptions{Analysis: "## Reading\n\nby hand"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "n/a (not yet)") {
		t.Errorf("report still marks a mode as not implemented:\n%s", md.String())
	}
	for _, want := range []string{"## Targets", "## Streamable HTTP, stateful", "## Streamable HTTP, stateless", "## stdio", "## Idle initialized sessions", "## Profile: Switchboard server under load, Streamable HTTP", "## Profile: Switchboard server under load, stdio", "## Profile: Switchboard server under load, Streamable HTTP stateless (2026-07-28)", "## Reading", "× baseline", "Switchboard stateless: 2026-07-28", "`server/discover` once per worker"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestQuickGateway runs the gateway rows briefly: the Switchboard server
// direct and through Switchboard's gateway with the upstream over stdio
// and over Streamable HTTP, and the gateway's profiles. The peer gateways
// are looked for in an empty directory, so they are skipped with a note
// (the path a machine without `make -C bench peers` takes).
func TestQuickGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes; skipped with -short")
	}
	cfg := harness.QuickConfig()
	cfg.ServerCmd = []string{os.Args[0]}
	cfg.ServerEnv = []string{serverEnv + "=1"}
	cfg.ModDir = "."
	cfg.Stateful, cfg.Stateless, cfg.Stdio, cfg.Idle, cfg.InProc, cfg.Client = false, false, false, false, false, false
	cfg.Gateway, cfg.Profile = true, true
	cfg.Sessions = []int{1, 4}
	cfg.Duration = 300 * time.Millisecond
	cfg.Warmup = 100 * time.Millisecond
	cfg.ProfileDuration = time.Second
	cfg.PeerBinDir, cfg.PeerNodeDir = t.TempDir(), t.TempDir()
	var log bytes.Buffer
	cfg.Log = &log

	res, err := harness.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("harness log:\n%s", log.String())
		}
	}()
	if len(res.Problems) > 0 {
		t.Errorf("problems: %q", res.Problems)
	}
	// Per session count: direct, and the gateway over stdio and over HTTP.
	if got, want := len(res.Load), 3*len(cfg.Sessions); got != want {
		t.Errorf("%d load results, want %d", got, want)
	}
	seen := map[string]int{}
	for _, r := range res.Load {
		name := r.Impl + "/" + r.Upstream
		seen[name]++
		if r.Mode != harness.ModeGateway || r.Protocol != servers.ProtocolVersion {
			t.Errorf("%s: mode %q, protocol %q", name, r.Mode, r.Protocol)
		}
		if r.Status != "" || r.CallsPerS <= 0 || r.P50 <= 0 || r.P99 < r.P50 || r.Errors != 0 {
			t.Errorf("%s at %d: status %q, %.0f calls/s, p50 %v, p99 %v, %d errors", name, r.Clients, r.Status, r.CallsPerS, r.P50, r.P99, r.Errors)
		}
		if r.CPUPerCall <= 0 || r.FrontCPUPerCall <= 0 {
			t.Errorf("%s at %d: CPU per call %v, front %v", name, r.Clients, r.CPUPerCall, r.FrontCPUPerCall)
		}
	}
	for _, name := range []string{"direct/", "switchboard/stdio", "switchboard/http"} {
		if seen[name] != len(cfg.Sessions) {
			t.Errorf("%d rows of %s, want %d", seen[name], name, len(cfg.Sessions))
		}
	}
	if len(res.Notes) != len(harness.GatewayPeers) {
		t.Errorf("notes %q, want one per peer gateway (none installed)", res.Notes)
	}
	var gw int
	for _, p := range res.Profiles {
		if strings.HasPrefix(p.Transport, harness.ModeGateway) {
			gw++
			if !strings.Contains(p.CumTop, "gateway") || p.Calls <= 0 {
				t.Errorf("profile of the gateway over %s lacks the gateway package: %+v", p.Transport, p)
			}
		}
	}
	if gw != 2 {
		t.Errorf("%d gateway profiles, want 2 (stdio and HTTP upstream)", gw)
	}

	var md bytes.Buffer
	if err := res.WriteMarkdown(&md, harness.ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Gateway: tools/call through a gateway, upstream over stdio", "## Gateway: tools/call through a gateway, upstream over Streamable HTTP",
		"gateway, stdio upstream: tools/call at 16 sessions", "added p50 at 1 session", "the fastest peer gateway", "Not measured in this run", "skipped, not installed",
		"## Profile: Switchboard's gateway under load, upstream over stdio", "## Profile: Switchboard's gateway under load, upstream over Streamable HTTP"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestQuickClient runs the client side briefly: one Switchboard server and
// a clientload process (this test binary) per client implementation,
// session count and round, and checks each produced sane figures and the
// report its section and target.
func TestQuickClient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server and client processes; skipped with -short")
	}
	cfg := harness.QuickConfig()
	cfg.ServerCmd = []string{os.Args[0]}
	cfg.ServerEnv = []string{serverEnv + "=1"}
	cfg.ClientCmd = []string{os.Args[0]}
	cfg.ClientEnv = []string{clientEnv + "=1"}
	cfg.ModDir = "."
	cfg.Stateful, cfg.Stateless, cfg.Stdio, cfg.Idle, cfg.InProc, cfg.Gateway, cfg.Profile = false, false, false, false, false, false, false
	cfg.Client = true
	cfg.ClientSessions = []int{1, 4}
	cfg.Duration = 300 * time.Millisecond
	cfg.Warmup = 100 * time.Millisecond
	var log bytes.Buffer
	cfg.Log = &log

	res, err := harness.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("harness log:\n%s", log.String())
		}
	}()
	if len(res.Problems) > 0 {
		t.Errorf("problems: %q", res.Problems)
	}
	if len(res.Load) != 0 {
		t.Errorf("%d load results from a client-side run", len(res.Load))
	}
	if got, want := len(res.Client), len(clients.Impls)*len(cfg.ClientSessions); got != want {
		t.Fatalf("%d client results, want %d", got, want)
	}
	for _, c := range res.Client {
		if c.Status != "" || c.CallsPerS <= 0 || c.CPUPerCall <= 0 || c.P50 <= 0 || c.P99 < c.P50 || c.Errors != 0 ||
			c.Protocol != servers.ProtocolVersion || len(c.Rounds) != cfg.Rounds {
			t.Errorf("%s at %d sessions: %+v", c.Impl, c.Sessions, c)
		}
	}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md, harness.ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Client side: tools/call from each SDK's client to the same Switchboard server", "| **switchboard** | 4 |", "| go-sdk | 1 |", "| mcp-go | 4 |", "× faster peer"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	tgs := res.Targets()
	if tg := tgs[len(tgs)-1]; !strings.HasPrefix(tg.Name, "client CPU per call") || tg.Met == "not measured" {
		t.Errorf("client target: %+v", tg)
	}
}
