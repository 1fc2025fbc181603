// Command harness runs the side-by-side benchmark of Switchboard, mcp-go,
// go-sdk and a plain net/http baseline, and of Switchboard's gateway next
// to other MCP gateways, and writes BENCHMARKS.md.
//
//	harness -servers bin/servers -clientload bin/clientload -out ../BENCHMARKS.md -json results.json
//	harness -quick                      # every part, briefly (~1 minute)
//	harness -render results.json -out ../BENCHMARKS.md   # report only
//	harness -skip stateful,stateless,stdio,idle,inproc,client   # the gateway rows only
//
// Without -servers it builds the servers command itself, and without
// -clientload the clientload command (the client side). See package
// harness for what is measured.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/harness"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

func run() error {
	quick := flag.Bool("quick", false, "short rounds of every part (smoke test)")
	serversBin := flag.String("servers", "", "servers command (default: build ./cmd/servers)")
	clientBin := flag.String("clientload", "", "clientload command, for the client side (default: build ./cmd/clientload)")
	modDir := flag.String("moddir", ".", "bench module directory")
	out := flag.String("out", "", "write the Markdown report here (default: stdout)")
	jsonOut := flag.String("json", "", "write the results as JSON here")
	analysis := flag.String("analysis", "", "Markdown file included in the report after the profile")
	render := flag.String("render", "", "only render the report from this results JSON")
	regroup := flag.Bool("regroup", false, "with -render: recompute the profiles' areas from their raw profiles (if still on disk) and rewrite the JSON")
	command := flag.String("command", "", "command line recorded in the report (default: this one)")
	impls := flag.String("impls", "", "comma-separated implementations (default: all)")
	sessions := flag.String("sessions", "", "comma-separated session counts for HTTP (default 1,16,64)")
	inflight := flag.String("stdio-inflight", "", "comma-separated requests in flight for stdio (default 1,16)")
	idle := flag.String("idle", "", "comma-separated idle session counts (default 1000,10000)")
	rounds := flag.Int("rounds", 0, "rounds per configuration (default 3)")
	duration := flag.Duration("duration", 0, "length of a round (default 5s)")
	warmup := flag.Duration("warmup", -1, "warm-up before the first round (default 1s)")
	quietWait := flag.Duration("quiet-wait", 0, "wait up to this long before each configuration for other load to fall below 0.3 cores (total bounded by 20s)")
	profileDur := flag.Duration("profile-duration", 0, "length of each server CPU profile (default 4s)")
	cpuProfile := flag.String("cpuprofile", "", "write the load client's own CPU profile here")
	skip := flag.String("skip", "", "comma-separated parts to skip: stateful,stateless,stdio,gateway,client,idle,inproc,profile")
	peers := flag.String("peers", "", "comma-separated peer gateways for the gateway rows, or none (default: "+strings.Join(harness.GatewayPeers, ",")+")")
	gwArgs := flag.String("gateway-args", "", "space-separated flags added to Switchboard's gateway command (`servers gateway`), for experiments")
	peerBin := flag.String("peer-bin-dir", "", "directory of the TBXark/mcp-proxy binary (default: bin under -moddir)")
	peerNode := flag.String("peer-node-dir", "", "directory of the npm peers' node_modules (default: peers under -moddir)")
	flag.Parse()

	opts := harness.ReportOptions{}
	if *analysis != "" {
		b, err := os.ReadFile(*analysis)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		opts.Analysis = string(b)
	}
	if *render != "" {
		b, err := os.ReadFile(*render)
		if err != nil {
			return err
		}
		var res harness.Results
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("%s: %w", *render, err)
		}
		if *regroup {
			n, err := res.Regroup(context.Background())
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "regrouped %d profiles\n", n)
			b, err := json.MarshalIndent(&res, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(*render, append(b, '\n'), 0o644); err != nil {
				return err
			}
		}
		return writeReport(&res, *out, opts)
	}

	cfg := harness.FullConfig()
	if *quick {
		cfg = harness.QuickConfig()
	}
	cfg.ModDir = *modDir
	cfg.Log = os.Stderr
	cfg.Command = *command
	if cfg.Command == "" {
		cfg.Command = "cd bench && " + strings.Join(os.Args, " ")
	}
	if *impls != "" {
		cfg.Impls = strings.Split(*impls, ",")
	}
	var err error
	if cfg.Sessions, err = intsFlag(*sessions, cfg.Sessions); err != nil {
		return err
	}
	if cfg.StdioInflight, err = intsFlag(*inflight, cfg.StdioInflight); err != nil {
		return err
	}
	if cfg.IdleSessions, err = intsFlag(*idle, cfg.IdleSessions); err != nil {
		return err
	}
	if *rounds > 0 {
		cfg.Rounds = *rounds
	}
	if *duration > 0 {
		cfg.Duration = *duration
	}
	if *quietWait > 0 {
		cfg.QuietWait = *quietWait
	}
	if *profileDur > 0 {
		cfg.ProfileDuration = *profileDur
	}
	if *warmup >= 0 {
		cfg.Warmup = *warmup
	}
	for _, s := range strings.Split(*skip, ",") {
		switch strings.TrimSpace(s) {
		case "":
		case "stateful":
			cfg.Stateful = false
		case "stateless":
			cfg.Stateless = false
		case "stdio":
			cfg.Stdio = false
		case "idle":
			cfg.Idle = false
		case "inproc":
			cfg.InProc = false
		case "profile":
			cfg.Profile = false
		case "gateway":
			cfg.Gateway = false
		case "client":
			cfg.Client = false
		default:
			return fmt.Errorf("unknown part %q in -skip", s)
		}
	}

	switch *peers {
	case "":
	case "none":
		cfg.GatewayPeers = nil
	default:
		cfg.GatewayPeers = strings.Split(*peers, ",")
	}
	cfg.PeerBinDir, cfg.PeerNodeDir = *peerBin, *peerNode
	cfg.GatewayArgs = strings.Fields(*gwArgs)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var tmp string
	build := func(pkg, name string) (string, error) {
		if tmp == "" {
			dir, err := os.MkdirTemp("", "switchboard-bench-")
			if err != nil {
				return "", err
			}
			tmp = dir
		}
		bin := filepath.Join(tmp, name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		cmd.Dir = *modDir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("building the %s command: %w", name, err)
		}
		return bin, nil
	}
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	bin := *serversBin
	if bin == "" {
		if bin, err = build("./cmd/servers", "servers"); err != nil {
			return err
		}
	}
	if cfg.Client {
		cbin := *clientBin
		if cbin == "" {
			if cbin, err = build("./cmd/clientload", "clientload"); err != nil {
				return err
			}
		}
		cfg.ClientCmd = []string{cbin}
	}
	cfg.ServerCmd = []string{bin}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	start := time.Now()
	res, err := harness.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "done in %v\n", time.Since(start).Round(time.Second))
	if *jsonOut != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return writeReport(res, *out, opts)
}

func writeReport(res *harness.Results, path string, opts harness.ReportOptions) error {
	if path == "" {
		return res.WriteMarkdown(os.Stdout, opts)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := res.WriteMarkdown(f, opts); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", path)
	return f.Close()
}

func intsFlag(s string, def []int) ([]int, error) {
	if s == "" {
		return def, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}
