package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/limits"
	"github.com/switchboard-mcp/switchboard/pins"
	"github.com/switchboard-mcp/switchboard/policy"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/store"
	"github.com/switchboard-mcp/switchboard/tenants"
)

// governance is what serve runs of the configuration's policy, limits,
// tenants and virtualServers sections: it fills the gateway's hooks and
// virtual servers before the gateway starts (newGovernance), then starts
// what needs the gateway (start) and mounts its routes (mount, wrap).
type governance struct {
	log     *slog.Logger
	tenants *tenants.Tenants
	audit   *tenants.Audit
	guard   *pins.Guard
	pinning *config.Pinning
	db      *store.DB
	closers []func()
	http429 bool
	limited bool
}

// newGovernance applies cfg's governance sections to opts (nil cfg: none).
func newGovernance(cfg *config.Config, opts *gateway.Options, db *store.DB, logger *slog.Logger) (*governance, error) {
	gv := &governance{log: logger, db: db}
	if cfg == nil {
		return gv, nil
	}
	var authorizers []func(context.Context, *gateway.Access) error

	// Tenants first: nothing of another tenant is ever judged further.
	if len(cfg.Tenants) > 0 {
		var ts []tenants.Tenant
		for _, name := range govKeys(cfg.Tenants) {
			t := cfg.Tenants[name]
			ts = append(ts, tenants.Tenant{Name: name, Upstreams: t.Upstreams, AdminToken: t.AdminToken})
		}
		var err error
		if gv.tenants, err = tenants.New(ts); err != nil {
			return nil, err
		}
		gv.audit = tenants.NewAudit(gv.tenants, 0)
		authorizers = append(authorizers, gv.tenants.Authorize)
		opts.Hooks.Observe = append(opts.Hooks.Observe, gv.audit.Observe)
	}

	// Tool pinning.
	if p := cfg.Policy; p != nil && p.Pinning != nil && p.Pinning.Mode != "" && p.Pinning.Mode != config.PinningOff {
		if db == nil {
			return nil, errors.New("policy.pinning needs the data directory's store")
		}
		block := p.Pinning.BlockOnFindings == nil || *p.Pinning.BlockOnFindings
		g, err := pins.New(pins.Options{Mode: p.Pinning.Mode, BlockOnFindings: block, Store: db.Pins(), Logger: logger})
		if err != nil {
			return nil, err
		}
		gv.guard, gv.pinning = g, p.Pinning
		opts.Hooks.Catalog = g.Catalog
		authorizers = append(authorizers, g.Authorize)
	}

	// Tenants' own rules, then the global policy.
	for _, name := range govKeys(cfg.Tenants) {
		t := cfg.Tenants[name]
		if len(t.Rules) == 0 {
			continue
		}
		tp, err := policy.New(policy.Config{Rules: policyRules(t.Rules)}, &policy.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("tenants.%s.rules: %w", name, err)
		}
		authorizers = append(authorizers, func(ctx context.Context, a *gateway.Access) error {
			if a.Identity == nil || a.Identity.Tenant != name {
				return nil
			}
			return tp.Authorize(ctx, a)
		})
	}
	if p := cfg.Policy; p != nil && (len(p.Rules) > 0 || p.Default == policy.Deny) {
		pol, err := policy.New(policyConfig(p), &policy.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		authorizers = append(authorizers, pol.Authorize)
	}
	if len(authorizers) > 0 {
		if prev := opts.Hooks.Authorize; prev != nil {
			authorizers = append([]func(context.Context, *gateway.Access) error{prev}, authorizers...)
		}
		opts.Hooks.Authorize = chainAuthorize(authorizers)
	}

	// Limits.
	var limitRules []limits.Rule
	if l := cfg.Limits; l != nil {
		limitRules = append(limitRules, limitRulesOf(l.Rules, "")...)
	}
	for _, name := range govKeys(cfg.Tenants) {
		limitRules = append(limitRules, limitRulesOf(cfg.Tenants[name].Limits, name)...)
	}
	if len(limitRules) > 0 {
		lo := limits.Options{Rules: limitRules, Logger: logger}
		if l := cfg.Limits; l != nil && l.Store == "redis" {
			if l.Redis == nil {
				return nil, errors.New("limits: store redis needs limits.redis.url")
			}
			c, err := limits.DialRedis(l.Redis.URL, time.Duration(l.Redis.Timeout))
			if err != nil {
				return nil, err
			}
			gv.closers = append(gv.closers, func() { c.Close() })
			lo.Store = limits.NewRedis(c, l.Redis.Prefix)
			lo.FailClosed = l.Redis.FailMode == "closed"
		}
		lim, err := limits.New(lo)
		if err != nil {
			return nil, err
		}
		opts.Hooks.Admit = lim.Admit
		gv.limited = true
		gv.http429 = cfg.Limits == nil || cfg.Limits.HTTPStatus == nil || *cfg.Limits.HTTPStatus
	}

	// Virtual servers.
	for _, name := range govKeys(cfg.VirtualServers) {
		v := cfg.VirtualServers[name]
		vs := gateway.VirtualServer{Name: name, Title: v.Title, Instructions: v.Instructions, Upstreams: v.Upstreams,
			ToolMode: gateway.ToolMode(v.Tools), SearchHint: v.SearchHint}
		if v.Include != nil {
			vs.Tools, vs.Prompts, vs.Resources = v.Include.Tools, v.Include.Prompts, v.Include.Resources
		}
		if len(v.Overrides) > 0 {
			vs.Overrides = map[string]gateway.ToolOverride{}
			for tool, o := range v.Overrides {
				ov := gateway.ToolOverride{Name: o.Name, Title: o.Title, Description: o.Description}
				if a := o.Annotations; a != nil {
					ov.Annotations = &protocol.ToolAnnotations{Title: a.Title, ReadOnlyHint: a.ReadOnlyHint, DestructiveHint: a.DestructiveHint,
						IdempotentHint: a.IdempotentHint, OpenWorldHint: a.OpenWorldHint}
				}
				vs.Overrides[tool] = ov
			}
		}
		var own []func(context.Context, *gateway.Access) error
		if v.Tenant != "" {
			tenant := v.Tenant
			own = append(own, func(_ context.Context, a *gateway.Access) error {
				if a.Identity == nil || a.Identity.Tenant != tenant {
					return &gateway.Denial{Rule: "virtual-server-tenant", Reason: fmt.Sprintf("virtual server %q is tenant %q's", name, tenant)}
				}
				return nil
			})
		}
		if au := v.Auth; au != nil && (au.Required || len(au.Groups) > 0) {
			groups := au.Groups
			own = append(own, func(_ context.Context, a *gateway.Access) error {
				if a.Identity == nil || (a.Identity.Subject == "" && a.Identity.ClientID == "") {
					return &gateway.Denial{Rule: "virtual-server-auth", Reason: fmt.Sprintf("virtual server %q requires an authenticated caller", name)}
				}
				if len(groups) > 0 && !slices.ContainsFunc(a.Identity.Groups, func(g string) bool { return slices.Contains(groups, g) }) {
					return &gateway.Denial{Rule: "virtual-server-auth", Reason: fmt.Sprintf("virtual server %q admits the groups %v", name, groups)}
				}
				return nil
			})
		}
		if len(v.Rules) > 0 {
			vp, err := policy.New(policy.Config{Rules: policyRules(v.Rules)}, &policy.Options{Logger: logger})
			if err != nil {
				return nil, fmt.Errorf("virtualServers.%s.rules: %w", name, err)
			}
			own = append(own, vp.Authorize)
		}
		if len(own) > 0 {
			vs.Authorize = chainAuthorize(own)
		}
		opts.VirtualServers = append(opts.VirtualServers, vs)
	}
	// Who calls (Hooks.Identify) is set by the identity section
	// (identity.go), from the OAuth token or API key.
	return gv, nil
}

// chainAuthorize asks each authorizer in turn; the first refusal wins.
func chainAuthorize(fs []func(context.Context, *gateway.Access) error) func(context.Context, *gateway.Access) error {
	if len(fs) == 1 {
		return fs[0]
	}
	return func(ctx context.Context, a *gateway.Access) error {
		for _, f := range fs {
			if err := f(ctx, a); err != nil {
				return err
			}
		}
		return nil
	}
}

func policyRules(rs []config.PolicyRule) []policy.Rule {
	out := make([]policy.Rule, len(rs))
	for i, r := range rs {
		out[i] = policy.Rule{Name: r.Name, Effect: r.Effect, When: r.When, Reason: r.Reason}
	}
	return out
}

func policyConfig(p *config.Policy) policy.Config {
	return policy.Config{Mode: p.Mode, Default: p.Default, Rules: policyRules(p.Rules)}
}

func limitRulesOf(rs []config.LimitRule, scope string) []limits.Rule {
	out := make([]limits.Rule, len(rs))
	for i, r := range rs {
		out[i] = limits.Rule{Name: r.Name, Key: r.Key, Upstreams: r.Upstreams, Tools: r.Tools, Tenants: r.Tenants, Methods: r.Methods,
			Rate: r.Rate, Burst: r.Burst, Concurrency: r.Concurrency, Scope: scope}
	}
	return out
}

func govKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// start runs what needs the gateway: notices of tool pinning go to its
// observers, and approvals made by "switchboard tools approve" are picked
// up.
func (gv *governance) start(ctx context.Context, g *gateway.Gateway) {
	if gv.guard == nil {
		return
	}
	gv.guard.SetEmitter(g.Emit)
	go gv.guard.Watch(ctx, time.Duration(gv.pinning.PollInterval), func() { g.VisibilityChanged(ctx) })
}

// adminRoutes are the governance routes of the admin API (behind its
// token, loopback and CSRF checks): the tool definitions waiting for
// approval, and their approval.
func (gv *governance) adminRoutes() map[string]http.Handler {
	if gv.guard == nil {
		return nil
	}
	block := gv.pinning.BlockOnFindings == nil || *gv.pinning.BlockOnFindings
	return map[string]http.Handler{
		"GET /api/tools/pending": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			changes, err := pins.Changes(r.Context(), gv.db.Pins())
			if err != nil {
				writeAPIError(w, http.StatusInternalServerError, err)
				return
			}
			if changes == nil {
				changes = []pins.Change{}
			}
			writeAPIJSON(w, http.StatusOK, map[string]any{"pending": changes})
		}),
		"POST /api/tools/{upstream}/{tool}/approve": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k := pins.Key{Upstream: r.PathValue("upstream"), Tool: r.PathValue("tool")}
			override := r.URL.Query().Get("acceptFindings") == "true"
			pin, err := pins.Approve(r.Context(), gv.db.Pins(), k, "admin-api", block, override)
			switch {
			case errors.Is(err, pins.ErrFindings):
				writeAPIError(w, http.StatusConflict, err)
				return
			case err != nil:
				writeAPIError(w, http.StatusNotFound, err)
				return
			}
			writeAPIJSON(w, http.StatusOK, pin)
		}),
	}
}

// mount adds the tenants' own routes.
func (gv *governance) mount(mux *http.ServeMux, g *gateway.Gateway) {
	if gv.tenants != nil {
		mux.Handle(tenants.PathAPI, tenants.Handler(g, gv.tenants, gv.audit))
	}
}

// wrap answers limited requests with 429 where the transport allows.
func (gv *governance) wrap(h http.Handler) http.Handler {
	if gv.limited && gv.http429 {
		return limits.HTTPStatus(h)
	}
	return h
}

// close releases what the governance holds (the Redis client).
func (gv *governance) close() {
	for _, c := range gv.closers {
		c()
	}
}

func writeAPIJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeAPIError(w http.ResponseWriter, code int, err error) {
	writeAPIJSON(w, code, map[string]string{"error": http.StatusText(code), "message": err.Error()})
}
