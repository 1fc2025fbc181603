// Package policy decides, with rules written in CEL (the Common
// Expression Language, cel.dev/cel-go), who may see and use which feature
// of the gateway. One decision both filters what lists show and gates
// every call, read, prompt and completion, on every path the gateway
// serves (stateful and stateless Streamable HTTP, legacy SSE, stdio),
// because it is the gateway's Hooks.Authorize.
//
// A policy is an ordered list of rules; the first rule whose condition
// holds decides (allow or deny), and when none holds the default does. A
// denial names its rule and gives its reason to the caller (JSON-RPC
// error -32003, gateway.CodeDenied). In dry-run mode nothing is refused:
// what would have been is logged and recorded in the request's event
// (gateway.Event.WouldDeny).
//
// A rule's condition sees these variables:
//
//	identity   map: subject, clientId, tenant, method, groups (list),
//	           scopes (list), anonymous (bool)
//	tenant     string: identity.tenant
//	client     map: name, version (the client's self-description)
//	method     string: tools/call, resources/read, prompts/get,
//	           completion/complete, or the list's method (tools/list, ...)
//	listing    bool: the decision is whether a list shows the item
//	server     string: the virtual server ("" for the main endpoint)
//	upstream   string: the upstream that serves the feature
//	kind       string: tool, prompt, resource, resource template, upstream
//	name       string: the exposed name (or URI); original: the upstream's
//	tool       map: name, original, title, description, annotations
//	           (readOnlyHint, destructiveHint, idempotentHint,
//	           openWorldHint, with the specification's defaults applied)
//	args       map: the call's arguments ({} for list items)
//	session    map: id ("" without a session)
//	now        timestamp
//
// For example:
//
//	rules:
//	  - name: no-destructive-for-contractors
//	    effect: deny
//	    when: tool.annotations.destructiveHint && "contractors" in identity.groups
//	    reason: contractors may not run tools that change things
//
// A condition that reads a key the request lacks (an argument not given:
// args.path when there is no path) does not hold; arguments are only
// known when a tool is called, so for list items every condition on them
// is unknown and does not hold. A condition that fails otherwise (a type
// error) does not hold for a list item or an allow rule,
// and denies on a call when its rule is a deny rule (fail closed).
package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Effects of a rule.
const (
	Allow = "allow"
	Deny  = "deny"
)

// Modes of a policy.
const (
	// ModeEnforce refuses what the policy denies (the default).
	ModeEnforce = "enforce"
	// ModeDryRun serves everything and records what would be denied.
	ModeDryRun = "dry-run"
)

// DefaultRule is the rule name of a denial by the default.
const DefaultRule = "default"

// Config is a policy as written in the configuration file (the
// "policy" section).
type Config struct {
	// Mode is ModeEnforce (default) or ModeDryRun.
	Mode string `json:"mode,omitzero"`
	// Default is the effect when no rule holds: Allow (default) or Deny.
	Default string `json:"default,omitzero"`
	// Rules are tried in order; the first whose condition holds decides.
	Rules []Rule `json:"rules,omitempty"`
}

// Rule is one rule of a policy.
type Rule struct {
	// Name identifies the rule in denials and logs.
	Name string `json:"name"`
	// Effect is Allow or Deny (default Deny).
	Effect string `json:"effect,omitzero"`
	// When is the condition, a CEL expression of type bool.
	When string `json:"when"`
	// Reason is told to the caller a deny rule refuses.
	Reason string `json:"reason,omitzero"`
}

// Options configure a Policy.
type Options struct {
	// Logger receives dry-run denials and evaluation errors. Nil
	// discards them.
	Logger *slog.Logger
	// Now returns the time rules see as now (default time.Now).
	Now func() time.Time
}

// Policy is a compiled policy. It is safe for concurrent use.
type Policy struct {
	mode, def string
	rules     []compiled
	log       *slog.Logger
	now       func() time.Time
	tools     sync.Map // toolKey -> map[string]any, read-only once stored
	toolCount atomic.Int64
}

type compiled struct {
	Rule
	prg cel.Program
}

// env is the CEL environment of rules, built once.
var env = sync.OnceValues(func() (*cel.Env, error) {
	dyn := cel.MapType(cel.StringType, cel.DynType)
	return cel.NewEnv(
		cel.Variable("identity", dyn),
		cel.Variable("tenant", cel.StringType),
		cel.Variable("client", dyn),
		cel.Variable("method", cel.StringType),
		cel.Variable("listing", cel.BoolType),
		cel.Variable("server", cel.StringType),
		cel.Variable("upstream", cel.StringType),
		cel.Variable("kind", cel.StringType),
		cel.Variable("name", cel.StringType),
		cel.Variable("original", cel.StringType),
		cel.Variable("tool", dyn),
		cel.Variable("args", dyn),
		cel.Variable("session", dyn),
		cel.Variable("now", cel.TimestampType),
		ext.Strings(),
	)
})

