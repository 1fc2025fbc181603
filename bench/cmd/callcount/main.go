// Command callcount sends a fixed number of tools/call requests to a
// Streamable HTTP server, for measures that count work rather than time
// (instructions under valgrind's callgrind, allocations): it opens the
// sessions and warms up, runs a command (-before), sends -calls calls
// spread over the sessions, then runs another (-after). bench/callgrind.sh
// uses it to zero callgrind's counters before the measured calls and dump
// them after, so that the instructions counted are those of the calls.
//
//	callcount -url http://127.0.0.1:PORT/mcp -sessions 16 -calls 4000 \
//	    -before 'callgrind_control -z PID' -after 'callgrind_control -d PID'
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/harness"
)

func main() {
	url := flag.String("url", "", "the server's Streamable HTTP endpoint")
	sessions := flag.Int("sessions", 1, "sessions (workers), each with one call in flight")
	calls := flag.Int("calls", 1000, "calls measured, spread evenly over the sessions")
	warmup := flag.Int("warmup", 200, "calls before -before runs")
	modern := flag.Bool("modern", false, "speak revision 2026-07-28 (stateless) instead of a 2025-11-25 session")
	before := flag.String("before", "", "shell command run after the warm-up, before the measured calls")
	after := flag.String("after", "", "shell command run after the measured calls")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "callcount: -url is required")
		os.Exit(2)
	}
	ctx := context.Background()
	fc, err := harness.NewFixedClient(ctx, *url, *modern, *sessions)
	if err != nil {
		fmt.Fprintf(os.Stderr, "callcount: %v\n", err)
		os.Exit(1)
	}
	defer fc.Close()
	if _, err := fc.Run(*warmup); err != nil {
		fmt.Fprintf(os.Stderr, "callcount: warm-up: %v\n", err)
		os.Exit(1)
	}
	run := func(cmd string) {
		if cmd == "" {
			return
		}
		c := exec.Command("sh", "-c", cmd)
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "callcount: %s: %v\n", cmd, err)
			os.Exit(1)
		}
	}
	run(*before)
	t0 := time.Now()
	ok, err := fc.Run(*calls)
	d := time.Since(t0)
	run(*after)
	if err != nil {
		fmt.Fprintf(os.Stderr, "callcount: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("calls %d ok %d in %v\n", *calls, ok, d.Round(time.Millisecond))
	if ok != *calls {
		os.Exit(1)
	}
}
