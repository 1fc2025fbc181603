package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
const DefaultLeeway = time.Minute

// DefaultAlgorithms are the JWS algorithms a JWTVerifier accepts unless told
// otherwise: asymmetric signatures only.
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

var hmacAlgorithms = []string{"HS256", "HS384", "HS512"}

// JWTOptions configure a [JWTVerifier].
type JWTOptions struct {
	// Issuer is the expected "iss" claim, the authorization server's issuer
	// identifier (required).
	Issuer string
	// Audience is the protected resource's canonical URI (required): the
	// "aud" claim must contain it (RFC 8707). Scheme and host are compared
	// without regard to case.
	Audience string

	// JWKSURL is where the authorization server publishes its signing keys
	// (its metadata's jwks_uri). The set is fetched on first use, kept for
	// RefreshInterval, and fetched again early when a token names an
	// unknown key id (key rotation), at most once per MinRefreshInterval.
	JWKSURL string
	// Keys are verification keys given directly, by key id ("" for a key
	// without one). Each is an *rsa.PublicKey, *ecdsa.PublicKey or
	// ed25519.PublicKey. They are used along with the JWKS.
	Keys map[string]crypto.PublicKey
	// HMACSecret, if set, allows HS256/384/512 tokens signed with it. Keep
	// it unset unless the issuer shares a secret with this server on
	// purpose; it must be at least 32 bytes.
	HMACSecret []byte

	// Algorithms restricts the accepted JWS algorithms (default
	// [DefaultAlgorithms], plus the HMAC ones when HMACSecret is set).
	// "none" is never accepted; HMAC algorithms only with HMACSecret.
	Algorithms []string

	// Leeway is the tolerated clock skew (default [DefaultLeeway]; a
	// negative value means none).
	Leeway time.Duration

	// RequireJWTAccessTokenType requires the "typ" header to be "at+jwt"
	// (RFC 9068). Many providers do not set it, so it is off by default.
	RequireJWTAccessTokenType bool

	// HTTPClient fetches the JWKS (default: a client with a 10 second
	// timeout).
	HTTPClient *http.Client
	// RefreshInterval is how long a fetched JWKS is used before it is
	// fetched again (default one hour).
	RefreshInterval time.Duration
	// MinRefreshInterval is the least time between two fetches, so that
	// tokens naming unknown keys cannot make the verifier hammer the
	// authorization server (default one minute).
	MinRefreshInterval time.Duration
	// MaxJWKSBytes bounds the JWKS document (default 1 MiB).
	MaxJWKSBytes int64

	// Logger receives JWKS fetch failures.
	Logger *slog.Logger
	// Now returns the current time (default time.Now); tests set it.
	Now func() time.Time
}

// JWTVerifier verifies JWT access tokens (RFC 9068) locally: signature with
// the issuer's keys, issuer, audience, expiry, not-before and issued-at with
// leeway, and reads scopes from the "scope" string or the "scp" array.
// It is safe for concurrent use.
type JWTVerifier struct {
	issuer   string
	audience string
	algs     []jose.SignatureAlgorithm
	hmac     []byte
	leeway   time.Duration
	typ      bool
	static   []jose.JSONWebKey
	jwks     *jwksCache
	now      func() time.Time
}

