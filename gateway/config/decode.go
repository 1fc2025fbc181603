package config

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// decoder turns a parsed tree into a Config, substituting references in
// place (so that the schema sees the values the gateway uses) and
// collecting every problem.
type decoder struct {
	t    *tree
	opts *LoadOptions
	x    *expander
	errs *errorList
	// paths of the server entries by name, for semantic errors.
	serverPath map[string]string
}

func newDecoder(t *tree, o *LoadOptions) *decoder {
	return &decoder{t: t, opts: o, x: newExpander(o), errs: &errorList{}, serverPath: map[string]string{}}
}

func (d *decoder) errorf(prio int, path, format string, args ...any) {
	d.errs.add(prio, path, d.t.line(path), format, args...)
}

// kindOf names a value's JSON type for messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (d *decoder) wrongType(path string, v any, want string) {
	d.errorf(prioDecode, path, "want %s, got %s", want, kindOf(v))
}

func (d *decoder) unknownKey(path, key string, known []string) {
	p := childPath(path, key)
	hint := suggest(key, known)
	if h, ok := keyHints[key]; ok && slices.Contains(known, h) {
		hint = h
	}
	if hint != "" {
		d.errorf(prioDecode, p, "unknown key %q (did you mean %q?)", key, hint)
		return
	}
	d.errorf(prioDecode, p, "unknown key %q", key)
}

// sortedKeys returns the keys of m in order, for deterministic decoding.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (d *decoder) decode() *Config {
	cfg := &Config{Servers: map[string]*Server{}}
	root, ok := d.t.root.(map[string]any)
	if !ok {
		d.errorf(prioDecode, "", "the file must hold an object (a mapping), not %s", kindOf(d.t.root))
		cfg.Gateway.applyDefaults(nil)
		return cfg
	}
	for _, k := range sortedKeys(root) {
		switch {
		case slices.Contains(topKeys, k), slices.Contains(ignoredTopKeys, k):
		case slices.Contains(reservedTopKeys, k):
			d.errorf(prioDecode, childPath("", k), "section %q is reserved for a later version of Switchboard and not supported yet", k)
		default:
			d.unknownKey("", k, topKeys)
		}
	}
	if s, ok := root["$schema"]; ok {
		if _, isStr := s.(string); !isStr {
			d.wrongType("$schema", s, "a string")
		}
	}
	var gw map[string]any
	if v, ok := root["gateway"]; ok {
		if gw, ok = v.(map[string]any); !ok {
			d.wrongType("gateway", v, "an object")
		} else {
			d.decodeGateway(gw, &cfg.Gateway)
		}
	}
	cfg.Gateway.applyDefaults(gw)
	cfg.Inputs = d.decodeInputs(root["inputs"])
	d.decodeIdentity(root, cfg)
	cfg.Audit, cfg.Telemetry, cfg.Costs = d.decodeAudit(root["audit"]), d.decodeTelemetry(root["telemetry"]), d.decodeCosts(root["costs"])
	for _, key := range []string{"mcpServers", "servers"} {
		v, ok := root[key]
		if !ok {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			d.wrongType(key, v, "an object mapping server names to servers")
			continue
		}
		for _, name := range sortedKeys(m) {
			p := childPath(key, name)
			if prev, dup := d.serverPath[name]; dup {
				d.errorf(prioDecode, p, "server %q is also defined at %s", name, prev)
				continue
			}
			d.serverPath[name] = p
			if name == "" || strings.TrimSpace(name) == "" {
				d.errorf(prioDecode, p, "a server needs a non-empty name")
			}
			entry, ok := m[name].(map[string]any)
			if !ok {
				d.wrongType(p, m[name], "an object")
				continue
			}
			cfg.Servers[name] = d.decodeServer(p, name, entry)
		}
	}
	d.checkPrefixes(cfg)
	d.decodeGovernance(root, cfg)
	cfg.Registry = d.decodeRegistry(root["registry"])
	return cfg
}

