package registry_test

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/pgtest"
	"github.com/switchboard-mcp/switchboard/registry"
)

func TestPublishAndRead(t *testing.T) {
	e := newEnv(t, nil)
	p1 := e.publish("com.example/weather", "1.0.0", "Weather forecasts")
	if o := p1.Meta.Official; o == nil || o.Status != registry.StatusActive || !o.IsLatest || o.PublishedAt.IsZero() || !o.StatusChangedAt.Equal(o.PublishedAt) || !o.UpdatedAt.Equal(o.PublishedAt) {
		t.Fatalf("official meta %+v", p1.Meta.Official)
	}
	e.publish("com.example/weather", "1.1.0", "Weather forecasts")
	e.publish("com.example/weather", "1.0.1", "Weather forecasts") // lower: not latest
	e.publish("com.example/files", "0.1.0", "File access for agents")

	var l registry.ServerList
	r := e.do("GET", "/v0.1/servers", "", nil)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("list: %d %v", r.status, r.header)
	}
	r.json(t, &l)
	if got, want := names(t, l), "com.example/files@0.1.0,com.example/weather@1.0.0,com.example/weather@1.0.1,com.example/weather@1.1.0"; got != want {
		t.Fatalf("list order:\n got %s\nwant %s", got, want)
	}
	if l.Metadata.Count != 4 || l.Metadata.NextCursor != "" {
		t.Fatalf("metadata %+v", l.Metadata)
	}

	var one registry.ServerResponse
	r = e.do("GET", "/v0.1/servers/"+esc("com.example/weather")+"/versions/latest", "", nil)
	r.json(t, &one)
	if r.status != 200 || serverName(t, one) != "com.example/weather@1.1.0" || !one.Meta.Official.IsLatest {
		t.Fatalf("latest: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/v0.1/servers/"+esc("com.example/weather")+"/versions/1.0.1", "", nil)
	r.json(t, &one)
	if r.status != 200 || serverName(t, one) != "com.example/weather@1.0.1" || one.Meta.Official.IsLatest {
		t.Fatalf("exact: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/v0.1/servers/"+esc("com.example/weather")+"/versions", "", nil)
	r.json(t, &l)
	if r.status != 200 || l.Metadata.Count != 3 || names(t, l) != "com.example/weather@1.0.1,com.example/weather@1.1.0,com.example/weather@1.0.0" {
		t.Fatalf("versions (newest publication first): %d %s", r.status, names(t, l))
	}
	for _, p := range []string{"/v0.1/servers/" + esc("com.example/nope") + "/versions/latest", "/v0.1/servers/" + esc("com.example/nope") + "/versions", "/v0.1/servers/" + esc("com.example/weather") + "/versions/9.9.9"} {
		if r := e.do("GET", p, "", nil); r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
	}
	// v0 answers the same.
	if r := e.do("GET", "/v0/servers?version=latest", "", nil); r.status != 200 {
		t.Fatalf("v0: %d", r.status)
	} else {
		r.json(t, &l)
		if names(t, l) != "com.example/files@0.1.0,com.example/weather@1.1.0" {
			t.Fatalf("version=latest: %s", names(t, l))
		}
	}
	// Duplicate version: 400.
	if r := e.do("POST", "/v0.1/publish", adminToken, serverJSON("com.example/weather", "1.1.0", "x")); r.status != 400 {
		t.Fatalf("duplicate: %d %s", r.status, r.body)
	}
}

func TestListParameters(t *testing.T) { listParameters(t) }

// The list queries on PostgreSQL (search has its own index there).
func TestListParametersPostgres(t *testing.T) {
	t.Setenv("SWITCHBOARD_TEST_POSTGRES", pgtest.DSN(t))
	listParameters(t)
}

func listParameters(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 25 {
		e.publish(fmt.Sprintf("io.acme/srv-%02d", i), "1.0.0", fmt.Sprintf("Server number %d", i))
	}
	e.publish("io.acme/srv-03", "2.0.0", "Server number 3, now with a filesystem")
	e.publish("org.other/thing", "1.0.0", "Reads the FILESYSTEM")
	mid := e.clock.Now()
	e.publish("org.other/late", "1.0.0", "Published late")

	// Pages of 10 walk everything once, in order.
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		r := e.do("GET", "/v0.1/servers?limit=10&cursor="+esc(cursor), "", nil)
		var l registry.ServerList
		r.json(t, &l)
		if r.status != 200 || pages > 5 {
			t.Fatalf("page %d: %d", pages, r.status)
		}
		for _, s := range l.Servers {
			all = append(all, serverName(t, s))
		}
		if l.Metadata.NextCursor == "" {
			break
		}
		cursor = l.Metadata.NextCursor
	}
	if len(all) != 28 || all[0] != "io.acme/srv-00@1.0.0" || all[27] != "org.other/thing@1.0.0" {
		t.Fatalf("paging: %d %v", len(all), all)
	}

	tests := []struct {
		query, want string
	}{
		{"search=FILESYSTEM", "io.acme/srv-03@2.0.0,org.other/thing@1.0.0"},
		{"search=other", "org.other/late@1.0.0,org.other/thing@1.0.0"},
		{"search=srv-2&version=latest", "io.acme/srv-20@1.0.0,io.acme/srv-21@1.0.0,io.acme/srv-22@1.0.0,io.acme/srv-23@1.0.0,io.acme/srv-24@1.0.0"},
		{"version=2.0.0", "io.acme/srv-03@2.0.0"},
		{"updated_since=" + mid.Format(time.RFC3339Nano), "org.other/late@1.0.0"},
		{"search=nothing-like-this", ""},
		{"search=filesystem&version=latest", "io.acme/srv-03@2.0.0,org.other/thing@1.0.0"},
		{"search=srv_2", ""},          // "_" is not a wildcard
		{"search=thingreads", ""},     // no match across name and description
		{"search=%01reads%20the", ""}, // a term the search index cannot hold
		{"search=ther/thin", "org.other/thing@1.0.0"},
	}
	for _, tc := range tests {
		var l registry.ServerList
		r := e.do("GET", "/v0.1/servers?"+tc.query, "", nil)
		r.json(t, &l)
		if r.status != 200 || names(t, l) != tc.want {
			t.Errorf("%s: %d %q, want %q", tc.query, r.status, names(t, l), tc.want)
		}
	}

	bad := []struct {
		query  string
		status int
		has    string
	}{
		{"limit=0", 422, "expected number >= 1"},
		{"limit=101", 422, "expected number <= 100"},
		{"limit=abc", 422, "invalid integer"},
		{"include_deleted=maybe", 422, "invalid boolean"},
		{"search=ab", 422, "at least 3 characters"},
		{"search=%20ab%20", 422, "at least 3 characters"},
		{"updated_since=yesterday", 400, "RFC3339"},
		{"updated_since=2026-01-01T00:00:00Z&include_deleted=false", 400, "include_deleted=false"},
	}
	for _, tc := range bad {
		r := e.do("GET", "/v0.1/servers?"+tc.query, "", nil)
		if r.status != tc.status || r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(r.body), tc.has) {
			t.Errorf("%s: %d %s %s", tc.query, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
}

func TestStatusChanges(t *testing.T) {
	e := newEnv(t, nil)
	e.publish("com.example/srv", "1.0.0", "A server")
	e.publish("com.example/srv", "2.0.0", "A server")
	n := esc("com.example/srv")
	msg := "use 3.x"

	// Deprecate one version with a message.
	r := e.do("PATCH", "/v0.1/servers/"+n+"/versions/2.0.0/status", adminToken, map[string]any{"status": "deprecated", "statusMessage": msg})
	var one registry.ServerResponse
	r.json(t, &one)
	o := one.Meta.Official
	if r.status != 200 || o.Status != registry.StatusDeprecated || o.StatusMessage == nil || *o.StatusMessage != msg || !o.IsLatest || !o.StatusChangedAt.After(o.PublishedAt) || !o.UpdatedAt.Equal(o.StatusChangedAt) {
		t.Fatalf("deprecate: %d %s", r.status, r.body)
	}
	// The same again: 400 no changes.
	if r := e.do("PATCH", "/v0.1/servers/"+n+"/versions/2.0.0/status", adminToken, map[string]any{"status": "deprecated", "statusMessage": msg}); r.status != 400 {
		t.Fatalf("no-op: %d %s", r.status, r.body)
	}
	// A message with active: 400.
	if r := e.do("PATCH", "/v0.1/servers/"+n+"/versions/2.0.0/status", adminToken, map[string]any{"status": "active", "statusMessage": "x"}); r.status != 400 {
		t.Fatalf("active+message: %d", r.status)
	}
	// Bad bodies: 422.
	for _, b := range []any{map[string]any{"status": "gone"}, map[string]any{}, map[string]any{"status": "deprecated", "statusMessage": strings.Repeat("x", 501)}} {
		if r := e.do("PATCH", "/v0.1/servers/"+n+"/versions/2.0.0/status", adminToken, b); r.status != 422 {
			t.Fatalf("%v: %d %s", b, r.status, r.body)
		}
	}
	// Delete the latest: latest moves to 1.0.0; deleted versions vanish
	// from reads unless include_deleted.
	if r := e.do("PATCH", "/v0.1/servers/"+n+"/versions/2.0.0/status", adminToken, map[string]any{"status": "deleted"}); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/v0.1/servers/"+n+"/versions/latest", "", nil)
	r.json(t, &one)
	if serverName(t, one) != "com.example/srv@1.0.0" {
		t.Fatalf("latest after delete: %s", r.body)
	}
	if r := e.do("GET", "/v0.1/servers/"+n+"/versions/2.0.0", "", nil); r.status != 404 {
		t.Fatalf("deleted version: %d", r.status)
	}
	if r := e.do("GET", "/v0.1/servers/"+n+"/versions/2.0.0?include_deleted=true", "", nil); r.status != 200 {
		t.Fatalf("deleted version with include_deleted: %d", r.status)
	}
	var l registry.ServerList
	e.do("GET", "/v0.1/servers", "", nil).json(t, &l)
	if names(t, l) != "com.example/srv@1.0.0" {
		t.Fatalf("list hides deleted: %s", names(t, l))
	}
	e.do("GET", "/v0.1/servers?include_deleted=true", "", nil).json(t, &l)
	if names(t, l) != "com.example/srv@1.0.0,com.example/srv@2.0.0" {
		t.Fatalf("include_deleted: %s", names(t, l))
	}

	// All versions at once.
	r = e.do("PATCH", "/v0.1/servers/"+n+"/status", adminToken, map[string]any{"status": "deprecated", "statusMessage": "server retired"})
	var all registry.AllVersionsStatusResponse
	r.json(t, &all)
	if r.status != 200 || all.UpdatedCount != 2 || len(all.Servers) != 2 {
		t.Fatalf("all versions: %d %s", r.status, r.body)
	}
	for _, s := range all.Servers {
		if s.Meta.Official.Status != registry.StatusDeprecated || *s.Meta.Official.StatusMessage != "server retired" {
			t.Fatalf("all versions: %s", r.body)
		}
	}
	if r := e.do("PATCH", "/v0.1/servers/"+n+"/status", adminToken, map[string]any{"status": "deprecated", "statusMessage": "server retired"}); r.status != 400 {
		t.Fatalf("all versions no-op: %d", r.status)
	}
	if r := e.do("PATCH", "/v0.1/servers/"+esc("com.example/none")+"/status", adminToken, map[string]any{"status": "deprecated"}); r.status != 404 {
		t.Fatalf("unknown: %d", r.status)
	}
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t, nil)
	doc := serverJSON("com.example/aa", "1.0.0", "A")
	// No Authorization header: 422 (as the official server); a bad
	// token: 401.
	if r := e.do("POST", "/v0/publish", "", doc); r.status != 422 || !strings.Contains(string(r.body), "header.Authorization") {
		t.Fatalf("no token: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v0/publish", "not-a-jwt", doc); r.status != 401 {
		t.Fatalf("bad token: %d", r.status)
	}
	// An anonymous token may publish only its namespace.
	var tr registry.TokenResponse
	r := e.do("POST", "/v0/auth/none", "", nil)
	r.json(t, &tr)
	if r.status != 200 || tr.RegistryToken == "" || tr.ExpiresAt <= time.Now().Unix() {
		t.Fatalf("auth/none: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v0/publish", tr.RegistryToken, doc); r.status != 403 || !strings.Contains(string(r.body), "io.modelcontextprotocol.anonymous/*") {
		t.Fatalf("foreign namespace: %d %s", r.status, r.body)
	}
	anon := serverJSON(registry.AnonymousNamespace+"/test", "1.0.0", "Anonymous")
	if r := e.do("POST", "/v0/publish", tr.RegistryToken, anon); r.status != 200 {
		t.Fatalf("own namespace: %d %s", r.status, r.body)
	}
	// Status changes need publish or edit on the name.
	e.publish("com.example/aa", "1.0.0", "A")
	if r := e.do("PATCH", "/v0.1/servers/"+esc("com.example/aa")+"/status", tr.RegistryToken, map[string]any{"status": "deprecated"}); r.status != 403 {
		t.Fatalf("foreign status: %d", r.status)
	}
	// Login methods not enabled: 404.
	for _, m := range []string{"http", "dns", "oidc", "github-at"} {
		if r := e.do("POST", "/v0/auth/"+m, "", map[string]string{}); r.status != 404 {
			t.Fatalf("auth/%s: %d", m, r.status)
		}
	}
	// The token is an EdDSA JWT of the official form.
	c, err := registry.ParseToken(tr.RegistryToken, testKey.Public().(ed25519.PublicKey), time.Now())
	if err != nil || c.Issuer != registry.TokenIssuer || c.AuthMethod != "none" || len(c.Permissions) != 2 || c.Expiry.Time().Sub(c.IssuedAt.Time()) != 5*time.Minute {
		t.Fatalf("claims %+v %v", c, err)
	}
}

func TestReadsBehindToken(t *testing.T) {
	e := newEnv(t, func(o *registry.Options) { o.AnonymousReads = false; o.ReadTokens = []string{"reader"} })
	e.publish("com.example/aa", "1.0.0", "A")
	if r := e.do("GET", "/v0.1/servers", "", nil); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous: %d", r.status)
	}
	for _, tok := range []string{"reader", adminToken} {
		if r := e.do("GET", "/v0.1/servers/"+esc("com.example/aa")+"/versions/latest", tok, nil); r.status != 200 {
			t.Fatalf("%s: %d", tok, r.status)
		}
	}
	if r := e.do("GET", "/v0.1/health", "", nil); r.status != 200 {
		t.Fatalf("health: %d", r.status)
	}
}

func TestOpsRoutes(t *testing.T) {
	e := newEnv(t, nil)
	for path, want := range map[string]string{
		"/v0.1/health":  `{"status":"ok"}`,
		"/v0/ping":      `{"pong":true}`,
		"/v0.1/version": `{"version":"test","git_commit":"abc","build_time":"now"}`,
	} {
		r := e.do("GET", path, "", nil)
		if r.status != 200 || strings.TrimSpace(string(r.body)) != want {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
	if r := e.do("GET", "/openapi.yaml", "", nil); r.status != 200 || !strings.Contains(string(r.body), "openapi: 3.1.0") {
		t.Errorf("openapi.yaml: %d", r.status)
	}
	if r := e.do("GET", "/openapi.json", "", nil); r.status != 200 || !strings.Contains(string(r.body), `"openapi":"3.1.0"`) {
		t.Errorf("openapi.json: %d %.80s", r.status, r.body)
	}
	if r := e.do("GET", "/v0.1/servers/", "", nil); r.status != 200 {
		t.Errorf("trailing slash (followed): %d", r.status)
	}
	if r := e.do("GET", "/v0.1/nothing", "", nil); r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown route: %d", r.status)
	}
	if r := e.do("GET", "/v0.1/servers?search=%00abc", "", nil); r.status != 400 {
		t.Errorf("NUL: %d", r.status)
	}
	if r := e.do("DELETE", "/v0.1/servers/"+esc("com.example/aa")+"/versions/1.0.0", adminToken, nil); r.status != 501 {
		t.Errorf("delete: %d", r.status)
	}
	// A CORS preflight.
	r := e.do("OPTIONS", "/v0.1/servers", "", nil)
	_ = r
}
