package portability

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard-mcp/switchboard/gateway/config"
)

// Options adjusts reading and writing a client's file.
type Options struct {
	// Project is the project directory of Claude Code's local scope
	// (the servers under projects.<Project>.mcpServers in ~/.claude.json).
	Project string
	// BaseDir is the directory relative "cwd" and "envFile" paths of the
	// file are resolved against when it is read ("" keeps them as
	// written).
	BaseDir string
	// Format overrides the client's format (the gateway's file is JSON
	// or YAML by its extension).
	Format Format
	// Replace overwrites entries of the same name that differ; without
	// it they are reported as conflicts and kept.
	Replace bool
	// IncludeSecrets writes literal secret values: the values of
	// references the target cannot read (from LookupEnv), and literal
	// secrets that would otherwise become references.
	IncludeSecrets bool
	// LookupEnv resolves references for IncludeSecrets; nil means
	// nothing is set.
	LookupEnv func(string) (string, bool)
	// Home is the value of ${userHome} for targets that cannot write it.
	Home string
	// Workspace is the folder the source file belongs to: Read replaces
	// ${workspaceFolder} with it (the reference would mean another folder
	// in another file), and Edit writes it for targets that cannot hold
	// the reference ("" keeps the reference when reading, and leaves such
	// values out when writing).
	Workspace string
	// PreferRemote makes a server.json's first remote the server
	// imported, when it has one, rather than its first package.
	PreferRemote bool
	// PathSeparator is the value of ${pathSeparator} for targets that
	// cannot write it ("" means "/").
	PathSeparator string
}

func (o *Options) orZero() *Options {
	if o == nil {
		return &Options{}
	}
	return o
}

// reader decodes entries of one client's file.
type reader struct {
	c     *Client
	opts  *Options
	notes *notes
}

