package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/switchboard-mcp/switchboard/bench/servers"
)

// ModeGateway is the mode of the gateway rows: tools/call through a
// gateway (Streamable HTTP at the gateway) to the Switchboard echo server
// behind it, next to the same server called directly.
const ModeGateway = "gateway"

// Names of the gateway rows (Result.Impl in ModeGateway).
const (
	// GatewayDirect is the Switchboard echo server called directly over
	// Streamable HTTP: what the gateway rows are compared with.
	GatewayDirect = "direct"
	// GatewaySwitchboard is Switchboard's gateway (package gateway).
	GatewaySwitchboard = "switchboard"
	// GatewayTBXark is TBXark/mcp-proxy (Go, on mcp-go).
	GatewayTBXark = "TBXark/mcp-proxy"
	// GatewayMCPProxy is punkpeye's mcp-proxy (npm).
	GatewayMCPProxy = "mcp-proxy (npm)"
	// GatewaySupergateway is supergateway (npm).
	GatewaySupergateway = "supergateway"
)

// Transports between a gateway and its upstream (Result.Upstream).
const (
	UpstreamStdio = "stdio"
	UpstreamHTTP  = "http"
)

// GatewayPeers lists the peer gateways the harness knows, in the order of
// the report.
var GatewayPeers = []string{GatewayTBXark, GatewayMCPProxy, GatewaySupergateway}

// upstreamSpec is the server behind a gateway: the Switchboard echo
// server, started by the gateway over stdio (argv, env) or by the harness
// over Streamable HTTP (url).
type upstreamSpec struct {
	transport string
	argv      []string // stdio: the command, with an absolute path
	env       []string // stdio: added to the upstream's environment
	url       string   // http: its endpoint
}

// installed is where a gateway was found.
type installed struct {
	argv    []string // the command before its own arguments
	version string   // for the report
}

// gatewayImpl is a gateway the harness can run.
type gatewayImpl struct {
	name      string
	upstreams []string   // the upstream transports it can relay to
	mode      clientMode // how the load client talks to it
	// find locates it; a non-empty note says why it cannot run.
	find func(cfg *Config) (inst installed, note string)
	// start runs it in front of up and returns it ready, with its
	// Streamable HTTP endpoint in mcpURL.
	start func(ctx context.Context, cfg *Config, inst installed, up upstreamSpec) (*child, error)
}

// gatewayImpls returns Switchboard's gateway and the peers.
func gatewayImpls() []gatewayImpl {
	return []gatewayImpl{
		{
			name: GatewaySwitchboard, upstreams: []string{UpstreamStdio, UpstreamHTTP}, mode: modeSession,
			find: func(cfg *Config) (installed, string) {
				return installed{argv: cfg.ServerCmd, version: "this commit"}, ""
			},
			start: startSwitchboardGateway,
		},
		{
			name: GatewayTBXark, upstreams: []string{UpstreamStdio, UpstreamHTTP}, mode: modeSessionIfAny,
			find:  findTBXark,
			start: startTBXark,
		},
		{
			name: GatewayMCPProxy, upstreams: []string{UpstreamStdio}, mode: modeSessionIfAny,
			find:  findNodePeer("mcp-proxy", "dist/bin/mcp-proxy.mjs"),
			start: startMCPProxy,
		},
		{
			name: GatewaySupergateway, upstreams: []string{UpstreamStdio}, mode: modeSessionIfAny,
			find:  findNodePeer("supergateway", "dist/index.js"),
			start: startSupergateway,
		},
	}
}

// installHint tells how to install the peers.
const installHint = "`make -C bench peers` installs it"

// TBXarkBinary is where `make -C bench peers` builds TBXark/mcp-proxy,
// relative to Config.PeerBinDir.
const TBXarkBinary = "tbxark-mcp-proxy"

func findTBXark(cfg *Config) (installed, string) {
	bin := filepath.Join(cfg.PeerBinDir, TBXarkBinary)
	if _, err := os.Stat(bin); err != nil {
		return installed{}, fmt.Sprintf("not installed (no %s; %s)", bin, installHint)
	}
	v := "?"
	if out, err := exec.Command("go", "version", "-m", bin).Output(); err == nil {
		var mod, dep string
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] == "mod" && strings.EqualFold(f[1], "github.com/TBXark/mcp-proxy") {
				mod = f[2]
			}
			if len(f) >= 3 && f[0] == "dep" && f[1] == "github.com/mark3labs/mcp-go" {
				dep = f[2]
			}
		}
		if mod != "" {
			v = fmt.Sprintf("%s (Go module proxy; mcp-go %s)", mod, dep)
		}
	}
	return installed{argv: []string{bin}, version: v}, ""
}

