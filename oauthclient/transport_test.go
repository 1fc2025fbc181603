package oauthclient

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAuthorizationCodeFlow(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	rs := newTestRS(t, as)
	rt := NewTransport(nil, baseConfig(rs))
	c := &http.Client{Transport: rt}

	for i := range 3 {
		if st, _ := call(t, ctx, c, rs.mcpURL(), fmt.Sprintf("m%d", i)); st != 200 {
			t.Fatalf("request %d: HTTP %d", i, st)
		}
	}
	_, auths, tokens, regs := as.counts()
	if auths != 1 || tokens != 1 || regs != 1 {
		t.Fatalf("authorizations=%d token requests=%d registrations=%d, want 1 each", auths, tokens, regs)
	}
	q := as.lastAuth()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("PKCE parameters %q %q", q.Get("code_challenge_method"), q.Get("code_challenge"))
	}
	if q.Get("resource") != rs.mcpURL() {
		t.Errorf("authorization resource = %q, want %q", q.Get("resource"), rs.mcpURL())
	}
	if q.Get("state") == "" || q.Get("redirect_uri") != testRedirect || q.Get("response_type") != "code" {
		t.Errorf("authorization request %v", q)
	}
	if q.Has("scope") {
		t.Errorf("scope %q sent although nothing names scopes", q.Get("scope"))
	}
	tr := as.tokenRequests()[0]
	if tr.form.Get("resource") != rs.mcpURL() || tr.form.Get("code_verifier") == "" || tr.method != "none" {
		t.Errorf("token request %v (method %s)", tr.form, tr.method)
	}
	// First request without a token, then three with the same one.
	h := rs.headers()
	if len(h) != 4 || h[0] != "" || h[1] == "" || h[1] != h[2] || h[2] != h[3] {
		t.Errorf("Authorization headers at the server: %q", h)
	}
	if tok := rt.Token(); tok == nil || tok.Issuer != as.issuer() || tok.Resource != rs.mcpURL() || tok.ClientID == "" {
		t.Errorf("token %v", tok)
	}
	// The PRM came from the header: no well-known probing.
	if f := rs.fetches(); !reflect.DeepEqual(f, []string{"/.well-known/oauth-protected-resource/mcp"}) {
		t.Errorf("PRM fetches %q", f)
	}
	// DCR sent native application_type and refresh_token grant type.
	reg := as.regs[0]
	if reg["application_type"] != "native" || !slices.Contains(toStrings(reg["grant_types"]), "refresh_token") || !slices.Contains(toStrings(reg["redirect_uris"]), testRedirect) {
		t.Errorf("registration request %v", reg)
	}
}

func toStrings(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestBodyReplay(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	rs := newTestRS(t, as)
	c := &http.Client{Transport: NewTransport(nil, baseConfig(rs))}
	tests := []struct {
		name string
		body func(string) io.Reader
	}{
		{"GetBody from bytes.Reader", func(s string) io.Reader { return bytes.NewReader([]byte(s)) }},
		{"buffered", func(s string) io.Reader { return io.NopCloser(strings.NewReader(s)) }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as.revokeAll() // every request meets a 401 first
			body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"x","params":{"pad":%q}}`, i, strings.Repeat("p", 100000))
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, rs.mcpURL(), tt.body(body))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(got) != body {
				t.Fatalf("HTTP %d, body of %d bytes", resp.StatusCode, len(got))
			}
		})
	}
}

func TestBodyTooLargeToReplay(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	rs := newTestRS(t, as)
	cfg := baseConfig(rs)
	cfg.MaxBufferedBody = 10
	c := &http.Client{Transport: NewTransport(nil, cfg)}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, rs.mcpURL(), io.NopCloser(strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"big"}`)))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("HTTP %d, want the 401 passed through", resp.StatusCode)
	}
	if b := rs.bodies[0]; !strings.Contains(b, `"big"`) {
		t.Errorf("server got body %q", b)
	}
}

func TestScopeSelection(t *testing.T) {
	tests := []struct {
		name            string
		challengeScope  []string
		scopesSupported []string
		asScopes        []string
		cfgScopes       []string
		noOffline       bool
		want            string // "" means the scope parameter is omitted
	}{
		{name: "from WWW-Authenticate", challengeScope: []string{"mcp:basic"}, scopesSupported: []string{"mcp:basic", "mcp:write"}, want: "mcp:basic"},
		{name: "from scopes_supported", scopesSupported: []string{"mcp:basic", "mcp:read", "mcp:write"}, want: "mcp:basic mcp:read mcp:write"},
		{name: "omitted when undefined", want: ""},
		{name: "config override", challengeScope: []string{"mcp:basic"}, cfgScopes: []string{"custom"}, want: "custom"},
		{name: "offline_access added when the AS lists it", scopesSupported: []string{"mcp:basic"}, asScopes: []string{"mcp:basic", "offline_access"}, want: "mcp:basic offline_access"},
		{name: "offline_access not added when the AS does not list it", scopesSupported: []string{"mcp:basic"}, asScopes: []string{"mcp:basic"}, want: "mcp:basic"},
		{name: "offline_access disabled", scopesSupported: []string{"mcp:basic"}, asScopes: []string{"offline_access"}, noOffline: true, want: "mcp:basic"},
		{name: "offline_access not added to an omitted scope", asScopes: []string{"offline_access"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			as := newTestAS(t)
			as.scopes = tt.asScopes
			rs := newTestRS(t, as)
			rs.challengeScope = tt.challengeScope
			rs.scopesSupported = tt.scopesSupported
			cfg := baseConfig(rs)
			cfg.Scopes = tt.cfgScopes
			cfg.DisableOfflineAccess = tt.noOffline
			c := &http.Client{Transport: NewTransport(nil, cfg)}
			if st, _ := call(t, ctx, c, rs.mcpURL(), "tools/list"); st != 200 {
				t.Fatalf("HTTP %d", st)
			}
			q := as.lastAuth()
			if got := q.Get("scope"); got != tt.want || (tt.want == "" && q.Has("scope")) {
				t.Errorf("scope = %q (present %v), want %q", got, q.Has("scope"), tt.want)
			}
		})
	}
}

