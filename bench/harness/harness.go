// Package harness runs the side-by-side benchmark: it starts each
// implementation's server as a child process (the servers command), drives
// it with one load client, measures idle sessions, runs the in-process
// benchmarks, profiles Switchboard under load and writes the results as
// JSON and as BENCHMARKS.md. Its gateway rows put Switchboard's gateway
// (the servers command's gateway mode) and peer gateways, when installed,
// in front of the Switchboard echo server and compare them with that
// server called directly. Its client side runs each SDK's own client (the
// clientload command, one process per round) against one Switchboard echo
// server and compares the CPU the client processes spend per call.
package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/servers"
)

// Config sets what the harness measures and how long.
type Config struct {
	// ServerCmd is the servers command and leading arguments; the harness
	// appends -impl, -transport and the mode flags.
	ServerCmd []string
	// ServerEnv is added to the children's environment.
	ServerEnv []string
	// ClientCmd is the clientload command and leading arguments (the
	// client side); the harness appends -impl, -url, -sessions, -warmup
	// and -duration. ClientEnv is added to its environment.
	ClientCmd []string
	ClientEnv []string
	// ModDir is the bench module's directory, where the in-process
	// benchmarks run with go test.
	ModDir string

	Impls         []string      // implementations to measure; baseline is always first
	Sessions      []int         // concurrent sessions over Streamable HTTP
	StdioInflight []int         // requests in flight over stdio
	IdleSessions  []int         // idle session counts, ascending
	Rounds        int           // measurement rounds per configuration
	Duration      time.Duration // length of one round
	Warmup        time.Duration // load before the first round

	// Stateful, Stateless, Stdio, Idle, InProc and Profile select parts.
	Stateful, Stateless, Stdio, Idle, InProc, Profile bool
	// Gateway selects the gateway rows: tools/call through Switchboard's
	// gateway and the peer gateways (Streamable HTTP at the gateway) to
	// the Switchboard echo server over stdio and over Streamable HTTP, at
	// each of Sessions, next to the same server called directly. With
	// Profile, Switchboard's gateway is profiled too.
	Gateway bool
	// GatewayPeers names the peer gateways to measure with the gateway
	// rows (of the GatewayPeers variable); those not installed are skipped
	// with a note in the report.
	GatewayPeers []string
	// GatewayArgs are added to the command line of Switchboard's gateway
	// (`servers gateway`), for experiments; recorded in the results.
	GatewayArgs []string
	// Client selects the client side: Switchboard's, go-sdk's and
	// mcp-go's clients (those of them in Impls) calling one Switchboard
	// echo server over Streamable HTTP at each of ClientSessions, each
	// measured by its own clientload process (ClientCmd).
	Client         bool
	ClientSessions []int
	// PeerBinDir holds the TBXark/mcp-proxy binary (TBXarkBinary) and
	// PeerNodeDir the npm peers (node_modules) and loopback.cjs; default
	// ModDir/bin and ModDir/peers, where `make peers` installs them.
	PeerBinDir, PeerNodeDir string

	// QuietWait is how long to wait, before each load configuration, for
	// the machine's other work to fall below QuietCores (0: don't wait).
	// QuietBudget bounds the total of those waits over the run.
	QuietWait   time.Duration
	QuietCores  float64
	QuietBudget time.Duration
	quietSpent  time.Duration

	InProcCount     int    // go test -count
	InProcBenchtime string // go test -benchtime
	ProfileDuration time.Duration

	// Command is the command line recorded in the report.
	Command string
	// Log receives progress lines (nil: discarded).
	Log io.Writer
}

// FullConfig returns the configuration of `make bench`.
func FullConfig() Config {
	return Config{
		Impls:         slices.Clone(servers.Names),
		Sessions:      []int{1, 16, 64},
		StdioInflight: []int{1, 16},
		IdleSessions:  []int{1000, 10000},
		Rounds:        3,
		Duration:      5 * time.Second,
		Warmup:        time.Second,
		Stateful:      true, Stateless: true, Stdio: true, Idle: true, InProc: true, Profile: true,
		Gateway:         true,
		Client:          true,
		ClientSessions:  []int{1, 16},
		GatewayPeers:    slices.Clone(GatewayPeers),
		InProcCount:     3,
		InProcBenchtime: "500ms",
		ProfileDuration: 4 * time.Second,
		QuietWait:       0, // interleaved rounds already spread other load; -quiet-wait turns it on
		QuietCores:      0.3,
		QuietBudget:     20 * time.Second,
	}
}