// text returns e[k] as a string (numbers and booleans as written), ok
// false when absent or of another type.
func text(e map[string]any, k string) (string, bool) {
	switch v := e[k].(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// canon converts a value of the client's syntax to the canonical one.
func (r *reader) canon(v string) string {
	segs := parseValue(v, r.c.d.syn)
	if r.opts.Workspace != "" {
		for i, s := range segs {
			if s.kind == segWorkspace {
				segs[i] = seg{kind: segLit, text: r.opts.Workspace}
			}
		}
	}
	return canonical(segs)
}

func (r *reader) str(e map[string]any, k string) string {
	s, _ := text(e, k)
	return r.canon(s)
}

func (r *reader) list(name string, e map[string]any, k string) []string {
	raw, ok := e[k]
	if !ok || raw == nil {
		return nil
	}
	a, ok := raw.([]any)
	if !ok {
		r.notes.warn(name, k, "not a list: ignored")
		return nil
	}
	out := make([]string, 0, len(a))
	for i, x := range a {
		s, ok := text(map[string]any{"": x}, "")
		if !ok {
			r.notes.warn(name, fmt.Sprintf("%s[%d]", k, i), "not a string: ignored")
			continue
		}
		out = append(out, r.canon(s))
	}
	return out
}

func (r *reader) dict(name string, e map[string]any, k string) map[string]string {
	raw, ok := e[k]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		r.notes.warn(name, k, "not a map: ignored")
		return nil
	}
	out := make(map[string]string, len(m))
	for mk := range m {
		s, ok := text(m, mk)
		if !ok {
			r.notes.warn(name, k+"."+mk, "not a string: ignored")
			continue
		}
		out[mk] = r.canon(s)
	}
	return out
}

func flag(e map[string]any, k string) (bool, bool) {
	b, ok := e[k].(bool)
	return b, ok
}

// path makes a relative cwd or envFile absolute against opts.BaseDir.
func (r *reader) path(p string) string {
	if p == "" || r.opts.BaseDir == "" || filepath.IsAbs(p) || hasRefs(p) || strings.HasPrefix(p, "~") {
		return p
	}
	return filepath.Join(r.opts.BaseDir, p)
}

// transportOf normalizes a type value: "" when unknown.
func transportOf(t string) string {
	switch strings.ToLower(t) {
	case "stdio", "local":
		return Stdio
	case "http", "streamable-http", "streamablehttp", "streamable_http", "remote":
		return HTTP
	case "sse":
		return SSE
	}
	return ""
}

// writer encodes entries for one client's file.
type writer struct {
	c         *Client
	opts      *Options
	notes     *notes
	syn       syntax
	container []string // where the entries go
}

func (w *writer) name() string { return w.c.Name }

// value converts a canonical value for the target. secret marks the
// values of env variables and headers, where literal secrets are turned
// into references. ok is false when the value cannot be written; a
// warning says why.
func (w *writer) value(server, key, v string, secret bool) (string, bool) {
	if secret && !w.opts.IncludeSecrets && IsSecret(lastKey(key), v) {
		if w.syn == synNone {
			w.notes.warn(server, key, "a literal secret, and %s cannot read one from the environment: left out (--include-secrets copies the value)", w.name())
			return "", false
		}
		v = w.secretRef(server, key, v)
	}
	segs := parseValue(v, synGateway)
	out := make([]seg, 0, len(segs))
	lit := func(s string) { out = append(out, seg{kind: segLit, text: s}) }
	for _, s := range segs {
		if w.syn.supports(s) {
			if s.kind == segEnv && s.hasDef && !w.syn.keepsDefault() {
				w.notes.info(server, key, "%s has no defaults for variables: the default of %s was left out", w.name(), s.text)
				s.hasDef, s.def = false, ""
			}
			out = append(out, s)
			continue
		}
		switch s.kind {
		case segHome:
			if w.opts.Home == "" {
				w.notes.warn(server, key, "%s cannot read ${userHome} and the home directory is unknown: left out", w.name())
				return "", false
			}
			lit(w.opts.Home)
		case segPathSep:
			sep := w.opts.PathSeparator
			if sep == "" {
				sep = "/"
			}
			lit(sep)
		case segWorkspace:
			if w.opts.Workspace == "" {
				w.notes.warn(server, key, "%s cannot read ${workspaceFolder}: left out", w.name())
				return "", false
			}
			lit(w.opts.Workspace)
		case segInput, segEnv:
			name, what := s.text, "${"+s.text+"}"
			if s.kind == segInput {
				name, what = config.InputEnvVar(s.text), "${input:"+s.text+"}"
				if w.syn.supports(seg{kind: segEnv}) {
					w.notes.info(server, key, "%s has no inputs: %s is written as the environment variable %s (where the gateway reads it from)", w.name(), what, name)
					out = append(out, seg{kind: segEnv, text: name})
					continue
				}
			}
			if !w.opts.IncludeSecrets {
				w.notes.warn(server, key, "%s cannot read %s: left out (--include-secrets writes the current value of %s)", w.name(), what, name)
				return "", false
			}
			val, ok := "", false
			if w.opts.LookupEnv != nil {
				val, ok = w.opts.LookupEnv(name)
			}
			switch {
			case ok:
				w.notes.info(server, key, "%s cannot read %s: wrote the current value of %s", w.name(), what, name)
				lit(val)
			case s.hasDef:
				w.notes.info(server, key, "%s cannot read %s and %s is not set: wrote its default", w.name(), what, name)
				lit(s.def)
			default:
				w.notes.warn(server, key, "%s cannot read %s and %s is not set: left out", w.name(), what, name)
				return "", false
			}
		}
	}
	return render(out, w.syn), true
}

// secretRef turns a literal secret into a reference to an environment
// variable named after the key, with a warning naming the variable.
func (w *writer) secretRef(server, key, v string) string {
	field, k, _ := strings.Cut(key, ".")
	name := secretVarName(server, field, k)
	w.notes.warn(server, key, "a literal secret: written as a reference to the environment variable %s, which must be set where %s runs (--include-secrets copies the value instead)", name, w.name())
	return secretReference(v, name)
}

// structuralRef returns the value to map onto a client's own way of
// naming variables (Codex's env_vars, Goose's env_keys): a literal secret
// becomes a reference (unless IncludeSecrets), anything else is as it is.
func (w *writer) structuralRef(server, key, v string) string {
	if !w.opts.IncludeSecrets && IsSecret(lastKey(key), v) {
		return w.secretRef(server, key, v)
	}
	return v
}

// lastKey returns the last element of a key path ("env.TOKEN" → "TOKEN").
func lastKey(key string) string {
	if _, k, ok := strings.Cut(key, "."); ok {
		return k
	}
	return key
}

// must converts a value that the entry cannot do without; when it cannot
// be written the server is skipped.
func (w *writer) must(s *Server, key, v string) (string, bool) {
	out, ok := w.value(s.Name, key, v, false)
	if !ok {
		w.notes.warn(s.Name, "", "not written: %s cannot hold its %s", w.name(), key)
	}
	return out, ok
}

// command converts the command and arguments.
func (w *writer) command(s *Server) (string, []string, bool) {
	cmd, ok := w.must(s, "command", s.Command)
	if !ok {
		return "", nil, false
	}
	args := make([]string, 0, len(s.Args))
	for i, a := range s.Args {
		v, ok := w.must(s, fmt.Sprintf("args[%d]", i), a)
		if !ok {
			return "", nil, false
		}
		args = append(args, v)
	}
	return cmd, args, true
}

// strMap converts env or headers, leaving out (with a warning) what the
// target cannot hold.
func (w *writer) strMap(s *Server, field string, m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		if v, ok := w.value(s.Name, field+"."+k, m[k], true); ok {
			out[k] = v
		}
	}
	return out
}