func TestStepUp(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	rs := newTestRS(t, as)
	rs.challengeScope = []string{"mcp:basic"}
	rs.openMethods = []string{"initialize"}
	rs.required = func(body string) []string {
		if strings.Contains(body, `"tools/call"`) {
			return []string{"mcp:write"} // per-operation challenge (2026-07-28 style)
		}
		return []string{"mcp:basic"}
	}
	c := &http.Client{Transport: NewTransport(nil, baseConfig(rs))}
	for _, m := range []string{"initialize", "tools/list", "tools/call", "tools/list", "tools/call"} {
		if st, _ := call(t, ctx, c, rs.mcpURL(), m); st != 200 {
			t.Fatalf("%s: HTTP %d", m, st)
		}
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if len(as.authReqs) != 2 {
		t.Fatalf("%d authorizations, want 2", len(as.authReqs))
	}
	if s := as.authReqs[0].Get("scope"); s != "mcp:basic" {
		t.Errorf("first authorization scope %q", s)
	}
	if s := as.authReqs[1].Get("scope"); s != "mcp:basic mcp:write" {
		t.Errorf("step-up scope %q, want the union", s)
	}
	if len(as.regs) != 1 {
		t.Errorf("%d registrations, want 1", len(as.regs))
	}
}

func TestStepUpRetryLimit(t *testing.T) {
	for _, max := range []int{0, 1, 3, -1} {
		t.Run(fmt.Sprint("max=", max), func(t *testing.T) {
			ctx := testCtx(t)
			as := newTestAS(t)
			rs := newTestRS(t, as)
			rs.challengeScope = []string{"mcp:admin"}
			rs.required = func(string) []string { return []string{"mcp:admin", "mcp:impossible"} }
			as.withhold = []string{"mcp:impossible"}
			cfg := baseConfig(rs)
			cfg.MaxStepUps = max
			c := &http.Client{Transport: NewTransport(nil, cfg)}
			st, _ := call(t, ctx, c, rs.mcpURL(), "tools/call")
			if st != http.StatusForbidden {
				t.Fatalf("HTTP %d, want the final 403", st)
			}
			want := max
			switch max {
			case 0:
				want = 2 // the default
			case -1:
				want = 0
			}
			_, auths, _, _ := as.counts()
			if auths != 1+want {
				t.Errorf("%d authorizations, want %d", auths, 1+want)
			}
		})
	}
}

func TestRefreshOnExpiry(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	as.refresh = true
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	as.now = clock
	rs := newTestRS(t, as)
	cfg := baseConfig(rs)
	cfg.Now = clock
	rt := NewTransport(nil, cfg)
	c := &http.Client{Transport: rt}
	call(t, ctx, c, rs.mcpURL(), "a")
	first := rt.Token()
	now.Add(int64(2 * time.Hour))
	if st, _ := call(t, ctx, c, rs.mcpURL(), "b"); st != 200 {
		t.Fatalf("HTTP %d", st)
	}
	second := rt.Token()
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken {
		t.Error("token not refreshed (or refresh token not rotated)")
	}
	_, auths, _, _ := as.counts()
	if auths != 1 {
		t.Errorf("%d authorizations, want 1 (the refresh replaces the second)", auths)
	}
	trs := as.tokenRequests()
	last := trs[len(trs)-1]
	if last.form.Get("grant_type") != "refresh_token" || last.form.Get("resource") != rs.mcpURL() {
		t.Errorf("refresh request %v", last.form)
	}
	// The server never saw the expired token after the expiry: headers
	// are "", first, second.
	if h := rs.headers(); len(h) != 3 || h[1] != "Bearer "+first.AccessToken || h[2] != "Bearer "+second.AccessToken {
		t.Errorf("Authorization headers %d, want [\"\" first second]", len(h))
	}
}

func TestRefreshOn401(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	as.refresh = true
	rs := newTestRS(t, as)
	rt := NewTransport(nil, baseConfig(rs))
	c := &http.Client{Transport: rt}
	call(t, ctx, c, rs.mcpURL(), "a")
	as.revokeAll() // access tokens die, refresh tokens live
	if st, _ := call(t, ctx, c, rs.mcpURL(), "b"); st != 200 {
		t.Fatalf("HTTP %d", st)
	}
	_, auths, tokens, _ := as.counts()
	if auths != 1 || tokens != 2 {
		t.Errorf("authorizations=%d token requests=%d, want 1 and 2", auths, tokens)
	}
	// A dead refresh token leads to a new authorization.
	as.mu.Lock()
	clear(as.access)
	clear(as.refreshTokens)
	as.mu.Unlock()
	if st, _ := call(t, ctx, c, rs.mcpURL(), "c"); st != 200 {
		t.Fatalf("HTTP %d", st)
	}
	_, auths, _, _ = as.counts()
	if auths != 2 {
		t.Errorf("%d authorizations after the refresh token died, want 2", auths)
	}
}

func TestTokenEndpointAuthMethods(t *testing.T) {
	tests := []struct {
		name       string
		supported  []string
		preID      string
		preSecret  string
		wantMethod string
		wantReg    bool
		wantRetry  bool
	}{
		{name: "DCR public", supported: []string{"none"}, wantMethod: "none", wantReg: true},
		{name: "DCR basic", supported: []string{"client_secret_basic"}, wantMethod: "client_secret_basic", wantReg: true},
		{name: "DCR post", supported: []string{"client_secret_post"}, wantMethod: "client_secret_post", wantReg: true},
		{name: "pre-registered basic", supported: []string{"client_secret_basic"}, preID: "pre id:1", preSecret: "s3cr%t:+", wantMethod: "client_secret_basic"},
		{name: "pre-registered post", supported: []string{"client_secret_post"}, preID: "pre", preSecret: "s", wantMethod: "client_secret_post"},
		{name: "pre-registered public", supported: []string{"none", "client_secret_basic"}, preID: "pre", wantMethod: "none"},
		// The server registered post but lists both: basic is refused
		// with invalid_client, then post works.
		{name: "pre-registered post, detected", supported: []string{"client_secret_basic", "client_secret_post"}, preID: "pre", preSecret: "s", wantMethod: "client_secret_post", wantRetry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			as := newTestAS(t)
			as.authMethods = tt.supported
			if tt.preID != "" {
				as.dcr = false
				as.clients[tt.preID] = &asClient{id: tt.preID, secret: tt.preSecret, method: tt.wantMethod, redirects: []string{testRedirect}}
			}
			rs := newTestRS(t, as)
			cfg := baseConfig(rs)
			cfg.ClientID, cfg.ClientSecret = tt.preID, tt.preSecret
			c := &http.Client{Transport: NewTransport(nil, cfg)}
			if st, _ := call(t, ctx, c, rs.mcpURL(), "x"); st != 200 {
				t.Fatalf("HTTP %d; token requests %v", st, as.tokenRequests())
			}
			trs := as.tokenRequests()
			if want := map[bool]int{false: 1, true: 2}[tt.wantRetry]; len(trs) != want {
				t.Fatalf("%d token requests, want %d", len(trs), want)
			}
			tr := trs[len(trs)-1]
			if tr.method != tt.wantMethod {
				t.Errorf("token endpoint auth %s, want %s", tr.method, tt.wantMethod)
			}
			if tt.wantMethod == "client_secret_basic" && tr.form.Has("client_secret") {
				t.Error("secret sent in the body as well")
			}
			if _, _, _, regs := as.counts(); (regs == 1) != tt.wantReg {
				t.Errorf("%d registrations", regs)
			}
		})
	}
}

