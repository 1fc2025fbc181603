package oauthclient

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-mcp/switchboard/internal/resourceuri/resourceuritest"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestProtectedResourceMetadataURLs(t *testing.T) {
	tests := []struct {
		server string
		want   []string
	}{
		{"https://example.com/public/mcp", []string{
			"https://example.com/.well-known/oauth-protected-resource/public/mcp",
			"https://example.com/.well-known/oauth-protected-resource",
		}},
		{"https://example.com/mcp/", []string{
			"https://example.com/.well-known/oauth-protected-resource/mcp",
			"https://example.com/.well-known/oauth-protected-resource",
		}},
		{"https://example.com", []string{"https://example.com/.well-known/oauth-protected-resource"}},
		{"https://example.com/", []string{"https://example.com/.well-known/oauth-protected-resource"}},
		{"http://127.0.0.1:8080/mcp?x=1#f", []string{
			"http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp",
			"http://127.0.0.1:8080/.well-known/oauth-protected-resource",
		}},
		{"https://example.com/a%2Fb", []string{
			"https://example.com/.well-known/oauth-protected-resource/a%2Fb",
			"https://example.com/.well-known/oauth-protected-resource",
		}},
	}
	for _, tt := range tests {
		if got := ProtectedResourceMetadataURLs(mustURL(t, tt.server)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got  %q\n want %q", tt.server, got, tt.want)
		}
	}
}

func TestAuthServerMetadataURLs(t *testing.T) {
	tests := []struct {
		issuer string
		want   []string
	}{
		{"https://auth.example.com/tenant1", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
			"https://auth.example.com/.well-known/openid-configuration/tenant1",
			"https://auth.example.com/tenant1/.well-known/openid-configuration",
		}},
		{"https://auth.example.com/tenant1/", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
			"https://auth.example.com/.well-known/openid-configuration/tenant1",
			"https://auth.example.com/tenant1/.well-known/openid-configuration",
		}},
		{"https://auth.example.com/a/b", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server/a/b",
			"https://auth.example.com/.well-known/openid-configuration/a/b",
			"https://auth.example.com/a/b/.well-known/openid-configuration",
		}},
		{"https://auth.example.com", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server",
			"https://auth.example.com/.well-known/openid-configuration",
		}},
		{"https://auth.example.com/", []string{
			"https://auth.example.com/.well-known/oauth-authorization-server",
			"https://auth.example.com/.well-known/openid-configuration",
		}},
		{"http://localhost:9000", []string{
			"http://localhost:9000/.well-known/oauth-authorization-server",
			"http://localhost:9000/.well-known/openid-configuration",
		}},
	}
	for _, tt := range tests {
		if got := AuthServerMetadataURLs(mustURL(t, tt.issuer)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got  %q\n want %q", tt.issuer, got, tt.want)
		}
	}
}

