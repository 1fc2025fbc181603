package oauthclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/switchboard-mcp/switchboard/internal/resourceuri"
)

// ProtectedResourceMetadata is an OAuth 2.0 Protected Resource Metadata
// document (RFC 9728 Section 2), as an MCP server publishes it.
type ProtectedResourceMetadata struct {
	Resource                          string   `json:"resource"`
	AuthorizationServers              []string `json:"authorization_servers,omitempty"`
	JWKSURI                           string   `json:"jwks_uri,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported            []string `json:"bearer_methods_supported,omitempty"`
	ResourceSigningAlgValuesSupported []string `json:"resource_signing_alg_values_supported,omitempty"`
	ResourceName                      string   `json:"resource_name,omitempty"`
	ResourceDocumentation             string   `json:"resource_documentation,omitempty"`
	ResourcePolicyURI                 string   `json:"resource_policy_uri,omitempty"`
	ResourceTOSURI                    string   `json:"resource_tos_uri,omitempty"`
	// DPoPBoundAccessTokensRequired: the resource accepts only DPoP-bound
	// tokens (RFC 9728, RFC 9449).
	DPoPBoundAccessTokensRequired bool `json:"dpop_bound_access_tokens_required,omitempty"`
}

// AuthServerMetadata is OAuth 2.0 Authorization Server Metadata (RFC 8414
// Section 2), or the subset of OpenID Provider Metadata that OAuth uses,
// plus the fields of RFC 9207 and Client ID Metadata Documents.
type AuthServerMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	ResponseModesSupported                     []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	// AuthorizationResponseIssParameterSupported is RFC 9207's
	// authorization_response_iss_parameter_supported.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// ClientIDMetadataDocumentSupported advertises Client ID Metadata
	// Documents (URL client ids).
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported,omitempty"`
	// DPoPSigningAlgValuesSupported lists the JWS algorithms the server
	// accepts in DPoP proofs (RFC 9449 section 5.1); a server that lists
	// any issues DPoP-bound tokens.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// AuthorizationGrantProfilesSupported lists the authorization grant
	// profiles the server accepts, such as
	// "urn:ietf:params:oauth:grant-profile:id-jag".
	AuthorizationGrantProfilesSupported []string `json:"authorization_grant_profiles_supported,omitempty"`
}

// ClientMetadata is OAuth 2.0 client metadata (RFC 7591 Section 2, with
// OpenID Connect's application_type). It is the body of a Dynamic Client
// Registration request and, with ClientID set to its own URL, a Client ID
// Metadata Document.
type ClientMetadata struct {
	// ClientID is set only in a Client ID Metadata Document, where it
	// must equal the document's URL.
	ClientID                string          `json:"client_id,omitempty"`
	RedirectURIs            []string        `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string        `json:"grant_types,omitempty"`
	ResponseTypes           []string        `json:"response_types,omitempty"`
	ClientName              string          `json:"client_name,omitempty"`
	ClientURI               string          `json:"client_uri,omitempty"`
	LogoURI                 string          `json:"logo_uri,omitempty"`
	Scope                   string          `json:"scope,omitempty"`
	Contacts                []string        `json:"contacts,omitempty"`
	TOSURI                  string          `json:"tos_uri,omitempty"`
	PolicyURI               string          `json:"policy_uri,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	SoftwareID              string          `json:"software_id,omitempty"`
	SoftwareVersion         string          `json:"software_version,omitempty"`
	// ApplicationType is "native" or "web" (OpenID Connect Dynamic Client
	// Registration). MCP clients must send it in registration requests.
	ApplicationType string `json:"application_type,omitempty"`
}

// ClientInfo is a client's identity at one authorization server: the
// result of pre-registration, of Dynamic Client Registration (RFC 7591
// Section 3.2.1), or a Client ID Metadata Document URL.
type ClientInfo struct {
	// Issuer is the authorization server the credentials belong to.
	Issuer                  string   `json:"issuer"`
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   int64    `json:"client_secret_expires_at,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	// RegistrationAccessToken and RegistrationClientURI are RFC 7592
	// management credentials, kept when the server returns them.
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri,omitempty"`
}

// String describes the client without its secrets.
func (c ClientInfo) String() string {
	s := fmt.Sprintf("client %q at %s", c.ClientID, c.Issuer)
	if c.ClientSecret != "" {
		s += " (with secret)"
	}
	return s
}

// Token endpoint client authentication methods (RFC 7591 Section 2, RFC
// 7523).
const (
	AuthMethodNone              = "none"
	AuthMethodClientSecretBasic = "client_secret_basic"
	AuthMethodClientSecretPost  = "client_secret_post"
	AuthMethodPrivateKeyJWT     = "private_key_jwt"
)

// OAuth grant types this package can use.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// validatePRM checks a protected resource metadata document (RFC 9728
// Section 3.2/3.3 plus the MCP rule that authorization_servers is not
// empty) against the resource identifier the client expects.
func validatePRM(md *ProtectedResourceMetadata, serverURL *url.URL) error {
	if md.Resource == "" {
		return errors.New("protected resource metadata has no resource")
	}
	if !resourceCovers(md.Resource, serverURL) {
		return fmt.Errorf("%w: metadata names resource %q, but the server is %q", ErrResourceMismatch, md.Resource, redactURL(serverURL))
	}
	if len(md.AuthorizationServers) == 0 {
		return errors.New("protected resource metadata lists no authorization_servers")
	}
	return nil
}

