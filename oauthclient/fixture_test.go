package oauthclient

// Test fixture: a minimal, spec-following OAuth 2.1 authorization server
// (RFC 8414 metadata, RFC 7591 registration, authorization code with PKCE,
// refresh with rotation, client credentials, JWT bearer, RFC 8707
// resource, RFC 9207 iss, Client ID Metadata Documents fetched over TLS)
// and an MCP-like protected resource (RFC 9728 metadata, RFC 6750
// challenges, 403 insufficient_scope). It runs on httptest loopback
// servers. It is deliberately strict so that the client's requests are
// checked on the wire.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type asClient struct {
	id, secret string
	method     string
	redirects  []string
	key        crypto.PublicKey // private_key_jwt
}

type grantRec struct {
	clientID, redirect, challenge, resource string
	scopes                                  []string
	expiry                                  time.Time
	used                                    bool
}

type tokenReq struct {
	form   url.Values
	authz  string
	method string // client authentication method the request used
}

// testAS is the authorization server fixture.
type testAS struct {
	t   *testing.T
	srv *httptest.Server

	// Configuration (set before use).
	issuerPath    string // "" or e.g. "/tenant1"
	metaVariant   string // "oauth" (default), "oidc-insert", "oidc-append", "none"
	authMethods   []string
	dcr           bool
	cimd          bool
	cimdClient    *http.Client // fetches CIMD documents (trusts the test TLS server)
	issSupported  bool         // advertise authorization_response_iss_parameter_supported
	issInResponse string       // "" none, "correct", or a literal value to send
	refresh       bool         // issue refresh tokens
	ttl           time.Duration
	scopes        []string // scopes_supported in metadata
	grantTypes    []string
	mod           func(*AuthServerMetadata)
	idjagKey      *ecdsa.PublicKey // verifies jwt-bearer assertions
	withhold      []string         // scopes the person never grants
	now           func() time.Time

	mu            sync.Mutex
	clients       map[string]*asClient
	codes         map[string]*grantRec
	access        map[string]*grantRec
	refreshTokens map[string]*grantRec
	metaFetches   []string
	authReqs      []url.Values
	tokenReqs     []tokenReq
	regs          []map[string]any
	seq           int
}

func newTestAS(t *testing.T) *testAS {
	a := &testAS{
		t:             t,
		metaVariant:   "oauth",
		authMethods:   []string{"none", "client_secret_basic", "client_secret_post"},
		dcr:           true,
		ttl:           time.Hour,
		now:           time.Now,
		clients:       map[string]*asClient{},
		codes:         map[string]*grantRec{},
		access:        map[string]*grantRec{},
		refreshTokens: map[string]*grantRec{},
		grantTypes:    []string{"authorization_code", "refresh_token", "client_credentials", GrantJWTBearer},
	}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *testAS) issuer() string { return a.srv.URL + a.issuerPath }

func (a *testAS) metadataPath() string {
	switch a.metaVariant {
	case "oidc-insert":
		return "/.well-known/openid-configuration" + a.issuerPath
	case "oidc-append":
		return a.issuerPath + "/.well-known/openid-configuration"
	case "none":
		return ""
	}
	return "/.well-known/oauth-authorization-server" + a.issuerPath
}

func (a *testAS) metadata() *AuthServerMetadata {
	iss := a.issuer()
	md := &AuthServerMetadata{
		Issuer:                                     iss,
		AuthorizationEndpoint:                      iss + "/authorize",
		TokenEndpoint:                              iss + "/token",
		ResponseTypesSupported:                     []string{"code"},
		GrantTypesSupported:                        a.grantTypes,
		CodeChallengeMethodsSupported:              []string{"S256"},
		TokenEndpointAuthMethodsSupported:          a.authMethods,
		ScopesSupported:                            a.scopes,
		ClientIDMetadataDocumentSupported:          a.cimd,
		AuthorizationResponseIssParameterSupported: a.issSupported,
	}
	if a.dcr {
		md.RegistrationEndpoint = iss + "/register"
	}
	if a.mod != nil {
		a.mod(md)
	}
	return md
}