// findNodePeer returns the find function of an npm peer installed under
// Config.PeerNodeDir: pkg's script, run by the Node pinned there (or the
// one on PATH).
func findNodePeer(pkg, script string) func(cfg *Config) (installed, string) {
	return func(cfg *Config) (installed, string) {
		dir := filepath.Join(cfg.PeerNodeDir, "node_modules", pkg)
		b, err := os.ReadFile(filepath.Join(dir, "package.json"))
		if err != nil {
			return installed{}, fmt.Sprintf("not installed (no %s; %s)", dir, installHint)
		}
		var meta struct {
			Version string `json:"version"`
		}
		_ = json.Unmarshal(b, &meta)
		node := filepath.Join(cfg.PeerNodeDir, "node_modules", "node", "bin", "node")
		if _, err := os.Stat(node); err != nil {
			if node, err = exec.LookPath("node"); err != nil {
				return installed{}, "no Node.js to run it"
			}
		}
		nv := "?"
		if out, err := exec.Command(node, "--version").Output(); err == nil {
			nv = strings.TrimSpace(string(out))
		}
		return installed{argv: []string{node, filepath.Join(dir, script)}, version: fmt.Sprintf("%s (npm; Node %s)", meta.Version, nv)}, ""
	}
}

// startSwitchboardGateway runs `servers gateway`: gateway.New with the
// one upstream and g.Handler() on loopback.
func startSwitchboardGateway(ctx context.Context, cfg *Config, _ installed, up upstreamSpec) (*child, error) {
	args := append([]string{servers.GatewayCommand}, cfg.GatewayArgs...)
	if up.transport == UpstreamHTTP {
		args = append(args, "-upstream-url", up.url)
	} else {
		for _, e := range up.env {
			args = append(args, "-upstream-env", e)
		}
		args = append(append(args, "--"), up.argv...)
	}
	return startChild(ctx, cfg, false, args...)
}

