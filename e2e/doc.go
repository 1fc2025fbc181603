// Package e2e holds end-to-end tests of Switchboard's MCP server: the
// switchboard binary is built once and driven over its real transports
// (stdio, Streamable HTTP, the legacy HTTP+SSE transport), by a Go client
// written for these tests and by the TypeScript SDK's client
// (conformance/ts-client.mjs). The package has no code of its own; run it
// with go test.
package e2e
