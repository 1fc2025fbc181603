package policy_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/internal/govtest"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/policy"
	"github.com/switchboard-mcp/switchboard/protocol"
)

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

var testRules = policy.Config{Rules: []policy.Rule{
	{Name: "admins-anything", Effect: policy.Allow, When: `"admins" in identity.groups`},
	{Name: "no-destructive-for-contractors", When: `kind == "tool" && tool.annotations.destructiveHint && "contractors" in identity.groups`, Reason: "contractors may not run tools that change things"},
	{Name: "no-etc", When: `method == "tools/call" && args.path.startsWith("/etc")`, Reason: "not under /etc"},
	{Name: "prod-needs-grant", When: `upstream == "prod" && !("prod:session" in identity.scopes)`, Reason: "ask for a session grant"},
	{Name: "tenant-match", When: `tenant != "" && tenant != "acme" && server == "acme"`, Reason: "acme's server"},
}}

func TestDecide(t *testing.T) {
	p, err := policy.New(testRules, nil)
	if err != nil {
		t.Fatal(err)
	}
	destructive := &protocol.Tool{Name: "fs_rm", Annotations: &protocol.ToolAnnotations{DestructiveHint: yes()}}
	readOnly := &protocol.Tool{Name: "fs_ls", Annotations: &protocol.ToolAnnotations{ReadOnlyHint: yes(), DestructiveHint: no()}}
	contractor := &gateway.Identity{Subject: "bob", Groups: []string{"contractors"}}
	admin := &gateway.Identity{Subject: "ada", Groups: []string{"admins", "contractors"}}
	for _, tc := range []struct {
		name string
		a    gateway.Access
		rule string
		deny bool
	}{
		{"contractor, destructive", gateway.Access{Method: "tools/call", Kind: "tool", Tool: destructive, Identity: contractor}, "no-destructive-for-contractors", true},
		{"contractor, destructive, listed", gateway.Access{Method: "tools/list", Listing: true, Kind: "tool", Tool: destructive, Identity: contractor}, "no-destructive-for-contractors", true},
		{"contractor, unannotated (destructive by default)", gateway.Access{Method: "tools/call", Kind: "tool", Tool: &protocol.Tool{Name: "x"}, Identity: contractor}, "no-destructive-for-contractors", true},
		{"contractor, read-only", gateway.Access{Method: "tools/call", Kind: "tool", Tool: readOnly, Identity: contractor}, policy.DefaultRule, false},
		{"admin, destructive", gateway.Access{Method: "tools/call", Kind: "tool", Tool: destructive, Identity: admin}, "admins-anything", false},
		{"args under /etc", gateway.Access{Method: "tools/call", Kind: "tool", Tool: readOnly, Arguments: jsontext.Value(`{"path":"/etc/passwd"}`)}, "no-etc", true},
		{"args elsewhere", gateway.Access{Method: "tools/call", Kind: "tool", Tool: readOnly, Arguments: jsontext.Value(`{"path":"/tmp/x"}`)}, policy.DefaultRule, false},
		{"args missing on a call: the condition does not hold", gateway.Access{Method: "tools/call", Kind: "tool", Tool: readOnly}, policy.DefaultRule, false},
		{"a type error on a call: the deny rule fails closed", gateway.Access{Method: "tools/call", Kind: "tool", Tool: readOnly, Arguments: jsontext.Value(`{"path":7}`)}, "no-etc", true},
		{"args unknown in a list", gateway.Access{Method: "tools/list", Listing: true, Kind: "tool", Tool: readOnly}, policy.DefaultRule, false},
		{"prod without grant", gateway.Access{Method: "resources/read", Kind: "resource", Upstream: "prod", Identity: &gateway.Identity{Subject: "x"}}, "prod-needs-grant", true},
		{"prod with grant", gateway.Access{Method: "resources/read", Kind: "resource", Upstream: "prod", Identity: &gateway.Identity{Subject: "x", Scopes: []string{"prod:session"}}}, policy.DefaultRule, false},
		{"other tenant on acme's server", gateway.Access{Method: "prompts/get", Kind: "prompt", VirtualServer: "acme", Identity: &gateway.Identity{Tenant: "globex"}}, "tenant-match", true},
		{"own tenant on acme's server", gateway.Access{Method: "prompts/get", Kind: "prompt", VirtualServer: "acme", Identity: &gateway.Identity{Tenant: "acme"}}, policy.DefaultRule, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(&tc.a)
			if d.Allow == tc.deny || d.Rule != tc.rule {
				t.Errorf("got %s, want rule %q deny=%v", d, tc.rule, tc.deny)
			}
		})
	}
}