func (a *testAS) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		a.t.Errorf("authorization server received a bearer token on %s", r.URL.Path)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/.well-known/") {
		a.metaFetches = append(a.metaFetches, r.URL.Path)
	}
	switch {
	case r.Method == http.MethodGet && a.metadataPath() != "" && r.URL.Path == a.metadataPath():
		writeJSON(w, http.StatusOK, a.metadata())
	case r.Method == http.MethodGet && r.URL.Path == a.issuerPath+"/authorize":
		a.authorize(w, r)
	case r.Method == http.MethodPost && r.URL.Path == a.issuerPath+"/token":
		a.token(w, r)
	case r.Method == http.MethodPost && r.URL.Path == a.issuerPath+"/register" && a.dcr:
		a.register(w, r)
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func oauthErr(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (a *testAS) newID(prefix string) string {
	a.seq++
	return fmt.Sprintf("%s-%d-%s", prefix, a.seq, mustRandom(a.t))
}

func mustRandom(t *testing.T) string {
	s, err := randomString(12)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// client returns the client with id, resolving CIMD URLs by fetching the
// document.
func (a *testAS) client(id string) *asClient {
	if c := a.clients[id]; c != nil {
		return c
	}
	if !a.cimd || !strings.HasPrefix(id, "https://") || a.cimdClient == nil {
		return nil
	}
	resp, err := a.cimdClient.Get(id)
	if err != nil {
		a.t.Errorf("fetching client metadata document: %v", err)
		return nil
	}
	defer resp.Body.Close()
	var md ClientMetadata
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&md) != nil {
		return nil
	}
	if md.ClientID != id || md.ClientName == "" || len(md.RedirectURIs) == 0 {
		a.t.Errorf("bad client metadata document %+v", md)
		return nil
	}
	return &asClient{id: id, method: md.TokenEndpointAuthMethod, redirects: md.RedirectURIs}
}

func (a *testAS) register(w http.ResponseWriter, r *http.Request) {
	var raw map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&raw); err != nil {
		oauthErr(w, 400, "invalid_client_metadata", "bad JSON")
		return
	}
	a.regs = append(a.regs, raw)
	var md ClientMetadata
	b, _ := json.Marshal(raw)
	json.Unmarshal(b, &md)
	if len(md.RedirectURIs) == 0 {
		oauthErr(w, 400, "invalid_redirect_uri", "redirect_uris required")
		return
	}
	method := md.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_basic"
	}
	if !slices.Contains(a.authMethods, method) {
		oauthErr(w, 400, "invalid_client_metadata", "unsupported token_endpoint_auth_method")
		return
	}
	c := &asClient{id: a.newID("client"), method: method, redirects: md.RedirectURIs}
	if method != "none" {
		c.secret = a.newID("secret")
	}
	a.clients[c.id] = c
	resp := map[string]any{
		"client_id":                  c.id,
		"client_id_issued_at":        a.now().Unix(),
		"redirect_uris":              c.redirects,
		"token_endpoint_auth_method": c.method,
		"grant_types":                md.GrantTypes,
	}
	if c.secret != "" {
		resp["client_secret"] = c.secret
		resp["client_secret_expires_at"] = 0
	}
	writeJSON(w, http.StatusCreated, resp)
}

