package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/gateway/console"
)

// The admin API's MCP Apps routes: the policy of a declared CSP, the
// exposed URI of an upstream's ui:// URI, the apps check in the detail.
func TestAppsRoutes(t *testing.T) {
	f := newFixture(t, "", false)
	csp := url.QueryEscape(`{"connectDomains":["https://api.example.com","bad; x"]}`)
	for _, c := range []struct {
		path   string
		status int
		want   string
	}{
		{"/api/apps/policy", 200, `"default":true`},
		{"/api/apps/policy", 200, `connect-src 'none'`},
		{"/api/apps/policy?csp=" + csp, 200, `connect-src https://api.example.com;`},
		{"/api/apps/policy?csp=" + csp, 200, `"dropped":["connectDomains \"bad; x\"`},
		{"/api/apps/policy?csp=%5B", 400, `csp:`},
		{"/api/upstreams/alpha/exposed-uri?uri=ui://counter/view.html", 200, `{"uri":"ui://alpha/counter/view.html"}`},
		{"/api/upstreams/alpha/exposed-uri", 400, `uri is required`},
		{"/api/upstreams/nope/exposed-uri?uri=ui://x", 404, `no upstream`},
		{"/api/upstreams/alpha", 200, `"apps":{"findings":[],"tools":["counter_increment","show_counter","show_host_context"]`},
		{"/api/status", 200, `"appsSandbox":""`},
	} {
		status, _, raw := f.do(t, call{"GET", c.path, "", nil})
		if status != c.status || !strings.Contains(string(raw), c.want) {
			t.Errorf("GET %s: %d %s\nwant %d and %s", c.path, status, raw, c.status, c.want)
		}
	}
}

// The sandbox proxy: framable by the console's origin only, with the
// view's policy as the page's Content-Security-Policy.
func TestSandbox(t *testing.T) {
	ts := httptest.NewServer(console.Sandbox(console.SandboxOptions{HostOrigins: []string{"https://console.example.com"}}))
	defer ts.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	declared := &apps.CSP{ResourceDomains: []string{"https://cdn.example.com"}}
	declaredPolicy, _ := apps.Policy(declared)
	for _, tc := range []struct {
		name, path string
		status     int
		policy     string
	}{
		{"default policy", "/sandbox?host=http://127.0.0.1:8080", 200, apps.DefaultPolicy + "; frame-ancestors http://127.0.0.1:8080"},
		{"localhost", "/sandbox?host=http://localhost:8080", 200, apps.DefaultPolicy + "; frame-ancestors http://localhost:8080"},
		{"configured host", "/sandbox?host=https://console.example.com", 200, apps.DefaultPolicy + "; frame-ancestors https://console.example.com"},
		{"declared domains", "/sandbox?host=http://[::1]:8080&csp=" + url.QueryEscape(`{"resourceDomains":["https://cdn.example.com"]}`), 200, declaredPolicy + "; frame-ancestors http://[::1]:8080"},
		{"foreign host", "/sandbox?host=https://evil.example.com", 403, ""},
		{"no host", "/sandbox", 403, ""},
		{"host with a path", "/sandbox?host=http://127.0.0.1:8080/x", 403, ""},
		{"host injecting a directive", "/sandbox?host=" + url.QueryEscape("http://127.0.0.1:8080; script-src *"), 403, ""},
		{"bad csp", "/sandbox?host=http://127.0.0.1:8080&csp=nope", 400, ""},
		{"anything else", "/other", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(tc.path)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if tc.policy != "" {
				if got := resp.Header.Get("Content-Security-Policy"); got != tc.policy {
					t.Errorf("policy\n got %s\nwant %s", got, tc.policy)
				}
				if !strings.Contains(body, `<script src="sandbox.js">`) {
					t.Errorf("page: %s", body)
				}
			}
		})
	}
	resp, body := get("/sandbox.js")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(body, "ui/notifications/sandbox-proxy-ready") {
		t.Errorf("sandbox.js: %d %s", resp.StatusCode, resp.Header)
	}
}

// With a sandbox, the console's pages may frame it, and nothing else.
func TestConsoleFramesTheSandboxOnly(t *testing.T) {
	for _, tc := range []struct{ sandbox, want string }{
		{"", "frame-src 'none'"},
		{"http://127.0.0.1:9999/sandbox", "frame-src http://127.0.0.1:9999;"},
	} {
		f := newFixtureOpts(t, console.Options{AppsSandbox: tc.sandbox})
		resp, err := http.Get(f.ts.URL + "/ui/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, tc.want) || !strings.Contains(got, "frame-ancestors 'none'") {
			t.Errorf("sandbox %q: console CSP %s", tc.sandbox, got)
		}
	}
}

// FuzzSandboxHost: the host a sandbox page names is written into its
// policy only when it is one origin that cannot add a directive or a
// source.
func FuzzSandboxHost(f *testing.F) {
	h := console.Sandbox(console.SandboxOptions{})
	for _, s := range []string{"http://127.0.0.1:8080", "http://localhost", "http://[::1]:1", "http://127.0.0.1:8080; script-src *", "http://127.0.0.1 https://evil", "javascript:alert(1)"} {
		f.Add(s, `{"connectDomains":["https://a.example.com"]}`)
	}
	f.Fuzz(func(t *testing.T, host, csp string) {
		req := httptest.NewRequest("GET", "/sandbox?host="+url.QueryEscape(host)+"&csp="+url.QueryEscape(csp), nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			return
		}
		policy := rec.Header().Get("Content-Security-Policy")
		fa, ok := strings.CutPrefix(policy[strings.LastIndex(policy, "; ")+2:], "frame-ancestors ")
		if !ok || fa != host || strings.ContainsAny(host, " ;,'\"\t\r\n") {
			t.Fatalf("host %q gave policy %s", host, policy)
		}
		if !strings.HasPrefix(policy, "default-src 'none'; ") || strings.Count(policy, "; ") != strings.Count(apps.DefaultPolicy, "; ")+1+strings.Count(policy, "font-src") {
			t.Fatalf("policy changed shape: %s", policy)
		}
	})
}
