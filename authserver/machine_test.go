package authserver

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-mcp/switchboard/auth"
)

// register posts client metadata to the registration endpoint.
func (f *asFixture) register(t *testing.T, body string) (int, map[string]any) {
	t.Helper()
	resp, err := f.client.Post(f.as.Issuer()+PathRegister, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestRegistrationCannotYieldMachineClient is the regression test of the
// consent bypass (issue 10, finding 1): open registration must never give
// a client that obtains tokens without a person, whatever it asks for.
func TestRegistrationCannotYieldMachineClient(t *testing.T) {
	for _, consent := range []bool{false, true} {
		f := newAS(t, func(o *Options) { o.AutoApprove = !consent })
		for _, body := range []string{
			`{"client_name":"m","grant_types":["client_credentials"]}`,
			`{"client_name":"m","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_post"}`,
			`{"client_name":"m","redirect_uris":["https://a.example.com/cb"],"grant_types":["authorization_code","refresh_token","client_credentials"]}`,
			`{"client_name":"m","redirect_uris":["https://a.example.com/cb"]}`,
			`{"client_name":"m","redirect_uris":["https://a.example.com/cb"],"grant_types":["authorization_code"],"token_endpoint_auth_method":"client_secret_post"}`,
		} {
			status, c := f.register(t, body)
			if status == 201 {
				if gts, _ := c["grant_types"].([]any); len(gts) > 0 {
					for _, g := range gts {
						if g == "client_credentials" {
							t.Errorf("consent=%t %s: registered with client_credentials: %v", consent, body, c)
						}
					}
				}
				form := url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}, "scope": {"mcp files:write"}}
				var st int
				var tok map[string]any
				if c["token_endpoint_auth_method"] == "client_secret_post" {
					form.Set("client_id", str(c["client_id"]))
					form.Set("client_secret", str(c["client_secret"]))
					st, tok = f.post(t, PathToken, form)
				} else {
					st, tok = f.post(t, PathToken, form, str(c["client_id"]), str(c["client_secret"]))
				}
				if st == 200 || tok["access_token"] != nil {
					t.Errorf("consent=%t %s: a registered client got a client_credentials token", consent, body)
				} else if tok["error"] != "unauthorized_client" {
					t.Errorf("consent=%t %s: token error %v, want unauthorized_client", consent, body, tok)
				}
				continue
			}
			if status != 400 || c["error"] != "invalid_client_metadata" {
				t.Errorf("consent=%t %s: %d %v, want 400 invalid_client_metadata", consent, body, status, c)
			}
		}
	}
}

// TestClientCredentialsScopes checks that a machine client gets only the
// scopes it is allowed: by default all of them, on request a subset, and
// invalid_scope for anything else.
func TestClientCredentialsScopes(t *testing.T) {
	f := newAS(t, func(o *Options) {
		o.Clients = append(o.Clients, Client{ID: "reader", Secret: "reader-secret", Scopes: []string{"mcp", "files:read"}, GrantTypes: []string{"client_credentials"}})
	})
	for _, tc := range []struct {
		scope     string // "-" for none
		wantScope string
		wantErr   string
	}{
		{scope: "-", wantScope: "mcp files:read"},
		{scope: "mcp", wantScope: "mcp"},
		{scope: "files:read mcp", wantScope: "files:read mcp"},
		{scope: "mcp files:write", wantErr: "invalid_scope"},
		{scope: "admin", wantErr: "invalid_scope"},
	} {
		form := url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}}
		if tc.scope != "-" {
			form.Set("scope", tc.scope)
		}
		status, tok := f.post(t, PathToken, form, "reader", "reader-secret")
		if tc.wantErr != "" {
			if status != 400 || tok["error"] != tc.wantErr {
				t.Errorf("scope %q: %d %v, want %s", tc.scope, status, tok, tc.wantErr)
			}
			continue
		}
		if status != 200 || tok["scope"] != tc.wantScope {
			t.Errorf("scope %q: %d scope=%v, want %q", tc.scope, status, tok["scope"], tc.wantScope)
		}
	}
}

// TestMachineTokensAreMarked checks that tokens say whether a person or a
// client alone is behind them, to the in-process verifier, to
// introspection, and to the auth middleware's policy.
func TestMachineTokensAreMarked(t *testing.T) {
	f := newAS(t, nil)
	v, _ := f.as.Verifier(testResource)

	status, tok := f.post(t, PathToken, url.Values{"grant_type": {"client_credentials"}, "resource": {testResource}, "scope": {"mcp"}}, "svc", "svc-secret")
	if status != 200 {
		t.Fatalf("%d %v", status, tok)
	}
	machine := str(tok["access_token"])
	verifier, challenge := pkce()
	status, tok = f.exchange(t, f.code(t, authParams(challenge)), verifier)
	if status != 200 {
		t.Fatalf("%d %v", status, tok)
	}
	person := str(tok["access_token"])
	status, tok = f.post(t, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}, "client_id": {"public-app"}})
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, tok)
	}
	refreshed := str(tok["access_token"])

	for _, tc := range []struct {
		name, token, grant, sub string
		machine                 bool
	}{
		{"client_credentials", machine, auth.GrantClientCredentials, "svc", true},
		{"authorization_code", person, auth.GrantAuthorizationCode, DefaultSubject, false},
		{"refreshed", refreshed, auth.GrantAuthorizationCode, DefaultSubject, false},
	} {
		info, err := v.Verify(context.Background(), tc.token)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if info.Grant != tc.grant || info.IsMachine() != tc.machine || info.Subject != tc.sub {
			t.Errorf("%s: grant=%q machine=%t sub=%q", tc.name, info.Grant, info.IsMachine(), info.Subject)
		}
		status, in := f.post(t, PathIntrospect, url.Values{"token": {tc.token}}, "svc", "svc-secret")
		if status != 200 || in[auth.GrantClaim] != tc.grant {
			t.Errorf("%s: introspection %d %v", tc.name, status, in)
		}
	}
}

// TestMetadataDocumentCannotYieldMachineClient: a Client ID Metadata
// Document describes a public client that always needs a person.
func TestMetadataDocumentCannotYieldMachineClient(t *testing.T) {
	const id = "https://app.example.com/client.json"
	for _, doc := range []string{
		`{"client_id":"` + id + `","client_name":"m","redirect_uris":["https://app.example.com/cb"],"grant_types":["authorization_code","client_credentials"]}`,
		`{"client_id":"` + id + `","client_name":"m","redirect_uris":["https://app.example.com/cb"],"grant_types":["client_credentials"]}`,
	} {
		if _, err := ParseClientMetadataDocument([]byte(doc), id); err == nil {
			t.Errorf("accepted %s", doc)
		}
	}
}
