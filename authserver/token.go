package authserver

import (
	"context"
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
	// IssuedTokenType is set for token exchange (RFC 8693).
	IssuedTokenType string `json:"issued_token_type,omitempty"`
}

// storageError is the token endpoint's answer when the Storage fails.
var storageError = &tokenError{http.StatusServiceUnavailable, "temporarily_unavailable", "the server cannot reach its storage; try again", false}

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
	var client *clientRecord
	if form["grant_type"] == GrantJWTBearer && !hasClientCredentials(r, form) {
		// Workload identity federation: the assertion is the only
		// credential.
	} else if client, te = s.authenticateClient(r, form); te != nil {
		writeTokenError(w, te)
		return
	}
	jkt, te := s.tokenDPoP(w, r)
	if te != nil {
		writeTokenError(w, te)
		return
	}
	ctx := withDPoPKey(r.Context(), jkt)
	var resp *TokenResponse
	switch gt := form["grant_type"]; gt {
	case GrantTokenExchange:
		if len(s.exchange) == 0 {
			te = tokErr("unsupported_grant_type", "grant_type %q is not supported", gt)
		} else {
			resp, te = s.exchangeGrant(ctx, client, form)
		}
	case GrantJWTBearer:
		if len(s.idjag) == 0 && len(s.workload) == 0 {
			te = tokErr("unsupported_grant_type", "grant_type %q is not supported", gt)
		} else {
			resp, te = s.assertionGrant(ctx, client, form)
		}
	case "authorization_code":
		resp, te = s.exchangeCode(ctx, client, form)
	case "refresh_token":
		resp, te = s.refreshGrant(ctx, client, form)
	case "client_credentials":
		resp, te = s.clientCredentials(ctx, client, form)
	case "":
		te = tokErr("invalid_request", "grant_type is required")
	default:
		te = tokErr("unsupported_grant_type", "grant_type %q is not supported", gt)
	}
	if te != nil {
		cid := ""
		if client != nil {
			cid = client.id
		}
		s.log.Info("authserver: token request refused", "client_id", cid, "grant_type", form["grant_type"], "error", te.code, "reason", te.desc)
		writeTokenError(w, te)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// storageFailed logs a Storage error and returns the token endpoint's
// answer to it.
func (s *Server) storageFailed(op string, err error) *tokenError {
	s.log.Error("authserver: storage failed", "op", op, "error", err.Error())
	return storageError
}

func (s *Server) exchangeCode(ctx context.Context, c *clientRecord, form map[string]string) (*TokenResponse, *tokenError) {
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
		if ac.grantID != "" {
			if err := s.revokeGrantLocked(ctx, ac.grantID); err != nil {
				return nil, s.storageFailed("revoke grant", err)
			}
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
		ended, err := s.store.BindingRevoked(ctx, ac.req.binding)
		if err != nil {
			return nil, s.storageFailed("binding", err)
		}
		if ended {
			return nil, tokErr("invalid_grant", "the grant's binding has ended")
		}
	}
	ac.used = true
	g := &StoredGrant{
		ID:        randomToken(12),
		ClientID:  c.id,
		Subject:   ac.subject,
		GrantType: auth.GrantAuthorizationCode,
		Scopes:    ac.req.scopes,
		Resource:  ac.req.resource,
		Binding:   ac.req.binding,
	}
	if ac.person != nil && len(ac.person.Claims) > 0 {
		g.Claims = mergeClaims(nil, ac.person.Claims)
	}
	ac.grantID = g.ID
	withRefresh := c.allowsGrant("refresh_token") && g.Binding == ""
	return s.issueLocked(ctx, c, g, g.Scopes, withRefresh, now)
}

func (s *Server) refreshGrant(ctx context.Context, c *clientRecord, form map[string]string) (*TokenResponse, *tokenError) {
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
	e, err := s.store.RefreshToken(ctx, h[:])
	if errors.Is(err, ErrNotFound) {
		return nil, tokErr("invalid_grant", "the refresh token is invalid")
	} else if err != nil {
		return nil, s.storageFailed("refresh token", err)
	}
	g, err := s.store.Grant(ctx, e.GrantID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, s.storageFailed("grant", err)
	}
	switch {
	case g == nil || g.Revoked:
		return nil, tokErr("invalid_grant", "the refresh token was revoked")
	case g.ClientID != c.id:
		return nil, tokErr("invalid_grant", "the refresh token was issued to another client")
	case g.RefreshHash == nil || subtle.ConstantTimeCompare(g.RefreshHash, h[:]) != 1:
		// An old refresh token came back after rotation: either the
		// client or an attacker holds a stolen copy. Revoke the whole
		// family (OAuth 2.1 section 4.3.1).
		if err := s.revokeGrantLocked(ctx, g.ID); err != nil {
			return nil, s.storageFailed("revoke grant", err)
		}
		s.log.Warn("authserver: refresh token reuse; grant revoked", "client_id", g.ClientID, "subject", g.Subject)
		return nil, tokErr("invalid_grant", "the refresh token was already used; the grant is revoked")
	case !now.Before(e.ExpiresAt):
		return nil, tokErr("invalid_grant", "the refresh token expired")
	case g.Binding != "":
		return nil, tokErr("invalid_grant", "a grant bound to %s cannot be refreshed; authorize again", g.Binding)
	}
	if bound := grantJKT(g); bound != "" && bound != dpopKeyFrom(ctx) {
		return nil, tokErr("invalid_grant", "the grant is bound to a DPoP key: refresh with a proof of that key")
	}
	if s.opts.Revalidate != nil && g.GrantType == auth.GrantAuthorizationCode {
		// The identity provider decides again: a person who lost access
		// there gets no new token here.
		claims, err := s.opts.Revalidate(ctx, g)
		if err != nil {
			if rerr := s.revokeGrantLocked(ctx, g.ID); rerr != nil {
				return nil, s.storageFailed("revoke grant", rerr)
			}
			s.log.Info("authserver: refresh refused by the identity provider; grant revoked", "client_id", g.ClientID, "subject", g.Subject, "reason", err.Error())
			return nil, tokErr("invalid_grant", "access was withdrawn: %v", err)
		}
		g.Claims = mergeClaims(g.Claims, claims)
	}
	scopes := g.Scopes
	if sc, ok := form["scope"]; ok {
		req, err := auth.ParseScope(sc)
		if err != nil {
			return nil, tokErr("invalid_scope", "%v", err)
		}
		for _, x := range req {
			if !slices.Contains(g.Scopes, x) {
				return nil, tokErr("invalid_scope", "scope %q was not granted", x)
			}
		}
		scopes = req
	}
	if res, ok := form["resource"]; ok {
		cr, err := auth.CanonicalResource(res)
		if err != nil || cr != g.Resource {
			return nil, tokErr("invalid_target", "the grant is for another resource")
		}
	}
	return s.issueLocked(ctx, c, g, scopes, true, now)
}

func (s *Server) clientCredentials(ctx context.Context, c *clientRecord, form map[string]string) (*TokenResponse, *tokenError) {
	// Only clients an administrator provisioned act on their own behalf;
	// registered and metadata document clients always need a person.
	if !c.confidential || !c.provisioned() || !c.allowsGrant("client_credentials") {
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
	g := &StoredGrant{ID: randomToken(12), ClientID: c.id, Subject: c.id, GrantType: auth.GrantClientCredentials, Scopes: scopes, Resource: cr}
	return s.issueLocked(ctx, c, g, scopes, false, now)
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
	Cnf      *cnf   `json:"cnf,omitempty"`
}

// cnf is the confirmation claim of a DPoP-bound token (RFC 9449 section
// 6.1).
type cnf struct {
	JKT string `json:"jkt"`
}

// issueLocked mints an access token (and a rotated refresh token) for g,
// and stores what it issued: the access token's record, the refresh
// token's digest, then the grant (which makes the new refresh token the
// current one). s.mu must be held.
func (s *Server) issueLocked(ctx context.Context, c *clientRecord, g *StoredGrant, scopes []string, withRefresh bool, now time.Time) (*TokenResponse, *tokenError) {
	defer s.sweepLocked(ctx)
	exp := now.Add(s.opts.AccessTokenTTL)
	claims := accessClaims{
		Issuer: s.issuer, Subject: g.Subject, Audience: g.Resource,
		Expiry: exp.Unix(), IssuedAt: now.Unix(), JTI: randomToken(16),
		ClientID: g.ClientID, Scope: auth.FormatScope(scopes), Binding: g.Binding,
		Grant: g.GrantType,
	}
	if jkt := dpopKeyFrom(ctx); jkt != "" {
		// A grant is bound to the key of its first DPoP proof.
		if g.Claims == nil {
			g.Claims = map[string]any{}
		}
		g.Claims["cnf"] = map[string]any{"jkt": jkt}
		claims.Cnf = &cnf{JKT: jkt}
	}
	extra := map[string]any{}
	for k, v := range g.Claims {
		if !reservedClaim(k) {
			extra[k] = v
		}
	}
	at, err := jwt.Signed(s.signer).Claims(extra).Claims(claims).Serialize()
	if err != nil {
		return nil, &tokenError{http.StatusInternalServerError, "server_error", "signing failed", false}
	}
	resp := &TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.opts.AccessTokenTTL / time.Second), Scope: claims.Scope}
	if claims.Cnf != nil {
		resp.TokenType = "DPoP"
	}
	if g.ExpiresAt.Before(exp) {
		g.ExpiresAt = exp
	}
	if err := s.store.PutAccessToken(ctx, &StoredAccessToken{JTI: claims.JTI, GrantID: g.ID, ExpiresAt: exp}); err != nil {
		return nil, s.storageFailed("put access token", err)
	}
	if withRefresh {
		rt := randomToken(32)
		h := hashOf(rt)
		rexp := now.Add(s.opts.RefreshTokenTTL)
		if err := s.store.PutRefreshToken(ctx, &StoredRefreshToken{Hash: h[:], GrantID: g.ID, ExpiresAt: rexp}); err != nil {
			return nil, s.storageFailed("put refresh token", err)
		}
		g.RefreshHash = h[:] // earlier refresh tokens of g are now stale
		g.ExpiresAt = rexp
		resp.RefreshToken = rt
	}
	if err := s.store.PutGrant(ctx, g); err != nil {
		return nil, s.storageFailed("put grant", err)
	}
	if c.kind == kindDynamic {
		// A registration in use lives as long as its grants, and at
		// least UnusedClientTTL after its last use.
		until := now.Add(s.opts.UnusedClientTTL)
		if g.ExpiresAt.After(until) {
			until = g.ExpiresAt
		}
		if err := s.store.ExtendClient(ctx, c.id, until); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.Warn("authserver: extending a registration failed", "client_id", c.id, "error", err.Error())
		}
	}
	return resp, nil
}