// ErrResourceMismatch is returned when a protected resource metadata
// document describes a different resource than the MCP server the client
// talks to (RFC 9728 Section 3.3, 7.3): the client refuses to authorize.
var ErrResourceMismatch = errors.New("oauthclient: protected resource metadata is for a different resource")

// resourceCovers reports whether the resource identifier res (from
// protected resource metadata) identifies the MCP server at server: the
// same origin (scheme and host compared case-insensitively, default ports
// elided), and res's path equal to, or a whole-segment prefix of, the
// server's path. A resource identifier with a query identifies only the
// server whose canonical URI it is, query included; one with a fragment
// never matches (RFC 8707 Section 2).
func resourceCovers(res string, server *url.URL) bool {
	r, err := url.Parse(res)
	if err != nil || !r.IsAbs() || r.Opaque != "" || r.Fragment != "" || r.User != nil {
		return false
	}
	if r.RawQuery != "" {
		cr, err1 := CanonicalResource(res)
		cs, err2 := CanonicalResource(server.String())
		return err1 == nil && err2 == nil && cr == cs
	}
	if originOf(r) != originOf(server) {
		return false
	}
	rp := strings.TrimSuffix(r.EscapedPath(), "/")
	sp := strings.TrimSuffix(server.EscapedPath(), "/")
	return rp == "" || rp == sp || strings.HasPrefix(sp, rp+"/")
}

// originOf returns scheme://host[:port] lowercased with the default port
// removed.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// CanonicalResource returns the canonical URI of an MCP server (RFC 8707
// Section 2 as the MCP specification applies it), the resource tokens are
// requested for and stored under: an absolute http or https URL without
// fragment or user information, scheme and host lowercased, the default
// port removed, a lone "/" path removed, other paths and the query kept as
// given.
//
// auth.CanonicalResource is the same function: a client and a server
// always agree on a server's canonical URI.
func CanonicalResource(serverURL string) (string, error) {
	c, err := resourceuri.Canonical(serverURL)
	if err != nil {
		return "", fmt.Errorf("oauthclient: server URL: %w", err)
	}
	return c, nil
}

// isLoopbackHost reports whether host (without port) names the local
// machine: "localhost" or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkEndpointURL checks that an authorization server URL is absolute,
// has no fragment, and uses HTTPS (OAuth 2.1 Section 1.5); plain HTTP is
// allowed for loopback hosts and when insecure is set.
func checkEndpointURL(what, raw string, insecure bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %v", what, raw, err)
	}
	if !u.IsAbs() || u.Host == "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%s %q is not an absolute URL without fragment or userinfo", what, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecure && !isLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("%s %q does not use https", what, raw)
		}
	default:
		return nil, fmt.Errorf("%s %q: unsupported scheme", what, raw)
	}
	return u, nil
}

// validateASMetadata applies RFC 8414 Section 3.3 (the issuer must be
// the one the metadata URL was built from), and the MCP rules: the
// endpoints the grant needs exist and are HTTPS, and for the
// authorization code grant the server lists S256 in
// code_challenge_methods_supported. expectedIssuer is empty for the
// 2025-03-26 fallback, where no issuer is known in advance.
func validateASMetadata(md *AuthServerMetadata, expectedIssuer, grant string, insecure bool) error {
	if md.Issuer == "" && expectedIssuer != "" {
		return errors.New("authorization server metadata has no issuer")
	}
	if expectedIssuer != "" && !sameIssuer(md.Issuer, expectedIssuer) {
		return fmt.Errorf("authorization server metadata names issuer %q, expected %q", md.Issuer, expectedIssuer)
	}
	if md.TokenEndpoint == "" {
		return errors.New("authorization server metadata has no token_endpoint")
	}
	if _, err := checkEndpointURL("token_endpoint", md.TokenEndpoint, insecure); err != nil {
		return err
	}
	if md.RegistrationEndpoint != "" {
		if _, err := checkEndpointURL("registration_endpoint", md.RegistrationEndpoint, insecure); err != nil {
			return err
		}
	}
	if grant == GrantAuthorizationCode {
		if md.AuthorizationEndpoint == "" {
			return errors.New("authorization server metadata has no authorization_endpoint")
		}
		if _, err := checkEndpointURL("authorization_endpoint", md.AuthorizationEndpoint, insecure); err != nil {
			return err
		}
		if len(md.ResponseTypesSupported) > 0 && !slices.Contains(md.ResponseTypesSupported, "code") {
			return errors.New("authorization server does not support response_type=code")
		}
		if !slices.Contains(md.CodeChallengeMethodsSupported, "S256") {
			return ErrNoPKCE
		}
	}
	return nil
}

// ErrNoPKCE is returned when the authorization server's metadata does not
// list S256 in code_challenge_methods_supported: the MCP specification
// requires clients to refuse to proceed.
var ErrNoPKCE = errors.New("oauthclient: authorization server does not advertise PKCE S256 (code_challenge_methods_supported)")

// sameIssuer compares issuer identifiers by simple string comparison
// (RFC 8414 Section 3.3: "identical"; RFC 3986 Section 6.2.1), with no
// normalization at all.
func sameIssuer(a, b string) bool { return a == b }

// redactURL returns u without userinfo, query and fragment, for messages.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