// New compiles a policy. Every rule's condition is checked: a syntax or
// type error, or a condition that is not a bool, is an error naming the
// rule.
func New(cfg Config, opts *Options) (*Policy, error) {
	if opts == nil {
		opts = &Options{}
	}
	p := &Policy{mode: cfg.Mode, def: cfg.Default, log: opts.Logger, now: opts.Now}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	switch p.mode {
	case "":
		p.mode = ModeEnforce
	case ModeEnforce, ModeDryRun:
	default:
		return nil, fmt.Errorf("policy: unknown mode %q (enforce or dry-run)", cfg.Mode)
	}
	switch p.def {
	case "":
		p.def = Allow
	case Allow, Deny:
	default:
		return nil, fmt.Errorf("policy: unknown default %q (allow or deny)", cfg.Default)
	}
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("policy: CEL environment: %w", err)
	}
	var errs []error
	seen := map[string]bool{}
	for i, r := range cfg.Rules {
		where := fmt.Sprintf("rule %d", i+1)
		if r.Name != "" {
			where = fmt.Sprintf("rule %q", r.Name)
		}
		if r.Name == "" {
			errs = append(errs, fmt.Errorf("policy: %s: a rule needs a name", where))
		} else if seen[r.Name] {
			errs = append(errs, fmt.Errorf("policy: %s: two rules have this name", where))
		}
		seen[r.Name] = true
		switch r.Effect {
		case "":
			r.Effect = Deny
		case Allow, Deny:
		default:
			errs = append(errs, fmt.Errorf("policy: %s: unknown effect %q (allow or deny)", where, r.Effect))
		}
		if strings.TrimSpace(r.When) == "" {
			errs = append(errs, fmt.Errorf("policy: %s: no condition (when)", where))
			continue
		}
		ast, iss := e.Compile(r.When)
		if iss.Err() != nil {
			errs = append(errs, fmt.Errorf("policy: %s: %v", where, iss.Err()))
			continue
		}
		if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
			errs = append(errs, fmt.Errorf("policy: %s: the condition is a %s, not a bool", where, ast.OutputType()))
			continue
		}
		prg, err := e.Program(ast, cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			errs = append(errs, fmt.Errorf("policy: %s: %v", where, err))
			continue
		}
		p.rules = append(p.rules, compiled{Rule: r, prg: prg})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Mode returns the policy's mode.
func (p *Policy) Mode() string { return p.mode }

// Decision is what a policy decided about an access.
type Decision struct {
	// Allow is the decision.
	Allow bool
	// Rule names the rule that decided (DefaultRule for the default).
	Rule string
	// Reason is a deny rule's reason.
	Reason string
	// Err is the evaluation error that made the rule deny, if any.
	Err error
}

// Denial returns the gateway denial of a deny decision (nil for allow).
func (d Decision) Denial() *gateway.Denial {
	if d.Allow {
		return nil
	}
	return &gateway.Denial{Rule: d.Rule, Reason: d.Reason}
}

// String describes the decision: "allow (rule x)", "deny by rule x: why".
func (d Decision) String() string {
	if d.Allow {
		return fmt.Sprintf("allow (rule %q)", d.Rule)
	}
	return fmt.Sprintf("deny by rule %q: %s", d.Rule, d.Reason)
}

// Decide evaluates the policy for a (in either mode).
func (p *Policy) Decide(a *gateway.Access) Decision { return p.decide(a, nil, "") }

// decide is Decide with the client and session of a fixture (a has no
// Request).
func (p *Policy) decide(a *gateway.Access, client *protocol.Implementation, session string) Decision {
	act := &activation{p: p, a: a, now: p.now, client: client, session: session}
	for i := range p.rules {
		r := &p.rules[i]
		out, _, err := r.prg.Eval(act)
		if err == nil {
			b, ok := out.Value().(bool)
			if !ok {
				err = fmt.Errorf("the condition gave %v, not a bool", out.Type())
			} else if !b {
				continue
			} else if r.Effect == Allow {
				return Decision{Allow: true, Rule: r.Name}
			} else {
				return Decision{Rule: r.Name, Reason: r.reason()}
			}
		}
		if a.Listing || r.Effect == Allow || missingKey(err) {
			continue
		}
		p.log.Warn("policy: a deny rule could not be evaluated; denying", "rule", r.Name, "err", err)
		return Decision{Rule: r.Name, Reason: "the rule could not be evaluated for this request (" + err.Error() + ")", Err: err}
	}
	if p.def == Deny {
		return Decision{Rule: DefaultRule, Reason: "no rule allows this"}
	}
	return Decision{Allow: true, Rule: DefaultRule}
}

// missingKey reports whether a rule failed only because it read a key
// the request does not have (an argument not given): such a condition
// does not hold.
func missingKey(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no such key") || strings.Contains(msg, "no such attribute")
}

func (r *compiled) reason() string {
	if r.Reason != "" {
		return r.Reason
	}
	return "denied by policy"
}

