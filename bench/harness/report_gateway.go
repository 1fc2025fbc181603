package harness

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/servers"
)

// Gateway targets, from issue 11.
const (
	// GatewayMinDirectRatio: calls/s through the gateway at 16 sessions
	// against the same server direct.
	GatewayMinDirectRatio = 0.75
	// GatewayMaxAddedP50: p50 through the gateway minus direct, at 1
	// session.
	GatewayMaxAddedP50 = 150 * time.Microsecond
	// GatewayMinPeerRatio: calls/s at 16 sessions against the fastest peer
	// gateway with the same upstream transport.
	GatewayMinPeerRatio = 1.6
)

// gatewayLoad returns the gateway row of impl with upstream at clients
// sessions (upstream "" for the direct row).
func (r *Results) gatewayLoad(impl, upstream string, clients int) (Result, bool) {
	i := slices.IndexFunc(r.Load, func(x Result) bool {
		return x.Mode == ModeGateway && x.Impl == impl && x.Upstream == upstream && x.Clients == clients
	})
	if i < 0 || r.Load[i].Status != "" {
		return Result{}, false
	}
	return r.Load[i], true
}

func (r *Results) hasGatewayRows() bool {
	return slices.ContainsFunc(r.Load, func(x Result) bool { return x.Mode == ModeGateway })
}

// upstreamLabel names an upstream transport in the report.
func upstreamLabel(up string) string {
	if up == UpstreamHTTP {
		return "Streamable HTTP"
	}
	return up
}

// gatewayTargets evaluates the gateway's targets: per upstream transport,
// calls/s at 16 sessions against direct, added p50 at 1 session, and
// calls/s at 16 sessions against the fastest peer.
func (r *Results) gatewayTargets() []Target {
	if !r.hasGatewayRows() {
		return nil
	}
	var ts []Target
	for _, up := range []string{UpstreamStdio, UpstreamHTTP} {
		t := Target{Name: fmt.Sprintf("gateway, %s upstream: tools/call at 16 sessions ≥ %.2f× direct", upstreamLabel(up), GatewayMinDirectRatio), Met: notMeasured}
		g, okG := r.gatewayLoad(GatewaySwitchboard, up, 16)
		d, okD := r.gatewayLoad(GatewayDirect, "", 16)
		if okG && okD && d.CallsPerS > 0 {
			x := g.CallsPerS / d.CallsPerS
			t.Measured, t.Met = fmt.Sprintf("%.0f vs %.0f calls/s = %.2f×", g.CallsPerS, d.CallsPerS, x), verdict(x >= GatewayMinDirectRatio)
		}
		ts = append(ts, t)
	}
	for _, up := range []string{UpstreamStdio, UpstreamHTTP} {
		t := Target{Name: fmt.Sprintf("gateway, %s upstream: added p50 at 1 session ≤ %s", upstreamLabel(up), fmtDur(GatewayMaxAddedP50)), Met: notMeasured}
		g, okG := r.gatewayLoad(GatewaySwitchboard, up, 1)
		d, okD := r.gatewayLoad(GatewayDirect, "", 1)
		if okG && okD {
			added := g.P50 - d.P50
			t.Measured, t.Met = fmt.Sprintf("%s vs %s direct = %s", fmtDur(g.P50), fmtDur(d.P50), fmtDiff(added, true)), verdict(added <= GatewayMaxAddedP50)
		}
		ts = append(ts, t)
	}
	for _, up := range []string{UpstreamStdio, UpstreamHTTP} {
		t := Target{Name: fmt.Sprintf("gateway, %s upstream: tools/call at 16 sessions ≥ %.1f× the fastest peer gateway", upstreamLabel(up), GatewayMinPeerRatio), Met: notMeasured}
		g, okG := r.gatewayLoad(GatewaySwitchboard, up, 16)
		var best Result
		for _, peer := range GatewayPeers {
			if p, ok := r.gatewayLoad(peer, up, 16); ok && p.CallsPerS > best.CallsPerS {
				best = p
			}
		}
		switch {
		case okG && best.CallsPerS > 0:
			x := g.CallsPerS / best.CallsPerS
			t.Measured, t.Met = fmt.Sprintf("%.0f vs %.0f calls/s (%s) = %.2f×", g.CallsPerS, best.CallsPerS, best.Impl, x), verdict(x >= GatewayMinPeerRatio)
		case okG:
			t.Measured = "no peer gateway with a " + upstreamLabel(up) + " upstream measured in this run"
		}
		ts = append(ts, t)
	}
	return ts
}

