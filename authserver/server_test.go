package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
)

func TestMetadata(t *testing.T) {
	f := newAS(t, nil)
	for _, path := range []string{WellKnownOAuth, WellKnownOpenID} {
		resp, err := f.client.Get(f.as.Issuer() + path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		err = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		iss := f.as.Issuer()
		for k, want := range map[string]any{
			"issuer":                                iss,
			"authorization_endpoint":                iss + "/authorize",
			"token_endpoint":                        iss + "/token",
			"registration_endpoint":                 iss + "/register",
			"jwks_uri":                              iss + "/jwks",
			"introspection_endpoint":                iss + "/introspect",
			"client_id_metadata_document_supported": true,
			"authorization_response_iss_parameter_supported": true,
		} {
			if m[k] != want {
				t.Errorf("%s: %s = %v, want %v", path, k, m[k], want)
			}
		}
		if got := m["code_challenge_methods_supported"]; !equalJSON(got, []string{"S256"}) {
			t.Errorf("code_challenge_methods_supported = %v", got)
		}
		if got := m["token_endpoint_auth_methods_supported"]; !equalJSON(got, []string{"none", "client_secret_basic", "client_secret_post"}) {
			t.Errorf("token_endpoint_auth_methods_supported = %v", got)
		}
	}
}

func TestMetadataIssuerWithPath(t *testing.T) {
	as, err := New(Options{Issuer: "https://auth.example.com/tenant1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/.well-known/oauth-authorization-server/tenant1", "/.well-known/openid-configuration/tenant1", "/tenant1/.well-known/openid-configuration"} {
		r := httptest.NewRequest("GET", "https://auth.example.com"+p, nil)
		w := httptest.NewRecorder()
		as.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("%s: %d", p, w.Code)
		}
		if !strings.Contains(w.Body.String(), `"token_endpoint":"https://auth.example.com/tenant1/token"`) {
			t.Errorf("%s: %s", p, w.Body.String())
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"http issuer":  {Issuer: "http://as.example.com"},
		"query issuer": {Issuer: "https://as.example.com?x=1"},
		"bad alg":      {Issuer: "https://as.example.com", Algorithm: "HS256"},
		"URL client":   {Issuer: "https://as.example.com", Clients: []Client{{ID: "https://c.example.com/x"}}},
		"bad redirect": {Issuer: "https://as.example.com", Clients: []Client{{ID: "c", RedirectURIs: []string{"http://evil.example.com/cb"}}}},
		"cc public":    {Issuer: "https://as.example.com", Clients: []Client{{ID: "c", GrantTypes: []string{"client_credentials"}}}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestAuthorizationCodeFlow walks the full flow with a public client and
// checks the token's claims.
func TestAuthorizationCodeFlow(t *testing.T) {
	f := newAS(t, nil)
	verifier, challenge := pkce()
	code := f.code(t, authParams(challenge))
	status, tok := f.exchange(t, code, verifier)
	if status != 200 {
		t.Fatalf("token: %d %v", status, tok)
	}
	if tok["token_type"] != "Bearer" || str(tok["refresh_token"]) == "" || tok["scope"] != "mcp files:read" || tok["expires_in"] != float64(900) {
		t.Fatalf("token response %v", tok)
	}
	v, err := f.as.Verifier(testResource)
	if err != nil {
		t.Fatal(err)
	}
	info, err := v.Verify(context.Background(), str(tok["access_token"]))
	if err != nil {
		t.Fatal(err)
	}
	if info.Subject != DefaultSubject || info.ClientID != "public-app" || !slices.Equal(info.Audience, []string{testResource}) ||
		!slices.Equal(info.Scopes, []string{"mcp", "files:read"}) || info.Issuer != f.as.Issuer() {
		t.Fatalf("info = %+v", info)
	}
	// The same token is refused by a verifier for another resource.
	other, _ := f.as.Verifier("http://127.0.0.1:1/other")
	if _, err := other.Verify(context.Background(), str(tok["access_token"])); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("token accepted by another resource: %v", err)
	}
}

func TestPKCEVerifierMismatch(t *testing.T) {
	f := newAS(t, nil)
	_, challenge := pkce()
	otherVerifier, _ := pkce()
	code := f.code(t, authParams(challenge))
	status, body := f.exchange(t, code, otherVerifier)
	wantOAuthError(t, status, body, 400, "invalid_grant")
	if !strings.Contains(str(body["error_description"]), "code_verifier") {
		t.Fatalf("description %q", body["error_description"])
	}
}

func TestPKCEMissingVerifier(t *testing.T) {
	f := newAS(t, nil)
	_, challenge := pkce()
	code := f.code(t, authParams(challenge))
	status, body := f.exchange(t, code, "")
	wantOAuthError(t, status, body, 400, "invalid_request")
}

// TestPKCERequired: requests without a challenge, or with plain, are
// refused back to the client with invalid_request.
func TestPKCERequired(t *testing.T) {
	f := newAS(t, nil)
	_, challenge := pkce()
	tests := map[string]func(url.Values){
		"missing challenge": func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") },
		"plain":             func(q url.Values) { q.Set("code_challenge_method", "plain") },
		"missing method":    func(q url.Values) { q.Del("code_challenge_method") },
		"short challenge":   func(q url.Values) { q.Set("code_challenge", "abc") },
	}
	for name, mut := range tests {
		t.Run(name, func(t *testing.T) {
			q := authParams(challenge)
			mut(q)
			p := redirectParams(t, f.authorize(t, q))
			if p.Get("error") != "invalid_request" || p.Get("code") != "" || p.Get("state") != "st4te" {
				t.Fatalf("redirect params %v", p)
			}
		})
	}
}

func TestResourceRequired(t *testing.T) {
	f := newAS(t, nil)
	_, challenge := pkce()
	for name, res := range map[string]string{"missing": "", "unknown": "https://other.example.com/mcp", "fragment": testResource + "#x"} {
		t.Run(name, func(t *testing.T) {
			q := authParams(challenge)
			q.Set("resource", res)
			if res == "" {
				q.Del("resource")
			}
			p := redirectParams(t, f.authorize(t, q))
			if p.Get("error") != "invalid_target" {
				t.Fatalf("params %v", p)
			}
		})
	}
}

func TestTokenResourceMismatch(t *testing.T) {
	f := newAS(t, nil)
	verifier, challenge := pkce()
	code := f.code(t, authParams(challenge))
	status, body := f.post(t, PathToken, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"client_id": {"public-app"}, "redirect_uri": {testRedirect}, "resource": {"http://127.0.0.1:1/other"},
	})
	wantOAuthError(t, status, body, 400, "invalid_target")
}

// TestRedirectURINotRegistered: an unregistered redirect URI is never
// redirected to. (Another port of a registered loopback redirect URI is
// the same redirect URI: see TestLoopbackRedirectAnyPort.)
func TestRedirectURINotRegistered(t *testing.T) {
	f := newAS(t, nil)
	_, challenge := pkce()
	for _, ru := range []string{"http://127.0.0.1:2/callback/", "http://localhost:2/callback", "https://evil.example.com/cb"} {
		q := authParams(challenge)
		q.Set("redirect_uri", ru)
		resp := f.authorize(t, q)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(string(body), "redirect_uri is not registered") {
			t.Fatalf("%s: %d %s", ru, resp.StatusCode, body)
		}
	}
}

func TestUnknownClient(t *testing.T) {
	f := newAS(t, nil)
	_, challenge := pkce()
	q := authParams(challenge)
	q.Set("client_id", "nobody")
	if resp := f.authorize(t, q); resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestDuplicateParameters(t *testing.T) {
	f := newAS(t, nil)
	verifier, challenge := pkce()
	q := authParams(challenge)
	q.Add("scope", "files:write")
	p := redirectParams(t, f.authorize(t, q))
	if p.Get("error") != "invalid_request" {
		t.Fatalf("authorize: %v", p)
	}
	code := f.code(t, authParams(challenge))
	status, body := f.post(t, PathToken, url.Values{
		"grant_type": {"authorization_code"}, "code": {code, code}, "code_verifier": {verifier}, "client_id": {"public-app"},
	})
	wantOAuthError(t, status, body, 400, "invalid_request")
}

// TestCodeReuse: a code redeemed twice fails, and the tokens of the first
// redemption are revoked.
func TestCodeReuse(t *testing.T) {
	f := newAS(t, nil)
	verifier, challenge := pkce()
	code := f.code(t, authParams(challenge))
	status, tok := f.exchange(t, code, verifier)
	if status != 200 {
		t.Fatal(tok)
	}
	status, body := f.exchange(t, code, verifier)
	wantOAuthError(t, status, body, 400, "invalid_grant")
	v, _ := f.as.Verifier(testResource)
	if _, err := v.Verify(context.Background(), str(tok["access_token"])); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("access token of a replayed code still valid: %v", err)
	}
	status, body = f.post(t, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}, "client_id": {"public-app"}})
	wantOAuthError(t, status, body, 400, "invalid_grant")
}

func TestCodeExpires(t *testing.T) {
	clk := &clock{t: time.Now()}
	f := newAS(t, func(o *Options) { o.Now = clk.Now })
	verifier, challenge := pkce()
	code := f.code(t, authParams(challenge))
	clk.Advance(2 * time.Minute)
	status, body := f.exchange(t, code, verifier)
	wantOAuthError(t, status, body, 400, "invalid_grant")
}

func TestRefreshRotation(t *testing.T) {
	f := newAS(t, nil)
	verifier, challenge := pkce()
	_, tok := f.exchange(t, f.code(t, authParams(challenge)), verifier)
	rt1 := str(tok["refresh_token"])
	status, tok2 := f.post(t, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}, "client_id": {"public-app"}, "scope": {"mcp"}})
	if status != 200 || str(tok2["refresh_token"]) == "" || str(tok2["refresh_token"]) == rt1 || tok2["scope"] != "mcp" {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	// Asking for more scope than granted is refused.
	status, body := f.post(t, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok2["refresh_token"])}, "client_id": {"public-app"}, "scope": {"files:write"}})
	wantOAuthError(t, status, body, 400, "invalid_scope")
	// Another client cannot use the refresh token.
	status, body = f.post(t, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok2["refresh_token"])}}, "svc", "svc-secret")
	wantOAuthError(t, status, body, 400, "invalid_grant")
}

