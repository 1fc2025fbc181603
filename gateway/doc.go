// Package gateway is Switchboard's MCP gateway: one MCP server in front of
// many upstream servers.
//
// A Gateway connects to its upstreams (stdio processes, Streamable HTTP or
// legacy HTTP+SSE servers, in-process *mcp.Server values), merges their
// tools, prompts, resources and resource templates into one front server
// under names that are a pure function of the configuration, and relays
// every request to the upstream that serves it: calls, reads, prompts,
// completion, subscriptions, progress, cancellation, logging, and the
// requests upstreams make of clients (sampling, elicitation, roots), which
// reach the client whose call caused them. It bridges protocol revisions:
// clients of revision 2026-07-28 reach upstreams of 2025-11-25 and back.
//
//	g, err := gateway.New(gateway.Options{Upstreams: []gateway.Upstream{
//		{Name: "files", Command: &gateway.Command{Path: "npx", Args: []string{"-y", "@modelcontextprotocol/server-filesystem", "/tmp"}}},
//		{Name: "search", URL: "https://search.example.com/mcp"},
//	}})
//	if err != nil { ... }
//	defer g.Close()
//	http.ListenAndServe("127.0.0.1:8080", g.Handler())
//
// See docs/gateway.md for naming, relaying, reloading and health.
package gateway
