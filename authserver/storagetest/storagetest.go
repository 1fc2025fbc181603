// Package storagetest checks that an implementation of authserver.Storage
// keeps the contract the authorization server relies on. Backends call
// [Run] from their tests.
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/authserver"
)

// Run runs the contract tests on fresh storages from open.
func Run(t *testing.T, open func(t *testing.T) authserver.Storage) {
	for _, tc := range []struct {
		name string
		f    func(t *testing.T, st authserver.Storage)
	}{
		{"SigningKey", testSigningKey},
		{"Clients", testClients},
		{"Grants", testGrants},
		{"Tokens", testTokens},
		{"Bindings", testBindings},
		{"DeleteExpired", testDeleteExpired},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open(t)) })
	}
}

// now is a time without sub-millisecond precision, which backends may
// drop.
var now = time.UnixMilli(time.Now().UnixMilli())

func hash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func testSigningKey(t *testing.T, st authserver.Storage) {
	ctx := context.Background()
	if _, err := st.SigningKey(ctx); !errors.Is(err, authserver.ErrNotFound) {
		t.Fatalf("empty storage: %v", err)
	}
	first, err := st.CreateSigningKey(ctx, []byte("KEY ONE"))
	if err != nil || string(first) != "KEY ONE" {
		t.Fatalf("create: %q %v", first, err)
	}
	second, err := st.CreateSigningKey(ctx, []byte("KEY TWO"))
	if err != nil || string(second) != "KEY ONE" {
		t.Fatalf("a second create must return the first key: %q %v", second, err)
	}
	if got, err := st.SigningKey(ctx); err != nil || string(got) != "KEY ONE" {
		t.Fatalf("read: %q %v", got, err)
	}
}

