// Package jsonrpc implements JSON-RPC 2.0 messages and a transport-agnostic
// connection: request ids, correlation of responses with calls, a bound on
// concurrent handlers and cancellation. It knows nothing of MCP methods.
package jsonrpc
