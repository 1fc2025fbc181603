package harness

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/servers"
)

// Target is one of Switchboard's performance targets and its outcome.
type Target struct {
	Name     string `json:"name"`
	Measured string `json:"measured"`
	// Met is "met", "not met" or "not measured".
	Met string `json:"met"`
}

func (r *Results) load(mode, impl string, clients int) (Result, bool) {
	i := slices.IndexFunc(r.Load, func(x Result) bool { return x.Mode == mode && x.Impl == impl && x.Clients == clients })
	if i < 0 || r.Load[i].Status != "" {
		return Result{}, false
	}
	return r.Load[i], true
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

const notMeasured = "not measured"

// Targets evaluates Switchboard's targets against the results.
func (r *Results) Targets() []Target {
	var ts []Target
	sb, okS := r.load("http", servers.Switchboard, 16)
	mg, okM := r.load("http", servers.MCPGo, 16)
	// Issue 19: calls/s at least the baseline's at 16 and 64 sessions.
	t := Target{Name: "Streamable HTTP tools/call ≥ 1.0× baseline (16 and 64 sessions)", Met: notMeasured}
	t.Measured, t.Met = r.ratioTarget("http", servers.Switchboard, "http", servers.Baseline, []int{16, 64}, 1.0)
	ts = append(ts, t)
	t = Target{Name: "Streamable HTTP tools/call at 16 sessions ≥ 1.5× mcp-go", Met: notMeasured}
	if okS && okM {
		x := sb.CallsPerS / mg.CallsPerS
		t.Measured, t.Met = fmt.Sprintf("%.0f vs %.0f calls/s = %.2f×", sb.CallsPerS, mg.CallsPerS, x), verdict(x >= 1.5)
	}
	ts = append(ts, t)

	t = Target{Name: "server CPU per call ≤ 1.15× baseline (Streamable HTTP, each session count)", Met: notMeasured}
	var parts []string
	all, any := true, false
	for _, n := range r.sessionCounts("http") {
		s, ok1 := r.load("http", servers.Switchboard, n)
		b, ok2 := r.load("http", servers.Baseline, n)
		if !ok1 || !ok2 || b.CPUPerCall == 0 {
			continue
		}
		any = true
		x := float64(s.CPUPerCall) / float64(b.CPUPerCall)
		all = all && x <= 1.15
		parts = append(parts, fmt.Sprintf("%d: %s vs %s = %.2f×", n, fmtDur(s.CPUPerCall), fmtDur(b.CPUPerCall), x))
	}
	if any {
		t.Measured, t.Met = strings.Join(parts, "; "), verdict(all)
	}
	ts = append(ts, t)

	t = Target{Name: "2026-07-28 stateless tools/call ≥ 0.95× the stateful path (each session count)", Met: notMeasured}
	t.Measured, t.Met = r.ratioTarget("http-stateless", servers.Switchboard, "http", servers.Switchboard, r.sessionCounts("http-stateless"), 0.95)
	ts = append(ts, t)

	t = Target{Name: "the everything demo's server ≥ 0.95× the bench server (16 and 64 sessions)", Met: notMeasured}
	t.Measured, t.Met = r.ratioTarget("http", servers.SwitchboardDemo, "http", servers.Switchboard, []int{16, 64}, 0.95)
	ts = append(ts, t)

	t = Target{Name: "p99 at 64 sessions ≤ 1.1× baseline", Met: notMeasured}
	if s, ok := r.load("http", servers.Switchboard, 64); ok {
		if b, ok := r.load("http", servers.Baseline, 64); ok && b.P99 > 0 {
			x := float64(s.P99) / float64(b.P99)
			t.Measured, t.Met = fmt.Sprintf("%s vs %s = %.2f×", fmtDur(s.P99), fmtDur(b.P99), x), verdict(x <= 1.1)
		}
	}
	ts = append(ts, t)

	t = Target{Name: "in process ≤ 12 µs per tools/call, validation on (session depth)", Met: notMeasured}
	t2 := Target{Name: "in process ≤ 60 allocs per tools/call, validation on (session depth)", Met: notMeasured}
	if b, ok := findBench(r.InProc, "session", servers.Switchboard); ok {
		t.Measured, t.Met = fmt.Sprintf("%.2f µs", b.NsPerOp/1000), verdict(b.NsPerOp <= 12000)
		t2.Measured, t2.Met = fmt.Sprintf("%.0f allocs, %.0f B", b.AllocsPerOp, b.BytesPerOp), verdict(b.AllocsPerOp <= 60)
	}
	ts = append(ts, t, t2)

	t = Target{Name: "idle initialized session ≤ 2 KiB heap", Met: notMeasured}
	t2 = Target{Name: "idle initialized session: no goroutine", Met: notMeasured}
	var heapParts, gParts []string
	heapOK, gOK, anyIdle := true, true, false
	for _, i := range r.Idle {
		if i.Impl != servers.Switchboard || i.Status != "" {
			continue
		}
		anyIdle = true
		heapOK = heapOK && i.HeapPerSession <= 2048
		gOK = gOK && i.GoroutinesPer < 0.01
		heapParts = append(heapParts, fmt.Sprintf("%s sessions: %.0f B", thousands(i.Sessions), i.HeapPerSession))
		gParts = append(gParts, fmt.Sprintf("%s sessions: %.3f", thousands(i.Sessions), i.GoroutinesPer))
	}
	if anyIdle {
		t.Measured, t.Met = strings.Join(heapParts, "; "), verdict(heapOK)
		t2.Measured, t2.Met = "goroutines per session, "+strings.Join(gParts, "; "), verdict(gOK)
	}
	ts = append(ts, t, t2)

	t = Target{Name: "stdio with 16 in flight ≥ 0.6× baseline", Met: notMeasured}
	if s, ok := r.load("stdio", servers.Switchboard, 16); ok {
		if b, ok := r.load("stdio", servers.Baseline, 16); ok {
			x := s.CallsPerS / b.CallsPerS
			t.Measured, t.Met = fmt.Sprintf("%.0f vs %.0f calls/s = %.2f×", s.CallsPerS, b.CallsPerS, x), verdict(x >= 0.6)
		}
	}
	ts = append(ts, t)
	t = Target{Name: "stdio with 16 in flight ≥ 2× mcp-go", Met: notMeasured}
	t.Measured, t.Met = r.ratioTarget("stdio", servers.Switchboard, "stdio", servers.MCPGo, []int{16}, 2)
	ts = append(ts, t)
	return append(ts, r.clientTarget())
}

// ratioTarget compares the calls/s of impl in mode with those of base in
// baseMode at each of counts, against the least ratio min. It returns the
// measured text and the verdict; counts without both rows are left out, and
// none gives "not measured".
func (r *Results) ratioTarget(mode, impl, baseMode, base string, counts []int, min float64) (string, string) {
	var parts []string
	all := true
	for _, n := range counts {
		s, ok1 := r.load(mode, impl, n)
		b, ok2 := r.load(baseMode, base, n)
		if !ok1 || !ok2 || b.CallsPerS == 0 {
			continue
		}
		x := s.CallsPerS / b.CallsPerS
		all = all && x >= min
		parts = append(parts, fmt.Sprintf("%d: %.0f vs %.0f calls/s = %.2f×", n, s.CallsPerS, b.CallsPerS, x))
	}
	if len(parts) == 0 {
		return "", notMeasured
	}
	return strings.Join(parts, "; "), verdict(all)
}

func (r *Results) sessionCounts(mode string) []int {
	var ns []int
	for _, l := range r.Load {
		if l.Mode == mode && !slices.Contains(ns, l.Clients) {
			ns = append(ns, l.Clients)
		}
	}
	slices.Sort(ns)
	return ns
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	}
}