func TestNoClientRegistration(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	as.dcr = false
	rs := newTestRS(t, as)
	c := &http.Client{Transport: NewTransport(nil, baseConfig(rs))}
	if err := callErr(ctx, c, rs.mcpURL(), "x"); !errors.Is(err, ErrNoClient) {
		t.Fatalf("err = %v, want ErrNoClient", err)
	}
}

// cimdServer serves a Client ID Metadata Document over TLS.
func cimdServer(t *testing.T, cfg *Config) (*httptest.Server, string) {
	var docURL string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/client.json" {
			http.NotFound(w, r)
			return
		}
		c := *cfg
		c.ClientMetadataURL = docURL
		writeJSON(w, 200, c.MetadataDocument())
	}))
	t.Cleanup(srv.Close)
	docURL = srv.URL + "/oauth/client.json"
	return srv, docURL
}

func TestClientIDMetadataDocument(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	as.cimd = true
	as.authMethods = []string{"none"}
	rs := newTestRS(t, as)
	cfg := baseConfig(rs)
	srv, docURL := cimdServer(t, cfg)
	as.cimdClient = srv.Client()
	cfg.ClientMetadataURL = docURL
	c := &http.Client{Transport: NewTransport(nil, cfg)}
	if st, _ := call(t, ctx, c, rs.mcpURL(), "x"); st != 200 {
		t.Fatalf("HTTP %d", st)
	}
	if got := as.lastAuth().Get("client_id"); got != docURL {
		t.Errorf("client_id %q, want the document URL", got)
	}
	if _, _, _, regs := as.counts(); regs != 0 {
		t.Errorf("%d registrations with CIMD available", regs)
	}

	// Pre-registered credentials come first even when CIMD is available.
	as2 := newTestAS(t)
	as2.cimd = true
	as2.clients["pre"] = &asClient{id: "pre", method: "none", redirects: []string{testRedirect}}
	rs2 := newTestRS(t, as2)
	cfg2 := baseConfig(rs2)
	cfg2.ClientID = "pre"
	cfg2.ClientMetadataURL = docURL
	c2 := &http.Client{Transport: NewTransport(nil, cfg2)}
	if st, _ := call(t, ctx, c2, rs2.mcpURL(), "x"); st != 200 {
		t.Fatalf("HTTP %d", st)
	}
	if got := as2.lastAuth().Get("client_id"); got != "pre" {
		t.Errorf("client_id %q, want the pre-registered one", got)
	}

	// Without AS support, CIMD is skipped for DCR; an invalid CIMD URL is
	// refused when it would be used.
	cfg3 := baseConfig(rs)
	cfg3.ClientMetadataURL = "http://insecure.example/client.json"
	c3 := &http.Client{Transport: NewTransport(nil, cfg3)}
	if err := callErr(ctx, c3, rs.mcpURL(), "x"); err == nil || !strings.Contains(err.Error(), "https URL with a path") {
		t.Errorf("err = %v, want a refusal of the non-https client metadata URL", err)
	}
}