func (a *testAS) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.authReqs = append(a.authReqs, q)
	c := a.client(q.Get("client_id"))
	if c == nil {
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	if !slices.Contains(c.redirects, redirect) {
		http.Error(w, "redirect_uri not registered", http.StatusBadRequest)
		return
	}
	ru, _ := url.Parse(redirect)
	rq := ru.Query()
	if q.Get("state") != "" {
		rq.Set("state", q.Get("state"))
	}
	switch a.issInResponse {
	case "":
	case "correct":
		rq.Set("iss", a.issuer())
	default:
		rq.Set("iss", a.issInResponse)
	}
	switch {
	case q.Get("response_type") != "code":
		rq.Set("error", "unsupported_response_type")
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		rq.Set("error", "invalid_request")
		rq.Set("error_description", "PKCE S256 required")
	case q.Get("resource") == "":
		rq.Set("error", "invalid_target")
	default:
		code := a.newID("code")
		a.codes[code] = &grantRec{
			clientID: c.id, redirect: redirect, challenge: q.Get("code_challenge"),
			resource: q.Get("resource"),
			scopes: slices.DeleteFunc(strings.Fields(q.Get("scope")), func(s string) bool {
				return slices.Contains(a.withhold, s)
			}),
		}
		rq.Set("code", code)
	}
	ru.RawQuery = rq.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// authenticate checks the client authentication of a token request and
// returns the client and the method used.
func (a *testAS) authenticate(r *http.Request) (*asClient, string, error) {
	var id, secret, method string
	if u, p, ok := r.BasicAuth(); ok {
		var err1, err2 error
		id, err1 = url.QueryUnescape(u)
		secret, err2 = url.QueryUnescape(p)
		if err1 != nil || err2 != nil {
			return nil, "", errors.New("bad basic encoding")
		}
		method = "client_secret_basic"
		if f := r.PostForm.Get("client_id"); f != "" && f != id {
			return nil, "", errors.New("client_id mismatch")
		}
	} else if r.PostForm.Get("client_assertion_type") != "" {
		method = "private_key_jwt"
		id = r.PostForm.Get("client_id")
	} else if r.PostForm.Has("client_secret") {
		method = "client_secret_post"
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else {
		method = "none"
		id = r.PostForm.Get("client_id")
	}
	if !slices.Contains(a.authMethods, method) {
		return nil, method, fmt.Errorf("method %s not supported", method)
	}
	c := a.client(id)
	if c == nil {
		return nil, method, errors.New("unknown client")
	}
	if c.method != "" && c.method != method {
		return nil, method, fmt.Errorf("client registered for %s used %s", c.method, method)
	}
	switch method {
	case "client_secret_basic", "client_secret_post":
		if c.secret == "" || secret != c.secret {
			return nil, method, errors.New("bad secret")
		}
	case "private_key_jwt":
		if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return nil, method, errors.New("bad assertion type")
		}
		claims, err := verifyJWT(r.PostForm.Get("client_assertion"), c.key, "")
		if err != nil {
			return nil, method, err
		}
		if claims["iss"] != c.id || claims["sub"] != c.id || claims["aud"] != a.issuer() {
			return nil, method, fmt.Errorf("bad assertion claims %v", claims)
		}
	}
	return c, method, nil
}

func (a *testAS) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthErr(w, 400, "invalid_request", "bad form")
		return
	}
	if r.URL.RawQuery != "" {
		a.t.Errorf("token request carries a query string")
	}
	c, method, err := a.authenticate(r)
	a.tokenReqs = append(a.tokenReqs, tokenReq{form: r.PostForm, authz: r.Header.Get("Authorization"), method: method})
	if err != nil {
		oauthErr(w, 401, "invalid_client", err.Error())
		return
	}
	f := r.PostForm
	var g *grantRec
	switch f.Get("grant_type") {
	case "authorization_code":
		cg := a.codes[f.Get("code")]
		switch {
		case cg == nil || cg.used:
			oauthErr(w, 400, "invalid_grant", "bad code")
			return
		case cg.clientID != c.id || cg.redirect != f.Get("redirect_uri"):
			oauthErr(w, 400, "invalid_grant", "client or redirect mismatch")
			return
		case s256(f.Get("code_verifier")) != cg.challenge:
			oauthErr(w, 400, "invalid_grant", "PKCE verification failed")
			return
		case f.Get("resource") != cg.resource:
			oauthErr(w, 400, "invalid_target", "resource differs from the authorization request")
			return
		}
		cg.used = true
		g = &grantRec{clientID: c.id, resource: cg.resource, scopes: cg.scopes}
	case "refresh_token":
		rg := a.refreshTokens[f.Get("refresh_token")]
		if rg == nil || rg.clientID != c.id {
			oauthErr(w, 400, "invalid_grant", "bad refresh token")
			return
		}
		delete(a.refreshTokens, f.Get("refresh_token")) // rotation
		if f.Get("resource") != rg.resource {
			oauthErr(w, 400, "invalid_target", "resource mismatch")
			return
		}
		g = &grantRec{clientID: c.id, resource: rg.resource, scopes: rg.scopes}
	case "client_credentials":
		g = &grantRec{clientID: c.id, resource: f.Get("resource"), scopes: strings.Fields(f.Get("scope"))}
	case GrantJWTBearer:
		claims, err := verifyJWT(f.Get("assertion"), a.idjagKey, "oauth-id-jag+jwt")
		if err != nil || claims["aud"] != a.issuer() || claims["client_id"] != c.id {
			oauthErr(w, 400, "invalid_grant", fmt.Sprintf("bad assertion: %v %v", err, claims))
			return
		}
		res, _ := claims["resource"].(string)
		g = &grantRec{clientID: c.id, resource: res, scopes: strings.Fields(f.Get("scope"))}
	default:
		oauthErr(w, 400, "unsupported_grant_type", f.Get("grant_type"))
		return
	}
	access := a.newID("at")
	g.expiry = a.now().Add(a.ttl)
	a.access[access] = g
	resp := map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   int(a.ttl / time.Second),
		"scope":        strings.Join(g.scopes, " "),
	}
	if a.refresh && f.Get("grant_type") != "client_credentials" {
		rt := a.newID("rt")
		a.refreshTokens[rt] = &grantRec{clientID: c.id, resource: g.resource, scopes: g.scopes}
		resp["refresh_token"] = rt
	}
	writeJSON(w, http.StatusOK, resp)
}

