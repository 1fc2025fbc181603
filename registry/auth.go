package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TokenIssuer is the "iss" of registry JWTs (the official registry's).
const TokenIssuer = "mcp-registry"

// DefaultTokenTTL is the lifetime of a registry JWT.
const DefaultTokenTTL = 5 * time.Minute

// AnonymousNamespace is the namespace a "none" login may publish to.
const AnonymousNamespace = "io.modelcontextprotocol.anonymous"

// Auth methods, the "auth_method" claim of a registry JWT.
const (
	MethodNone  = "none"
	MethodHTTP  = "http"
	MethodDNS   = "dns"
	MethodOIDC  = "oidc"
	MethodAdmin = "admin"
)

// Claims are the claims of a registry JWT, as the official registry
// issues them: the method and subject of the proof, and the permissions.
type Claims struct {
	jwt.Claims
	// AuthMethod is the login method that issued the token ("http", "dns", "oidc", "none", or "admin" for admin tokens).
	AuthMethod string `json:"auth_method"`
	// AuthMethodSubject is what the method proved: the domain, the IdP subject, "anonymous".
	AuthMethodSubject string `json:"auth_method_sub"`
	// Permissions are the actions granted on name patterns.
	Permissions []Permission `json:"permissions"`
}

// Can reports whether the claims allow action on the server name.
func (c *Claims) Can(action, name string) bool {
	for _, p := range c.Permissions {
		if p.Action == action && MatchPattern(p.ResourcePattern, name) {
			return true
		}
	}
	return false
}

// MatchPattern reports whether a permission pattern matches a server
// name: "*" matches all, a pattern ending in "*" matches by prefix
// ("com.example/*", "com.example.*"), anything else exactly.
func MatchPattern(pattern, name string) bool {
	if pattern == "*" {
		return true
	}
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, p)
	}
	return pattern == name
}

// TokenResponse is the answer of the auth routes.
type TokenResponse struct {
	// RegistryToken is the registry JWT.
	RegistryToken string `json:"registry_token"`
	// ExpiresAt is its expiry, in Unix seconds.
	ExpiresAt int64 `json:"expires_at"`
}

// AuthOptions configure [NewAuth].
type AuthOptions struct {
	// Key signs registry JWTs (Ed25519). Required.
	Key ed25519.PrivateKey
	// TTL is the tokens' lifetime (default 5 minutes).
	TTL time.Duration
	// Anonymous enables POST /v0/auth/none, which grants publish and edit
	// on io.modelcontextprotocol.anonymous/* (development registries).
	Anonymous bool
	// HTTP enables the HTTP key proof
	// (https://DOMAIN/.well-known/mcp-registry-auth); nil disables it.
	HTTP *HTTPProofOptions
	// DNS enables the DNS TXT key proof; nil disables it.
	DNS *DNSProofOptions
	// OIDC enables POST /v0/auth/oidc with ID tokens of one issuer; nil
	// disables it.
	OIDC *OIDCOptions
	// AdminTokens are static bearer tokens with publish and edit rights
	// on every name. Compared in constant time.
	AdminTokens []string
	// BlockedNamespaces may not be granted to anyone but admins.
	BlockedNamespaces []string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// HTTPProofOptions configure the HTTP key proof.
type HTTPProofOptions struct {
	// Client fetches the key; nil means a client that refuses redirects,
	// loopback and private addresses (unless AllowPrivate), with RootCAs.
	Client *http.Client
	// Resolve maps a domain to the host:port to connect to instead of
	// resolving it (tests, split-horizon networks); TLS still checks the
	// domain's certificate.
	Resolve map[string]string
	// RootCAs are the roots that server certificates must chain to (nil:
	// the system's).
	RootCAs *x509.CertPool
	// AllowPrivate allows keys served from loopback and private addresses.
	AllowPrivate bool
}

// DNSProofOptions configure the DNS TXT key proof.
type DNSProofOptions struct {
	// Server is the DNS server (host:port) to ask; "" means the system's
	// resolver.
	Server string
	// Resolver overrides Server.
	Resolver interface {
		LookupTXT(ctx context.Context, name string) ([]string, error)
	}
}

// OIDCOptions configure OIDC logins (the organization's IdP).
type OIDCOptions struct {
	// Issuer is the IdP's issuer URL; its discovery document gives the
	// JWKS.
	Issuer string
	// Audience must be in the ID token's "aud" (the client ID).
	Audience string
	// ExtraClaims are claim values the token must have (each entry's
	// claims must all match; a list claim matches if any value does).
	ExtraClaims []map[string]any
	// Publish and Edit are the name patterns granted.
	Publish, Edit []string
	// Client fetches the discovery document and keys (default
	// http.DefaultClient).
	Client *http.Client
}

// Auth issues and checks registry JWTs and runs the login methods.
type Auth struct {
	opts   AuthOptions
	signer jose.Signer
	pub    ed25519.PublicKey
	http   *http.Client
	dns    interface {
		LookupTXT(ctx context.Context, name string) ([]string, error)
	}
	oidc *oidcVerifier
}

// NewAuth returns an Auth.
func NewAuth(opts AuthOptions) (*Auth, error) {
	if len(opts.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("registry: an Ed25519 signing key is required")
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTokenTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: opts.Key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	a := &Auth{opts: opts, signer: sig, pub: opts.Key.Public().(ed25519.PublicKey)}
	if h := opts.HTTP; h != nil {
		a.http = h.Client
		if a.http == nil {
			a.http = keyFetchClient(h)
		}
	}
	if d := opts.DNS; d != nil {
		a.dns = d.Resolver
		if a.dns == nil {
			r := &net.Resolver{}
			if d.Server != "" {
				server := d.Server
				r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
					var dl net.Dialer
					return dl.DialContext(ctx, network, server)
				}}
			}
			a.dns = r
		}
	}
	if o := opts.OIDC; o != nil {
		if o.Issuer == "" || o.Audience == "" {
			return nil, errors.New("registry: OIDC needs an issuer and an audience")
		}
		c := o.Client
		if c == nil {
			c = http.DefaultClient
		}
		a.oidc = &oidcVerifier{opts: o, client: c}
	}
	return a, nil
}

