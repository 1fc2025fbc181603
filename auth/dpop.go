package auth

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-json-experiment/json"
)

// DPoP (RFC 9449): sender-constrained access tokens. A DPoP-bound token
// carries the thumbprint of the client's key in its cnf.jkt claim, and
// every request presenting it carries a proof JWT signed with that key
// for this very request (method, URL, time, token hash).

// DPoPProofType is the typ header of a DPoP proof JWT.
const DPoPProofType = "dpop+jwt"

// DefaultDPoPWindow is how far a proof's iat may be from now.
const DefaultDPoPWindow = 5 * time.Minute

// maxProofBytes bounds a DPoP header.
const maxProofBytes = 8 << 10

// DPoPAlgorithms are the JWS algorithms accepted in proofs: asymmetric
// only (RFC 9449 section 4.3).
var DPoPAlgorithms = []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}

// DPoPProof is a verified DPoP proof.
type DPoPProof struct {
	// JTI is the proof's unique id.
	JTI string
	// Method and URL are the proof's htm and htu.
	Method, URL string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
	// Thumbprint is the JWK SHA-256 thumbprint (RFC 7638) of the proof's
	// key, base64url: what a bound token's cnf.jkt must equal.
	Thumbprint string
	// AccessTokenHash is the ath claim ("" when absent).
	AccessTokenHash string
	// Nonce is the nonce claim ("" when absent).
	Nonce string
}

// DPoPError is a refused proof. Code is "invalid_dpop_proof" or
// "use_dpop_nonce"; Reason is safe to show the client.
type DPoPError struct {
	// Code is the error code of the DPoP challenge.
	Code string
	// Reason is the error_description.
	Reason string
}

// Error describes the refusal.
func (e *DPoPError) Error() string { return e.Code + ": " + e.Reason }

func badProof(format string, args ...any) error {
	return &DPoPError{Code: "invalid_dpop_proof", Reason: fmt.Sprintf(format, args...)}
}

