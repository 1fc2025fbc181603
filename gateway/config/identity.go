package config

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Credential modes of an upstream, the values of [UpstreamAuth.Mode]:
// how the gateway authenticates to an upstream server. The client's own
// token never reaches an upstream except in [AuthPassthrough], which
// needs an explicit AllowPassthrough.
const (
	// AuthNone sends no credentials (the default).
	AuthNone = "none"
	// AuthStatic sends fixed secret headers (Headers).
	AuthStatic = "static"
	// AuthClientCredentials obtains the gateway's own token from the
	// upstream's authorization server (client credentials grant).
	AuthClientCredentials = "client-credentials"
	// AuthOAuthUser makes the gateway the OAuth client of the upstream's
	// authorization server for each person: their tokens are kept in
	// the vault, consent starts with a URL elicitation to their client,
	// and tokens are refreshed by the gateway.
	AuthOAuthUser = "oauth-user"
	// AuthTokenExchange exchanges the caller's token (RFC 8693) for one
	// audience-bound to the upstream.
	AuthTokenExchange = "token-exchange"
	// AuthIDJAG obtains an ID-JAG for the caller from the enterprise
	// identity provider (RFC 8693) and presents it to the upstream's
	// authorization server (RFC 7523).
	AuthIDJAG = "id-jag"
	// AuthPassthrough forwards the caller's bearer token as it is: only
	// with AllowPassthrough, and never a DPoP-bound token.
	AuthPassthrough = "passthrough"
)

// AuthModes lists the credential modes.
var AuthModes = []string{AuthNone, AuthStatic, AuthClientCredentials, AuthOAuthUser, AuthTokenExchange, AuthIDJAG, AuthPassthrough}

// UpstreamAuth is a server entry's "auth": how the gateway authenticates
// to that upstream.
type UpstreamAuth struct {
	// Mode is one of [AuthModes] (default [AuthNone]).
	Mode string `json:"mode"`
	// Headers are the secret headers of [AuthStatic].
	Headers map[string]string `json:"headers,omitempty"`
	// Issuer is the upstream authorization server's issuer (its metadata
	// gives the endpoints); TokenEndpoint and AuthorizationEndpoint give
	// them directly. For oauth-user and client-credentials without
	// either, the upstream's protected resource metadata names it.
	Issuer                string `json:"issuer,omitempty"`
	TokenEndpoint         string `json:"tokenEndpoint,omitempty"`         // see Issuer
	AuthorizationEndpoint string `json:"authorizationEndpoint,omitempty"` // see Issuer
	// ClientID and ClientSecret are the gateway's credentials at that
	// authorization server.
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"` // a value, ${VAR} or vault:NAME
	// Scopes are requested for the upstream.
	Scopes []string `json:"scopes,omitempty"`
	// Audience is the token exchange audience (default: Resource).
	Audience string `json:"audience,omitempty"`
	// Resource is the RFC 8707 resource (default: the upstream's URL).
	Resource string `json:"resource,omitempty"`
	// OmitResource leaves the resource parameter out of authorization and
	// token requests, for identity providers that reject it (Entra ID).
	OmitResource bool `json:"omitResource,omitempty"`
	// AllowPassthrough must be true for [AuthPassthrough].
	AllowPassthrough bool `json:"allowPassthrough,omitempty"`
	// IDP is the enterprise identity provider of [AuthIDJAG].
	IDP *IDPClient `json:"idp,omitempty"`
	// RedirectURL is the gateway's redirect URI at the upstream's
	// authorization server ([AuthOAuthUser]; default the gateway's
	// /oauth/callback).
	RedirectURL string `json:"redirectUrl,omitempty"`
}

// IDPClient is the gateway as a client of an enterprise identity
// provider's token endpoint.
type IDPClient struct {
	// TokenEndpoint is the identity provider's token endpoint.
	TokenEndpoint string `json:"tokenEndpoint"`
	// ClientID and ClientSecret are the gateway's credentials there.
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"` // see ClientID
}

