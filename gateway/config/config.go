package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Server types, the normalized values of [Server.Type].
const (
	// TypeStdio is a server started as a child process and spoken to over
	// its standard input and output.
	TypeStdio = "stdio"
	// TypeHTTP is a server at a URL speaking Streamable HTTP; a server that
	// turns out to speak only the legacy HTTP+SSE transport is used with
	// that.
	TypeHTTP = "http"
	// TypeSSE is a server at a URL speaking the legacy HTTP+SSE transport
	// (revision 2024-11-05).
	TypeSSE = "sse"
)

// Naming modes, the values of [Gateway.Prefix].
const (
	// PrefixAuto prefixes the names of tools and prompts with their
	// upstream's prefix, unless exactly one upstream is configured.
	PrefixAuto = "auto"
	// PrefixAlways always prefixes names.
	PrefixAlways = "always"
	// PrefixNever never prefixes names, except for upstreams that set
	// their own prefix.
	PrefixNever = "never"
)

// Session modes, the values of [Server.Session].
const (
	// SessionShared uses one upstream session (one process for a stdio
	// server) for every client of the gateway.
	SessionShared = "shared"
	// SessionPerClient opens one upstream session (one process for a stdio
	// server) per client session, so that requests the upstream sends
	// (sampling, elicitation, roots) always reach the client they belong
	// to.
	SessionPerClient = "per-client"
)

// Defaults of the gateway settings and of server entries.
const (
	DefaultName           = "switchboard"
	DefaultAddr           = "127.0.0.1:8080"
	DefaultPrefix         = PrefixAuto
	DefaultSeparator      = "_"
	DefaultCallTimeout    = Duration(5 * time.Minute)
	DefaultConnectTimeout = Duration(30 * time.Second)
	DefaultPingInterval   = Duration(30 * time.Second)
	DefaultSession        = SessionShared
	DefaultMaxSessions    = 100
)

// Config is a decoded, validated configuration file.
type Config struct {
	// Gateway holds the gateway's own settings (the top-level key
	// "gateway"), with defaults applied.
	Gateway Gateway `json:"gateway"`
	// Servers are the upstream servers by name, from the top-level
	// "mcpServers" map (Claude Desktop, Claude Code, Cursor, Windsurf,
	// Gemini CLI, Cline, ...) and the "servers" map (VS Code); a name may
	// appear in only one of them.
	Servers map[string]*Server `json:"mcpServers,omitempty"`
	// Inputs are VS Code's input declarations (top-level "inputs"), kept
	// for tools that convert the file; the gateway resolves
	// ${input:ID} from the environment (see the package documentation).
	Inputs []Input `json:"inputs,omitempty"`
	// Policy, Limits, Tenants and VirtualServers are the governance
	// sections (see governance.go and docs/policy.md, docs/tenants.md).
	Policy         *Policy                   `json:"policy,omitempty"`
	Limits         *Limits                   `json:"limits,omitempty"`
	Tenants        map[string]*Tenant        `json:"tenants,omitempty"`
	VirtualServers map[string]*VirtualServer `json:"virtualServers,omitempty"`
	// Identity is the top-level "identity" section (API keys, DPoP, SSO,
	// trusted assertion issuers); nil when absent.
	Identity *Identity `json:"identity,omitempty"`
	// Audit, Telemetry and Costs are the audit trail, traces and metrics,
	// and cost attribution settings (top-level "audit", "telemetry",
	// "costs"); nil when absent.
	Audit     *Audit     `json:"audit,omitempty"`
	Telemetry *Telemetry `json:"telemetry,omitempty"`
	Costs     *Costs     `json:"costs,omitempty"`
	// Registry is the MCP registry's section (top-level "registry"), nil
	// when absent; see [Registry].
	Registry *Registry `json:"registry,omitempty"`
	// Path is the absolute path of the file the configuration was loaded
	// from ("" for [Parse]).
	Path string `json:"-"`
	// Format is the syntax the file was parsed as.
	Format Format `json:"-"`
}

