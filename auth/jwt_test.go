package auth

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// newStaticVerifier returns a verifier trusting the first test RSA key
// under kid "k1".
func newStaticVerifier(t *testing.T, clk *fixedClock) *JWTVerifier {
	t.Helper()
	k1, _ := testRSAKeys(t)
	v, err := NewJWTVerifier(JWTOptions{
		Issuer:   testIssuer,
		Audience: testResource,
		Keys:     map[string]crypto.PublicKey{"k1": k1.Public()},
		Now:      clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJWTValid(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	c := baseClaims(clk.Now())
	c["mcp_binding"] = "session:abc"
	info, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c))
	if err != nil {
		t.Fatal(err)
	}
	if info.Subject != "alice" || info.ClientID != "client-1" || info.Issuer != testIssuer ||
		!slices.Equal(info.Scopes, []string{"mcp", "files:read"}) || info.Binding != "session:abc" ||
		!slices.Equal(info.Audience, []string{testResource}) || !info.Expiry.Equal(clk.Now().Add(10*time.Minute)) {
		t.Fatalf("info = %+v", info)
	}
}

func TestJWTWrongAudience(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	c := baseClaims(clk.Now())
	c["aud"] = []string{"https://mcp.example.com/other", "https://api.example.com"}
	_, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c))
	wantInvalid(t, err, "audience mismatch")
}

func TestJWTMissingAudience(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	c := baseClaims(clk.Now())
	delete(c, "aud")
	_, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c))
	wantInvalid(t, err, "no audience")
}

func TestJWTAudienceCaseInsensitiveHost(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	c := baseClaims(clk.Now())
	c["aud"] = []string{"other", "HTTPS://MCP.Example.com:443/mcp"}
	if _, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c)); err != nil {
		t.Fatal(err)
	}
}

func TestJWTExpired(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	c := baseClaims(clk.Now())
	c["exp"] = clk.Now().Add(-61 * time.Second).Unix() // beyond the 1 minute leeway
	_, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c))
	wantInvalid(t, err, "expired")
}

func TestJWTExpiredWithinLeeway(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	c := baseClaims(clk.Now())
	c["exp"] = clk.Now().Add(-30 * time.Second).Unix()
	if _, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c)); err != nil {
		t.Fatalf("token expired 30s ago refused within a 1 minute leeway: %v", err)
	}
}

func TestJWTMissingExpiry(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	c := baseClaims(clk.Now())
	delete(c, "exp")
	_, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c))
	wantInvalid(t, err, "no expiry")
}

func TestJWTNotYetValid(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	c := baseClaims(clk.Now())
	c["nbf"] = clk.Now().Add(2 * time.Minute).Unix()
	_, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c))
	wantInvalid(t, err, "not yet valid")
}

func TestJWTIssuedInFuture(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	c := baseClaims(clk.Now())
	c["iat"] = clk.Now().Add(5 * time.Minute).Unix()
	_, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c))
	wantInvalid(t, err, "issued in the future")
}

func TestJWTWrongIssuer(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	c := baseClaims(clk.Now())
	c["iss"] = "https://evil.example.com"
	_, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c))
	wantInvalid(t, err, "wrong issuer")
}

func TestJWTAlgNone(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(baseClaims(clk.Now()))
	for _, hdr := range []string{`{"alg":"none","typ":"JWT"}`, `{"alg":"none","kid":"k1"}`, `{"alg":"None","kid":"k1"}`} {
		tok := enc([]byte(hdr)) + "." + enc(payload) + "."
		_, err := v.Verify(context.Background(), tok)
		if err == nil || !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("%s: err = %v, want invalid token", hdr, err)
		}
	}
	if _, err := NewJWTVerifier(JWTOptions{Issuer: testIssuer, Audience: testResource, Algorithms: []string{"none"}, HMACSecret: make([]byte, 32)}); err == nil {
		t.Fatal(`NewJWTVerifier accepted Algorithms ["none"]`)
	}
}

