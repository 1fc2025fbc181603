// Package registrytest tests Switchboard's MCP registry against the
// official components, built by the tests from the official registry's Go
// module (github.com/modelcontextprotocol/registry, pinned in this
// module's go.mod as tools so that the main module stays lean):
//
//   - the official publisher CLI, mcp-publisher, logging in with an HTTP
//     key proof (a test .well-known server over TLS) and a DNS key proof
//     (a test DNS server), publishing, validating and changing statuses
//     against a Switchboard registry, the API showing each step;
//   - a second Switchboard registry process mirroring the first,
//     interrupted and resumed, with deletions and status changes;
//   - the official registry server on a throwaway PostgreSQL cluster that
//     the tests start (Debian's postgresql), seeded through its own publish
//     API, mirrored by Switchboard (on SQLite and on PostgreSQL);
//   - the speed of both side by side (TestSpeed; the full measurement is
//     "make registry-bench").
package registrytest