func TestRefusesASWithoutS256(t *testing.T) {
	for _, methods := range [][]string{nil, {"plain"}} {
		ctx := testCtx(t)
		as := newTestAS(t)
		as.mod = func(m *AuthServerMetadata) { m.CodeChallengeMethodsSupported = methods }
		rs := newTestRS(t, as)
		c := &http.Client{Transport: NewTransport(nil, baseConfig(rs))}
		if err := callErr(ctx, c, rs.mcpURL(), "x"); !errors.Is(err, ErrNoPKCE) {
			t.Errorf("%v: err = %v, want ErrNoPKCE", methods, err)
		}
		if _, auths, _, regs := as.counts(); auths != 0 || regs != 0 {
			t.Errorf("%v: authorization or registration attempted", methods)
		}
	}
}

func TestIssuerCheck(t *testing.T) {
	tests := []struct {
		name      string
		supported bool
		iss       string
		wantErr   error
	}{
		{name: "advertised and correct", supported: true, iss: "correct"},
		{name: "advertised and wrong", supported: true, iss: "https://evil.example.com", wantErr: ErrIssuerMismatch},
		{name: "advertised and missing", supported: true, iss: "", wantErr: ErrIssuerMismatch},
		{name: "not advertised, present and wrong", iss: "https://evil.example.com", wantErr: ErrIssuerMismatch},
		{name: "not advertised, present and right", iss: "correct"},
		{name: "not advertised and missing", iss: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			as := newTestAS(t)
			as.issSupported = tt.supported
			as.issInResponse = tt.iss
			rs := newTestRS(t, as)
			c := &http.Client{Transport: NewTransport(nil, baseConfig(rs))}
			if tt.wantErr == nil {
				if st, _ := call(t, ctx, c, rs.mcpURL(), "x"); st != 200 {
					t.Fatalf("HTTP %d", st)
				}
				return
			}
			if err := callErr(ctx, c, rs.mcpURL(), "x"); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if _, _, tokens, _ := as.counts(); tokens != 0 {
				t.Error("the code was redeemed despite the iss mismatch")
			}
		})
	}
}

func TestStateMismatchRefused(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	rs := newTestRS(t, as)
	cfg := baseConfig(rs)
	inner := HeadlessAuthorize(nil)
	cfg.Authorize = func(ctx context.Context, u string) (*AuthorizationResponse, error) {
		r, err := inner(ctx, u)
		if r != nil {
			r.State = "forged"
		}
		return r, err
	}
	c := &http.Client{Transport: NewTransport(nil, cfg)}
	if err := callErr(ctx, c, rs.mcpURL(), "x"); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("err = %v, want ErrStateMismatch", err)
	}
}