// Authorize is the gateway's Hooks.Authorize for this policy: it returns
// the *gateway.Denial of a deny decision; in dry-run mode it logs the
// denial, notes it for the request's event (gateway.NoteWouldDeny) and
// allows.
func (p *Policy) Authorize(ctx context.Context, a *gateway.Access) error {
	d := p.Decide(a)
	if d.Allow {
		return nil
	}
	den := d.Denial()
	if p.mode == ModeDryRun {
		if !a.Listing {
			gateway.NoteWouldDeny(ctx, den)
		}
		p.log.Info("policy (dry run): would deny", "rule", den.Rule, "reason", den.Reason, "method", a.Method,
			"upstream", a.Upstream, "name", a.Name, "listing", a.Listing, "subject", subject(a.Identity))
		return nil
	}
	return den
}

func subject(id *gateway.Identity) string {
	if id == nil {
		return ""
	}
	return id.Subject
}

// activation resolves a rule's variables from an Access, lazily: the
// arguments are decoded only when a rule reads them.
type activation struct {
	p       *Policy
	a       *gateway.Access
	client  *protocol.Implementation
	session string
	// identity and tool are built once per decision, on first use.
	identity, tool map[string]any
	now            func() time.Time
	args           map[string]any
	done           bool
}

func (v *activation) Parent() interpreter.Activation { return nil }

func (v *activation) ResolveName(name string) (any, bool) {
	a := v.a
	switch name {
	case "identity":
		if v.identity == nil {
			v.identity = identityMap(a.Identity)
		}
		return v.identity, true
	case "tenant":
		if a.Identity == nil {
			return "", true
		}
		return a.Identity.Tenant, true
	case "client":
		m := map[string]any{"name": "", "version": ""}
		if v.client != nil {
			m["name"], m["version"] = v.client.Name, v.client.Version
		} else if a.Request != nil {
			ci := a.Request.ClientInfo()
			m["name"], m["version"] = ci.Name, ci.Version
		}
		return m, true
	case "method":
		return a.Method, true
	case "listing":
		return a.Listing, true
	case "server":
		return a.VirtualServer, true
	case "upstream":
		return a.Upstream, true
	case "kind":
		return a.Kind, true
	case "name":
		return a.Name, true
	case "original":
		return a.Original, true
	case "tool":
		if v.tool == nil {
			v.tool = v.p.toolMap(a)
		}
		return v.tool, true
	case "args":
		if !v.done {
			v.done = true
			v.args = map[string]any{}
			if len(a.Arguments) > 0 {
				var m map[string]any
				if json.Unmarshal(a.Arguments, &m) == nil && m != nil {
					v.args = m
				}
			}
		}
		return v.args, true
	case "session":
		id := v.session
		if a.Request != nil && a.Request.Session != nil {
			id = a.Request.Session.ID()
		}
		return map[string]any{"id": id}, true
	case "now":
		return types.Timestamp{Time: v.now()}, true
	}
	return nil, false
}

func identityMap(id *gateway.Identity) map[string]any {
	if id == nil {
		return map[string]any{"subject": "", "clientId": "", "tenant": "", "method": "", "groups": []string{}, "scopes": []string{}, "anonymous": true}
	}
	groups, scopes := id.Groups, id.Scopes
	if groups == nil {
		groups = []string{}
	}
	if scopes == nil {
		scopes = []string{}
	}
	return map[string]any{"subject": id.Subject, "clientId": id.ClientID, "tenant": id.Tenant, "method": id.Method,
		"groups": groups, "scopes": scopes, "anonymous": id.Subject == "" && id.ClientID == ""}
}

// toolKey names a tool definition the gateway keeps (Access.Tool points
// into its catalog), for the cache of tool variables.
type toolKey struct {
	t              *protocol.Tool
	name, original string
}

// maxToolCache bounds the cache of tool variables (it is dropped whole
// when full: the catalog changed many times).
const maxToolCache = 4096

// toolMap returns the tool variable of a, from the cache when the same
// definition was seen.
func (p *Policy) toolMap(a *gateway.Access) map[string]any {
	k := toolKey{a.Tool, a.Name, a.Original}
	if a.Tool != nil {
		if m, ok := p.tools.Load(k); ok {
			return m.(map[string]any)
		}
	}
	m := toolMap(a)
	if a.Tool != nil {
		if p.toolCount.Add(1) > maxToolCache {
			p.tools.Clear()
			p.toolCount.Store(0)
		}
		p.tools.Store(k, m)
	}
	return m
}

func toolMap(a *gateway.Access) map[string]any {
	m := map[string]any{"name": a.Name, "original": a.Original, "title": "", "description": ""}
	var t *protocol.Tool
	if a.Tool != nil {
		t = a.Tool
		m["title"], m["description"] = t.Title, t.Description
	}
	ann := map[string]any{"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": true}
	if t != nil && t.Annotations != nil {
		ann["readOnlyHint"] = t.Annotations.ReadOnly()
		ann["destructiveHint"] = t.Annotations.Destructive()
		ann["idempotentHint"] = t.Annotations.Idempotent()
		ann["openWorldHint"] = t.Annotations.OpenWorld()
	}
	m["annotations"] = ann
	return m
}
