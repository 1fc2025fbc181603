package policy_test

import (
	"strings"
	"testing"

	"github.com/switchboard-mcp/switchboard/policy"
)

func TestParseFixtures(t *testing.T) {
	f, err := policy.ParseFixtures([]byte(`
policy: {default: deny, rules: [{name: ro, effect: allow, when: 'tool.annotations.readOnlyHint'}]}
cases:
  - {name: read, tool: ls, annotations: {readOnlyHint: true}, expect: allow, expectRule: ro}
  - {name: write, tool: rm, args: {path: /}, client: {name: claude, version: "1"}, expect: deny}
  - {name: wrong, tool: rm, expect: allow}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.New(*f.Policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := p.Test(f)
	if !res[0].Pass || !res[1].Pass || res[2].Pass || res[1].Decision.Rule != policy.DefaultRule {
		t.Errorf("results: %+v", res)
	}
	for _, bad := range []string{"cases: [{name: x, expect: maybe}]", "cases: [{name: x, argz: {}}]", "cases: [{name: x, args: [1]}]", "cases: {"} {
		if _, err := policy.ParseFixtures([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseFixtures(f *testing.F) {
	f.Add("cases: [{name: a, tool: t, args: {x: 1}, identity: {subject: s, groups: [g]}}]")
	f.Add(`{"policy":{"rules":[{"name":"r","when":"true"}]},"cases":[]}`)
	f.Fuzz(func(t *testing.T, s string) {
		fx, err := policy.ParseFixtures([]byte(s))
		if err != nil {
			return
		}
		p, err := policy.New(policy.Config{Rules: []policy.Rule{{Name: "args", When: `has(args.x) && string(args.x).size() > 0`}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Test(fx) {
			if !strings.Contains(r.Decision.String(), r.Decision.Rule) {
				t.Fatal(r.Decision)
			}
		}
	})
}