// Methods lists the enabled login methods.
func (a *Auth) Methods() []string {
	var m []string
	if a.opts.Anonymous {
		m = append(m, MethodNone)
	}
	if a.http != nil {
		m = append(m, MethodHTTP)
	}
	if a.dns != nil {
		m = append(m, MethodDNS)
	}
	if a.oidc != nil {
		m = append(m, MethodOIDC)
	}
	return m
}

// Issue signs a registry JWT for the subject of a login method.
func (a *Auth) Issue(method, subject string, perms []Permission) (*TokenResponse, error) {
	if !slices.ContainsFunc(perms, func(p Permission) bool { return p.ResourcePattern == "*" }) {
		for _, ns := range a.opts.BlockedNamespaces {
			probe := &Claims{Permissions: perms}
			if probe.Can(ActionPublish, ns+"/test") || probe.Can(ActionPublish, ns+".test/x") {
				return nil, errors.New("your namespace is blocked")
			}
		}
	}
	now := a.opts.Now()
	exp := now.Add(a.opts.TTL)
	c := Claims{
		Claims: jwt.Claims{Issuer: TokenIssuer, IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(exp)},
		AuthMethod: method, AuthMethodSubject: subject, Permissions: perms,
	}
	if c.Permissions == nil {
		c.Permissions = []Permission{}
	}
	tok, err := jwt.Signed(a.signer).Claims(c).Serialize()
	if err != nil {
		return nil, err
	}
	return &TokenResponse{RegistryToken: tok, ExpiresAt: exp.Unix()}, nil
}

// Verify checks a bearer token: an admin token, or a registry JWT signed
// by this registry's key, not expired.
func (a *Auth) Verify(token string) (*Claims, error) {
	for _, t := range a.opts.AdminTokens {
		if t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			return &Claims{AuthMethod: MethodAdmin, AuthMethodSubject: "admin",
				Permissions: []Permission{{ActionPublish, "*"}, {ActionEdit, "*"}}}, nil
		}
	}
	return ParseToken(token, a.pub, a.opts.Now())
}

