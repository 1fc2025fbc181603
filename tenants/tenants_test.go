package tenants_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/internal/govtest"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/tenants"
)

type logCatcher struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logCatcher) opts() *mcp.ClientOptions {
	return &mcp.ClientOptions{OnLog: func(_ context.Context, _ *mcp.ClientSession, p *protocol.LoggingMessageNotificationParams) {
		b, _ := json.Marshal(p.Data)
		l.mu.Lock()
		l.msgs = append(l.msgs, string(b))
		l.mu.Unlock()
	}}
}

func (l *logCatcher) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.msgs, func(m string) bool { return strings.Contains(m, s) })
}

// Tenant A (acme) tries to list, call, see the sessions of and read the
// audit of tenant B (globex): each is refused; log lines of B's upstream
// never reach A; each sees its own.
func TestTenantIsolation(t *testing.T) {
	ts, err := tenants.New([]tenants.Tenant{
		{Name: "acme", Upstreams: []string{"acme-db", "shared"}, AdminToken: "acme-token"},
		{Name: "globex", Upstreams: []string{"globex-db", "shared"}, AdminToken: "globex-token"},
	})
	if err != nil {
		t.Fatal(err)
	}
	audit := tenants.NewAudit(ts, 0)
	var all govtest.Events
	globexDB := everything.NewServer(nil)
	g, base := govtest.Gateway(t, gateway.Options{
		Upstreams: []gateway.Upstream{
			{Name: "acme-db", Server: everything.NewServer(nil)},
			{Name: "globex-db", Server: globexDB},
			{Name: "shared", Server: everything.NewServer(nil)},
		},
		Hooks: gateway.Hooks{Identify: govtest.IdentifyByClientName, Authorize: ts.Authorize,
			Observe: []func(context.Context, *gateway.Event){audit.Observe, all.Observe}},
	})
	api := httptest.NewServer(tenants.Handler(g, ts, audit))
	t.Cleanup(api.Close)

	var acmeLogs, globexLogs logCatcher
	acme := govtest.Connect(t, govtest.Stateful, base+gateway.PathMCP, nil, "acme/ada", acmeLogs.opts())
	globex := govtest.Connect(t, govtest.Stateful, base+gateway.PathMCP, nil, "globex/gus", globexLogs.opts())

	// Lists.
	for _, n := range govtest.ToolNames(t, acme) {
		if strings.HasPrefix(n, "globex-db_") {
			t.Errorf("acme sees %s", n)
		}
	}
	names := govtest.ToolNames(t, acme)
	if !slices.Contains(names, "acme-db_echo") || !slices.Contains(names, "shared_echo") {
		t.Errorf("acme's tools: %v", names)
	}
	for r, err := range acme.Resources(govtest.Ctx(t)) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.URI, "globex") {
			t.Errorf("acme lists %s", r.URI)
		}
	}
	// Calls, reads and prompts.
	_, err = acme.CallToolArgs(govtest.Ctx(t), "globex-db_echo", map[string]any{"text": "x"})
	if govtest.RPCCode(err) != gateway.CodeDenied || !strings.Contains(err.Error(), tenants.Rule) {
		t.Errorf("acme calls globex's tool: %v", err)
	}
	if _, err := acme.GetPrompt(govtest.Ctx(t), "globex-db_test_simple_prompt", nil); govtest.RPCCode(err) != gateway.CodeDenied {
		t.Errorf("acme gets globex's prompt: %v", err)
	}
	if _, err := acme.CallToolArgs(govtest.Ctx(t), "acme-db_echo", map[string]any{"text": "acme-secret"}); err != nil {
		t.Fatal(err)
	}
	if _, err := globex.CallToolArgs(govtest.Ctx(t), "globex-db_echo", map[string]any{"text": "globex-secret"}); err != nil {
		t.Fatal(err)
	}
	if _, err := globex.CallToolArgs(govtest.Ctx(t), "shared_echo", map[string]any{"text": "shared"}); err != nil {
		t.Fatal(err)
	}

	// Log lines of globex's upstream, outside any call, reach globex only.
	for _, cs := range []*mcp.ClientSession{acme, globex} {
		if err := cs.SetLogLevel(govtest.Ctx(t), protocol.LoggingLevelDebug); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !globexLogs.has("globex-log-line") && time.Now().Before(deadline) {
		for ss := range globexDB.Sessions() {
			_ = ss.Log(govtest.Ctx(t), protocol.LoggingLevelInfo, "db", "globex-log-line")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !globexLogs.has("globex-log-line") {
		t.Error("globex did not get its upstream's log line")
	}
	if acmeLogs.has("globex-log-line") {
		t.Error("acme got globex's log line")
	}

	get := func(path, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, api.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	// Sessions and audit of the other tenant: refused.
	for _, p := range []string{"/api/tenants/globex/sessions", "/api/tenants/globex/audit"} {
		if code, _ := get(p, "acme-token"); code != http.StatusForbidden {
			t.Errorf("acme reads %s: %d", p, code)
		}
		if code, _ := get(p, ""); code != http.StatusUnauthorized {
			t.Errorf("anonymous reads %s: %d", p, code)
		}
		if code, _ := get(p, "wrong"); code != http.StatusUnauthorized {
			t.Errorf("a wrong token reads %s: %d", p, code)
		}
	}
	// Its own: only its own.
	code, body := get("/api/tenants/acme/sessions", "acme-token")
	sessions, _ := body["sessions"].([]any)
	if code != http.StatusOK || len(sessions) != 1 || sessions[0].(map[string]any)["tenant"] != "acme" {
		t.Errorf("acme's sessions: %d %v", code, body)
	}
	code, body = get("/api/tenants/acme/audit", "acme-token")
	events, _ := body["events"].([]any)
	if code != http.StatusOK || len(events) == 0 {
		t.Fatalf("acme's audit: %d %v", code, body)
	}
	raw, _ := json.Marshal(body)
	if strings.Contains(string(raw), `"tenant":"globex"`) || strings.Contains(string(raw), "gus") || strings.Contains(string(raw), "shared") {
		t.Errorf("acme's audit shows globex: %s", raw)
	}
	if !strings.Contains(string(raw), `"denial"`) || !strings.Contains(string(raw), "acme-db") {
		t.Errorf("acme's audit lacks its own events: %s", raw)
	}
	// The filter hook, on the gateway's events.
	keep := ts.EventFilter("acme")
	for _, e := range all.All() {
		if keep(e) && e.Tenant != "acme" {
			t.Errorf("the acme filter keeps an event of %q: %+v", e.Tenant, e)
		}
		if !keep(e) && e.Tenant == "acme" && e.Kind == gateway.KindRequest {
			t.Errorf("the acme filter drops acme's event %+v", e)
		}
	}
}

// Callers without a tenant see the upstreams of no tenant only; an
// unknown tenant sees nothing.
func TestUntenanted(t *testing.T) {
	ts, err := tenants.New([]tenants.Tenant{{Name: "acme", Upstreams: []string{"a"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tenant, upstream string
		ok               bool
	}{
		{"", "a", false}, {"", "public", true}, {"acme", "a", true}, {"acme", "public", false}, {"nobody", "public", false},
	} {
		err := ts.Authorize(context.Background(), &gateway.Access{Upstream: tc.upstream, Identity: &gateway.Identity{Tenant: tc.tenant}})
		if (err == nil) != tc.ok {
			t.Errorf("tenant %q, upstream %q: %v", tc.tenant, tc.upstream, err)
		}
	}
}