// Identity is the top-level "identity" section: who may call the gateway
// and how the embedded authorization server identifies people.
type Identity struct {
	// APIKeys accepts API keys ("switchboard keys create") at the MCP
	// endpoint.
	APIKeys bool `json:"apiKeys,omitempty"`
	// Claims name the token claims of the caller's identity.
	Claims IdentityClaims `json:"claims,omitzero"`
	// DPoP accepts DPoP-bound tokens; Required refuses bearer tokens,
	// Nonce requires server nonces.
	DPoP *DPoP `json:"dpop,omitempty"`
	// SessionBound lists tools (exposed names; a trailing * matches a
	// prefix) that need a grant bound to the caller's MCP session
	// (mcp_binding=session:ID): access ends with the session.
	SessionBound []string `json:"sessionBound,omitempty"`
	// SSO delegates the embedded authorization server's sign-in to an
	// OpenID Connect provider.
	SSO *SSO `json:"sso,omitempty"`
	// IDJAG lists the enterprise identity providers whose ID-JAGs the
	// embedded authorization server accepts.
	IDJAG []AssertionIssuer `json:"idJag,omitempty"`
	// Workloads lists the workload identity issuers whose JWTs it
	// accepts.
	Workloads []AssertionIssuer `json:"workloads,omitempty"`
}

// IdentityClaims name claims.
type IdentityClaims struct {
	// Subject names the subject's claim (default sub).
	Subject string `json:"subject,omitempty"`
	// Tenant names the tenant's claim (default tenant).
	Tenant string `json:"tenant,omitempty"`
	// Groups names the groups' claim (default groups).
	Groups string `json:"groups,omitempty"`
}

// DPoP configures DPoP at the MCP endpoint and the authorization server.
type DPoP struct {
	// Required refuses bearer tokens at the MCP endpoint.
	Required bool `json:"required,omitempty"`
	// Nonce requires server-provided nonces in proofs.
	Nonce bool `json:"nonce,omitempty"`
}

// SSO is an OpenID Connect provider the embedded authorization server
// sends people to for sign-in (authorization code with PKCE).
type SSO struct {
	// Name is shown on the consent page (default: the issuer's host).
	Name string `json:"name,omitempty"`
	// Issuer is the provider; ClientID and ClientSecret the
	// authorization server's client there.
	Issuer       string `json:"issuer"`
	ClientID     string `json:"clientId"`               // see Issuer
	ClientSecret string `json:"clientSecret,omitempty"` // see Issuer
	// Scopes are requested at sign-in (default openid profile email).
	Scopes []string `json:"scopes,omitempty"`
	// SubjectClaim, GroupsClaim and TenantClaim name the ID token (or
	// userinfo) claims (defaults "sub", "groups", "tenant").
	SubjectClaim string `json:"subjectClaim,omitempty"`
	GroupsClaim  string `json:"groupsClaim,omitempty"` // see SubjectClaim
	TenantClaim  string `json:"tenantClaim,omitempty"` // see SubjectClaim
	// RequiredGroups: a person must be in one of them to get and refresh
	// a token.
	RequiredGroups []string `json:"requiredGroups,omitempty"`
	// OmitResource keeps the resource parameter out of requests to the
	// provider.
	OmitResource bool `json:"omitResource,omitempty"`
}

// AssertionIssuer is a trusted issuer of JWT grants (ID-JAG or workload).
type AssertionIssuer struct {
	// Issuer is the JWTs' iss.
	Issuer string `json:"issuer"`
	// JWKSURL publishes the issuer's keys (https; http on loopback).
	JWKSURL string `json:"jwksUrl"`
	// Claims are rules: each claim must equal one of the values (a
	// trailing * matches a prefix).
	Claims map[string][]string `json:"claims,omitempty"`
	// Scopes bound the scopes of the tokens issued for its JWTs.
	Scopes []string `json:"scopes,omitempty"`
	// Resources bound the resources they may be issued for.
	Resources []string `json:"resources,omitempty"`
	// SubjectPrefix is prepended to the JWT's sub.
	SubjectPrefix string `json:"subjectPrefix,omitempty"`
	// CopyClaims are copied from the JWT into the access token.
	CopyClaims []string `json:"copyClaims,omitempty"`
}

// expandAll substitutes references in every string of v, in place.
func (d *decoder) expandAll(path string, v any) any {
	switch x := v.(type) {
	case string:
		return d.expand(path, x)
	case map[string]any:
		for _, k := range sortedKeys(x) {
			x[k] = d.expandAll(childPath(path, k), x[k])
		}
	case []any:
		for i := range x {
			x[i] = d.expandAll(fmt.Sprintf("%s[%d]", path, i), x[i])
		}
	}
	return v
}

// into decodes a schema-checked value into out.
func (d *decoder) into(path string, v any, out any) bool {
	b, err := json.Marshal(d.expandAll(path, v))
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		d.errorf(prioDecode, path, "%v", err)
		return false
	}
	return true
}