// QuickConfig returns the configuration of `make bench-quick`: every part,
// with short rounds, for smoke tests (about a minute).
func QuickConfig() Config {
	c := FullConfig()
	c.Rounds = 1
	c.Duration = time.Second
	c.Warmup = 200 * time.Millisecond
	c.Sessions = []int{1, 16}
	c.IdleSessions = []int{200}
	c.InProcCount = 1
	c.InProcBenchtime = "100ms"
	c.ProfileDuration = 2 * time.Second
	c.QuietWait = 0
	return c
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUModel  string   `json:"cpuModel"`
	Cores     int      `json:"cores"`
	GoVersion string   `json:"goVersion"`
	OS        string   `json:"os"`
	Modules   []string `json:"modules"` // module@version of the peers
	// GatewayPeers are the peer gateways measured, with their versions.
	GatewayPeers []string `json:"gatewayPeers,omitempty"`
	Commit       string   `json:"commit"` // Switchboard's git commit
	LoadBefore   string   `json:"loadBefore"`
	LoadAfter    string   `json:"loadAfter"`
}

// Results is everything one run measured.
type Results struct {
	Started  time.Time     `json:"started"`
	Elapsed  time.Duration `json:"elapsed"`
	Command  string        `json:"command"`
	Machine  Machine       `json:"machine"`
	Rounds   int           `json:"rounds"`
	Duration time.Duration `json:"roundDuration"`
	Load     []Result      `json:"load"`
	Idle     []IdleResult  `json:"idle"`
	InProc   []BenchResult `json:"inProcess"`
	// Profiles are Switchboard's and, for comparison per area, the
	// baseline's, under the same load, per transport.
	Profiles []*Profile `json:"profiles,omitempty"`
	Problems []string   `json:"problems,omitempty"`
	// Notes say what was skipped and why (peer gateways not installed).
	Notes []string `json:"notes,omitempty"`
	// GatewayArgs are the extra flags Switchboard's gateway ran with
	// (Config.GatewayArgs).
	GatewayArgs []string `json:"gatewayArgs,omitempty"`
	// Client are the client side's results (absent from runs before it
	// existed).
	Client []ClientResult `json:"client,omitempty"`
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
}

