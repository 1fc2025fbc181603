package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/clients"
	"github.com/switchboard-mcp/switchboard/bench/servers"
)

// ClientResult is the median over rounds of one client implementation at
// one session count, calling the Switchboard echo server (the client
// side: the CPU the client process spends per call).
type ClientResult struct {
	Impl     string `json:"impl"`
	Sessions int    `json:"sessions"`
	Status   string `json:"status"` // "" when measured, else why not
	// Protocol is the revision the sessions negotiated.
	Protocol   string        `json:"protocol,omitempty"`
	CallsPerS  float64       `json:"callsPerSecond"`
	CPUPerCall time.Duration `json:"cpuPerCall"` // the client process's
	P50        time.Duration `json:"p50"`
	P99        time.Duration `json:"p99"`
	Errors     int64         `json:"errors"`
	// Rounds are the clientload command's outputs, one per round.
	Rounds []clients.Stats `json:"rounds"`
}

// clientLoadGrace is how long a clientload process may take beyond its
// warm-up and measured window (opening its sessions, closing them) before
// it is killed.
const clientLoadGrace = time.Minute

// runClientSide measures the client side: one Switchboard echo server over
// Streamable HTTP, and for each of cfg.ClientSessions a clientload process
// per client implementation and round, rounds interleaved across the
// implementations (in an order rotated each round).
func runClientSide(ctx context.Context, cfg *Config, res *Results, problem func(string, ...any)) error {
	var impls []string
	for _, impl := range clients.Impls {
		if slices.Contains(cfg.Impls, impl) {
			impls = append(impls, impl)
		}
	}
	if len(impls) == 0 || len(cfg.ClientSessions) == 0 {
		return nil
	}
	if len(cfg.ClientCmd) == 0 {
		problem("client side: no clientload command")
		return nil
	}
	srv, err := startChild(ctx, cfg, false, "-impl", servers.Switchboard, "-transport", "http")
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		problem("client side: starting the Switchboard server: %v", err)
		return nil
	}
	defer srv.stop()
	for _, n := range cfg.ClientSessions {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows := make([]ClientResult, len(impls))
		rounds := make([][]clients.Stats, len(impls))
		for i, impl := range impls {
			rows[i] = ClientResult{Impl: impl, Sessions: n}
		}
		cfg.logf("client side, %d sessions: %v clients to one Switchboard server, %d interleaved rounds of %v", n, impls, cfg.Rounds, cfg.Duration)
		waitQuiet(ctx, cfg)
		for r := range cfg.Rounds {
			for j := range impls {
				i := (j + r) % len(impls)
				if rows[i].Status != "" {
					continue
				}
				st, err := runClientLoad(ctx, cfg, impls[i], srv.mcpURL, n)
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					rows[i].Status = "failed"
					problem("client side: %s client at %d sessions, round %d: %v", impls[i], n, r+1, err)
					continue
				}
				rounds[i] = append(rounds[i], st)
			}
		}
		for i := range rows {
			if rows[i].Status == "" {
				medianClient(&rows[i], rounds[i])
				cfg.logf("  %-12s %7.0f calls/s  client CPU/call %-10v p50 %-10v p99 %-10v errors %d",
					rows[i].Impl, rows[i].CallsPerS, rows[i].CPUPerCall.Round(100*time.Nanosecond), rows[i].P50.Round(time.Microsecond), rows[i].P99.Round(time.Microsecond), rows[i].Errors)
			} else {
				cfg.logf("  %-12s %s", rows[i].Impl, rows[i].Status)
			}
		}
		res.Client = append(res.Client, rows...)
	}
	return nil
}

// runClientLoad runs the clientload command once: impl's client, n
// sessions to url, cfg.Warmup then cfg.Duration measured, and returns
// the line it printed.
func runClientLoad(ctx context.Context, cfg *Config, impl, url string, n int) (clients.Stats, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Warmup+cfg.Duration+clientLoadGrace)
	defer cancel()
	argv := append(slices.Clone(cfg.ClientCmd), "-impl", impl, "-url", url, "-sessions", strconv.Itoa(n),
		"-warmup", cfg.Warmup.String(), "-duration", cfg.Duration.String())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), cfg.ClientEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout bytes.Buffer
	stderr := &tailBuffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("no result after %v", cfg.Warmup+cfg.Duration+clientLoadGrace)
		}
		return clients.Stats{}, fmt.Errorf("%s: %v: %s", argv[0], err, stderr)
	}
	line := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	var st clients.Stats
	if err := json.Unmarshal(line, &st); err != nil {
		return st, fmt.Errorf("reading the output of %s: %v: %q", argv[0], err, line)
	}
	if st.Impl != impl || st.Sessions != n {
		return st, fmt.Errorf("%s measured %s at %d sessions, want %s at %d", argv[0], st.Impl, st.Sessions, impl, n)
	}
	if st.Calls <= 0 || st.CPU <= 0 {
		return st, errors.New("clientload measured no calls or no CPU time")
	}
	return st, nil
}

// medianClient fills a ClientResult with the medians of its rounds.
func medianClient(r *ClientResult, rounds []clients.Stats) {
	r.Rounds = rounds
	pick := func(f func(clients.Stats) float64) float64 {
		v := make([]float64, len(rounds))
		for i, s := range rounds {
			v[i] = f(s)
		}
		return median(v)
	}
	r.CallsPerS = pick(func(s clients.Stats) float64 { return s.CallsPerS })
	r.CPUPerCall = time.Duration(pick(func(s clients.Stats) float64 { return float64(s.CPUPerCall) }))
	r.P50 = time.Duration(pick(func(s clients.Stats) float64 { return float64(s.P50) }))
	r.P99 = time.Duration(pick(func(s clients.Stats) float64 { return float64(s.P99) }))
	for _, s := range rounds {
		r.Errors += s.Errors
		if r.Protocol == "" {
			r.Protocol = s.Protocol
		}
	}
}

