package portability

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// sjInput is an argument, environment variable or header of a
// server.json (Input, KeyValueInput, PositionalArgument, NamedArgument).
type sjInput struct {
	Type        string             `json:"type"`
	Name        string             `json:"name"`
	ValueHint   string             `json:"valueHint"`
	Description string             `json:"description"`
	Value       string             `json:"value"`
	Default     string             `json:"default"`
	IsSecret    bool               `json:"isSecret"`
	IsRequired  bool               `json:"isRequired"`
	Variables   map[string]sjInput `json:"variables"`
}

// sjTransport is a package's transport or a remote.
type sjTransport struct {
	Type      string             `json:"type"`
	URL       string             `json:"url"`
	Headers   []sjInput          `json:"headers"`
	Variables map[string]sjInput `json:"variables"`
}

// sjPackage is a package of a server.json.
type sjPackage struct {
	RegistryType         string      `json:"registryType"`
	Identifier           string      `json:"identifier"`
	Version              string      `json:"version"`
	RuntimeHint          string      `json:"runtimeHint"`
	Transport            sjTransport `json:"transport"`
	RuntimeArguments     []sjInput   `json:"runtimeArguments"`
	PackageArguments     []sjInput   `json:"packageArguments"`
	EnvironmentVariables []sjInput   `json:"environmentVariables"`
}

// serverJSON is the part of the MCP Registry's server.json that maps to
// a client entry.
type serverJSON struct {
	Name     string        `json:"name"`
	Packages []sjPackage   `json:"packages"`
	Remotes  []sjTransport `json:"remotes"`
}

// sjReader converts one server.json.
type sjReader struct {
	server string
	notes  *notes
}

// envName turns a label into an environment variable name: upper case,
// other characters than A-Z and 0-9 replaced by "_".
func envName(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimLeft(s, "-") {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	n := b.String()
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		n = "_" + n
	}
	return n
}

// ref is a reference to the variable name, noted as something to set.
func (r *sjReader) ref(key, name, description string, secret bool) string {
	what := "a value"
	if secret {
		what = "a secret"
	}
	if description != "" {
		what += " (" + strings.TrimSuffix(description, ".") + ")"
	}
	r.notes.info(r.server, key, "%s: written as ${%s}; set %s", what, name, name)
	return "${" + name + "}"
}

// fill resolves the {curly} variables of a template: their value, their
// default unless secret, else a reference.
func (r *sjReader) fill(key, tmpl string, vars map[string]sjInput) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		j := -1
		if i >= 0 {
			j = strings.IndexByte(tmpl[i:], '}')
		}
		if i < 0 || j < 0 {
			b.WriteString(literal(tmpl))
			return b.String()
		}
		name := tmpl[i+1 : i+j]
		b.WriteString(literal(tmpl[:i]))
		v, ok := vars[name]
		switch {
		case !ok:
			b.WriteString(literal(tmpl[i : i+j+1]))
		case v.Value != "":
			b.WriteString(literal(v.Value))
		case v.Default != "" && !v.IsSecret:
			b.WriteString(literal(v.Default))
		default:
			b.WriteString(r.ref(key, envName(name), v.Description, v.IsSecret))
		}
		tmpl = tmpl[i+j+1:]
	}
}

// literal writes text as a canonical value.
func literal(s string) string { return toCanonical(s, synNone) }

// input resolves an input to a value: its value (with variables), its
// default unless secret, else a reference to a variable named after it.
func (r *sjReader) input(key string, in sjInput, label string) string {
	switch {
	case in.Value != "" && !(in.IsSecret && !strings.Contains(in.Value, "{")):
		return r.fill(key, in.Value, in.Variables)
	case in.Default != "" && !in.IsSecret:
		return literal(in.Default)
	}
	return r.ref(key, envName(label), in.Description, in.IsSecret)
}

// args converts runtime or package arguments.
func (r *sjReader) args(key string, list []sjInput) []string {
	var out []string
	for i, a := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		switch a.Type {
		case "named":
			if a.Value == "" && a.Default == "" && !a.IsRequired && len(a.Variables) == 0 {
				out = append(out, literal(a.Name))
				continue
			}
			out = append(out, literal(a.Name)+"="+r.input(k, a, a.Name))
		default: // positional
			label := a.ValueHint
			if label == "" {
				label = fmt.Sprintf("arg%d", i)
			}
			out = append(out, r.input(k, a, label))
		}
	}
	return out
}

// headers converts the headers of a transport.
func (r *sjReader) headers(list []sjInput) map[string]string {
	var out map[string]string
	for _, h := range list {
		if h.Name == "" {
			continue
		}
		out = put(out, h.Name, r.input("headers."+h.Name, h, h.Name))
	}
	return out
}

