// Command switchboard is the Switchboard command line: it runs the gateway,
// demo servers, and talks to any MCP server.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a code and no further message.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "switchboard",
		Short: "An MCP library, gateway and toolbox",
		Long: `Switchboard implements the Model Context Protocol (MCP).

Run the gateway with "switchboard serve", a demo server with
"switchboard demo everything", and talk to any MCP server with the
client commands.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newDemoCmd(), newInspectCmd(), newCallCmd(), newReadCmd(), newPromptCmd(), newCompleteCmd(), newLoginCmd(), newAuthServerCmd(), newConfigCmd(), newConnectCmd(), newKeysCmd(), newAuditCmd(), newUsageCmd(), newRegistryCmd())
	root.AddCommand(governanceCommands()...)
	return root
}
