package registrytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// snapshot reads every version of a registry (deleted ones too), keyed by
// name@version, with the official metadata.
func snapshot(t *testing.T, base string) map[string]official {
	t.Helper()
	out := map[string]official{}
	cursor := ""
	for i := 0; i < 1000; i++ {
		var l list
		q := url.Values{"limit": {"100"}, "include_deleted": {"true"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if st := getJSON(t, base+"/v0.1/servers?"+q.Encode(), &l); st != 200 {
			t.Fatalf("list %s: %d", base, st)
		}
		for _, s := range l.Servers {
			out[s.Server.Name+"@"+s.Server.Version] = *s.Meta.Official
		}
		if l.Metadata.NextCursor == "" || len(l.Servers) == 0 {
			return out
		}
		cursor = l.Metadata.NextCursor
	}
	t.Fatal("too many pages")
	return nil
}

func sameTime(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

// compare checks that a mirror has what the source has, metadata
// included.
func compare(t *testing.T, src, dst map[string]official) {
	t.Helper()
	if len(src) != len(dst) {
		t.Errorf("the mirror has %d versions, the source %d", len(dst), len(src))
	}
	for k, o := range src {
		m, ok := dst[k]
		msg := func(o official) string {
			if o.StatusMessage == nil {
				return ""
			}
			return *o.StatusMessage
		}
		if !ok || m.Status != o.Status || msg(m) != msg(o) || m.IsLatest != o.IsLatest || !sameTime(m.PublishedAt, o.PublishedAt) || !sameTime(m.UpdatedAt, o.UpdatedAt) {
			t.Errorf("%s: mirror %+v, source %+v", k, m, o)
		}
	}
}

// flakyProxy forwards to target, failing one request when fail is its
// number.
func flakyProxy(t *testing.T, target string, fail *atomic.Int32) string {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == fail.Load() {
			http.Error(w, "interrupted", http.StatusForbidden)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestSyncFromSwitchboard mirrors a Switchboard registry (one process)
// into another (a second process): everything arrives, an interrupted
// sync resumes, later syncs bring deletions and status changes.
func TestSyncFromSwitchboard(t *testing.T) {
	dir := t.TempDir()
	const admin = "admin-token-for-the-test"
	_, src := startSwitchboardRegistry(t, "--data-dir", filepath.Join(dir, "a"), "--admin-token", admin)
	for i := range 250 {
		if st, b := send(t, "POST", src+"/v0/publish", admin, serverDoc(fmt.Sprintf("com.example/server-%03d", i), "1.0.0", "Server")); st != 200 {
			t.Fatalf("publish: %d %s", st, b)
		}
	}
	var fail atomic.Int32
	fail.Store(2)
	proxy := flakyProxy(t, src, &fail)
	mirrorDir := filepath.Join(dir, "b")
	if out, err := run(t, nil, bins.switchboard, "registry", "sync", "--from", proxy, "--data-dir", mirrorDir); err == nil || !strings.Contains(out, "stopped after 100 versions") {
		t.Fatalf("interrupted sync: %v\n%s", err, out)
	}
	fail.Store(-1)
	out := mustRun(t, nil, bins.switchboard, "registry", "sync", "--from", proxy, "--data-dir", mirrorDir)
	if !strings.Contains(out, "synced 250 versions") || !strings.Contains(out, "resumed") {
		t.Fatalf("resumed sync:\n%s", out)
	}
	// Changes at the source.
	send(t, "PATCH", src+"/v0.1/servers/"+esc("com.example/server-007")+"/versions/1.0.0/status", admin, map[string]any{"status": "deleted", "statusMessage": "withdrawn"})
	send(t, "PATCH", src+"/v0.1/servers/"+esc("com.example/server-100")+"/status", admin, map[string]any{"status": "deprecated"})
	send(t, "POST", src+"/v0/publish", admin, serverDoc("com.example/server-100", "2.0.0", "Server"))
	out = mustRun(t, nil, bins.switchboard, "registry", "sync", "--from", proxy, "--data-dir", mirrorDir)
	if !strings.Contains(out, "changes since") {
		t.Fatalf("incremental sync:\n%s", out)
	}
	_, mirror := startSwitchboardRegistry(t, "--data-dir", mirrorDir)
	compare(t, snapshot(t, src), snapshot(t, mirror))
	if st := getJSON(t, mirror+"/v0.1/servers/"+esc("com.example/server-007")+"/versions/latest", nil); st != 404 {
		t.Errorf("the deletion did not propagate: %d", st)
	}
	// An export of the mirror imports elsewhere.
	export := filepath.Join(dir, "export.json")
	mustRun(t, nil, bins.switchboard, "registry", "export", "--data-dir", mirrorDir, "--output", export)
	out = mustRun(t, nil, bins.switchboard, "registry", "sync", "--file", export, "--data-dir", filepath.Join(dir, "c"))
	if !strings.Contains(out, "imported 251 versions") {
		t.Fatalf("import:\n%s", out)
	}
}

// officialRegistry starts the official registry server on a database and
// returns its base URL.
func officialRegistry(t *testing.T, dsn string) string {
	t.Helper()
	port := freePort(t)
	env := []string{
		"MCP_REGISTRY_DATABASE_URL=" + dsn,
		fmt.Sprintf("MCP_REGISTRY_SERVER_ADDRESS=127.0.0.1:%d", port),
		"MCP_REGISTRY_JWT_PRIVATE_KEY=" + strings.Repeat("ab", 32),
		"MCP_REGISTRY_ENABLE_ANONYMOUS_AUTH=true",
		"MCP_REGISTRY_ENABLE_REGISTRY_VALIDATION=false",
		"MCP_REGISTRY_MALWARE_CHECK_MODE=off",
		"MCP_REGISTRY_SEED_FROM=",
		"MCP_REGISTRY_DATABASE_MAX_CONNECTIONS=20",
		"MCP_REGISTRY_DATABASE_MIN_CONNECTIONS=2",
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	p, _ := start(t, env, `Starting MCP Registry`, bins.official)
	go func() {}()
	waitHTTPOr(t, base+"/v0/health", p)
	return base
}

func waitHTTPOr(t *testing.T, u string, p *proc) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not answer:\n%s", u, p.output())
}

func anonymousToken(t *testing.T, base string) string {
	st, b := send(t, "POST", base+"/v0/auth/none", "", nil)
	if st != 200 {
		t.Fatalf("auth/none: %d %s", st, b)
	}
	var tr struct {
		Token string `json:"registry_token"`
	}
	json.Unmarshal(b, &tr)
	return tr.Token
}

// TestSyncFromOfficialRegistry mirrors the official registry server (on a
// PostgreSQL cluster the test starts), seeded through its own publish API,
// into Switchboard on SQLite and on PostgreSQL: everything arrives, an
// interrupted sync resumes, deletions and status changes propagate.
func TestSyncFromOfficialRegistry(t *testing.T) {
	newDB := startPostgres(t)
	off := officialRegistry(t, newDB("official"))
	tok := anonymousToken(t, off)
	const ns = "io.modelcontextprotocol.anonymous/"
	for i := range 120 {
		for _, v := range []string{"1.0.0", "1.1.0"} {
			if i%3 != 0 && v == "1.1.0" {
				continue
			}
			if st, b := send(t, "POST", off+"/v0/publish", tok, serverDoc(fmt.Sprintf("%ssrv-%03d", ns, i), v, "Seeded through the official publish API")); st != 200 {
				t.Fatalf("publish to the official registry: %d %s", st, b)
			}
		}
	}
	dir := t.TempDir()
	t.Run("errors like the official server", func(t *testing.T) {
		_, sb := startSwitchboardRegistry(t, "--data-dir", filepath.Join(dir, "errors"))
		compareErrors(t, off, sb)
	})
	var fail atomic.Int32
	fail.Store(2)
	proxy := flakyProxy(t, off, &fail)
	targets := []struct {
		name string
		args []string
	}{
		{"sqlite", []string{"--data-dir", filepath.Join(dir, "sqlite")}},
		{"postgres", []string{"--database", newDB("switchboard"), "--data-dir", filepath.Join(dir, "pg")}},
	}
	for _, tg := range targets {
		fail.Store(-1)
		if tg.name == "sqlite" {
			// Interrupt the first sync on its second page.
			fail.Store(2)
			if out, err := run(t, nil, bins.switchboard, append([]string{"registry", "sync", "--from", proxy}, tg.args...)...); err == nil {
				t.Fatalf("interrupted sync succeeded:\n%s", out)
			}
			fail.Store(-1)
		}
		out := mustRun(t, nil, bins.switchboard, append([]string{"registry", "sync", "--from", proxy}, tg.args...)...)
		t.Logf("%s: %s", tg.name, out)
		if tg.name == "sqlite" && !strings.Contains(out, "resumed") {
			t.Errorf("the sync did not resume:\n%s", out)
		}
	}
	// Status changes and a deletion at the official registry.
	tok = anonymousToken(t, off)
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/v0/servers/" + esc(ns+"srv-003") + "/versions/1.1.0/status", map[string]any{"status": "deleted", "statusMessage": "withdrawn"}},
		{"/v0/servers/" + esc(ns+"srv-010") + "/status", map[string]any{"status": "deprecated", "statusMessage": "superseded"}},
	} {
		if st, b := send(t, "PATCH", off+c.path, tok, c.body); st != 200 {
			t.Fatalf("status at the official registry: %d %s", st, b)
		}
	}
	send(t, "POST", off+"/v0/publish", tok, serverDoc(ns+"srv-010", "2.0.0", "Seeded through the official publish API"))
	want := snapshot(t, off)
	if len(want) != 161 {
		t.Fatalf("the official registry has %d versions", len(want))
	}
	for _, tg := range targets {
		out := mustRun(t, nil, bins.switchboard, append([]string{"registry", "sync", "--from", off}, tg.args...)...)
		t.Logf("%s: %s", tg.name, out)
		_, mirror := startSwitchboardRegistry(t, tg.args...)
		compare(t, want, snapshot(t, mirror))
		if st := getJSON(t, mirror+"/v0.1/servers/"+esc(ns+"srv-003")+"/versions/1.1.0", nil); st != 404 {
			t.Errorf("%s: the deleted version is served: %d", tg.name, st)
		}
		var e entry
		if getJSON(t, mirror+"/v0.1/servers/"+esc(ns+"srv-003")+"/versions/latest", &e); e.Server.Version != "1.0.0" {
			t.Errorf("%s: latest after the deletion: %+v", tg.name, e)
		}
		if getJSON(t, mirror+"/v0.1/servers/"+esc(ns+"srv-010")+"/versions/latest", &e); e.Server.Version != "2.0.0" {
			t.Errorf("%s: latest after a new version: %+v", tg.name, e)
		}
	}
}
