package authserver

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/internal/httpsec"
)

// Default lifetimes.
const (
	DefaultAccessTokenTTL  = 15 * time.Minute
	DefaultRefreshTokenTTL = 7 * 24 * time.Hour
	DefaultCodeTTL         = time.Minute
	DefaultConsentTTL      = 10 * time.Minute
	DefaultUnusedClientTTL = 24 * time.Hour
)

// Default bounds of pending consent pages (see Options).
const (
	DefaultMaxPendingConsents   = 10000
	DefaultMaxPendingPerClient  = 1000
	DefaultMaxPendingPerAddress = 20
)

// DefaultSubject is the resource owner of every grant when Options has no
// Authenticate function: the embedded server is then a single-user server
// whose user is whoever approves on the consent page.
const DefaultSubject = "local-user"

// Endpoint paths, relative to the issuer's path.
const (
	PathAuthorize  = "/authorize"
	PathToken      = "/token"
	PathRegister   = "/register"
	PathJWKS       = "/jwks"
	PathIntrospect = "/introspect"
	PathRevoke     = "/revoke"
)

// Well-known metadata paths (RFC 8414, OpenID Connect Discovery 1.0).
const (
	WellKnownOAuth  = "/.well-known/oauth-authorization-server"
	WellKnownOpenID = "/.well-known/openid-configuration"
)

// Options configure a [Server].
type Options struct {
	// Issuer is the server's issuer identifier (required): an https URL,
	// or http on a loopback host, without query or fragment. Endpoints are
	// served under its path.
	Issuer string

	// SigningKey signs access tokens: an *rsa.PrivateKey (RS256, 2048 bits
	// or more) or an *ecdsa.PrivateKey on P-256 (ES256). Nil means the
	// key kept in Storage, generated for Algorithm and stored there on
	// first start (with the default memory Storage, tokens then die with
	// the process). See [LoadSigningKey].
	SigningKey crypto.Signer
	// Algorithm is "ES256" (default) or "RS256"; it must fit SigningKey.
	Algorithm string

	// AccessTokenTTL, RefreshTokenTTL, CodeTTL and ConsentTTL are the
	// lifetimes of access tokens, refresh tokens, authorization codes and
	// pending consent pages (defaults 15 minutes, 7 days, 1 minute, 10
	// minutes).
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	CodeTTL         time.Duration
	ConsentTTL      time.Duration

	// Resources lists the resource indicators (canonical MCP server URIs)
	// tokens may be issued for. Empty means any http(s) URI a client
	// names; list them in production.
	Resources []string
	// ScopesSupported lists the scopes clients may request and is
	// advertised in the metadata. Empty means any syntactically valid
	// scope.
	ScopesSupported []string

	// Clients are pre-registered clients. Confidential ones (with a
	// Secret) may also call the introspection endpoint.
	Clients []Client

	// AutoApprove skips the consent page and approves every valid
	// authorization request at once. For tests and CI only.
	AutoApprove bool
	// Authenticate names the resource owner of an authorization request.
	// Nil means [DefaultSubject] for every request. An error shows an
	// error page (it may write its own response, such as a login
	// redirect, and return ErrHandled).
	Authenticate func(w http.ResponseWriter, r *http.Request) (subject string, err error)

	// Storage keeps the state that must outlive a request: the signing
	// key, registered and provisioned clients, grants, refresh token
	// digests, access token records and revocations. Nil means a new
	// [MemoryStorage]: all of it ends with the process. Package store
	// provides a durable one.
	Storage Storage

	// DisableRegistration turns off Dynamic Client Registration (RFC 7591).
	DisableRegistration bool
	// MaxClients bounds dynamically registered clients (default 10000);
	// beyond it registration answers 503 until unused ones expire.
	MaxClients int
	// UnusedClientTTL is how long a dynamically registered client is kept
	// after its registration or after the expiry of the last token it
	// obtained (default 24 hours): registrations that are never used go
	// away.
	UnusedClientTTL time.Duration

	// RateLimits limit the requests of one address to the registration,
	// authorization, token, introspection and revocation endpoints
	// (defaults in [DefaultRateLimits]); over the limit the answer is 429
	// with Retry-After. Addresses are the peer's IP address (an IPv6
	// address's /64); behind a reverse proxy every client shares the
	// proxy's address, so set the proxy's own limits and Disable these.
	RateLimits RateLimits

	// MaxPendingConsents bounds the consent pages waiting for an answer
	// (default 10000); MaxPendingPerClient bounds those of one client
	// (default 1000). Beyond either bound new authorization requests get
	// 503 with Retry-After, and the pages already open stay valid: a
	// flood cannot evict the page a person is looking at.
	// MaxPendingPerAddress bounds the pages opened from one address
	// (default 20); beyond it, that address's oldest page is dropped.
	// Behind a reverse proxy every client shares the proxy's address:
	// raise it there.
	MaxPendingConsents   int
	MaxPendingPerClient  int
	MaxPendingPerAddress int

	// CIMD configures Client ID Metadata Documents.
	CIMD CIMDOptions

	// IDJAGIssuers are the enterprise identity providers whose Identity
	// Assertion JWT Authorization Grants (typ oauth-id-jag+jwt, aud this
	// issuer) the token endpoint accepts with the jwt-bearer grant
	// (enterprise-managed authorization). The token is issued for the
	// ID-JAG's resource, with the requested scopes intersected with the
	// ID-JAG's, to the client the ID-JAG names, which must authenticate.
	IDJAGIssuers []AssertionIssuer
	// WorkloadIssuers are the workload identity issuers whose JWTs (aud
	// this token endpoint or issuer) the token endpoint accepts with the
	// jwt-bearer grant without client authentication (workload identity
	// federation), subject to each issuer's claim rules.
	WorkloadIssuers []AssertionIssuer
	// TokenExchangeIssuers are the issuers whose access tokens (for one
	// of each issuer's Audiences) a confidential client allowed the
	// token exchange grant may exchange here (RFC 8693) for a token of
	// this server: how a gateway obtains, for its caller, a token
	// audience-bound to an upstream behind this server.
	TokenExchangeIssuers []AssertionIssuer

	// DPoP makes the token endpoint accept DPoP proofs (RFC 9449) and
	// issue tokens bound to their key (cnf.jkt, token_type DPoP); the
	// metadata advertises dpop_signing_alg_values_supported. Refresh
	// tokens of a bound grant need a proof with the same key.
	DPoP bool
	// DPoPNonce makes the token endpoint require server-provided DPoP
	// nonces (use_dpop_nonce, RFC 9449 section 8).
	DPoPNonce bool

	// Identify names the person of an authorization request with their
	// claims (groups, tenant, email, ...), for servers whose sign-in is
	// delegated to an identity provider; it takes precedence over
	// Authenticate. An error shows an error page (or return ErrHandled
	// after writing a response, such as a redirect to the provider).
	Identify func(w http.ResponseWriter, r *http.Request) (*Person, error)
	// Revalidate, if set, is asked before every refresh of a grant a
	// person approved: it returns the grant's claims as they are now (the
	// identity provider's current groups), or an error to refuse the
	// refresh and revoke the grant (the person lost access).
	Revalidate func(ctx context.Context, g *StoredGrant) (map[string]any, error)

	// AllowedHosts lists Host header values accepted besides loopback
	// names when the server listens on loopback (DNS rebinding
	// protection; see internal/httpsec).
	AllowedHosts []string

	// Logger receives diagnostics; tokens, codes and secrets are never
	// logged.
	Logger *slog.Logger
	// Now returns the current time (default time.Now); tests set it.
	Now func() time.Time
}