// url converts the URL of a remote server.
func (w *writer) url(s *Server) (string, bool) { return w.must(s, "url", s.URL) }

// optional converts an optional path (cwd, envFile), leaving it out with a
// warning when the target cannot hold it.
func (w *writer) optional(s *Server, key, v string, supported bool) (string, bool) {
	if v == "" {
		return "", false
	}
	if !supported {
		w.notes.warn(s.Name, key, "%s has no %s setting: left out", w.name(), key)
		return "", false
	}
	return w.value(s.Name, key, v, false)
}

// noDisabled skips a disabled server for clients that cannot mark one.
func (w *writer) noDisabled(s *Server) bool {
	if s.Disabled {
		w.notes.warn(s.Name, "", "not written: it is disabled, and %s has no way to keep a disabled entry", w.name())
		return false
	}
	return true
}

// stdioOnly skips a remote server for clients that only start processes.
func (w *writer) stdioOnly(s *Server) bool {
	if s.Remote() {
		w.notes.warn(s.Name, "", "not written: %s's file holds only servers it starts as processes, and this one is at a URL; `switchboard connect %s` gives %s every server through the gateway instead", w.name(), w.c.ID, w.name())
		return false
	}
	return true
}

// noSSE notes that a client connects to URLs with Streamable HTTP only.
func (w *writer) noSSE(s *Server) {
	if s.Transport == SSE {
		w.notes.warn(s.Name, "url", "%s speaks Streamable HTTP to URLs and this server speaks the legacy SSE transport: it may not connect (`switchboard connect %s` reaches it through the gateway, which speaks both)", w.name(), w.c.ID)
	}
}

// inputRefs returns the ids of the ${input:ID} references of servers.
func inputRefs(servers []*Server) []string {
	seen := map[string]bool{}
	for _, s := range servers {
		vals := append([]string{s.Command, s.URL, s.Cwd, s.EnvFile}, s.Args...)
		vals = slices.AppendSeq(vals, maps.Values(s.Env))
		vals = slices.AppendSeq(vals, maps.Values(s.Headers))
		for _, v := range vals {
			for _, sg := range parseValue(v, synGateway) {
				if sg.kind == segInput {
					seen[sg.text] = true
				}
			}
		}
	}
	return sortedKeys(seen)
}
