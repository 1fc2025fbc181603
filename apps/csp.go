package apps

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Origin is a well-formed CSP origin a view may declare: a scheme among
// http, https, ws and wss, a host (a DNS name, optionally with a leading
// "*." wildcard for its subdomains, an IPv4 address or a bracketed IPv6
// address) and an optional port (or "*"). It holds no path, query,
// credentials, quotes, semicolons or white space, so that it can be
// written into a Content-Security-Policy as one source expression.
type Origin struct {
	Scheme   string // lower case
	Wildcard bool   // the host is "*." + Host
	Host     string // lower case; IPv6 addresses in brackets
	Port     string // "" (the scheme's), digits, or "*"
}

// String returns the origin as a CSP source expression.
func (o Origin) String() string {
	var b strings.Builder
	b.WriteString(o.Scheme)
	b.WriteString("://")
	if o.Wildcard {
		b.WriteString("*.")
	}
	b.WriteString(o.Host)
	if o.Port != "" {
		b.WriteByte(':')
		b.WriteString(o.Port)
	}
	return b.String()
}

// maxOrigin bounds the length of an origin (a DNS name is at most 253
// characters).
const maxOrigin = 300

// ParseOrigin parses a declared CSP origin (see Origin). It accepts a
// trailing "/" and nothing else after the authority; it rejects anything
// that could change the meaning of the policy it is written into.
func ParseOrigin(s string) (Origin, error) {
	var o Origin
	if len(s) > maxOrigin {
		return o, fmt.Errorf("origin longer than %d bytes", maxOrigin)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return o, errors.New(`not an origin: expected scheme://host, as in "https://api.example.com"`)
	}
	o.Scheme = strings.ToLower(scheme)
	switch o.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return o, fmt.Errorf("scheme %q: expected http, https, ws or wss", scheme)
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return o, errors.New("no host")
	}
	for _, c := range rest {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`/?#@\'";,`+"`", c) {
			return o, fmt.Errorf("character %q is not allowed in an origin (no path, query, credentials, quotes, separators or white space)", c)
		}
	}
	host := rest
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return o, errors.New("unterminated IPv6 address")
		}
		addr, err := netip.ParseAddr(host[1:end])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return o, fmt.Errorf("%q is not an IPv6 address", host[1:end])
		}
		o.Host = "[" + addr.String() + "]"
		host = host[end+1:]
		if host != "" {
			p, ok := strings.CutPrefix(host, ":")
			if !ok {
				return o, fmt.Errorf("unexpected %q after the address", host)
			}
			if o.Port, ok = parsePort(p); !ok {
				return o, fmt.Errorf("port %q: expected 1-65535 or *", p)
			}
		}
		return o, nil
	}
	if h, p, ok := strings.Cut(host, ":"); ok {
		if o.Port, ok = parsePort(p); !ok {
			return o, fmt.Errorf("port %q: expected 1-65535 or *", p)
		}
		host = h
	}
	host = strings.ToLower(host)
	if after, ok := strings.CutPrefix(host, "*."); ok {
		o.Wildcard, host = true, after
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if !addr.Is4() || o.Wildcard {
			return o, fmt.Errorf("%q: expected a DNS name or an IPv4 address", host)
		}
		o.Host = addr.String()
		return o, nil
	}
	if err := checkDNSName(host); err != nil {
		return o, err
	}
	o.Host = host
	return o, nil
}

func parsePort(p string) (string, bool) {
	if p == "*" {
		return p, true
	}
	if p == "" || len(p) > 5 || p[0] == '0' {
		return "", false
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", false
	}
	return p, true
}

// checkDNSName accepts host names of letters, digits and hyphens in
// dot-separated labels of 1 to 63 characters (underscores too, which some
// service names use), not starting or ending with a hyphen.
func checkDNSName(h string) error {
	if h == "" || len(h) > 253 {
		return fmt.Errorf("host %q: expected a DNS name", h)
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("host %q: empty or overlong label", h)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %q: a label starts or ends with a hyphen", h)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("host %q: character %q", h, c)
			}
		}
	}
	return nil
}

