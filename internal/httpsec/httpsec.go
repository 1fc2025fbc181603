// Package httpsec holds the HTTP request checks shared by the MCP HTTP
// transports (Streamable HTTP and the legacy HTTP+SSE transport).
//
// The checks protect servers against DNS rebinding: a web page on an
// attacker's domain whose name is made to resolve to 127.0.0.1 can make the
// victim's browser send requests to a server listening on loopback. Such
// requests carry the attacker's name in the Host header and the attacker's
// page in the Origin header, which is what [CheckHostOrigin] looks at.
package httpsec

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// ErrHost is wrapped by the error [CheckHostOrigin] returns for a Host
// header that a loopback server does not accept.
var ErrHost = errors.New("httpsec: host not allowed")

// ErrOrigin is wrapped by the error [CheckHostOrigin] returns for an Origin
// header that is neither same-origin nor allowed.
var ErrOrigin = errors.New("httpsec: origin not allowed")

// CheckHostOrigin reports whether r may be served, returning nil if so and
// an error wrapping [ErrHost] or [ErrOrigin] if not; HTTP servers answer
// such requests with 403 Forbidden.
//
// Host: when the connection's local address (http.LocalAddrContextKey) is
// a loopback address, the Host header must name a loopback host
// ("localhost", a name under ".localhost", or a loopback IP address), or be
// listed in allowedHosts. Servers reached on other addresses, and requests
// without a local address in their context, are not checked, since DNS
// rebinding targets servers that trust being reachable only locally.
//
// Origin: an Origin header, when present, must be same-origin with the Host
// header (same host name and port, the port defaulting from the Origin's
// scheme) or be listed in allowedOrigins. Browsers send Origin on
// cross-origin requests and on every POST, so a page from another origin is
// refused while non-browser clients, which send no Origin, are unaffected.
//
// allowedHosts entries are host names, matching any port, or host:port
// pairs, matching exactly ("[::1]:8080" for IPv6); allowedOrigins entries
// are origins such as "https://app.example.com" or "http://localhost:3000"
// (a missing port means the scheme's default), or the literal "null".
// Comparisons ignore case. The entry "*" allows everything in its list.
func CheckHostOrigin(r *http.Request, allowedHosts, allowedOrigins []string) error {
	if err := checkHost(r, allowedHosts); err != nil {
		return err
	}
	return checkOrigin(r, allowedOrigins)
}

func checkHost(r *http.Request, allowed []string) error {
	if !localIsLoopback(r) {
		return nil
	}
	host := strings.ToLower(r.Host)
	name, _ := splitHostPort(host)
	if isLoopbackName(name) {
		return nil
	}
	for _, a := range allowed {
		a = strings.ToLower(a)
		if a == "*" || a == host {
			return nil
		}
		if _, port := splitHostPort(a); port == "" && trimDot(unbracket(a)) == name {
			return nil
		}
	}
	if r.Host == "" {
		return fmt.Errorf("%w: missing Host header on a loopback server", ErrHost)
	}
	return fmt.Errorf("%w: %q is not a loopback host", ErrHost, r.Host)
}

func checkOrigin(r *http.Request, allowed []string) error {
	values := r.Header.Values("Origin")
	if len(values) == 0 {
		return nil
	}
	if len(values) > 1 {
		return fmt.Errorf("%w: more than one Origin header", ErrOrigin)
	}
	origin := values[0]
	o, ok := parseOrigin(origin)
	if ok {
		name, port := splitHostPort(strings.ToLower(r.Host))
		if port == "" {
			port = o.port // the request used the scheme's default port
		}
		if name != "" && name == o.name && port == o.port {
			return nil
		}
	}
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(a, origin) {
			return nil
		}
		if ao, aok := parseOrigin(a); ok && aok && ao == o {
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrOrigin, origin)
}

// origin is a parsed, normalized "scheme://host:port" triple.
type origin struct {
	scheme, name, port string
}

// parseOrigin parses a serialized origin; "null" and anything with a path,
// query or credentials do not parse.
func parseOrigin(s string) (origin, bool) {
	u, err := url.Parse(strings.ToLower(s))
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return origin{}, false
	}
	name, port := splitHostPort(u.Host)
	if port == "" {
		switch u.Scheme {
		case "http", "ws":
			port = "80"
		case "https", "wss":
			port = "443"
		}
	}
	return origin{scheme: u.Scheme, name: name, port: port}, true
}

// splitHostPort splits "host:port", "[v6]:port", "host" or "[v6]" into a
// host name without brackets or trailing dot, and a port ("" if absent).
func splitHostPort(hostport string) (name, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return trimDot(h), p
	}
	return trimDot(unbracket(hostport)), ""
}

func unbracket(s string) string {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}

func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

// isLoopbackName reports whether name (lower case, without port or
// brackets) always refers to the local machine.
func isLoopbackName(name string) bool {
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		return ip.Unmap().IsLoopback()
	}
	return false
}

// localIsLoopback reports whether the request arrived on a loopback address.
func localIsLoopback(r *http.Request) bool {
	addr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if addr == nil {
		return false
	}
	var ip net.IP
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	case *net.IPAddr:
		ip = a.IP
	default:
		host, _, err := net.SplitHostPort(addr.String())
		if err != nil {
			return false
		}
		ip = net.ParseIP(host)
	}
	return ip != nil && ip.IsLoopback()
}