// startTBXark writes TBXark/mcp-proxy's configuration (one server named
// echo, served with "type": "streamable-http" at /echo/mcp) and runs it.
func startTBXark(ctx context.Context, _ *Config, inst installed, up upstreamSpec) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	server := map[string]any{}
	if up.transport == UpstreamHTTP {
		server["url"] = up.url
		server["transportType"] = "streamable-http"
	} else {
		server["command"] = up.argv[0]
		server["args"] = up.argv[1:]
		env := map[string]string{}
		for _, e := range up.env {
			k, v, _ := strings.Cut(e, "=")
			env[k] = v
		}
		server["env"] = env
	}
	conf := map[string]any{
		"mcpProxy": map[string]any{
			"baseURL": "http://" + addr, "addr": addr, "name": "tbxark", "version": "0",
			"type": "streamable-http",
		},
		"mcpServers": map[string]any{servers.UpstreamName: server},
	}
	dir, err := os.MkdirTemp("", "switchboard-bench-tbxark-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "config.json")
	b, _ := json.MarshalIndent(conf, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c, err := startProcess(ctx, procSpec{
		argv:     append(append([]string(nil), inst.argv...), "-config", path),
		readyURL: "http://" + addr + "/" + servers.UpstreamName + "/mcp",
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.cleanup = sync.OnceFunc(func() { os.RemoveAll(dir) })
	return c, nil
}

// startMCPProxy runs punkpeye's mcp-proxy in front of the stdio upstream
// (its Streamable HTTP endpoint is /mcp).
func startMCPProxy(ctx context.Context, _ *Config, inst installed, up upstreamSpec) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	argv := append(append([]string(nil), inst.argv...), "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--")
	return startProcess(ctx, procSpec{
		argv:     append(argv, up.argv...),
		env:      up.env,
		readyURL: "http://127.0.0.1:" + strconv.Itoa(port) + "/mcp",
	})
}

// startSupergateway runs supergateway as a stdio to stateful Streamable
// HTTP bridge (a stdio upstream per client session). It listens on every
// interface; peers/loopback.cjs, preloaded, makes it listen on loopback.
func startSupergateway(ctx context.Context, cfg *Config, inst installed, up upstreamSpec) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	quoted := make([]string, len(up.argv))
	for i, a := range up.argv {
		quoted[i] = shellQuote(a)
	}
	preload, err := filepath.Abs(filepath.Join(cfg.PeerNodeDir, "loopback.cjs"))
	if err != nil {
		return nil, err
	}
	argv := []string{inst.argv[0], "--require", preload}
	argv = append(argv, inst.argv[1:]...)
	argv = append(argv, "--stdio", strings.Join(quoted, " "), "--outputTransport", "streamableHttp", "--stateful",
		"--port", strconv.Itoa(port), "--logLevel", "none")
	return startProcess(ctx, procSpec{
		argv:     argv,
		env:      up.env,
		readyURL: "http://127.0.0.1:" + strconv.Itoa(port) + "/mcp",
	})
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// stdioUpstream is the Switchboard echo server as a gateway's stdio
// upstream: the servers command with an absolute path, no side endpoint.
func stdioUpstream(cfg *Config) (upstreamSpec, error) {
	argv := append([]string(nil), cfg.ServerCmd...)
	if !filepath.IsAbs(argv[0]) && strings.ContainsRune(argv[0], filepath.Separator) {
		abs, err := filepath.Abs(argv[0])
		if err != nil {
			return upstreamSpec{}, err
		}
		argv[0] = abs
	}
	argv = append(argv, "-impl", servers.Switchboard, "-transport", "stdio", "-side=")
	return upstreamSpec{transport: UpstreamStdio, argv: argv, env: cfg.ServerEnv}, nil
}

// openGateway starts impl in front of a fresh upstream over transport
// and opens clients sessions on it. An HTTP upstream is a server child of
// its own, stopped with the target; a stdio upstream is the gateway's
// child (its CPU counted with the gateway's process tree).
func openGateway(ctx context.Context, cfg *Config, impl gatewayImpl, inst installed, transport string, clients int) (target, error) {
	var (
		up    upstreamSpec
		upSrv *child
		err   error
	)
	if transport == UpstreamHTTP {
		upSrv, err = startChild(ctx, cfg, false, "-impl", servers.Switchboard, "-transport", "http", "-side=")
		if err != nil {
			return nil, fmt.Errorf("upstream: %w", err)
		}
		up = upstreamSpec{transport: UpstreamHTTP, url: upSrv.mcpURL}
	} else if up, err = stdioUpstream(cfg); err != nil {
		return nil, err
	}
	gw, err := impl.start(ctx, cfg, inst, up)
	if err != nil {
		if upSrv != nil {
			upSrv.stop()
		}
		return nil, err
	}
	t, err := newHTTPTarget(ctx, gw, clients, impl.mode)
	if err != nil {
		gw.stop()
		if upSrv != nil {
			upSrv.stop()
		}
		return nil, err
	}
	if upSrv != nil {
		t.more = []*child{upSrv}
	}
	return t, nil
}

// runGateways measures the gateway rows: for each session count, the
// direct server and every available gateway in front of it over each
// upstream transport it supports, in interleaved rounds.
func runGateways(ctx context.Context, cfg *Config, res *Results, problem func(string, ...any)) error {
	type avail struct {
		impl gatewayImpl
		inst installed
	}
	var gws []avail
	for _, impl := range gatewayImpls() {
		if impl.name != GatewaySwitchboard && !containsFold(cfg.GatewayPeers, impl.name) {
			continue
		}
		inst, note := impl.find(cfg)
		if note != "" {
			msg := fmt.Sprintf("%s: skipped, %s", impl.name, note)
			res.Notes = append(res.Notes, msg)
			cfg.logf("gateway %s", msg)
			continue
		}
		if impl.name != GatewaySwitchboard {
			res.Machine.GatewayPeers = append(res.Machine.GatewayPeers, impl.name+" "+inst.version)
		}
		gws = append(gws, avail{impl, inst})
	}
	for _, n := range cfg.Sessions {
		if err := ctx.Err(); err != nil {
			return err
		}
		entries := []entry{{
			res:  Result{Impl: GatewayDirect, Mode: ModeGateway, Clients: n, Protocol: servers.ProtocolVersion},
			open: func() (target, error) { return newTarget(ctx, cfg, servers.Switchboard, "http", nil, n) },
		}}
		var names []string
		for _, transport := range []string{UpstreamStdio, UpstreamHTTP} {
			for _, g := range gws {
				if !containsFold(g.impl.upstreams, transport) {
					continue
				}
				names = append(names, g.impl.name+"/"+transport)
				entries = append(entries, entry{
					res: Result{Impl: g.impl.name, Mode: ModeGateway, Upstream: transport, Clients: n, Protocol: servers.ProtocolVersion},
					open: func() (target, error) {
						return openGateway(ctx, cfg, g.impl, g.inst, transport, n)
					},
				})
			}
		}
		cfg.logf("gateways, %d sessions: direct + %v, %d interleaved rounds of %v", n, names, cfg.Rounds, cfg.Duration)
		waitQuiet(ctx, cfg)
		for _, r := range runEntries(ctx, cfg, entries, problem) {
			name := r.Impl
			if r.Upstream != "" {
				name += " (" + r.Upstream + ")"
			}
			if r.Status == "" {
				cfg.logf("  %-26s %7.0f calls/s  p50 %-10v p99 %-10v CPU/call %-10v (front %-10v) errors %d  other load %.2f cores",
					name, r.CallsPerS, r.P50.Round(1000), r.P99.Round(1000), r.CPUPerCall.Round(100), r.FrontCPUPerCall.Round(100), r.Errors, r.OtherCores)
			} else {
				cfg.logf("  %-26s %s", name, r.Status)
			}
			res.Load = append(res.Load, r)
		}
	}
	return nil
}

// containsFold reports whether list holds s, ignoring case.
func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