// TestRefreshReuseRevokesFamily: presenting a rotated refresh token revokes
// the grant, including the newest refresh and access tokens.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	f := newAS(t, nil)
	verifier, challenge := pkce()
	_, tok := f.exchange(t, f.code(t, authParams(challenge)), verifier)
	rt1 := str(tok["refresh_token"])
	refresh := func(rt string) (int, map[string]any) {
		return f.post(t, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"public-app"}})
	}
	_, tok2 := refresh(rt1)
	rt2 := str(tok2["refresh_token"])
	status, body := refresh(rt1) // reuse
	wantOAuthError(t, status, body, 400, "invalid_grant")
	if !strings.Contains(str(body["error_description"]), "revoked") {
		t.Fatalf("description %q", body["error_description"])
	}
	status, body = refresh(rt2) // the newest one dies too
	wantOAuthError(t, status, body, 400, "invalid_grant")
	v, _ := f.as.Verifier(testResource)
	for _, at := range []string{str(tok["access_token"]), str(tok2["access_token"])} {
		if _, err := v.Verify(context.Background(), at); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("access token of a revoked family accepted: %v", err)
		}
	}
}

// TestSessionBoundGrant: a grant bound to an MCP session has no refresh
// token, dies with RevokeBinding, and the binding cannot be reused.
func TestSessionBoundGrant(t *testing.T) {
	f := newAS(t, nil)
	verifier, challenge := pkce()
	q := authParams(challenge)
	q.Set(BindingParam, "session:abc123")
	status, tok := f.exchange(t, f.code(t, q), verifier)
	if status != 200 {
		t.Fatal(tok)
	}
	if _, ok := tok["refresh_token"]; ok {
		t.Fatal("a session-bound grant got a refresh token")
	}
	at := str(tok["access_token"])
	v, _ := f.as.Verifier(testResource)
	info, err := v.Verify(context.Background(), at)
	if err != nil || info.Binding != "session:abc123" {
		t.Fatalf("info %+v, %v", info, err)
	}
	if n := f.as.RevokeSession("abc123"); n != 1 {
		t.Fatalf("RevokeSession revoked %d grants", n)
	}
	if _, err := v.Verify(context.Background(), at); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("token of an ended session accepted: %v", err)
	}
	status, body := f.post(t, PathIntrospect, url.Values{"token": {at}}, "svc", "svc-secret")
	if status != 200 || body["active"] != false {
		t.Fatalf("introspection: %d %v", status, body)
	}
	// Renewal needs a new authorization, which the ended binding cannot
	// get.
	p := redirectParams(t, f.authorize(t, q))
	if p.Get("error") != "invalid_request" {
		t.Fatalf("authorization for an ended session: %v", p)
	}
	// An unbound grant of the same client is unaffected.
	_, challenge2 := pkce()
	_ = f.code(t, authParams(challenge2))
}