// revokeGrantLocked revokes the grant with that ID and every token issued
// from it. s.mu must be held.
func (s *Server) revokeGrantLocked(ctx context.Context, id string) error {
	g, err := s.store.Grant(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	g.Revoked, g.RefreshHash = true, nil
	return s.store.PutGrant(ctx, g)
}

// RevokeBinding ends every grant bound to binding (an mcp_binding value
// such as "session:<id>"): their access tokens stop being accepted by
// [Server.Verifier] and the introspection endpoint, and later
// authorization requests naming the binding are refused. The MCP server
// calls it when the session or task ends. It reports how many grants were
// revoked; a Storage failure is logged and counts as none.
func (s *Server) RevokeBinding(binding string) int {
	ctx := context.Background()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(ctx)
	n, err := s.store.RevokeBinding(ctx, binding, s.now().Add(revokedBindingTTL))
	if err != nil {
		s.log.Error("authserver: storage failed", "op", "revoke binding", "error", err.Error())
	}
	for id, p := range s.pending {
		if p.req.binding == binding {
			s.dropPendingLocked(id)
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

// revokedBindingTTL is how long an ended binding is remembered: longer
// than any code or access token of its grants lives.
const revokedBindingTTL = 24 * time.Hour

// sweepLocked drops expired state, at most once a minute: codes and
// pending consents here, the rest in the Storage. s.mu must be held.
func (s *Server) sweepLocked(ctx context.Context) {
	now := s.now()
	if now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for id, p := range s.pending {
		if !now.Before(p.expires) {
			s.dropPendingLocked(id)
		}
	}
	for h, c := range s.codes {
		// Used codes are kept until expiry to detect replays.
		if !now.Before(c.expires) {
			delete(s.codes, h)
		}
	}
	if err := s.store.DeleteExpired(ctx, now); err != nil {
		s.log.Warn("authserver: deleting expired state failed", "error", err.Error())
	}
}

// tokenActive reports whether an access token with these claims is still
// live: issued by this server and recorded in its Storage, not revoked,
// its grant not revoked, its binding not ended. Unknown token ids are
// inactive. An error means the Storage could not tell.
func (s *Server) tokenActive(ctx context.Context, jti, binding string) (bool, error) {
	if binding != "" {
		ended, err := s.store.BindingRevoked(ctx, binding)
		if err != nil || ended {
			return false, err
		}
	}
	if jti == "" {
		return false, nil
	}
	e, err := s.store.AccessToken(ctx, jti)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if e.Revoked {
		return false, nil
	}
	g, err := s.store.Grant(ctx, e.GrantID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return !g.Revoked, nil
}

// String hides nothing secret but keeps tokens out of %v of a response.
func (t TokenResponse) String() string {
	return fmt.Sprintf("TokenResponse{type=%s expires_in=%d scope=%q refresh=%t}", t.TokenType, t.ExpiresIn, t.Scope, t.RefreshToken != "")
}
