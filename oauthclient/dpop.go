package oauthclient

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TokenTypeDPoP is the token_type of a DPoP-bound access token (RFC 9449
// section 5), and the Authorization scheme it is presented with.
const TokenTypeDPoP = "DPoP"

// DPoPKey is the key pair that proves possession of DPoP-bound tokens
// (RFC 9449): every token request and every request to the MCP server
// carries a fresh proof JWT signed with it, and tokens issued for it are
// bound to its thumbprint (cnf.jkt). Keep one per client; it is safe for
// concurrent use.
type DPoPKey struct {
	key crypto.Signer
	alg string
	jwk map[string]string
	jkt string
}

// NewDPoPKey generates an ES256 (P-256) DPoP key.
func NewDPoPKey() (*DPoPKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return DPoPKeyFrom(k)
}

// DPoPKeyFrom wraps an existing private key: ECDSA P-256 (ES256), P-384
// (ES384) or Ed25519 (EdDSA).
func DPoPKeyFrom(key crypto.Signer) (*DPoPKey, error) {
	d := &DPoPKey{key: key}
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		var crv string
		switch k.Curve {
		case elliptic.P256():
			crv, d.alg = "P-256", "ES256"
		case elliptic.P384():
			crv, d.alg = "P-384", "ES384"
		default:
			return nil, errors.New("oauthclient: DPoP keys must be P-256, P-384 or Ed25519")
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		x, y := make([]byte, size), make([]byte, size)
		k.X.FillBytes(x)
		k.Y.FillBytes(y)
		d.jwk = map[string]string{"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)}
	case ed25519.PublicKey:
		d.alg = "EdDSA"
		d.jwk = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(k)}
	default:
		return nil, fmt.Errorf("oauthclient: unsupported DPoP key %T", key.Public())
	}
	// RFC 7638: the required members in lexicographic order, no spaces.
	var canon string
	if d.jwk["kty"] == "EC" {
		canon = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, d.jwk["crv"], d.jwk["x"], d.jwk["y"])
	} else {
		canon = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":%q}`, d.jwk["x"])
	}
	sum := sha256.Sum256([]byte(canon))
	d.jkt = b64(sum[:])
	return d, nil
}

// Thumbprint returns the key's JWK SHA-256 thumbprint (RFC 7638), the
// cnf.jkt of tokens bound to it.
func (d *DPoPKey) Thumbprint() string { return d.jkt }

// Algorithm returns the JWS algorithm of the key's proofs.
func (d *DPoPKey) Algorithm() string { return d.alg }

// Proof returns a DPoP proof JWT (RFC 9449 section 4.2) for a request
// with method to rawURL (its query and fragment are left out of htu).
// accessToken, when set, is bound by its hash (ath); nonce, when set, is
// the server-provided nonce.
func (d *DPoPKey) Proof(method, rawURL, accessToken, nonce string, now time.Time) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("oauthclient: DPoP htu: %w", err)
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment, u.User = "", false, "", "", nil
	jti, err := randomString(16)
	if err != nil {
		return "", err
	}
	claims := map[string]any{"jti": jti, "htm": method, "htu": u.String(), "iat": now.Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	header := map[string]any{"typ": "dpop+jwt", "alg": d.alg, "jwk": d.jwk}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sig, err := jwsSign(d.key, d.alg, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// nonceCache remembers the last DPoP-Nonce each server origin handed out
// (RFC 9449 sections 8 and 9).
type nonceCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *nonceCache) get(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[originOf(u)]
}

// note records the DPoP-Nonce of a response, if any, and returns it.
func (c *nonceCache) note(rawURL string, h http.Header) string {
	n := h.Get("DPoP-Nonce")
	if n == "" || len(n) > 512 {
		return ""
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[originOf(u)] = n
	return n
}

// AuthChallenge returns the first Bearer or DPoP challenge in the
// response header's WWW-Authenticate fields (a DPoP resource server
// challenges with the DPoP scheme, RFC 9449 section 7.1).
func AuthChallenge(h http.Header) (Challenge, bool) {
	cs, _ := ParseChallenges(h.Values("WWW-Authenticate"))
	for _, c := range cs {
		if c.IsBearer() || c.IsDPoP() {
			return c, true
		}
	}
	return Challenge{}, false
}

// IsDPoP reports whether the challenge's scheme is DPoP.
func (c Challenge) IsDPoP() bool { return strings.EqualFold(c.Scheme, TokenTypeDPoP) }

// useDPoP reports whether tokens from the authorization server of d are
// requested DPoP-bound: the Transport has a DPoP key and, unless
// Config.DPoP forces it, the authorization server advertises
// dpop_signing_alg_values_supported or the resource requires bound
// tokens (dpop_bound_access_tokens_required).
func (t *Transport) useDPoP(d *discovery) bool {
	if t.dpop == nil || d == nil || d.as == nil {
		return false
	}
	return t.cfg.DPoP == DPoPAlways || len(d.as.DPoPSigningAlgValuesSupported) > 0 ||
		(d.prm != nil && d.prm.DPoPBoundAccessTokensRequired)
}

// DPoP modes of Config.DPoP.
const (
	// DPoPOff never uses DPoP (the default).
	DPoPOff = ""
	// DPoPAuto requests DPoP-bound tokens from authorization servers that
	// advertise dpop_signing_alg_values_supported, bearer tokens from
	// others.
	DPoPAuto = "auto"
	// DPoPAlways requests DPoP-bound tokens from every authorization
	// server.
	DPoPAlways = "always"
)
