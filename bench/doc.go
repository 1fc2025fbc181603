// Package bench is the side-by-side benchmark of Switchboard against the
// other Go MCP implementations (mark3labs/mcp-go, modelcontextprotocol/go-sdk)
// and a plain net/http + encoding/json baseline.
//
// It is a module of its own, so that the peers never enter Switchboard's
// dependency graph. Run it with `make bench` (about 9 minutes; writes
// ../BENCHMARKS.md) or `make bench-quick` (about a minute, for smoke
// tests). The pieces:
//
//   - package servers and command servers: each implementation's echo
//     server, run by the harness as a child process;
//   - package harness and command harness: the load client, the idle
//     session measurement, the in-process benchmark runner and the report;
//   - inproc_test.go: the in-process testing.B benchmarks.
package bench
