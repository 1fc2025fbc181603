package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Token type URIs for RFC 8693 token exchange.
const (
	TokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeIDJAG   = "urn:ietf:params:oauth:token-type:id-jag"
)

// IDJAGExchange obtains Identity Assertion JWT Authorization Grants
// (ID-JAG) from an enterprise identity provider for the Enterprise-Managed
// Authorization extension (SEP-990, "cross-app access"): it exchanges the
// person's ID token at the IdP's token endpoint (RFC 8693) for an ID-JAG
// whose audience is the MCP server's authorization server. Use its
// Assertion method as Config.Assertion with Grant GrantJWTBearer.
type IDJAGExchange struct {
	// TokenEndpoint is the IdP's token endpoint.
	TokenEndpoint string
	// IDToken is the person's ID token from the IdP.
	IDToken string
	// ClientID and ClientSecret are the client's credentials at the IdP
	// (the secret is optional; it is sent with client_secret_post).
	ClientID, ClientSecret string
	// HTTPClient makes the exchange request (default: 30 s timeout).
	HTTPClient *http.Client
}

// Assertion implements AssertionFunc.
func (x *IDJAGExchange) Assertion(ctx context.Context, req AssertionRequest) (string, error) {
	if x.TokenEndpoint == "" || x.IDToken == "" {
		return "", errors.New("oauthclient: IDJAGExchange needs TokenEndpoint and IDToken")
	}
	form := url.Values{
		"grant_type":           {GrantTokenExchange},
		"requested_token_type": {TokenTypeIDJAG},
		"audience":             {req.Issuer},
		"resource":             {req.Resource},
		"subject_token":        {x.IDToken},
		"subject_token_type":   {TokenTypeIDToken},
	}
	if len(req.Scopes) > 0 {
		form.Set("scope", strings.Join(req.Scopes, " "))
	}
	if x.ClientID != "" {
		form.Set("client_id", x.ClientID)
	}
	if x.ClientSecret != "" {
		form.Set("client_secret", x.ClientSecret)
	}
	client := x.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	tr, err := postToken(ctx, client, x.TokenEndpoint, form, nil)
	if err != nil {
		return "", fmt.Errorf("oauthclient: ID-JAG token exchange: %w", err)
	}
	if tr.IssuedTokenType != "" && tr.IssuedTokenType != TokenTypeIDJAG {
		return "", fmt.Errorf("oauthclient: ID-JAG token exchange issued %q, not an ID-JAG", sanitize(tr.IssuedTokenType))
	}
	return tr.AccessToken, nil
}

// StaticAssertion returns an AssertionFunc that always presents jwt: a
// workload identity token handed to the process (workload identity
// federation, SEP-1933).
func StaticAssertion(jwt string) AssertionFunc {
	return func(context.Context, AssertionRequest) (string, error) {
		if jwt == "" {
			return "", errors.New("oauthclient: no workload assertion")
		}
		return jwt, nil
	}
}

// FileAssertion returns an AssertionFunc that reads the assertion from
// path on every use, as platforms rotate workload tokens in place (a
// Kubernetes projected service account token, a SPIFFE JWT-SVID file).
func FileAssertion(path string) AssertionFunc {
	return func(context.Context, AssertionRequest) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("oauthclient: reading the workload assertion: %w", err)
		}
		jwt := strings.TrimSpace(string(b))
		if jwt == "" {
			return "", fmt.Errorf("oauthclient: the workload assertion file %s is empty", path)
		}
		return jwt, nil
	}
}