// lookup returns the grant of an access token (for the resource server).
func (a *testAS) lookup(token string) *grantRec {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.access[token]
	if g == nil || !a.now().Before(g.expiry) {
		return nil
	}
	c := *g
	return &c
}

func (a *testAS) revokeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.access)
}

func (a *testAS) counts() (meta, auth, token, reg int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.metaFetches), len(a.authReqs), len(a.tokenReqs), len(a.regs)
}

func (a *testAS) lastAuth() url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.authReqs) == 0 {
		return nil
	}
	return a.authReqs[len(a.authReqs)-1]
}

func (a *testAS) tokenRequests() []tokenReq {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.tokenReqs)
}

// verifyJWT checks an ES256 compact JWS with key (and typ, if given) and
// returns its claims; it rejects expired tokens.
func verifyJWT(tok string, key crypto.PublicKey, typ string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWS")
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	var h map[string]string
	var claims map[string]any
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &claims) != nil {
		return nil, errors.New("bad JSON")
	}
	if typ != "" && h["typ"] != typ {
		return nil, fmt.Errorf("typ %q", h["typ"])
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || h["alg"] != "ES256" || len(sig) != 64 {
		return nil, fmt.Errorf("unsupported alg %s", h["alg"])
	}
	d := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, errors.New("bad signature")
	}
	if exp, ok := claims["exp"].(float64); ok && time.Now().Unix() > int64(exp) {
		return nil, errors.New("expired")
	}
	return claims, nil
}

// testRS is the protected MCP server fixture: POST /mcp echoes the body
// to requests with a valid token.
type testRS struct {
	t   *testing.T
	srv *httptest.Server
	as  *testAS

	prmMode         string // "header" (default), "path", "root", "custom", "none"
	prmResource     string // override the resource in the metadata
	asURLs          []string
	scopesSupported []string
	challengeScope  []string
	// required returns the scopes a request needs (nil: any valid token).
	required func(body string) []string
	// openMethods lists JSON-RPC methods allowed without a token.
	openMethods []string

	mu          sync.Mutex
	authHeaders []string
	bodies      []string
	prmFetches  []string
}

func newTestRS(t *testing.T, as *testAS) *testRS {
	s := &testRS{t: t, as: as, prmMode: "header"}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *testRS) mcpURL() string { return s.srv.URL + "/mcp" }

func (s *testRS) prmPath() string {
	switch s.prmMode {
	case "root":
		return "/.well-known/oauth-protected-resource"
	case "custom":
		return "/custom/metadata/location.json"
	case "none":
		return ""
	}
	return "/.well-known/oauth-protected-resource/mcp"
}