// pkg converts a package into a server.
func (r *sjReader) pkg(p sjPackage) *Server {
	hint := p.RuntimeHint
	if hint == "" {
		hint = map[string]string{"npm": "npx", "pypi": "uvx", "oci": "docker", "nuget": "dnx"}[p.RegistryType]
	}
	if hint == "" {
		r.notes.warn(r.server, "", "a %q package must be installed by hand: not imported", p.RegistryType)
		return nil
	}
	id := p.Identifier
	if p.Version != "" {
		sep := "@"
		if hint == "docker" {
			sep = ":"
		}
		id += sep + p.Version
	}
	s := &Server{Name: r.server, Transport: Stdio, Command: hint}
	for _, e := range p.EnvironmentVariables {
		if e.Name == "" {
			continue
		}
		v := r.input("env."+e.Name, e, e.Name)
		if !e.IsRequired && e.Value == "" && e.Default == "" && !e.IsSecret {
			r.notes.info(r.server, "env."+e.Name, "optional; left out")
			continue
		}
		s.Env = put(s.Env, e.Name, v)
	}
	runtime := r.args("runtimeArguments", p.RuntimeArguments)
	if len(p.RuntimeArguments) == 0 {
		switch hint {
		case "npx":
			runtime = []string{"-y"}
		case "docker":
			runtime = []string{"run", "-i", "--rm"}
			for _, k := range sortedKeys(s.Env) {
				runtime = append(runtime, "-e", k)
			}
		}
	}
	s.Args = append(append(runtime, literal(id)), r.args("packageArguments", p.PackageArguments)...)
	switch t := strings.ToLower(p.Transport.Type); t {
	case "", "stdio":
	case "streamable-http", "sse":
		r.notes.warn(r.server, "", "the package serves %s at %s once started; imported as that URL: start it yourself with %s %s",
			t, p.Transport.URL, s.Command, strings.Join(s.Args, " "))
		tr := HTTP
		if t == "sse" {
			tr = SSE
		}
		return &Server{Name: r.server, Transport: tr, URL: r.fill("url", p.Transport.URL, nil), Headers: r.headers(p.Transport.Headers)}
	default:
		r.notes.warn(r.server, "", "unknown transport %q: not imported", p.Transport.Type)
		return nil
	}
	return s
}

// remote converts a remote into a server.
func (r *sjReader) remote(t sjTransport) *Server {
	s := &Server{Name: r.server, Transport: HTTP, URL: r.fill("url", t.URL, t.Variables), Headers: r.headers(t.Headers)}
	switch strings.ToLower(t.Type) {
	case "sse":
		s.Transport = SSE
	case "streamable-http", "":
	default:
		r.notes.warn(r.server, "", "unknown remote type %q: not imported", t.Type)
		return nil
	}
	return s
}

// readServerJSON reads a server.json: its first package, or its first
// remote (the first remote first with o.PreferRemote), becomes a server
// named after the last part of the server's name.
func readServerJSON(_ *Client, data []byte, o *Options) (*Set, []Note, error) {
	if len(data) > MaxFileSize {
		return nil, nil, fmt.Errorf("file too large (more than %d bytes)", MaxFileSize)
	}
	var sj serverJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&sj); err != nil {
		return nil, nil, fmt.Errorf("server.json: %v", cleanJSONError(err))
	}
	name := sj.Name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		return nil, nil, fmt.Errorf("server.json: no name")
	}
	var ns notes
	r := &sjReader{server: name, notes: &ns}
	var s *Server
	usePkg := len(sj.Packages) > 0 && !(o.PreferRemote && len(sj.Remotes) > 0)
	if usePkg {
		s = r.pkg(sj.Packages[0])
	} else if len(sj.Remotes) > 0 {
		s = r.remote(sj.Remotes[0])
	} else {
		return nil, nil, fmt.Errorf("server.json: neither packages nor remotes")
	}
	if others := len(sj.Packages) + len(sj.Remotes) - 1; others > 0 {
		what := "the first package"
		if !usePkg {
			what = "the first remote"
		}
		ns.info(name, "", "imported %s; the file offers %d other way(s) to run this server (--remote picks the first remote)", what, others)
	}
	set := &Set{}
	if s != nil {
		set.Servers = append(set.Servers, s)
	}
	return set, ns, nil
}

// cleanJSONError keeps encoding/json's message, which quotes no values
// except for type errors' field names.
func cleanJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: want %s", te.Field, te.Type)
	}
	return "invalid JSON"
}