// Gateway is the gateway's own settings, the top-level key "gateway".
type Gateway struct {
	// Name is the server name the gateway reports to its clients
	// (default "switchboard").
	Name string `json:"name,omitzero"`
	// Addr is the address the gateway listens on (default
	// "127.0.0.1:8080").
	Addr string `json:"addr,omitzero"`
	// DataDir is the directory of the gateway's state; a relative path is
	// resolved against the configuration file's directory. "" means the
	// default chosen by the command that runs the gateway.
	DataDir string `json:"dataDir,omitzero"`
	// Prefix is the naming mode: [PrefixAuto] (default), [PrefixAlways]
	// or [PrefixNever]. See [Config.ServerPrefix].
	Prefix string `json:"prefix,omitzero"`
	// Separator goes between a prefix and a name (default "_").
	Separator string `json:"separator,omitzero"`
	// CallTimeout bounds a call relayed to an upstream (default 5m; 0
	// means no bound).
	CallTimeout Duration `json:"callTimeout,omitzero"`
	// ConnectTimeout bounds connecting to an upstream and its handshake
	// (default 30s; 0 means no bound).
	ConnectTimeout Duration `json:"connectTimeout,omitzero"`
	// PingInterval is the period of health pings to upstreams (default
	// 30s; 0 disables them).
	PingInterval Duration `json:"pingInterval,omitzero"`
}

// Server is one upstream server, an entry of "mcpServers" or "servers".
type Server struct {
	// Name is the entry's key.
	Name string `json:"-"`
	// Type is [TypeStdio], [TypeHTTP] or [TypeSSE]: the entry's "type"
	// (or Cline's "transportType") normalized — "local" is stdio;
	// "streamable-http", "streamableHttp", "streamable_http" and "remote"
	// are http — or, when absent, stdio for a command and http for a URL.
	Type string `json:"type"`
	// Command is the program of a stdio server. A command given as an
	// array (opencode) is split into Command and Args.
	Command string `json:"command,omitzero"`
	// Args are the program's arguments.
	Args []string `json:"args,omitempty"`
	// Env is the environment added to the minimal one a stdio server gets
	// (or to the gateway's whole environment, with InheritEnv), with the
	// variables of EnvFile merged under it.
	Env map[string]string `json:"env,omitempty"`
	// Cwd is the working directory of a stdio server; a relative path is
	// resolved against the configuration file's directory.
	Cwd string `json:"cwd,omitzero"`
	// EnvFile is the file (KEY=VALUE lines, VS Code's "envFile") whose
	// variables were merged into Env, resolved like Cwd.
	EnvFile string `json:"envFile,omitzero"`
	// URL is the endpoint of an http or sse server, from "url",
	// "serverUrl" (Windsurf), "httpUrl" (Gemini CLI; implies http) or
	// "uri" (Goose).
	URL string `json:"url,omitzero"`
	// Headers are HTTP headers sent with every request to an http or sse
	// server.
	Headers map[string]string `json:"headers,omitempty"`
	// Disabled keeps the server out of the gateway ("disabled": true, or
	// "enabled": false).
	Disabled bool `json:"disabled,omitzero"`
	// InheritEnv gives a stdio server the gateway's whole environment
	// instead of a minimal one (PATH, HOME and a few more).
	InheritEnv bool `json:"inheritEnv,omitzero"`
	// Prefix overrides the server's naming prefix ("" means none); nil
	// means the default, see [Config.ServerPrefix].
	Prefix *string `json:"prefix,omitempty"`
	// Session is [SessionShared] (default) or [SessionPerClient].
	Session string `json:"session,omitzero"`
	// MaxSessions bounds the upstream sessions of a per-client server
	// (default 100).
	MaxSessions int `json:"maxSessions,omitzero"`
	// Timeout overrides the gateway's CallTimeout for this server (0: the
	// gateway's).
	Timeout Duration `json:"timeout,omitzero"`
	// ConnectTimeout overrides the gateway's ConnectTimeout (0: the
	// gateway's).
	ConnectTimeout Duration `json:"connectTimeout,omitzero"`
	// PingInterval overrides the gateway's PingInterval (0: the
	// gateway's).
	PingInterval Duration `json:"pingInterval,omitzero"`
	// Auth is how the gateway authenticates to this server (the entry's
	// "auth"); nil means no credentials beyond Headers.
	Auth *UpstreamAuth `json:"auth,omitempty"`
}

