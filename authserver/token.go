package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/switchboard-mcp/switchboard/auth"
)

// maxFormBody bounds token, introspection and revocation request bodies.
const maxFormBody = 64 << 10

// ParseForm parses an application/x-www-form-urlencoded request body
// (RFC 6749 appendix B). A parameter given more than once is an error
// (RFC 6749 section 3.2), as is a malformed encoding; empty values count
// as absent.
func ParseForm(body []byte) (map[string]string, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("malformed form encoding")
	}
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) > 1 {
			return nil, fmt.Errorf("parameter %s given more than once", k)
		}
		if v[0] != "" {
			out[k] = v[0]
		}
	}
	return out, nil
}

// tokenError is an RFC 6749 section 5.2 error response.
type tokenError struct {
	status     int
	code, desc string
	basicRealm bool // add WWW-Authenticate: Basic (client tried Basic auth)
}

func (e *tokenError) Error() string { return e.code + ": " + e.desc }

func tokErr(code, format string, args ...any) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: code, desc: fmt.Sprintf(format, args...)}
}

func writeTokenError(w http.ResponseWriter, e *tokenError) {
	if e.basicRealm {
		w.Header().Set("WWW-Authenticate", `Basic realm="switchboard"`)
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSONError(w, e.status, e.code, e.desc)
}

// readForm reads and parses a POSTed form.
func readForm(w http.ResponseWriter, r *http.Request) (map[string]string, *tokenError) {
	if !isMediaType(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil, tokErr("invalid_request", "the request must be application/x-www-form-urlencoded")
	}
	if r.URL.RawQuery != "" {
		return nil, tokErr("invalid_request", "parameters must be sent in the body, not the query")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBody))
	if err != nil {
		return nil, tokErr("invalid_request", "request body too large or unreadable")
	}
	form, err := ParseForm(body)
	if err != nil {
		return nil, tokErr("invalid_request", "%v", err)
	}
	return form, nil
}

// authenticateClient identifies and authenticates the client of a token
// endpoint request (RFC 6749 section 2.3): HTTP Basic, client_secret in the
// body, or client_id alone for public clients.
func (s *Server) authenticateClient(r *http.Request, form map[string]string) (*clientRecord, *tokenError) {
	id, secret, basic := r.BasicAuth()
	method := "none"
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, &tokenError{http.StatusUnauthorized, "invalid_client", "malformed Basic credentials", true}
		}
		if _, ok := form["client_secret"]; ok {
			return nil, tokErr("invalid_request", "use one client authentication method")
		}
		if fid, ok := form["client_id"]; ok && fid != id {
			return nil, &tokenError{http.StatusUnauthorized, "invalid_client", "client_id does not match the credentials", true}
		}
		method = "client_secret_basic"
	} else if r.Header.Get("Authorization") != "" {
		return nil, tokErr("invalid_request", "unsupported Authorization scheme")
	} else {
		id, secret = form["client_id"], form["client_secret"]
		if secret != "" {
			method = "client_secret_post"
		}
	}
	fail := &tokenError{http.StatusUnauthorized, "invalid_client", "client authentication failed", basic}
	if id == "" {
		return nil, tokErr("invalid_request", "client_id is required")
	}
	c, err := s.clientForToken(r, id)
	if err != nil {
		return nil, fail
	}
	if c.authMethod != method {
		return nil, fail
	}
	if c.confidential && !c.checkSecret(secret) {
		return nil, fail
	}
	return c, nil
}

// clientForToken finds a client at the token endpoint. A URL client id is
// described by its metadata document, whose grant types apply here as at
// the authorization endpoint.
func (s *Server) clientForToken(r *http.Request, id string) (*clientRecord, error) {
	if isURLClientID(id) {
		if s.cimd == nil {
			return nil, errors.New("client ID metadata documents are not accepted")
		}
		// The document (cached since the authorization request, or
		// fetched again) decides the grants the client may use.
		return s.cimd.get(r.Context(), id)
	}
	return s.lookupClient(r, id)
}