// clientRow returns the measured client result of impl at n sessions.
func (r *Results) clientRow(impl string, n int) (ClientResult, bool) {
	i := slices.IndexFunc(r.Client, func(x ClientResult) bool { return x.Impl == impl && x.Sessions == n })
	if i < 0 || r.Client[i].Status != "" || r.Client[i].CPUPerCall <= 0 {
		return ClientResult{}, false
	}
	return r.Client[i], true
}

// fastestClientPeer returns the peer client (go-sdk or mcp-go) with the
// least CPU per call at n sessions.
func (r *Results) fastestClientPeer(n int) (ClientResult, bool) {
	var best ClientResult
	ok := false
	for _, impl := range clients.Impls {
		if impl == servers.Switchboard {
			continue
		}
		if c, found := r.clientRow(impl, n); found && (!ok || c.CPUPerCall < best.CPUPerCall) {
			best, ok = c, true
		}
	}
	return best, ok
}

// clientSessionCounts returns the session counts of the client results,
// ascending.
func (r *Results) clientSessionCounts() []int {
	var ns []int
	for _, c := range r.Client {
		if !slices.Contains(ns, c.Sessions) {
			ns = append(ns, c.Sessions)
		}
	}
	slices.Sort(ns)
	return ns
}

// clientTarget evaluates the client-side target: Switchboard's client CPU
// per call ≤ 0.7× the faster peer client's, at every session count.
func (r *Results) clientTarget() Target {
	t := Target{Name: "client CPU per call ≤ 0.7× the faster of go-sdk and mcp-go (1 and 16 sessions)", Met: notMeasured}
	var parts []string
	all, any := true, false
	for _, n := range r.clientSessionCounts() {
		s, ok1 := r.clientRow(servers.Switchboard, n)
		p, ok2 := r.fastestClientPeer(n)
		if !ok1 || !ok2 {
			continue
		}
		any = true
		x := float64(s.CPUPerCall) / float64(p.CPUPerCall)
		all = all && x <= 0.7
		parts = append(parts, fmt.Sprintf("%d: %s vs %s %s = %.2f×", n, fmtDur(s.CPUPerCall), p.Impl, fmtDur(p.CPUPerCall), x))
	}
	if any {
		t.Measured, t.Met = strings.Join(parts, "; "), verdict(all)
	}
	return t
}

// clientTable writes the client-side section.
func (r *Results) clientTable(b *strings.Builder) {
	if len(r.Client) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Client side: tools/call from each SDK's client to the same Switchboard server\n\n")
	p("The CPU a client process spends per `tools/call`: Switchboard's client is what the gateway uses for every upstream call. ")
	p("One Switchboard echo server (Streamable HTTP, the stateful rows' server) serves every row; each round is a fresh `bench/cmd/clientload` process that opens the sessions with the SDK's own client, ")
	p("checks one call on each, warms up, then calls `echo` with one call in flight per session and measures its own user+system time (`getrusage(RUSAGE_SELF)`) over exactly the measured window. ")
	p("*× faster peer* is the row's client CPU per call over the lower of go-sdk's and mcp-go's at the same session count (the target is ≤ 0.70× for Switchboard). ")
	p("Calls/s and latency depend on the server too, which is the same for every row.\n\n")
	p("| client | sessions | calls/s | client CPU/call | × faster peer | p50 | p99 | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range r.Client {
		if c.Status != "" {
			p("| %s | %d | %s | | | | | |\n", c.Impl, c.Sessions, c.Status)
			continue
		}
		x := "–"
		if peer, ok := r.fastestClientPeer(c.Sessions); ok {
			x = ratio(float64(c.CPUPerCall), float64(peer.CPUPerCall))
		}
		name := c.Impl
		if name == servers.Switchboard {
			name = "**switchboard**"
		}
		p("| %s | %d | %.0f | %s | %s | %s | %s | %d |\n", name, c.Sessions, c.CallsPerS, fmtDur(c.CPUPerCall), x, fmtDur(c.P50), fmtDur(c.P99), c.Errors)
	}
	p("\n")
}

// clientMethod writes the client side's bullet of the method section.
func (r *Results) clientMethod(b *strings.Builder) {
	if len(r.Client) == 0 {
		return
	}
	fmt.Fprintf(b, "- Client side: `bench/cmd/clientload` (package `bench/clients`) with each SDK's own client at its defaults, every session initializing with %s: ", servers.ProtocolVersion)
	fmt.Fprintf(b, "Switchboard `mcp.NewClient` + `Connect` over `streamable.NewDialer` (what the gateway's `transport/auto` dials), `CallTool` with the arguments as raw JSON; ")
	fmt.Fprintf(b, "go-sdk `NewClient` + `Connect` over `StreamableClientTransport`, `CallTool` with `json.RawMessage` arguments; ")
	fmt.Fprintf(b, "mcp-go `client.NewStreamableHttpClient` + `Start` + `Initialize`, `CallTool` with `json.RawMessage` arguments. ")
	fmt.Fprintf(b, "Switchboard's and go-sdk's clients open the standalone GET stream after initialize (their default), mcp-go's does not (its default). ")
	fmt.Fprintf(b, "The sessions of a process share one `net/http` client with keep-alive and an idle pool sized to them, so that no client pays for new connections; ")
	fmt.Fprintf(b, "a call counts only if its result is one text block carrying the text back. The clients and the server share the machine's cores.\n")
}
