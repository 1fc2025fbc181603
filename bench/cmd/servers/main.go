// Command servers runs one MCP implementation's echo server for the
// benchmark harness: Streamable HTTP on loopback or stdio, plus a side
// endpoint with runtime stats and pprof profiles.
//
//	servers -impl switchboard -transport http
//	servers -impl mcp-go -transport stdio
//
// It announces its addresses on standard error in a line starting with
// READY. See package servers for the implementations.
package main

import (
	"os"

	"github.com/switchboard-mcp/switchboard/bench/servers"
)

func main() {
	os.Exit(servers.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