// TestBoundGrantCannotBeRefreshed covers the refresh path's own refusal,
// for grants that somehow hold a refresh token.
func TestBoundGrantCannotBeRefreshed(t *testing.T) {
	f := newAS(t, nil)
	now := time.Now()
	f.as.mu.Lock()
	g := &StoredGrant{ID: "g1", ClientID: "public-app", Subject: "u", Resource: testResource, Binding: "task:t1"}
	resp, _ := f.as.issueLocked(context.Background(), f.as.static["public-app"], g, nil, true, now)
	rt := resp.RefreshToken
	f.as.mu.Unlock()
	status, body := f.post(t, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"public-app"}})
	wantOAuthError(t, status, body, 400, "invalid_grant")
	if !strings.Contains(str(body["error_description"]), "cannot be refreshed") {
		t.Fatalf("description %q", body["error_description"])
	}
}

func TestBindingSyntax(t *testing.T) {
	f := newAS(t, nil)
	_, challenge := pkce()
	for _, b := range []string{"session:", "user:x", "abc", "session:a b", "session:" + strings.Repeat("x", 300)} {
		q := authParams(challenge)
		q.Set(BindingParam, b)
		if p := redirectParams(t, f.authorize(t, q)); p.Get("error") != "invalid_request" {
			t.Errorf("%q: %v", b, p)
		}
	}
}

