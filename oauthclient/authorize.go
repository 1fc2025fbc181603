package oauthclient

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// An AuthorizeFunc takes the person through the authorization endpoint:
// it sends the user agent to authURL and returns the authorization
// response that reached the redirect URI. It must not interpret the
// response; the caller validates iss and state (in that order) before it
// looks at anything else.
type AuthorizeFunc func(ctx context.Context, authURL string) (*AuthorizationResponse, error)

// AuthorizationResponse holds the parameters of an authorization response
// (RFC 6749 Section 4.1.2 and 4.1.2.1, RFC 9207 Section 2).
type AuthorizationResponse struct {
	Code  string
	State string
	// Issuer is the iss parameter; HasIssuer reports whether the response
	// carried one at all.
	Issuer    string
	HasIssuer bool
	// Error, ErrorDescription and ErrorURI are set for error responses.
	Error            string
	ErrorDescription string
	ErrorURI         string
}

// ParseAuthorizationResponse reads an authorization response from the
// query parameters of the redirect URI.
func ParseAuthorizationResponse(q url.Values) *AuthorizationResponse {
	r := &AuthorizationResponse{
		Code:             q.Get("code"),
		State:            q.Get("state"),
		Error:            q.Get("error"),
		ErrorDescription: q.Get("error_description"),
		ErrorURI:         q.Get("error_uri"),
	}
	if v, ok := q["iss"]; ok && len(v) > 0 {
		r.Issuer, r.HasIssuer = v[0], true
	}
	return r
}

// Errors from validating an authorization response.
var (
	// ErrIssuerMismatch: the response's iss is not the recorded issuer, or
	// is missing while the server promised it (RFC 9207 Section 2.4).
	ErrIssuerMismatch = errors.New("oauthclient: authorization response iss does not match the authorization server (possible mix-up attack)")
	// ErrStateMismatch: the response's state is missing or wrong.
	ErrStateMismatch = errors.New("oauthclient: authorization response state does not match the request")
)

// validateAuthorizationResponse applies RFC 9207 Section 2.4 as the MCP
// specification tabulates it, then the state check, then looks at error
// and code. issuer is the recorded issuer of the authorization server;
// issSupported is its authorization_response_iss_parameter_supported.
func validateAuthorizationResponse(r *AuthorizationResponse, issuer string, issSupported bool, state string) (string, error) {
	switch {
	case r.HasIssuer && r.Issuer != issuer:
		// Simple string comparison: no normalization of any kind.
		return "", ErrIssuerMismatch
	case !r.HasIssuer && issSupported:
		return "", fmt.Errorf("%w: iss is missing but the server advertises authorization_response_iss_parameter_supported", ErrIssuerMismatch)
	}
	if r.State == "" || subtle.ConstantTimeCompare([]byte(r.State), []byte(state)) != 1 {
		return "", ErrStateMismatch
	}
	if r.Error != "" {
		return "", &OAuthError{Endpoint: "authorization", Code: sanitize(r.Error), Description: sanitize(r.ErrorDescription), URI: sanitize(r.ErrorURI)}
	}
	if r.Code == "" {
		return "", errors.New("oauthclient: authorization response has no code")
	}
	return r.Code, nil
}

// HeadlessAuthorize returns an AuthorizeFunc for authorization servers
// that approve without a person (test servers, the conformance suite's
// mock, an embedded server configured to auto-approve): it GETs the
// authorization URL with client (nil: a client with a 30 s timeout),
// follows redirects that stay away from the redirect URI (at most ten),
// and reads the authorization response from the Location that points to
// the redirect URI, without requesting it. A response that is not a
// redirect (a login page, say) is an error.
func HeadlessAuthorize(client *http.Client) AuthorizeFunc {
	return func(ctx context.Context, authURL string) (*AuthorizationResponse, error) {
		c := http.Client{Timeout: 30 * time.Second}
		if client != nil {
			c = *client
		}
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		u, err := url.Parse(authURL)
		if err != nil {
			return nil, fmt.Errorf("oauthclient: authorization URL: %w", err)
		}
		redirect, err := url.Parse(u.Query().Get("redirect_uri"))
		if err != nil || !redirect.IsAbs() {
			return nil, errors.New("oauthclient: authorization URL has no absolute redirect_uri")
		}
		next := u
		for range 10 {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
			if err != nil {
				return nil, err
			}
			resp, err := c.Do(req)
			if err != nil {
				return nil, fmt.Errorf("oauthclient: authorization request: %w", err)
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
				return nil, fmt.Errorf("oauthclient: authorization endpoint answered %s instead of redirecting (it needs a person: use a browser-based authorizer)", resp.Status)
			}
			target, err := next.Parse(loc)
			if err != nil {
				return nil, fmt.Errorf("oauthclient: bad Location from authorization endpoint: %w", err)
			}
			if sameEndpoint(target, redirect) {
				return ParseAuthorizationResponse(target.Query()), nil
			}
			if target.Scheme != "http" && target.Scheme != "https" {
				return nil, fmt.Errorf("oauthclient: authorization endpoint redirected to a %s URL", target.Scheme)
			}
			next = target
		}
		return nil, errors.New("oauthclient: too many redirects at the authorization endpoint")
	}
}

// sameEndpoint reports whether a and b have the same scheme, host, port
// and path (the parts a redirect URI is matched on).
func sameEndpoint(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.EscapedPath() == b.EscapedPath()
}