// TokenResponse is a successful token response (RFC 6749 section 5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// grant is a chain of tokens issued from one authorization: an
// authorization code, its refresh tokens, or a client_credentials request.
type grant struct {
	id        string
	clientID  string
	subject   string
	grantType string // auth.GrantAuthorizationCode or auth.GrantClientCredentials
	scopes    []string
	resource  string
	binding   string
	revoked   bool
	refresh   [32]byte // digest of the current refresh token
	hasRT     bool
	expires   time.Time // of the current refresh token, or of the last access token
}

type refreshEntry struct {
	grantID string
	expires time.Time
}

type accessEntry struct {
	grantID string
	expires time.Time
	revoked bool
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if !corsPOST(w, r) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	form, te := readForm(w, r)
	if te != nil {
		writeTokenError(w, te)
		return
	}
	client, te := s.authenticateClient(r, form)
	if te != nil {
		writeTokenError(w, te)
		return
	}
	var resp *TokenResponse
	switch gt := form["grant_type"]; gt {
	case "authorization_code":
		resp, te = s.exchangeCode(client, form)
	case "refresh_token":
		resp, te = s.refreshGrant(client, form)
	case "client_credentials":
		resp, te = s.clientCredentials(client, form)
	case "":
		te = tokErr("invalid_request", "grant_type is required")
	default:
		te = tokErr("unsupported_grant_type", "grant_type %q is not supported", gt)
	}
	if te != nil {
		s.log.Info("authserver: token request refused", "client_id", client.id, "grant_type", form["grant_type"], "error", te.code, "reason", te.desc)
		writeTokenError(w, te)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) exchangeCode(c *clientRecord, form map[string]string) (*TokenResponse, *tokenError) {
	if !c.allowsGrant("authorization_code") {
		return nil, tokErr("unauthorized_client", "the client may not use this grant")
	}
	code := form["code"]
	if code == "" {
		return nil, tokErr("invalid_request", "code is required")
	}
	verifier := form["code_verifier"]
	if verifier == "" {
		return nil, tokErr("invalid_request", "code_verifier is required (PKCE)")
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.codes[hashOf(code)]
	switch {
	case ac == nil || !now.Before(ac.expires):
		return nil, tokErr("invalid_grant", "the authorization code is invalid or expired")
	case ac.used:
		// A code used twice was probably stolen: revoke what it gave.
		if g := s.grants[ac.grantID]; g != nil {
			s.revokeGrantLocked(g)
		}
		return nil, tokErr("invalid_grant", "the authorization code was already used")
	case ac.req.client.id != c.id:
		return nil, tokErr("invalid_grant", "the authorization code was issued to another client")
	}
	if ru, ok := form["redirect_uri"]; (ok || ac.req.redirectGiven) && ru != ac.req.redirectURI {
		return nil, tokErr("invalid_grant", "redirect_uri does not match the authorization request")
	}
	if !validVerifier(verifier) {
		return nil, tokErr("invalid_grant", "malformed code_verifier")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(ac.req.challenge)) != 1 {
		return nil, tokErr("invalid_grant", "code_verifier does not match the code_challenge")
	}
	if res, ok := form["resource"]; ok {
		cr, err := auth.CanonicalResource(res)
		if err != nil || cr != ac.req.resource {
			return nil, tokErr("invalid_target", "resource does not match the authorization request")
		}
	}
	if ac.req.binding != "" {
		if _, revoked := s.bindings[ac.req.binding]; revoked {
			return nil, tokErr("invalid_grant", "the grant's binding has ended")
		}
	}
	ac.used = true
	g := &grant{
		id:        randomToken(12),
		clientID:  c.id,
		subject:   ac.subject,
		grantType: auth.GrantAuthorizationCode,
		scopes:    ac.req.scopes,
		resource:  ac.req.resource,
		binding:   ac.req.binding,
	}
	ac.grantID = g.id
	s.grants[g.id] = g
	withRefresh := c.allowsGrant("refresh_token") && g.binding == ""
	return s.issueLocked(g, g.scopes, withRefresh, now)
}

func (s *Server) refreshGrant(c *clientRecord, form map[string]string) (*TokenResponse, *tokenError) {
	if !c.allowsGrant("refresh_token") {
		return nil, tokErr("unauthorized_client", "the client may not use this grant")
	}
	rt := form["refresh_token"]
	if rt == "" {
		return nil, tokErr("invalid_request", "refresh_token is required")
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	h := hashOf(rt)
	e := s.refresh[h]
	if e == nil {
		return nil, tokErr("invalid_grant", "the refresh token is invalid")
	}
	g := s.grants[e.grantID]
	switch {
	case g == nil || g.revoked:
		return nil, tokErr("invalid_grant", "the refresh token was revoked")
	case g.clientID != c.id:
		return nil, tokErr("invalid_grant", "the refresh token was issued to another client")
	case !g.hasRT || g.refresh != h:
		// An old refresh token came back after rotation: either the
		// client or an attacker holds a stolen copy. Revoke the whole
		// family (OAuth 2.1 section 4.3.1).
		s.revokeGrantLocked(g)
		s.log.Warn("authserver: refresh token reuse; grant revoked", "client_id", g.clientID, "subject", g.subject)
		return nil, tokErr("invalid_grant", "the refresh token was already used; the grant is revoked")
	case !now.Before(e.expires):
		return nil, tokErr("invalid_grant", "the refresh token expired")
	case g.binding != "":
		return nil, tokErr("invalid_grant", "a grant bound to %s cannot be refreshed; authorize again", g.binding)
	}
	scopes := g.scopes
	if sc, ok := form["scope"]; ok {
		req, err := auth.ParseScope(sc)
		if err != nil {
			return nil, tokErr("invalid_scope", "%v", err)
		}
		for _, x := range req {
			if !slices.Contains(g.scopes, x) {
				return nil, tokErr("invalid_scope", "scope %q was not granted", x)
			}
		}
		scopes = req
	}
	if res, ok := form["resource"]; ok {
		cr, err := auth.CanonicalResource(res)
		if err != nil || cr != g.resource {
			return nil, tokErr("invalid_target", "the grant is for another resource")
		}
	}
	return s.issueLocked(g, scopes, true, now)
}

func (s *Server) clientCredentials(c *clientRecord, form map[string]string) (*TokenResponse, *tokenError) {
	// Only clients an administrator provisioned act on their own behalf;
	// registered and metadata document clients always need a person.
	if !c.confidential || c.kind != kindPreregistered || !c.allowsGrant("client_credentials") {
		return nil, tokErr("unauthorized_client", "the client may not use the client_credentials grant")
	}
	res := form["resource"]
	if res == "" {
		return nil, tokErr("invalid_target", "the resource parameter is required (RFC 8707)")
	}
	cr, err := s.checkResource(res)
	if err != nil {
		return nil, tokErr("invalid_target", "%v", err)
	}
	scopes, err := s.checkScopes(c, form["scope"])
	if err != nil {
		return nil, tokErr("invalid_scope", "%v", err)
	}
	if _, asked := form["scope"]; !asked && c.scopes != nil {
		// No scope asked for: everything the client is allowed (RFC 6749
		// section 3.3 lets the server choose a default).
		scopes = slices.Clone(c.scopes)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &grant{id: randomToken(12), clientID: c.id, subject: c.id, grantType: auth.GrantClientCredentials, scopes: scopes, resource: cr}
	s.grants[g.id] = g
	return s.issueLocked(g, scopes, false, now)
}

// accessClaims are the claims of an access token (RFC 9068).
type accessClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	Expiry   int64  `json:"exp"`
	IssuedAt int64  `json:"iat"`
	JTI      string `json:"jti"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty"`
	Binding  string `json:"mcp_binding,omitempty"`
	Grant    string `json:"mcp_grant"`
}

// issueLocked mints an access token (and a rotated refresh token) for g.
// s.mu must be held.
func (s *Server) issueLocked(g *grant, scopes []string, withRefresh bool, now time.Time) (*TokenResponse, *tokenError) {
	defer s.sweepLocked() // after g's expiry is set, so that g survives
	exp := now.Add(s.opts.AccessTokenTTL)
	claims := accessClaims{
		Issuer: s.issuer, Subject: g.subject, Audience: g.resource,
		Expiry: exp.Unix(), IssuedAt: now.Unix(), JTI: randomToken(16),
		ClientID: g.clientID, Scope: auth.FormatScope(scopes), Binding: g.binding,
		Grant: g.grantType,
	}
	at, err := jwt.Signed(s.signer).Claims(claims).Serialize()
	if err != nil {
		return nil, &tokenError{http.StatusInternalServerError, "server_error", "signing failed", false}
	}
	s.access[claims.JTI] = &accessEntry{grantID: g.id, expires: exp}
	resp := &TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.opts.AccessTokenTTL / time.Second), Scope: claims.Scope}
	if g.expires.Before(exp) {
		g.expires = exp
	}
	if withRefresh {
		rt := randomToken(32)
		h := hashOf(rt)
		rexp := now.Add(s.opts.RefreshTokenTTL)
		s.refresh[h] = &refreshEntry{grantID: g.id, expires: rexp}
		g.refresh, g.hasRT = h, true // earlier refresh tokens of g are now stale
		g.expires = rexp
		resp.RefreshToken = rt
	}
	return resp, nil
}

// revokeGrantLocked revokes g and every token issued from it.
func (s *Server) revokeGrantLocked(g *grant) {
	g.revoked = true
	g.hasRT = false
}

// RevokeBinding ends every grant bound to binding (an mcp_binding value
// such as "session:<id>"): their access tokens stop being accepted by
// [Server.Verifier] and the introspection endpoint, and later
// authorization requests naming the binding are refused. The MCP server
// calls it when the session or task ends. It reports how many grants were
// revoked.
func (s *Server) RevokeBinding(binding string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	if len(s.bindings) >= maxRevokedBindings {
		evictOne(s.bindings)
	}
	s.bindings[binding] = s.now()
	n := 0
	for _, g := range s.grants {
		if g.binding == binding && !g.revoked {
			s.revokeGrantLocked(g)
			n++
		}
	}
	for id, p := range s.pending {
		if p.req.binding == binding {
			delete(s.pending, id)
		}
	}
	for h, c := range s.codes {
		if c.req.binding == binding {
			delete(s.codes, h)
		}
	}
	return n
}

// RevokeSession is RevokeBinding("session:" + sessionID).
func (s *Server) RevokeSession(sessionID string) int { return s.RevokeBinding("session:" + sessionID) }

// maxRevokedBindings bounds remembered revoked bindings;
// revokedBindingTTL is how long each is remembered.
const (
	maxRevokedBindings = 100000
	revokedBindingTTL  = 24 * time.Hour
)

// sweepLocked drops expired state, at most once a minute. s.mu must be
// held.
func (s *Server) sweepLocked() {
	now := s.now()
	if now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for id, p := range s.pending {
		if !now.Before(p.expires) {
			delete(s.pending, id)
		}
	}
	for h, c := range s.codes {
		// Used codes are kept until expiry to detect replays.
		if !now.Before(c.expires) {
			delete(s.codes, h)
		}
	}
	for h, e := range s.refresh {
		if g := s.grants[e.grantID]; g == nil || !now.Before(e.expires) || g.revoked {
			delete(s.refresh, h)
		}
	}
	for jti, e := range s.access {
		if !now.Before(e.expires) {
			delete(s.access, jti)
		}
	}
	for id, g := range s.grants {
		if !now.Before(g.expires) && !g.hasRT {
			delete(s.grants, id)
		} else if g.revoked && !now.Before(g.expires.Add(s.opts.AccessTokenTTL)) {
			delete(s.grants, id)
		}
	}
	for b, at := range s.bindings {
		if now.Sub(at) > revokedBindingTTL {
			delete(s.bindings, b)
		}
	}
}

// tokenActive reports whether an access token with these claims is still
// live: not revoked, its grant not revoked, its binding not ended. Tokens
// this process does not know (issued before a restart with the same key)
// are judged by their binding only.
func (s *Server) tokenActive(jti, binding string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if binding != "" {
		if _, ended := s.bindings[binding]; ended {
			return false
		}
	}
	e := s.access[jti]
	if e == nil {
		return true
	}
	if e.revoked {
		return false
	}
	g := s.grants[e.grantID]
	return g != nil && !g.revoked
}

// String hides nothing secret but keeps tokens out of %v of a response.
func (t TokenResponse) String() string {
	return fmt.Sprintf("TokenResponse{type=%s expires_in=%d scope=%q refresh=%t}", t.TokenType, t.ExpiresIn, t.Scope, t.RefreshToken != "")
}
