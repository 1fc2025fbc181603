package authserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLoopbackRedirectAnyPort is the regression test of the redirect part
// of issue 10 finding 11: RFC 8252 section 7.3 loopback redirect URIs
// match with any port, and nothing else loosens.
func TestLoopbackRedirectAnyPort(t *testing.T) {
	f := newAS(t, func(o *Options) {
		o.Clients = []Client{
			{ID: "v4", RedirectURIs: []string{"http://127.0.0.1/callback"}},
			{ID: "v4port", RedirectURIs: []string{"http://127.0.0.1:2/callback?x=1"}},
			{ID: "v6", RedirectURIs: []string{"http://[::1]:8/cb"}},
			{ID: "localhost", RedirectURIs: []string{"http://localhost:8/cb"}},
			{ID: "web", RedirectURIs: []string{"https://app.example.com:8443/cb"}},
			{ID: "svc", Secret: "svc-secret"},
		}
	})
	for _, tc := range []struct {
		client, redirect string
		ok               bool
	}{
		{"v4", "http://127.0.0.1:53124/callback", true},
		{"v4", "http://127.0.0.1/callback", true},
		{"v4port", "http://127.0.0.1:40001/callback?x=1", true},
		{"v6", "http://[::1]:61000/cb", true},
		{"localhost", "http://localhost:9999/cb", true},
		{"v4", "http://127.0.0.1:53124/callback/other", false},
		{"v4", "http://127.0.0.1:53124/Callback", false},
		{"v4", "http://localhost:53124/callback", false},
		{"v4", "http://[::1]:53124/callback", false},
		{"v4", "https://127.0.0.1:53124/callback", false},
		{"v4", "http://127.0.0.1:53124/callback?extra=1", false},
		{"v4", "http://user@127.0.0.1:53124/callback", false},
		{"v4port", "http://127.0.0.1:40001/callback", false},
		{"v6", "http://[::1]:61000/cb#x", false},
		{"web", "https://app.example.com:8444/cb", false},
		{"web", "https://app.example.com/cb", false},
	} {
		verifier, challenge := pkce()
		q := authParams(challenge)
		q.Set("client_id", tc.client)
		q.Set("redirect_uri", tc.redirect)
		resp := f.authorize(t, q)
		if !tc.ok {
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("%s %s: status %d, Location %q; want an error page", tc.client, tc.redirect, resp.StatusCode, resp.Header.Get("Location"))
			}
			continue
		}
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, strings.SplitN(tc.redirect, "?", 2)[0]+"?") {
			t.Errorf("%s %s: status %d, Location %q", tc.client, tc.redirect, resp.StatusCode, loc)
			continue
		}
		u, _ := url.Parse(loc)
		// The code is redeemed with the redirect URI of the request, port
		// included.
		form := url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "code_verifier": {verifier},
			"client_id": {tc.client}, "redirect_uri": {tc.redirect}}
		if status, tok := f.post(t, PathToken, form); status != 200 {
			t.Errorf("%s %s: token %d %v", tc.client, tc.redirect, status, tok)
		}
	}
}

// TestPrivateUseSchemeRedirect: native clients may register private-use
// URI schemes (RFC 8252 section 7.1), matched exactly.
func TestPrivateUseSchemeRedirect(t *testing.T) {
	f := newAS(t, nil)
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"client_name":"n","redirect_uris":["com.example.app:/oauth2redirect"],"token_endpoint_auth_method":"none"}`, true},
		{`{"client_name":"n","redirect_uris":["com.example.app:/oauth2redirect"]}`, false}, // confidential
		{`{"client_name":"n","redirect_uris":["myapp:/cb"],"token_endpoint_auth_method":"none"}`, false},
		{`{"client_name":"n","redirect_uris":["javascript:alert(1)"],"token_endpoint_auth_method":"none"}`, false},
		{`{"client_name":"n","redirect_uris":["data:text/html,x"],"token_endpoint_auth_method":"none"}`, false},
		{`{"client_name":"n","redirect_uris":["com.example.app:/cb#f"],"token_endpoint_auth_method":"none"}`, false},
		{`{"client_name":"n","redirect_uris":["http.example:/cb"],"token_endpoint_auth_method":"none"}`, true},
	} {
		status, c := f.register(t, tc.body)
		if (status == 201) != tc.ok {
			t.Errorf("%s: %d %v", tc.body, status, c)
		}
		if !tc.ok && c["error"] != "invalid_redirect_uri" {
			t.Errorf("%s: error %v, want invalid_redirect_uri", tc.body, c["error"])
		}
	}
	_, c := f.register(t, `{"client_name":"n","redirect_uris":["com.example.app:/oauth2redirect"],"token_endpoint_auth_method":"none"}`)
	id := str(c["client_id"])
	verifier, challenge := pkce()
	q := authParams(challenge)
	q.Set("client_id", id)
	q.Set("redirect_uri", "com.example.app:/oauth2redirect")
	resp := f.authorize(t, q)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Scheme != "com.example.app" || loc.Path != "/oauth2redirect" || loc.Query().Get("code") == "" {
		t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "code_verifier": {verifier},
		"client_id": {id}, "redirect_uri": {"com.example.app:/oauth2redirect"}, "resource": {testResource}}
	if status, tok := f.post(t, PathToken, form); status != 200 {
		t.Fatalf("token %d %v", status, tok)
	}
	// Exact match only.
	for _, ru := range []string{"com.example.app:/oauth2redirect/x", "com.example.app:/OAuth2redirect", "com.example.app://oauth2redirect"} {
		q.Set("redirect_uri", ru)
		if resp := f.authorize(t, q); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d", ru, resp.StatusCode)
		}
	}
	// A confidential pre-registered client cannot have one.
	if _, err := New(Options{Issuer: "http://127.0.0.1:1", Clients: []Client{{ID: "c", Secret: "s", RedirectURIs: []string{"com.example.app:/cb"}}}}); err == nil {
		t.Error("a confidential client was given a private-use redirect URI")
	}
	if _, err := New(Options{Issuer: "http://127.0.0.1:1", Clients: []Client{{ID: "c", RedirectURIs: []string{"com.example.app:/cb"}}}}); err != nil {
		t.Errorf("public client with a private-use redirect URI: %v", err)
	}
}