// applyDefaults fills the settings the file did not give (present holds
// the keys of the "gateway" object, nil when there is none).
func (g *Gateway) applyDefaults(present map[string]any) {
	has := func(k string) bool { _, ok := present[k]; return ok }
	if g.Name == "" {
		g.Name = DefaultName
	}
	if g.Addr == "" {
		g.Addr = DefaultAddr
	}
	if g.Prefix == "" {
		g.Prefix = DefaultPrefix
	}
	if g.Separator == "" {
		g.Separator = DefaultSeparator
	}
	if !has("callTimeout") {
		g.CallTimeout = DefaultCallTimeout
	}
	if !has("connectTimeout") {
		g.ConnectTimeout = DefaultConnectTimeout
	}
	if !has("pingInterval") {
		g.PingInterval = DefaultPingInterval
	}
}

// str reads m[key] as a string, substituting references and writing the
// result back. ok is false when the key is absent or not a string (which
// is reported).
func (d *decoder) str(m map[string]any, key, path string) (string, bool) {
	v, present := m[key]
	if !present {
		return "", false
	}
	p := childPath(path, key)
	s, ok := v.(string)
	if !ok {
		d.wrongType(p, v, "a string")
		return "", false
	}
	s = d.expand(p, s)
	m[key] = s
	return s, true
}

// expand substitutes the references in s, the value at path.
func (d *decoder) expand(path, s string) string {
	if d.opts.Raw {
		return s
	}
	out, problems := d.x.expand(s)
	for _, pr := range problems {
		d.errorf(prioSubst, path, "%s", pr)
	}
	return out
}

func (d *decoder) boolean(m map[string]any, key, path string) (bool, bool) {
	v, present := m[key]
	if !present {
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		d.wrongType(childPath(path, key), v, "a boolean (true or false)")
	}
	return b, ok
}

func (d *decoder) duration(m map[string]any, key, path string) (Duration, bool) {
	v, present := m[key]
	if !present {
		return 0, false
	}
	p := childPath(path, key)
	var (
		dur Duration
		err error
	)
	switch x := v.(type) {
	case float64:
		dur, err = secondsDuration(x)
	case string:
		s := d.expand(p, x)
		m[key] = s
		if d.opts.Raw && hasRef(s) {
			return 0, false
		}
		dur, err = parseDuration(s)
	default:
		d.wrongType(p, v, `a duration ("30s", "5m") or a number of seconds`)
		return 0, false
	}
	if err != nil {
		d.errorf(prioDecode, p, "%v", err)
		return 0, false
	}
	return dur, true
}

// strList reads an array of strings, substituting references.
func (d *decoder) strList(m map[string]any, key, path string) []string {
	v, present := m[key]
	if !present {
		return nil
	}
	p := childPath(path, key)
	a, ok := v.([]any)
	if !ok {
		d.wrongType(p, v, "an array of strings")
		return nil
	}
	out := make([]string, 0, len(a))
	for i, e := range a {
		ep := indexPath(p, i)
		s, ok := e.(string)
		if !ok {
			d.wrongType(ep, e, "a string")
			continue
		}
		s = d.expand(ep, s)
		a[i] = s
		out = append(out, s)
	}
	return out
}

// strMap reads an object of strings, substituting references in values.
// what names the entries in messages ("environment variable", "header").
func (d *decoder) strMap(m map[string]any, key, path string, validKey func(string) bool, what string) map[string]string {
	v, present := m[key]
	if !present {
		return nil
	}
	p := childPath(path, key)
	obj, ok := v.(map[string]any)
	if !ok {
		d.wrongType(p, v, "an object of strings")
		return nil
	}
	out := make(map[string]string, len(obj))
	for _, k := range sortedKeys(obj) {
		ep := childPath(p, k)
		if !validKey(k) {
			d.errorf(prioDecode, ep, "%q is not a valid %s name", k, what)
		}
		s, ok := obj[k].(string)
		if !ok {
			d.wrongType(ep, obj[k], "a string")
			continue
		}
		s = d.expand(ep, s)
		obj[k] = s
		out[k] = s
	}
	return out
}

func validEnvKey(k string) bool {
	return k != "" && !strings.ContainsAny(k, "=\x00")
}

// headerToken matches an HTTP header name (RFC 9110 token).
var headerToken = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func validHeaderKey(k string) bool { return headerToken.MatchString(k) }

// resolvePath makes a relative path absolute against the base directory.
func (d *decoder) resolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) || d.opts.BaseDir == "" || (d.opts.Raw && hasRef(p)) {
		return p
	}
	return filepath.Join(d.opts.BaseDir, p)
}

// namePattern is what a prefix and a separator may contain: the
// characters MCP allows in tool names.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]*$`)

