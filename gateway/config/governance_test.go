package config

import (
	"strings"
	"testing"
)

const governanceYAML = `
mcpServers:
  github: {url: "https://example.com/mcp"}
  acme-db: {command: acme-db}
  globex-db: {command: globex-db}
policy:
  mode: dry-run
  default: allow
  rules:
    - name: no-destructive
      when: tool.annotations.destructiveHint && "contractors" in identity.groups
      reason: contractors may not change things
  pinning: {mode: first-sight, pollInterval: 2s}
limits:
  store: redis
  redis: {url: "${REDIS_URL:-redis://127.0.0.1:6379/0}", failMode: closed}
  rules:
    - {name: per-user, key: [tenant, identity], rate: 60/m, burst: 10, concurrency: 4}
tenants:
  acme: {upstreams: [acme-db, github], adminToken: "${ACME_TOKEN:-t1}"}
  globex: {upstreams: [globex-db]}
virtualServers:
  support:
    title: Support
    upstreams: [github]
    include: {tools: ["github_*issue*"]}
    tools: search
    overrides:
      github_create_issue: {name: open_ticket, annotations: {destructiveHint: false}}
    tenant: acme
    auth: {required: true, groups: [support]}
`

func TestGovernanceSections(t *testing.T) {
	c, err := Parse([]byte(governanceYAML), FormatYAML, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy == nil || c.Policy.Mode != "dry-run" || len(c.Policy.Rules) != 1 || c.Policy.Rules[0].Name != "no-destructive" ||
		c.Policy.Pinning == nil || c.Policy.Pinning.Mode != PinningFirstSight || c.Policy.Pinning.PollInterval.String() != "2s" {
		t.Errorf("policy: %+v", c.Policy)
	}
	if c.Limits == nil || c.Limits.Store != "redis" || c.Limits.Redis.URL != "redis://127.0.0.1:6379/0" || c.Limits.Redis.FailMode != "closed" ||
		len(c.Limits.Rules) != 1 || c.Limits.Rules[0].Rate != "60/m" || c.Limits.Rules[0].Concurrency != 4 {
		t.Errorf("limits: %+v", c.Limits)
	}
	if a := c.Tenants["acme"]; a == nil || a.Name != "acme" || a.AdminToken != "t1" || len(a.Upstreams) != 2 {
		t.Errorf("tenants: %+v", c.Tenants)
	}
	v := c.VirtualServers["support"]
	if v == nil || v.Name != "support" || v.Tools != ToolModeSearch || v.Overrides["github_create_issue"].Name != "open_ticket" ||
		*v.Overrides["github_create_issue"].Annotations.DestructiveHint || v.Auth == nil || !v.Auth.Required || v.Tenant != "acme" {
		t.Errorf("virtual server: %+v", v)
	}
}

func TestGovernanceErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown rule key", "policy: {rules: [{name: a, when: 'true', effect: deny, wen: x}]}", `policy.rules[0].wen: unknown key "wen"`},
		{"bad effect", "policy: {rules: [{name: a, when: 'true', effect: maybe}]}", `policy.rules[0].effect: want "allow" or "deny"`},
		{"bad rate", "limits: {rules: [{name: a, rate: 'lots'}]}", `limits.rules[0].rate`},
		{"bad key", "limits: {rules: [{name: a, key: [user]}]}", `limits.rules[0].key[0]`},
		{"tenant server", "mcpServers: {a: {command: x}}\ntenants: {acme: {upstreams: [b]}}", `no server is named "b"`},
		{"virtual name", "virtualServers: {'a/b': {}}", "URL path segment"},
		{"virtual tenant", "virtualServers: {v: {tenant: nobody}}", `no tenant is named "nobody"`},
		{"tool mode", "virtualServers: {v: {tools: some}}", `virtualServers.v.tools: want "all" or "search"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), FormatYAML, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}
