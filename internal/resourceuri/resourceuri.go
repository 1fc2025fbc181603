// Package resourceuri holds the one rule for the canonical URI of an MCP
// server, the resource indicator of MCP authorization (RFC 8707 section 2,
// and the "Canonical Server URI" of the MCP authorization specification).
// Both sides use it: the resource server (auth.CanonicalResource, the
// audience tokens must carry) and the client (oauthclient.CanonicalResource,
// the resource it asks tokens for and stores them under), so that the two
// always agree.
package resourceuri

import (
	"fmt"
	"net/url"
	"strings"
)

// Canonical returns the canonical form of a resource URI:
//
//   - it must be an absolute http or https URI with a host, without a
//     fragment (RFC 8707: MUST NOT) and without user information;
//   - the scheme and host are lowercased and the scheme's default port
//     dropped;
//   - a path of "/" alone is dropped (the MCP specification prefers the
//     form without the trailing slash); other paths are kept as given;
//   - a query is kept as given: RFC 8707 discourages queries but allows
//     them where they identify the resource, and then tokens for
//     /mcp?tenant=a must not be good for /mcp?tenant=b. An empty query
//     ("?" alone) is dropped.
func Canonical(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("resource %q: %w", s, err)
	}
	switch {
	case !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("resource %q: not an absolute URI with a host", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "", fmt.Errorf("resource %q: must not contain a fragment", s)
	case u.User != nil:
		return "", fmt.Errorf("resource %q: must not contain user information", s)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("resource %q: not an absolute URI with a host: the scheme must be https or http", s)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.ForceQuery = false
	if u.Path == "/" && u.RawQuery == "" {
		u.Path, u.RawPath = "", ""
	}
	return u.String(), nil
}