// NewJWTVerifier returns a verifier for opts.
func NewJWTVerifier(opts JWTOptions) (*JWTVerifier, error) {
	if opts.Issuer == "" {
		return nil, errors.New("auth: JWTOptions.Issuer is required")
	}
	aud, err := CanonicalResource(opts.Audience)
	if err != nil {
		return nil, fmt.Errorf("auth: JWTOptions.Audience: %w", err)
	}
	v := &JWTVerifier{issuer: opts.Issuer, audience: aud, leeway: opts.Leeway, typ: opts.RequireJWTAccessTokenType, now: opts.Now}
	if v.leeway == 0 {
		v.leeway = DefaultLeeway
	} else if v.leeway < 0 {
		v.leeway = 0
	}
	if v.now == nil {
		v.now = time.Now
	}
	algs := opts.Algorithms
	if algs == nil {
		algs = slices.Clone(DefaultAlgorithms)
		if opts.HMACSecret != nil {
			algs = append(algs, hmacAlgorithms...)
		}
	}
	for _, a := range algs {
		switch {
		case strings.EqualFold(a, "none"):
			return nil, errors.New("auth: the \"none\" algorithm is never accepted")
		case slices.Contains(hmacAlgorithms, a):
			if opts.HMACSecret == nil {
				return nil, fmt.Errorf("auth: algorithm %s needs HMACSecret", a)
			}
		case !slices.Contains(DefaultAlgorithms, a):
			return nil, fmt.Errorf("auth: unsupported algorithm %q", a)
		}
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	if opts.HMACSecret != nil {
		if len(opts.HMACSecret) < 32 {
			return nil, errors.New("auth: HMACSecret must be at least 32 bytes")
		}
		v.hmac = slices.Clone(opts.HMACSecret)
	}
	for _, kid := range sortedKeyIDs(opts.Keys) {
		k := jose.JSONWebKey{Key: opts.Keys[kid], KeyID: kid, Use: "sig"}
		switch opts.Keys[kid].(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("auth: key %q: unsupported key type %T", kid, opts.Keys[kid])
		}
		v.static = append(v.static, k)
	}
	if opts.JWKSURL != "" {
		v.jwks = newJWKSCache(opts)
	}
	if v.jwks == nil && len(v.static) == 0 && v.hmac == nil {
		return nil, errors.New("auth: JWTVerifier needs JWKSURL, Keys or HMACSecret")
	}
	return v, nil
}

func sortedKeyIDs(m map[string]crypto.PublicKey) []string {
	ids := make([]string, 0, len(m))
	for k := range m {
		ids = append(ids, k)
	}
	slices.Sort(ids)
	return ids
}

// Verify implements [Verifier].
func (v *JWTVerifier) Verify(ctx context.Context, token string) (*TokenInfo, error) {
	if strings.Count(token, ".") != 2 {
		return nil, invalid("not a signed JWT")
	}
	jws, err := jose.ParseSignedCompact(token, v.algs)
	if err != nil {
		var ua *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &ua) {
			return nil, invalid("signature algorithm not accepted")
		}
		return nil, invalid("malformed JWT")
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("malformed JWT")
	}
	hdr := jws.Signatures[0].Protected
	if v.typ {
		typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string)
		if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
			return nil, invalid(`token type is not "at+jwt"`)
		}
	}
	payload, err := v.verifySignature(ctx, jws, hdr)
	if err != nil {
		return nil, err
	}
	return v.checkClaims(payload)
}

// verifySignature finds the key for hdr and returns the verified payload.
func (v *JWTVerifier) verifySignature(ctx context.Context, jws *jose.JSONWebSignature, hdr jose.Header) ([]byte, error) {
	alg := hdr.Algorithm
	if slices.Contains(hmacAlgorithms, alg) {
		if v.hmac == nil {
			return nil, invalid("signature algorithm not accepted")
		}
		p, err := jws.Verify(v.hmac)
		if err != nil {
			return nil, invalid("bad signature")
		}
		return p, nil
	}
	keys, err := v.candidates(ctx, hdr.KeyID, alg, false)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 && hdr.KeyID != "" && v.jwks != nil {
		// Perhaps the issuer rotated its keys: fetch the set again, at
		// most once per MinRefreshInterval.
		if keys, err = v.candidates(ctx, hdr.KeyID, alg, true); err != nil {
			return nil, err
		}
	}
	if len(keys) == 0 {
		if hdr.KeyID != "" {
			return nil, invalid("unknown signing key id")
		}
		return nil, invalid("no key for the signature algorithm")
	}
	for _, k := range keys {
		if p, err := jws.Verify(k.Key); err == nil {
			return p, nil
		}
	}
	return nil, invalid("bad signature")
}

// maxCandidates bounds the keys tried for a token without key id.
const maxCandidates = 8

// candidates returns the keys that may have signed a token with kid and alg.
func (v *JWTVerifier) candidates(ctx context.Context, kid, alg string, refresh bool) ([]jose.JSONWebKey, error) {
	pool := v.static
	if v.jwks != nil {
		set, err := v.jwks.get(ctx, refresh)
		if err != nil && len(v.static) == 0 {
			return nil, err
		}
		pool = append(slices.Clone(v.static), set...)
	}
	var out []jose.JSONWebKey
	for _, k := range pool {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		if !keyFitsAlg(k.Key, alg) {
			continue
		}
		out = append(out, k)
		if len(out) == maxCandidates {
			break
		}
	}
	return out, nil
}

func keyFitsAlg(key any, alg string) bool {
	switch key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// checkClaims validates the claims of a verified payload.
func (v *JWTVerifier) checkClaims(payload []byte) (*TokenInfo, error) {
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, invalid("claims are not a JSON object")
	}
	info, err := claimsToInfo(claims)
	if err != nil {
		return nil, err
	}
	if info.Issuer != v.issuer {
		return nil, invalid("wrong issuer")
	}
	if err := checkAudience(info.Audience, v.audience); err != nil {
		return nil, err
	}
	if _, ok := claims["exp"]; !ok {
		return nil, invalid("token has no expiry")
	}
	if err := checkTimes(claims, v.now(), v.leeway); err != nil {
		return nil, err
	}
	return info, nil
}

