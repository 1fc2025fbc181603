package authserver

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testResource = "http://127.0.0.1:1/mcp" // only ever a name: never dialed
	testRedirect = "http://127.0.0.1:2/callback"
)

// asFixture is an authorization server on an httptest loopback server.
type asFixture struct {
	as     *Server
	opts   Options
	ts     *httptest.Server
	cur    atomic.Pointer[Server] // what ts serves
	client *http.Client           // follows no redirects
}

// restart replaces the server by a new one made from the same options
// (the same Storage, when they name one), on the same address: what a
// process restart does.
func (f *asFixture) restart(t *testing.T) {
	t.Helper()
	as, err := New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	f.as = as
	f.cur.Store(as)
}

func newAS(t *testing.T, mutate func(*Options)) *asFixture {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	opts := Options{
		Issuer:          "http://" + ts.Listener.Addr().String(),
		AutoApprove:     true,
		Resources:       []string{testResource},
		ScopesSupported: []string{"mcp", "files:read", "files:write"},
		Clients: []Client{
			{ID: "public-app", Name: "Public App", RedirectURIs: []string{testRedirect}},
			{ID: "svc", Secret: "svc-secret", Name: "Service"},
			{ID: "svc-post", Secret: "post-secret", AuthMethod: "client_secret_post"},
		},
	}
	if mutate != nil {
		mutate(&opts)
	}
	as, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f := &asFixture{as: as, opts: opts, ts: ts, client: &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	f.cur.Store(as)
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.cur.Load().ServeHTTP(w, r) })
	ts.Start()
	t.Cleanup(ts.Close)
	return f
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authParams returns a valid authorization request for public-app.
func authParams(challenge string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {"public-app"},
		"redirect_uri":          {testRedirect},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"resource":              {testResource},
		"scope":                 {"mcp files:read"},
		"state":                 {"st4te"},
	}
}

// authorize sends an authorization request and returns the response.
func (f *asFixture) authorize(t *testing.T, q url.Values) *http.Response {
	t.Helper()
	resp, err := f.client.Get(f.as.Issuer() + PathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// redirectParams returns the query of a redirect to testRedirect.
func redirectParams(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, want a redirect: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), testRedirect+"?") {
		t.Fatalf("redirected to %s", loc)
	}
	return loc.Query()
}

// code runs an auto-approved authorization request and returns the code.
func (f *asFixture) code(t *testing.T, q url.Values) string {
	t.Helper()
	p := redirectParams(t, f.authorize(t, q))
	if p.Get("error") != "" {
		t.Fatalf("authorization error %s: %s", p.Get("error"), p.Get("error_description"))
	}
	if p.Get("state") != q.Get("state") || p.Get("iss") != f.as.Issuer() {
		t.Fatalf("state/iss = %q/%q", p.Get("state"), p.Get("iss"))
	}
	return p.Get("code")
}

// post sends a form to path with optional Basic credentials and decodes
// the JSON answer.
func (f *asFixture) post(t *testing.T, path string, form url.Values, basic ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.as.Issuer()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(resp.Body)
	if len(body) > 0 {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control = %q", path, resp.Header.Get("Cache-Control"))
	}
	return resp.StatusCode, out
}

// exchange redeems a code for public-app.
func (f *asFixture) exchange(t *testing.T, code, verifier string) (int, map[string]any) {
	return f.post(t, PathToken, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"code_verifier": {verifier},
		"client_id":     {"public-app"},
		"redirect_uri":  {testRedirect},
		"resource":      {testResource},
	})
}

// wantOAuthError asserts an OAuth error response.
func wantOAuthError(t *testing.T, status int, body map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || body["error"] != code {
		t.Fatalf("got %d %v, want %d error=%s", status, body, wantStatus, code)
	}
}

func str(v any) string { s, _ := v.(string); return s }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