// ParseToken verifies a registry JWT with the registry's public key at
// time now: EdDSA only, issuer "mcp-registry", an expiry required.
func ParseToken(token string, pub ed25519.PublicKey, now time.Time) (*Claims, error) {
	if len(token) > 16<<10 {
		return nil, errors.New("token too large")
	}
	t, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, fmt.Errorf("failed to parse token: %w", err)
	}
	var c Claims
	if err := t.Claims(pub, &c); err != nil {
		return nil, fmt.Errorf("invalid token: %w", err)
	}
	if c.Expiry == nil {
		return nil, errors.New("invalid token: no expiry")
	}
	if err := c.Claims.ValidateWithLeeway(jwt.Expected{Issuer: TokenIssuer, Time: now}, 0); err != nil {
		return nil, fmt.Errorf("invalid token: %w", err)
	}
	return &c, nil
}

// LoginNone grants the anonymous namespace (when enabled).
func (a *Auth) LoginNone() (*TokenResponse, error) {
	if !a.opts.Anonymous {
		return nil, errMethodDisabled
	}
	ns := AnonymousNamespace + "/*"
	return a.Issue(MethodNone, "anonymous", []Permission{{ActionPublish, ns}, {ActionEdit, ns}})
}

var errMethodDisabled = errors.New("this login method is not enabled on this registry")

// KeyProof is the body of the DNS and HTTP login routes: an RFC 3339
// timestamp and its hex signature by the domain's key.
type KeyProof struct {
	// Domain is the domain whose key signed.
	Domain string `json:"domain"`
	// Timestamp is the RFC 3339 time that was signed (within 15 seconds of the registry's clock).
	Timestamp string `json:"timestamp"`
	// SignedTimestamp is the signature of Timestamp, in hexadecimal.
	SignedTimestamp string `json:"signed_timestamp"`
}

// LoginHTTP checks a key proof against the key the domain serves at
// https://DOMAIN/.well-known/mcp-registry-auth and grants its namespace
// (reverse domain + "/*", no subdomains).
func (a *Auth) LoginHTTP(ctx context.Context, p KeyProof) (*TokenResponse, error) {
	if a.http == nil {
		return nil, errMethodDisabled
	}
	return a.keyLogin(ctx, p, MethodHTTP, false, func(ctx context.Context, domain string) ([]string, error) {
		body, err := a.fetchWellKnown(ctx, domain)
		if err != nil {
			return nil, err
		}
		return []string{body}, nil
	})
}

// LoginDNS checks a key proof against the domain's TXT records
// ("v=MCPv1; k=ed25519; p=...") and grants its namespace and its
// subdomains' (reverse domain + "/*" and + ".*").
func (a *Auth) LoginDNS(ctx context.Context, p KeyProof) (*TokenResponse, error) {
	if a.dns == nil {
		return nil, errMethodDisabled
	}
	return a.keyLogin(ctx, p, MethodDNS, true, func(ctx context.Context, domain string) ([]string, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return a.dns.LookupTXT(ctx, domain)
	})
}

