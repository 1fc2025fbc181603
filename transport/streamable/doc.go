// Package streamable implements MCP's Streamable HTTP transport (protocol
// revisions 2025-03-26 to 2025-11-25): the server side as an http.Handler
// for one MCP endpoint, and the client side as a transport.Dialer
// (NewDialer).
//
//	h := streamable.NewHandler(server, nil) // server implements transport.SessionFactory
//	defer h.Close()
//	mux.Handle("/mcp", h)
//
// # Sessions
//
// An initialize request POSTed without an Mcp-Session-Id header creates a
// session; its random id is returned in the Mcp-Session-Id response header
// and must accompany every later request (400 without it, 404 once the
// session has ended). DELETE ends a session. Sessions also end after
// Options.IdleTimeout without requests, when the protocol layer closes them,
// and when the Handler is closed.
//
// Options.MaxSessions bounds the sessions (503 with Retry-After beyond
// it), and Options.MaxSessionsPerClient those of one client, as named by
// Options.ClientKey (by default its IP address): a client at its bound
// that initializes again ends its own session idle the longest, never
// another client's, so that one client flooding initialize cannot lock
// others out.
//
// An idle session costs a few hundred bytes of transport state and no
// goroutine: one janitor goroutine per Handler ends expired sessions, and
// every lookup checks expiry too, so an expired session is never served.
//
// # Adaptive responses
//
// A POST carrying requests is answered either with a plain JSON body or
// with a Server-Sent Events stream. In the default ResponseAdaptive mode the
// handler waits up to Options.JSONResponseWindow (50ms): if the requests
// complete in that time without sending any related message, the response
// is JSON, which is cheapest for the client and for intermediaries.
// Otherwise — a slow request, a progress notification, a log message, a
// server-to-client request such as sampling/createMessage — the response
// becomes an SSE stream carrying those messages and finally the response.
// Clients whose Accept header admits only one of the two media types get
// only that one.
//
// Each request runs in its own goroutine with a context that carries the
// HTTP request's values and a transport.RequestInfo. The context ends when
// the session ends. The spec does not treat disconnection as cancellation
// (clients send notifications/cancelled), and a client that disconnects
// from a stream it can resume (it holds an event id of it) may come back
// with Last-Event-ID: its requests go on, for Options.ResumeWindow at
// most unless a client resumes the stream. But a client that disconnects
// from a response it cannot resume (plain JSON, or an SSE stream that gave
// it no event id yet) can never get the responses: its requests are
// cancelled. Tasks outlive their request either way.
//
// # Limits
//
// A session runs at most Options.MaxInFlightPerSession requests at once; a
// request beyond that waits up to Options.InFlightWait for a slot and is
// then refused with 429. Options.MaxInFlight bounds the requests of all
// clients (503 beyond it) and Options.MaxInFlightPerClient those of one
// client (429), stateless requests and running tasks included (the
// protocol layer counts tasks through transport.RequestInfo.Admitter).
// Refusals carry Retry-After and a JSON-RPC error; within a batch whose
// answer has begun, a refused request gets a JSON-RPC error response. Every
// write to a client has a deadline (Options.WriteTimeout), so a client that
// stops reading loses its response instead of holding the handler.
//
// # Resumability
//
// Every SSE event carries an id and is stored in an EventStore (by default
// a bounded MemoryEventStore) under its stream. Streams of sessions on
// revision 2025-11-25 or later start with a priming event — an id, a retry
// field and empty data — so that the client can resume even before the
// first message. When the client disconnects, or the server ends the HTTP
// response early through transport.StreamCloser (polling, SEP-1699; honoured
// from revision 2025-11-25 on, as earlier revisions forbid it), the request
// goes on and its later messages are stored; a GET with
// Last-Event-ID replays what followed that event on the same stream and
// then stays attached until the stream's response has been delivered. A
// stream has at most one attached HTTP response at a time: a resuming GET
// takes over from an earlier one, so that no message is sent twice.
//
// A GET without Last-Event-ID opens the session's standalone stream, which
// carries messages unrelated to any request (list changes, resource
// updates). Messages sent while no such GET is open are stored and
// delivered to the next one. A second standalone GET replaces the first,
// whose response ends.
//
// # Security
//
// Requests arriving on a loopback address must name a loopback host in the
// Host header, and an Origin header, when present, must match the request's
// own origin; both guard local servers against DNS rebinding. Options
// AllowedHosts and AllowedOrigins widen the checks. Refused requests get
// 403. Authentication is left to middleware in front of the Handler; its
// context values reach the session through the request context.
//
// The handler answers OPTIONS with 405; CORS preflight belongs to
// middleware, which should also expose the Mcp-Session-Id response header.
package streamable
