package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TokenInfo describes a verified access token. Verifiers fill it in; the
// middleware attaches it to the request context, where handlers read it
// with [TokenInfoFrom]. It never holds the token itself.
type TokenInfo struct {
	// Issuer is the authorization server that issued the token ("iss").
	Issuer string
	// Subject is the resource owner, or the client itself for the
	// client_credentials grant ("sub").
	Subject string
	// ClientID is the OAuth client the token was issued to ("client_id",
	// or "azp" when the issuer uses OpenID Connect's name for it).
	ClientID string
	// Scopes are the granted scopes, in the order the token lists them.
	Scopes []string
	// Expiry is when the token stops being valid ("exp").
	Expiry time.Time
	// Audience lists the resources the token is meant for ("aud"); after
	// verification it includes the protected resource's canonical URI.
	Audience []string
	// Grant is the kind of grant the token was issued from, as the
	// [GrantClaim] claim says: [GrantAuthorizationCode] (a person
	// approved it), [GrantClientCredentials] (a client acting on its own
	// behalf), or "" when the issuer does not say. See
	// [TokenInfo.IsMachine].
	Grant string
	// Binding is the grant binding the token carries ("mcp_binding"), such
	// as "session:<Mcp-Session-Id>", or "" for an unbound grant. See
	// [BindingClaim].
	Binding string
	// Claims holds every claim of a JWT, or every member of an
	// introspection response, as decoded JSON.
	Claims map[string]any
}

// HasScope reports whether the token grants scope.
func (t *TokenInfo) HasScope(scope string) bool {
	return t != nil && slices.Contains(t.Scopes, scope)
}

// IsMachine reports whether the token was issued to a client acting on
// its own behalf, with no person behind it: its [GrantClaim] is
// [GrantClientCredentials], or, when the issuer does not set that claim,
// its subject is its client id (RFC 9068 section 2.2: the subject of a
// token obtained without a resource owner identifies the client).
// Workload tokens ([GrantWorkload]) are machine tokens too.
func (t *TokenInfo) IsMachine() bool {
	if t == nil {
		return false
	}
	switch t.Grant {
	case GrantClientCredentials, GrantWorkload, GrantAPIKey:
		return true
	case "":
		return t.Subject != "" && t.Subject == t.ClientID
	}
	return false
}

// GrantClaim is the JWT claim, and introspection response member, naming
// the grant an access token was issued from (a Switchboard extension set
// by package authserver): [GrantAuthorizationCode] for tokens a person
// approved (refreshed ones included), [GrantClientCredentials] for tokens
// a client obtained on its own behalf.
const GrantClaim = "mcp_grant"

// Values of [GrantClaim].
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	// GrantIDJAG: a person, vouched for by an enterprise identity
	// provider's Identity Assertion JWT Authorization Grant.
	GrantIDJAG = "id_jag"
	// GrantWorkload: a workload presenting its own identity token
	// (workload identity federation); no person behind it.
	GrantWorkload = "workload"
	// GrantAPIKey: a machine's API key (package identity), not an OAuth
	// token.
	GrantAPIKey = "api_key"
	// GrantTokenExchange: a token obtained by a client (a gateway, the
	// act claim) in exchange for its caller's token (RFC 8693).
	GrantTokenExchange = "token_exchange"
)