var domainRe = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$`)

// ValidDomain reports whether d may be proven: a DNS name with a dot, not
// an IP address, not github.io.
func ValidDomain(d string) bool {
	if d == "" || len(d) > 253 || net.ParseIP(d) != nil || !strings.Contains(d, ".") {
		return false
	}
	l := strings.ToLower(d)
	if l == "github.io" || strings.HasSuffix(l, ".github.io") {
		return false
	}
	return domainRe.MatchString(d)
}

// ReverseDomain turns example.com into com.example.
func ReverseDomain(d string) string {
	p := strings.Split(d, ".")
	slices.Reverse(p)
	return strings.Join(p, ".")
}

func (a *Auth) keyLogin(ctx context.Context, p KeyProof, method string, subdomains bool, fetch func(context.Context, string) ([]string, error)) (*TokenResponse, error) {
	if !ValidDomain(p.Domain) {
		return nil, errors.New("invalid domain format")
	}
	ts, err := time.Parse(time.RFC3339, p.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("invalid timestamp format: %w", err)
	}
	now := a.opts.Now()
	if ts.Before(now.Add(-15*time.Second)) || ts.After(now.Add(15*time.Second)) {
		return nil, errors.New("timestamp outside valid window (±15 seconds)")
	}
	sig, err := hex.DecodeString(p.SignedTimestamp)
	if err != nil {
		return nil, fmt.Errorf("invalid signature format, must be hex: %w", err)
	}
	records, err := fetch(ctx, p.Domain)
	if err != nil {
		return nil, fmt.Errorf("failed to fetch keys: %w", err)
	}
	keys, kerrs := ParseProofRecords(records)
	if len(keys) == 0 {
		if len(kerrs) > 0 {
			return nil, kerrs[0]
		}
		return nil, fmt.Errorf("no MCP public key found (%s proof)", method)
	}
	verified := false
	for _, k := range keys {
		if k.Verify([]byte(p.Timestamp), sig) {
			verified = true
			break
		}
	}
	if !verified {
		return nil, errors.New("signature verification failed against the published keys")
	}
	rev := ReverseDomain(p.Domain)
	perms := []Permission{{ActionPublish, rev + "/*"}}
	if subdomains {
		perms = append(perms, Permission{ActionPublish, rev + ".*"})
	}
	return a.Issue(method, p.Domain, perms)
}

// ProofKey is a public key published for the DNS or HTTP proof.
type ProofKey struct {
	// Algorithm is "ed25519" or "ecdsap384".
	Algorithm string
	ed        ed25519.PublicKey
	ec        *ecdsa.PublicKey
}

// Verify checks a signature of msg: Ed25519, or ECDSA P-384 over SHA-384
// with R||S encoding.
func (k *ProofKey) Verify(msg, sig []byte) bool {
	switch k.Algorithm {
	case "ed25519":
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.ed, msg, sig)
	case "ecdsap384":
		if len(sig) != 96 {
			return false
		}
		d := sha512.Sum384(msg)
		return ecdsa.Verify(k.ec, d[:], new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:]))
	}
	return false
}

var proofRecordRe = regexp.MustCompile(`v=MCPv1;\s*k=([^;]+);\s*p=([A-Za-z0-9+/=]+)`)

// ParseProofRecords finds every "v=MCPv1; k=ALG; p=BASE64" record in the
// given texts (TXT records or a .well-known body) and parses its key; the
// errors are those of malformed records.
func ParseProofRecords(texts []string) ([]ProofKey, []error) {
	var keys []ProofKey
	var errs []error
	for _, t := range texts {
		if len(t) > 64<<10 {
			t = t[:64<<10]
		}
		for _, m := range proofRecordRe.FindAllStringSubmatch(t, 16) {
			k, err := parseProofKey(strings.TrimSpace(m[1]), m[2])
			if err != nil {
				errs = append(errs, err)
				continue
			}
			keys = append(keys, *k)
		}
	}
	return keys, errs
}

func parseProofKey(alg, b64 string) (*ProofKey, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("failed to decode public key: %w", err)
	}
	switch alg {
	case "ed25519":
		if len(raw) != ed25519.PublicKeySize {
			return nil, errors.New("invalid Ed25519 public key size")
		}
		return &ProofKey{Algorithm: alg, ed: ed25519.PublicKey(raw)}, nil
	case "ecdsap384":
		if len(raw) != 49 || raw[0] != 2 && raw[0] != 3 {
			return nil, errors.New("invalid ECDSA P-384 public key (want 49 bytes, compressed)")
		}
		x, y := elliptic.UnmarshalCompressed(elliptic.P384(), raw)
		if x == nil {
			return nil, errors.New("failed to decompress ECDSA P-384 public key")
		}
		return &ProofKey{Algorithm: alg, ec: &ecdsa.PublicKey{Curve: elliptic.P384(), X: x, Y: y}}, nil
	}
	return nil, fmt.Errorf("unsupported public key algorithm: %s", alg)
}

var errBlockedAddress = errors.New("refusing to connect to a private or loopback address")

// keyFetchClient is the HTTP client of the HTTP proof: no redirects, 10s,
// private addresses refused unless allowed, Resolve honored.
func keyFetchClient(o *HTTPProofOptions) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	tr.Proxy = nil
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if to, ok := o.Resolve[host]; ok {
			var d net.Dialer
			return d.DialContext(ctx, network, to)
		}
		ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, err
		}
		var last error = errBlockedAddress
		for _, ip := range ips {
			if !o.AllowPrivate && (ip.IP.IsLoopback() || ip.IP.IsPrivate() || ip.IP.IsLinkLocalUnicast() || ip.IP.IsUnspecified() || ip.IP.IsLinkLocalMulticast()) {
				continue
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.IP.String(), port))
			if err == nil {
				return c, nil
			}
			last = err
		}
		return nil, last
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (a *Auth) fetchWellKnown(ctx context.Context, domain string) (string, error) {
	u := "https://" + domain + "/.well-known/mcp-registry-auth"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := a.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("failed to fetch key: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: failed to fetch key from %s", resp.StatusCode, u)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4097))
	if err != nil {
		return "", err
	}
	if len(b) > 4096 {
		return "", errors.New("HTTP auth key response too large")
	}
	return strings.TrimSpace(string(b)), nil
}

// LoginOIDC exchanges an ID token of the configured IdP for a registry
// JWT with the configured permissions.
func (a *Auth) LoginOIDC(ctx context.Context, idToken string) (*TokenResponse, error) {
	if a.oidc == nil {
		return nil, errMethodDisabled
	}
	claims, err := a.oidc.verify(ctx, idToken, a.opts.Now())
	if err != nil {
		return nil, err
	}
	o := a.oidc.opts
	if len(o.ExtraClaims) > 0 {
		for _, rule := range o.ExtraClaims {
			for k, want := range rule {
				got, ok := claims[k]
				if !ok {
					return nil, fmt.Errorf("claim validation failed: required claim %s not found", k)
				}
				if !claimMatches(got, want) {
					return nil, fmt.Errorf("claim validation failed: %s expected %v, got %v", k, want, got)
				}
			}
		}
	}
	var perms []Permission
	for _, p := range o.Publish {
		perms = append(perms, Permission{ActionPublish, p})
	}
	for _, p := range o.Edit {
		perms = append(perms, Permission{ActionEdit, p})
	}
	sub, _ := claims["sub"].(string)
	return a.Issue(MethodOIDC, sub, perms)
}

func claimMatches(got, want any) bool {
	list := func(v any) []any {
		if l, ok := v.([]any); ok {
			return l
		}
		return []any{v}
	}
	for _, w := range list(want) {
		for _, g := range list(got) {
			if fmt.Sprint(g) == fmt.Sprint(w) {
				return true
			}
		}
	}
	return false
}

// oidcVerifier checks ID tokens of one issuer, with its JWKS cached.
type oidcVerifier struct {
	opts    *OIDCOptions
	client  *http.Client
	mu      sync.Mutex
	keys    *jose.JSONWebKeySet
	fetched time.Time
}

var oidcAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

func (v *oidcVerifier) verify(ctx context.Context, token string, now time.Time) (map[string]any, error) {
	if len(token) > 32<<10 {
		return nil, errors.New("ID token too large")
	}
	t, err := jwt.ParseSigned(token, oidcAlgs)
	if err != nil {
		return nil, fmt.Errorf("failed to parse ID token: %w", err)
	}
	keys, err := v.jwks(ctx, false)
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	var all map[string]any
	if err := t.Claims(keys, &std, &all); err != nil {
		// The IdP may have rotated its keys: fetch them again once.
		if keys, err = v.jwks(ctx, true); err != nil {
			return nil, err
		}
		if err := t.Claims(keys, &std, &all); err != nil {
			return nil, fmt.Errorf("failed to verify ID token: %w", err)
		}
	}
	if std.Expiry == nil {
		return nil, errors.New("ID token has no expiry")
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: v.opts.Issuer, AnyAudience: jwt.Audience{v.opts.Audience}, Time: now}, time.Minute); err != nil {
		return nil, fmt.Errorf("invalid ID token: %w", err)
	}
	return all, nil
}

func (v *oidcVerifier) jwks(ctx context.Context, refresh bool) (*jose.JSONWebKeySet, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys != nil && !refresh && time.Since(v.fetched) < time.Hour {
		return v.keys, nil
	}
	if v.keys != nil && refresh && time.Since(v.fetched) < 10*time.Second {
		return v.keys, nil
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, strings.TrimSuffix(v.opts.Issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, fmt.Errorf("OIDC discovery: %w", err)
	}
	if disc.Issuer != v.opts.Issuer {
		return nil, fmt.Errorf("OIDC discovery: issuer %q, want %q", disc.Issuer, v.opts.Issuer)
	}
	var ks jose.JSONWebKeySet
	if err := v.getJSON(ctx, disc.JWKSURI, &ks); err != nil {
		return nil, fmt.Errorf("OIDC keys: %w", err)
	}
	v.keys, v.fetched = &ks, time.Now()
	return v.keys, nil
}

func (v *oidcVerifier) getJSON(ctx context.Context, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(dst)
}
