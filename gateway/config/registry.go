package config

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// Registry is the "registry" section: the MCP registry that
// "switchboard serve" mounts beside the gateway and that
// "switchboard registry serve" runs alone (see docs/registry.md). Strings
// take ${VAR} references like the rest of the file.
type Registry struct {
	// Enabled mounts the registry in "switchboard serve" (default true
	// when the section is present).
	Enabled *bool `json:"enabled,omitempty"`
	// Path is the URL path under which "switchboard serve" mounts the API
	// ("" for the root: /v0.1/servers, ...; "/registry" gives
	// /registry/v0.1/servers). Clients are given the base URL.
	Path string `json:"path,omitempty"`
	// Addr is the address of "switchboard registry serve" (default
	// 127.0.0.1:8090).
	Addr string `json:"addr,omitempty"`
	// Database is "" for the SQLite database of the data directory, or a
	// PostgreSQL URL (postgres://user:pass@host/db).
	Database string `json:"database,omitempty"`
	// AnonymousReads lets anyone read (default true; GitHub Copilot's
	// allowlist lookups carry no credentials).
	AnonymousReads *bool `json:"anonymousReads,omitempty"`
	// ReadTokens are bearer tokens that may read when reads are not
	// anonymous.
	ReadTokens []string `json:"readTokens,omitempty"`
	// AdminTokens are bearer tokens that may publish, edit and change the
	// status of any server.
	AdminTokens []string `json:"adminTokens,omitempty"`
	// JWTKey is the hex Ed25519 seed (64 hex digits) that signs registry
	// tokens; "" derives one from the data directory's master key.
	JWTKey string `json:"jwtKey,omitempty"`
	// Auth configures the login methods.
	Auth RegistryAuth `json:"auth,omitzero"`
	// Curation filters what the registry shows.
	Curation RegistryCuration `json:"curation,omitzero"`
	// AllowDraftSchema accepts server.json documents of the draft schema.
	AllowDraftSchema bool `json:"allowDraftSchema,omitempty"`
	// Cards configures the Server Cards of the gateway's endpoints.
	Cards RegistryCards `json:"cards,omitzero"`
	// Mirrors are the registries "switchboard registry sync" mirrors when
	// no --from is given.
	Mirrors []RegistryMirror `json:"mirrors,omitempty"`
}

// RegistryAuth configures the registry's login methods.
type RegistryAuth struct {
	// Anonymous enables "mcp-publisher login none" (the
	// io.modelcontextprotocol.anonymous namespace; development only).
	Anonymous bool `json:"anonymous,omitempty"`
	// HTTP configures the HTTP key proof (enabled by default).
	HTTP *RegistryHTTPProof `json:"http,omitempty"`
	// DNS configures the DNS TXT key proof (enabled by default).
	DNS *RegistryDNSProof `json:"dns,omitempty"`
	// OIDC enables logins with ID tokens of the organization's IdP.
	OIDC *RegistryOIDC `json:"oidc,omitempty"`
	// BlockedNamespaces may only be published by admins.
	BlockedNamespaces []string `json:"blockedNamespaces,omitempty"`
}

// RegistryHTTPProof configures the HTTP key proof
// (https://DOMAIN/.well-known/mcp-registry-auth).
type RegistryHTTPProof struct {
	// Disabled turns the HTTP key proof off.
	Disabled bool `json:"disabled,omitempty"`
	// Resolve maps domains to host:port to connect to instead.
	Resolve map[string]string `json:"resolve,omitempty"`
	// CAFile is a PEM file of the roots that key servers' certificates
	// must chain to (default: the system's).
	CAFile string `json:"caFile,omitempty"`
	// AllowPrivate accepts keys served from private and loopback
	// addresses.
	AllowPrivate bool `json:"allowPrivate,omitempty"`
}

// RegistryDNSProof configures the DNS TXT key proof.
type RegistryDNSProof struct {
	// Disabled turns the DNS key proof off.
	Disabled bool `json:"disabled,omitempty"`
	// Server is the DNS server (host:port) to ask; "" is the system's.
	Server string `json:"server,omitempty"`
}

