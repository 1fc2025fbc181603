package identity

import (
	"context"
	"slices"
	"strings"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/mcp"
)

// Claims names the token claims an identity is read from.
type Claims struct {
	// Subject is the claim of the subject (default: the token's sub).
	Subject string
	// Tenant is the claim of the tenant (default "tenant"; Entra ID
	// calls it "tid").
	Tenant string
	// Groups is the claim of the groups (default "groups"; a string
	// claim is split on spaces and commas).
	Groups string
}

func (c Claims) withDefaults() Claims {
	if c.Tenant == "" {
		c.Tenant = "tenant"
	}
	if c.Groups == "" {
		c.Groups = "groups"
	}
	return c
}

// Identify returns a gateway.Hooks.Identify function: who makes a
// request, from the OAuth token or API key the auth middleware verified
// for it (auth.TokenInfoFrom). A request without one is anonymous (nil).
func Identify(c Claims) func(ctx context.Context, r *mcp.Request) *gateway.Identity {
	c = c.withDefaults()
	return func(ctx context.Context, _ *mcp.Request) *gateway.Identity {
		return FromToken(auth.TokenInfoFrom(ctx), c)
	}
}

// FromToken turns a verified token's description into an identity.
func FromToken(info *auth.TokenInfo, c Claims) *gateway.Identity {
	if info == nil {
		return nil
	}
	c = c.withDefaults()
	id := &gateway.Identity{
		Subject:  info.Subject,
		ClientID: info.ClientID,
		Scopes:   slices.Clone(info.Scopes),
		Binding:  info.Binding,
		Method:   Method(info),
	}
	if c.Subject != "" {
		if s, ok := info.Claims[c.Subject].(string); ok && s != "" {
			id.Subject = s
		}
	}
	id.Tenant, _ = info.Claims[c.Tenant].(string)
	id.Groups = stringList(info.Claims[c.Groups])
	return id
}

// Method names how a token's holder authenticated: "api-key", "machine"
// (client credentials), "workload" (workload identity federation),
// "id-jag" (enterprise-managed authorization), or "oauth" (a person's
// approval); "+dpop" is appended for DPoP-bound tokens.
func Method(info *auth.TokenInfo) string {
	m := "oauth"
	switch {
	case info.Grant == auth.GrantAPIKey:
		return "api-key"
	case info.Grant == auth.GrantWorkload:
		m = "workload"
	case info.Grant == auth.GrantIDJAG:
		m = "id-jag"
	case info.IsMachine():
		m = "machine"
	}
	if info.IsDPoPBound() {
		m += "+dpop"
	}
	return m
}

// stringList reads a claim holding a list of strings, or one string of
// space- or comma-separated values.
func stringList(v any) []string {
	switch x := v.(type) {
	case []string:
		return slices.Clone(x)
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case string:
		return strings.FieldsFunc(x, func(r rune) bool { return r == ' ' || r == ',' })
	}
	return nil
}
