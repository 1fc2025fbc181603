package authserver

import (
	"context"
	"crypto"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/auth"
)

// Verifier returns an in-process verifier of this server's access tokens
// for resource (a canonical MCP server URI). Besides what
// [auth.JWTVerifier] checks, it refuses tokens revoked here: those of a
// revoked grant, a reused refresh token's family, or an ended binding.
// Use it when the MCP server and the authorization server share a
// process; otherwise use an auth.JWTVerifier on the JWKS, or an
// auth.IntrospectionVerifier.
func (s *Server) Verifier(resource string) (auth.Verifier, error) {
	jv, err := auth.NewJWTVerifier(auth.JWTOptions{
		Issuer:                    s.issuer,
		Audience:                  resource,
		Keys:                      map[string]crypto.PublicKey{s.pub.KeyID: s.pub.Key},
		Algorithms:                []string{string(s.alg)},
		RequireJWTAccessTokenType: true,
		Now:                       s.now,
	})
	if err != nil {
		return nil, err
	}
	return auth.VerifierFunc(func(ctx context.Context, token string) (*auth.TokenInfo, error) {
		info, err := jv.Verify(ctx, token)
		if err != nil {
			return nil, err
		}
		jti, _ := info.Claims["jti"].(string)
		if !s.tokenActive(jti, info.Binding) {
			return nil, &auth.InvalidTokenError{Reason: "the access token was revoked"}
		}
		return info, nil
	}), nil
}

// verifyOwn checks that token is an unexpired access token signed by this
// server, whatever its audience, and returns its claims.
func (s *Server) verifyOwn(token string) (*auth.TokenInfo, bool) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{s.alg})
	if err != nil || len(jws.Signatures) != 1 || jws.Signatures[0].Protected.KeyID != s.pub.KeyID {
		return nil, false
	}
	payload, err := jws.Verify(s.pub.Key)
	if err != nil {
		return nil, false
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return nil, false
	}
	iss, _ := claims["iss"].(string)
	exp, _ := claims["exp"].(float64)
	if iss != s.issuer || !s.now().Before(time.Unix(int64(exp), 0)) {
		return nil, false
	}
	info := &auth.TokenInfo{Issuer: iss, Claims: claims, Expiry: time.Unix(int64(exp), 0)}
	info.ClientID, _ = claims["client_id"].(string)
	info.Binding, _ = claims[auth.BindingClaim].(string)
	info.Grant, _ = claims[auth.GrantClaim].(string)
	return info, true
}

// serveIntrospect is the introspection endpoint (RFC 7662). Callers
// authenticate as confidential pre-registered clients.
func (s *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	form, te := readForm(w, r)
	if te != nil {
		writeTokenError(w, te)
		return
	}
	c, te := s.authenticateClient(r, form)
	if te == nil && (!c.confidential || c.kind != kindPreregistered) {
		te = &tokenError{http.StatusUnauthorized, "invalid_client", "this client may not introspect tokens", false}
	}
	if te != nil {
		writeTokenError(w, te)
		return
	}
	tok := form["token"]
	if tok == "" {
		writeTokenError(w, tokErr("invalid_request", "token is required"))
		return
	}
	writeJSON(w, http.StatusOK, s.introspect(r.Context(), tok))
}

// introspect describes token as RFC 7662 section 2.2 does.
func (s *Server) introspect(ctx context.Context, tok string) map[string]any {
	inactive := map[string]any{"active": false}
	if strings.Count(tok, ".") == 2 {
		info, ok := s.verifyOwn(tok)
		if !ok {
			return inactive
		}
		jti, _ := info.Claims["jti"].(string)
		if !s.tokenActive(jti, info.Binding) {
			return inactive
		}
		out := map[string]any{"active": true, "token_type": "Bearer"}
		for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", auth.BindingClaim, auth.GrantClaim} {
			if v, ok := info.Claims[k]; ok {
				out[k] = v
			}
		}
		return out
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	h := hashOf(tok)
	e := s.refresh[h]
	if e == nil || !now.Before(e.expires) {
		return inactive
	}
	g := s.grants[e.grantID]
	if g == nil || g.revoked || !g.hasRT || g.refresh != h {
		return inactive
	}
	out := map[string]any{
		"active": true, "token_type": "refresh_token", "iss": s.issuer,
		"sub": g.subject, "client_id": g.clientID, "exp": e.expires.Unix(),
		auth.GrantClaim: g.grantType,
	}
	if len(g.scopes) > 0 {
		out["scope"] = auth.FormatScope(g.scopes)
	}
	return out
}

// serveRevoke is the revocation endpoint (RFC 7009). Revoking a refresh
// token revokes its grant; revoking an access token revokes that token.
// The answer is 200 whether or not the token was known.
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if !corsPOST(w, r) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	form, te := readForm(w, r)
	if te != nil {
		writeTokenError(w, te)
		return
	}
	c, te := s.authenticateClient(r, form)
	if te != nil {
		writeTokenError(w, te)
		return
	}
	tok := form["token"]
	if tok == "" {
		writeTokenError(w, tokErr("invalid_request", "token is required"))
		return
	}
	if strings.Count(tok, ".") == 2 {
		if info, ok := s.verifyOwn(tok); ok && info.ClientID == c.id {
			jti, _ := info.Claims["jti"].(string)
			s.mu.Lock()
			if e := s.access[jti]; e != nil {
				e.revoked = true
			} else {
				s.access[jti] = &accessEntry{revoked: true, expires: info.Expiry.Add(time.Minute)}
			}
			s.mu.Unlock()
		}
	} else {
		s.mu.Lock()
		if e := s.refresh[hashOf(tok)]; e != nil {
			if g := s.grants[e.grantID]; g != nil && g.clientID == c.id {
				s.revokeGrantLocked(g)
			}
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}