func (s *testRS) resource() string {
	switch {
	case s.prmResource != "":
		return s.prmResource
	case s.prmMode == "root":
		return s.srv.URL
	}
	return s.mcpURL()
}

func (s *testRS) challenge(extra string) string {
	var parts []string
	if extra != "" {
		parts = append(parts, extra)
	}
	if s.prmMode == "header" || s.prmMode == "custom" {
		parts = append(parts, fmt.Sprintf(`resource_metadata="%s%s"`, s.srv.URL, s.prmPath()))
	}
	return "Bearer " + strings.Join(parts, ", ")
}

func (s *testRS) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if strings.HasPrefix(r.URL.Path, "/.well-known/") || strings.HasPrefix(r.URL.Path, "/custom/") {
		s.prmFetches = append(s.prmFetches, r.URL.Path)
	}
	as, servers := s.as, s.asURLs
	s.mu.Unlock()
	if p := s.prmPath(); p != "" && r.Method == http.MethodGet && r.URL.Path == p {
		if servers == nil {
			servers = []string{as.issuer()}
		}
		writeJSON(w, 200, ProtectedResourceMetadata{Resource: s.resource(), AuthorizationServers: servers, ScopesSupported: s.scopesSupported})
		return
	}
	if r.URL.Path != "/mcp" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	authz := r.Header.Get("Authorization")
	s.mu.Lock()
	s.authHeaders = append(s.authHeaders, authz)
	s.bodies = append(s.bodies, string(body))
	s.mu.Unlock()
	if r.URL.Query().Get("token") != "" || r.URL.Query().Get("access_token") != "" {
		s.t.Errorf("token in the query string")
	}
	var msg struct {
		Method string `json:"method"`
	}
	json.Unmarshal(body, &msg)
	if slices.Contains(s.openMethods, msg.Method) {
		w.Write(body)
		return
	}
	tok, ok := strings.CutPrefix(authz, "Bearer ")
	var g *grantRec
	if ok {
		g = as.lookup(tok)
	}
	if g == nil || g.resource != s.resource() {
		extra := ""
		if ok {
			extra = `error="invalid_token"`
		}
		if len(s.challengeScope) > 0 {
			if extra != "" {
				extra += ", "
			}
			extra += fmt.Sprintf(`scope="%s"`, strings.Join(s.challengeScope, " "))
		}
		w.Header().Set("WWW-Authenticate", s.challenge(extra))
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	if s.required != nil {
		need := s.required(string(body))
		for _, sc := range need {
			if !slices.Contains(g.scopes, sc) {
				w.Header().Set("WWW-Authenticate", s.challenge(fmt.Sprintf(`error="insufficient_scope", scope="%s", error_description="needs more"`, strings.Join(need, " "))))
				http.Error(w, `{"error":"insufficient_scope"}`, http.StatusForbidden)
				return
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (s *testRS) headers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.authHeaders)
}

func (s *testRS) fetches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.prmFetches)
}

// testCtx bounds a test in time.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// call POSTs a JSON-RPC-looking body through c and returns status and
// body. The body has no GetBody, so the Transport must buffer it.
func call(t *testing.T, ctx context.Context, c *http.Client, u, method string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q}`, method)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, io.NopCloser(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && string(b) != body {
		t.Fatalf("%s: echoed body %q, want %q", method, b, body)
	}
	return resp.StatusCode, string(b)
}

// callErr is call for requests expected to fail in the Transport.
func callErr(ctx context.Context, c *http.Client, u, method string) error {
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q}`, method)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return fmt.Errorf("unexpected HTTP %d", resp.StatusCode)
}

const testRedirect = "http://127.0.0.1:1/callback"

// baseConfig is a Config for the fixture with the headless authorizer.
func baseConfig(rs *testRS) *Config {
	return &Config{
		ServerURL:   rs.mcpURL(),
		RedirectURL: testRedirect,
		Authorize:   HeadlessAuthorize(nil),
	}
}