func TestResourceCovers(t *testing.T) {
	tests := []struct {
		resource, server string
		want             bool
	}{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/", "https://mcp.example.com/mcp", true},
		{"https://MCP.Example.com/mcp", "https://mcp.example.com/mcp", true},
		{"HTTPS://mcp.example.com:443/mcp", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/mcp/", "https://mcp.example.com/mcp", true},
		{"https://mcp.example.com/server", "https://mcp.example.com/server/mcp", true},
		{"https://mcp.example.com/mc", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com/other", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp/deeper", "https://mcp.example.com/mcp", false},
		{"https://evil.example.com/mcp", "https://mcp.example.com/mcp", false},
		{"http://mcp.example.com/mcp", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com:8443/mcp", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp#frag", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp?x=1", "https://mcp.example.com/mcp", false},
		{"https://mcp.example.com/mcp?tenant=a", "https://MCP.example.com:443/mcp?tenant=a", true},
		{"https://mcp.example.com/mcp?tenant=a", "https://mcp.example.com/mcp?tenant=b", false},
		{"https://mcp.example.com/?tenant=a", "https://mcp.example.com/mcp?tenant=a", false},
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp?tenant=a", true},
		{"/mcp", "https://mcp.example.com/mcp", false},
		{"", "https://mcp.example.com/mcp", false},
	}
	for _, tt := range tests {
		if got := resourceCovers(tt.resource, mustURL(t, tt.server)); got != tt.want {
			t.Errorf("resourceCovers(%q, %q) = %v, want %v", tt.resource, tt.server, got, tt.want)
		}
	}
}

// TestCanonicalResource checks the rule shared with auth (package
// internal/resourceuri): both sides canonicalize a server's URI alike.
func TestCanonicalResource(t *testing.T) {
	for _, tt := range resourceuritest.Cases {
		got, err := CanonicalResource(tt.In)
		if tt.Want == "" {
			if err == nil {
				t.Errorf("CanonicalResource(%q) accepted as %q", tt.In, got)
			}
			continue
		}
		if err != nil || got != tt.Want {
			t.Errorf("CanonicalResource(%q) = %q, %v; want %q", tt.In, got, err, tt.Want)
		}
	}
	if _, err := CanonicalResource("mcp.example.com"); err == nil || !strings.Contains(err.Error(), "not an absolute") {
		t.Errorf("error for a URL without scheme: %v", err)
	}
}

func TestValidatePRM(t *testing.T) {
	server := mustURL(t, "https://mcp.example.com/mcp")
	tests := []struct {
		name    string
		md      ProtectedResourceMetadata
		wantErr error
		errText string
	}{
		{name: "ok", md: ProtectedResourceMetadata{Resource: "https://mcp.example.com/mcp", AuthorizationServers: []string{"https://as"}}},
		{name: "mismatch", md: ProtectedResourceMetadata{Resource: "https://evil.example.com/mcp", AuthorizationServers: []string{"https://as"}}, wantErr: ErrResourceMismatch},
		{name: "no resource", md: ProtectedResourceMetadata{AuthorizationServers: []string{"https://as"}}, errText: "no resource"},
		{name: "no servers", md: ProtectedResourceMetadata{Resource: "https://mcp.example.com/mcp"}, errText: "authorization_servers"},
	}
	for _, tt := range tests {
		err := validatePRM(&tt.md, server)
		switch {
		case tt.wantErr == nil && tt.errText == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tt.name, err)
		case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		case tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)):
			t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.errText)
		}
	}
}

func TestValidateASMetadata(t *testing.T) {
	good := func() AuthServerMetadata {
		return AuthServerMetadata{
			Issuer:                        "https://auth.example.com/tenant1",
			AuthorizationEndpoint:         "https://auth.example.com/tenant1/authorize",
			TokenEndpoint:                 "https://auth.example.com/tenant1/token",
			ResponseTypesSupported:        []string{"code"},
			CodeChallengeMethodsSupported: []string{"plain", "S256"},
		}
	}
	tests := []struct {
		name     string
		mod      func(*AuthServerMetadata)
		expected string
		grant    string
		insecure bool
		wantErr  error
		errText  string
	}{
		{name: "ok", mod: func(*AuthServerMetadata) {}},
		{name: "issuer mismatch", mod: func(m *AuthServerMetadata) { m.Issuer = "https://honest.example" }, errText: "issuer"},
		{name: "issuer trailing slash is not identical", mod: func(m *AuthServerMetadata) { m.Issuer += "/" }, errText: "issuer"},
		{name: "no issuer", mod: func(m *AuthServerMetadata) { m.Issuer = "" }, errText: "no issuer"},
		{name: "legacy accepts any issuer", mod: func(m *AuthServerMetadata) { m.Issuer = "https://x/oauth" }, expected: "-"},
		{name: "no PKCE", mod: func(m *AuthServerMetadata) { m.CodeChallengeMethodsSupported = nil }, wantErr: ErrNoPKCE},
		{name: "plain only", mod: func(m *AuthServerMetadata) { m.CodeChallengeMethodsSupported = []string{"plain"} }, wantErr: ErrNoPKCE},
		{name: "no PKCE is fine for client credentials", mod: func(m *AuthServerMetadata) {
			m.CodeChallengeMethodsSupported = nil
			m.AuthorizationEndpoint = ""
		}, grant: GrantClientCredentials},
		{name: "no token endpoint", mod: func(m *AuthServerMetadata) { m.TokenEndpoint = "" }, errText: "token_endpoint"},
		{name: "no authorization endpoint", mod: func(m *AuthServerMetadata) { m.AuthorizationEndpoint = "" }, errText: "authorization_endpoint"},
		{name: "http token endpoint", mod: func(m *AuthServerMetadata) { m.TokenEndpoint = "http://auth.example.com/token" }, errText: "https"},
		{name: "http allowed when insecure", mod: func(m *AuthServerMetadata) { m.TokenEndpoint = "http://auth.example.com/token" }, insecure: true},
		{name: "http loopback is fine", mod: func(m *AuthServerMetadata) { m.TokenEndpoint = "http://127.0.0.1:9/token" }},
		{name: "relative endpoint", mod: func(m *AuthServerMetadata) { m.TokenEndpoint = "/token" }, errText: "absolute"},
		{name: "no code response type", mod: func(m *AuthServerMetadata) { m.ResponseTypesSupported = []string{"token"} }, errText: "response_type"},
		{name: "bad registration endpoint", mod: func(m *AuthServerMetadata) { m.RegistrationEndpoint = "javascript:alert(1)" }, errText: "registration_endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := good()
			tt.mod(&md)
			expected := "https://auth.example.com/tenant1"
			switch tt.expected {
			case "-":
				expected = ""
			case "":
			default:
				expected = tt.expected
			}
			grant := tt.grant
			if grant == "" {
				grant = GrantAuthorizationCode
			}
			err := validateASMetadata(&md, expected, grant, tt.insecure)
			switch {
			case tt.wantErr == nil && tt.errText == "":
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.errText)
				}
			}
		})
	}
}