func TestDefaultDeny(t *testing.T) {
	p, err := policy.New(policy.Config{Default: policy.Deny, Rules: []policy.Rule{{Name: "echo-only", Effect: policy.Allow, When: `original == "echo"`}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Decide(&gateway.Access{Original: "echo"}); !d.Allow {
		t.Errorf("echo: %s", d)
	}
	if d := p.Decide(&gateway.Access{Original: "add"}); d.Allow || d.Rule != policy.DefaultRule {
		t.Errorf("add: %s", d)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  policy.Config
		want string
	}{
		{"syntax", policy.Config{Rules: []policy.Rule{{Name: "bad", When: `tool.name ==`}}}, `rule "bad"`},
		{"not bool", policy.Config{Rules: []policy.Rule{{Name: "str", When: `upstream`}}}, "not a bool"},
		{"unknown variable", policy.Config{Rules: []policy.Rule{{Name: "var", When: `user == "x"`}}}, "undeclared reference"},
		{"no name", policy.Config{Rules: []policy.Rule{{When: `true`}}}, "needs a name"},
		{"duplicate", policy.Config{Rules: []policy.Rule{{Name: "a", When: `true`}, {Name: "a", When: `false`}}}, "two rules"},
		{"effect", policy.Config{Rules: []policy.Rule{{Name: "a", Effect: "maybe", When: `true`}}}, "unknown effect"},
		{"mode", policy.Config{Mode: "audit"}, "unknown mode"},
		{"default", policy.Config{Default: "perhaps"}, "unknown default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.New(tc.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// A deny rule hides a tool from tools/list and refuses its call, with an
// error naming the rule, over stateful HTTP, stateless HTTP (2026-07-28)
// and stdio; resources and prompts likewise.
func TestPolicyOnEveryPath(t *testing.T) {
	p, err := policy.New(policy.Config{Rules: []policy.Rule{
		{Name: "no-math", When: `original == "add" && !("admins" in identity.groups)`, Reason: "arithmetic is for admins"},
		{Name: "no-binary", When: `kind == "resource" && original.contains("binary")`, Reason: "text only"},
		{Name: "no-args-prompt", When: `kind == "prompt" && original == "test_prompt_with_arguments"`, Reason: "no prompts with arguments"},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var events govtest.Events
	g, base := govtest.Gateway(t, gateway.Options{
		Upstreams: []gateway.Upstream{{Name: "demo", Server: everything.NewServer(nil)}},
		Hooks:     gateway.Hooks{Identify: govtest.IdentifyByClientName, Authorize: p.Authorize, Observe: []func(context.Context, *gateway.Event){events.Observe}},
	})
	for _, path := range govtest.Paths {
		t.Run(string(path), func(t *testing.T) {
			cs := govtest.Connect(t, path, base+gateway.PathMCP, g.Server(), "bob", nil)
			names := govtest.ToolNames(t, cs)
			if slices.Contains(names, "add") || !slices.Contains(names, "echo") {
				t.Errorf("tools/list: %v", names)
			}
			_, err := cs.CallToolArgs(govtest.Ctx(t), "add", map[string]any{"a": 1, "b": 2})
			if govtest.RPCCode(err) != gateway.CodeDenied || !strings.Contains(err.Error(), `"no-math"`) || !strings.Contains(err.Error(), "arithmetic is for admins") {
				t.Errorf("denied call: %v", err)
			}
			if _, err := cs.CallToolArgs(govtest.Ctx(t), "echo", map[string]any{"text": "hi"}); err != nil {
				t.Errorf("allowed call: %v", err)
			}
			for r, err := range cs.Resources(govtest.Ctx(t)) {
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(r.URI, "binary") {
					t.Errorf("denied resource listed: %s", r.URI)
				}
			}
			if _, err := cs.ReadResource(govtest.Ctx(t), "test://static-binary"); govtest.RPCCode(err) != gateway.CodeDenied || !strings.Contains(err.Error(), "no-binary") {
				t.Errorf("denied read: %v", err)
			}
			if _, err := cs.ReadResource(govtest.Ctx(t), "test://static-text"); err != nil {
				t.Errorf("allowed read: %v", err)
			}
			for pr, err := range cs.Prompts(govtest.Ctx(t)) {
				if err != nil {
					t.Fatal(err)
				}
				if pr.Name == "test_prompt_with_arguments" {
					t.Errorf("denied prompt listed")
				}
			}
			if _, err := cs.GetPrompt(govtest.Ctx(t), "test_prompt_with_arguments", map[string]string{"arg1": "a", "arg2": "b"}); govtest.RPCCode(err) != gateway.CodeDenied {
				t.Errorf("denied prompt: %v", err)
			}
			// An admin sees and calls it.
			admin := govtest.Connect(t, path, base+gateway.PathMCP, g.Server(), "ada+admins", nil)
			if !slices.Contains(govtest.ToolNames(t, admin), "add") {
				t.Errorf("admin does not see add")
			}
			if _, err := admin.CallToolArgs(govtest.Ctx(t), "add", map[string]any{"a": 1, "b": 2}); err != nil {
				t.Errorf("admin call: %v", err)
			}
		})
	}
	denied := 0
	for _, e := range events.Find(protocol.MethodToolsCall, "add") {
		if e.Outcome == gateway.OutcomeDenied {
			denied++
			if e.Denial == nil || e.Denial.Rule != "no-math" {
				t.Errorf("denied event without its rule: %+v", e.Denial)
			}
		}
	}
	if denied != len(govtest.Paths) {
		t.Errorf("%d denied events, want %d", denied, len(govtest.Paths))
	}
}

// Dry-run mode serves what it would deny, logs it and records the
// would-be denial in the request's event.
func TestDryRun(t *testing.T) {
	var logs bytes.Buffer
	p, err := policy.New(policy.Config{Mode: policy.ModeDryRun, Rules: []policy.Rule{{Name: "no-math", When: `original == "add"`, Reason: "arithmetic"}}},
		&policy.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var events govtest.Events
	g, base := govtest.Gateway(t, gateway.Options{
		Upstreams: []gateway.Upstream{{Name: "demo", Server: everything.NewServer(nil)}},
		Hooks:     gateway.Hooks{Identify: govtest.IdentifyByClientName, Authorize: p.Authorize, Observe: []func(context.Context, *gateway.Event){events.Observe}},
	})
	for _, path := range govtest.Paths {
		cs := govtest.Connect(t, path, base+gateway.PathMCP, g.Server(), "bob", nil)
		if !slices.Contains(govtest.ToolNames(t, cs), "add") {
			t.Errorf("%s: dry run hid the tool", path)
		}
		res, err := cs.CallToolArgs(govtest.Ctx(t), "add", map[string]any{"a": 1, "b": 2})
		if err != nil || res.IsError {
			t.Errorf("%s: dry run refused: %v %v", path, res, err)
		}
	}
	ev := events.Find(protocol.MethodToolsCall, "add")
	if len(ev) != len(govtest.Paths) {
		t.Fatalf("%d events", len(ev))
	}
	for _, e := range ev {
		if e.Outcome != gateway.OutcomeOK || e.WouldDeny == nil || e.WouldDeny.Rule != "no-math" || e.Denial != nil {
			t.Errorf("event: outcome %s wouldDeny %+v denial %+v", e.Outcome, e.WouldDeny, e.Denial)
		}
	}
	if !strings.Contains(logs.String(), "would deny") || !strings.Contains(logs.String(), "rule=no-math") {
		t.Errorf("logs: %s", logs.String())
	}
}

var _ = mcp.ErrorResult
