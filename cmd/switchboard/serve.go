package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/mcp"
)

func newServeCmd() *cobra.Command {
	var addr string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run Switchboard over HTTP (today: the everything demo server)",
		Long: `Run Switchboard over HTTP on 127.0.0.1:8080 with no configuration.

Today this serves the everything demo server (see "switchboard demo
everything") over Streamable HTTP at /mcp and legacy HTTP+SSE at /sse. It
grows into the gateway in front of many upstream servers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := newLogger(verbose)
			srv := everything.NewServer(&mcp.ServerOptions{Logger: logger})
			go everything.UpdateWatched(cmd.Context(), srv, 5*time.Second)
			return serveHTTP(cmd.Context(), addr, srv, logger, "serve")
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log debug messages to stderr")
	return cmd
}
