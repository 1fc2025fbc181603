package scaletest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/cluster/seal"
)

// binary is the switchboard binary built by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("SWITCHBOARD_SCALE_REQUIRED") == "" && os.Getenv("SWITCHBOARD_SCALE") == "" {
		// They start a dozen processes: "make scale" runs them, not every
		// "go test ./...".
		fmt.Println("scaletest: skipped (make scale runs these tests; or set SWITCHBOARD_SCALE=1)")
		return 0
	}
	dir, err := os.MkdirTemp("", "switchboard-scale-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", binary, "github.com/switchboard-mcp/switchboard/cmd/switchboard").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building switchboard: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitPort(t testing.TB, addr string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not open: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// need skips the test when a program is missing (the Makefile's
// scale-deps target installs them).
func need(t testing.TB, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		if os.Getenv("SWITCHBOARD_SCALE_REQUIRED") != "" {
			t.Fatalf("%s is not installed (make scale-deps)", prog)
		}
		t.Skipf("%s is not installed (make scale-deps installs it)", prog)
	}
	return p
}

// startRedis runs redis-server on a free loopback port.
func startRedis(t testing.TB) (url string, proc *exec.Cmd) {
	t.Helper()
	bin := need(t, "redis-server")
	port := freePort(t)
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitPort(t, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	return fmt.Sprintf("redis://127.0.0.1:%d/0", port), cmd
}

// writeKeys writes a key set file.
func writeKeys(t testing.TB, path, primary string, keys ...seal.Key) {
	t.Helper()
	data, err := json.Marshal(seal.KeySet{Primary: primary, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// lockedBuffer collects a process's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// instance is one gateway process on a fixed port (a restart reuses it,
// as a pod keeps its Service endpoint).
type instance struct {
	t      testing.TB
	name   string
	addr   string
	args   []string
	cpu    string   // taskset CPU list, or ""
	env    []string // added to the environment
	mu     sync.Mutex
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
}

func newInstance(t testing.TB, name string, args ...string) *instance {
	return &instance{t: t, name: name, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), args: args}
}

func (in *instance) start() {
	in.t.Helper()
	args := append([]string{"serve", "--addr", in.addr}, in.args...)
	var cmd *exec.Cmd
	if in.cpu != "" {
		cmd = exec.Command("taskset", append([]string{"-c", in.cpu, binary}, args...)...)
	} else {
		cmd = exec.Command(binary, args...)
	}
	buf := &lockedBuffer{}
	cmd.Stderr = buf
	if in.env != nil {
		cmd.Env = append(os.Environ(), in.env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	in.mu.Lock()
	in.cmd, in.stderr, in.done = cmd, buf, done
	in.mu.Unlock()
	in.t.Cleanup(func() { in.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if r, err := http.Get("http://" + in.addr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
		select {
		case <-done:
			in.t.Fatalf("%s exited: %s", in.name, buf.String())
		default:
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("%s not ready: %s", in.name, buf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process and its children (the stdio upstreams) with
// SIGKILL.
func (in *instance) kill() {
	in.mu.Lock()
	cmd, done := in.cmd, in.done
	in.mu.Unlock()
	if cmd == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

// term sends SIGTERM and waits for the process to exit (bounded).
func (in *instance) term(d time.Duration) error {
	in.mu.Lock()
	cmd, done := in.cmd, in.done
	in.mu.Unlock()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftover children
		return nil
	case <-time.After(d):
		in.kill()
		return fmt.Errorf("%s did not exit within %s of SIGTERM", in.name, d)
	}
}

func (in *instance) logs() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.stderr == nil {
		return ""
	}
	return in.stderr.String()
}

// startHAProxy balances round robin over backends, with no stickiness, and
// checks /readyz so that a draining instance stops getting new work.
func startHAProxy(t testing.TB, backends []*instance) string {
	t.Helper()
	bin := need(t, "haproxy")
	port := freePort(t)
	var b strings.Builder
	fmt.Fprintf(&b, `global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout http-request 10s
    retries 3
    option redispatch
    retry-on conn-failure empty-response
frontend mcp
    bind 127.0.0.1:%d
    default_backend gateways
backend gateways
    balance roundrobin
    option httpchk GET /readyz
    default-server inter 300ms fall 1 rise 2
`, port)
	for i, in := range backends {
		fmt.Fprintf(&b, "    server g%d %s check\n", i, in.addr)
	}
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	log := &lockedBuffer{}
	cmd.Stderr = log
	cmd.Stdout = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy log:\n%s", log.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitPort(t, addr, 10*time.Second)
	return addr
}

// cluster is N gateway instances sharing a redis-server, behind haproxy.
type cluster struct {
	redisURL  string
	redis     *exec.Cmd
	keysFile  string
	instances []*instance
	lb        string // host:port of the balancer
}

func startCluster(t testing.TB, n int, extra ...string) *cluster {
	t.Helper()
	need(t, "haproxy")
	url, proc := startRedis(t)
	c := startClusterWith(t, n, url, extra...)
	c.redis = proc
	return c
}

// startClusterWith starts the instances on a Redis already running.
func startClusterWith(t testing.TB, n int, redisURL string, extra ...string) *cluster {
	t.Helper()
	return startClusterEnv(t, n, redisURL, nil, extra...)
}

// startClusterEnv is startClusterWith with env added to the instances'
// environment.
func startClusterEnv(t testing.TB, n int, redisURL string, env []string, extra ...string) *cluster {
	t.Helper()
	need(t, "haproxy")
	c := &cluster{redisURL: redisURL}
	c.keysFile = filepath.Join(t.TempDir(), "session-keys.json")
	writeKeys(t, c.keysFile, "k1", seal.GenerateKey("k1"))
	for i := range n {
		args := append([]string{"--cluster-redis", c.redisURL, "--session-keys", c.keysFile, "--drain-delay", "700ms"}, extra...)
		in := newInstance(t, fmt.Sprintf("gateway-%d", i), args...)
		in.env = env
		c.instances = append(c.instances, in)
	}
	var wg sync.WaitGroup
	for _, in := range c.instances {
		wg.Go(in.start)
	}
	wg.Wait()
	c.lb = startHAProxy(t, c.instances)
	t.Cleanup(func() {
		if t.Failed() {
			for _, in := range c.instances {
				t.Logf("%s log (tail):\n%s", in.name, tail(in.logs(), 3000))
			}
		}
	})
	return c
}

func (c *cluster) url() string { return "http://" + c.lb + "/mcp" }

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func mustJSON(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}
