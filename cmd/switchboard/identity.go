package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/gateway/upstreamauth"
	"github.com/switchboard-mcp/switchboard/identity"
	"github.com/switchboard-mcp/switchboard/store"
)

// serveIdentity is what the configuration's "identity" section and the
// servers' "auth" add to "switchboard serve" (see docs/identity.md): API
// keys, the caller's identity in every request (Hooks.Identify), DPoP,
// session-bound tools, SSO and trusted assertion issuers at the embedded
// authorization server, and each upstream's credentials.
type serveIdentity struct {
	cfg   config.Identity
	log   *slog.Logger
	vault *identity.Vault
	keys  *identity.Keys
	reg   *upstreamauth.Registry
	sso   *identity.SSO
	base  string // the gateway's base URL ("" over stdio)
	keep  bool   // some upstream exchanges or passes on the caller's token
	mu    sync.Mutex
}

// identityUpstreams, when set, gives the upstreams of a configuration
// their credentials (upstreamsOf calls it, on start and on reloads).
var identityUpstreams func(*config.Config, []gateway.Upstream) []gateway.Upstream

// newServeIdentity prepares the identity of "switchboard serve" from the
// configuration (nil: none) and the data directory's store.
func newServeIdentity(ctx context.Context, c *config.Config, db *store.DB, logger *slog.Logger) (*serveIdentity, error) {
	s := &serveIdentity{log: logger, reg: upstreamauth.NewRegistry()}
	if c != nil && c.Identity != nil {
		s.cfg = *c.Identity
	}
	v, err := identity.NewVault(ctx, db.Identity())
	if err != nil {
		return nil, err
	}
	s.vault = v
	s.keys = identity.NewKeys(db.Identity(), v)
	if c != nil {
		for _, srv := range c.Servers {
			if a := srv.Auth; a != nil && (a.Mode == config.AuthTokenExchange || a.Mode == config.AuthIDJAG || a.Mode == config.AuthPassthrough) {
				s.keep = true
			}
		}
	}
	return s, nil
}

// apply sets the gateway options: who calls (Identify), the upstream
// middleware (consent and 401 relay), session-bound tools, and each
// upstream's credentials. base is the gateway's URL ("" over stdio).
func (s *serveIdentity) apply(c *config.Config, opts *gateway.Options, base string) error {
	s.base = base
	claims := identity.Claims{Subject: s.cfg.Claims.Subject, Tenant: s.cfg.Claims.Tenant, Groups: s.cfg.Claims.Groups}
	if opts.Hooks.Identify == nil {
		opts.Hooks.Identify = identity.Identify(claims)
	}
	opts.Hooks.UpstreamMiddleware = append(opts.Hooks.UpstreamMiddleware, s.reg.Middleware())
	if len(s.cfg.SessionBound) > 0 {
		opts.Hooks.Authorize = identity.SessionBound(s.cfg.SessionBound, opts.Hooks.Authorize)
	}
	if c == nil {
		return nil
	}
	var err error
	opts.Upstreams, err = s.upstreams(c, opts.Upstreams)
	identityUpstreams = func(c *config.Config, ups []gateway.Upstream) []gateway.Upstream {
		out, err := s.upstreams(c, ups)
		if err != nil {
			s.log.Error("identity: upstream credentials", "err", err)
		}
		return out
	}
	return err
}

// upstreams gives each upstream with an "auth" its credentials.
func (s *serveIdentity) upstreams(c *config.Config, ups []gateway.Upstream) ([]gateway.Upstream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	auths := map[string]*upstreamauth.Auth{}
	out := slices.Clone(ups)
	for i := range out {
		u := &out[i]
		srv := c.Servers[u.Name]
		if srv == nil || srv.Auth == nil || srv.Auth.Mode == config.AuthNone || u.URL == "" {
			continue
		}
		callback := ""
		if s.base != "" {
			callback = s.base + pathOAuthCallback
		}
		a, err := upstreamauth.New(upstreamauth.Options{Upstream: u.Name, URL: u.URL, Config: *srv.Auth, Vault: s.vault, CallbackURL: callback, Logger: s.log})
		if err != nil {
			return ups, err
		}
		auths[u.Name] = a
		u.HTTPClient = &http.Client{Transport: a}
	}
	s.reg.Set(auths)
	return out, nil
}