// gatewayTables writes the gateway rows: one table per upstream
// transport, each with the direct row at every session count.
func (r *Results) gatewayTables(b *strings.Builder) {
	if !r.hasGatewayRows() {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	for _, up := range []string{UpstreamStdio, UpstreamHTTP} {
		rows := slices.DeleteFunc(slices.Clone(r.Load), func(x Result) bool {
			return x.Mode != ModeGateway || x.Upstream != up && x.Impl != GatewayDirect
		})
		if !slices.ContainsFunc(rows, func(x Result) bool { return x.Upstream == up }) {
			continue
		}
		p("## Gateway: tools/call through a gateway, upstream over %s\n\n", upstreamLabel(up))
		p("Streamable HTTP at the gateway (the same load client as the other tables, one MCP session per worker), and behind it the same Switchboard echo server as the *direct* row, ")
		if up == UpstreamHTTP {
			p("started on its own and reached over Streamable HTTP. ")
		} else {
			p("started by the gateway as its child process and reached over stdio. ")
		}
		p("*direct* is that server called over Streamable HTTP without a gateway, measured in the same interleaved rounds; every ratio is to it at the same session count. ")
		p("*CPU/call, all* is the CPU time of every process serving the row (gateway, upstream and any other child process) per call; *gateway alone* leaves out the upstream and other child processes.\n\n")
		p("| gateway | sessions | protocol | calls/s | × direct | p50 | added p50 | p99 | × direct | CPU/call, all | × direct | gateway alone | errors | other load |\n")
		p("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, x := range rows {
			if x.Status != "" {
				p("| %s | %d | | %s | | | | | | | | | | |\n", x.Impl, x.Clients, x.Status)
				continue
			}
			d, ok := r.gatewayLoad(GatewayDirect, "", x.Clients)
			if !ok {
				d = Result{}
			}
			added := "–"
			if ok && x.Impl != GatewayDirect {
				added = fmtDiff(x.P50-d.P50, true)
			}
			name := x.Impl
			if x.Impl == GatewaySwitchboard {
				name = "**switchboard**"
			}
			p("| %s | %d | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %d | %.2f cores |\n",
				name, x.Clients, orDash(x.Protocol), x.CallsPerS, ratio(x.CallsPerS, d.CallsPerS),
				fmtDur(x.P50), added, fmtDur(x.P99), ratio(float64(x.P99), float64(d.P99)),
				fmtDur(x.CPUPerCall), ratio(float64(x.CPUPerCall), float64(d.CPUPerCall)),
				fmtDur(x.FrontCPUPerCall), x.Errors, x.OtherCores)
		}
		p("\n")
	}
	if len(r.Notes) > 0 {
		p("Not measured in this run:\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
		p("\n")
	}
}

// gatewayProfiles writes the profiles of Switchboard's gateway process.
func (r *Results) gatewayProfiles(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	for _, up := range []string{UpstreamStdio, UpstreamHTTP} {
		pr := r.profile(GatewaySwitchboard, ModeGateway+"-"+up)
		if pr == nil {
			continue
		}
		p("## Profile: Switchboard's gateway under load, upstream over %s\n\n", upstreamLabel(up))
		p("%d sessions through the gateway; CPU profile of the gateway process alone (not its upstream) over %v from its side endpoint, ", pr.Sessions, pr.Duration)
		p("allocations as the difference of two `/debug/pprof/allocs` snapshots around it; %.0f calls/s while profiling.\n\n", pr.CallsPerS)
		direct := r.profile(servers.Switchboard, "http")
		if len(pr.ByArea) > 0 {
			p("Flat CPU by area, and per call (profile samples ÷ calls served while profiling)")
			if direct != nil {
				p(", next to the Switchboard server called directly over Streamable HTTP, profiled the same way (%.0f calls/s)", direct.CallsPerS)
			}
			p(":\n\n| area | gateway flat | gateway per call | direct server per call | difference |\n|---|---:|---:|---:|---:|\n")
			var gwTotal, dTotal time.Duration
			shown := map[string]bool{}
			for _, a := range pr.ByArea {
				gwTotal += a.PerCall(pr)
				var d time.Duration
				if direct != nil {
					if i := slices.IndexFunc(direct.ByArea, func(x AreaShare) bool { return x.Area == a.Area }); i >= 0 {
						d = direct.ByArea[i].PerCall(direct)
					}
				}
				if a.Percent < 0.5 {
					continue
				}
				shown[a.Area] = true
				p("| %s | %.1f%% | %s | %s | %s |\n", a.Area, a.Percent, fmtDur(a.PerCall(pr)), fmtDurOr(d, direct != nil), fmtDiff(a.PerCall(pr)-d, direct != nil))
			}
			if direct != nil {
				for _, a := range direct.ByArea {
					dTotal += a.PerCall(direct)
					if !shown[a.Area] && a.Percent >= 2 {
						p("| %s | – | – | %s | %s |\n", a.Area, fmtDur(a.PerCall(direct)), fmtDiff(-a.PerCall(direct), true))
					}
				}
			}
			p("| **total** | 100%% | %s | %s | %s |\n\n", fmtDur(gwTotal), fmtDurOr(dTotal, direct != nil), fmtDiff(gwTotal-dTotal, direct != nil))
		}
		p("`go tool pprof -top -cum` (CPU, cumulative: where the gateway's time goes, callers included):\n\n```\n%s\n```\n\n", pr.CumTop)
		p("`go tool pprof -top` (CPU, flat):\n\n```\n%s\n```\n\n", pr.CPUTop)
		p("`go tool pprof -top -sample_index=alloc_space` (allocated during the load):\n\n```\n%s\n```\n\n", pr.AllocTop)
		p("`go tool pprof -top -sample_index=alloc_objects`:\n\n```\n%s\n```\n\n", pr.ObjectsTop)
	}
}

// gatewayMethod describes how the gateway rows are measured.
func (r *Results) gatewayMethod(b *strings.Builder) {
	if !r.hasGatewayRows() {
		return
	}
	fmt.Fprintf(b, "- Gateway rows: for each session count, one interleaved set of rounds holds the direct row (a fresh Switchboard echo server, `-impl switchboard -transport http`), ")
	fmt.Fprintf(b, "then every gateway in front of a fresh echo server of its own over each upstream transport it supports. The upstream is always the Switchboard echo server of the other rows: over stdio the gateway starts it (`servers -impl switchboard -transport stdio`); over Streamable HTTP the harness starts it and gives the gateway its URL. ")
	fmt.Fprintf(b, "Switchboard's gateway runs in `servers gateway` (`bench/servers/gateway.go`): `gateway.New` with that one upstream at its defaults (shared upstream session, default HTTP client; one upstream, so no name prefix) and `g.Handler()` on loopback, as `switchboard serve` runs it. ")
	fmt.Fprintf(b, "TBXark/mcp-proxy: its JSON config with one server `echo` and `\"type\": \"streamable-http\"`, served at `/echo/mcp` (it serves that endpoint without sessions, mcp-go's `WithStateLess(true)`, so the client initializes and then calls without a session id). ")
	fmt.Fprintf(b, "mcp-proxy (npm): `mcp-proxy --host 127.0.0.1 --port P -- <upstream command>`, `/mcp`. supergateway: `--stdio <upstream command> --outputTransport streamableHttp --stateful --port P --logLevel none` (one upstream process per client session), with `bench/peers/loopback.cjs` preloaded so that it listens on 127.0.0.1 rather than every interface. ")
	fmt.Fprintf(b, "Peers run at their defaults otherwise, from `make -C bench peers` (TBXark/mcp-proxy built from the Go module proxy at the version pinned in `bench/peers/tbxark/go.mod`; the npm peers and Node from `bench/peers/package-lock.json`); a peer that is not installed is skipped with a note. ")
	fmt.Fprintf(b, "A peer's session is initialized with revision %s and continues with the revision it answers (the *protocol* column). CPU per call counts every process serving the row with its descendants (`/proc`), so a gateway's stdio upstreams are included.\n", servers.ProtocolVersion)
}
