package identity

import (
	"context"
	"strings"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// SessionBound returns a gateway.Hooks.Authorize function that requires,
// for calls of the tools matching patterns (exposed names; a trailing *
// matches a prefix), a grant bound to the caller's MCP session
// (mcp_binding=session:<Mcp-Session-Id>, which the authorization server
// issues without a refresh token and revokes when the session ends): so
// a risky tool needs a person's approval for this session, and access
// ends with it. Other requests go to next (nil: allowed).
func SessionBound(patterns []string, next func(context.Context, *gateway.Access) error) func(context.Context, *gateway.Access) error {
	match := func(name string) bool {
		for _, p := range patterns {
			if p == name || (strings.HasSuffix(p, "*") && strings.HasPrefix(name, strings.TrimSuffix(p, "*"))) {
				return true
			}
		}
		return false
	}
	return func(ctx context.Context, a *gateway.Access) error {
		if !a.Listing && a.Method == protocol.MethodToolsCall && match(a.Name) {
			sid := ""
			if a.Request != nil && a.Request.Session != nil {
				sid = a.Request.Session.ID()
			}
			switch {
			case sid == "":
				return &gateway.Denial{Rule: "identity.sessionBound", Reason: "this tool needs an MCP session and a grant bound to it"}
			case a.Identity == nil || a.Identity.Binding != "session:"+sid:
				return &gateway.Denial{Rule: "identity.sessionBound",
					Reason: "this tool needs a grant bound to this session: authorize again with mcp_binding=session:" + sid}
			}
		}
		if next != nil {
			return next(ctx, a)
		}
		return nil
	}
}
