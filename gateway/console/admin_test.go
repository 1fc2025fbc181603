package console_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/console"
	"github.com/switchboard-mcp/switchboard/internal/everything"
)

type fixture struct {
	g       *gateway.Gateway
	ts      *httptest.Server
	logs    *console.LogBuffer
	reloads int
}

func newFixture(t *testing.T, token string, reload bool) *fixture {
	t.Helper()
	return newFixtureWith(t, token, reload, console.Options{})
}

// newFixtureOpts is newFixture with more console options.
func newFixtureOpts(t *testing.T, extra console.Options) *fixture {
	t.Helper()
	return newFixtureWith(t, "", false, extra)
}

func newFixtureWith(t *testing.T, token string, reload bool, extra console.Options) *fixture {
	t.Helper()
	f := &fixture{logs: console.NewLogBuffer(100)}
	log := slog.New(f.logs.Handler(slog.NewTextHandler(io.Discard, nil)))
	g, err := gateway.New(gateway.Options{Logger: log, Upstreams: []gateway.Upstream{
		{Name: "alpha", Server: everything.NewServer(nil)},
		{Name: "beta", Server: everything.NewServer(nil)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.g = g
	opts := extra
	opts.Token, opts.Logs, opts.Version = token, f.logs, "test"
	if reload {
		opts.Reload = func() error {
			f.reloads++
			if f.reloads > 1 {
				return errors.New("mcpServers.x.comand: unknown key")
			}
			return nil
		}
	}
	mux := http.NewServeMux()
	console.NewAdmin(g, opts).Mount(mux)
	f.ts = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.ts.Close()
		g.Close()
	})
	return f
}

type call struct {
	method, path string
	body         string
	header       map[string]string
}

func (f *fixture) do(t *testing.T, c call) (int, map[string]any, []byte) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, f.ts.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, raw
}

var jsonPost = map[string]string{"Content-Type": "application/json"}

// Every route of the admin API, from loopback without a token.
func TestAdminRoutes(t *testing.T) {
	f := newFixture(t, "", true)
	for _, c := range []struct {
		call
		status int
		want   string
	}{
		{call{"GET", "/api/status", "", nil}, 200, `"name":"alpha"`},
		{call{"GET", "/api/upstreams", "", nil}, 200, `"name":"beta"`},
		{call{"GET", "/api/upstreams/alpha", "", nil}, 200, `"name":"alpha_echo","original":"echo"`},
		{call{"GET", "/api/upstreams/nope", "", nil}, 404, `no upstream named \"nope\"`},
		{call{"GET", "/api/sessions", "", nil}, 200, `[]`},
		{call{"GET", "/api/logs", "", nil}, 200, `upstream state`},
		{call{"GET", "/api/logs?since=x", "", nil}, 400, `since must be`},
		{call{"POST", "/api/upstreams/beta/disable", "{}", jsonPost}, 200, `"state":"disabled"`},
		{call{"POST", "/api/upstreams/beta/enable", "{}", jsonPost}, 200, `"name":"beta"`},
		{call{"POST", "/api/upstreams/beta/restart", "{}", jsonPost}, 200, `"name":"beta"`},
		{call{"POST", "/api/upstreams/beta/explode", "{}", jsonPost}, 404, `unknown action`},
		{call{"POST", "/api/upstreams/nope/restart", "{}", jsonPost}, 404, `no upstream`},
		{call{"POST", "/api/reload", "{}", jsonPost}, 200, `"name":"alpha"`},
		{call{"POST", "/api/reload", "{}", jsonPost}, 422, `unknown key`},
		{call{"GET", "/api/nothing", "", nil}, 404, `"code":"not_found"`},
		{call{"DELETE", "/api/status", "", jsonPost}, 404, `no route`},
	} {
		status, _, raw := f.do(t, c.call)
		if status != c.status || !strings.Contains(string(raw), c.want) {
			t.Errorf("%s %s: %d %s\nwant %d and %s", c.method, c.path, status, raw, c.status, c.want)
		}
	}
	// After enable and restart, beta serves again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, m, _ := f.do(t, call{"GET", "/api/upstreams/beta", "", nil})
		if m["state"] == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("beta: %v", m["state"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAdminReloadWithoutConfig(t *testing.T) {
	f := newFixture(t, "", false)
	status, m, _ := f.do(t, call{"POST", "/api/reload", "{}", jsonPost})
	if status != 409 || m["error"].(map[string]any)["code"] != "no_config" {
		t.Errorf("reload without a file: %d %v", status, m)
	}
}

// Without a token the API answers loopback requests that name a loopback
// host only; with one, every request needs it.
func TestAdminAccess(t *testing.T) {
	open := newFixture(t, "", false)
	for _, c := range []struct {
		host   string
		status int
	}{
		{"", 200},
		{"localhost", 200},
		{"[::1]:8080", 200},
		{"evil.example.com", 403}, // DNS rebinding
		{"10.0.0.1:8080", 403},
	} {
		h := map[string]string{}
		if c.host != "" {
			h["Host"] = c.host
		}
		if status, _, raw := open.do(t, call{"GET", "/api/status", "", h}); status != c.status {
			t.Errorf("Host %q: %d %s", c.host, status, raw)
		}
	}

	locked := newFixture(t, "s3cret", false)
	for _, c := range []struct {
		header map[string]string
		status int
	}{
		{nil, 401},
		{map[string]string{"Authorization": "Bearer wrong"}, 401},
		{map[string]string{"Authorization": "s3cret"}, 401},
		{map[string]string{"Authorization": "Bearer s3cret"}, 200},
		{map[string]string{"Authorization": "Bearer s3cret", "Host": "gateway.example.com"}, 200},
	} {
		status, _, raw := locked.do(t, call{"GET", "/api/status", "", c.header})
		if status != c.status {
			t.Errorf("%v: %d %s", c.header, status, raw)
		}
	}
	status, _, _ := locked.do(t, call{"GET", "/api/status", "", nil})
	if status != 401 {
		t.Errorf("no token: %d", status)
	}
}

// State-changing routes refuse what a page of another origin could send.
func TestAdminCSRF(t *testing.T) {
	f := newFixture(t, "", false)
	for _, c := range []struct {
		header map[string]string
		status int
	}{
		{map[string]string{}, 415},
		{map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{map[string]string{"Content-Type": "text/plain"}, 415},
		{map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example.com"}, 403},
		{map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403},
		{map[string]string{"Content-Type": "application/json", "Origin": f.ts.URL}, 200},
		{map[string]string{"Content-Type": "application/json; charset=utf-8"}, 200},
	} {
		status, _, raw := f.do(t, call{"POST", "/api/upstreams/alpha/restart", "{}", c.header})
		if status != c.status {
			t.Errorf("%v: %d %s", c.header, status, raw)
		}
	}
}

// The log stream sends kept records, then new ones.
func TestAdminLogStream(t *testing.T) {
	f := newFixture(t, "", false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.ts.URL+"/api/logs/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	if err := f.g.Restart("alpha"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	var got strings.Builder
	for !strings.Contains(got.String(), `"upstream":"alpha"`) || strings.Count(got.String(), "\nid: ") < 2 {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("stream ended: %v\n%s", err, got.String())
		}
	}
}

func TestConsoleUI(t *testing.T) {
	f := newFixture(t, "", false)
	for path, want := range map[string]string{
		"/ui/":          "<title>Switchboard console</title>",
		"/ui/app.js":    "import { MCPClient",
		"/ui/style.css": "--accent",
	} {
		resp, err := http.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	resp, err := http.Get(f.ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/ui/" {
		t.Errorf("/ redirects to %s", resp.Request.URL.Path)
	}
}
