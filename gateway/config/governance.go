package config

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// The governance sections: "policy", "limits", "tenants" and
// "virtualServers". The JSON Schema checks their structure; the packages
// that apply them (policy, limits, tenants) check the rest — CEL
// conditions compile, rates parse — when the gateway starts.

// Policy is the "policy" section: CEL rules that decide who may see and
// use which feature (see package policy and docs/policy.md).
type Policy struct {
	// Mode is "enforce" (default) or "dry-run" (log and record what
	// would be denied, deny nothing).
	Mode string `json:"mode,omitzero"`
	// Default is the effect when no rule holds: "allow" (default) or
	// "deny".
	Default string `json:"default,omitzero"`
	// Rules are tried in order; the first whose condition holds decides.
	Rules []PolicyRule `json:"rules,omitempty"`
	// Pinning configures tool-definition pinning and poisoning checks.
	Pinning *Pinning `json:"pinning,omitempty"`
}

// PolicyRule is one rule of a policy.
type PolicyRule struct {
	// Name identifies the rule in denials.
	Name string `json:"name"`
	// Effect is "allow" or "deny" (default "deny").
	Effect string `json:"effect,omitzero"`
	// When is the condition, a CEL expression.
	When string `json:"when"`
	// Reason is told to the caller a deny rule refuses.
	Reason string `json:"reason,omitzero"`
}

// Pinning modes, the values of [Pinning.Mode].
const (
	// PinningOff does not pin tool definitions (the default).
	PinningOff = "off"
	// PinningFirstSight pins a tool's definition the first time the
	// gateway sees it; a later change is withheld until approved.
	PinningFirstSight = "first-sight"
	// PinningApproval withholds every tool until an administrator
	// approves its definition.
	PinningApproval = "approval"
)

// Pinning is policy.pinning.
type Pinning struct {
	// Mode is [PinningOff] (default), [PinningFirstSight] or
	// [PinningApproval].
	Mode string `json:"mode,omitzero"`
	// BlockOnFindings makes findings of the poisoning checks (hidden
	// instructions, invisible Unicode, lookalike names) block approval
	// and pinning on first sight, unless an approval overrides them
	// explicitly. Default true.
	BlockOnFindings *bool `json:"blockOnFindings,omitempty"`
	// PollInterval is how often the gateway looks for approvals made by
	// "switchboard tools approve" (default 5s).
	PollInterval Duration `json:"pollInterval,omitzero"`
}

// Limits is the "limits" section: rate and concurrency limits (see
// package limits and docs/policy.md).
type Limits struct {
	// Store is "memory" (default: per gateway process) or "redis"
	// (shared by every gateway using the same Redis).
	Store string `json:"store,omitzero"`
	// Redis configures the redis store.
	Redis *Redis `json:"redis,omitempty"`
	// HTTPStatus answers a limited request with HTTP 429 and
	// Retry-After when the transport allows (a JSON response on
	// Streamable HTTP); otherwise, and when false, the caller gets a tool
	// error that says how long to wait. Default true.
	HTTPStatus *bool `json:"httpStatus,omitempty"`
	// Rules are the limits; a request is held to every rule it matches.
	Rules []LimitRule `json:"rules,omitempty"`
}

// Redis is limits.redis.
type Redis struct {
	// URL is the Redis URL, redis://[user:password@]host:port/db
	// (substitution allowed: ${REDIS_URL}).
	URL string `json:"url"`
	// FailMode is what happens when Redis cannot be reached: "open"
	// (default: allow, and log) or "closed" (refuse).
	FailMode string `json:"failMode,omitzero"`
	// Prefix starts every key (default "switchboard:limits:").
	Prefix string `json:"prefix,omitzero"`
	// Timeout bounds each Redis operation (default 100ms).
	Timeout Duration `json:"timeout,omitzero"`
}

// LimitRule is one limit.
type LimitRule struct {
	// Name identifies the limit in refusals.
	Name string `json:"name"`
	// Key lists what the limit counts by: "tenant", "identity",
	// "upstream", "tool" (default ["identity"]): one bucket per distinct
	// combination.
	Key []string `json:"key,omitempty"`
	// Upstreams, Tools (exposed names) and Tenants restrict the rule to
	// matching requests ("*" wildcards); empty matches all.
	Upstreams []string `json:"upstreams,omitempty"`
	Tools     []string `json:"tools,omitempty"`
	Tenants   []string `json:"tenants,omitempty"`
	// Methods restricts the rule to these methods (default: tools/call,
	// resources/read, prompts/get and completion/complete).
	Methods []string `json:"methods,omitempty"`
	// Rate is a token bucket, "N/s", "N/m", "N/h" or "N/d" (N requests
	// per period, refilled evenly).
	Rate string `json:"rate,omitzero"`
	// Burst is the bucket's size (default N of Rate).
	Burst int `json:"burst,omitzero"`
	// Concurrency bounds the requests in flight (0: no bound).
	Concurrency int `json:"concurrency,omitzero"`
}

// Tenant is an entry of the "tenants" map: an organization whose
// identities (Identity.Tenant) see only its upstreams.
type Tenant struct {
	// Name is the entry's key.
	Name string `json:"-"`
	// Upstreams are the servers the tenant may use: its own (entries of
	// mcpServers with its credentials) and its share of common ones.
	Upstreams []string `json:"upstreams"`
	// Rules are the tenant's own policy rules, tried before the global
	// ones for its identities.
	Rules []PolicyRule `json:"rules,omitempty"`
	// Limits are the tenant's own limits (each counted within the
	// tenant).
	Limits []LimitRule `json:"limits,omitempty"`
	// AdminToken, if set, lets the tenant read its own sessions and
	// audit stream at /api/tenants/NAME/ (Authorization: Bearer).
	AdminToken string `json:"adminToken,omitzero"`
}

