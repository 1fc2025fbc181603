// Package bench is the side-by-side benchmark of Switchboard against the
// other Go MCP implementations (mark3labs/mcp-go, modelcontextprotocol/go-sdk)
// and a plain net/http + encoding/json baseline, and of Switchboard's
// gateway against other MCP gateways in front of the same server.
//
// It is a module of its own, so that the peers never enter Switchboard's
// dependency graph. Run it with `make bench` (about 16–20 minutes; writes
// ../BENCHMARKS.md), `make bench-gateway` (the gateway rows only) or
// `make bench-quick` (a couple of minutes, for smoke tests). The pieces:
//
//   - package servers and command servers: each implementation's echo
//     server, and Switchboard's gateway in front of one (`servers gateway`),
//     run by the harness as child processes;
//   - package harness and command harness: the load client, the gateway
//     rows and the peer gateways, the client side, the idle session
//     measurement, the in-process benchmark runner and the report;
//   - package clients and command clientload: each SDK's own client
//     (Switchboard, go-sdk, mcp-go) calling the echo tool, measuring its
//     process's CPU per call, run by the harness for the client side;
//   - peers/: the peer gateways, pinned (TBXark/mcp-proxy as a Go module of
//     its own, the npm ones with a package-lock.json); `make peers`
//     installs them and the harness skips any that is missing;
//   - inproc_test.go: the in-process testing.B benchmarks.
package bench