// RegistryOIDC configures OIDC logins.
type RegistryOIDC struct {
	// Issuer is the IdP's issuer URL (its discovery document gives the keys).
	Issuer string `json:"issuer"`
	// Audience must be in the ID token's "aud" (the client ID).
	Audience string `json:"audience"`
	// ExtraClaims must all match (a list claim matches any of its values).
	ExtraClaims []map[string]any `json:"extraClaims,omitempty"`
	// Publish are the name patterns granted the publish permission.
	Publish []string `json:"publish,omitempty"`
	// Edit are the name patterns granted the edit permission.
	Edit []string `json:"edit,omitempty"`
}

// RegistryCuration filters what the registry shows.
type RegistryCuration struct {
	// Allow, when not empty, lists the only server names shown ("*"
	// matches any run of characters).
	Allow []string `json:"allow,omitempty"`
	// Deny lists server names refused.
	Deny []string `json:"deny,omitempty"`
	// RequireApproval shows servers only once approved
	// ("switchboard registry approve NAME").
	RequireApproval bool `json:"requireApproval,omitempty"`
	// DeniedStatus is the status of a lookup of a refused server: 403
	// (default), 401, 404 or 451.
	DeniedStatus int `json:"deniedStatus,omitempty"`
}

// RegistryCards configures the Server Cards of the gateway.
type RegistryCards struct {
	// Disabled turns the cards and the AI catalog off.
	Disabled bool `json:"disabled,omitempty"`
	// Namespace is the reverse-DNS namespace of a card's name when the
	// server's name has none ("com.example" makes "switchboard"
	// "com.example/switchboard"); default: the reversed host name.
	Namespace string `json:"namespace,omitempty"`
	// PublicURL is the gateway's external base URL (default: taken from
	// each request).
	PublicURL string `json:"publicUrl,omitempty"`
}

// RegistryMirror is a registry to mirror.
type RegistryMirror struct {
	// URL is the registry's base URL.
	URL string `json:"url"`
	// Token, if set, is sent as a bearer token.
	Token string `json:"token,omitempty"`
	// Interval, if set, makes a running registry (serve, registry serve)
	// sync from this source at that period, the first time at start.
	Interval Duration `json:"interval,omitzero"`
}

// RegistryEnabled reports whether "switchboard serve" mounts the
// registry.
func (c *Config) RegistryEnabled() bool {
	return c != nil && c.Registry != nil && (c.Registry.Enabled == nil || *c.Registry.Enabled)
}

// decodeRegistry decodes the "registry" section (nil when absent). The
// schema reports unknown keys and wrong types with their paths.
func (d *decoder) decodeRegistry(v any) *Registry {
	if v == nil {
		return nil
	}
	const path = "registry"
	m, ok := v.(map[string]any)
	if !ok {
		d.wrongType(path, v, "an object")
		return nil
	}
	d.expandAll(path, m)
	b, err := json.Marshal(m)
	if err != nil {
		d.errorf(prioDecode, path, "%v", err)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var r Registry
	if err := dec.Decode(&r); err != nil {
		// The schema names the key; this is only a fallback.
		d.errorf(prioSchema+1, path, "%v", err)
		return nil
	}
	if s := r.Curation.DeniedStatus; s != 0 && !slices.Contains([]int{401, 403, 404, 451}, s) {
		d.errorf(prioDecode, "registry.curation.deniedStatus", "want 401, 403, 404 or 451, got %d", s)
	}
	if p := r.Path; p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/")) {
		d.errorf(prioDecode, "registry.path", "want a path like \"/registry\" (a leading slash, no trailing one)")
	}
	if db := r.Database; db != "" && !d.opts.Raw {
		if u, err := url.Parse(db); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			d.errorf(prioDecode, "registry.database", "want a postgres:// URL, or nothing for the data directory's SQLite database")
		}
	}
	if k := r.JWTKey; k != "" && !d.opts.Raw && (len(k) != 64 || strings.Trim(strings.ToLower(k), "0123456789abcdef") != "") {
		d.errorf(prioDecode, "registry.jwtKey", "want 64 hexadecimal digits (an Ed25519 seed)")
	}
	for i, m := range r.Mirrors {
		if u, err := url.Parse(m.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.errorf(prioDecode, indexPath("registry.mirrors", i)+".url", "want an http(s) URL")
		}
	}
	return &r
}
