package config

import (
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// Diff compares c with the configuration it replaces (old may be nil) by
// server name: added are the servers only c has, removed those only old
// has, changed those whose entries differ in any field (Env includes what
// an envFile gave). Each list is sorted. Gateway settings and effective
// prefixes are not compared: compare c.Gateway with old.Gateway and
// c.Prefixes() with old.Prefixes() for those.
func (c *Config) Diff(old *Config) (added, removed, changed []string) {
	var oldServers map[string]*Server
	if old != nil {
		oldServers = old.Servers
	}
	for _, name := range c.Names() {
		o, ok := oldServers[name]
		switch {
		case !ok:
			added = append(added, name)
		case !c.Servers[name].Equal(o):
			changed = append(changed, name)
		}
	}
	for name := range oldServers {
		if _, ok := c.Servers[name]; !ok {
			removed = append(removed, name)
		}
	}
	slices.Sort(removed)
	return added, removed, changed
}

// Equal reports whether two server entries are the same in every field.
// Empty and nil Args, Env and Headers are equal.
func (s *Server) Equal(o *Server) bool {
	if s == nil || o == nil {
		return s == o
	}
	a, b := *s, *o
	for _, x := range []*Server{&a, &b} {
		if len(x.Args) == 0 {
			x.Args = nil
		}
		if len(x.Env) == 0 {
			x.Env = nil
		}
		if len(x.Headers) == 0 {
			x.Headers = nil
		}
	}
	return reflect.DeepEqual(a, b)
}

// RedactedValue is the placeholder that replaces secrets in [Server.Redacted].
const RedactedValue = "<redacted>"

// Redacted returns a copy of s fit for printing and logging: the values of
// Env and Headers are replaced by [RedactedValue]; so are the password and the
// query parameter values of URL, and in Args the value of any flag whose
// name suggests a secret (--token X, --api-key=X, ...). Keys stay visible.
func (s *Server) Redacted() *Server {
	r := *s
	r.Args = redactArgs(s.Args)
	r.Env = redactMap(s.Env)
	r.Headers = redactMap(s.Headers)
	r.URL = RedactURL(s.URL)
	if s.Prefix != nil {
		p := *s.Prefix
		r.Prefix = &p
	}
	return &r
}

func redactMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k := range maps.Keys(m) {
		out[k] = RedactedValue
	}
	return out
}

// RedactURL returns u with its password and query parameter values
// replaced by [RedactedValue]; a URL that does not parse is replaced whole.
func RedactURL(u string) string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil {
		return RedactedValue
	}
	if _, has := p.User.Password(); has {
		p.User = url.UserPassword(p.User.Username(), "REDACTED")
	}
	if p.RawQuery != "" {
		q := p.Query()
		for k := range q {
			q[k] = []string{"REDACTED"}
		}
		p.RawQuery = q.Encode()
	}
	p.Fragment, p.RawFragment = "", ""
	return strings.ReplaceAll(p.String(), "REDACTED", RedactedValue)
}

// secretWords mark a flag whose value is a secret.
var secretWords = []string{"token", "key", "secret", "password", "passwd", "pwd", "auth", "credential", "bearer", "cookie"}

func isSecretFlag(name string) bool {
	name = strings.ToLower(strings.TrimLeft(name, "-"))
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// redactArgs hides the values of secret-looking flags: "--token=X" and
// "--token X".
func redactArgs(args []string) []string {
	if args == nil {
		return nil
	}
	out := make([]string, len(args))
	hideNext := false
	for i, a := range args {
		switch {
		case hideNext && !strings.HasPrefix(a, "-"):
			out[i] = RedactedValue
			hideNext = false
			continue
		case strings.HasPrefix(a, "-"):
			name, _, hasValue := strings.Cut(a, "=")
			if isSecretFlag(name) {
				if hasValue {
					out[i] = name + "=" + RedactedValue
					hideNext = false
					continue
				}
				out[i] = a
				hideNext = true
				continue
			}
		}
		hideNext = false
		out[i] = redactArg(a)
	}
	return out
}

// redactArg hides the secret part of a lone argument: the credentials of
// a URL, or the value of a header such as "Authorization: Bearer X".
func redactArg(a string) string {
	if strings.Contains(a, "://") {
		if r := RedactURL(a); r != RedactedValue {
			return r
		}
	}
	if name, _, ok := strings.Cut(a, ":"); ok && !strings.ContainsAny(name, " /") && isSecretFlag(name) {
		return name + ": " + RedactedValue
	}
	return a
}
