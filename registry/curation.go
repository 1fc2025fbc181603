package registry

import (
	"net/http"
	"strings"
)

// Curation is a registry's policy on which servers it shows: allow and
// deny lists of name patterns and, optionally, an approval step.
//
// Patterns are server names in which "*" matches any run of characters
// ("com.example/*", "*/internal-*", "io.github.acme/*"). A name that a
// deny pattern matches, or that no allow pattern matches when there are
// allow patterns, or whose approval state is "denied", is refused: single
// lookups answer the configured refusal status (DeniedStatus, 403 by
// default) and lists leave it out. With RequireApproval, a server is shown
// only once approved; until then it is simply absent (404).
type Curation struct {
	// Allow, when not empty, lists the only names shown.
	Allow []string
	// Deny lists names never shown.
	Deny []string
	// RequireApproval hides servers until approved.
	RequireApproval bool
	// DeniedStatus is the HTTP status of a lookup of a refused server
	// (default 403; GitHub Copilot reads 401/403 as "blocked", 404 as
	// "not found").
	DeniedStatus int
}

// Decision is what curation makes of a server name.
type Decision int

// The decisions.
const (
	// Shown: the server is served.
	Shown Decision = iota
	// Hidden: the server is absent (awaiting approval).
	Hidden
	// Refused: the server is blocked by policy.
	Refused
)

// Active reports whether the curation filters anything.
func (c *Curation) Active() bool {
	return c != nil && (len(c.Allow) > 0 || len(c.Deny) > 0 || c.RequireApproval)
}

// byPattern decides by the allow and deny lists alone.
func (c *Curation) byPattern(name string) Decision {
	if c == nil {
		return Shown
	}
	for _, p := range c.Deny {
		if Glob(p, name) {
			return Refused
		}
	}
	if len(c.Allow) == 0 {
		return Shown
	}
	for _, p := range c.Allow {
		if Glob(p, name) {
			return Shown
		}
	}
	return Refused
}

// Decide decides for a name with its approval state (nil when none).
func (c *Curation) Decide(name string, a *Approval) Decision {
	if d := c.byPattern(name); d != Shown {
		return d
	}
	if a != nil && a.State == ApprovalDenied {
		return Refused
	}
	if c != nil && c.RequireApproval && (a == nil || a.State != ApprovalApproved) {
		return Hidden
	}
	return Shown
}

// refusalStatus is the status of a refused lookup.
func (c *Curation) refusalStatus() int {
	if c == nil || c.DeniedStatus == 0 {
		return http.StatusForbidden
	}
	return c.DeniedStatus
}

// approvalFilter is the ListQuery.Approval of this policy.
func (c *Curation) approvalFilter() string {
	if c != nil && c.RequireApproval {
		return "approved"
	}
	return "not-denied"
}

// Glob matches name against a pattern in which "*" matches any run of
// characters (slashes included) and every other character itself.
func Glob(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return strings.HasSuffix(name, last)
}
