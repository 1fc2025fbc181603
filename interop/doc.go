// Package interop checks Switchboard against other MCP implementations.
//
// It is a module of its own (so that the peer SDKs never become
// dependencies of the library) whose tests run an interoperability matrix
// over stdio and Streamable HTTP:
//
//   - Part A: peer clients (the official Go SDK, mcp-go and the TypeScript
//     SDK) against `switchboard demo everything`.
//   - Part B: Switchboard's client against peer servers (the TypeScript
//     server-everything, and the small Go SDK and mcp-go servers under
//     cmd/).
//   - Parts A26 and B26: the same at revision 2026-07-28, with the Go
//     peers' clients left at their defaults (they try 2026-07-28 first)
//     and Switchboard's client pinned to 2026-07-28, sampling and
//     elicitation going through multi round-trip (input_required) results.
//
// Run it with `go test ./...` from this directory; `-update-doc` rewrites
// the result tables in ../docs/interop.md. See that document for the
// matrix and what each cell checks.
package interop