func fmtDurOr(d time.Duration, ok bool) string {
	if !ok {
		return "–"
	}
	return fmtDur(d)
}

func fmtDiff(d time.Duration, ok bool) string {
	if !ok {
		return "–"
	}
	if d < 0 {
		return "−" + fmtDur(-d)
	}
	return "+" + fmtDur(d)
}

func ratio(x, base float64) string {
	if base == 0 || math.IsNaN(x/base) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x/base)
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ReportOptions add hand-written parts to the report.
type ReportOptions struct {
	// Analysis is Markdown placed after the profile: the reading of where
	// the time goes and what would close the gaps.
	Analysis string
}

// WriteMarkdown writes the report.
func (r *Results) WriteMarkdown(w io.Writer, o ReportOptions) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := r.Machine
	p("# Benchmarks\n\n")
	p("Switchboard against the other Go MCP implementations and a plain `net/http` + `encoding/json` baseline")
	if r.hasGatewayRows() {
		p(", and Switchboard's gateway against other MCP gateways in front of the same server")
	}
	p(", ")
	p("generated by `bench/` (its own Go module) on %s in %s. ", r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Elapsed.Round(time.Second))
	p("Every figure below comes from that one run; rerun with the command at the end.\n\n")
	p("| | |\n|---|---|\n")
	p("| CPU | %s |\n| cores | %d (client and server share them: compare ratios, not absolute numbers) |\n", m.CPUModel, m.Cores)
	p("| OS | %s |\n| Go | %s |\n", m.OS, m.GoVersion)
	for _, mod := range m.Modules {
		p("| peer | `%s` |\n", mod)
	}
	for _, g := range m.GatewayPeers {
		p("| peer gateway | %s |\n", g)
	}
	p("| Switchboard | commit %s |\n", orDash(m.Commit))
	if len(r.GatewayArgs) > 0 {
		p("| Switchboard's gateway ran with | `%s` (an experiment, not its defaults) |\n", strings.Join(r.GatewayArgs, " "))
	}
	p("| protocol | %s (every session initializes with it; so do the peers' stateless clients); Switchboard stateless: %s (no initialize, no session) |\n",
		servers.ProtocolVersion, servers.StatelessProtocolVersion)
	p("| rounds | median of %d rounds of %v; a fresh server process per implementation and configuration; rounds interleaved across implementations |\n", r.Rounds, r.Duration)
	p("| machine load (1/5/15 min) | before %s, after %s |\n\n", m.LoadBefore, m.LoadAfter)
	if lo, hi, ok := r.otherLoadRange(); ok && hi >= 0.25 {
		p("**The machine was shared during this run:** other work used between %.2f and %.2f of the %d cores during the rounds (the *other load* column, median of each row). ", lo, hi, m.Cores)
		p("Absolute numbers moved against quieter runs, and so do single ratios; compare rows within a table, and see the reading below for the margins.\n\n")
	}
	if len(r.Problems) > 0 {
		p("**Problems in this run:**\n\n")
		for _, pr := range r.Problems {
			p("- %s\n", pr)
		}
		p("\n")
	}

	p("## Targets\n\n| target (Switchboard) | measured | |\n|---|---|---|\n")
	for _, t := range append(r.Targets(), r.gatewayTargets()...) {
		p("| %s | %s | **%s** |\n", t.Name, orDash(t.Measured), t.Met)
	}
	p("\n")

	r.loadTable(&b, "http", "Streamable HTTP, stateful: tools/call", "sessions")
	r.loadTable(&b, "http-stateless", "Streamable HTTP, stateless: tools/call", "sessions")
	r.loadTable(&b, "stdio", "stdio: tools/call, one session, pipelined", "in flight")
	r.gatewayTables(&b)
	r.clientTable(&b)

	if len(r.InProc) > 0 {
		p("## In process: one tools/call\n\n")
		p("`testing.B` in `bench/inproc_test.go`, medians of %d runs; input validation on for every MCP implementation. ", r.InProc[0].Runs)
		p("*session*: the protocol layer alone, the frame decoded and served (Switchboard `jsonrpc.Decode` + `ServerSession.HandleRequest` after initialize; mcp-go `MCPServer.HandleMessage` on a registered in-process session + `json.Marshal`; go-sdk has no synchronous entry point). ")
		p("*stream*: a whole session over an in-memory pipe with each library's stdio framing, one request in flight. ")
		p("*http*: the Streamable HTTP handler's `ServeHTTP` with no sockets. Ratios are to the baseline at the same depth.\n\n")
		p("| depth | implementation | time/op | × baseline | B/op | allocs/op | × baseline allocs |\n|---|---|---:|---:|---:|---:|---:|\n")
		for _, x := range r.InProc {
			base, _ := findBench(r.InProc, x.Depth, servers.Baseline)
			p("| %s | %s | %.2f µs | %s | %.0f | %.0f | %s |\n", x.Depth, x.Impl, x.NsPerOp/1000, ratio(x.NsPerOp, base.NsPerOp),
				x.BytesPerOp, x.AllocsPerOp, ratio(x.AllocsPerOp, base.AllocsPerOp))
		}
		p("\n")
	}

	if len(r.Idle) > 0 {
		p("## Idle initialized sessions\n\n")
		p("Sessions opened over Streamable HTTP (initialize + notifications/initialized, no GET stream) and left open; ")
		p("the server reports `runtime.MemStats.HeapAlloc`, `StackInuse` and `runtime.NumGoroutine()` after two GCs on its side endpoint, ")
		p("with the client's connections closed. Figures are the growth over the fresh server divided by the session count. ")
		p("The baseline keeps no sessions: its row is the measurement's noise floor.\n\n")
		p("| implementation | sessions | heap per session | goroutines per session | stack per session |\n|---|---:|---:|---:|---:|\n")
		for _, i := range r.Idle {
			p("| %s | %s | %.0f B | %.3f | %.0f B |\n", i.Impl, thousands(i.Sessions), i.HeapPerSession, i.GoroutinesPer, i.StackPer)
		}
		p("\n")
	}

	for _, tr := range []string{"http", "http-stateless", "stdio"} {
		pr := r.profile(servers.Switchboard, tr)
		if pr == nil {
			continue
		}
		baseTr := tr
		switch tr {
		case "http":
			p("## Profile: Switchboard server under load, Streamable HTTP\n\n")
			p("%d sessions; ", pr.Sessions)
		case "http-stateless":
			p("## Profile: Switchboard server under load, Streamable HTTP stateless (%s)\n\n", servers.StatelessProtocolVersion)
			p("%d workers sending %s requests (no sessions); the baseline column is the baseline's Streamable HTTP profile above (it serves both modes alike); ", pr.Sessions, servers.StatelessProtocolVersion)
			baseTr = "http"
		default:
			p("## Profile: Switchboard server under load, stdio\n\n")
			p("one session, %d requests in flight; ", pr.Sessions)
		}
		p("CPU profile over %v from the server's side endpoint (`/debug/pprof/profile`), ", pr.Duration)
		p("allocations as the difference of two `/debug/pprof/allocs` snapshots around it; %.0f calls/s while profiling.\n\n", pr.CallsPerS)
		if len(pr.ByArea) > 0 {
			bp := r.profile(servers.Baseline, baseTr)
			p("Flat CPU by area, and per call (profile samples ÷ calls served while profiling)")
			if bp != nil {
				p(", next to the baseline profiled the same way (%.0f calls/s)", bp.CallsPerS)
			}
			p(":\n\n| area | Switchboard flat | Switchboard per call | baseline per call | difference |\n|---|---:|---:|---:|---:|\n")
			shown := map[string]bool{}
			var sbTotal, blTotal time.Duration
			for _, a := range pr.ByArea {
				sbTotal += a.PerCall(pr)
				var bl time.Duration
				if bp != nil {
					if i := slices.IndexFunc(bp.ByArea, func(x AreaShare) bool { return x.Area == a.Area }); i >= 0 {
						bl = bp.ByArea[i].PerCall(bp)
					}
				}
				if a.Percent < 0.5 {
					continue
				}
				shown[a.Area] = true
				p("| %s | %.1f%% | %s | %s | %s |\n", a.Area, a.Percent, fmtDur(a.PerCall(pr)), fmtDurOr(bl, bp != nil), fmtDiff(a.PerCall(pr)-bl, bp != nil))
			}
			if bp != nil {
				for _, a := range bp.ByArea {
					blTotal += a.PerCall(bp)
					if !shown[a.Area] && a.Percent >= 2 {
						p("| %s | – | – | %s | %s |\n", a.Area, fmtDur(a.PerCall(bp)), fmtDiff(-a.PerCall(bp), true))
					}
				}
			}
			p("| **total** | 100%% | %s | %s | %s |\n\n", fmtDur(sbTotal), fmtDurOr(blTotal, bp != nil), fmtDiff(sbTotal-blTotal, bp != nil))
		}
		p("`go tool pprof -top` (CPU):\n\n```\n%s\n```\n\n", pr.CPUTop)
		p("`go tool pprof -top -sample_index=alloc_space` (allocated during the load):\n\n```\n%s\n```\n\n", pr.AllocTop)
		p("`go tool pprof -top -sample_index=alloc_objects`:\n\n```\n%s\n```\n\n", pr.ObjectsTop)
	}
	r.gatewayProfiles(&b)
	if a := strings.TrimSpace(o.Analysis); a != "" {
		p("%s\n\n", a)
	}

	p("## Method\n\n")
	p("- Servers: `bench/cmd/servers`, one child process per configuration on 127.0.0.1, each registering one tool `echo` (`{\"text\": string}` required) that returns its text as one text block. ")
	p("Switchboard: `mcp.AddTool` (typed, validated) behind `streamable.NewHandler` / `ServeStream`. mcp-go: builder DSL and untyped handler, `NewStreamableHTTPServer` at its defaults (input validation off, its default; on in the in-process table) / `StdioServer`. ")
	p("go-sdk: `mcp.AddTool` (typed, validated), `NewStreamableHTTPHandler` at its defaults (SSE-framed responses) / `IOTransport`. ")
	p("Baseline: an `http.HandlerFunc` that decodes the JSON-RPC message with `encoding/json` and encodes the same response; on stdio a plain read-decode-encode loop that flushes when no input is buffered. No MCP.\n")
	p("- Load client: one process (`bench/cmd/harness`) on `net/http`'s `Transport` with keep-alive and an idle pool sized to the sessions. ")
	p("In the stateful rows each worker is a full MCP session (initialize, notifications/initialized, then tools/call in a loop with `Mcp-Session-Id` and `MCP-Protocol-Version: %s`); ", servers.ProtocolVersion)
	p("every mode uses ")
	p("precomputed request bodies with the id patched in place and reused buffers; a call counts only if the response is 200 and carries the echoed text. ")
	p("Stateless mode, peers: the same handshake, then calls without a session id; the servers run go-sdk `Stateless: true` and mcp-go `WithStateLess(true)`. ")
	p("Stateless mode, Switchboard: the same `streamable.NewHandler` as the stateful rows (one handler serves both revisions) and a revision %s client, as Switchboard's own client with `ProtocolVersion: \"%s\"` behaves: `server/discover` once per worker (checked to offer %s), no initialize, then each `tools/call` a precomputed body with `_meta` (`io.modelcontextprotocol/protocolVersion`, `clientCapabilities` `{}`, `clientInfo`) and the headers `MCP-Protocol-Version`, `Mcp-Method: tools/call`, `Mcp-Name: echo`; a call counts only if the response is 200, carries the echoed text and `\"resultType\":\"complete\"`. ",
		servers.StatelessProtocolVersion, servers.StatelessProtocolVersion, servers.StatelessProtocolVersion)
	p("stdio: one session per child, a writer keeping N requests in flight and a reader matching responses by id.\n")
	p("- Latency is per call, from before the request is written to the end of the response body; p50/p99 over all calls of a round. ")
	p("Server CPU per call is the child's user+system time from `/proc/PID/stat` over the round divided by the calls in it. ")
	p("*other load* is the CPU used by everything else on the machine during the round (from `/proc/stat`, minus client and server), in cores: other work competing with the benchmark.\n")
	p("- Rounds are interleaved: for each configuration every implementation's server is started and its sessions opened, then round 1 runs for each implementation in turn, then round 2 (in a rotated order), and so on, so that changes in the machine's other load fall on all implementations alike. A round is preceded by a warm-up under the same load (1 s before the first, 0.5 s before the others) that is not measured.\n")
	r.gatewayMethod(&b)
	r.clientMethod(&b)
	p("- Every row is the median of the rounds; the JSON next to the report (`bench/results.json`) has every round.\n\n")
	p("## Rerun\n\n```sh\n%s\n```\n\n", orDash(r.Command))
	p("`make -C bench bench-quick` runs every part briefly (a couple of minutes) as a smoke test; `go test ./...` in `bench/` runs it for about a second per part. ")
	p("`make -C bench bench-gateway` runs only the gateway rows (with the direct row and the profiles they are compared with) and writes its report into `bench/bin/`; `make -C bench peers` installs the peer gateways (the bench targets try it, and the harness skips a peer that is missing).\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// otherLoadRange returns the lowest and highest other load (in cores) of
// the measured load rows.
func (r *Results) otherLoadRange() (lo, hi float64, ok bool) {
	for _, l := range r.Load {
		if l.Status != "" || len(l.Rounds) == 0 {
			continue
		}
		if !ok || l.OtherCores < lo {
			lo = l.OtherCores
		}
		if !ok || l.OtherCores > hi {
			hi = l.OtherCores
		}
		ok = true
	}
	return lo, hi, ok
}

func (r *Results) profile(impl, transport string) *Profile {
	for _, p := range r.Profiles {
		if p.Impl == impl && p.Transport == transport {
			return p
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// loadTable writes one table of load results with ratios to the baseline.
func (r *Results) loadTable(b *strings.Builder, mode, title, clientsLabel string) {
	rows := slices.DeleteFunc(slices.Clone(r.Load), func(x Result) bool { return x.Mode != mode })
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "## %s\n\n", title)
	if mode == "http-stateless" {
		fmt.Fprintf(b, "The baseline keeps no state in either mode (same handler, same client path), so its stateful figures are repeated here. ")
		fmt.Fprintf(b, "Switchboard is served by its one Streamable HTTP handler and its client speaks revision %s: one `server/discover` per worker, then every `tools/call` carries the version, client capabilities and client info in `_meta` and the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers, and counts only with `resultType: \"complete\"`. ", servers.StatelessProtocolVersion)
		fmt.Fprintf(b, "mcp-go and go-sdk run their stateless modes, which are revision %s servers that issue no session ids: the client initializes, then calls without a session id. ", servers.ProtocolVersion)
		fmt.Fprintf(b, "So the rows compare each implementation's way of serving without sessions, not the same wire protocol.\n\n")
	}
	fmt.Fprintf(b, "| implementation | %s | calls/s | × baseline | p50 | × | p99 | × | server CPU/call | × | errors | other load |\n", clientsLabel)
	fmt.Fprintf(b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, x := range rows {
		if x.Status != "" {
			fmt.Fprintf(b, "| %s | %d | %s | | | | | | | | | |\n", x.Impl, x.Clients, x.Status)
			continue
		}
		base, ok := r.load(mode, servers.Baseline, x.Clients)
		if !ok {
			base = Result{}
		}
		fmt.Fprintf(b, "| %s | %d | %.0f | %s | %s | %s | %s | %s | %s | %s | %d | %.2f cores |\n",
			x.Impl, x.Clients, x.CallsPerS, ratio(x.CallsPerS, base.CallsPerS),
			fmtDur(x.P50), ratio(float64(x.P50), float64(base.P50)),
			fmtDur(x.P99), ratio(float64(x.P99), float64(base.P99)),
			fmtDur(x.CPUPerCall), ratio(float64(x.CPUPerCall), float64(base.CPUPerCall)),
			x.Errors, x.OtherCores)
	}
	fmt.Fprintf(b, "\n")
}