// claimsToInfo reads the registered and scope claims of a JWT or an
// introspection response. Present claims of the wrong type are errors.
func claimsToInfo(claims map[string]any) (*TokenInfo, error) {
	info := &TokenInfo{Claims: claims}
	var ok bool
	str := func(name string) (string, bool) {
		v, present := claims[name]
		if !present {
			return "", true
		}
		s, isStr := v.(string)
		return s, isStr
	}
	if info.Issuer, ok = str("iss"); !ok {
		return nil, invalid("iss is not a string")
	}
	if info.Subject, ok = str("sub"); !ok {
		return nil, invalid("sub is not a string")
	}
	if info.ClientID, ok = str("client_id"); !ok {
		return nil, invalid("client_id is not a string")
	}
	if info.ClientID == "" {
		if info.ClientID, ok = str("azp"); !ok {
			return nil, invalid("azp is not a string")
		}
	}
	if info.Binding, ok = str(BindingClaim); !ok {
		return nil, invalid(BindingClaim + " is not a string")
	}
	if info.Grant, ok = str(GrantClaim); !ok {
		return nil, invalid(GrantClaim + " is not a string")
	}
	switch aud := claims["aud"].(type) {
	case nil:
	case string:
		info.Audience = []string{aud}
	case []any:
		for _, a := range aud {
			s, isStr := a.(string)
			if !isStr {
				return nil, invalid("aud is not a string or an array of strings")
			}
			info.Audience = append(info.Audience, s)
		}
	default:
		return nil, invalid("aud is not a string or an array of strings")
	}
	scopes, err := scopesFromClaims(claims)
	if err != nil {
		return nil, err
	}
	info.Scopes = scopes
	if exp, present := claims["exp"]; present {
		t, err := numericDate(exp)
		if err != nil {
			return nil, invalid("exp is not a number")
		}
		info.Expiry = t
	}
	return info, nil
}

