package authserver

import (
	"context"
	"crypto"
	"crypto/subtle"
	"errors"
	"fmt"
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
		active, err := s.tokenActive(ctx, jti, info.Binding)
		if err != nil {
			return nil, fmt.Errorf("authserver: checking revocation: %w", err)
		}
		if !active {
			return nil, &auth.InvalidTokenError{Reason: "the access token was revoked or is unknown"}
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
	if te == nil && (!c.confidential || !c.provisioned()) {
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
	out, err := s.introspect(r.Context(), tok)
	if err != nil {
		writeTokenError(w, s.storageFailed("introspect", err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// introspect describes token as RFC 7662 section 2.2 does. Tokens this
// server has no record of are inactive.
func (s *Server) introspect(ctx context.Context, tok string) (map[string]any, error) {
	inactive := map[string]any{"active": false}
	if strings.Count(tok, ".") == 2 {
		info, ok := s.verifyOwn(tok)
		if !ok {
			return inactive, nil
		}
		jti, _ := info.Claims["jti"].(string)
		active, err := s.tokenActive(ctx, jti, info.Binding)
		if err != nil || !active {
			return inactive, err
		}
		out := map[string]any{"active": true, "token_type": "Bearer"}
		for _, k := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", auth.BindingClaim, auth.GrantClaim} {
			if v, ok := info.Claims[k]; ok {
				out[k] = v
			}
		}
		return out, nil
	}
	now := s.now()
	h := hashOf(tok)
	e, err := s.store.RefreshToken(ctx, h[:])
	if errors.Is(err, ErrNotFound) {
		return inactive, nil
	} else if err != nil {
		return nil, err
	}
	if !now.Before(e.ExpiresAt) {
		return inactive, nil
	}
	g, err := s.store.Grant(ctx, e.GrantID)
	if errors.Is(err, ErrNotFound) {
		return inactive, nil
	} else if err != nil {
		return nil, err
	}
	if g.Revoked || g.RefreshHash == nil || subtle.ConstantTimeCompare(g.RefreshHash, h[:]) != 1 {
		return inactive, nil
	}
	out := map[string]any{
		"active": true, "token_type": "refresh_token", "iss": s.issuer,
		"sub": g.Subject, "client_id": g.ClientID, "exp": e.ExpiresAt.Unix(),
		auth.GrantClaim: g.GrantType,
	}
	if len(g.Scopes) > 0 {
		out["scope"] = auth.FormatScope(g.Scopes)
	}
	return out, nil
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
	if err := s.revoke(r.Context(), c, tok); err != nil {
		writeTokenError(w, s.storageFailed("revoke", err))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// revoke revokes tok if it is one of c's: an access token alone, or a
// refresh token with its whole grant.
func (s *Server) revoke(ctx context.Context, c *clientRecord, tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.Count(tok, ".") == 2 {
		info, ok := s.verifyOwn(tok)
		if !ok || info.ClientID != c.id {
			return nil
		}
		jti, _ := info.Claims["jti"].(string)
		e, err := s.store.AccessToken(ctx, jti)
		if errors.Is(err, ErrNotFound) {
			return nil // unknown tokens are inactive already
		} else if err != nil {
			return err
		}
		e.Revoked = true
		return s.store.PutAccessToken(ctx, e)
	}
	h := hashOf(tok)
	e, err := s.store.RefreshToken(ctx, h[:])
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	g, err := s.store.Grant(ctx, e.GrantID)
	if errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if g.ClientID != c.id {
		return nil
	}
	return s.revokeGrantLocked(ctx, g.ID)
}
