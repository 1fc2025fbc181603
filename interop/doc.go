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
//
// Run it with `go test ./...` from this directory; `-update-doc` rewrites
// the result tables in ../docs/interop.md. See that document for the
// matrix and what each cell checks.
package interop
