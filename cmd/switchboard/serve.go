package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/internal/httpserve"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

func newServeCmd() *cobra.Command {
	var addr, authAddr string
	var verbose, withAuth, autoApprove bool
	var limits mcpLimits
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run Switchboard over HTTP (today: the everything demo server)",
		Long: `Run Switchboard over HTTP on 127.0.0.1:8080 with no configuration.

Today this serves the everything demo server (see "switchboard demo
everything") over Streamable HTTP at /mcp and legacy HTTP+SSE at /sse. It
grows into the gateway in front of many upstream servers.

With --auth, /mcp becomes an OAuth 2.1 protected resource: an embedded
authorization server runs on --auth-addr, tokens must be audience-bound to
this server's /mcp URL, and "switchboard login http://ADDR/mcp" (or any MCP
client that implements the authorization spec) obtains one. Grants bound to
an MCP session (mcp_binding=session:ID) end with the session.`,
		Example: `  switchboard serve
  switchboard serve --addr 127.0.0.1:9090
  switchboard serve --auth --auto-approve
  switchboard serve --max-sessions-per-client 100 --session-idle-timeout 10m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := newLogger(verbose)
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", addr, err)
			}
			var as *authserver.Server
			opts := limits.server(&mcp.ServerOptions{Logger: logger})
			if withAuth {
				aln, err := net.Listen("tcp", authAddr)
				if err != nil {
					ln.Close()
					return fmt.Errorf("listening on %s: %w", authAddr, err)
				}
				issuer := "http://" + aln.Addr().String()
				resource := "http://" + ln.Addr().String() + "/mcp"
				as, err = authserver.New(authserver.Options{
					Issuer:      issuer,
					Resources:   []string{resource},
					AutoApprove: autoApprove,
					Logger:      logger,
				})
				if err != nil {
					ln.Close()
					aln.Close()
					return err
				}
				ahs := httpserve.New(as, limits.http.options(logger))
				authDone := make(chan error, 1)
				go func() { authDone <- ahs.Run(ctx, aln) }()
				defer func() {
					// It shuts down with ctx, which ends when serving /mcp
					// does (cancel is deferred after this).
					cancel()
					<-authDone
				}()
				fmt.Fprintf(os.Stderr, "switchboard serve: authorization server at %s\n", issuer)
				opts.OnSessionEnd = func(ss *mcp.ServerSession) { as.RevokeSession(ss.ID()) }
			}
			srv := everything.NewServer(opts)
			go everything.UpdateWatched(ctx, srv, 5*time.Second)
			var wrap func(mux *http.ServeMux, h http.Handler) error
			if as != nil {
				resource := "http://" + ln.Addr().String() + "/mcp"
				v, err := as.Verifier(resource)
				if err != nil {
					return err
				}
				m, err := auth.New(v, &auth.Options{Resource: resource, AuthorizationServers: []string{as.Issuer()}, Logger: logger})
				if err != nil {
					return err
				}
				wrap = func(mux *http.ServeMux, h http.Handler) error { m.Mount(mux, h); return nil }
			}
			return serveListener(ctx, ln, srv, logger, "serve", wrap, &limits)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().BoolVar(&withAuth, "auth", false, "protect /mcp with OAuth 2.1 and run the embedded authorization server")
	cmd.Flags().StringVar(&authAddr, "auth-addr", "127.0.0.1:9000", "address of the embedded authorization server (with --auth)")
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "approve every authorization request without the consent page (with --auth; tests only)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log debug messages to stderr")
	limits.register(cmd)
	return cmd
}

// serveHTTP serves srv over Streamable HTTP (/mcp) and legacy SSE (/sse,
// /message) on addr until ctx ends.
func serveHTTP(ctx context.Context, addr string, srv *mcp.Server, logger *slog.Logger, what string, limits *mcpLimits) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	return serveListener(ctx, ln, srv, logger, what, nil, limits)
}

// serveListener serves srv on ln until ctx ends, then shuts down within
// the shutdown timeout, whatever clients do. mount, if set, mounts the
// Streamable HTTP handler (to wrap it, e.g. with authorization); the
// legacy transport is then not served.
func serveListener(ctx context.Context, ln net.Listener, srv *mcp.Server, logger *slog.Logger, what string, mount func(*http.ServeMux, http.Handler) error, limits *mcpLimits) error {
	streamH := streamable.NewHandler(srv, limits.streamable(logger))
	sseH := sse.NewHandler(srv, limits.sse())
	mux := http.NewServeMux()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(os.Stderr, "switchboard %s: listening on %s\n  Streamable HTTP: %s/mcp\n", what, ln.Addr(), base)
	if mount != nil {
		if err := mount(mux, streamH); err != nil {
			ln.Close()
			return err
		}
	} else {
		mux.Handle("/mcp", streamH)
		mux.Handle("/sse", sseH)
		mux.Handle("/message", sseH)
		fmt.Fprintf(os.Stderr, "  legacy HTTP+SSE: %s/sse\n", base)
	}
	hs := httpserve.New(mux, limits.http.options(logger))
	// On shutdown the handlers end their sessions, which ends the streams
	// that keep connections busy, while the server stops accepting and
	// waits for connections to go idle; when the shutdown timeout is up it
	// closes what is left, which also frees writes stuck on clients that
	// do not read.
	hs.OnShutdown(func(ctx context.Context) {
		fmt.Fprintln(os.Stderr, "switchboard: shutting down")
		_ = streamH.Shutdown(ctx)
	})
	hs.OnShutdown(func(ctx context.Context) { _ = sseH.Shutdown(ctx) })
	hs.OnShutdown(func(ctx context.Context) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.Close() // waits for running tasks, which it cancels
		}()
		select {
		case <-done:
		case <-ctx.Done():
		}
	})
	return hs.Run(ctx, ln)
}
