package portability

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Transports of a [Server].
const (
	// Stdio is a server started as a child process.
	Stdio = "stdio"
	// HTTP is a server at a URL speaking Streamable HTTP.
	HTTP = "http"
	// SSE is a server at a URL speaking the legacy HTTP+SSE transport.
	SSE = "sse"
)

// Server is one MCP server entry in a client-neutral form. String values
// use the gateway's reference syntax (see the package documentation).
type Server struct {
	// Name is the entry's name (its key, or Continue's "name").
	Name string `json:"name"`
	// Transport is [Stdio], [HTTP] or [SSE].
	Transport string `json:"transport"`
	// Command is the program of a stdio server.
	Command string `json:"command,omitempty"`
	// Args are the program's arguments.
	Args []string `json:"args,omitempty"`
	// Env is the environment given to a stdio server.
	Env map[string]string `json:"env,omitempty"`
	// Cwd is the working directory of a stdio server.
	Cwd string `json:"cwd,omitempty"`
	// EnvFile is a file of KEY=VALUE lines for a stdio server (VS Code,
	// the gateway).
	EnvFile string `json:"envFile,omitempty"`
	// URL is the endpoint of an http or sse server.
	URL string `json:"url,omitempty"`
	// Headers are sent with every request to an http or sse server.
	Headers map[string]string `json:"headers,omitempty"`
	// Disabled marks an entry the client keeps but does not start.
	Disabled bool `json:"disabled,omitempty"`
}

// Remote reports whether s is reached at a URL.
func (s *Server) Remote() bool { return s.Transport == HTTP || s.Transport == SSE }

// Clone returns a deep copy of s.
func (s *Server) Clone() *Server {
	c := *s
	c.Args = slices.Clone(s.Args)
	c.Env = maps.Clone(s.Env)
	c.Headers = maps.Clone(s.Headers)
	return &c
}

// Equal reports whether two servers are the same in every field; nil and
// empty Args, Env and Headers are equal.
func (s *Server) Equal(o *Server) bool {
	return s.Name == o.Name && s.Transport == o.Transport && s.Command == o.Command &&
		slices.Equal(s.Args, o.Args) && maps.Equal(s.Env, o.Env) && s.Cwd == o.Cwd &&
		s.EnvFile == o.EnvFile && s.URL == o.URL && maps.Equal(s.Headers, o.Headers) &&
		s.Disabled == o.Disabled
}

// Input is a VS Code input declaration, what ${input:ID} refers to.
type Input struct {
	// ID is the input's identifier.
	ID string `json:"id"`
	// Type is VS Code's input type, normally "promptString".
	Type string `json:"type,omitempty"`
	// Description is the prompt shown to the user.
	Description string `json:"description,omitempty"`
	// Password marks a secret input.
	Password bool `json:"password,omitempty"`
}

// Set is the MCP servers of one file.
type Set struct {
	// Servers are the entries, in file order.
	Servers []*Server `json:"servers"`
	// Inputs are VS Code's (or the gateway's) input declarations.
	Inputs []Input `json:"inputs,omitempty"`
}

// Lookup returns the server called name, or nil.
func (s *Set) Lookup(name string) *Server {
	for _, sv := range s.Servers {
		if sv.Name == name {
			return sv
		}
	}
	return nil
}

// Names returns the server names in file order.
func (s *Set) Names() []string {
	names := make([]string, len(s.Servers))
	for i, sv := range s.Servers {
		names[i] = sv.Name
	}
	return names
}

// Level says how much a [Note] matters.
type Level int

const (
	// Info is something the user may want to know (a translation made).
	Info Level = iota
	// Warning is something that did not carry over as it was: a key left
	// out, a server skipped, a value that needs the user's action.
	Warning
)

// String returns "info" or "warning".
func (l Level) String() string {
	if l == Warning {
		return "warning"
	}
	return "info"
}

// MarshalText writes the level as its String.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Note reports, per server and key, what a conversion did with something
// the source or the target cannot express as it was. It never contains a
// secret value.
type Note struct {
	// Level is Info or Warning.
	Level Level `json:"level"`
	// Server is the server's name ("" for the file as a whole).
	Server string `json:"server,omitempty"`
	// Key is the key path within the server entry ("env.TOKEN",
	// "headers.Authorization", "url"), "" for the entry as a whole.
	Key string `json:"key,omitempty"`
	// Msg says what happened.
	Msg string `json:"message"`
}

// String formats the note as "server: key: message".
func (n Note) String() string {
	var b strings.Builder
	if n.Server != "" {
		b.WriteString(n.Server)
		b.WriteString(": ")
	}
	if n.Key != "" {
		b.WriteString(n.Key)
		b.WriteString(": ")
	}
	b.WriteString(n.Msg)
	return b.String()
}

// notes collects notes.
type notes []Note

func (ns *notes) add(l Level, server, key, format string, args ...any) {
	*ns = append(*ns, Note{Level: l, Server: server, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (ns *notes) info(server, key, format string, args ...any) {
	ns.add(Info, server, key, format, args...)
}

func (ns *notes) warn(server, key, format string, args ...any) {
	ns.add(Warning, server, key, format, args...)
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
