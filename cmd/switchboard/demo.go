package main

import (
	"encoding/base64"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/mcp"
)

func newDemoCmd() *cobra.Command {
	demo := &cobra.Command{
		Use:   "demo",
		Short: "Run a demo MCP server, or the conformance suite's client",
		Long: `Demo programs: "everything", a server with every MCP feature (the one the
official conformance suite tests, and the gateway's default upstream), and
"everything-client", the client the conformance suite drives.`,
		Example: `  switchboard demo everything                          # over stdio, for a client that starts it
  switchboard demo everything --http 127.0.0.1:3000    # Streamable HTTP at /mcp, legacy SSE at /sse
  switchboard inspect -- switchboard demo everything   # what it offers
  switchboard call echo text=hi -- switchboard demo everything`,
	}
	var httpAddr string
	var verbose bool
	var limits mcpLimits
	everythingCmd := &cobra.Command{
		Use:   "everything",
		Short: "Serve every MCP feature (the conformance suite's fixtures, plus echo)",
		Long: `Serve a demo server with every MCP feature: the fixtures the official
conformance suite expects (tools, resources, templates, prompts, completion,
logging, progress, sampling, elicitation, SSE polling), an echo tool that
returns its "text" argument, an add tool with structured output, and a
task-capable count_slowly tool.

By default it speaks MCP over stdio. With --http ADDR it serves Streamable
HTTP at /mcp and the legacy HTTP+SSE transport at /sse (messages at
/message).`,
		Example: `  switchboard demo everything
  switchboard demo everything --http 127.0.0.1:3000
  switchboard call add a=1 b=2 -- switchboard demo everything
  switchboard call count_slowly to=3 --task -- switchboard demo everything
  switchboard inspect http://127.0.0.1:3000/mcp        # with --http 127.0.0.1:3000 running`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := newLogger(verbose)
			so := limits.server(&mcp.ServerOptions{Logger: logger})
			if key, err := base64.StdEncoding.DecodeString(os.Getenv(envRequestStateKey)); err == nil && len(key) >= 32 {
				// Replicas of this server (one per gateway instance of a
				// cluster) verify each other's 2026-07-28 requestState.
				so.RequestStateKey = key
			}
			srv := everything.NewServer(so)
			ctx := cmd.Context()
			go everything.UpdateWatched(ctx, srv, 5*time.Second)
			if httpAddr == "" {
				return srv.ServeStdio(ctx)
			}
			return serveHTTP(ctx, httpAddr, srv, logger, "demo everything", &limits)
		},
	}
	everythingCmd.Flags().StringVar(&httpAddr, "http", "", "serve HTTP on this address (e.g. 127.0.0.1:3000) instead of stdio")
	everythingCmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log debug messages to stderr")
	limits.register(everythingCmd) // with --http
	demo.AddCommand(everythingCmd, newEverythingClientCmd())
	return demo
}

func newLogger(verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