// Run measures everything cfg selects. Failures of single configurations
// are recorded in the results (Status, Problems) rather than ending the
// run; an error is returned only when the run as a whole cannot go on.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	if len(cfg.ServerCmd) == 0 {
		return nil, errors.New("harness: no server command")
	}
	if cfg.Rounds <= 0 || cfg.Duration <= 0 {
		return nil, errors.New("harness: rounds and duration must be positive")
	}
	impls := []string{servers.Baseline}
	for _, i := range cfg.Impls {
		if !servers.Known(i) {
			return nil, fmt.Errorf("harness: unknown implementation %q", i)
		}
		if i != servers.Baseline {
			impls = append(impls, i)
		}
	}
	for _, p := range cfg.GatewayPeers {
		if !containsFold(GatewayPeers, p) {
			return nil, fmt.Errorf("harness: unknown peer gateway %q (want some of %v)", p, GatewayPeers)
		}
	}
	if cfg.PeerBinDir == "" {
		cfg.PeerBinDir = filepath.Join(cfg.ModDir, "bin")
	}
	if cfg.PeerNodeDir == "" {
		cfg.PeerNodeDir = filepath.Join(cfg.ModDir, "peers")
	}
	res := &Results{Started: time.Now(), Command: cfg.Command, Rounds: cfg.Rounds, Duration: cfg.Duration, GatewayArgs: cfg.GatewayArgs}
	res.Machine = describeMachine(cfg.ModDir)
	problem := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		res.Problems = append(res.Problems, msg)
		cfg.logf("PROBLEM: %s", msg)
	}

	type mode struct {
		name      string
		enabled   bool
		transport string
		flags     []string
		clients   []int
		unit      string
	}
	modes := []mode{
		{"http", cfg.Stateful, "http", nil, cfg.Sessions, "sessions"},
		{"http-stateless", cfg.Stateless, "http", []string{"-stateless"}, cfg.Sessions, "sessions"},
		{"stdio", cfg.Stdio, "stdio", nil, cfg.StdioInflight, "in flight"},
	}
	for _, m := range modes {
		if !m.enabled {
			continue
		}
		mimpls := impls
		if m.name == "http-stateless" && cfg.Stateful {
			// The baseline keeps no state in either mode: the same handler
			// and the same client path, so its stateful figures stand for
			// both.
			mimpls = impls[1:]
		}
		unsupported := map[string]bool{}
		for _, n := range m.clients {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if m.name == "http-stateless" && cfg.Stateful {
				if r, ok := res.load("http", servers.Baseline, n); ok {
					r.Mode = m.name
					res.Load = append(res.Load, r)
				}
			}
			cfg.logf("%s, %d %s: %v, %d interleaved rounds of %v", m.name, n, m.unit, mimpls, cfg.Rounds, cfg.Duration)
			waitQuiet(ctx, &cfg)
			for _, r := range runInterleaved(ctx, &cfg, m.name, m.transport, m.flags, mimpls, n, unsupported, problem) {
				if r.Status == "" {
					cfg.logf("  %-12s %7.0f calls/s  p50 %-10v p99 %-10v server CPU/call %-10v errors %d  other load %.2f cores",
						r.Impl, r.CallsPerS, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.CPUPerCall.Round(100*time.Nanosecond), r.Errors, r.OtherCores)
				} else {
					cfg.logf("  %-12s %s", r.Impl, r.Status)
				}
				res.Load = append(res.Load, r)
			}
		}
	}

	if cfg.Gateway {
		if err := runGateways(ctx, &cfg, res, problem); err != nil {
			return res, err
		}
	}

	if cfg.Client {
		if err := runClientSide(ctx, &cfg, res, problem); err != nil {
			return res, err
		}
	}

	if cfg.Idle && len(cfg.IdleSessions) > 0 {
		for _, impl := range impls {
			cfg.logf("idle sessions %s %v", impl, cfg.IdleSessions)
			c, err := startChild(ctx, &cfg, false, "-impl", impl, "-transport", "http")
			if err != nil {
				problem("idle %s: %v", impl, err)
				continue
			}
			idle, err := runIdle(ctx, c, impl, cfg.IdleSessions)
			c.stop()
			for _, r := range idle {
				cfg.logf("  %d sessions: %.0f B heap, %.3f goroutines per session", r.Sessions, r.HeapPerSession, r.GoroutinesPer)
			}
			res.Idle = append(res.Idle, idle...)
			if err != nil {
				problem("idle %s: %v", impl, err)
			}
		}
	}

	if cfg.InProc {
		cfg.logf("in-process benchmarks (go test -count %d -benchtime %s)", cfg.InProcCount, cfg.InProcBenchtime)
		b, err := runInProc(ctx, &cfg)
		if err != nil {
			problem("in-process benchmarks: %v", err)
		}
		res.InProc = b
	}

	if cfg.Profile && slices.Contains(impls, servers.Switchboard) {
		for _, tr := range []string{"http", "http-stateless", "stdio"} {
			enabled := map[string]bool{"http": cfg.Stateful || cfg.Gateway, "http-stateless": cfg.Stateless, "stdio": cfg.Stdio}
			if !enabled[tr] {
				continue
			}
			for _, impl := range []string{servers.Switchboard, servers.Baseline} {
				if tr == "http-stateless" && impl == servers.Baseline {
					continue // the same server and client path as over http
				}
				if tr == "http" && !cfg.Stateful && impl == servers.Baseline {
					continue // only the direct server, for the gateway's profile
				}
				cfg.logf("profiling %s over %s under load (16 sessions or in flight, %v)", impl, tr, cfg.ProfileDuration)
				p, err := runProfile(ctx, &cfg, impl, tr)
				if err != nil {
					problem("profile of %s over %s: %v", impl, tr, err)
					continue
				}
				res.Profiles = append(res.Profiles, p)
			}
		}
	}
	if cfg.Profile && cfg.Gateway {
		for _, up := range []string{UpstreamStdio, UpstreamHTTP} {
			cfg.logf("profiling Switchboard's gateway, %s upstream, under load (16 sessions, %v)", up, cfg.ProfileDuration)
			p, err := runGatewayProfile(ctx, &cfg, up)
			if err != nil {
				problem("profile of the gateway with a %s upstream: %v", up, err)
				continue
			}
			res.Profiles = append(res.Profiles, p)
		}
	}
	res.Machine.LoadAfter = loadAvg()
	res.Elapsed = time.Since(res.Started)
	return res, nil
}