// ErrHandled is returned by an Authenticate function that wrote the
// response itself.
var ErrHandled = errors.New("authserver: response already written")

// Server is an embedded OAuth 2.1 authorization server for MCP: metadata
// (RFC 8414 and OpenID Connect discovery), authorization code with PKCE
// S256, refresh tokens with rotation and reuse detection,
// client_credentials, Dynamic Client Registration (RFC 7591), Client ID
// Metadata Documents, resource indicators bound into the token audience
// (RFC 8707), JWT access tokens (RFC 9068), introspection (RFC 7662) and
// revocation (RFC 7009). Durable state is in its [Storage]; codes and
// pending consent pages are in memory.
//
// A Server is an http.Handler; it is safe for concurrent use and owns no
// goroutines.
type Server struct {
	issuer     string
	issuerPath string
	opts       Options
	signer     jose.Signer
	alg        jose.SignatureAlgorithm
	pub        jose.JSONWebKey
	jwksDoc    []byte
	metaDoc    []byte
	resources  []string
	mux        *http.ServeMux
	cimd       *cimdFetcher
	log        *slog.Logger
	now        func() time.Time

	store  Storage
	static map[string]*clientRecord // Options.Clients, by id
	limits struct{ register, authorize, token, introspect, revoke *limiter }

	// mu guards codes, pending consents and the sweep time, and
	// serializes the read-modify-write sequences on the Storage (code
	// redemption, refresh rotation, revocation).
	mu              sync.Mutex
	pending         map[string]*pendingAuth
	pendingByClient map[string]int      // client id → pending pages
	pendingByAddr   map[string][]string // address → pending page ids, oldest first
	codes           map[[32]byte]*authCode
	lastSweep       time.Time

	idjag, workload map[string]*assertionVerifier // by issuer
	exchange        map[string]*assertionVerifier
	assertionReplay *auth.ReplayCache
	dpopReplay      *auth.ReplayCache
	dpopNonces      *auth.NonceSource
}