func TestClientCredentials(t *testing.T) {
	f := newAS(t, nil)
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}, "scope": {"mcp"}}
	status, tok := f.post(t, PathToken, form, "svc", "svc-secret")
	if status != 200 || str(tok["access_token"]) == "" {
		t.Fatalf("%d %v", status, tok)
	}
	if _, ok := tok["refresh_token"]; ok {
		t.Fatal("client_credentials got a refresh token")
	}
	v, _ := f.as.Verifier(testResource)
	info, err := v.Verify(context.Background(), str(tok["access_token"]))
	if err != nil || info.Subject != "svc" || info.ClientID != "svc" {
		t.Fatalf("%+v %v", info, err)
	}
	// client_secret_post client.
	post := url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}, "client_id": {"svc-post"}, "client_secret": {"post-secret"}}
	if status, body := f.post(t, PathToken, post); status != 200 {
		t.Fatalf("post: %d %v", status, body)
	}
	// The registered method is the only one accepted.
	status, body := f.post(t, PathToken, form, "svc-post", "post-secret")
	wantOAuthError(t, status, body, 401, "invalid_client")
	// Wrong secret.
	status, body = f.post(t, PathToken, form, "svc", "wrong")
	wantOAuthError(t, status, body, 401, "invalid_client")
	// Public clients may not use it.
	pub := url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}, "client_id": {"public-app"}}
	status, body = f.post(t, PathToken, pub)
	wantOAuthError(t, status, body, 400, "unauthorized_client")
	// Resource required.
	status, body = f.post(t, PathToken, url.Values{"grant_type": {"client_credentials"}}, "svc", "svc-secret")
	wantOAuthError(t, status, body, 400, "invalid_target")
	// Unsupported scope.
	status, body = f.post(t, PathToken, url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}, "scope": {"admin"}}, "svc", "svc-secret")
	wantOAuthError(t, status, body, 400, "invalid_scope")
	// Unknown grant type.
	status, body = f.post(t, PathToken, url.Values{"grant_type": {"password"}}, "svc", "svc-secret")
	wantOAuthError(t, status, body, 400, "unsupported_grant_type")
}