// MissingScopes returns the scopes of required that the token does not
// grant, in the order of required, without duplicates.
func (t *TokenInfo) MissingScopes(required []string) []string {
	var missing []string
	for _, s := range required {
		if !t.HasScope(s) && !slices.Contains(missing, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// BindingClaim is the JWT claim, and introspection response member, that
// carries a grant binding: "session:<id>" for a grant that lives only as
// long as one MCP session, "task:<id>" for one that lives only as long as a
// task. The middleware refuses a token bound to a session on any request
// that does not carry that session's Mcp-Session-Id.
const BindingClaim = "mcp_binding"

type tokenInfoKey struct{}

// WithTokenInfo returns a context carrying info.
func WithTokenInfo(ctx context.Context, info *TokenInfo) context.Context {
	return context.WithValue(ctx, tokenInfoKey{}, info)
}

// TokenInfoFrom returns the verified token of the request ctx belongs to,
// or nil when the request was not authenticated by this package's
// middleware.
//
// Over Streamable HTTP (transport/streamable) the context given to MCP
// handlers, tool handlers included, carries the values of the HTTP
// request that delivered the message, so TokenInfoFrom works there. A
// task-augmented tool call keeps working after its HTTP request ended with
// the values of the request that started it.
func TokenInfoFrom(ctx context.Context) *TokenInfo {
	info, _ := ctx.Value(tokenInfoKey{}).(*TokenInfo)
	return info
}

// Verifier checks an access token presented to a protected resource.
//
// Verify returns the token's description if the token is valid for this
// resource: correctly signed (or active, for introspection), unexpired,
// issued by the expected authorization server and meant for this
// resource's canonical URI. It returns an error wrapping [ErrInvalidToken]
// when the token is not acceptable, and any other error when the answer
// cannot be known now (a JWKS or introspection endpoint is unreachable);
// the middleware answers the first with 401 and the second with 503.
//
// Implementations must not log or forward the token.
type Verifier interface {
	Verify(ctx context.Context, token string) (*TokenInfo, error)
}

// VerifierFunc adapts a function to the Verifier interface.
type VerifierFunc func(ctx context.Context, token string) (*TokenInfo, error)

// Verify calls f.
func (f VerifierFunc) Verify(ctx context.Context, token string) (*TokenInfo, error) {
	return f(ctx, token)
}

// ErrInvalidToken is wrapped by every error a Verifier returns for a token
// that is not acceptable (RFC 6750 error code invalid_token).
var ErrInvalidToken = errors.New("invalid token")

// InvalidTokenError is the error verifiers return for an unacceptable
// token. Reason is safe to show the client as error_description: it never
// contains the token.
type InvalidTokenError struct {
	Reason string
}

// Error implements the error interface.
func (e *InvalidTokenError) Error() string { return "invalid token: " + e.Reason }

// Is makes errors.Is(err, ErrInvalidToken) true.
func (e *InvalidTokenError) Is(target error) bool { return target == ErrInvalidToken }

func invalid(format string, args ...any) error {
	return &InvalidTokenError{Reason: fmt.Sprintf(format, args...)}
}

// ParseScope splits an OAuth scope parameter (RFC 6749 section 3.3) into
// its scope tokens. Tokens are separated by single spaces; each is one or
// more printable ASCII characters other than space, '"' and '\'. Repeated
// tokens are kept once. An empty string gives no scopes.
func ParseScope(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for tok := range strings.SplitSeq(s, " ") {
		if tok == "" {
			return nil, errors.New("scope: empty scope token (leading, trailing or doubled space)")
		}
		if !ValidScopeToken(tok) {
			return nil, fmt.Errorf("scope: invalid character in scope token %q", tok)
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out, nil
}

// ValidScopeToken reports whether tok is a syntactically valid scope token:
// one or more of %x21 / %x23-5B / %x5D-7E.
func ValidScopeToken(tok string) bool {
	if tok == "" {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// FormatScope joins scope tokens into a scope parameter value.
func FormatScope(scopes []string) string { return strings.Join(scopes, " ") }

// SubjectToken is the access token a request presented, kept by a
// Middleware with Options.KeepSubjectToken for token exchange. Its
// String method hides the token.
type SubjectToken struct {
	// Token is the access token itself.
	Token string
	// DPoPBound reports a DPoP-bound token: useless to anyone without
	// the client's key, it must never be forwarded.
	DPoPBound bool
}

// String describes the token without revealing it.
func (s *SubjectToken) String() string { return "auth.SubjectToken{…}" }

type subjectTokenKey struct{}

// SubjectTokenFrom returns the token of the request ctx belongs to, when
// its Middleware keeps it (Options.KeepSubjectToken), or nil.
func SubjectTokenFrom(ctx context.Context) *SubjectToken {
	s, _ := ctx.Value(subjectTokenKey{}).(*SubjectToken)
	return s
}

// WithSubjectToken returns a context carrying the token a request
// presented, as the Middleware does with Options.KeepSubjectToken (for
// other front ends, and tests).
func WithSubjectToken(ctx context.Context, st *SubjectToken) context.Context {
	return context.WithValue(ctx, subjectTokenKey{}, st)
}