// pathOAuthCallback is the gateway's redirect URI of oauth-user consents.
const pathOAuthCallback = "/oauth/callback"

// authServerOptions adds SSO, trusted assertion issuers and DPoP to the
// embedded authorization server's options.
func (s *serveIdentity) authServerOptions(ctx context.Context, o *authserver.Options) error {
	conv := func(list []config.AssertionIssuer) []authserver.AssertionIssuer {
		var out []authserver.AssertionIssuer
		for _, is := range list {
			out = append(out, authserver.AssertionIssuer{Issuer: is.Issuer, JWKSURL: is.JWKSURL, Claims: is.Claims, Scopes: is.Scopes,
				Resources: is.Resources, SubjectPrefix: is.SubjectPrefix, CopyClaims: is.CopyClaims})
		}
		return out
	}
	o.IDJAGIssuers = conv(s.cfg.IDJAG)
	o.WorkloadIssuers = conv(s.cfg.Workloads)
	if s.cfg.DPoP != nil {
		o.DPoP, o.DPoPNonce = true, s.cfg.DPoP.Nonce
	}
	if sso := s.cfg.SSO; sso != nil {
		secret := sso.ClientSecret
		if name, ok := strings.CutPrefix(secret, upstreamauth.VaultRefPrefix); ok {
			b, err := s.vault.Get(ctx, upstreamauth.VaultConfigName(name))
			if err != nil {
				return fmt.Errorf("identity.sso.clientSecret: the vault secret %q: %w", name, err)
			}
			secret = string(b)
		}
		v, err := identity.NewSSO(ctx, identity.SSOOptions{
			Name: sso.Name, Issuer: sso.Issuer, ClientID: sso.ClientID, ClientSecret: secret, Scopes: sso.Scopes,
			SubjectClaim: sso.SubjectClaim, GroupsClaim: sso.GroupsClaim, TenantClaim: sso.TenantClaim, RequiredGroups: sso.RequiredGroups,
			CallbackURL: o.Issuer + identity.SSOCallbackPath, Vault: s.vault, Logger: s.log,
		})
		if err != nil {
			return err
		}
		s.sso = v
		o.Identify, o.Revalidate = v.Identify, v.Revalidate
	}
	return nil
}

// authServerHandler serves the SSO redirect endpoint beside the
// authorization server.
func (s *serveIdentity) authServerHandler(as http.Handler) http.Handler {
	if s.sso == nil {
		return as
	}
	mux := http.NewServeMux()
	mux.Handle(identity.SSOCallbackPath, s.sso)
	mux.Handle("/", as)
	return mux
}

// middlewareOptions adds DPoP, subject token keeping and API keys to the
// resource server of /mcp.
func (s *serveIdentity) middleware(v auth.Verifier, o *auth.Options) auth.Verifier {
	if s.cfg.DPoP != nil {
		o.DPoP = &auth.DPoPOptions{Required: s.cfg.DPoP.Required, RequireNonce: s.cfg.DPoP.Nonce}
	}
	o.KeepSubjectToken = s.keep
	if s.cfg.APIKeys {
		return s.keys.Verifier(v)
	}
	return v
}

// mountAPIKeys serves /mcp behind API keys on a gateway without an
// authorization server whose configuration accepts them; it reports
// whether it did (the caller mounts the gateway otherwise).
func (s *serveIdentity) mountAPIKeys(mux *http.ServeMux, g *gateway.Gateway) bool {
	if !s.cfg.APIKeys {
		return false
	}
	mux.Handle(gateway.PathMCP, s.keys.RequireAPIKey(g.MCPHandler()))
	for _, name := range g.VirtualServerNames() {
		mux.Handle(gateway.PathVirtual+name+gateway.PathMCP, s.keys.RequireAPIKey(g.VirtualHandler(name)))
	}
	mux.HandleFunc(gateway.PathHealthz, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.Handle(gateway.PathReadyz, g.Handler())
	fmt.Fprintf(os.Stderr, "  API keys required at %s (switchboard keys create)\n", gateway.PathMCP)
	return true
}
