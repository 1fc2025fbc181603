package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/goccy/go-yaml"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Fixtures is a file of fixture requests for "switchboard policy test":
// an optional policy (else the configuration's) and the cases to decide.
//
//	policy:
//	  rules:
//	    - {name: no-rm, when: 'original == "rm"', reason: no deleting}
//	cases:
//	  - name: ada deletes
//	    upstream: fs
//	    tool: fs_rm
//	    original: rm
//	    identity: {subject: ada, groups: [staff]}
//	    args: {path: /tmp/x}
//	    expect: deny
type Fixtures struct {
	Policy *Config `json:"policy,omitempty"`
	Cases  []Case  `json:"cases"`
}

// Case is one fixture request. Method defaults to tools/call and Kind to
// "tool"; Original defaults to Tool.
type Case struct {
	Name        string                    `json:"name"`
	Method      string                    `json:"method,omitzero"`
	Listing     bool                      `json:"listing,omitzero"`
	Server      string                    `json:"server,omitzero"`
	Upstream    string                    `json:"upstream,omitzero"`
	Kind        string                    `json:"kind,omitzero"`
	Tool        string                    `json:"tool,omitzero"`
	Original    string                    `json:"original,omitzero"`
	Title       string                    `json:"title,omitzero"`
	Description string                    `json:"description,omitzero"`
	Annotations *protocol.ToolAnnotations `json:"annotations,omitzero"`
	Args        jsontext.Value            `json:"args,omitzero"`
	Identity    *gateway.Identity         `json:"identity,omitzero"`
	Client      *protocol.Implementation  `json:"client,omitzero"`
	Session     string                    `json:"session,omitzero"`
	// Expect is "allow" or "deny" ("" to only print the decision);
	// ExpectRule, if set, is the rule that must decide.
	Expect     string `json:"expect,omitzero"`
	ExpectRule string `json:"expectRule,omitzero"`
}

// ParseFixtures reads a fixtures file (YAML or JSON). Unknown keys are
// errors.
func ParseFixtures(data []byte) (*Fixtures, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("policy fixtures: %w", err)
	}
	var f Fixtures
	if err := json.Unmarshal(j, &f, json.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("policy fixtures: %w", err)
	}
	var errs []error
	for i, c := range f.Cases {
		where := fmt.Sprintf("case %d", i+1)
		if c.Name != "" {
			where = fmt.Sprintf("case %q", c.Name)
		}
		switch c.Expect {
		case "", Allow, Deny:
		default:
			errs = append(errs, fmt.Errorf("policy fixtures: %s: expect is allow or deny, not %q", where, c.Expect))
		}
		if len(c.Args) > 0 && !strings.HasPrefix(strings.TrimSpace(string(c.Args)), "{") && string(c.Args) != "null" {
			errs = append(errs, fmt.Errorf("policy fixtures: %s: args must be an object", where))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &f, nil
}

// Access returns the gateway access the case describes.
func (c *Case) Access() *gateway.Access {
	a := &gateway.Access{Method: c.Method, Listing: c.Listing, VirtualServer: c.Server, Upstream: c.Upstream, Kind: c.Kind,
		Name: c.Tool, Original: c.Original, Identity: c.Identity, Arguments: c.Args}
	if a.Method == "" {
		a.Method = protocol.MethodToolsCall
		if c.Listing {
			a.Method = protocol.MethodToolsList
		}
	}
	if a.Kind == "" {
		a.Kind = "tool"
	}
	if a.Original == "" {
		a.Original = a.Name
	}
	if a.Kind == "tool" {
		a.Tool = &protocol.Tool{Name: c.Tool, Title: c.Title, Description: c.Description, Annotations: c.Annotations}
	}
	return a
}

// Result is the decision of one case.
type Result struct {
	Case     Case
	Decision Decision
	// Pass is false when the decision is not what the case expects.
	Pass bool
}

// Test decides every case of f.
func (p *Policy) Test(f *Fixtures) []Result {
	out := make([]Result, len(f.Cases))
	for i, c := range f.Cases {
		d := p.decide(c.Access(), c.Client, c.Session)
		pass := true
		if c.Expect != "" && (c.Expect == Allow) != d.Allow {
			pass = false
		}
		if c.ExpectRule != "" && c.ExpectRule != d.Rule {
			pass = false
		}
		out[i] = Result{Case: c, Decision: d, Pass: pass}
	}
	return out
}