// New returns a Server for opts.
func New(opts Options) (*Server, error) {
	iss, err := url.Parse(opts.Issuer)
	if err != nil || iss.Host == "" || iss.RawQuery != "" || iss.ForceQuery || iss.Fragment != "" || iss.User != nil ||
		!(iss.Scheme == "https" || (iss.Scheme == "http" && auth.IsLoopbackHost(iss.Hostname()))) {
		return nil, fmt.Errorf("authserver: Issuer %q must be an https URL (http only on loopback) without query or fragment", opts.Issuer)
	}
	s := &Server{
		issuer:          strings.TrimSuffix(opts.Issuer, "/"),
		issuerPath:      strings.TrimSuffix(iss.EscapedPath(), "/"),
		opts:            opts,
		log:             opts.Logger,
		now:             opts.Now,
		store:           opts.Storage,
		static:          make(map[string]*clientRecord),
		pending:         make(map[string]*pendingAuth),
		pendingByClient: make(map[string]int),
		pendingByAddr:   make(map[string][]string),
		codes:           make(map[[32]byte]*authCode),
	}
	if s.store == nil {
		s.store = NewMemoryStorage()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	o := &s.opts
	o.AccessTokenTTL = durOr(o.AccessTokenTTL, DefaultAccessTokenTTL)
	o.RefreshTokenTTL = durOr(o.RefreshTokenTTL, DefaultRefreshTokenTTL)
	o.CodeTTL = durOr(o.CodeTTL, DefaultCodeTTL)
	o.ConsentTTL = durOr(o.ConsentTTL, DefaultConsentTTL)
	o.UnusedClientTTL = durOr(o.UnusedClientTTL, DefaultUnusedClientTTL)
	if o.MaxClients <= 0 {
		o.MaxClients = 10000
	}
	o.MaxPendingConsents = intOr(o.MaxPendingConsents, DefaultMaxPendingConsents)
	o.MaxPendingPerClient = intOr(o.MaxPendingPerClient, DefaultMaxPendingPerClient)
	o.MaxPendingPerAddress = intOr(o.MaxPendingPerAddress, DefaultMaxPendingPerAddress)
	if rl := o.RateLimits; !rl.Disable {
		d := DefaultRateLimits
		n := intOr(rl.MaxAddresses, d.MaxAddresses)
		s.limits.register = newLimiter(rl.Register.orDefault(d.Register), n)
		s.limits.authorize = newLimiter(rl.Authorize.orDefault(d.Authorize), n)
		s.limits.token = newLimiter(rl.Token.orDefault(d.Token), n)
		s.limits.introspect = newLimiter(rl.Introspect.orDefault(d.Introspect), n)
		s.limits.revoke = newLimiter(rl.Revoke.orDefault(d.Revoke), n)
	}
	for _, r := range o.Resources {
		c, err := auth.CanonicalResource(r)
		if err != nil {
			return nil, fmt.Errorf("authserver: Resources: %w", err)
		}
		s.resources = append(s.resources, c)
	}
	for _, sc := range o.ScopesSupported {
		if !auth.ValidScopeToken(sc) {
			return nil, fmt.Errorf("authserver: invalid scope %q", sc)
		}
	}
	if err := s.initKeys(); err != nil {
		return nil, err
	}
	for _, c := range o.Clients {
		rec, err := newPreregistered(c)
		if err != nil {
			return nil, fmt.Errorf("authserver: client %q: %w", c.ID, err)
		}
		if _, dup := s.static[rec.id]; dup {
			return nil, fmt.Errorf("authserver: client %q registered twice", c.ID)
		}
		s.static[rec.id] = rec
	}
	if !o.CIMD.Disable {
		s.cimd = newCIMDFetcher(o.CIMD, s.now)
	}
	if err := s.initAssertions(); err != nil {
		return nil, err
	}
	if o.DPoP {
		s.dpopReplay = auth.NewReplayCache(0)
		if o.DPoPNonce {
			s.dpopNonces = auth.NewNonceSource(0)
		}
	}
	s.metaDoc, err = json.Marshal(s.Metadata())
	if err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

func intOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func durOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Issuer returns the issuer identifier.
func (s *Server) Issuer() string { return s.issuer }

// endpoint returns the absolute URL of an endpoint path.
func (s *Server) endpoint(p string) string { return s.issuer + p }

// Metadata describes the server (RFC 8414 section 2).
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	ClientIDMetadataDocumentSupported          bool     `json:"client_id_metadata_document_supported"`
	AuthorizationResponseISSParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	// MCPBindingKindsSupported lists the grant binding kinds accepted in
	// the mcp_binding authorization request parameter (a Switchboard
	// extension; see the package documentation).
	MCPBindingKindsSupported []string `json:"mcp_binding_kinds_supported"`
	// AuthorizationGrantProfilesSupported lists the authorization grant
	// profiles accepted with the jwt-bearer grant (ID-JAG).
	AuthorizationGrantProfilesSupported []string `json:"authorization_grant_profiles_supported,omitempty"`
	// DPoPSigningAlgValuesSupported lists the JWS algorithms accepted in
	// DPoP proofs (RFC 9449 section 5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
}

// Metadata returns the server's metadata document.
func (s *Server) Metadata() Metadata {
	m := Metadata{
		Issuer:                                     s.issuer,
		AuthorizationEndpoint:                      s.endpoint(PathAuthorize),
		TokenEndpoint:                              s.endpoint(PathToken),
		JWKSURI:                                    s.endpoint(PathJWKS),
		ScopesSupported:                            slices.Clone(s.opts.ScopesSupported),
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{"authorization_code", "refresh_token", "client_credentials"},
		TokenEndpointAuthMethodsSupported:          []string{"none", "client_secret_basic", "client_secret_post"},
		RevocationEndpoint:                         s.endpoint(PathRevoke),
		RevocationEndpointAuthMethodsSupported:     []string{"none", "client_secret_basic", "client_secret_post"},
		IntrospectionEndpoint:                      s.endpoint(PathIntrospect),
		IntrospectionEndpointAuthMethodsSupported:  []string{"client_secret_basic", "client_secret_post"},
		CodeChallengeMethodsSupported:              []string{"S256"},
		ClientIDMetadataDocumentSupported:          s.cimd != nil,
		AuthorizationResponseISSParameterSupported: true,
		MCPBindingKindsSupported:                   []string{"session", "task"},
	}
	if !s.opts.DisableRegistration {
		m.RegistrationEndpoint = s.endpoint(PathRegister)
	}
	if len(s.opts.IDJAGIssuers) > 0 || len(s.opts.WorkloadIssuers) > 0 {
		m.GrantTypesSupported = append(m.GrantTypesSupported, GrantJWTBearer)
	}
	if len(s.opts.TokenExchangeIssuers) > 0 {
		m.GrantTypesSupported = append(m.GrantTypesSupported, GrantTokenExchange)
	}
	if len(s.opts.IDJAGIssuers) > 0 {
		m.AuthorizationGrantProfilesSupported = []string{GrantProfileIDJAG}
	}
	if s.opts.DPoP {
		m.DPoPSigningAlgValuesSupported = slices.Clone(auth.DPoPAlgorithms)
	}
	return m
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	p := s.issuerPath
	doc := http.HandlerFunc(s.serveMetadata)
	mux.Handle(WellKnownOAuth+p, doc)
	mux.Handle(WellKnownOpenID+p, doc)
	if p != "" {
		mux.Handle(p+WellKnownOpenID, doc)
		mux.Handle(p+WellKnownOAuth, doc)
	}
	mux.HandleFunc(p+PathJWKS, s.serveJWKS)
	mux.Handle(p+PathAuthorize, s.limit(s.limits.authorize, true, s.serveAuthorize))
	mux.Handle(p+PathToken, s.limit(s.limits.token, false, s.serveToken))
	if !s.opts.DisableRegistration {
		mux.Handle(p+PathRegister, s.limit(s.limits.register, false, s.serveRegister))
	}
	mux.Handle(p+PathIntrospect, s.limit(s.limits.introspect, false, s.serveIntrospect))
	mux.Handle(p+PathRevoke, s.limit(s.limits.revoke, false, s.serveRevoke))
	s.mux = mux
}

// ServeHTTP serves the server's endpoints and metadata. Mount it at "/"
// of the issuer's host (or at the issuer's path and the well-known paths).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := httpsec.CheckHostOrigin(r, s.opts.AllowedHosts, []string{"*"}); err != nil {
		http.Error(w, "forbidden host", http.StatusForbidden)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	if !publicGET(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.metaDoc)
}

func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if !publicGET(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.jwksDoc)
}

// publicGET handles CORS and method checks of public documents; it
// returns false when the response is complete.
func publicGET(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
	return false
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashOf(s string) [32]byte { return sha256.Sum256([]byte(s)) }
