// Package transport defines the contract between MCP transports and the
// protocol layer above them.
//
// A transport (stdio, Streamable HTTP, the legacy HTTP+SSE transport) moves
// JSON-RPC messages; it knows nothing of tools, resources or prompts. The
// protocol layer (package mcp) implements [Session] and [SessionFactory];
// transports call them with decoded messages and give them [Sink]s to write
// to.
//
// Subpackages implement the transports: stdio, streamable and sse.
package transport

import (
	"context"
	"errors"
	"net/http"
	"net/netip"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// Sink is where a server writes messages to a client: the response stream
// of one request (progress, log messages and server-to-client requests
// related to it) or a session's stream for messages unrelated to any
// request. Send must be safe for concurrent use.
type Sink interface {
	// Send writes one encoded JSON-RPC message. It may block for
	// backpressure; it returns an error when the message cannot be
	// delivered (the client went away and nothing retains it).
	Send(ctx context.Context, msg []byte) error
}

// StreamCloser is implemented by sinks backed by a stream the server may
// close while work goes on, such as an SSE response to a POST. Closing asks
// the client to reconnect later and resume from the last event it saw;
// messages sent after the close are kept for that resumption.
type StreamCloser interface {
	CloseStream(retryAfter int) // milliseconds the client should wait
}

// Session is one client's protocol session as seen by a transport.
type Session interface {
	// ID returns the session id ("" for transports without ids, like stdio).
	ID() string
	// ProtocolVersion returns the negotiated protocol revision, or "" before
	// initialization.
	ProtocolVersion() string
	// HandleRequest serves a request and returns its encoded response.
	// Related messages are written to sink before it returns. ctx carries
	// the request's values (see [RequestInfo]) and ends when the session
	// ends, not when the transport's connection does.
	HandleRequest(ctx context.Context, req *jsonrpc.Request, sink Sink) []byte
	// HandleNotification processes a notification from the client.
	HandleNotification(ctx context.Context, req *jsonrpc.Request)
	// HandleResponse processes the client's response to a request the
	// server sent.
	HandleResponse(resp *jsonrpc.Response)
	// Close ends the session: in-flight requests are cancelled and the
	// session is forgotten.
	Close()
	// Done is closed when the session has ended.
	Done() <-chan struct{}
}

// SessionFactory creates sessions; the protocol layer implements it.
type SessionFactory interface {
	// NewSession creates a session for a client that is about to
	// initialize. id is the transport's session id ("" if none); standalone
	// receives messages unrelated to any request (list changes, resource
	// updates, unrelated log messages).
	NewSession(ctx context.Context, id string, standalone Sink) (Session, error)
	// SupportedVersions lists the protocol revisions the server speaks,
	// newest first.
	SupportedVersions() []string
}

// StatelessHandler is implemented by factories that serve requests outside
// any session (protocol revision 2026-07-28 and later, where every request
// carries its protocol version and client capabilities in _meta).
type StatelessHandler interface {
	// HandleStateless serves one request without a session and returns its
	// encoded response.
	HandleStateless(ctx context.Context, req *jsonrpc.Request, sink Sink) []byte
}

// ErrSessionLimit is returned by a SessionFactory that refuses new sessions
// because it has too many.
var ErrSessionLimit = errors.New("transport: too many sessions")

// RequestInfo describes the transport-level request a message arrived in.
// HTTP transports attach it to the context given to the Session; it is nil
// on stdio.
type RequestInfo struct {
	// Header holds the HTTP request headers.
	Header http.Header
	// RemoteAddr is the network address of the client.
	RemoteAddr string
	// Host is the Host the client addressed.
	Host string
	// Client is the key under which the transport counts the client's
	// sessions and requests against its per-client limits: by default
	// RemoteAddrKey of the request, or an identity when the transport is
	// configured so. Empty on transports without per-client limits.
	Client string
	// Admitter, if set, counts work a request starts that outlives it
	// (a task) against the transport's bounds on work in flight.
	Admitter Admitter
}

// Admitter lets the protocol layer count work that outlives the request
// that started it, such as a task, against a transport's bounds on work in
// flight, so that such work cannot escape them. HTTP transports put one in
// RequestInfo.
type Admitter interface {
	// Admit reserves room for one unit of work of client (a
	// RequestInfo.Client). It returns a function that gives the room back,
	// to be called exactly once when the work ends, or an error wrapping
	// ErrBusy when the client or the server has too much in flight.
	Admit(client string) (release func(), err error)
}

// ErrBusy is wrapped by the error of an Admitter refusing work: the client,
// or the server, has too much in flight.
var ErrBusy = errors.New("transport: too much work in flight")

// RemoteAddrKey is the default client key of the HTTP transports: the IP
// address of r.RemoteAddr, an IPv6 address reduced to its /64 prefix (one
// host usually holds a whole /64), or RemoteAddr itself when it is not an
// IP address and port. Behind a reverse proxy every client has the proxy's
// address: key clients by an authenticated identity there.
func RemoteAddrKey(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	ip := ap.Addr().Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.WithZone("").Prefix(64)
	return p.String()
}

type requestInfoKey struct{}

// WithRequestInfo returns a context carrying info.
func WithRequestInfo(ctx context.Context, info *RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, info)
}

// RequestInfoFrom returns the RequestInfo attached to ctx, or nil.
func RequestInfoFrom(ctx context.Context) *RequestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*RequestInfo)
	return info
}
