package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/internal/resourceuri"
)

// CanonicalResource returns the canonical form of a resource URI (RFC 8707
// section 2, as the MCP authorization spec uses it): an absolute http or
// https URI without fragment or user information, with the scheme and host
// in lower case, the scheme's default port dropped, and a lone "/" path
// dropped. Other paths and queries are kept as given.
//
// oauthclient.CanonicalResource is the same function: a client and a server
// always agree on a server's canonical URI.
func CanonicalResource(s string) (string, error) {
	return resourceuri.Canonical(s)
}

// IsLoopbackHost reports whether host (a host name or IP literal, without
// port) names this machine: "localhost", a name under ".localhost", or a
// loopback IP address.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	host = strings.TrimPrefix(strings.TrimSuffix(host, "]"), "[")
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// WellKnownPRMPath is the well-known path of Protected Resource Metadata
// (RFC 9728 section 3).
const WellKnownPRMPath = "/.well-known/oauth-protected-resource"

// MetadataURL returns the URL at which the Protected Resource Metadata of
// resource is served (RFC 9728 section 3.1): the well-known path inserted
// between the host and the resource's path, so that the metadata of
// https://example.com/mcp is at
// https://example.com/.well-known/oauth-protected-resource/mcp.
func MetadataURL(resource string) (string, error) {
	c, err := CanonicalResource(resource)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(c)
	u.Path = WellKnownPRMPath + strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	u.RawQuery = ""
	return u.String(), nil
}

// ProtectedResourceMetadata is an OAuth 2.0 Protected Resource Metadata
// document (RFC 9728 section 2).
type ProtectedResourceMetadata struct {
	// Resource is the protected resource's identifier, its canonical URI.
	Resource string `json:"resource"`
	// AuthorizationServers lists issuer identifiers of authorization
	// servers that issue tokens for the resource. MCP requires at least
	// one.
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	// JWKSURI is the resource's own JSON Web Key Set, for signed
	// responses; MCP servers rarely have one.
	JWKSURI string `json:"jwks_uri,omitempty"`
	// ScopesSupported lists the scopes a client should request for basic
	// use (MCP's scope selection strategy requests all of them when a
	// challenge names none).
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported lists how tokens may be presented; MCP allows
	// only "header".
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	// ResourceSigningAlgValuesSupported lists JWS algorithms of signed
	// responses.
	ResourceSigningAlgValuesSupported []string `json:"resource_signing_alg_values_supported,omitempty"`
	// ResourceName is a human-readable name for the resource.
	ResourceName string `json:"resource_name,omitempty"`
	// ResourceDocumentation is a URL of documentation for developers.
	ResourceDocumentation string `json:"resource_documentation,omitempty"`
	// ResourcePolicyURI is a URL of the resource's data usage policy.
	ResourcePolicyURI string `json:"resource_policy_uri,omitempty"`
	// ResourceTOSURI is a URL of the resource's terms of service.
	ResourceTOSURI string `json:"resource_tos_uri,omitempty"`
	// TLSClientCertificateBoundAccessTokens reports support for mutual-TLS
	// bound tokens (RFC 8705).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// AuthorizationDetailsTypesSupported lists RFC 9396 types.
	AuthorizationDetailsTypesSupported []string `json:"authorization_details_types_supported,omitempty"`
	// DPoPSigningAlgValuesSupported lists DPoP proof algorithms (RFC 9449).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// DPoPBoundAccessTokensRequired reports whether DPoP is required.
	DPoPBoundAccessTokensRequired bool `json:"dpop_bound_access_tokens_required,omitempty"`
}

// Validate reports whether m is usable as an MCP server's metadata: a
// canonical resource URI and at least one authorization server, each an
// https URL (or http on loopback) without query or fragment.
func (m *ProtectedResourceMetadata) Validate() error {
	if _, err := CanonicalResource(m.Resource); err != nil {
		return err
	}
	if len(m.AuthorizationServers) == 0 {
		return errors.New("protected resource metadata: authorization_servers must list at least one issuer")
	}
	for _, as := range m.AuthorizationServers {
		if err := checkIssuerURL(as); err != nil {
			return fmt.Errorf("protected resource metadata: authorization server: %w", err)
		}
	}
	for _, s := range m.ScopesSupported {
		if !ValidScopeToken(s) {
			return fmt.Errorf("protected resource metadata: invalid scope %q", s)
		}
	}
	return nil
}

// checkIssuerURL checks an OAuth issuer identifier (RFC 8414 section 2):
// https (or http on loopback), no query, no fragment.
func checkIssuerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("issuer %q: not an absolute URL", s)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("issuer %q: must not have a query", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("issuer %q: must not have a fragment", s)
	case u.User != nil:
		return fmt.Errorf("issuer %q: must not have user information", s)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
		return nil
	}
	return fmt.Errorf("issuer %q: must use https (http only on loopback)", s)
}

// MetadataHandler returns a handler that serves m as JSON on GET and HEAD,
// with CORS allowed from any origin (the document is public, and browser
// based clients read it).
func MetadataHandler(m *ProtectedResourceMetadata) http.Handler {
	body, err := json.Marshal(m)
	if err != nil {
		panic("auth: encoding protected resource metadata: " + err.Error())
	}
	return jsonDocHandler(body)
}

func jsonDocHandler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodOptions:
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "MCP-Protocol-Version")
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			h.Set("Allow", "GET, HEAD, OPTIONS")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "public, max-age=300")
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}