// Input is a VS Code input declaration (an element of "inputs").
type Input struct {
	// ID is what ${input:ID} refers to.
	ID string `json:"id"`
	// Type is VS Code's input type, e.g. "promptString".
	Type string `json:"type,omitzero"`
	// Description is the prompt VS Code shows.
	Description string `json:"description,omitzero"`
	// Password marks a secret input.
	Password bool `json:"password,omitzero"`
}

// Duration is a time.Duration written in a configuration file as a Go
// duration string ("30s", "5m", "1h30m") or as a number of seconds (30,
// 0.5).
type Duration time.Duration

// String formats the duration like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalJSON reads a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return fmt.Errorf("invalid duration: %w", err)
		}
		return d.UnmarshalText([]byte(s))
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return errors.New("invalid duration: want a string like \"30s\" or a number of seconds")
	}
	v, err := secondsDuration(f)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

var errDuration = errors.New(`want a duration like "30s", "5m" or "1h30m", or a number of seconds`)

func parseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, errDuration
	}
	if v < 0 {
		return 0, errors.New("a duration cannot be negative")
	}
	return Duration(v), nil
}

func secondsDuration(f float64) (Duration, error) {
	if f < 0 {
		return 0, errors.New("a duration cannot be negative")
	}
	if f > float64(1<<63-1)/float64(time.Second) || f != f {
		return 0, errors.New("duration out of range")
	}
	return Duration(f * float64(time.Second)), nil
}

// LoadOptions adjusts [Load] and [Parse]. The zero value (or nil) uses
// the process environment.
type LoadOptions struct {
	// LookupEnv looks up environment variables for ${VAR} substitution
	// (and HOME for ${userHome}); nil means os.LookupEnv.
	LookupEnv func(key string) (string, bool)
	// BaseDir is the directory that relative cwd, envFile and dataDir
	// paths are resolved against, and that ${workspaceFolder} is derived
	// from. [Load] defaults it to the file's directory; for [Parse] ""
	// leaves relative paths as written and makes ${workspaceFolder} an
	// error.
	BaseDir string
	// Raw keeps ${...} references as written instead of substituting them
	// and does not read envFile files, for tools that convert a file
	// rather than run it. URLs and durations that contain a reference are
	// not checked.
	Raw bool
}

// Default returns the configuration of a gateway without a file: the
// default settings and no servers.
func Default() *Config {
	c := &Config{Servers: map[string]*Server{}}
	c.Gateway.applyDefaults(nil)
	return c
}

// Load reads, parses, substitutes, validates and decodes the
// configuration file at path. The format is chosen by [FormatOf]. An
// invalid file yields an [Errors] value listing every problem; a file that
// cannot be read yields the I/O error.
func Load(path string, opts *LoadOptions) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	data, err := readLimited(abs)
	if err != nil {
		return nil, err
	}
	var o LoadOptions
	if opts != nil {
		o = *opts
	}
	if o.BaseDir == "" {
		o.BaseDir = filepath.Dir(abs)
	}
	cfg, err := Parse(data, FormatOf(abs, data), &o)
	if err != nil {
		return nil, err
	}
	cfg.Path = abs
	return cfg, nil
}

// readLimited reads a file of at most MaxFileSize bytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: file too large (more than %d bytes)", path, MaxFileSize)
	}
	return data, nil
}

// Parse parses, substitutes, validates and decodes a configuration file's
// content. format [FormatAuto] picks the format from the content. An
// invalid file yields an [Errors] value listing every problem, each with
// its key path. Parse reads the files named by "envFile" keys (unless
// opts.Raw is set).
func Parse(data []byte, format Format, opts *LoadOptions) (*Config, error) {
	var o LoadOptions
	if opts != nil {
		o = *opts
	}
	if format == FormatAuto {
		format = sniff(data)
	}
	t, perr := parseTree(data, format)
	if perr != nil {
		return nil, Errors{perr}
	}
	d := newDecoder(t, &o)
	cfg := d.decode()
	validateSchema(t, d.errs)
	if errs := d.errs.result(); errs != nil {
		return nil, errs
	}
	cfg.Format = format
	return cfg, nil
}

// Names returns the server names, sorted.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Servers))
	for name := range c.Servers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