// TestJWTHMACWithRSAPublicKey is the algorithm confusion attack: an HS256
// token whose secret is the RSA public key the verifier trusts.
func TestJWTHMACWithRSAPublicKey(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	der, _ := x509.MarshalPKIXPublicKey(k1.Public())
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for _, secret := range [][]byte{pemKey, der} {
		tok := mint(t, jose.HS256, secret, "k1", baseClaims(clk.Now()))
		_, err := v.Verify(context.Background(), tok)
		wantInvalid(t, err, "algorithm not accepted")
	}
	// Even when the verifier accepts HMAC with its own secret, a token
	// keyed with the public key fails.
	hv, err := NewJWTVerifier(JWTOptions{Issuer: testIssuer, Audience: testResource,
		Keys: map[string]crypto.PublicKey{"k1": k1.Public()}, HMACSecret: []byte(strings.Repeat("s", 32)), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, err = hv.Verify(context.Background(), mint(t, jose.HS256, pemKey, "k1", baseClaims(clk.Now())))
	wantInvalid(t, err, "bad signature")
}

func TestJWTHMACNeedsSecret(t *testing.T) {
	if _, err := NewJWTVerifier(JWTOptions{Issuer: testIssuer, Audience: testResource, JWKSURL: "https://as.example.com/jwks", Algorithms: []string{"HS256"}}); err == nil {
		t.Fatal("HS256 accepted without HMACSecret")
	}
	if _, err := NewJWTVerifier(JWTOptions{Issuer: testIssuer, Audience: testResource, HMACSecret: []byte("short")}); err == nil {
		t.Fatal("short HMAC secret accepted")
	}
}

func TestJWTSignedByUnknownKey(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	_, k2 := testRSAKeys(t)
	_, err := v.Verify(context.Background(), mint(t, jose.RS256, k2, "k1", baseClaims(clk.Now())))
	wantInvalid(t, err, "bad signature")
}

func TestJWTMalformed(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	for _, tok := range []string{"", "abc", "a.b", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.!!!!"} {
		_, err := v.Verify(context.Background(), tok)
		if !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%q: err = %v", tok, err)
		}
	}
}

func TestJWTScopeClaims(t *testing.T) {
	clk := newClock()
	v := newStaticVerifier(t, clk)
	k1, _ := testRSAKeys(t)
	tests := []struct {
		name  string
		set   map[string]any
		want  []string
		wrong bool
	}{
		{"scope string", map[string]any{"scope": "a b a"}, []string{"a", "b"}, false},
		{"scp array", map[string]any{"scope": nil, "scp": []string{"x", "y"}}, []string{"x", "y"}, false},
		{"scp string", map[string]any{"scope": nil, "scp": "x y"}, []string{"x", "y"}, false},
		{"none", map[string]any{"scope": nil}, nil, false},
		{"scope array is wrong", map[string]any{"scope": []string{"a"}}, nil, true},
		{"scp with number", map[string]any{"scope": nil, "scp": []any{"a", 1}}, nil, true},
		{"double space", map[string]any{"scope": "a  b"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseClaims(clk.Now())
			for k, val := range tt.set {
				if val == nil {
					delete(c, k)
				} else {
					c[k] = val
				}
			}
			info, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", c))
			if tt.wrong {
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("err = %v, want invalid token", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(info.Scopes, tt.want) {
				t.Fatalf("scopes = %q, want %q", info.Scopes, tt.want)
			}
		})
	}
}

func TestJWTRequireATJWTType(t *testing.T) {
	clk := newClock()
	k1, _ := testRSAKeys(t)
	v, err := NewJWTVerifier(JWTOptions{Issuer: testIssuer, Audience: testResource,
		Keys: map[string]crypto.PublicKey{"k1": k1.Public()}, RequireJWTAccessTokenType: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", baseClaims(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k1}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	payload, _ := json.Marshal(baseClaims(clk.Now()))
	obj, _ := signer.Sign(payload)
	tok, _ := obj.CompactSerialize()
	_, err = v.Verify(context.Background(), tok)
	wantInvalid(t, err, "at+jwt")
}

func TestJWTES256AndNoKid(t *testing.T) {
	clk := newClock()
	ec := testECKey(t)
	v, err := NewJWTVerifier(JWTOptions{Issuer: testIssuer, Audience: testResource,
		Keys: map[string]crypto.PublicKey{"": ec.Public()}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), mint(t, jose.ES256, ec, "", baseClaims(clk.Now()))); err != nil {
		t.Fatal(err)
	}
}

// TestJWKSRotation: a token with an unknown kid makes the verifier fetch
// the JWKS again, at most once per MinRefreshInterval.
func TestJWKSRotation(t *testing.T) {
	clk := newClock()
	k1, k2 := testRSAKeys(t)
	srv := newJWKSServer(t, pubJWK(k1, "k1", "RS256"))
	v, err := NewJWTVerifier(JWTOptions{Issuer: testIssuer, Audience: testResource, JWKSURL: srv.URL,
		MinRefreshInterval: time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, mint(t, jose.RS256, k1, "k1", baseClaims(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	// Cached: a second token does not fetch.
	if _, err := v.Verify(ctx, mint(t, jose.RS256, k1, "k1", baseClaims(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}

	// The issuer rotates to k2.
	srv.setKeys(pubJWK(k1, "k1", "RS256"), pubJWK(k2, "k2", "RS256"))
	// Within MinRefreshInterval of the last fetch an unknown kid does not
	// cause a fetch.
	clk.Advance(10 * time.Second)
	_, err = v.Verify(ctx, mint(t, jose.RS256, k2, "k2", baseClaims(clk.Now())))
	wantInvalid(t, err, "unknown signing key id")
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1 (rate limited)", n)
	}
	// After it, the unknown kid triggers one fetch and the new key works.
	clk.Advance(time.Minute)
	if _, err := v.Verify(ctx, mint(t, jose.RS256, k2, "k2", baseClaims(clk.Now()))); err != nil {
		t.Fatalf("rotated key not picked up: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
	// A flood of unknown kids costs no further fetches.
	for i := range 20 {
		_, err := v.Verify(ctx, mint(t, jose.RS256, k2, "nope"+string(rune('a'+i)), baseClaims(clk.Now())))
		wantInvalid(t, err, "unknown signing key id")
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestJWKSUnavailable(t *testing.T) {
	clk := newClock()
	k1, _ := testRSAKeys(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	v, err := NewJWTVerifier(JWTOptions{Issuer: testIssuer, Audience: testResource, JWKSURL: srv.URL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), mint(t, jose.RS256, k1, "k1", baseClaims(clk.Now())))
	if !errors.Is(err, ErrJWKSUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrJWKSUnavailable (not invalid_token)", err)
	}
}

func TestParseJWKS(t *testing.T) {
	k1, _ := testRSAKeys(t)
	ec := testECKey(t)
	good, _ := json.Marshal(pubJWK(k1, "k1", "RS256"))
	goodEC, _ := json.Marshal(pubJWK(ec, "e1", ""))
	private, _ := json.Marshal(jose.JSONWebKey{Key: ec, KeyID: "priv"})
	doc := `{"keys":[` + string(good) + `,` + string(goodEC) + `,` + string(private) + `,
		{"kty":"oct","k":"c2VjcmV0","kid":"hmac"},
		{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
		{"kty":"AKP","kid":"future"},
		{"kty":"RSA","kid":"broken"},
		"not an object"]}`
	keys, err := ParseJWKS([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.KeyID)
	}
	if !slices.Equal(ids, []string{"k1", "e1"}) {
		t.Fatalf("kept keys %q, want [k1 e1]", ids)
	}
	for _, bad := range []string{`[]`, `{}`, `{"keys":{}}`, `nope`} {
		if _, err := ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestJWKSConcurrentFirstUse: concurrent first verifications share one
// fetch.
func TestJWKSConcurrentFirstUse(t *testing.T) {
	clk := newClock()
	k1, _ := testRSAKeys(t)
	srv := newJWKSServer(t, pubJWK(k1, "k1", "RS256"))
	v, err := NewJWTVerifier(JWTOptions{Issuer: testIssuer, Audience: testResource, JWKSURL: srv.URL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := mint(t, jose.RS256, k1, "k1", baseClaims(clk.Now()))
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			_, err := v.Verify(context.Background(), tok)
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}
