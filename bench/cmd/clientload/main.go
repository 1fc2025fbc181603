// Command clientload measures the client side of tools/call: it opens
// sessions over Streamable HTTP with one SDK's own client (Switchboard,
// go-sdk or mcp-go), calls the echo tool with one call in flight per
// session, and prints one JSON line with the calls, errors, latencies and
// its own CPU time (getrusage RUSAGE_SELF) over the measured window.
//
//	clientload -impl switchboard -url http://127.0.0.1:8080/mcp -sessions 16 -warmup 1s -duration 5s
//
// The benchmark harness runs it against a Switchboard echo server (the
// servers command). See package clients.
package main

import (
	"os"

	"github.com/switchboard-mcp/switchboard/bench/clients"
)

func main() {
	os.Exit(clients.Main(os.Args[1:], os.Stdout, os.Stderr))
}