// ParseDPoPProof parses a DPoP proof JWT and checks what the proof says
// of itself (RFC 9449 section 4.3, steps 1 to 7): one compact JWS whose
// typ is dpop+jwt, whose alg is asymmetric, whose jwk header is a public
// key that verifies the signature, with string jti, htm and htu and a
// numeric iat. It does not check the proof against a request; see
// [DPoPCheck.Verify].
func ParseDPoPProof(proof string) (*DPoPProof, error) {
	if proof == "" {
		return nil, badProof("no DPoP proof")
	}
	if len(proof) > maxProofBytes || strings.Count(proof, ".") != 2 {
		return nil, badProof("the DPoP proof is not a compact JWS")
	}
	algs := make([]jose.SignatureAlgorithm, len(DPoPAlgorithms))
	for i, a := range DPoPAlgorithms {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	jws, err := jose.ParseSignedCompact(proof, algs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, badProof("the DPoP proof is malformed or uses an algorithm not accepted")
	}
	hdr := jws.Signatures[0].Protected
	if typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string); typ != DPoPProofType {
		return nil, badProof("the DPoP proof's typ is not dpop+jwt")
	}
	jwk := hdr.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return nil, badProof("the DPoP proof's jwk is missing or not a public key")
	}
	if !keyFitsAlg(jwk.Key, hdr.Algorithm) {
		return nil, badProof("the DPoP proof's jwk does not fit its alg")
	}
	payload, err := jws.Verify(jwk.Key)
	if err != nil {
		return nil, badProof("the DPoP proof's signature does not verify")
	}
	var c struct {
		JTI   *string  `json:"jti"`
		HTM   *string  `json:"htm"`
		HTU   *string  `json:"htu"`
		IAT   *float64 `json:"iat"`
		ATH   *string  `json:"ath"`
		Nonce *string  `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, badProof("the DPoP proof's claims are malformed")
	}
	if c.JTI == nil || *c.JTI == "" || len(*c.JTI) > 256 || c.HTM == nil || c.HTU == nil || c.IAT == nil {
		return nil, badProof("the DPoP proof lacks jti, htm, htu or iat")
	}
	iat, err := numericDate(*c.IAT)
	if err != nil {
		return nil, badProof("the DPoP proof's iat is not a date")
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, badProof("the DPoP proof's jwk has no thumbprint")
	}
	p := &DPoPProof{JTI: *c.JTI, Method: *c.HTM, URL: *c.HTU, IssuedAt: iat, Thumbprint: base64.RawURLEncoding.EncodeToString(tp)}
	if c.ATH != nil {
		p.AccessTokenHash = *c.ATH
	}
	if c.Nonce != nil {
		p.Nonce = *c.Nonce
	}
	return p, nil
}

// AccessTokenHash returns the ath of an access token: the base64url
// SHA-256 of its ASCII form.
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// DPoPCheck says what a proof must match.
type DPoPCheck struct {
	// Method and URL are the request's method and absolute URL (query
	// and fragment are ignored).
	Method, URL string
	// AccessToken, when set, must be bound by the proof's ath;
	// Thumbprint, when set, must equal the proof key's thumbprint (the
	// token's cnf.jkt).
	AccessToken, Thumbprint string
	// Now is the current time; Window bounds |iat - Now| (default
	// [DefaultDPoPWindow]).
	Now    time.Time
	Window time.Duration // see Now
	// Replay, if set, refuses a proof whose jti it has seen.
	Replay *ReplayCache
	// Nonces, if set, requires a nonce it issued and still accepts.
	Nonces *NonceSource
}

// Verify parses proof and checks it against c (RFC 9449 section 4.3).
func (c *DPoPCheck) Verify(proof string) (*DPoPProof, error) {
	p, err := ParseDPoPProof(proof)
	if err != nil {
		return nil, err
	}
	if p.Method != c.Method {
		return nil, badProof("the DPoP proof is for another method")
	}
	if !sameHTU(p.URL, c.URL) {
		return nil, badProof("the DPoP proof is for another URL")
	}
	window := c.Window
	if window <= 0 {
		window = DefaultDPoPWindow
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	if d := now.Sub(p.IssuedAt); d > window || d < -window {
		return nil, badProof("the DPoP proof is stale or from the future")
	}
	if c.AccessToken != "" {
		if p.AccessTokenHash == "" || !hmac.Equal([]byte(p.AccessTokenHash), []byte(AccessTokenHash(c.AccessToken))) {
			return nil, badProof("the DPoP proof's ath does not match the access token")
		}
	}
	if c.Thumbprint != "" && !hmac.Equal([]byte(p.Thumbprint), []byte(c.Thumbprint)) {
		return nil, badProof("the DPoP proof is signed with another key than the token is bound to")
	}
	if c.Nonces != nil && !c.Nonces.Valid(p.Nonce) {
		return nil, &DPoPError{Code: "use_dpop_nonce", Reason: "a fresh DPoP-Nonce is required"}
	}
	if c.Replay != nil && !c.Replay.Add(p.Thumbprint+"\x00"+p.JTI, p.IssuedAt.Add(window)) {
		return nil, badProof("the DPoP proof was already used")
	}
	return p, nil
}

// sameHTU compares a proof's htu with a request URL, ignoring query and
// fragment, with scheme and host compared without case and default ports
// dropped (RFC 9449 section 4.3, step 9).
func sameHTU(htu, req string) bool {
	norm := func(s string) (string, bool) {
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return "", false
		}
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment, u.User = "", false, "", "", nil
		c, err := CanonicalResource(u.String())
		return strings.TrimSuffix(c, "/"), err == nil
	}
	a, ok1 := norm(htu)
	b, ok2 := norm(req)
	return ok1 && ok2 && a == b
}

// ReplayCache remembers DPoP proof ids until they could no longer pass
// the iat window, so that a proof is accepted once. It is bounded: when
// full, the entries that expire first are dropped, which only lets an
// already stale proof through sooner than it would anyway... never a
// fresh one, since fresh proofs are kept over old ones.
type ReplayCache struct {
	mu  sync.Mutex
	m   map[string]time.Time
	max int
	now func() time.Time
}

// NewReplayCache returns a cache of at most max ids (default 100000).
func NewReplayCache(max int) *ReplayCache {
	if max <= 0 {
		max = 100000
	}
	return &ReplayCache{m: map[string]time.Time{}, max: max, now: time.Now}
}

// Add records id until expires and reports whether it was new.
func (c *ReplayCache) Add(id string, expires time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if exp, ok := c.m[id]; ok && now.Before(exp) {
		return false
	}
	if len(c.m) >= c.max {
		for k, exp := range c.m {
			if !now.Before(exp) {
				delete(c.m, k)
			}
		}
		for len(c.m) >= c.max {
			var oldest string
			var ot time.Time
			for k, exp := range c.m {
				if oldest == "" || exp.Before(ot) {
					oldest, ot = k, exp
				}
			}
			delete(c.m, oldest)
		}
	}
	c.m[id] = expires
	return true
}

// NonceSource issues and checks DPoP nonces (RFC 9449 section 9):
// stateless values, an HMAC over a time slot, valid for the current and
// the previous slot.
type NonceSource struct {
	key  []byte
	slot time.Duration
	now  func() time.Time
}

// NewNonceSource returns a source whose nonces live between one and two
// times lifetime (default one minute).
func NewNonceSource(lifetime time.Duration) *NonceSource {
	if lifetime <= 0 {
		lifetime = time.Minute
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return &NonceSource{key: k, slot: lifetime, now: time.Now}
}

func (n *NonceSource) at(slot int64) string {
	m := hmac.New(sha256.New, n.key)
	fmt.Fprintf(m, "%d", slot)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Nonce returns the current nonce.
func (n *NonceSource) Nonce() string { return n.at(n.now().UnixNano() / int64(n.slot)) }

// Valid reports whether nonce is the current or the previous one.
func (n *NonceSource) Valid(nonce string) bool {
	if nonce == "" {
		return false
	}
	s := n.now().UnixNano() / int64(n.slot)
	return hmac.Equal([]byte(nonce), []byte(n.at(s))) || hmac.Equal([]byte(nonce), []byte(n.at(s-1)))
}

// DPoPOptions make a [Middleware] accept DPoP-bound tokens (Options.DPoP).
type DPoPOptions struct {
	// Window bounds a proof's iat from now (default
	// [DefaultDPoPWindow]).
	Window time.Duration
	// RequireNonce makes every proof carry a nonce this server issued
	// (sent in DPoP-Nonce headers).
	RequireNonce bool
	// NonceLifetime is the nonce rotation period (default a minute).
	NonceLifetime time.Duration
	// Required refuses bearer tokens: every token must be DPoP-bound.
	Required bool
	// MaxReplayEntries bounds the replay cache (default 100000).
	MaxReplayEntries int
}

// dpopState is a middleware's DPoP machinery.
type dpopState struct {
	opts   DPoPOptions
	replay *ReplayCache
	nonces *NonceSource
}

func newDPoPState(o *DPoPOptions) *dpopState {
	if o == nil {
		return nil
	}
	st := &dpopState{opts: *o, replay: NewReplayCache(o.MaxReplayEntries)}
	if o.RequireNonce {
		st.nonces = NewNonceSource(o.NonceLifetime)
	}
	return st
}

// Confirmation returns the cnf.jkt of a token's claims ("" when the token
// is not DPoP-bound).
func (t *TokenInfo) Confirmation() string {
	if t == nil {
		return ""
	}
	cnf, _ := t.Claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// IsDPoPBound reports whether the token is bound to a DPoP key (cnf.jkt):
// such a token is useless without the key and must never be forwarded.
func (t *TokenInfo) IsDPoPBound() bool { return t.Confirmation() != "" }

// dpopChallenge returns the algs parameter of DPoP challenges.
func dpopAlgs() string { return strings.Join(slices.Clone(DPoPAlgorithms), " ") }

// errNoDPoP is returned for a DPoP-bound token presented as a bearer
// token.
var errNoDPoP = errors.New("the access token is DPoP-bound: present it with the DPoP scheme and a proof")
