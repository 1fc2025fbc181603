package authserver

import (
	"context"
	"net/url"
	"testing"
)

// TestIntrospectionUnknownTokenInactive is the regression test of the
// introspection part of issue 10 finding 6: a token this server has no
// record of (here: issued and revoked before a restart with the same key
// but without durable storage) is inactive, not active.
func TestIntrospectionUnknownTokenInactive(t *testing.T) {
	key, err := GenerateSigningKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	f := newAS(t, func(o *Options) { o.SigningKey = key })
	status, tok := f.post(t, PathToken, url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}, "scope": {"mcp"}}, "svc", "svc-secret")
	if status != 200 {
		t.Fatalf("%d %v", status, tok)
	}
	at := str(tok["access_token"])
	if status, _ := f.post(t, PathRevoke, url.Values{"token": {at}}, "svc", "svc-secret"); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	f.restart(t) // same key, state lost
	if _, in := f.post(t, PathIntrospect, url.Values{"token": {at}}, "svc", "svc-secret"); in["active"] != false {
		t.Fatalf("a revoked token unknown after a restart introspects as %v", in)
	}
	v, _ := f.as.Verifier(testResource)
	if _, err := v.Verify(context.Background(), at); err == nil {
		t.Fatal("the in-process verifier accepted a token this server has no record of")
	}
}

// TestStateSurvivesRestart: with a Storage that outlives the Server, a
// restart keeps the signing key, clients, grants, refresh tokens and
// revocations.
func TestStateSurvivesRestart(t *testing.T) {
	f := newAS(t, func(o *Options) { o.Storage = NewMemoryStorage() })
	kid1, _ := f.as.PublicKey()

	// A person's login, a second one revoked by its refresh token, a
	// machine token revoked, a registered client, a session-bound grant
	// whose session ended.
	verifier, challenge := pkce()
	_, tok := f.exchange(t, f.code(t, authParams(challenge)), verifier)
	at1, rt1 := str(tok["access_token"]), str(tok["refresh_token"])
	verifier, challenge = pkce()
	_, tok = f.exchange(t, f.code(t, authParams(challenge)), verifier)
	at3, rt3 := str(tok["access_token"]), str(tok["refresh_token"])
	if status, _ := f.post(t, PathRevoke, url.Values{"token": {rt3}, "client_id": {"public-app"}}); status != 200 {
		t.Fatal("revoke")
	}
	_, tok = f.post(t, PathToken, url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}, "scope": {"mcp"}}, "svc", "svc-secret")
	at2 := str(tok["access_token"])
	f.post(t, PathRevoke, url.Values{"token": {at2}}, "svc", "svc-secret")
	status, reg := f.register(t, `{"client_name":"Dyn","redirect_uris":["`+testRedirect+`"],"token_endpoint_auth_method":"none"}`)
	if status != 201 {
		t.Fatalf("register: %d %v", status, reg)
	}
	verifier, challenge = pkce()
	q := authParams(challenge)
	q.Set(BindingParam, "session:s1")
	_, tok = f.exchange(t, f.code(t, q), verifier)
	at4 := str(tok["access_token"])
	f.as.RevokeSession("s1")

	f.restart(t)

	if kid2, _ := f.as.PublicKey(); kid2 != kid1 {
		t.Fatalf("signing key changed: %s -> %s", kid1, kid2)
	}
	v, _ := f.as.Verifier(testResource)
	if _, err := v.Verify(context.Background(), at1); err != nil {
		t.Fatalf("a person's token before the restart: %v", err)
	}
	for name, tokn := range map[string]string{"at1": at1, "at2": at2, "at3": at3, "rt3": rt3, "at4": at4, "rt1": rt1} {
		_, in := f.post(t, PathIntrospect, url.Values{"token": {tokn}}, "svc", "svc-secret")
		want := name == "at1" || name == "rt1"
		if in["active"] != want {
			t.Errorf("%s: introspection %v, want active=%t", name, in, want)
		}
	}
	for name, tokn := range map[string]string{"at2": at2, "at3": at3, "at4": at4} {
		if _, err := v.Verify(context.Background(), tokn); err == nil {
			t.Errorf("%s: revoked before the restart, accepted after it", name)
		}
	}
	// The refresh token refreshes, and rotation goes on.
	status, tok = f.post(t, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}, "client_id": {"public-app"}})
	if status != 200 {
		t.Fatalf("refresh after restart: %d %v", status, tok)
	}
	if _, err := v.Verify(context.Background(), str(tok["access_token"])); err != nil {
		t.Fatal(err)
	}
	status, body := f.post(t, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}, "client_id": {"public-app"}})
	wantOAuthError(t, status, body, 400, "invalid_grant")
	// The registered client is still registered.
	verifier, challenge = pkce()
	q = authParams(challenge)
	q.Set("client_id", str(reg["client_id"]))
	if status, tok := f.post(t, PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {f.code(t, q)},
		"code_verifier": {verifier}, "client_id": {str(reg["client_id"])}, "redirect_uri": {testRedirect}}); status != 200 {
		t.Fatalf("registered client after restart: %d %v", status, tok)
	}
	// The ended binding stays ended.
	_, challenge = pkce()
	q = authParams(challenge)
	q.Set(BindingParam, "session:s1")
	if p := redirectParams(t, f.authorize(t, q)); p.Get("error") != "invalid_request" {
		t.Fatalf("ended binding after restart: %v", p)
	}
}

// TestStoredKeyDecidesAlgorithm: a key stored with RS256 keeps signing
// RS256 after a restart whose Algorithm names the default, ES256.
func TestStoredKeyDecidesAlgorithm(t *testing.T) {
	st := NewMemoryStorage()
	as1, err := New(Options{Issuer: "http://127.0.0.1:1", Storage: st, Algorithm: "RS256"})
	if err != nil {
		t.Fatal(err)
	}
	as2, err := New(Options{Issuer: "http://127.0.0.1:1", Storage: st, Algorithm: "ES256"})
	if err != nil {
		t.Fatalf("restart with another Algorithm: %v", err)
	}
	kid1, _ := as1.PublicKey()
	kid2, _ := as2.PublicKey()
	if kid1 != kid2 || as2.alg != "RS256" {
		t.Fatalf("key %s/%s alg %s", kid1, kid2, as2.alg)
	}
}
