package scaletest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/cluster/seal"
)

// A 2026-07-28 request through the balancer is served by whichever
// instance gets it, with no session and no shared lookup: it works with
// Redis stopped. Mcp-Method/Mcp-Name must match the body (400 otherwise),
// and GET/DELETE of the modern revision get 405.
func TestStatelessAnyInstance(t *testing.T) {
	c := startCluster(t, 3)
	post := func(method, name, body string) (int, string) {
		req, _ := http.NewRequest("POST", c.url(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", method)
		if name != "" {
			req.Header.Set("Mcp-Name", name)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}`
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},` + meta + `}}`
	tests := []struct {
		name         string
		method, hdrN string
		body         string
		status       int
		want         string
	}{
		{"call", "tools/call", "echo", call, 200, `hi`},
		{"list", "tools/list", "", `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{` + meta + `}}`, 200, `"echo"`},
		{"method header mismatch", "tools/list", "echo", call, 400, `-32020`},
		{"name header mismatch", "tools/call", "add", call, 400, `-32020`},
		{"name header missing", "tools/call", "", call, 400, `-32020`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Three times: each instance in turn.
			for range 3 {
				status, body := post(tt.method, tt.hdrN, tt.body)
				if status != tt.status || !strings.Contains(body, tt.want) {
					t.Fatalf("HTTP %d %s; want %d with %s", status, body, tt.status, tt.want)
				}
			}
		})
	}
	for _, m := range []string{"GET", "DELETE"} {
		req, _ := http.NewRequest(m, c.url(), nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 {
			t.Errorf("%s with 2026-07-28: HTTP %d, want 405", m, resp.StatusCode)
		}
	}
	// A session header on a 2026-07-28 request is ignored: served, and
	// no session id minted or echoed.
	{
		req, _ := http.NewRequest("POST", c.url(), strings.NewReader(call))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", "tools/call")
		req.Header.Set("Mcp-Name", "echo")
		req.Header.Set("Mcp-Session-Id", "k1.not-a-session")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "hi") || resp.Header.Get("Mcp-Session-Id") != "" {
			t.Errorf("2026-07-28 with a session header: HTTP %d %s, session header %q", resp.StatusCode, b, resp.Header.Get("Mcp-Session-Id"))
		}
	}
	// No shared lookup on the path: stop Redis, and every instance still
	// serves stateless requests.
	c.redis.Process.Kill()
	c.redis.Wait()
	for i := range 6 {
		if status, body := post("tools/call", "echo", call); status != 200 || !strings.Contains(body, "hi") {
			t.Fatalf("request %d with Redis stopped: HTTP %d %s", i, status, body)
		}
	}
}

// A 2025-11-25 session created on one instance is served by all of them:
// every request of the session lands round robin on another instance.
func TestSessionAnyInstance(t *testing.T) {
	c := startCluster(t, 3, verbose()...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := &soakStats{}
	cl := newClient(c.url(), st)
	if err := cl.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	lctx, lcancel := context.WithCancel(ctx)
	defer lcancel()
	if err := cl.listen(lctx); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		r, err := cl.callTool(ctx, "echo", map[string]any{"text": fmt.Sprint("n", i)}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(r.result), fmt.Sprint("n", i)) {
			t.Fatalf("result %s", r.result)
		}
	}
	// Progress on an SSE stream, and an elicitation whose response lands on
	// another instance than the one whose tool waits for it.
	if _, err := cl.callTool(ctx, "count_slowly", map[string]any{"to": 3, "delayMs": 50}, 3); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		r, err := cl.callTool(ctx, "test_elicitation", map[string]any{"message": "ok?"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(r.result), "action=accept") {
			t.Fatalf("elicitation result %s", r.result)
		}
	}
	if st.forwardedResponses.Load() == 0 {
		t.Error("no elicitation carried an instance-routed id")
	}
	// DELETE on one instance ends the session on all.
	resp, err := cl.do(ctx, "DELETE", nil, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	resp.Body.Close()
	for range 3 {
		if _, err := cl.callTool(ctx, "echo", map[string]any{"text": "x"}, 0); err != errSessionLost {
			t.Fatalf("after DELETE: %v, want 404", err)
		}
	}
}

// The sealing keys rotate while sessions are live: a new key is added as
// secondary, then made primary, then sessions sealed with the old key
// still work everywhere; new sessions carry the new key id.
func TestKeyRotationLive(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	data, _ := os.ReadFile(c.keysFile)
	k1, err := seal.ParseKeySet(data)
	if err != nil {
		t.Fatal(err)
	}
	_ = k1
	var set seal.KeySet
	mustJSON(t, data, &set)
	k2 := seal.GenerateKey("k2")

	var sessions []*client
	for range 6 {
		cl := newClient(c.url(), nil)
		if err := cl.initialize(ctx); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(cl.sid, "k1.") {
			t.Fatalf("session id %q not sealed with k1", cl.sid)
		}
		sessions = append(sessions, cl)
	}
	check := func(phase string) {
		t.Helper()
		for i, cl := range sessions {
			for range 3 { // every instance
				if _, err := cl.callTool(ctx, "echo", map[string]any{"text": "x"}, 0); err != nil {
					t.Fatalf("%s: session %d (%s…): %v", phase, i, cl.sid[:8], err)
				}
			}
		}
	}
	check("before rotation")
	// Phase 1: k2 opens everywhere, k1 still seals.
	writeKeys(t, c.keysFile, "k1", set.Keys[0], k2)
	waitReload(t, c, 2)
	check("k2 secondary")
	// Phase 2: k2 seals.
	writeKeys(t, c.keysFile, "k2", set.Keys[0], k2)
	waitReload(t, c, 3)
	check("k2 primary")
	cl := newClient(c.url(), nil)
	if err := cl.initialize(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cl.sid, "k2.") {
		t.Fatalf("new session id %q not sealed with k2", cl.sid)
	}
	sessions = append(sessions, cl)
	// An instance restarted now (a rolling update) opens both.
	c.instances[0].kill()
	c.instances[0].start()
	check("after a restart")
}

func waitReload(t *testing.T, c *cluster, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, in := range c.instances {
		for strings.Count(in.logs(), "session key set reloaded") < n-1 {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not reload its keys", in.name)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// The soak: S sessions × M calls (SSE streams with progress, a tool that
// elicits) through the balancer while one instance is killed with SIGKILL
// and later restarted, and another is drained with SIGTERM. Every call
// is answered exactly once (the client checks ids) or fails with a
// retryable error that the client retries; progress is gap-free after
// every reconnect; no session is lost.
func TestSoakFailover(t *testing.T) {
	S, M := envInt("SOAK_SESSIONS", 10), envInt("SOAK_CALLS", 20)
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	st := &soakStats{}
	clients := make([]*client, S)
	for i := range clients {
		clients[i] = newClient(c.url(), st)
		if err := clients[i].initialize(ctx); err != nil {
			t.Fatal(err)
		}
		if err := clients[i].listen(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var (
		killAt      atomic.Int64 // unix nanos of the SIGKILL
		recoverMu   sync.Mutex
		recoverTime time.Duration // longest: interrupted call answered − SIGKILL
		progressed  atomic.Int64
	)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, S)
	for i, cl := range clients {
		wg.Go(func() {
			for j := range M {
				var r *callResult
				var err error
				if j%4 == 3 {
					r, err = cl.callTool(ctx, "test_elicitation", map[string]any{"message": "continue?"}, 0)
					if err == nil && !strings.Contains(string(r.result), "action=accept") {
						err = fmt.Errorf("elicitation result %s", r.result)
					}
				} else {
					r, err = cl.callTool(ctx, "count_slowly", map[string]any{"to": 5, "delayMs": 60}, 5)
				}
				if err != nil {
					errs <- fmt.Errorf("session %d call %d: %w", i, j, err)
					return
				}
				progressed.Add(1)
				if k := killAt.Load(); k != 0 && !r.firstFail.IsZero() && r.firstFail.UnixNano() >= k {
					d := time.Since(time.Unix(0, k))
					recoverMu.Lock()
					recoverTime = max(recoverTime, d)
					recoverMu.Unlock()
				}
			}
		})
	}
	total := int64(S * M)
	waitProgress := func(frac float64) {
		for progressed.Load() < int64(float64(total)*frac) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitProgress(0.2)
	t.Logf("SIGKILL %s at %s", c.instances[1].name, time.Since(start).Round(time.Millisecond))
	killAt.Store(time.Now().UnixNano())
	c.instances[1].kill()
	waitProgress(0.45)
	t.Logf("restarting %s at %s", c.instances[1].name, time.Since(start).Round(time.Millisecond))
	c.instances[1].start()
	waitProgress(0.6)
	t.Logf("SIGTERM %s at %s", c.instances[2].name, time.Since(start).Round(time.Millisecond))
	if err := c.instances[2].term(30 * time.Second); err != nil {
		t.Error(err)
	}
	t.Logf("%s exited at %s", c.instances[2].name, time.Since(start).Round(time.Millisecond))
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	att, retr := st.attempts.Load(), st.retryable.Load()
	t.Logf("soak: %d sessions × %d calls in %s: %d attempts, %d retryable failures (error rate %.2f%% of attempts: %d instance-lost errors, %d refused or cut connections), %d stream reconnects, %d elicitations; recovery time after SIGKILL %s",
		S, M, time.Since(start).Round(time.Millisecond), att, retr, 100*float64(retr)/float64(max(att, 1)), st.instanceLost.Load(), st.transportErrors.Load(), st.reconnects.Load(), st.elicitations.Load(), recoverTime.Round(time.Millisecond))
	fmt.Printf("SOAK sessions=%d calls=%d attempts=%d retryable=%d error_rate=%.2f%% instance_lost=%d transport=%d reconnects=%d elicitations=%d recovery=%s\n",
		S, M, att, retr, 100*float64(retr)/float64(max(att, 1)), st.instanceLost.Load(), st.transportErrors.Load(), st.reconnects.Load(), st.elicitations.Load(), recoverTime.Round(time.Millisecond))
	if n := st.listenErrors.Load(); n != 0 {
		t.Errorf("%d standalone streams could not be resumed", n)
	}
	if got := st.calls.Load(); got != total {
		t.Errorf("%d calls made, want %d", got, total)
	}
}

// The conformance suites' server scenarios through the balancer: 0.1.16
// (2025-11-25 and earlier, sessions and SSE resumption across instances)
// and the 2026-07-28 pre-release suite's scored scenarios.
func TestConformanceThroughBalancer(t *testing.T) {
	root, _ := filepath.Abs("..")
	for _, dir := range []string{"conformance/node_modules", "conformance-next/node_modules"} {
		if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
			if os.Getenv("SWITCHBOARD_SCALE_REQUIRED") != "" {
				t.Fatalf("%s missing (make conformance-deps conformance-next-deps)", dir)
			}
			t.Skipf("%s missing (make conformance-deps conformance-next-deps)", dir)
		}
	}
	c := startCluster(t, 3)
	for _, script := range []string{"scripts/conformance.sh", "conformance-next/run.sh"} {
		t.Run(filepath.Base(filepath.Dir(script))+"/"+filepath.Base(script), func(t *testing.T) {
			cmd := exec.Command("bash", filepath.Join(root, script), "server")
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "SERVER_URL="+c.url(), "BIN="+binary, "CONFORMANCE_OUT="+t.TempDir(), "OUT="+t.TempDir())
			out, err := cmd.CombinedOutput()
			t.Logf("%s", tail(string(out), 4000))
			if err != nil {
				t.Fatalf("%s: %v", script, err)
			}
		})
	}
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}

// verbose adds -v to the instances when SCALE_VERBOSE is set.
func verbose() []string {
	if os.Getenv("SCALE_VERBOSE") != "" {
		return []string{"-v"}
	}
	return nil
}

// Limits and configuration are shared: a concurrency rule of 1 on the
// upstream holds across the instances (two sessions' calls, landing on
// different instances, never overlap; the second waits with 429 and
// retries), and a change of the configuration file every instance reads
// is applied by every instance as a hot reload.
func TestSharedLimitsAndConfig(t *testing.T) {
	redisURL, _ := startRedis(t)
	cfgPath := filepath.Join(t.TempDir(), "switchboard.json")
	writeConfig := func(prefix string) {
		cfg := fmt.Sprintf(`{"mcpServers": {"demo": {"command": %q, "args": ["demo", "everything"], "session": "per-client"%s}},
"limits": {"store": "redis", "redis": {"url": %q, "failMode": "closed"},
  "rules": [{"name": "demo-one-at-a-time", "key": ["upstream"], "upstreams": ["demo"], "tools": ["*count_slowly"], "concurrency": 1}]}}`,
			binary, prefix, redisURL)
		tmp := cfgPath + ".tmp"
		if err := os.WriteFile(tmp, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Rename(tmp, cfgPath)
	}
	writeConfig("")
	c := startClusterWith(t, 3, redisURL, "--config", cfgPath)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st := &soakStats{}
	type span struct{ start, end time.Time }
	spans := make([]span, 2)
	var wg sync.WaitGroup
	for i := range spans {
		cl := newClient(c.url(), st)
		if err := cl.initialize(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			r, err := cl.callTool(ctx, "count_slowly", map[string]any{"to": 8, "delayMs": 100}, 8)
			if err != nil {
				t.Error(err)
				return
			}
			// The answered attempt ran from its last start.
			spans[i] = span{time.Now().Add(-800 * time.Millisecond), time.Now()}
			t.Logf("call %d: %d attempts, first failure %v", i, r.attempts, r.firstFail)
		})
	}
	wg.Wait()
	if st.retryable.Load() == 0 {
		t.Error("no call was held back by the shared concurrency limit")
	}
	if a, b := spans[0], spans[1]; a.start.Before(b.end.Add(-50*time.Millisecond)) && b.start.Before(a.end.Add(-50*time.Millisecond)) {
		t.Errorf("the two calls overlapped: %s-%s and %s-%s", a.start.Format("05.000"), a.end.Format("05.000"), b.start.Format("05.000"), b.end.Format("05.000"))
	}
	// Hot reload everywhere: a prefix on the upstream renames its tools.
	writeConfig(`, "prefix": "d"`)
	for _, in := range c.instances {
		deadline := time.Now().Add(15 * time.Second)
		for {
			body := listToolsAt(t, "http://"+in.addr+"/mcp")
			if strings.Contains(body, `"d_echo"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not apply the new configuration: %s", in.name, tail(body, 300))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// listToolsAt lists tools with a 2026-07-28 request to one instance.
func listToolsAt(t *testing.T, url string) string {
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}}}`
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "tools/list")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
