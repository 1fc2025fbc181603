package authserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/oauthclient"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// testIdP is an enterprise identity provider and a workload identity
// issuer: it publishes a JWKS and, at its token endpoint, exchanges an
// ID token it issued for an ID-JAG (RFC 8693, requested_token_type
// id-jag) whose audience is the requested authorization server.
type testIdP struct {
	*httptest.Server
	key    *ecdsa.PrivateKey
	signer jose.Signer
	scope  string // the scopes the IdP's policy grants in ID-JAGs
}

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idp := &testIdP{key: k, scope: "mcp files:read"}
	idp.Server = httptest.NewServer(http.HandlerFunc(idp.serve))
	t.Cleanup(idp.Close)
	return idp
}

func (p *testIdP) sign(t testing.TB, typ string, claims map[string]any) string {
	if t == nil {
		t = &testing.T{}
	} else {
		t.Helper()
	}
	opts := (&jose.SignerOptions{}).WithHeader("kid", "idp-key")
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (p *testIdP) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/jwks":
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "idp-key", Algorithm: "ES256", Use: "sig"}}})
	case "/token":
		_ = r.ParseForm()
		f := r.PostForm
		if f.Get("grant_type") != authserver.GrantTokenExchange || f.Get("requested_token_type") != oauthclient.TokenTypeIDJAG ||
			f.Get("subject_token_type") != oauthclient.TokenTypeIDToken {
			http.Error(w, `{"error":"invalid_request"}`, 400)
			return
		}
		// The ID token must be one of ours.
		tok, err := jwt.ParseSigned(f.Get("subject_token"), []jose.SignatureAlgorithm{jose.ES256})
		var c jwt.Claims
		if err != nil || tok.Claims(&p.key.PublicKey, &c) != nil || c.Issuer != p.URL {
			http.Error(w, `{"error":"invalid_grant"}`, 400)
			return
		}
		now := time.Now()
		jag := p.sign(nil, authserver.IDJAGType, map[string]any{
			"iss": p.URL, "sub": c.Subject, "aud": f.Get("audience"), "resource": f.Get("resource"),
			"client_id": "mcp-client", "scope": p.scope, "email": "alice@example.com",
			"jti": "jag-" + oauthclientRandom(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": jag, "issued_token_type": oauthclient.TokenTypeIDJAG, "token_type": "N_A", "expires_in": 300})
	default:
		http.NotFound(w, r)
	}
}

func oauthclientRandom() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// protected starts an MCP server with a whoami tool behind as, with opts
// for the middleware.
func protected(t *testing.T, as func() *authserver.Server, dpop *auth.DPoPOptions) (mcpURL string, setAS func(*authserver.Server)) {
	t.Helper()
	var srvAS *authserver.Server
	rs := httptest.NewUnstartedServer(nil)
	mcpURL = "http://" + rs.Listener.Addr().String() + "/mcp"
	setAS = func(a *authserver.Server) {
		srvAS = a
		s := mcp.NewServer(protocol.Implementation{Name: "p", Version: "1"}, nil)
		s.AddTool(&protocol.Tool{Name: "whoami"}, func(ctx context.Context, _ *mcp.Request, _ *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			info := auth.TokenInfoFrom(ctx)
			b, _ := json.Marshal(map[string]any{"sub": info.Subject, "client": info.ClientID, "scope": info.Scopes, "grant": info.Grant,
				"email": info.Claims["email"], "dpop": info.IsDPoPBound(), "machine": info.IsMachine()})
			return mcp.TextResult(string(b)), nil
		})
		v, err := srvAS.Verifier(mcpURL)
		if err != nil {
			t.Fatal(err)
		}
		m, err := auth.New(v, &auth.Options{Resource: mcpURL, AuthorizationServers: []string{srvAS.Issuer()}, DPoP: dpop})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		m.Mount(mux, streamable.NewHandler(s, nil))
		rs.Config.Handler = mux
		rs.Start()
		t.Cleanup(rs.Close)
	}
	_ = as
	return mcpURL, setAS
}

func whoamiVia(t *testing.T, mcpURL string, rt http.RoundTripper) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "c", Version: "1"}, nil).
		Connect(ctx, streamable.NewDialer(mcpURL, &streamable.ClientOptions{HTTPClient: &http.Client{Transport: rt}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallToolArgs(ctx, "whoami", map[string]any{})
	if err != nil || res.IsError {
		t.Fatalf("whoami: %v %+v", err, res)
	}
	var out map[string]any
	_ = json.Unmarshal([]byte(res.Content[0].(*protocol.TextContent).Text), &out)
	return out
}

func startAS(t *testing.T, mcpURL string, mutate func(o *authserver.Options)) *authserver.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	o := authserver.Options{Issuer: "http://" + ts.Listener.Addr().String(), Resources: []string{mcpURL},
		ScopesSupported: []string{"mcp", "files:read", "files:write"}, RateLimits: authserver.RateLimits{Disable: true}}
	mutate(&o)
	as, err := authserver.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = as
	ts.Start()
	t.Cleanup(ts.Close)
	return as
}

// TestIDJAGEndToEnd: a person's ID token from the test IdP is exchanged
// there for an ID-JAG for our authorization server (oauthclient's
// IDJAGExchange), which our server accepts with the jwt-bearer grant: a
// token for the ID-JAG's resource, with the scopes intersected, used at
// the protected MCP server.
func TestIDJAGEndToEnd(t *testing.T) {
	idp := newTestIdP(t)
	mcpURL, setAS := protected(t, nil, nil)
	as := startAS(t, mcpURL, func(o *authserver.Options) {
		o.IDJAGIssuers = []authserver.AssertionIssuer{{Issuer: idp.URL, JWKSURL: idp.URL + "/jwks", CopyClaims: []string{"email"}}}
		o.Clients = []authserver.Client{{ID: "mcp-client", Secret: "s3cret", GrantTypes: []string{authserver.GrantJWTBearer}}}
	})
	setAS(as)
	// The metadata advertises the grant and its profile.
	resp, err := http.Get(as.Issuer() + authserver.WellKnownOAuth)
	if err != nil {
		t.Fatal(err)
	}
	var md authserver.Metadata
	_ = json.NewDecoder(resp.Body).Decode(&md)
	resp.Body.Close()
	if md.AuthorizationGrantProfilesSupported[0] != authserver.GrantProfileIDJAG || !strings.Contains(strings.Join(md.GrantTypesSupported, " "), authserver.GrantJWTBearer) {
		t.Fatalf("metadata %+v", md)
	}
	idToken := idp.sign(t, "", map[string]any{"iss": idp.URL, "sub": "alice", "aud": "idp-client", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	x := &oauthclient.IDJAGExchange{TokenEndpoint: idp.URL + "/token", IDToken: idToken, ClientID: "idp-client"}
	rt := oauthclient.NewTransport(nil, &oauthclient.Config{ServerURL: mcpURL, Grant: oauthclient.GrantJWTBearer, Assertion: x.Assertion,
		ClientID: "mcp-client", ClientSecret: "s3cret", Scopes: []string{"mcp", "files:write"}})
	who := whoamiVia(t, mcpURL, rt)
	// files:write was asked for but not granted by the IdP: intersected away.
	if who["sub"] != "alice" || who["client"] != "mcp-client" || who["grant"] != auth.GrantIDJAG || who["email"] != "alice@example.com" || who["machine"] != false {
		t.Fatalf("the MCP server saw %v", who)
	}
	if sc, _ := who["scope"].([]any); len(sc) != 1 || sc[0] != "mcp" {
		t.Fatalf("scopes %v, want the intersection [mcp]", who["scope"])
	}
}

// TestIDJAGRefusals: the token endpoint refuses ID-JAGs that are not
// acceptable.
func TestIDJAGRefusals(t *testing.T) {
	idp := newTestIdP(t)
	other := newTestIdP(t)
	mcpURL := "http://127.0.0.1:1/mcp"
	as := startAS(t, mcpURL, func(o *authserver.Options) {
		o.IDJAGIssuers = []authserver.AssertionIssuer{{Issuer: idp.URL, JWKSURL: idp.URL + "/jwks"}}
		o.Clients = []authserver.Client{{ID: "mcp-client", Secret: "s3cret"}, {ID: "other-client", Secret: "s3cret"}}
	})
	now := time.Now()
	base := func() map[string]any {
		return map[string]any{"iss": idp.URL, "sub": "alice", "aud": as.Issuer(), "resource": mcpURL, "client_id": "mcp-client",
			"scope": "mcp", "jti": oauthclientRandom(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	}
	with := func(k string, v any) map[string]any { c := base(); c[k] = v; return c }
	replayed := idp.sign(t, authserver.IDJAGType, base())
	tests := []struct {
		name      string
		jag       string
		client    string
		wantError string
	}{
		{"valid", idp.sign(t, authserver.IDJAGType, base()), "mcp-client", ""},
		{"replayed (first use)", replayed, "mcp-client", ""},
		{"replayed", replayed, "mcp-client", "invalid_grant"},
		{"wrong typ", idp.sign(t, "JWT", base()), "mcp-client", "invalid_grant"},
		{"wrong audience", idp.sign(t, authserver.IDJAGType, with("aud", "https://other.example.com")), "mcp-client", "invalid_grant"},
		{"expired", idp.sign(t, authserver.IDJAGType, with("exp", now.Add(-time.Hour).Unix())), "mcp-client", "invalid_grant"},
		{"untrusted issuer", other.sign(t, authserver.IDJAGType, with("iss", other.URL)), "mcp-client", "invalid_grant"},
		{"forged signature", other.sign(t, authserver.IDJAGType, base()), "mcp-client", "invalid_grant"},
		{"another client", idp.sign(t, authserver.IDJAGType, base()), "other-client", "invalid_grant"},
		{"resource not served", idp.sign(t, authserver.IDJAGType, with("resource", "https://elsewhere.example.com/mcp")), "mcp-client", "invalid_target"},
		{"no jti", idp.sign(t, authserver.IDJAGType, with("jti", "")), "mcp-client", "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", as.Issuer()+"/token", strings.NewReader(url.Values{"grant_type": {authserver.GrantJWTBearer}, "assertion": {tt.jag}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(tt.client, "s3cret")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if tt.wantError == "" && resp.StatusCode != 200 || tt.wantError != "" && body["error"] != tt.wantError {
				t.Fatalf("%d %v, want %q", resp.StatusCode, body, tt.wantError)
			}
		})
	}
}

// TestWorkloadIdentityEndToEnd: a workload presents its platform's JWT
// with the jwt-bearer grant and no client credentials (oauthclient's
// FileAssertion, as a projected Kubernetes token would be read); claim
// rules admit only the expected workloads.
func TestWorkloadIdentityEndToEnd(t *testing.T) {
	k8s := newTestIdP(t)
	mcpURL, setAS := protected(t, nil, nil)
	as := startAS(t, mcpURL, func(o *authserver.Options) {
		o.WorkloadIssuers = []authserver.AssertionIssuer{{Issuer: k8s.URL, JWKSURL: k8s.URL + "/jwks", SubjectPrefix: "k8s:",
			Claims: map[string][]string{"sub": {"system:serviceaccount:ci:*"}}, Scopes: []string{"mcp"}}}
	})
	setAS(as)
	token := func(sub, aud string) string {
		return k8s.sign(t, "JWT", map[string]any{"iss": k8s.URL, "sub": sub, "aud": aud, "exp": time.Now().Add(10 * time.Minute).Unix(), "iat": time.Now().Unix(), "jti": oauthclientRandom()})
	}
	file := t.TempDir() + "/token"
	if err := writeFile(file, token("system:serviceaccount:ci:builder", as.Issuer()+"/token")); err != nil {
		t.Fatal(err)
	}
	rt := oauthclient.NewTransport(nil, &oauthclient.Config{ServerURL: mcpURL, Grant: oauthclient.GrantJWTBearer, Assertion: oauthclient.FileAssertion(file)})
	who := whoamiVia(t, mcpURL, rt)
	if who["sub"] != "k8s:system:serviceaccount:ci:builder" || who["machine"] != true || who["grant"] != auth.GrantWorkload {
		t.Fatalf("the MCP server saw %v", who)
	}
	// A workload outside the rules is refused.
	form := url.Values{"grant_type": {authserver.GrantJWTBearer}, "assertion": {token("system:serviceaccount:prod:db", as.Issuer()+"/token")}, "resource": {mcpURL}}
	resp, _ := http.PostForm(as.Issuer()+"/token", form)
	if resp.StatusCode != 400 {
		t.Fatalf("a workload outside the rules: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// TestDPoPEndToEnd: oauthclient with DPoP against our authorization
// server (DPoP-bound tokens) and a resource server requiring DPoP with
// nonces.
func TestDPoPEndToEnd(t *testing.T) {
	mcpURL, setAS := protected(t, nil, &auth.DPoPOptions{Required: true, RequireNonce: true})
	as := startAS(t, mcpURL, func(o *authserver.Options) {
		o.DPoP, o.DPoPNonce, o.AutoApprove = true, true, true
	})
	setAS(as)
	rt := oauthclient.NewTransport(nil, &oauthclient.Config{ServerURL: mcpURL, DPoP: oauthclient.DPoPAuto,
		RedirectURL: "http://127.0.0.1:9/cb", Authorize: oauthclient.HeadlessAuthorize(nil)})
	who := whoamiVia(t, mcpURL, rt)
	if who["dpop"] != true || who["sub"] != authserver.DefaultSubject {
		t.Fatalf("the MCP server saw %v", who)
	}
	if tok := rt.Token(); tok.TokenType != oauthclient.TokenTypeDPoP {
		t.Fatalf("token type %q", tok.TokenType)
	}
	// The bound token is useless without the key: as a bearer token it
	// is refused.
	req, _ := http.NewRequest("POST", mcpURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Header.Set("Authorization", "Bearer "+rt.Token().AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("a stolen DPoP-bound token as bearer: %d", resp.StatusCode)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
