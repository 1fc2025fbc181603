package transport

import (
	"context"
	"errors"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// A Dialer opens connections from a client to a server: it spawns a
// process (stdio) or prepares HTTP exchanges with a URL (Streamable HTTP,
// legacy HTTP+SSE). The protocol layer (mcp.Client) calls Dial once per
// client session.
type Dialer interface {
	Dial(ctx context.Context) (ClientConn, error)
}

// ClientConn is the client side of a connection: it carries JSON-RPC
// messages to the server and back. The protocol layer correlates responses
// with requests; the connection only moves messages.
//
// Send and Recv may be called concurrently with each other and with Close;
// Send may be called from many goroutines.
type ClientConn interface {
	// Send delivers one message (a request, a notification, or a response
	// to a server-initiated request). On HTTP transports the response to
	// a request, and the messages the server sends on that request's
	// stream, arrive later through Recv. Send returns ErrSessionExpired
	// when the server no longer knows the session (the connection has then
	// forgotten the session id, so that the client may initialize again),
	// and an *HTTPError for other refusals.
	Send(ctx context.Context, msg jsonrpc.Message) error

	// Recv returns the next message from the server. It returns
	// ErrConnClosed after Close, and the cause (io.EOF for a server that
	// went away) when the connection has ended.
	Recv(ctx context.Context) (jsonrpc.Message, error)

	// Close ends the connection: an HTTP session is deleted (DELETE with
	// its Mcp-Session-Id), a child process is stopped (stdin closed, then
	// SIGTERM, then SIGKILL). Pending Recv calls return ErrConnClosed.
	Close() error
}

// VersionSetter is implemented by connections that need the negotiated
// protocol revision (HTTP transports send it in the MCP-Protocol-Version
// header). The client calls it after initialization, before sending
// notifications/initialized; a Streamable HTTP connection then opens the
// standalone GET stream.
type VersionSetter interface {
	SetProtocolVersion(version string)
}

// RelatedReceiver is implemented by connections that can tell which of the
// client's requests a message from the server relates to. On Streamable
// HTTP a server sends the requests and notifications that belong to a
// client request (progress, log messages, sampling, elicitation) on that
// request's response stream; the connection knows the stream and reports
// the request's id. The protocol layer uses it to hand such messages to
// handlers with the context of the request they belong to (see
// mcp.ClientOptions), which is what lets a gateway route an upstream's
// elicitation to the one client whose call caused it.
type RelatedReceiver interface {
	// RecvRelated is Recv, and also returns the id of the client request
	// whose response stream carried msg. The id is absent (its IsValid is
	// false) for messages that arrived outside any request's stream.
	RecvRelated(ctx context.Context) (msg jsonrpc.Message, related jsonrpc.ID, err error)
}

// SessionIDer is implemented by connections that have a session id (the
// Streamable HTTP Mcp-Session-Id, the legacy transport's sessionId).
type SessionIDer interface {
	SessionID() string
}

// ErrSessionExpired reports that the server answered 404 to a request
// carrying a session id: the session ended on the server.
var ErrSessionExpired = errors.New("transport: session expired or unknown to the server")

// ErrConnClosed is returned by ClientConn methods after Close.
var ErrConnClosed = errors.New("transport: connection closed")

// HTTPError is an HTTP response that refused a message.
type HTTPError struct {
	StatusCode int
	// Status is the status line text, e.g. "405 Method Not Allowed".
	Status string
	// Body holds the start of the response body (at most a few KiB), for
	// diagnostics.
	Body string
	// Header holds the response headers (WWW-Authenticate matters for
	// authorization).
	Header map[string][]string
}

// Error describes the refusal, with the start of the body if any.
func (e *HTTPError) Error() string {
	if e.Body != "" {
		return "transport: server answered " + e.Status + ": " + e.Body
	}
	return "transport: server answered " + e.Status
}
