// Command scale measures how the gateway's throughput scales from one
// instance to two on a CPU-bound tool (docs/scale-out.md): each instance
// is a "switchboard serve --cluster-redis" process pinned with taskset to
// its own core, fronting this program's own stdio upstream (a tool that
// hashes for a fixed number of rounds, which inherits the pinning), and
// sharing a redis-server. The load generator sends 2026-07-28 tools/call
// requests (no session: any instance serves any request), round robin over
// the instances, from a fixed number of workers, and reports calls per
// second for one and for two instances and their ratio.
//
//	go run ./cmd/scale -bin ../bin/switchboard
//
// On a machine with two cores the load generator shares them with the
// instances; the tool's work per call (-rounds) is chosen large against
// the generator's cost per call, which the report also gives.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "upstream" {
		if err := upstream(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	bin := flag.String("bin", "../bin/switchboard", "the switchboard binary")
	rounds := flag.Int("rounds", 60000, "SHA-256 rounds of the tool per call (its CPU cost)")
	workers := flag.Int("workers", 4, "concurrent requests (two per instance keep a CPU-bound tool busy; more only add scheduling)")
	dur := flag.Duration("duration", 5*time.Second, "measured time per configuration")
	warm := flag.Duration("warmup", 2*time.Second, "warm-up time per configuration")
	min := flag.Float64("min-ratio", 0, "exit 1 when two instances do not reach this multiple of one's throughput")
	repeat := flag.Int("repeat", 3, "measure each configuration this many times, alternating, and keep the best (the machine may be shared)")
	flag.Parse()
	if err := run(*bin, *rounds, *workers, *dur, *warm, *min, *repeat); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

// burnIn is the tool's input.
type burnIn struct {
	Rounds int `json:"rounds"`
}

// upstream serves the CPU-bound tool over stdio.
func upstream() error {
	s := mcp.NewServer(protocol.Implementation{Name: "scale-bench-upstream", Version: "0"}, nil)
	mcp.AddTool(s, &protocol.Tool{Name: "burn", Description: "hashes for the given number of SHA-256 rounds"},
		func(_ context.Context, _ *mcp.Request, in burnIn) (string, error) {
			sum := sha256.Sum256([]byte("switchboard"))
			for range in.Rounds {
				sum = sha256.Sum256(sum[:])
			}
			return base64.StdEncoding.EncodeToString(sum[:8]), nil
		})
	return s.ServeStdio(context.Background())
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func start(name string, args ...string) (*proc, error) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *proc) stop() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func waitReady(addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + addr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready", addr)
}

func run(bin string, rounds, workers int, dur, warm time.Duration, minRatio float64, repeat int) error {
	if runtime.NumCPU() < 2 {
		return errors.New("needs two cores")
	}
	for _, p := range []string{"taskset", "redis-server"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is not installed", p)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "switchboard-scale-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	raddr := freeAddr()
	_, rport, _ := net.SplitHostPort(raddr)
	redis, err := start("redis-server", "--port", rport, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err != nil {
		return err
	}
	defer redis.stop()
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	keys := filepath.Join(dir, "keys.json")
	os.WriteFile(keys, []byte(`{"primary":"k","keys":[{"id":"k","secret":"`+secret+`"}]}`), 0o600)
	cfg := filepath.Join(dir, "config.json")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`{"mcpServers":{"cpu":{"command":%q,"args":["upstream"]}}}`, self)), 0o600)

	measure := func(n int) (float64, error) {
		var addrs []string
		var procs []*proc
		defer func() {
			for _, p := range procs {
				p.stop()
			}
		}()
		for i := range n {
			addr := freeAddr()
			p, err := start("taskset", "-c", fmt.Sprint(i), bin, "serve", "--addr", addr, "--config", cfg,
				"--data-dir", filepath.Join(dir, fmt.Sprint("data", n, i)), "--cluster-redis", "redis://"+raddr+"/0", "--session-keys", keys)
			if err != nil {
				return 0, err
			}
			procs = append(procs, p)
			addrs = append(addrs, addr)
		}
		for _, a := range addrs {
			if err := waitReady(a); err != nil {
				return 0, err
			}
		}
		return load(addrs, rounds, workers, dur, warm)
	}
	var one, two float64
	var ones, twos []string
	for range max(repeat, 1) {
		o, err := measure(1)
		if err != nil {
			return err
		}
		t, err := measure(2)
		if err != nil {
			return err
		}
		one, two = max(one, o), max(two, t)
		ones, twos = append(ones, fmt.Sprintf("%.1f", o)), append(twos, fmt.Sprintf("%.1f", t))
	}
	fmt.Printf("scale: runs, 1 instance: %s; 2 instances: %s (best kept)\n", strings.Join(ones, " "), strings.Join(twos, " "))
	ratio := two / one
	fmt.Printf("scale: CPU-bound tool (%d SHA-256 rounds per call), %d workers, %s measured after %s warm-up, %d CPUs\n", rounds, workers, dur, warm, runtime.NumCPU())
	fmt.Printf("scale: 1 instance (core 0):        %8.1f calls/s\n", one)
	fmt.Printf("scale: 2 instances (cores 0 and 1): %8.1f calls/s\n", two)
	fmt.Printf("scale: ratio %.2fx\n", ratio)
	if minRatio > 0 && ratio < minRatio {
		return fmt.Errorf("two instances reached %.2fx of one, want at least %.2fx", ratio, minRatio)
	}
	return nil
}

// load sends calls round robin over addrs and returns calls per second.
func load(addrs []string, rounds, workers int, dur, warm time.Duration) (float64, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": map[string]any{
		"name": "burn", "arguments": map[string]any{"rounds": rounds},
		"_meta": map[string]any{
			"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
			"io.modelcontextprotocol/clientCapabilities": map[string]any{},
			"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "scale", "version": "0"},
		}}})
	var (
		counting atomic.Bool
		calls    atomic.Int64
		next     atomic.Int64
		failed   atomic.Value
	)
	ctx, cancel := context.WithTimeout(context.Background(), warm+dur)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				addr := addrs[int(next.Add(1))%len(addrs)]
				req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/mcp", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
				req.Header.Set("Mcp-Method", "tools/call")
				req.Header.Set("Mcp-Name", "burn")
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed.Store(err)
					}
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(b), `"result"`) {
					failed.Store(fmt.Errorf("HTTP %d: %s", resp.StatusCode, b))
					return
				}
				if counting.Load() {
					calls.Add(1)
				}
			}
		})
	}
	time.Sleep(warm)
	counting.Store(true)
	t0 := time.Now()
	wg.Wait()
	el := time.Since(t0)
	if err, _ := failed.Load().(error); err != nil {
		return 0, err
	}
	return float64(calls.Load()) / el.Seconds(), nil
}
