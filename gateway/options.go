package gateway

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// Defaults of zero Options and Upstream fields.
const (
	DefaultName           = "switchboard"
	DefaultSeparator      = "_"
	DefaultCallTimeout    = 5 * time.Minute
	DefaultConnectTimeout = 30 * time.Second
	DefaultPingInterval   = 30 * time.Second
	DefaultStartupWait    = 10 * time.Second
	DefaultMaxSessions    = 100
	DefaultDrainTimeout   = 10 * time.Second
	DefaultMaxExchanges   = 1000
)

// Options configure a Gateway. The zero value is usable: a gateway with no
// upstreams, to which Update adds some.
type Options struct {
	// Name and Version identify the gateway to its clients (serverInfo).
	// Name defaults to DefaultName.
	Name, Version string
	// Instructions are sent to clients in the initialize result.
	Instructions string

	// Upstreams are the servers behind the gateway. Names must be unique
	// and non-empty.
	Upstreams []Upstream

	// Naming selects when tool and prompt names get their upstream's
	// prefix: NamingAuto (the default) prefixes them unless exactly one
	// upstream is enabled, NamingAlways and NamingNever do as they say.
	// An upstream's own Prefix applies in every mode but NamingNever.
	Naming Naming
	// Separator goes between a prefix and a name; default "_".
	Separator string

	// CallTimeout bounds each relayed request, ConnectTimeout each
	// connection attempt (spawn or dial, and the handshake), PingInterval
	// the health pings; upstreams may override each. Zero means the
	// defaults above; a negative PingInterval disables pings.
	CallTimeout, ConnectTimeout, PingInterval time.Duration

	// StartupWait bounds how long New waits for the upstreams to connect,
	// so that the first clients see their tools. Zero means
	// DefaultStartupWait; negative does not wait.
	StartupWait time.Duration

	// DrainTimeout bounds how long a removed or changed upstream may
	// finish the calls in flight before it is stopped. Zero means
	// DefaultDrainTimeout.
	DrainTimeout time.Duration

	// MaxExchanges bounds the 2026-07-28 requests waiting for the client's
	// input (an upstream's elicitation or sampling, held across the
	// client's retries). Zero means DefaultMaxExchanges.
	MaxExchanges int

	// HTTP configures the Streamable HTTP endpoint of Handler, SSE the
	// legacy HTTP+SSE one. Nil means the transports' defaults.
	HTTP *streamable.Options
	SSE  *sse.Options
	// SessionFactory, when set, makes the session factory the Streamable
	// HTTP endpoints (/mcp and each virtual server's) use from their MCP
	// server, instead of the server itself: a scale-out layer (package
	// cluster) wraps the server to seal session ids and restore sessions
	// on any instance.
	SessionFactory func(*mcp.Server) transport.SessionFactory

	// Hooks govern and observe what the gateway relays: identity, policy,
	// events, tracing middleware.
	Hooks Hooks

	// VirtualServers are other views of the same upstreams, each served
	// at /v/NAME/mcp by Handler and Mount (see VirtualServer).
	VirtualServers []VirtualServer

	// ServerOptions, if set, is the starting point of the front server's
	// options (task store, request-state key, list TTLs, session hooks).
	// The gateway sets the fields it needs (Completion, ResourceFallback,
	// Logger, Instructions) and chains OnSessionEnd.
	ServerOptions *mcp.ServerOptions

	// Logger receives the gateway's logs, and each stdio upstream's stderr
	// line by line (attribute "upstream"). Nil discards them.
	Logger *slog.Logger
}

// Naming is a naming mode (see Options.Naming).
type Naming string

// Naming modes.
const (
	NamingAuto   Naming = "auto"
	NamingAlways Naming = "always"
	NamingNever  Naming = "never"
)

// SessionMode says how clients share an upstream.
type SessionMode string

// Session modes.
const (
	// SessionShared serves every client over one upstream session (one
	// process for a stdio upstream). Requests the upstream makes of the
	// client (elicitation, sampling, roots) reach the client whose call
	// caused them when the transport tells which call that is (Streamable
	// HTTP), or when only one call is in flight; otherwise they fail with
	// an error that says to use SessionPerClient.
	SessionShared SessionMode = "shared"
	// SessionPerClient opens one upstream session (one process for a
	// stdio upstream) per client session, so that the upstream sees each
	// client on its own: its capabilities, roots, log level and
	// subscriptions. Requests without a session (revision 2026-07-28) use
	// the shared session.
	SessionPerClient SessionMode = "per-client"
)

// Upstream describes one server behind the gateway. Exactly one of
// Command, URL, Server and Dialer is set.
type Upstream struct {
	// Name identifies the upstream in logs, errors and the admin API, and
	// is its default naming prefix.
	Name string

	// Command starts a stdio server.
	Command *Command
	// URL is the address of an HTTP server: Streamable HTTP with fallback
	// to the legacy HTTP+SSE transport, or only the latter when SSE is
	// set.
	URL string
	SSE bool
	// Header holds headers sent on every HTTP request to URL.
	Header http.Header
	// HTTPClient sends the requests to URL; nil means the transport's
	// default client.
	HTTPClient *http.Client
	// Server is an in-process server, connected without a socket.
	Server *mcp.Server
	// Dialer is any other way to reach a server.
	Dialer transport.Dialer

	// Prefix, if set, replaces the upstream's naming prefix ("" for none).
	Prefix *string
	// Session is how clients share the upstream; default SessionShared.
	Session SessionMode
	// MaxSessions bounds the per-client sessions (DefaultMaxSessions).
	MaxSessions int
	// ProtocolVersion is the revision asked of the upstream: empty for the
	// initialize handshake (2025-11-25 and older), "2026-07-28" to speak
	// the stateless revision, "auto" to probe with server/discover first.
	ProtocolVersion string

	// Timeout, ConnectTimeout and PingInterval override the gateway's.
	Timeout, ConnectTimeout, PingInterval time.Duration

	// Disabled upstreams are configured but not started.
	Disabled bool
}

// Command is how to start a stdio upstream.
type Command struct {
	// Path is the program, looked up in PATH when it has no separator.
	Path string
	Args []string
	// Env lists "KEY=value" entries added to a minimal environment (or to
	// the gateway's whole environment with InheritEnv).
	Env        []string
	InheritEnv bool
	// Dir is the working directory; empty means the gateway's.
	Dir string
}
