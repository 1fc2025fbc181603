package oauthclient_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/oauthclient"
)

// TestDPoPProof: the proofs oauthclient signs pass the resource server's
// checks, for each supported key type, and bind what they should.
func TestDPoPProof(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, tt := range []struct {
		name string
		key  any
		alg  string
	}{{"P-256", p256, "ES256"}, {"P-384", p384, "ES384"}, {"Ed25519", ed, "EdDSA"}} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := oauthclient.DPoPKeyFrom(tt.key.(crypto.Signer))
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm() != tt.alg {
				t.Fatalf("alg %s", k.Algorithm())
			}
			now := time.Now()
			proof, err := k.Proof("POST", "https://mcp.example.com/mcp?x=1#f", "the-token", "n-1", now)
			if err != nil {
				t.Fatal(err)
			}
			c := &auth.DPoPCheck{Method: "POST", URL: "https://mcp.example.com/mcp", AccessToken: "the-token", Thumbprint: k.Thumbprint(), Now: now}
			p, err := c.Verify(proof)
			if err != nil {
				t.Fatal(err)
			}
			if p.URL != "https://mcp.example.com/mcp" || p.Nonce != "n-1" || p.AccessTokenHash != auth.AccessTokenHash("the-token") {
				t.Fatalf("proof %+v", p)
			}
			again, _ := k.Proof("POST", "https://mcp.example.com/mcp", "the-token", "", now)
			if p2, _ := auth.ParseDPoPProof(again); p2 == nil || p2.JTI == p.JTI {
				t.Fatal("two proofs share a jti")
			}
		})
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := oauthclient.DPoPKeyFrom(rk); err == nil {
		t.Fatal("an RSA DPoP key was accepted (only EC and Ed25519 are)")
	}
}