func TestValidateAuthorizationResponse(t *testing.T) {
	const iss = "https://auth.example.com"
	tests := []struct {
		name      string
		resp      AuthorizationResponse
		supported bool
		wantCode  string
		wantErr   error
		errText   string
	}{
		{name: "iss supported and matching", resp: AuthorizationResponse{Code: "c", State: "s", Issuer: iss, HasIssuer: true}, supported: true, wantCode: "c"},
		{name: "iss supported and absent", resp: AuthorizationResponse{Code: "c", State: "s"}, supported: true, wantErr: ErrIssuerMismatch},
		{name: "iss supported and different", resp: AuthorizationResponse{Code: "c", State: "s", Issuer: "https://evil", HasIssuer: true}, supported: true, wantErr: ErrIssuerMismatch},
		{name: "iss not advertised but present and different", resp: AuthorizationResponse{Code: "c", State: "s", Issuer: "https://evil", HasIssuer: true}, wantErr: ErrIssuerMismatch},
		{name: "iss not advertised, present, matching", resp: AuthorizationResponse{Code: "c", State: "s", Issuer: iss, HasIssuer: true}, wantCode: "c"},
		{name: "iss not advertised and absent", resp: AuthorizationResponse{Code: "c", State: "s"}, wantCode: "c"},
		{name: "no normalization: trailing slash", resp: AuthorizationResponse{Code: "c", State: "s", Issuer: iss + "/", HasIssuer: true}, wantErr: ErrIssuerMismatch},
		{name: "no normalization: case", resp: AuthorizationResponse{Code: "c", State: "s", Issuer: "https://AUTH.example.com", HasIssuer: true}, wantErr: ErrIssuerMismatch},
		{name: "present but empty iss", resp: AuthorizationResponse{Code: "c", State: "s", HasIssuer: true}, wantErr: ErrIssuerMismatch},
		{name: "state mismatch", resp: AuthorizationResponse{Code: "c", State: "x"}, wantErr: ErrStateMismatch},
		{name: "state missing", resp: AuthorizationResponse{Code: "c"}, wantErr: ErrStateMismatch},
		{name: "error response", resp: AuthorizationResponse{State: "s", Error: "access_denied", ErrorDescription: "no\x00way"}, errText: "access_denied: no way"},
		{name: "error with wrong iss is not shown", resp: AuthorizationResponse{State: "s", Error: "access_denied", Issuer: "https://evil", HasIssuer: true}, wantErr: ErrIssuerMismatch},
		{name: "no code", resp: AuthorizationResponse{State: "s"}, errText: "no code"},
	}
	for _, tt := range tests {
		code, err := validateAuthorizationResponse(&tt.resp, iss, tt.supported, "s")
		switch {
		case tt.wantErr != nil:
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
			}
			if tt.resp.Error != "" && err != nil && strings.Contains(err.Error(), tt.resp.Error) {
				t.Errorf("%s: error %q shows the unverified error code", tt.name, err)
			}
		case tt.errText != "":
			if err == nil || !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.errText)
			}
		default:
			if err != nil || code != tt.wantCode {
				t.Errorf("%s: got %q, %v; want %q", tt.name, code, err, tt.wantCode)
			}
		}
	}
}