const maxPrefixLen = 64

func (d *decoder) decodeGateway(m map[string]any, g *Gateway) {
	const path = "gateway"
	for _, k := range sortedKeys(m) {
		if !slices.Contains(gatewayKeys, k) {
			d.unknownKey(path, k, gatewayKeys)
		}
	}
	if s, ok := d.str(m, "name", path); ok {
		if strings.TrimSpace(s) == "" {
			d.errorf(prioDecode, "gateway.name", "must not be empty")
		}
		g.Name = s
	}
	if s, ok := d.str(m, "addr", path); ok && !(d.opts.Raw && hasRef(s)) {
		if _, port, err := net.SplitHostPort(s); err != nil {
			d.errorf(prioDecode, "gateway.addr", "want HOST:PORT, e.g. \"127.0.0.1:8080\"")
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			d.errorf(prioDecode, "gateway.addr", "port %q is not a number from 0 to 65535", port)
		}
		g.Addr = s
	}
	if s, ok := d.str(m, "dataDir", path); ok {
		g.DataDir = d.resolvePath(s)
	}
	if s, ok := d.str(m, "prefix", path); ok {
		switch s {
		case PrefixAuto, PrefixAlways, PrefixNever:
			g.Prefix = s
		default:
			d.errorf(prioDecode, "gateway.prefix", "want %q, %q or %q, got %q", PrefixAuto, PrefixAlways, PrefixNever, s)
		}
	}
	if s, ok := d.str(m, "separator", path); ok {
		if s == "" || len(s) > 8 || !namePattern.MatchString(s) {
			d.errorf(prioDecode, "gateway.separator", "want 1 to 8 of the characters A-Z a-z 0-9 _ . -")
		} else {
			g.Separator = s
		}
	}
	if v, ok := d.duration(m, "callTimeout", path); ok {
		g.CallTimeout = v
	}
	if v, ok := d.duration(m, "connectTimeout", path); ok {
		g.ConnectTimeout = v
	}
	if v, ok := d.duration(m, "pingInterval", path); ok {
		g.PingInterval = v
	}
}

// typeAliases maps the "type" values clients use to the normalized ones.
var typeAliases = map[string]string{
	"stdio":           TypeStdio,
	"local":           TypeStdio, // opencode
	"http":            TypeHTTP,
	"streamable-http": TypeHTTP,
	"streamableHttp":  TypeHTTP, // Cline
	"streamable_http": TypeHTTP, // Goose
	"remote":          TypeHTTP, // opencode
	"sse":             TypeSSE,
}

// urlKeys are the keys that give a server's URL, in order of preference.
var urlKeys = []string{"url", "serverUrl", "httpUrl", "uri"}