// scopesFromClaims reads "scope" (a space-separated string, RFC 9068 and
// RFC 7662) or, failing that, "scp" (an array of strings, or a string).
func scopesFromClaims(claims map[string]any) ([]string, error) {
	if v, ok := claims["scope"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return nil, invalid("scope is not a string")
		}
		scopes, err := ParseScope(s)
		if err != nil {
			return nil, invalid("malformed scope claim")
		}
		return scopes, nil
	}
	switch scp := claims["scp"].(type) {
	case nil:
		return nil, nil
	case string:
		scopes, err := ParseScope(scp)
		if err != nil {
			return nil, invalid("malformed scp claim")
		}
		return scopes, nil
	case []any:
		var out []string
		for _, e := range scp {
			s, ok := e.(string)
			if !ok || !ValidScopeToken(s) {
				return nil, invalid("malformed scp claim")
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, invalid("malformed scp claim")
}

// checkAudience requires want, a canonical resource URI, among aud.
func checkAudience(aud []string, want string) error {
	for _, a := range aud {
		if a == want {
			return nil
		}
		if c, err := CanonicalResource(a); err == nil && c == want {
			return nil
		}
	}
	if len(aud) == 0 {
		return invalid("token has no audience")
	}
	return invalid("token is not meant for this resource (audience mismatch)")
}

// checkTimes checks exp, nbf and iat against now with leeway.
func checkTimes(claims map[string]any, now time.Time, leeway time.Duration) error {
	if v, ok := claims["exp"]; ok {
		exp, err := numericDate(v)
		if err != nil {
			return invalid("exp is not a number")
		}
		if !now.Before(exp.Add(leeway)) {
			return invalid("token expired")
		}
	}
	if v, ok := claims["nbf"]; ok {
		nbf, err := numericDate(v)
		if err != nil {
			return invalid("nbf is not a number")
		}
		if now.Add(leeway).Before(nbf) {
			return invalid("token not yet valid")
		}
	}
	if v, ok := claims["iat"]; ok {
		iat, err := numericDate(v)
		if err != nil {
			return invalid("iat is not a number")
		}
		if now.Add(leeway).Before(iat) {
			return invalid("token issued in the future")
		}
	}
	return nil
}

// numericDate converts a JSON NumericDate (seconds since the epoch).
func numericDate(v any) (time.Time, error) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, errors.New("not a NumericDate")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// jwksCache holds a fetched JSON Web Key Set.
type jwksCache struct {
	url        string
	client     *http.Client
	refresh    time.Duration
	minRefresh time.Duration
	maxBytes   int64
	log        *slog.Logger
	now        func() time.Time

	fetchMu     sync.Mutex // held while fetching: one fetch at a time
	mu          sync.Mutex // guards the fields below
	keys        []jose.JSONWebKey
	fetched     time.Time // last successful fetch
	lastAttempt time.Time
	attempted   bool
	inflight    bool
	fetches     int // successful and failed, for tests
}

func newJWKSCache(opts JWTOptions) *jwksCache {
	c := &jwksCache{
		url:        opts.JWKSURL,
		client:     opts.HTTPClient,
		refresh:    opts.RefreshInterval,
		minRefresh: opts.MinRefreshInterval,
		maxBytes:   opts.MaxJWKSBytes,
		log:        opts.Logger,
		now:        opts.Now,
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: 10 * time.Second}
	}
	if c.refresh <= 0 {
		c.refresh = time.Hour
	}
	if c.minRefresh <= 0 {
		c.minRefresh = time.Minute
	}
	if c.maxBytes <= 0 {
		c.maxBytes = 1 << 20
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// ErrJWKSUnavailable is wrapped by the error a JWTVerifier returns when it
// has no keys because the JWKS cannot be fetched.
var ErrJWKSUnavailable = errors.New("auth: JWKS unavailable")

// get returns the key set, fetching it when there is none, when it is
// older than the refresh interval, or when force asks for it; fetches are
// at least minRefresh apart and one at a time, and callers whose keys are
// fresh never wait for one. A failed fetch keeps the previous keys.
func (c *jwksCache) get(ctx context.Context, force bool) ([]jose.JSONWebKey, error) {
	keys, need, inflight := c.check(force)
	if need || inflight {
		c.fetchMu.Lock()
		defer c.fetchMu.Unlock()
		// Another caller may have fetched while this one waited.
		if keys, need, _ = c.check(force); need {
			c.mu.Lock()
			c.attempted, c.lastAttempt, c.inflight = true, c.now(), true
			c.fetches++
			c.mu.Unlock()
			fetched, err := c.fetch(ctx)
			c.mu.Lock()
			if err != nil {
				c.log.Warn("auth: fetching JWKS failed", "url", c.url, "error", err.Error())
			} else {
				c.keys, c.fetched = fetched, c.now()
			}
			keys, c.inflight = c.keys, false
			c.mu.Unlock()
		}
	}
	if keys == nil {
		return nil, fmt.Errorf("%w: %s", ErrJWKSUnavailable, c.url)
	}
	return keys, nil
}

// check returns the cached keys, whether a fetch is due and allowed, and
// whether one is under way (a caller that wants one then waits for it).
func (c *jwksCache) check(force bool) (keys []jose.JSONWebKey, need, inflight bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	stale := c.keys == nil || now.Sub(c.fetched) >= c.refresh
	need = (stale || force) && (!c.attempted || now.Sub(c.lastAttempt) >= c.minRefresh)
	return c.keys, need, c.inflight && (stale || force)
}

func (c *jwksCache) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > c.maxBytes {
		return nil, errors.New("JWKS document too large")
	}
	return ParseJWKS(body)
}

// maxJWKSKeys bounds the keys kept from one JWKS document.
const maxJWKSKeys = 100

// ParseJWKS parses a JSON Web Key Set (RFC 7517 section 5) for signature
// verification. It keeps public RSA (2048 bits or more), EC and OKP keys
// whose "use" is absent or "sig", and skips keys it cannot use rather than
// failing the set. Symmetric keys and keys carrying private material are
// skipped: a JWKS never supplies an HMAC secret. An error means the
// document is not a JWK Set.
func ParseJWKS(data []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []jsontext.Value `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New(`JWKS: no "keys" member`)
	}
	var out []jose.JSONWebKey
	for _, raw := range doc.Keys {
		if len(out) == maxJWKSKeys {
			break
		}
		var members map[string]jsontext.Value
		if err := json.Unmarshal(raw, &members); err != nil {
			continue
		}
		var kty, use string
		_ = json.Unmarshal(members["kty"], &kty)
		_ = json.Unmarshal(members["use"], &use)
		if kty != "RSA" && kty != "EC" && kty != "OKP" {
			continue
		}
		if use != "" && use != "sig" {
			continue
		}
		private := false
		for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := members[m]; ok {
				private = true
			}
		}
		if private {
			continue
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || !k.Valid() || !k.IsPublic() {
			continue
		}
		if rk, ok := k.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < 2048 {
			continue
		}
		if k.Algorithm != "" && (strings.EqualFold(k.Algorithm, "none") || slices.Contains(hmacAlgorithms, k.Algorithm)) {
			continue
		}
		out = append(out, k)
	}
	return out, nil
}
