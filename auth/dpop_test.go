package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/oauthclient"
)

const (
	dpopIssuer   = "https://as.example.com"
	dpopResource = "https://mcp.example.com/mcp"
)

// dpopFixture is a resource server accepting DPoP-bound JWTs signed by
// an issuer key, and a client key the tokens are bound to.
type dpopFixture struct {
	issuer  *ecdsa.PrivateKey
	client  *oauthclient.DPoPKey
	other   *oauthclient.DPoPKey
	handler http.Handler
	meta    http.Handler
}

func newDPoPFixture(t *testing.T, opts *auth.DPoPOptions) *dpopFixture {
	t.Helper()
	ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, err := oauthclient.NewDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	o, _ := oauthclient.NewDPoPKey()
	v, err := auth.NewJWTVerifier(auth.JWTOptions{Issuer: dpopIssuer, Audience: dpopResource, Keys: map[string]crypto.PublicKey{"k": &ik.PublicKey}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := auth.New(v, &auth.Options{Resource: dpopResource, AuthorizationServers: []string{dpopIssuer}, DPoP: opts})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("DPoP") != "" {
			t.Error("the token or proof reached the handler")
		}
		w.Write([]byte("ok"))
	}))
	return &dpopFixture{issuer: ik, client: c, other: o, handler: h, meta: m.MetadataHandler()}
}

// token mints an access token bound to jkt ("" for a bearer token).
func (f *dpopFixture) token(t *testing.T, jkt string) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: f.issuer}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]any{"iss": dpopIssuer, "sub": "alice", "aud": dpopResource, "exp": time.Now().Add(time.Hour).Unix(), "client_id": "app"}
	if jkt != "" {
		c["cnf"] = map[string]any{"jkt": jkt}
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *dpopFixture) do(method, scheme, tok string, proofs ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, dpopResource, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	r.Header.Set("Content-Type", "application/json")
	if tok != "" {
		r.Header.Set("Authorization", scheme+" "+tok)
	}
	for _, p := range proofs {
		r.Header.Add("DPoP", p)
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	return w
}

func TestDPoPResourceServer(t *testing.T) {
	f := newDPoPFixture(t, &auth.DPoPOptions{})
	bound := f.token(t, f.client.Thumbprint())
	bearer := f.token(t, "")
	now := time.Now()
	proof := func(k *oauthclient.DPoPKey, method, u, tok string, at time.Time) string {
		p, err := k.Proof(method, u, tok, "", at)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	replayed := proof(f.client, "POST", dpopResource, bound, now)
	if w := f.do("POST", "DPoP", bound, replayed); w.Code != 200 {
		t.Fatalf("first use of a proof: %d %s", w.Code, w.Body)
	}
	tests := []struct {
		name   string
		method string
		scheme string
		tok    string
		proofs []string
		want   int
		reason string // in WWW-Authenticate
	}{
		{"valid", "POST", "DPoP", bound, []string{proof(f.client, "POST", dpopResource, bound, now)}, 200, ""},
		{"valid with query in URL", "POST", "DPoP", bound, []string{proof(f.client, "POST", dpopResource+"?x=1", bound, now)}, 200, ""},
		{"replayed", "POST", "DPoP", bound, []string{replayed}, 401, "already used"},
		{"another URL", "POST", "DPoP", bound, []string{proof(f.client, "POST", "https://mcp.example.com/other", bound, now)}, 401, "another URL"},
		{"another host", "POST", "DPoP", bound, []string{proof(f.client, "POST", "https://evil.example.com/mcp", bound, now)}, 401, "another URL"},
		{"another method", "POST", "DPoP", bound, []string{proof(f.client, "GET", dpopResource, bound, now)}, 401, "another method"},
		{"stale", "POST", "DPoP", bound, []string{proof(f.client, "POST", dpopResource, bound, now.Add(-10*time.Minute))}, 401, "stale"},
		{"from the future", "POST", "DPoP", bound, []string{proof(f.client, "POST", dpopResource, bound, now.Add(10*time.Minute))}, 401, "stale"},
		{"another key", "POST", "DPoP", bound, []string{proof(f.other, "POST", dpopResource, bound, now)}, 401, "another key"},
		{"another token", "POST", "DPoP", bound, []string{proof(f.client, "POST", dpopResource, bearer, now)}, 401, "ath"},
		{"no ath", "POST", "DPoP", bound, []string{proof(f.client, "POST", dpopResource, "", now)}, 401, "ath"},
		{"no proof", "POST", "DPoP", bound, nil, 401, "exactly one DPoP header"},
		{"two proofs", "POST", "DPoP", bound, []string{proof(f.client, "POST", dpopResource, bound, now), proof(f.client, "POST", dpopResource, bound, now)}, 401, "exactly one"},
		{"garbage proof", "POST", "DPoP", bound, []string{"a.b.c"}, 401, "invalid_dpop_proof"},
		{"bound token as bearer", "POST", "Bearer", bound, nil, 401, "DPoP-bound"},
		{"bearer token with DPoP scheme", "POST", "DPoP", bearer, []string{proof(f.client, "POST", dpopResource, bearer, now)}, 401, "not DPoP-bound"},
		{"bearer token as bearer", "POST", "Bearer", bearer, nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(tt.method, tt.scheme, tt.tok, tt.proofs...)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d (%s; %s)", w.Code, tt.want, w.Header().Get("WWW-Authenticate"), w.Body)
			}
			if tt.reason != "" {
				if ch := strings.Join(w.Header().Values("WWW-Authenticate"), " | "); !strings.Contains(ch, tt.reason) {
					t.Errorf("challenge %q does not say %q", ch, tt.reason)
				}
			}
		})
	}
}

