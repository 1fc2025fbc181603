package config

import "strings"

// ServerPrefix returns the naming prefix of the server called name ("" for
// none): the server's own Prefix when it sets one; otherwise none in mode
// [PrefixNever], none in mode [PrefixAuto] when exactly one server is
// configured (disabled ones count, so that names do not change when a
// server is disabled), and else [DefaultPrefixOf] the server's name.
func (c *Config) ServerPrefix(name string) string {
	if s, ok := c.Servers[name]; ok && s.Prefix != nil {
		return *s.Prefix
	}
	switch c.Gateway.Prefix {
	case PrefixNever:
		return ""
	case PrefixAlways:
	default: // auto
		if len(c.Servers) == 1 {
			return ""
		}
	}
	return DefaultPrefixOf(name)
}

// Prefixes returns the naming prefix of every server, by name.
func (c *Config) Prefixes() map[string]string {
	out := make(map[string]string, len(c.Servers))
	for name := range c.Servers {
		out[name] = c.ServerPrefix(name)
	}
	return out
}

// ExposedName returns the name under which the gateway exposes the tool
// or prompt called name of the server called server: its prefix, the
// separator and name, or name alone when the server has no prefix.
func (c *Config) ExposedName(server, name string) string {
	p := c.ServerPrefix(server)
	if p == "" {
		return name
	}
	return p + c.Gateway.Separator + name
}

// DefaultPrefixOf returns the default prefix of a server called name: the
// name with every character other than A-Z, a-z, 0-9, "_", "." and "-"
// replaced by "_", cut to 64 bytes.
func DefaultPrefixOf(name string) string {
	var sb strings.Builder
	for _, r := range name {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' || r == '.' || r == '-' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	p := sb.String()
	if len(p) > maxPrefixLen {
		p = p[:maxPrefixLen]
	}
	return p
}

// checkPrefixes reports servers whose effective prefixes collide.
func (d *decoder) checkPrefixes(cfg *Config) {
	owner := map[string]string{}
	for _, name := range cfg.Names() {
		p := cfg.ServerPrefix(name)
		if p == "" {
			continue
		}
		first, dup := owner[p]
		if !dup {
			owner[p] = name
			continue
		}
		path := d.serverPath[name]
		how := "its default prefix"
		if cfg.Servers[name].Prefix != nil {
			path = childPath(path, "prefix")
			how = "its prefix"
		}
		d.errorf(prioDecode, path, "%s %q is also the prefix of server %q: set a different \"prefix\" on one of them", how, p, first)
	}
}