// runInterleaved measures one load configuration for every
// implementation: it starts a fresh server child for each, opens the
// sessions, then runs round r of every implementation before round r+1 of
// any (in an order rotated each round), so that changes in the machine's
// other load fall on all of them alike. Implementations found unsupported
// are remembered in unsupported and skipped at later levels.
func runInterleaved(ctx context.Context, cfg *Config, mode, transport string, flags, impls []string, clients int,
	unsupported map[string]bool, problem func(string, ...any)) []Result {
	entries := make([]entry, len(impls))
	for i, impl := range impls {
		entries[i].res = Result{Impl: impl, Mode: mode, Clients: clients, Protocol: servers.ProtocolVersion}
		if mode == "http-stateless" {
			entries[i].res.Protocol = protocolOf(statelessMode(impl))
		}
		if unsupported[impl] {
			entries[i].res.Status = statusNotYet
			continue
		}
		entries[i].open = func() (target, error) { return newTarget(ctx, cfg, impl, transport, flags, clients) }
	}
	results := runEntries(ctx, cfg, entries, problem)
	for _, r := range results {
		if r.Status == statusNotYet {
			unsupported[r.Impl] = true
		}
	}
	return results
}

// entry is one row of a load configuration: its result so far, and how to
// start its target (nil when res.Status already says why it is not
// measured).
type entry struct {
	res  Result
	open func() (target, error)
}

// runEntries starts every entry's target, then runs round r of every
// target before round r+1 of any, in an order rotated each round, and
// returns each entry's result: the medians of its rounds, or a Status.
func runEntries(ctx context.Context, cfg *Config, entries []entry, problem func(string, ...any)) []Result {
	results := make([]Result, len(entries))
	targets := make([]target, len(entries))
	defer func() {
		for _, t := range targets {
			if t != nil {
				t.close()
			}
		}
	}()
	label := func(r Result) string {
		if r.Upstream != "" {
			return fmt.Sprintf("%s %s (%s upstream) at %d", r.Mode, r.Impl, r.Upstream, r.Clients)
		}
		return fmt.Sprintf("%s %s at %d", r.Mode, r.Impl, r.Clients)
	}
	for i, e := range entries {
		results[i] = e.res
		if e.open == nil || results[i].Status != "" {
			continue
		}
		t, err := e.open()
		switch {
		case errors.Is(err, errUnsupported):
			results[i].Status = statusNotYet
		case err != nil:
			results[i].Status = "failed"
			problem("%s: %v", label(results[i]), err)
		default:
			targets[i] = t
			if p, ok := t.(interface{ protocol() string }); ok && p.protocol() != "" {
				results[i].Protocol = p.protocol()
			}
		}
	}
	rounds := make([][]RoundStats, len(entries))
	for r := range cfg.Rounds {
		warmup := cfg.Warmup
		if r > 0 {
			warmup = cfg.Warmup / 2 // connections and caches are warm already
		}
		for j := range entries {
			i := (j + r) % len(entries)
			if targets[i] == nil {
				continue
			}
			st, err := targets[i].round(ctx, warmup, cfg.Duration)
			if err != nil {
				if ctx.Err() != nil {
					return results
				}
				results[i].Status = "failed"
				problem("%s, round %d: %v", label(results[i]), r+1, err)
				targets[i].close()
				targets[i] = nil
				continue
			}
			rounds[i] = append(rounds[i], st)
		}
	}
	for i := range entries {
		if results[i].Status == "" {
			medianResult(&results[i], rounds[i])
		}
	}
	return results
}