func TestDynamicRegistration(t *testing.T) {
	f := newAS(t, nil)
	register := func(body string) (int, map[string]any) {
		resp, err := f.client.Post(f.as.Issuer()+PathRegister, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, c := register(`{"client_name":"Dyn","redirect_uris":["` + testRedirect + `"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`)
	if status != 201 || str(c["client_id"]) == "" || c["client_secret"] != nil || c["token_endpoint_auth_method"] != "none" {
		t.Fatalf("%d %v", status, c)
	}
	verifier, challenge := pkce()
	q := authParams(challenge)
	q.Set("client_id", str(c["client_id"]))
	status, tok := f.post(t, PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {f.code(t, q)},
		"code_verifier": {verifier}, "client_id": {str(c["client_id"])}, "redirect_uri": {testRedirect}})
	if status != 200 {
		t.Fatalf("%d %v", status, tok)
	}
	// A confidential registration gets a secret.
	status, c = register(`{"client_name":"Conf","redirect_uris":["https://app.example.com/cb"]}`)
	if status != 201 || str(c["client_secret"]) == "" || c["token_endpoint_auth_method"] != "client_secret_basic" || c["client_secret_expires_at"] != float64(0) {
		t.Fatalf("%d %v", status, c)
	}
	for body, code := range map[string]string{
		`{"redirect_uris":["http://evil.example.com/cb"]}`:                                              "invalid_redirect_uri",
		`{"redirect_uris":["https://app.example.com/cb#frag"]}`:                                         "invalid_redirect_uri",
		`{"client_name":"x"}`:                                                                           "invalid_redirect_uri",
		`{"redirect_uris":["https://a.example.com/cb"],"grant_types":["implicit"]}`:                     "invalid_client_metadata",
		`{"redirect_uris":["https://a.example.com/cb"],"scope":"admin"}`:                                "invalid_client_metadata",
		`{"redirect_uris":["https://a.example.com/cb"],"token_endpoint_auth_method":"private_key_jwt"}`: "invalid_client_metadata",
		`not json`: "invalid_client_metadata",
	} {
		if status, out := register(body); status != 400 || out["error"] != code {
			t.Errorf("%s: %d %v, want %s", body, status, out, code)
		}
	}
}

func TestRegistrationDisabled(t *testing.T) {
	f := newAS(t, func(o *Options) { o.DisableRegistration = true })
	resp, err := f.client.Post(f.as.Issuer()+PathRegister, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || f.as.Metadata().RegistrationEndpoint != "" {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestIntrospection(t *testing.T) {
	f := newAS(t, nil)
	verifier, challenge := pkce()
	_, tok := f.exchange(t, f.code(t, authParams(challenge)), verifier)
	at, rt := str(tok["access_token"]), str(tok["refresh_token"])
	status, body := f.post(t, PathIntrospect, url.Values{"token": {at}}, "svc", "svc-secret")
	if status != 200 || body["active"] != true || body["aud"] != testResource || body["client_id"] != "public-app" || body["scope"] != "mcp files:read" || body["sub"] != DefaultSubject {
		t.Fatalf("access token: %d %v", status, body)
	}
	status, body = f.post(t, PathIntrospect, url.Values{"token": {rt}}, "svc", "svc-secret")
	if status != 200 || body["active"] != true || body["token_type"] != "refresh_token" || body["aud"] != nil {
		t.Fatalf("refresh token: %d %v", status, body)
	}
	status, body = f.post(t, PathIntrospect, url.Values{"token": {"garbage"}}, "svc", "svc-secret")
	if status != 200 || body["active"] != false || len(body) != 1 {
		t.Fatalf("garbage: %d %v", status, body)
	}
	// Public clients may not introspect.
	status, body = f.post(t, PathIntrospect, url.Values{"token": {at}, "client_id": {"public-app"}})
	wantOAuthError(t, status, body, 401, "invalid_client")

	// The auth package's introspection verifier works against it.
	iv, err := auth.NewIntrospectionVerifier(auth.IntrospectionOptions{
		Endpoint: f.as.Metadata().IntrospectionEndpoint, ClientID: "svc", ClientSecret: "svc-secret",
		Issuer: f.as.Issuer(), Audience: testResource, CacheTTL: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := iv.Verify(context.Background(), at); err != nil || info.ClientID != "public-app" {
		t.Fatalf("%+v %v", info, err)
	}
	if _, err := iv.Verify(context.Background(), rt); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("refresh token accepted as an access token: %v", err)
	}
	// Revocation (RFC 7009) of the refresh token ends the grant.
	if status, _ := f.post(t, PathRevoke, url.Values{"token": {rt}, "client_id": {"public-app"}}); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	if _, err := iv.Verify(context.Background(), at); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("access token of a revoked grant accepted: %v", err)
	}
}

func TestRevokeAccessToken(t *testing.T) {
	f := newAS(t, nil)
	status, tok := f.post(t, PathToken, url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}}, "svc", "svc-secret")
	if status != 200 {
		t.Fatal(tok)
	}
	at := str(tok["access_token"])
	// Another client's revocation request is ignored.
	_, _ = f.post(t, PathRevoke, url.Values{"token": {at}, "client_id": {"svc-post"}, "client_secret": {"post-secret"}})
	v, _ := f.as.Verifier(testResource)
	if _, err := v.Verify(context.Background(), at); err != nil {
		t.Fatalf("revoked by another client: %v", err)
	}
	if status, _ := f.post(t, PathRevoke, url.Values{"token": {at}}, "svc", "svc-secret"); status != 200 {
		t.Fatal(status)
	}
	if _, err := v.Verify(context.Background(), at); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("revoked token accepted: %v", err)
	}
}

func TestTokenEndpointRequestChecks(t *testing.T) {
	f := newAS(t, nil)
	do := func(method, ctype, body string) int {
		req, _ := http.NewRequest(method, f.as.Issuer()+PathToken, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := f.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := do("GET", "", ""); s != 405 {
		t.Errorf("GET: %d", s)
	}
	if s := do("POST", "application/json", `{"grant_type":"client_credentials"}`); s != 400 {
		t.Errorf("JSON body: %d", s)
	}
	if s := do("POST", "application/x-www-form-urlencoded", "grant_type=client_credentials&pad="+strings.Repeat("x", 70<<10)); s != 400 {
		t.Errorf("large body: %d", s)
	}
	if s := do("POST", "application/x-www-form-urlencoded", "grant_type=%zz"); s != 400 {
		t.Errorf("bad encoding: %d", s)
	}
}

// TestDNSRebinding: a request naming a foreign host on a loopback server
// is refused.
func TestDNSRebinding(t *testing.T) {
	f := newAS(t, nil)
	req, _ := http.NewRequest("GET", f.as.Issuer()+WellKnownOAuth, nil)
	req.Host = "evil.example.com"
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestSigningKeys(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256"} {
		key, err := GenerateSigningKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		pemKey, err := MarshalSigningKey(key)
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := ParseSigningKey(pemKey)
		if err != nil {
			t.Fatal(err)
		}
		f := newAS(t, func(o *Options) { o.SigningKey = loaded })
		status, tok := f.post(t, PathToken, url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}}, "svc", "svc-secret")
		if status != 200 {
			t.Fatal(tok)
		}
		// A resource server verifies it through the published JWKS.
		kid, _ := f.as.PublicKey()
		jv, err := auth.NewJWTVerifier(auth.JWTOptions{Issuer: f.as.Issuer(), Audience: testResource, JWKSURL: f.as.Metadata().JWKSURI, RequireJWTAccessTokenType: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jv.Verify(context.Background(), str(tok["access_token"])); err != nil {
			t.Fatalf("%s (kid %s): %v", alg, kid, err)
		}
	}
	if _, err := ParseSigningKey([]byte("nope")); err == nil {
		t.Fatal("garbage key parsed")
	}
}

func equalJSON(got any, want []string) bool {
	arr, ok := got.([]any)
	if !ok || len(arr) != len(want) {
		return false
	}
	for i := range arr {
		if arr[i] != want[i] {
			return false
		}
	}
	return true
}