func TestDPoPNonceAndRequired(t *testing.T) {
	f := newDPoPFixture(t, &auth.DPoPOptions{RequireNonce: true, Required: true})
	bound := f.token(t, f.client.Thumbprint())
	p, _ := f.client.Proof("POST", dpopResource, bound, "", time.Now())
	w := f.do("POST", "DPoP", bound, p)
	nonce := w.Header().Get("DPoP-Nonce")
	if w.Code != 401 || nonce == "" || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Fatalf("without a nonce: %d %q nonce %q", w.Code, w.Header().Get("WWW-Authenticate"), nonce)
	}
	p, _ = f.client.Proof("POST", dpopResource, bound, nonce, time.Now())
	if w := f.do("POST", "DPoP", bound, p); w.Code != 200 {
		t.Fatalf("with the nonce: %d %s", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	p, _ = f.client.Proof("POST", dpopResource, bound, "made-up", time.Now())
	if w := f.do("POST", "DPoP", bound, p); w.Code != 401 {
		t.Fatalf("with a made-up nonce: %d", w.Code)
	}
	// The metadata says so (RFC 9728).
	r := httptest.NewRequest("GET", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", nil)
	mw := httptest.NewRecorder()
	f.meta.ServeHTTP(mw, r)
	if !strings.Contains(mw.Body.String(), `"dpop_bound_access_tokens_required":true`) || !strings.Contains(mw.Body.String(), `"dpop_signing_alg_values_supported":["ES256"`) {
		t.Fatalf("metadata %s", mw.Body)
	}
	// Required: bearer tokens are refused with a DPoP challenge only.
	w = f.do("POST", "Bearer", f.token(t, ""))
	if w.Code != 401 || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "DPoP ") {
		t.Fatalf("bearer when DPoP is required: %d %q", w.Code, w.Header().Values("WWW-Authenticate"))
	}
}

func FuzzParseDPoPProof(f *testing.F) {
	k, _ := oauthclient.NewDPoPKey()
	p, _ := k.Proof("POST", "https://a.example/mcp", "tok", "n", time.Now())
	f.Add(p)
	f.Add("e30.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		pr, err := auth.ParseDPoPProof(s)
		if err == nil && (pr.JTI == "" || pr.Thumbprint == "") {
			t.Fatal("accepted a proof without jti or key")
		}
	})
}