func TestTokenNotSentCrossOrigin(t *testing.T) {
	ctx := testCtx(t)
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		w.WriteHeader(http.StatusUnauthorized) // and it asks for one
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="http://127.0.0.1:1/x"`)
	}))
	defer other.Close()
	as := newTestAS(t)
	rs := newTestRS(t, as)
	// The MCP server redirects one path to the other origin.
	redirector := http.NewServeMux()
	redirector.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	})
	redirector.Handle("/", rs.srv.Config.Handler)
	rs.srv.Config.Handler = redirector
	rt := NewTransport(nil, baseConfig(rs))
	c := &http.Client{Transport: rt}
	if st, _ := call(t, ctx, c, rs.mcpURL(), "x"); st != 200 {
		t.Fatalf("HTTP %d", st)
	}
	// Direct request to another origin, and a redirect to it.
	for _, u := range []string{other.URL + "/mcp", rs.srv.URL + "/elsewhere"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: HTTP %d, want the other origin's 401 untouched", u, resp.StatusCode)
		}
	}
	if leaked.Load() != 0 {
		t.Fatalf("the token reached another origin %d times", leaked.Load())
	}
	if _, auths, _, _ := as.counts(); auths != 1 {
		t.Errorf("%d authorizations; the other origin's 401 must not trigger one", auths)
	}
}

func TestResourceMismatchRefused(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	rs := newTestRS(t, as)
	rs.prmResource = "https://evil.example.com/mcp"
	c := &http.Client{Transport: NewTransport(nil, baseConfig(rs))}
	if err := callErr(ctx, c, rs.mcpURL(), "x"); !errors.Is(err, ErrResourceMismatch) {
		t.Fatalf("err = %v, want ErrResourceMismatch", err)
	}
	if meta, auths, _, regs := as.counts(); meta+auths+regs != 0 {
		t.Errorf("talked to the authorization server after a resource mismatch (%d %d %d)", meta, auths, regs)
	}
}

func TestDiscoveryVariants(t *testing.T) {
	tests := []struct {
		name        string
		prmMode     string
		issuerPath  string
		metaVariant string
		wantPRM     []string
		wantMeta    []string
		wantRes     func(rs *testRS) string
	}{
		{
			name: "PRM in header, RFC 8414 at root", prmMode: "header", metaVariant: "oauth",
			wantPRM:  []string{"/.well-known/oauth-protected-resource/mcp"},
			wantMeta: []string{"/.well-known/oauth-authorization-server"},
		},
		{
			name: "PRM path-suffixed probe, OIDC at root", prmMode: "path", metaVariant: "oidc-insert",
			wantPRM:  []string{"/.well-known/oauth-protected-resource/mcp"},
			wantMeta: []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"},
		},
		{
			name: "PRM at root, RFC 8414 path insertion", prmMode: "root", issuerPath: "/tenant1", metaVariant: "oauth",
			wantPRM:  []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"},
			wantMeta: []string{"/.well-known/oauth-authorization-server/tenant1"},
			wantRes:  func(rs *testRS) string { return rs.srv.URL },
		},
		{
			name: "PRM at custom URL, OIDC path appending", prmMode: "custom", issuerPath: "/tenant1", metaVariant: "oidc-append",
			wantPRM: []string{"/custom/metadata/location.json"},
			wantMeta: []string{
				"/.well-known/oauth-authorization-server/tenant1",
				"/.well-known/openid-configuration/tenant1",
				"/tenant1/.well-known/openid-configuration",
			},
		},
		{
			name: "OIDC path insertion", prmMode: "header", issuerPath: "/tenant1", metaVariant: "oidc-insert",
			wantPRM:  []string{"/.well-known/oauth-protected-resource/mcp"},
			wantMeta: []string{"/.well-known/oauth-authorization-server/tenant1", "/.well-known/openid-configuration/tenant1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			as := newTestAS(t)
			as.issuerPath = tt.issuerPath
			as.metaVariant = tt.metaVariant
			rs := newTestRS(t, as)
			rs.prmMode = tt.prmMode
			c := &http.Client{Transport: NewTransport(nil, baseConfig(rs))}
			if st, _ := call(t, ctx, c, rs.mcpURL(), "x"); st != 200 {
				t.Fatalf("HTTP %d", st)
			}
			if got := rs.fetches(); !reflect.DeepEqual(got, tt.wantPRM) {
				t.Errorf("PRM fetches %q, want %q", got, tt.wantPRM)
			}
			as.mu.Lock()
			got := slices.Clone(as.metaFetches)
			as.mu.Unlock()
			if !reflect.DeepEqual(got, tt.wantMeta) {
				t.Errorf("AS metadata fetches %q, want %q", got, tt.wantMeta)
			}
			want := rs.mcpURL()
			if tt.wantRes != nil {
				want = tt.wantRes(rs)
			}
			if r := as.lastAuth().Get("resource"); r != want {
				t.Errorf("resource %q, want %q", r, want)
			}
		})
	}
}

func TestIssuerMismatchInMetadata(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	as.mod = func(m *AuthServerMetadata) { m.Issuer = "https://honest.example" }
	rs := newTestRS(t, as)
	c := &http.Client{Transport: NewTransport(nil, baseConfig(rs))}
	err := callErr(ctx, c, rs.mcpURL(), "x")
	if err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Fatalf("err = %v, want an issuer mismatch", err)
	}
}

// legacyServer is a 2025-03-26 server: no PRM; optionally RFC 8414
// metadata at its root naming endpoints under /oauth.
func TestLegacy20250326(t *testing.T) {
	for _, withMeta := range []bool{true, false} {
		t.Run(fmt.Sprint("metadata=", withMeta), func(t *testing.T) {
			ctx := testCtx(t)
			as := newTestAS(t)
			rs := newTestRS(t, as)
			rs.prmMode = "none"
			// The AS shares the MCP server's origin.
			mux := http.NewServeMux()
			var metaHeader atomic.Value
			if withMeta {
				as.issuerPath = "/oauth"
				mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
					metaHeader.Store(r.Header.Get("MCP-Protocol-Version"))
					md := as.metadata()
					for _, p := range []*string{&md.Issuer, &md.AuthorizationEndpoint, &md.TokenEndpoint, &md.RegistrationEndpoint} {
						*p = strings.Replace(*p, as.srv.URL, rs.srv.URL, 1)
					}
					writeJSON(w, 200, md)
				})
			}
			mux.Handle("/oauth/", as.srv.Config.Handler)
			mux.Handle("/authorize", as.srv.Config.Handler)
			mux.Handle("/token", as.srv.Config.Handler)
			mux.Handle("/register", as.srv.Config.Handler)
			mux.Handle("/", rs.srv.Config.Handler)
			rs.srv.Config.Handler = mux
			as.metaVariant = "none"
			// The fixture AS checks iss against its own URL; make it the
			// shared origin.
			as.srv.URL, rs.as = rs.srv.URL, as
			c := &http.Client{Transport: NewTransport(nil, baseConfig(rs))}
			if st, _ := call(t, ctx, c, rs.mcpURL(), "x"); st != 200 {
				t.Fatalf("HTTP %d", st)
			}
			if _, auths, tokens, regs := as.counts(); auths != 1 || tokens != 1 || regs != 1 {
				t.Errorf("authorizations=%d tokens=%d registrations=%d", auths, tokens, regs)
			}
			if withMeta && metaHeader.Load() != "2025-03-26" {
				t.Errorf("MCP-Protocol-Version on metadata discovery = %v", metaHeader.Load())
			}
			if r := as.lastAuth().Get("resource"); r != rs.mcpURL() {
				t.Errorf("resource %q, want the canonical server URL", r)
			}
		})
	}
}

func TestClientCredentials(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	signer, err := ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		method string
		secret string
	}{
		{"client_secret_basic", "client_secret_basic", "cc-secret"},
		{"private_key_jwt", "private_key_jwt", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			as := newTestAS(t)
			as.authMethods = []string{tt.method}
			as.dcr = false
			as.mod = func(m *AuthServerMetadata) {
				m.GrantTypesSupported = []string{"client_credentials"}
				m.CodeChallengeMethodsSupported = nil // irrelevant without a browser
				m.TokenEndpointAuthSigningAlgValuesSupported = []string{"ES256"}
			}
			as.clients["svc"] = &asClient{id: "svc", secret: tt.secret, method: tt.method, key: &key.PublicKey}
			rs := newTestRS(t, as)
			rs.scopesSupported = []string{"mcp:read"}
			cfg := &Config{ServerURL: rs.mcpURL(), Grant: GrantClientCredentials, ClientID: "svc", ClientSecret: tt.secret}
			if tt.method == "private_key_jwt" {
				cfg.PrivateKey = signer
			}
			c := &http.Client{Transport: NewTransport(nil, cfg)}
			if st, _ := call(t, ctx, c, rs.mcpURL(), "x"); st != 200 {
				t.Fatalf("HTTP %d: %+v", st, as.tokenRequests())
			}
			tr := as.tokenRequests()[0]
			if tr.method != tt.method || tr.form.Get("grant_type") != "client_credentials" || tr.form.Get("scope") != "mcp:read" || tr.form.Get("resource") != rs.mcpURL() {
				t.Errorf("token request %v via %s", tr.form, tr.method)
			}
		})
	}
}

// testIdP is an identity provider fixture for the ID-JAG token exchange.
func testIdP(t *testing.T, key *ecdsa.PrivateKey, clientID string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f := r.PostForm
		if r.URL.Path != "/token" || f.Get("grant_type") != GrantTokenExchange ||
			f.Get("subject_token_type") != TokenTypeIDToken || f.Get("requested_token_type") != TokenTypeIDJAG ||
			f.Get("subject_token") != "the-id-token" || f.Get("audience") == "" || f.Get("resource") == "" || f.Get("client_id") != "idp-client" {
			oauthErr(w, 400, "invalid_request", fmt.Sprint(f))
			return
		}
		jag, err := signJWT(key, "ES256", "", "oauth-id-jag+jwt", map[string]any{
			"iss": "idp", "sub": "user", "aud": f.Get("audience"), "resource": f.Get("resource"),
			"client_id": clientID, "exp": time.Now().Add(time.Minute).Unix(),
		})
		if err != nil {
			t.Error(err)
		}
		writeJSON(w, 200, map[string]string{"access_token": jag, "issued_token_type": TokenTypeIDJAG, "token_type": "N_A"})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestJWTBearerWithIDJAG(t *testing.T) {
	ctx := testCtx(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := testIdP(t, key, "xaa")
	as := newTestAS(t)
	as.idjagKey = &key.PublicKey
	as.authMethods = []string{"client_secret_basic"}
	as.clients["xaa"] = &asClient{id: "xaa", secret: "xaa-secret", method: "client_secret_basic"}
	rs := newTestRS(t, as)
	x := &IDJAGExchange{TokenEndpoint: idp.URL + "/token", IDToken: "the-id-token", ClientID: "idp-client"}
	cfg := &Config{ServerURL: rs.mcpURL(), Grant: GrantJWTBearer, ClientID: "xaa", ClientSecret: "xaa-secret", Assertion: x.Assertion}
	c := &http.Client{Transport: NewTransport(nil, cfg)}
	if st, _ := call(t, ctx, c, rs.mcpURL(), "x"); st != 200 {
		t.Fatalf("HTTP %d: %+v", st, as.tokenRequests())
	}
	if tr := as.tokenRequests()[0]; tr.form.Get("grant_type") != GrantJWTBearer || tr.method != "client_secret_basic" {
		t.Errorf("token request %v via %s", tr.form, tr.method)
	}
}

func TestConcurrentRequestsAuthorizeOnce(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	rs := newTestRS(t, as)
	var authorizations atomic.Int32
	cfg := baseConfig(rs)
	inner := cfg.Authorize
	cfg.Authorize = func(ctx context.Context, u string) (*AuthorizationResponse, error) {
		authorizations.Add(1)
		time.Sleep(20 * time.Millisecond)
		return inner(ctx, u)
	}
	c := &http.Client{Transport: NewTransport(nil, cfg)}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, _ := call(t, ctx, c, rs.mcpURL(), fmt.Sprint("m", i)); st != 200 {
				t.Errorf("HTTP %d", st)
			}
		}()
	}
	wg.Wait()
	if n := authorizations.Load(); n != 1 {
		t.Errorf("%d authorizations for concurrent requests, want 1", n)
	}
}

func TestStoredTokenReused(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	rs := newTestRS(t, as)
	store := NewMemoryStore()
	cfg := baseConfig(rs)
	cfg.TokenStore = store
	c := &http.Client{Transport: NewTransport(nil, cfg)}
	call(t, ctx, c, rs.mcpURL(), "x")
	// A new Transport (a new process) finds the token in the store and
	// the registration by issuer.
	c2 := &http.Client{Transport: NewTransport(nil, cfg)}
	call(t, ctx, c2, rs.mcpURL(), "y")
	if _, auths, _, regs := as.counts(); auths != 1 || regs != 1 {
		t.Errorf("authorizations=%d registrations=%d, want 1 and 1", auths, regs)
	}
	if h := rs.headers(); h[len(h)-1] == "" {
		t.Error("second transport sent no token")
	}
	cl, err := store.Client(ctx, as.issuer())
	if err != nil || cl.Issuer != as.issuer() {
		t.Errorf("client registration stored as %v, %v", cl, err)
	}
	// With the token gone, a new authorization reuses the registration.
	as.revokeAll()
	c3 := &http.Client{Transport: NewTransport(nil, cfg)}
	call(t, ctx, c3, rs.mcpURL(), "z")
	if _, auths, _, regs := as.counts(); auths != 2 || regs != 1 {
		t.Errorf("authorizations=%d registrations=%d, want 2 and 1", auths, regs)
	}
}

func TestClientIssuerBinding(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	as.clients["pre"] = &asClient{id: "pre", method: "none", redirects: []string{testRedirect}}
	rs := newTestRS(t, as)
	cfg := baseConfig(rs)
	cfg.ClientID = "pre"
	cfg.ClientIssuer = "https://another-as.example.com"
	c := &http.Client{Transport: NewTransport(nil, cfg)}
	if err := callErr(ctx, c, rs.mcpURL(), "x"); err == nil || !strings.Contains(err.Error(), "pre-registered client belongs to") {
		t.Fatalf("err = %v, want a refusal to use credentials of another AS", err)
	}
	cfg.ClientIssuer = as.issuer()
	c = &http.Client{Transport: NewTransport(nil, cfg)}
	if st, _ := call(t, ctx, c, rs.mcpURL(), "x"); st != 200 {
		t.Fatalf("HTTP %d", st)
	}
}

func TestLogin(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	rs := newTestRS(t, as)
	rs.challengeScope = []string{"mcp:basic"}
	store := NewMemoryStore()
	cfg := baseConfig(rs)
	cfg.TokenStore = store
	tok, err := NewTransport(nil, cfg).Login(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tok.Scopes, []string{"mcp:basic"}) {
		t.Errorf("scopes %v", tok.Scopes)
	}
	got, err := store.Token(ctx, as.issuer(), rs.mcpURL())
	if err != nil || got.AccessToken != tok.AccessToken {
		t.Fatalf("stored token %v, %v", got, err)
	}
}

func TestSecretsStayOutOfMessages(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	as.refresh = true
	rs := newTestRS(t, as)
	var logs bytes.Buffer
	cfg := baseConfig(rs)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rt := NewTransport(nil, cfg)
	c := &http.Client{Transport: rt}
	call(t, ctx, c, rs.mcpURL(), "x")
	tok := rt.Token()
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", *tok), fmt.Sprintf("%#v", *tok), logs.String()} {
		if strings.Contains(s, tok.AccessToken) || strings.Contains(s, tok.RefreshToken) {
			t.Errorf("token value leaked into %q", s)
		}
	}
	if !strings.Contains(logs.String(), "obtained token") {
		t.Errorf("expected debug logs, got %q", logs.String())
	}
	// A failing token endpoint does not echo the form.
	e := parseOAuthError("token", 400, []byte(`{"error":"invalid_grant","error_description":"bad\ncode `+tok.AccessToken[:4]+`"}`))
	if strings.ContainsAny(e.Error(), "\n") {
		t.Errorf("control characters in %q", e)
	}
}

func TestHeadlessAuthorizeFollowsASRedirects(t *testing.T) {
	ctx := testCtx(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/authorize":
			http.Redirect(w, r, "/consent?"+r.URL.RawQuery, http.StatusFound)
		case "/consent":
			u, _ := url.Parse(r.URL.Query().Get("redirect_uri"))
			u.RawQuery = url.Values{"code": {"c"}, "state": {r.URL.Query().Get("state")}, "iss": {"https://i"}}.Encode()
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
		case "/login":
			w.Write([]byte("<form>"))
		}
	}))
	defer srv.Close()
	authz := HeadlessAuthorize(srv.Client())
	u := srv.URL + "/authorize?" + url.Values{"redirect_uri": {"http://127.0.0.1:9/cb"}, "state": {"st"}}.Encode()
	r, err := authz(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != "c" || r.State != "st" || !r.HasIssuer || r.Issuer != "https://i" {
		t.Errorf("response %+v", r)
	}
	_, err = authz(ctx, srv.URL+"/login?redirect_uri=http://127.0.0.1:9/cb")
	if err == nil || !strings.Contains(err.Error(), "instead of redirecting") {
		t.Errorf("err = %v for a login page", err)
	}
}

func TestTokenResponseParsing(t *testing.T) {
	tests := []struct {
		body    string
		status  int
		wantErr string
		wantExp int64
	}{
		{body: `{"access_token":"a","token_type":"Bearer","expires_in":60}`, status: 200, wantExp: 60},
		{body: `{"access_token":"a","token_type":"bearer","expires_in":"60"}`, status: 200, wantExp: 60},
		{body: `{"access_token":"a"}`, status: 200},
		{body: `{"access_token":"a","token_type":"DPoP"}`, status: 200, wantErr: "token_type"},
		{body: `{"token_type":"Bearer"}`, status: 200, wantErr: "no access_token"},
		{body: `not json`, status: 200, wantErr: "not valid JSON"},
		{body: `{"error":"invalid_client","error_description":"nope"}`, status: 401, wantErr: "invalid_client: nope"},
		{body: `{"access_token":"a","expires_in":-5}`, status: 200, wantErr: "not valid JSON"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tt.status)
			w.Write([]byte(tt.body))
		}))
		rt := NewTransport(nil, &Config{ServerURL: "http://127.0.0.1:1/mcp"})
		d := &discovery{as: &AuthServerMetadata{TokenEndpoint: srv.URL}, issuer: srv.URL}
		tok, err := rt.tokenRequest(context.Background(), d, &ClientInfo{ClientID: "c"}, url.Values{})
		srv.Close()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.body, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.body, err)
			continue
		}
		var got int64
		if !tok.Expiry.IsZero() {
			got = int64(time.Until(tok.Expiry).Round(time.Second) / time.Second)
		}
		if got != tt.wantExp {
			t.Errorf("%s: expires in %d s, want %d", tt.body, got, tt.wantExp)
		}
	}
}

func TestMetadataDocumentJSON(t *testing.T) {
	cfg := &Config{ClientMetadataURL: "https://app.example.com/oauth/client.json", RedirectURL: "http://127.0.0.1:33418/callback", ClientMetadata: ClientMetadata{ClientName: "X"}}
	b, err := json.Marshal(cfg.MetadataDocument())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"client_id", "client_name", "redirect_uris"} {
		if _, ok := m[k]; !ok {
			t.Errorf("metadata document lacks %s: %s", k, b)
		}
	}
}

// TestAuthorizationServerMigration: when the protected resource metadata
// names a new authorization server, a dynamically registered client
// registers again there (credentials are bound to their issuer), and
// pre-registered credentials are not carried over.
func TestAuthorizationServerMigration(t *testing.T) {
	t.Run("dynamic registration", func(t *testing.T) {
		ctx := testCtx(t)
		as1, as2 := newTestAS(t), newTestAS(t)
		rs := newTestRS(t, as1)
		store := NewMemoryStore()
		cfg := baseConfig(rs)
		cfg.TokenStore = store
		c := &http.Client{Transport: NewTransport(nil, cfg)}
		call(t, ctx, c, rs.mcpURL(), "a")
		rs.mu.Lock()
		rs.as, rs.asURLs = as2, []string{as2.issuer()}
		rs.mu.Unlock()
		if st, _ := call(t, ctx, c, rs.mcpURL(), "b"); st != 200 {
			t.Fatalf("HTTP %d after migration", st)
		}
		if _, _, _, regs := as2.counts(); regs != 1 {
			t.Errorf("%d registrations at the new AS, want 1", regs)
		}
		as2.mu.Lock()
		usedID := as2.authReqs[0].Get("client_id")
		as2.mu.Unlock()
		old, _ := store.Client(ctx, as1.issuer())
		if usedID == old.ClientID {
			t.Error("the old authorization server's client id was reused")
		}
		if _, err := store.Token(ctx, as2.issuer(), rs.mcpURL()); err != nil {
			t.Errorf("no token stored under the new issuer: %v", err)
		}
	})
	t.Run("pre-registered", func(t *testing.T) {
		ctx := testCtx(t)
		as1, as2 := newTestAS(t), newTestAS(t)
		for _, as := range []*testAS{as1, as2} {
			as.clients["pre"] = &asClient{id: "pre", secret: "s", method: "client_secret_basic", redirects: []string{testRedirect}}
		}
		rs := newTestRS(t, as1)
		cfg := baseConfig(rs)
		cfg.ClientID, cfg.ClientSecret = "pre", "s"
		c := &http.Client{Transport: NewTransport(nil, cfg)}
		call(t, ctx, c, rs.mcpURL(), "a")
		rs.mu.Lock()
		rs.as, rs.asURLs = as2, []string{as2.issuer()}
		rs.mu.Unlock()
		if err := callErr(ctx, c, rs.mcpURL(), "b"); err == nil || !strings.Contains(err.Error(), "belongs to") {
			t.Fatalf("err = %v, want a refusal to reuse pre-registered credentials", err)
		}
		if _, _, tokens, _ := as2.counts(); tokens != 0 {
			t.Error("the credentials were sent to the new authorization server")
		}
	})
}
