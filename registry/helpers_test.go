package registry_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/registry"
	"github.com/switchboard-mcp/switchboard/store"
)

// openStore opens a registry store on a fresh SQLite data directory, or
// on PostgreSQL when SWITCHBOARD_TEST_POSTGRES names a database URL.
func openStore(t testing.TB) *registry.SQLStore {
	t.Helper()
	ctx := context.Background()
	if dsn := os.Getenv("SWITCHBOARD_TEST_POSTGRES"); dsn != "" {
		st, err := registry.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		for _, tbl := range []string{"registry_servers", "registry_curation", "registry_sync"} {
			if _, err := st.DB().ExecContext(ctx, "DELETE FROM "+tbl); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	db, err := store.Open(ctx, t.TempDir(), &store.Options{MasterKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h, dialect := db.RegistryDB()
	st, err := registry.OpenSQL(h, dialect)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// testKey is a fixed Ed25519 key for registry JWTs.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))

const adminToken = "admin-secret-token"

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

type env struct {
	t     testing.TB
	store *registry.SQLStore
	srv   *httptest.Server
	api   *registry.Server
	clock *clock
}

// newEnv starts a registry with an admin token and anonymous logins.
func newEnv(t testing.TB, mod func(*registry.Options)) *env {
	t.Helper()
	e := &env{t: t, store: openStore(t), clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	a, err := registry.NewAuth(registry.AuthOptions{Key: testKey, Anonymous: true, AdminTokens: []string{adminToken}})
	if err != nil {
		t.Fatal(err)
	}
	opts := registry.Options{Store: e.store, Auth: a, AnonymousReads: true, Now: e.clock.Now,
		Version: registry.VersionInfo{Version: "test", GitCommit: "abc", BuildTime: "now"}}
	if mod != nil {
		mod(&opts)
	}
	e.api, err = registry.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.api)
	t.Cleanup(e.srv.Close)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (e *env) do(method, path, token string, body any) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

// serverJSON returns a valid server.json for name and version.
func serverJSON(name, version, desc string) map[string]any {
	return map[string]any{
		"$schema":     registry.CurrentSchemaURL,
		"name":        name,
		"description": desc,
		"version":     version,
		"remotes":     []any{map[string]any{"type": "streamable-http", "url": "https://mcp.example.com/" + url.PathEscape(name)}},
	}
}

func (e *env) publish(name, version, desc string) registry.ServerResponse {
	e.t.Helper()
	r := e.do("POST", "/v0.1/publish", adminToken, serverJSON(name, version, desc))
	if r.status != 200 {
		e.t.Fatalf("publish %s@%s: %d %s", name, version, r.status, r.body)
	}
	var sr registry.ServerResponse
	r.json(e.t, &sr)
	return sr
}

func esc(s string) string { return url.PathEscape(s) }

func serverName(t testing.TB, sr registry.ServerResponse) string {
	var s struct{ Name, Version string }
	if err := json.Unmarshal(sr.Server, &s); err != nil {
		t.Fatal(err)
	}
	return s.Name + "@" + s.Version
}

func names(t testing.TB, l registry.ServerList) string {
	var out []string
	for _, s := range l.Servers {
		out = append(out, serverName(t, s))
	}
	return strings.Join(out, ",")
}

var _ = fmt.Sprint

func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// put stores a version directly, bypassing the API's policy.
func (e *env) put(name, version, desc string) {
	e.t.Helper()
	doc, _ := json.Marshal(serverJSON(name, version, desc))
	if _, err := e.store.Publish(context.Background(), &registry.ServerJSON{Name: name, Version: version, Description: desc}, doc, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
}