// Invalid returns the entries of c that are not well-formed origins,
// prefixed with their list's name.
func (c *CSP) Invalid() []string {
	if c == nil {
		return nil
	}
	var bad []string
	for _, l := range c.lists() {
		for _, d := range *l.v {
			if _, err := ParseOrigin(d); err != nil {
				bad = append(bad, fmt.Sprintf("%s %q (%v)", l.name, d, err))
			}
		}
	}
	return bad
}

type namedList struct {
	name string
	v    *[]string
}

func (c *CSP) lists() []namedList {
	return []namedList{
		{"connectDomains", &c.ConnectDomains},
		{"resourceDomains", &c.ResourceDomains},
		{"frameDomains", &c.FrameDomains},
		{"baseUriDomains", &c.BaseURIDomains},
	}
}

// DefaultPolicy is the Content-Security-Policy the spec requires of a
// host for a view that declares no CSP, with the directives it asks the
// sandbox to add (no nested frames, no plugins, base URI its own).
const DefaultPolicy = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'self'"

// Policy returns the Content-Security-Policy a host applies to a view
// that declares c (nil: DefaultPolicy). It is built from the declared
// origins only, and never looser than the spec's: entries that are not
// well-formed origins are left out (and returned as dropped), and an
// empty list keeps its directive closed.
//
//	default-src 'none'
//	script-src, style-src  'self' 'unsafe-inline' + resourceDomains
//	img-src, media-src     'self' data: + resourceDomains
//	font-src               'self' + resourceDomains (only when declared)
//	connect-src            connectDomains, or 'none'
//	frame-src              frameDomains, or 'none'
//	object-src             'none'
//	base-uri               baseUriDomains, or 'self'
func Policy(c *CSP) (policy string, dropped []string) {
	if c == nil {
		return DefaultPolicy, nil
	}
	clean := func(name string, in []string) []string {
		var out []string
		for _, d := range in {
			o, err := ParseOrigin(d)
			if err != nil {
				dropped = append(dropped, fmt.Sprintf("%s %q (%v)", name, d, err))
				continue
			}
			s := o.String()
			if !containsString(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	res := clean("resourceDomains", c.ResourceDomains)
	conn := clean("connectDomains", c.ConnectDomains)
	frame := clean("frameDomains", c.FrameDomains)
	base := clean("baseUriDomains", c.BaseURIDomains)
	join := func(fixed string, extra []string, empty string) string {
		parts := []string{}
		if fixed != "" {
			parts = append(parts, fixed)
		}
		parts = append(parts, extra...)
		if len(parts) == 0 {
			return empty
		}
		return strings.Join(parts, " ")
	}
	d := []string{
		"default-src 'none'",
		"script-src " + join("'self' 'unsafe-inline'", res, ""),
		"style-src " + join("'self' 'unsafe-inline'", res, ""),
		"img-src " + join("'self' data:", res, ""),
		"media-src " + join("'self' data:", res, ""),
	}
	if len(res) > 0 {
		d = append(d, "font-src "+join("'self'", res, ""))
	}
	d = append(d,
		"connect-src "+join("", conn, "'none'"),
		"frame-src "+join("", frame, "'none'"),
		"object-src 'none'",
		"base-uri "+join("", base, "'self'"),
	)
	return strings.Join(d, "; "), dropped
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Allow returns the iframe allow attribute (Permissions Policy) that
// grants p: camera, microphone, geolocation, clipboard-write.
func Allow(p *Permissions) string {
	if p == nil {
		return ""
	}
	var out []string
	if p.Camera != nil {
		out = append(out, "camera")
	}
	if p.Microphone != nil {
		out = append(out, "microphone")
	}
	if p.Geolocation != nil {
		out = append(out, "geolocation")
	}
	if p.ClipboardWrite != nil {
		out = append(out, "clipboard-write")
	}
	return strings.Join(out, "; ")
}