func TestPKCE(t *testing.T) {
	// RFC 7636 Appendix B.
	if got := s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("s256 = %q", got)
	}
	p, err := newPKCE()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.verifier) < 43 || len(p.verifier) > 128 || p.challenge != s256(p.verifier) {
		t.Errorf("bad PKCE pair %+v", p)
	}
	q, _ := newPKCE()
	if q.verifier == p.verifier {
		t.Error("two PKCE verifiers are equal")
	}
}

func TestTokenAuthMethod(t *testing.T) {
	pub := &ClientInfo{ClientID: "c"}
	conf := &ClientInfo{ClientID: "c", ClientSecret: "s"}
	tests := []struct {
		name      string
		c         *ClientInfo
		supported []string
		key       bool
		want      string
	}{
		{"public client", pub, []string{"none"}, false, AuthMethodNone},
		{"public client, server lists basic only", pub, []string{"client_secret_basic"}, false, AuthMethodNone},
		{"secret, basic only", conf, []string{"client_secret_basic"}, false, AuthMethodClientSecretBasic},
		{"secret, post only", conf, []string{"client_secret_post"}, false, AuthMethodClientSecretPost},
		{"secret, both", conf, []string{"client_secret_post", "client_secret_basic"}, false, AuthMethodClientSecretBasic},
		{"secret, server lists nothing", conf, nil, false, AuthMethodClientSecretBasic},
		{"secret, none only", conf, []string{"none"}, false, AuthMethodNone},
		{"registration said post", &ClientInfo{ClientID: "c", ClientSecret: "s", TokenEndpointAuthMethod: "client_secret_post"}, []string{"client_secret_basic"}, false, AuthMethodClientSecretPost},
		{"registration said basic but no secret", &ClientInfo{ClientID: "c", TokenEndpointAuthMethod: "client_secret_basic"}, []string{"none"}, false, AuthMethodNone},
		{"key", pub, []string{"private_key_jwt", "client_secret_basic"}, true, AuthMethodPrivateKeyJWT},
	}
	for _, tt := range tests {
		if got := tokenAuthMethod(tt.c, tt.supported, tt.key); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestRegistrationAuthMethod(t *testing.T) {
	tests := []struct {
		supported []string
		key       bool
		want      string
	}{
		{nil, false, AuthMethodNone},
		{[]string{"none", "client_secret_basic"}, false, AuthMethodNone},
		{[]string{"client_secret_basic"}, false, AuthMethodClientSecretBasic},
		{[]string{"client_secret_post"}, false, AuthMethodClientSecretPost},
		{[]string{"private_key_jwt", "none"}, true, AuthMethodPrivateKeyJWT},
		{[]string{"private_key_jwt"}, false, AuthMethodNone},
	}
	for _, tt := range tests {
		if got := registrationAuthMethod(tt.supported, tt.key); got != tt.want {
			t.Errorf("registrationAuthMethod(%v, %v) = %s, want %s", tt.supported, tt.key, got, tt.want)
		}
	}
}

func TestClientMetadataDefaults(t *testing.T) {
	tests := []struct {
		redirect, wantType string
	}{
		{"http://127.0.0.1:5555/callback", "native"},
		{"http://localhost:3000/callback", "native"},
		{"com.example.app:/oauth", "native"},
		{"https://app.example.com/callback", "web"},
	}
	for _, tt := range tests {
		cfg := &Config{RedirectURL: tt.redirect}
		md := cfg.clientMetadata()
		if md.ApplicationType != tt.wantType || !reflect.DeepEqual(md.RedirectURIs, []string{tt.redirect}) ||
			!reflect.DeepEqual(md.GrantTypes, []string{"authorization_code", "refresh_token"}) || md.ClientName == "" {
			t.Errorf("%s: %+v", tt.redirect, md)
		}
	}
	cfg := &Config{ClientMetadataURL: "https://app.example.com/client.json", RedirectURL: "http://127.0.0.1:1/cb"}
	doc := cfg.MetadataDocument()
	if doc.ClientID != cfg.ClientMetadataURL || doc.TokenEndpointAuthMethod != "none" || len(doc.RedirectURIs) != 1 {
		t.Errorf("metadata document %+v", doc)
	}
}
