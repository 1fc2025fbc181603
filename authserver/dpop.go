package authserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
)

type dpopKeyCtx struct{}

func withDPoPKey(ctx context.Context, jkt string) context.Context {
	if jkt == "" {
		return ctx
	}
	return context.WithValue(ctx, dpopKeyCtx{}, jkt)
}

// dpopKeyFrom returns the thumbprint of the DPoP key a token request
// proved possession of ("" for none).
func dpopKeyFrom(ctx context.Context) string {
	s, _ := ctx.Value(dpopKeyCtx{}).(string)
	return s
}

// grantJKT returns the DPoP key thumbprint a grant is bound to.
func grantJKT(g *StoredGrant) string {
	c, _ := g.Claims["cnf"].(map[string]any)
	s, _ := c["jkt"].(string)
	return s
}

// tokenDPoP checks the DPoP proof of a token request (RFC 9449 section
// 5): htm POST, htu the token endpoint, a fresh iat, never seen before,
// and a nonce when required. It returns the proof key's thumbprint, or
// "" when the request has no proof (or DPoP is off).
func (s *Server) tokenDPoP(w http.ResponseWriter, r *http.Request) (string, *tokenError) {
	vals := r.Header.Values("DPoP")
	if len(vals) == 0 || !s.opts.DPoP {
		return "", nil
	}
	if len(vals) > 1 {
		return "", tokErr("invalid_dpop_proof", "exactly one DPoP header is allowed")
	}
	c := &auth.DPoPCheck{Method: http.MethodPost, URL: s.endpoint(PathToken), Now: s.now(), Window: 5 * time.Minute, Replay: s.dpopReplay, Nonces: s.dpopNonces}
	p, err := c.Verify(vals[0])
	if err != nil {
		var de *auth.DPoPError
		if errors.As(err, &de) && de.Code == "use_dpop_nonce" {
			w.Header().Set("DPoP-Nonce", s.dpopNonces.Nonce())
			return "", tokErr("use_dpop_nonce", "%s", de.Reason)
		}
		if errors.As(err, &de) {
			return "", tokErr("invalid_dpop_proof", "%s", de.Reason)
		}
		return "", tokErr("invalid_dpop_proof", "%v", err)
	}
	return p.Thumbprint, nil
}

// hasClientCredentials reports whether a token request identifies a
// client (Basic credentials, client_id or a client assertion).
func hasClientCredentials(r *http.Request, form map[string]string) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	_, id := form["client_id"]
	_, as := form["client_assertion"]
	return id || as
}

// mergeClaims returns base with the entries of update over it.
func mergeClaims(base, update map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(update))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range update {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// Person is who approves an authorization request, as Options.Identify
// names them: a subject and the claims that go into the grant's tokens.
type Person struct {
	// Subject is the token's sub (for example the identity provider's
	// subject).
	Subject string
	// Name and Email are shown on the consent page.
	Name, Email string
	// Provider names the identity provider, shown on the consent page.
	Provider string
	// Claims go into every access token of the grant (groups, tenant,
	// email, idp, ...). Reserved claims (iss, sub, aud, scope, ...) are
	// ignored.
	Claims map[string]any
}
