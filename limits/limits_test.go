package limits_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/internal/govtest"
	"github.com/switchboard-mcp/switchboard/limits"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in  string
		n   float64
		per time.Duration
		err bool
	}{
		{"60/m", 60, time.Minute, false},
		{"10/s", 10, time.Second, false},
		{"1000/hour", 1000, time.Hour, false},
		{"0.5/s", 0.5, time.Second, false},
		{"5/d", 5, 24 * time.Hour, false},
		{"60", 0, 0, true},
		{"-1/m", 0, 0, true},
		{"x/m", 0, 0, true},
		{"5/fortnight", 0, 0, true},
		{"NaN/s", 0, 0, true},
	} {
		n, per, err := limits.ParseRate(tc.in)
		if (err != nil) != tc.err || n != tc.n || per != tc.per {
			t.Errorf("ParseRate(%q) = %v, %v, %v", tc.in, n, per, err)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"60/m", "1/s", "0.5/h", "", "/", "1e309/s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, per, err := limits.ParseRate(s)
		if err == nil && (n <= 0 || per <= 0) {
			t.Fatalf("%q: %v %v", s, n, per)
		}
	})
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		rule limits.Rule
		want string
	}{
		{limits.Rule{Rate: "1/s"}, "needs a name"},
		{limits.Rule{Name: "a"}, "set a rate, a concurrency"},
		{limits.Rule{Name: "a", Rate: "fast"}, "rate"},
		{limits.Rule{Name: "a", Rate: "1/s", Key: []string{"user"}}, "unknown key"},
	} {
		if _, err := limits.New(limits.Options{Rules: []limits.Rule{tc.rule}}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc.rule, err)
		}
	}
}

func access(subject, tenant, upstream, tool string) *gateway.Access {
	return &gateway.Access{Method: protocol.MethodToolsCall, Kind: "tool", Upstream: upstream, Name: tool, Identity: &gateway.Identity{Subject: subject, Tenant: tenant}}
}