// statusNotYet marks a mode an implementation does not have.
const statusNotYet = "n/a (not yet)"

// newTarget starts a fresh server child for impl and prepares its load.
func newTarget(ctx context.Context, cfg *Config, impl, transport string, flags []string, clients int) (target, error) {
	args := append([]string{"-impl", impl, "-transport", transport}, flags...)
	c, err := startChild(ctx, cfg, transport == "stdio", args...)
	if err != nil {
		return nil, err
	}
	if transport == "stdio" {
		return newStdioTarget(ctx, c, clients)
	}
	mode := modeSession
	if slices.Contains(flags, "-stateless") {
		mode = statelessMode(impl)
	}
	t, err := newHTTPTarget(ctx, c, clients, mode)
	if err != nil {
		c.stop()
		return nil, err
	}
	return t, nil
}

// waitQuiet waits up to cfg.QuietWait for the CPU used by other processes
// to fall below cfg.QuietCores, sampled over half-second windows.
func waitQuiet(ctx context.Context, cfg *Config) {
	if cfg.QuietWait <= 0 || cfg.quietSpent >= cfg.QuietBudget {
		return
	}
	start := time.Now()
	defer func() { cfg.quietSpent += time.Since(start) }()
	deadline := start.Add(min(cfg.QuietWait, cfg.QuietBudget-cfg.quietSpent))
	for {
		b0, err := systemBusy()
		if err != nil {
			return
		}
		self0, _ := procCPUTime(os.Getpid())
		if sleepCtx(ctx, 500*time.Millisecond) != nil {
			return
		}
		b1, err := systemBusy()
		if err != nil {
			return
		}
		self1, _ := procCPUTime(os.Getpid())
		cores := ((b1 - b0) - (self1 - self0)).Seconds() / 0.5
		if cores < cfg.QuietCores {
			return
		}
		if time.Now().After(deadline) {
			cfg.logf("  machine still busy (%.2f cores used by others); measuring anyway", cores)
			return
		}
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func describeMachine(modDir string) Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, LoadBefore: loadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	m.GoVersion = runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if strings.Contains(d.Path, "mcp-go") || strings.Contains(d.Path, "go-sdk") {
				m.Modules = append(m.Modules, d.Path+" "+d.Version)
			}
		}
	}
	if len(m.Modules) == 0 {
		m.Modules = modulesFromGoMod(modDir)
	}
	dir := modDir
	if dir == "" {
		dir = "."
	}
	if out, err := exec.Command("git", "-C", filepath.Join(dir, ".."), "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
		// Only the main module's packages that the servers link matter.
		args := []string{"-C", filepath.Join(dir, ".."), "status", "--porcelain", "--untracked-files=no", "--"}
		args = append(args, linkedPaths...)
		if out, err := exec.Command("git", args...).Output(); err == nil {
			var dirty []string
			for line := range strings.Lines(string(out)) {
				if f := strings.Fields(line); len(f) >= 2 {
					dirty = append(dirty, f[len(f)-1])
				}
			}
			if len(dirty) > 0 {
				m.Commit += " + uncommitted changes in " + strings.Join(dirty, ", ")
			}
		}
	}
	return m
}

// linkedPaths are the parts of the main module that the servers command
// links, relative to its root.
var linkedPaths = []string{"go.mod", "go.sum", "mcp", "transport", "jsonrpc", "jsonschema", "protocol", "internal", "gateway"}

// modulesFromGoMod reads the peers' versions from the bench go.mod (for
// test binaries, whose build info lists no dependencies).
func modulesFromGoMod(modDir string) []string {
	b, err := os.ReadFile(filepath.Join(modDir, "go.mod"))
	if err != nil {
		return nil
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		for i, w := range f {
			if (strings.HasSuffix(w, "/mcp-go") || strings.HasSuffix(w, "/go-sdk")) && i+1 < len(f) {
				out = append(out, w+" "+f[i+1])
			}
		}
	}
	return out
}