// decodeUpstreamAuth reads a server entry's "auth".
func (d *decoder) decodeUpstreamAuth(path string, s *Server, m map[string]any) {
	v, ok := m["auth"]
	if !ok {
		return
	}
	p := childPath(path, "auth")
	if _, isObj := v.(map[string]any); !isObj {
		d.wrongType(p, v, "an object")
		return
	}
	a := &UpstreamAuth{}
	if !d.into(p, v, a) {
		return
	}
	if a.Mode == "" {
		a.Mode = AuthNone
	}
	s.Auth = a
	need := func(field, val string) {
		if val == "" {
			d.errorf(prioDecode, childPath(p, field), "mode %q needs %q", a.Mode, field)
		}
	}
	switch a.Mode {
	case AuthNone:
	case AuthStatic:
		if len(a.Headers) == 0 {
			d.errorf(prioDecode, p, "mode %q needs %q", a.Mode, "headers")
		}
		for k, val := range a.Headers {
			if !validHeaderKey(k) || strings.ContainsAny(val, "\r\n\x00") {
				d.errorf(prioDecode, childPath(childPath(p, "headers"), k), "not a valid header")
			}
		}
	case AuthClientCredentials:
		need("clientId", a.ClientID)
		need("clientSecret", a.ClientSecret)
	case AuthOAuthUser:
		need("clientId", a.ClientID)
	case AuthTokenExchange:
		if a.Issuer == "" && a.TokenEndpoint == "" {
			d.errorf(prioDecode, p, "mode %q needs %q or %q (the authorization server that exchanges tokens)", a.Mode, "issuer", "tokenEndpoint")
		}
	case AuthIDJAG:
		if a.IDP == nil || a.IDP.TokenEndpoint == "" {
			d.errorf(prioDecode, childPath(p, "idp"), "mode %q needs %q with the identity provider's tokenEndpoint", a.Mode, "idp")
		}
		need("clientId", a.ClientID)
	case AuthPassthrough:
		if !a.AllowPassthrough {
			d.errorf(prioDecode, childPath(p, "mode"), "mode %q forwards the caller's own token to this server (token passthrough, which the MCP specification forbids): add \"allowPassthrough\": true to this server's auth to accept that risk, or use token-exchange", a.Mode)
		}
	default:
		d.errorf(prioDecode, childPath(p, "mode"), "unknown credential mode %q (want one of %s)", a.Mode, strings.Join(AuthModes, ", "))
	}
	if a.AllowPassthrough && a.Mode != AuthPassthrough {
		d.errorf(prioDecode, childPath(p, "allowPassthrough"), "applies only to mode %q", AuthPassthrough)
	}
	if a.Mode != AuthNone && s.Type == TypeStdio && a.Mode != AuthStatic {
		d.errorf(prioDecode, childPath(p, "mode"), "mode %q applies to http and sse servers, not to a stdio server", a.Mode)
	}
	for _, f := range []struct{ k, v string }{{"issuer", a.Issuer}, {"tokenEndpoint", a.TokenEndpoint}, {"authorizationEndpoint", a.AuthorizationEndpoint}, {"redirectUrl", a.RedirectURL}} {
		if f.v != "" {
			if u, err := url.Parse(f.v); err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
				d.errorf(prioDecode, childPath(p, f.k), "want an http(s) URL")
			}
		}
	}
}

// decodeIdentity reads the top-level "identity".
func (d *decoder) decodeIdentity(root map[string]any, cfg *Config) {
	v, ok := root["identity"]
	if !ok {
		return
	}
	if _, isObj := v.(map[string]any); !isObj {
		d.wrongType("identity", v, "an object")
		return
	}
	id := &Identity{}
	if !d.into("identity", v, id) {
		return
	}
	cfg.Identity = id
	if id.SSO != nil {
		p := childPath("identity", "sso")
		if u, err := url.Parse(id.SSO.Issuer); err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
			d.errorf(prioDecode, childPath(p, "issuer"), "want the provider's issuer URL")
		}
		if id.SSO.ClientID == "" {
			d.errorf(prioDecode, childPath(p, "clientId"), "required")
		}
		if id.SSO.Scopes == nil {
			id.SSO.Scopes = []string{"openid", "profile", "email"}
		} else if !slices.Contains(id.SSO.Scopes, "openid") {
			d.errorf(prioDecode, childPath(p, "scopes"), "must include \"openid\"")
		}
	}
	for i, is := range slices.Concat(id.IDJAG, id.Workloads) {
		key := "idJag"
		j := i
		if i >= len(id.IDJAG) {
			key, j = "workloads", i-len(id.IDJAG)
		}
		p := fmt.Sprintf("identity.%s[%d]", key, j)
		if is.Issuer == "" || is.JWKSURL == "" {
			d.errorf(prioDecode, p, "needs \"issuer\" and \"jwksUrl\"")
		}
	}
}