// Keys: each identity has its own bucket; tenants qualify identities; a
// rule keyed by tool counts per tool; filters select requests.
func TestKeysAndFilters(t *testing.T) {
	l, err := limits.New(limits.Options{Rules: []limits.Rule{
		{Name: "per-user", Key: []string{limits.KeyIdentity}, Rate: "2/m"},
		{Name: "github-tool", Key: []string{limits.KeyTool}, Upstreams: []string{"github"}, Rate: "3/m"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admit := func(a *gateway.Access) error {
		rel, err := l.Admit(ctx, a)
		if rel != nil {
			rel()
		}
		return err
	}
	for i := range 2 {
		if err := admit(access("ada", "acme", "fs", "fs_read")); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	var lim *gateway.Limited
	if err := admit(access("ada", "acme", "fs", "fs_read")); !errors.As(err, &lim) || lim.Rule != "per-user" || lim.RetryAfter <= 0 || lim.RetryAfter > 30*time.Second {
		t.Fatalf("third call: %v", err)
	}
	if err := admit(access("ada", "globex", "fs", "fs_read")); err != nil {
		t.Errorf("another tenant's ada: %v", err)
	}
	// github: 3 per tool across people.
	for _, who := range []string{"u1", "u2", "u3"} {
		if err := admit(access(who, "", "github", "gh_search")); err != nil {
			t.Errorf("%s: %v", who, err)
		}
	}
	if err := admit(access("u4", "", "github", "gh_search")); !errors.As(err, &lim) || lim.Rule != "github-tool" {
		t.Errorf("fourth github call: %v", err)
	}
	if err := admit(access("u4", "", "github", "gh_other")); err != nil {
		t.Errorf("another tool: %v", err)
	}
}

// upstreamWithSlowTool is an everything server.
func upstreams() []gateway.Upstream {
	return []gateway.Upstream{{Name: "demo", Server: everything.NewServer(nil)}}
}

// newLimitedGateway serves a gateway whose /mcp is wrapped in HTTPStatus.
func newLimitedGateway(t *testing.T, l *limits.Limiter) (*gateway.Gateway, string) {
	t.Helper()
	g, err := gateway.New(gateway.Options{Upstreams: upstreams(), Hooks: gateway.Hooks{Identify: govtest.IdentifyByClientName, Admit: l.Admit}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(gateway.PathMCP, limits.HTTPStatus(g.MCPHandler()))
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		g.Close()
		ts.Close()
	})
	return g, ts.URL + gateway.PathMCP
}

// N calls per minute give N successes, then HTTP 429 with Retry-After
// over Streamable HTTP, and a tool error that says how long to wait over
// stdio.
func TestRateLimitOnEveryPath(t *testing.T) {
	const n = 5
	l, err := limits.New(limits.Options{Rules: []limits.Rule{{Name: "per-user", Rate: fmt.Sprintf("%d/m", n)}}})
	if err != nil {
		t.Fatal(err)
	}
	g, url := newLimitedGateway(t, l)
	for _, path := range govtest.Paths {
		t.Run(string(path), func(t *testing.T) {
			rec := &govtest.StatusRecorder{}
			cs := govtest.ConnectHTTP(t, path, url, g.Server(), "user-"+string(path), nil, &http.Client{Transport: rec})
			for i := range n {
				if res, err := cs.CallToolArgs(govtest.Ctx(t), "echo", map[string]any{"text": "hi"}); err != nil || res.IsError {
					t.Fatalf("call %d: %v %v", i+1, res, err)
				}
			}
			res, err := cs.CallToolArgs(govtest.Ctx(t), "echo", map[string]any{"text": "hi"})
			if path == govtest.Stdio {
				if err != nil || !res.IsError {
					t.Fatalf("call %d: %v %v", n+1, res, err)
				}
				text := res.Content[0].(*protocol.TextContent).Text
				if !strings.Contains(text, "per-user") || !strings.Contains(text, "Wait ") {
					t.Errorf("tool error: %q", text)
				}
				if ms, ok := res.Meta[gateway.MetaRetryAfter].(float64); !ok || ms <= 0 || ms > 12000 {
					t.Errorf("retry after: %v", res.Meta)
				}
				return
			}
			var he *transport.HTTPError
			if !errors.As(err, &he) || he.StatusCode != http.StatusTooManyRequests || http.Header(he.Header).Get("Retry-After") == "" {
				t.Fatalf("call %d over HTTP: %v %v", n+1, res, err)
			}
			if !strings.Contains(he.Body, "per-user") {
				t.Errorf("429 body: %s", he.Body)
			}
			// The rule covers every method: a read is refused too, with a
			// JSON-RPC error (CodeLimited) in a 429 answer.
			_, err = cs.ReadResource(govtest.Ctx(t), "test://static-text")
			if !errors.As(err, &he) && govtest.RPCCode(err) != gateway.CodeLimited {
				t.Errorf("read after the limit: %v", err)
			}
			if code, retry := rec.Last(); code != http.StatusTooManyRequests || retry == "" {
				t.Errorf("read after the limit: HTTP %d, Retry-After %q", code, retry)
			}
		})
	}
}

// A concurrency limit of 1: a second call while the first runs is
// refused; after the first ends, calls go through again.
func TestConcurrencyLimit(t *testing.T) {
	l, err := limits.New(limits.Options{Rules: []limits.Rule{{Name: "one-at-a-time", Key: []string{limits.KeyTool}, Tools: []string{"count_slowly"}, Concurrency: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	g, url := newLimitedGateway(t, l)
	cs := govtest.Connect(t, govtest.Stdio, url, g.Server(), "ada", nil)
	var wg sync.WaitGroup
	wg.Add(1)
	started := make(chan struct{})
	go func() {
		defer wg.Done()
		close(started)
		// The probes below may take the one slot first; then this call
		// is the one refused, and tries again.
		for try := 0; ; try++ {
			res, err := cs.CallToolArgs(govtest.Ctx(t), "count_slowly", map[string]any{"to": 3, "delayMs": 200})
			if err == nil && res.IsError && try < 50 && strings.Contains(res.Content[0].(*protocol.TextContent).Text, "at most 1 at once") {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			if err != nil || res.IsError {
				t.Errorf("first call: %v %v", res, err)
			}
			return
		}
	}()
	<-started
	deadline := time.Now().Add(5 * time.Second)
	refused := false
	for time.Now().Before(deadline) && !refused {
		res, err := cs.CallToolArgs(govtest.Ctx(t), "count_slowly", map[string]any{"to": 1, "delayMs": 1})
		if err != nil {
			t.Fatal(err)
		}
		refused = res.IsError && strings.Contains(res.Content[0].(*protocol.TextContent).Text, "at most 1 at once")
		if !refused {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !refused {
		t.Error("a second concurrent call was not refused")
	}
	wg.Wait()
	if res, err := cs.CallToolArgs(govtest.Ctx(t), "count_slowly", map[string]any{"to": 1, "delayMs": 1}); err != nil || res.IsError {
		t.Errorf("after the first call: %v %v", res, err)
	}
}

// startRedis runs redis-server on a free loopback port until the test
// ends; it returns the URL and a function that kills it.
func startRedis(t *testing.T) (string, func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (make test installs Debian's redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", port), kill
}

func redisLimiter(t *testing.T, url string, rules []limits.Rule, failClosed bool) *limits.Limiter {
	t.Helper()
	c, err := limits.DialRedis(url, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	l, err := limits.New(limits.Options{Rules: rules, Store: limits.NewRedis(c, ""), FailClosed: failClosed})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Two limiters (as two gateway processes would) share their budget
// through a real redis-server; concurrency slots too. Then Redis is
// killed: a fail-open limiter allows, a fail-closed one refuses.
func TestRedisSharedAndFailModes(t *testing.T) {
	url, kill := startRedis(t)
	rules := []limits.Rule{
		{Name: "shared-rate", Rate: "6/m"},
		{Name: "shared-slots", Key: []string{limits.KeyUpstream}, Upstreams: []string{"slow"}, Concurrency: 2},
	}
	a := redisLimiter(t, url, rules, false)
	b := redisLimiter(t, url, rules, true)
	ctx := context.Background()
	for i := range 6 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if _, err := l.Admit(ctx, access("ada", "", "fs", "x")); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	var lim *gateway.Limited
	for _, l := range []*limits.Limiter{a, b} {
		if _, err := l.Admit(ctx, access("ada", "", "fs", "x")); !errors.As(err, &lim) || lim.Rule != "shared-rate" || lim.RetryAfter <= 0 {
			t.Errorf("seventh call: %v", err)
		}
	}
	relA, err := a.Admit(ctx, access("bob", "", "slow", "x"))
	if err != nil {
		t.Fatal(err)
	}
	relB, err := b.Admit(ctx, access("cy", "", "slow", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Admit(ctx, access("dee", "", "slow", "x")); !errors.As(err, &lim) || lim.Rule != "shared-slots" {
		t.Errorf("third slot: %v", err)
	}
	relB()
	rel, err := a.Admit(ctx, access("dee", "", "slow", "x"))
	if err != nil {
		t.Errorf("slot after a release in the other process: %v", err)
	} else {
		rel()
	}
	relA()

	kill()
	if _, err := a.Admit(ctx, access("eve", "", "fs", "x")); err != nil {
		t.Errorf("fail open with Redis down: %v", err)
	}
	if _, err := b.Admit(ctx, access("eve", "", "fs", "x")); !errors.As(err, &lim) || !strings.Contains(lim.Reason, "cannot be checked") {
		t.Errorf("fail closed with Redis down: %v", err)
	}
}