// Tool modes of a virtual server, the values of [VirtualServer.Tools].
const (
	ToolModeAll    = "all"
	ToolModeSearch = "search"
)

// VirtualServer is an entry of the "virtualServers" map: a chosen set of
// the upstreams' tools, prompts and resources at /v/NAME/mcp.
type VirtualServer struct {
	// Name is the entry's key.
	Name string `json:"-"`
	// Title and Instructions are sent to its clients.
	Title        string `json:"title,omitzero"`
	Instructions string `json:"instructions,omitzero"`
	// Upstreams restricts it to these servers (default all).
	Upstreams []string `json:"upstreams,omitempty"`
	// Include selects tools, prompts and resources by exposed name or
	// URI ("*" wildcards); an empty list selects all of that kind.
	Include *Include `json:"include,omitempty"`
	// Tools is [ToolModeAll] (default) or [ToolModeSearch] (two
	// meta-tools, find_tools and call_tool).
	Tools string `json:"tools,omitzero"`
	// SearchHint is added to find_tools' description.
	SearchHint string `json:"searchHint,omitzero"`
	// Overrides change tools' name, title, description and annotations,
	// keyed by their exposed name.
	Overrides map[string]ToolOverride `json:"overrides,omitempty"`
	// Tenant, if set, reserves the server to that tenant's identities.
	Tenant string `json:"tenant,omitzero"`
	// Auth sets who may connect.
	Auth *VirtualAuth `json:"auth,omitempty"`
	// Rules are the server's own policy rules, tried after the global
	// ones.
	Rules []PolicyRule `json:"rules,omitempty"`
}

// Include is a virtual server's selection.
type Include struct {
	Tools     []string `json:"tools,omitempty"`
	Prompts   []string `json:"prompts,omitempty"`
	Resources []string `json:"resources,omitempty"`
}

// ToolOverride changes how a virtual server shows a tool.
type ToolOverride struct {
	Name        string           `json:"name,omitzero"`
	Title       string           `json:"title,omitzero"`
	Description string           `json:"description,omitzero"`
	Annotations *AnnotationsSpec `json:"annotations,omitempty"`
}

// AnnotationsSpec are tool annotations in a configuration file.
type AnnotationsSpec struct {
	Title           string `json:"title,omitzero"`
	ReadOnlyHint    *bool  `json:"readOnlyHint,omitempty"`
	DestructiveHint *bool  `json:"destructiveHint,omitempty"`
	IdempotentHint  *bool  `json:"idempotentHint,omitempty"`
	OpenWorldHint   *bool  `json:"openWorldHint,omitempty"`
}

// VirtualAuth is a virtual server's authentication requirement.
type VirtualAuth struct {
	// Required refuses anonymous callers.
	Required bool `json:"required,omitzero"`
	// Groups, if set, admits only callers in one of them.
	Groups []string `json:"groups,omitempty"`
}

var governanceName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// decodeGovernance decodes the governance sections of root into cfg.
func (d *decoder) decodeGovernance(root map[string]any, cfg *Config) {
	if v, ok := root["limits"].(map[string]any); ok {
		if r, ok := v["redis"].(map[string]any); ok {
			d.str(r, "url", "limits.redis")
		}
	}
	if v, ok := root["tenants"].(map[string]any); ok {
		for name, t := range v {
			if m, ok := t.(map[string]any); ok {
				d.str(m, "adminToken", childPath("tenants", name))
			}
		}
	}
	section := func(key string, dst any) {
		v, ok := root[key]
		if !ok {
			return
		}
		b, err := json.Marshal(v)
		if err == nil {
			err = json.Unmarshal(b, dst)
		}
		if err != nil {
			// The schema reports the details of what does not fit.
			d.errorf(prioDecode+1, key, "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	section("policy", &cfg.Policy)
	section("limits", &cfg.Limits)
	section("tenants", &cfg.Tenants)
	section("virtualServers", &cfg.VirtualServers)
	for name, t := range cfg.Tenants {
		if t == nil {
			delete(cfg.Tenants, name)
			continue
		}
		t.Name = name
		if !governanceName.MatchString(name) {
			d.errorf(prioDecode, childPath("tenants", name), "a tenant's name holds letters, digits, '.', '_' and '-'")
		}
		for _, u := range t.Upstreams {
			if _, ok := cfg.Servers[u]; !ok {
				d.errorf(prioDecode, childPath("tenants", name)+".upstreams", "no server is named %q", u)
			}
		}
	}
	for name, v := range cfg.VirtualServers {
		if v == nil {
			delete(cfg.VirtualServers, name)
			continue
		}
		v.Name = name
		p := childPath("virtualServers", name)
		if !governanceName.MatchString(name) {
			d.errorf(prioDecode, p, "a virtual server's name holds letters, digits, '.', '_' and '-' (it is a URL path segment)")
		}
		for _, u := range v.Upstreams {
			if _, ok := cfg.Servers[u]; !ok {
				d.errorf(prioDecode, p+".upstreams", "no server is named %q", u)
			}
		}
		if v.Tenant != "" {
			if _, ok := cfg.Tenants[v.Tenant]; !ok {
				d.errorf(prioDecode, p+".tenant", "no tenant is named %q", v.Tenant)
			}
		}
	}
}

// String describes a tenant for messages.
func (t *Tenant) String() string { return fmt.Sprintf("tenant %q", t.Name) }