func (d *decoder) decodeServer(path, name string, m map[string]any) *Server {
	s := &Server{Name: name}
	for _, k := range sortedKeys(m) {
		if isKnownServerKey(k) {
			continue
		}
		if what, ok := unsupportedServerKeys[k]; ok {
			d.errorf(prioDecode, childPath(path, k), "%q (%s) is not supported by the gateway yet; remove it to use the server without it", k, what)
			continue
		}
		d.unknownKey(path, k, serverKeys)
	}

	// Type.
	typ, typKey := "", ""
	for _, k := range []string{"type", "transportType"} {
		raw, ok := d.str(m, k, path)
		if !ok {
			continue
		}
		norm, known := typeAliases[raw]
		if !known {
			d.errorf(prioDecode, childPath(path, k), "unknown server type %q (want \"stdio\", \"http\" or \"sse\")", raw)
			continue
		}
		if typ != "" && norm != typ {
			d.errorf(prioDecode, childPath(path, k), "%q says %q but %q says %q", k, raw, typKey, typ)
			continue
		}
		if typ == "" {
			typ, typKey = norm, k
		}
	}

	// Command.
	hasCommand := false
	if v, ok := m["command"]; ok {
		p := childPath(path, "command")
		switch c := v.(type) {
		case string:
			s.Command = d.expand(p, c)
			m["command"] = s.Command
			hasCommand = true
			if strings.TrimSpace(s.Command) == "" {
				d.errorf(prioDecode, p, "must not be empty")
			}
		case []any: // opencode: the program and its arguments
			parts := d.strList(m, "command", path)
			switch {
			case len(c) == 0:
				d.errorf(prioDecode, p, "must not be empty")
			case len(parts) == len(c):
				s.Command, s.Args = parts[0], parts[1:]
				hasCommand = true
			}
		default:
			d.wrongType(p, v, "a string (or an array of strings)")
		}
	}
	s.Args = append(s.Args, d.strList(m, "args", path)...)

	// URL.
	urlKey := ""
	for _, k := range urlKeys {
		u, ok := d.str(m, k, path)
		if !ok {
			continue
		}
		if urlKey != "" {
			d.errorf(prioDecode, childPath(path, k), "%q and %q both give the URL: keep one", urlKey, k)
			continue
		}
		urlKey, s.URL = k, u
		d.checkURL(childPath(path, k), u)
	}
	if urlKey == "httpUrl" {
		if typ != "" && typ != TypeHTTP {
			d.errorf(prioDecode, childPath(path, typKey), "%q implies type \"http\", not %q", urlKey, typ)
		}
		if typ == "" {
			typ = TypeHTTP
		}
	}

	// Command or URL, consistent with the type.
	switch {
	case hasCommand && urlKey != "":
		d.errorf(prioDecode, path, "both %q and %q given: a server is either a command (stdio) or a URL (http, sse)", "command", urlKey)
	case !hasCommand && urlKey == "" && !hasKey(m, "command"):
		d.errorf(prioDecode, path, "needs %q (a stdio server) or %q (an http or sse server)", "command", "url")
	case typ == TypeStdio && urlKey != "":
		d.errorf(prioDecode, childPath(path, typKey), "type %q needs %q, not %q", "stdio", "command", urlKey)
	case (typ == TypeHTTP || typ == TypeSSE) && hasCommand:
		d.errorf(prioDecode, childPath(path, typKey), "type %q needs %q, not %q", typ, "url", "command")
	}
	switch {
	case typ != "":
		s.Type = typ
	case urlKey != "":
		s.Type = TypeHTTP
	default:
		s.Type = TypeStdio
	}

	s.Env = d.strMap(m, "env", path, validEnvKey, "environment variable")
	s.Headers = d.strMap(m, "headers", path, validHeaderKey, "header")
	for k, v := range s.Headers {
		if strings.ContainsAny(v, "\r\n\x00") {
			d.errorf(prioDecode, childPath(childPath(path, "headers"), k), "the value contains a line break or NUL")
		}
	}
	if c, ok := d.str(m, "cwd", path); ok {
		s.Cwd = d.resolvePath(c)
	}
	if f, ok := d.str(m, "envFile", path); ok {
		s.EnvFile = d.resolvePath(f)
		if !d.opts.Raw {
			d.mergeEnvFile(childPath(path, "envFile"), s)
		}
	}
	s.InheritEnv, _ = d.boolean(m, "inheritEnv", path)

	// Fields of the other kind of server.
	if s.Type == TypeStdio && len(s.Headers) > 0 {
		d.errorf(prioDecode, childPath(path, "headers"), "headers apply to http and sse servers; a stdio server gets env")
	}
	if s.Type != TypeStdio {
		for _, k := range []string{"args", "env", "envFile", "cwd", "inheritEnv"} {
			if v, ok := m[k]; ok && !isEmpty(v) {
				d.errorf(prioDecode, childPath(path, k), "%q applies to stdio servers (a command), not to an %s server", k, s.Type)
			}
		}
	}

	// Enabled.
	dis, hasDis := d.boolean(m, "disabled", path)
	en, hasEn := d.boolean(m, "enabled", path)
	switch {
	case hasDis && hasEn && dis == en:
		d.errorf(prioDecode, childPath(path, "enabled"), "\"enabled\": %v contradicts \"disabled\": %v", en, dis)
	case hasDis:
		s.Disabled = dis
	case hasEn:
		s.Disabled = !en
	}

	// Naming and sessions.
	if p, ok := d.str(m, "prefix", path); ok {
		if len(p) > maxPrefixLen || !namePattern.MatchString(p) {
			d.errorf(prioDecode, childPath(path, "prefix"), "want at most %d of the characters A-Z a-z 0-9 _ . - (or \"\" for no prefix)", maxPrefixLen)
		}
		s.Prefix = &p
	}
	s.Session = DefaultSession
	if v, ok := d.str(m, "session", path); ok {
		switch v {
		case SessionShared, SessionPerClient:
			s.Session = v
		default:
			d.errorf(prioDecode, childPath(path, "session"), "want %q or %q, got %q", SessionShared, SessionPerClient, v)
		}
	}
	s.MaxSessions = DefaultMaxSessions
	if v, ok := m["maxSessions"]; ok {
		p := childPath(path, "maxSessions")
		f, isNum := v.(float64)
		switch {
		case !isNum:
			d.wrongType(p, v, "a whole number")
		case f != math.Trunc(f) || f < 1 || f > 1e6:
			d.errorf(prioDecode, p, "want a whole number from 1 to 1000000")
		default:
			s.MaxSessions = int(f)
		}
	}
	if v, ok := d.duration(m, "timeout", path); ok {
		s.Timeout = v
	}
	if v, ok := d.duration(m, "connectTimeout", path); ok {
		s.ConnectTimeout = v
	}
	if v, ok := d.duration(m, "pingInterval", path); ok {
		s.PingInterval = v
	}
	d.decodeUpstreamAuth(path, s, m)
	return s
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// isEmpty reports whether a value is absent-like: null, false, "", [] or
// {}.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// commonSchemes are URL schemes that are named in errors (any other
// "scheme" could be part of a secret).
var commonSchemes = []string{"file", "ftp", "grpc", "mcp", "npx", "sse", "ssh", "stdio", "tcp", "udp", "unix", "ws", "wss"}

// checkURL checks a server URL without ever printing it (it can hold a
// token).
func (d *decoder) checkURL(path, u string) {
	if d.opts.Raw && hasRef(u) {
		return
	}
	parsed, err := url.Parse(u)
	if err != nil {
		d.errorf(prioDecode, path, "not a valid URL")
		return
	}
	switch strings.ToLower(parsed.Scheme) {
	case "http", "https":
	case "":
		d.errorf(prioDecode, path, "want an absolute http:// or https:// URL")
		return
	default:
		if slices.Contains(commonSchemes, strings.ToLower(parsed.Scheme)) {
			d.errorf(prioDecode, path, "URL scheme must be http or https, not %q", parsed.Scheme)
		} else {
			d.errorf(prioDecode, path, "URL scheme must be http or https")
		}
		return
	}
	if parsed.Host == "" {
		d.errorf(prioDecode, path, "the URL has no host")
	}
}

// mergeEnvFile reads the server's env file and adds its variables that
// Env does not set.
func (d *decoder) mergeEnvFile(path string, s *Server) {
	data, err := readEnvFile(s.EnvFile)
	if err != nil {
		d.errorf(prioDecode, path, "%v", err)
		return
	}
	vars, problems := parseEnvFile(data)
	for _, pr := range problems {
		d.errorf(prioDecode, path, "%s", pr)
	}
	if len(vars) > 0 && s.Env == nil {
		s.Env = make(map[string]string, len(vars))
	}
	for k, v := range vars {
		if _, set := s.Env[k]; !set {
			s.Env[k] = v
		}
	}
}

func readEnvFile(path string) ([]byte, error) {
	data, err := readLimited(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("env file %s does not exist", path)
		}
		return nil, fmt.Errorf("reading env file: %v", err)
	}
	return data, nil
}

func (d *decoder) decodeInputs(v any) []Input {
	if v == nil {
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		d.wrongType("inputs", v, "an array")
		return nil
	}
	var out []Input
	seen := map[string]bool{}
	for i, e := range a {
		p := indexPath("inputs", i)
		m, ok := e.(map[string]any)
		if !ok {
			d.wrongType(p, e, "an object")
			continue
		}
		var in Input
		idv, hasID := m["id"]
		id, _ := idv.(string)
		switch {
		case !hasID:
			d.errorf(prioDecode, p, "missing key %q", "id")
		case id == "":
			d.errorf(prioDecode, childPath(p, "id"), "want a non-empty string")
		case seen[id]:
			d.errorf(prioDecode, childPath(p, "id"), "input %q is declared twice", id)
		}
		if id != "" {
			in.ID = id
			seen[id] = true
		}
		in.Type, _ = m["type"].(string)
		in.Description, _ = m["description"].(string)
		in.Password, _ = m["password"].(bool)
		out = append(out, in)
	}
	return out
}
