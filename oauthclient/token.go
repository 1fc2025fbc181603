package oauthclient

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// A Token is an access token for one MCP server, with what is needed to
// refresh it. Its String, GoString and LogValue methods never reveal the
// token values; only an explicit field access (or JSON encoding, for
// stores) does.
type Token struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	// Scopes are the granted scopes (the requested ones when the
	// authorization server did not say).
	Scopes []string `json:"scopes,omitempty"`
	// Issuer is the authorization server that issued the token.
	Issuer string `json:"issuer"`
	// Resource is the canonical URI of the MCP server the token is for
	// (the store key, with Issuer).
	Resource string `json:"resource"`
	// ResourceIndicator is the RFC 8707 resource parameter the token was
	// requested with (the protected resource metadata's resource).
	ResourceIndicator string `json:"resource_indicator,omitempty"`
	// ClientID is the client that obtained the token (needed to refresh
	// it).
	ClientID string `json:"client_id,omitempty"`
}

// expirySkew is how long before its expiry a token counts as expired.
const expirySkew = 30 * time.Second

// Expired reports whether the token has expired at now (with a small
// safety margin). A token without an expiry never expires.
func (t *Token) Expired(now time.Time) bool {
	return !t.Expiry.IsZero() && !now.Add(expirySkew).Before(t.Expiry)
}

// String describes the token without revealing it.
func (t Token) String() string {
	var b strings.Builder
	b.WriteString("token for ")
	b.WriteString(t.Resource)
	if t.Issuer != "" {
		b.WriteString(" from ")
		b.WriteString(t.Issuer)
	}
	if len(t.Scopes) > 0 {
		fmt.Fprintf(&b, " scope=%q", strings.Join(t.Scopes, " "))
	}
	if !t.Expiry.IsZero() {
		b.WriteString(" expires ")
		b.WriteString(t.Expiry.UTC().Format(time.RFC3339))
	}
	if t.RefreshToken != "" {
		b.WriteString(" (refreshable)")
	}
	return b.String()
}

// GoString is String, so that %#v does not print the token either.
func (t Token) GoString() string { return "oauthclient.Token{" + t.String() + "}" }

// LogValue makes slog record the token's description, not its value.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// tokenResponse is the JSON body of a successful token response (RFC 6749
// Section 5.1, RFC 8693 Section 2.2.1).
type tokenResponse struct {
	AccessToken     string    `json:"access_token"`
	TokenType       string    `json:"token_type"`
	ExpiresIn       expiresIn `json:"expires_in"`
	RefreshToken    string    `json:"refresh_token"`
	Scope           string    `json:"scope"`
	IssuedTokenType string    `json:"issued_token_type"`
}

// expiresIn accepts a JSON number or a numeric string (some servers send
// the latter).
type expiresIn int64

func (e *expiresIn) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*e = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1<<40 {
		return fmt.Errorf("bad expires_in %.40q", s)
	}
	*e = expiresIn(f)
	return nil
}

// pkce is a PKCE code verifier and its S256 challenge (RFC 7636).
type pkce struct {
	verifier, challenge string
}

func newPKCE() (pkce, error) {
	v, err := randomString(32) // 43 characters, the RFC 7636 minimum
	if err != nil {
		return pkce{}, err
	}
	return pkce{verifier: v, challenge: s256(v)}, nil
}

// s256 is BASE64URL(SHA256(ASCII(verifier))).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomString returns n random bytes, base64url-encoded without padding.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oauthclient: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// OAuthError is an error response from an authorization server endpoint
// (RFC 6749 Section 5.2, RFC 7591 Section 3.2.2) or an authorization
// error response (RFC 6749 Section 4.1.2.1). The description comes from
// the server: it is truncated and stripped of control characters.
type OAuthError struct {
	// Endpoint names what answered: "token", "registration",
	// "authorization", ...
	Endpoint    string
	StatusCode  int // 0 for authorization responses
	Code        string
	Description string
	URI         string
}

// Error describes the authorization server's refusal.
func (e *OAuthError) Error() string {
	s := "oauthclient: " + e.Endpoint + " error"
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// sanitize makes server-provided text safe to show: printable ASCII and
// ordinary Unicode only, at most 200 bytes.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		if b.Len()+len(string(r)) > 200 {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// parseOAuthError decodes an OAuth error body; a body that is not one
// yields an error with only the status.
func parseOAuthError(endpoint string, status int, body []byte) *OAuthError {
	var v struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		ErrorURI         string `json:"error_uri"`
	}
	e := &OAuthError{Endpoint: endpoint, StatusCode: status}
	if json.Unmarshal(body, &v) == nil {
		e.Code = sanitize(v.Error)
		e.Description = sanitize(v.ErrorDescription)
		e.URI = sanitize(v.ErrorURI)
	}
	return e
}