func testClients(t *testing.T, st authserver.Storage) {
	ctx := context.Background()
	dyn := &authserver.StoredClient{
		ID: "b-dyn", Kind: authserver.ClientRegistered, AuthMethod: "none", Name: "Dyn", URI: "https://app.example.com",
		RedirectURIs: []string{"http://127.0.0.1/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	machine := &authserver.StoredClient{
		ID: "a-machine", Kind: authserver.ClientMachine, SecretHash: hash("s"), AuthMethod: "client_secret_basic",
		Name: "CI", GrantTypes: []string{"client_credentials"}, Scopes: []string{"mcp"}, CreatedAt: now,
	}
	noScopes := &authserver.StoredClient{ID: "c-none", Kind: authserver.ClientMachine, SecretHash: hash("t"),
		AuthMethod: "client_secret_basic", GrantTypes: []string{"client_credentials"}, Scopes: []string{}, CreatedAt: now}
	for _, c := range []*authserver.StoredClient{dyn, machine, noScopes} {
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateClient(ctx, dyn); !errors.Is(err, authserver.ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, want := range []*authserver.StoredClient{dyn, machine, noScopes} {
		got, err := st.Client(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !sameClient(got, want) {
			t.Errorf("client %s: got %+v, want %+v", want.ID, got, want)
		}
	}
	if got, _ := st.Client(ctx, "c-none"); got.Scopes == nil {
		t.Error("an empty scope list came back as nil (any scope)")
	}
	if got, _ := st.Client(ctx, "a-machine"); got.Scopes == nil || got.SecretHash == nil {
		t.Error("scopes or secret digest lost")
	}
	if got, _ := st.Client(ctx, "b-dyn"); got.Scopes != nil || got.SecretHash != nil {
		t.Errorf("nil scopes/secret came back as %v/%v", got.Scopes, got.SecretHash)
	}
	if _, err := st.Client(ctx, "nope"); !errors.Is(err, authserver.ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	all, err := st.Clients(ctx)
	if err != nil || len(all) != 3 || all[0].ID != "a-machine" || all[2].ID != "c-none" {
		t.Fatalf("Clients: %v %v", all, err)
	}
	if n, err := st.CountClients(ctx, authserver.ClientRegistered); err != nil || n != 1 {
		t.Fatalf("CountClients: %d %v", n, err)
	}
	// ExtendClient only moves an expiry later, and never gives one to a
	// client without.
	if err := st.ExtendClient(ctx, "b-dyn", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Client(ctx, "b-dyn"); !got.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("expiry moved earlier: %v", got.ExpiresAt)
	}
	if err := st.ExtendClient(ctx, "b-dyn", now.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Client(ctx, "b-dyn"); !got.ExpiresAt.Equal(now.Add(48 * time.Hour)) {
		t.Fatalf("expiry not extended: %v", got.ExpiresAt)
	}
	if err := st.ExtendClient(ctx, "a-machine", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Client(ctx, "a-machine"); !got.ExpiresAt.IsZero() {
		t.Fatalf("a client that never expires got an expiry: %v", got.ExpiresAt)
	}
	if err := st.ExtendClient(ctx, "nope", now); !errors.Is(err, authserver.ErrNotFound) {
		t.Fatalf("extend unknown: %v", err)
	}
	// Deleting a client revokes its grants.
	g := &authserver.StoredGrant{ID: "g", ClientID: "a-machine", Subject: "a-machine", GrantType: "client_credentials", ExpiresAt: now.Add(time.Hour), RefreshHash: hash("r")}
	if err := st.PutGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteClient(ctx, "a-machine"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Client(ctx, "a-machine"); !errors.Is(err, authserver.ErrNotFound) {
		t.Fatalf("deleted client: %v", err)
	}
	if got, err := st.Grant(ctx, "g"); err != nil || !got.Revoked || got.RefreshHash != nil {
		t.Fatalf("grant of a deleted client: %+v %v", got, err)
	}
	if err := st.DeleteClient(ctx, "a-machine"); !errors.Is(err, authserver.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func sameClient(a, b *authserver.StoredClient) bool {
	return a.ID == b.ID && a.Kind == b.Kind && bytes.Equal(a.SecretHash, b.SecretHash) && a.AuthMethod == b.AuthMethod &&
		a.Name == b.Name && a.URI == b.URI && slices.Equal(a.RedirectURIs, b.RedirectURIs) &&
		slices.Equal(a.GrantTypes, b.GrantTypes) && slices.Equal(a.Scopes, b.Scopes) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

func testGrants(t *testing.T, st authserver.Storage) {
	ctx := context.Background()
	g := &authserver.StoredGrant{ID: "g1", ClientID: "app", Subject: "alice", GrantType: "authorization_code",
		Scopes: []string{"mcp", "files:read"}, Resource: "https://mcp.example.com/mcp", RefreshHash: hash("rt1"), ExpiresAt: now.Add(time.Hour)}
	if err := st.PutGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	got, err := st.Grant(ctx, "g1")
	if err != nil || got.Subject != "alice" || !slices.Equal(got.Scopes, g.Scopes) || !bytes.Equal(got.RefreshHash, g.RefreshHash) ||
		got.Revoked || !got.ExpiresAt.Equal(g.ExpiresAt) || got.Resource != g.Resource || got.GrantType != g.GrantType {
		t.Fatalf("%+v %v", got, err)
	}
	// The caller's copy is not the stored one.
	g.Scopes[0] = "changed"
	if got, _ := st.Grant(ctx, "g1"); got.Scopes[0] != "mcp" {
		t.Fatal("storage shares memory with its caller")
	}
	got.Revoked, got.RefreshHash = true, nil
	if err := st.PutGrant(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Grant(ctx, "g1"); !got.Revoked || got.RefreshHash != nil {
		t.Fatalf("replace: %+v", got)
	}
	if _, err := st.Grant(ctx, "nope"); !errors.Is(err, authserver.ErrNotFound) {
		t.Fatalf("unknown grant: %v", err)
	}
	if err := st.PutGrant(ctx, &authserver.StoredGrant{ID: "g2", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Grant(ctx, "g2"); got.Scopes != nil {
		t.Fatalf("no scopes came back as %#v", got.Scopes)
	}
}

func testTokens(t *testing.T, st authserver.Storage) {
	ctx := context.Background()
	if err := st.PutRefreshToken(ctx, &authserver.StoredRefreshToken{Hash: hash("rt"), GrantID: "g1", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rt, err := st.RefreshToken(ctx, hash("rt"))
	if err != nil || rt.GrantID != "g1" || !rt.ExpiresAt.Equal(now.Add(time.Hour)) || !bytes.Equal(rt.Hash, hash("rt")) {
		t.Fatalf("%+v %v", rt, err)
	}
	if _, err := st.RefreshToken(ctx, hash("other")); !errors.Is(err, authserver.ErrNotFound) {
		t.Fatalf("unknown refresh token: %v", err)
	}
	if err := st.PutAccessToken(ctx, &authserver.StoredAccessToken{JTI: "j1", GrantID: "g1", ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	at, err := st.AccessToken(ctx, "j1")
	if err != nil || at.GrantID != "g1" || at.Revoked {
		t.Fatalf("%+v %v", at, err)
	}
	at.Revoked = true
	if err := st.PutAccessToken(ctx, at); err != nil {
		t.Fatal(err)
	}
	if at, _ := st.AccessToken(ctx, "j1"); !at.Revoked {
		t.Fatal("revocation not stored")
	}
	if _, err := st.AccessToken(ctx, "j2"); !errors.Is(err, authserver.ErrNotFound) {
		t.Fatalf("unknown access token: %v", err)
	}
}

func testBindings(t *testing.T, st authserver.Storage) {
	ctx := context.Background()
	for _, g := range []*authserver.StoredGrant{
		{ID: "b1", Binding: "session:s1", RefreshHash: hash("x"), ExpiresAt: now.Add(time.Hour)},
		{ID: "b2", Binding: "session:s1", ExpiresAt: now.Add(time.Hour)},
		{ID: "b3", Binding: "session:s2", ExpiresAt: now.Add(time.Hour)},
	} {
		if err := st.PutGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if ended, err := st.BindingRevoked(ctx, "session:s1"); err != nil || ended {
		t.Fatalf("%t %v", ended, err)
	}
	n, err := st.RevokeBinding(ctx, "session:s1", now.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("RevokeBinding: %d %v", n, err)
	}
	if ended, err := st.BindingRevoked(ctx, "session:s1"); err != nil || !ended {
		t.Fatalf("%t %v", ended, err)
	}
	if g, _ := st.Grant(ctx, "b1"); !g.Revoked || g.RefreshHash != nil {
		t.Fatalf("%+v", g)
	}
	if g, _ := st.Grant(ctx, "b3"); g.Revoked {
		t.Fatal("another binding's grant revoked")
	}
	if n, _ := st.RevokeBinding(ctx, "session:s1", now.Add(time.Hour)); n != 0 {
		t.Fatalf("revoked again: %d", n)
	}
}

func testDeleteExpired(t *testing.T, st authserver.Storage) {
	ctx := context.Background()
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.CreateClient(ctx, &authserver.StoredClient{ID: "old", Kind: authserver.ClientRegistered, AuthMethod: "none", CreatedAt: past, ExpiresAt: past}))
	must(st.CreateClient(ctx, &authserver.StoredClient{ID: "new", Kind: authserver.ClientRegistered, AuthMethod: "none", CreatedAt: past, ExpiresAt: future}))
	must(st.CreateClient(ctx, &authserver.StoredClient{ID: "forever", Kind: authserver.ClientMachine, AuthMethod: "client_secret_basic", CreatedAt: past}))
	must(st.PutGrant(ctx, &authserver.StoredGrant{ID: "old", ExpiresAt: past}))
	must(st.PutGrant(ctx, &authserver.StoredGrant{ID: "new", ExpiresAt: future}))
	must(st.PutRefreshToken(ctx, &authserver.StoredRefreshToken{Hash: hash("old"), ExpiresAt: past}))
	must(st.PutRefreshToken(ctx, &authserver.StoredRefreshToken{Hash: hash("new"), ExpiresAt: future}))
	must(st.PutAccessToken(ctx, &authserver.StoredAccessToken{JTI: "old", ExpiresAt: past}))
	must(st.PutAccessToken(ctx, &authserver.StoredAccessToken{JTI: "new", ExpiresAt: future}))
	_, err := st.RevokeBinding(ctx, "session:old", past)
	must(err)
	_, err = st.RevokeBinding(ctx, "session:new", future)
	must(err)

	must(st.DeleteExpired(ctx, now))

	gone := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("expired %s kept: %v", what, err)
		}
	}
	kept := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("live %s deleted: %v", what, err)
		}
	}
	_, err = st.Client(ctx, "old")
	gone("client", err)
	_, err = st.Client(ctx, "new")
	kept("client", err)
	_, err = st.Client(ctx, "forever")
	kept("client without expiry", err)
	_, err = st.Grant(ctx, "old")
	gone("grant", err)
	_, err = st.Grant(ctx, "new")
	kept("grant", err)
	_, err = st.RefreshToken(ctx, hash("old"))
	gone("refresh token", err)
	_, err = st.RefreshToken(ctx, hash("new"))
	kept("refresh token", err)
	_, err = st.AccessToken(ctx, "old")
	gone("access token", err)
	_, err = st.AccessToken(ctx, "new")
	kept("access token", err)
	if ended, _ := st.BindingRevoked(ctx, "session:old"); ended {
		t.Error("expired binding kept")
	}
	if ended, _ := st.BindingRevoked(ctx, "session:new"); !ended {
		t.Error("live binding deleted")
	}
}
