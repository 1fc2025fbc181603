package main

import (
	"context"
	"errors"
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
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

func newServeCmd() *cobra.Command {
	var addr, authAddr, dataDir string
	var verbose, withAuth, autoApprove bool
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
an MCP session (mcp_binding=session:ID) end with the session. The
authorization server's signing key, clients, grants, refresh tokens and
revocations are kept in the data directory (--data-dir), so a restart
logs nobody out.`,
		Example: `  switchboard serve
  switchboard serve --addr 127.0.0.1:9090
  switchboard serve --auth --auto-approve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := newLogger(verbose)
			ctx := cmd.Context()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", addr, err)
			}
			var as *authserver.Server
			opts := &mcp.ServerOptions{Logger: logger}
			if withAuth {
				aln, err := net.Listen("tcp", authAddr)
				if err != nil {
					ln.Close()
					return fmt.Errorf("listening on %s: %w", authAddr, err)
				}
				db, err := openStore(ctx, dataDir, os.Stderr, "serve")
				if err != nil {
					ln.Close()
					aln.Close()
					return err
				}
				defer db.Close()
				issuer := "http://" + aln.Addr().String()
				resource := "http://" + ln.Addr().String() + "/mcp"
				as, err = authserver.New(authserver.Options{
					Issuer:      issuer,
					Resources:   []string{resource},
					AutoApprove: autoApprove,
					Logger:      logger,
					Storage:     db.AuthServer(),
				})
				if err != nil {
					return err
				}
				ahs := &http.Server{Handler: as, ReadHeaderTimeout: 10 * time.Second}
				go ahs.Serve(aln)
				defer ahs.Close()
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
			return serveListener(ctx, ln, srv, logger, "serve", wrap)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().BoolVar(&withAuth, "auth", false, "protect /mcp with OAuth 2.1 and run the embedded authorization server")
	cmd.Flags().StringVar(&authAddr, "auth-addr", "127.0.0.1:9000", "address of the embedded authorization server (with --auth)")
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "approve every authorization request without the consent page (with --auth; tests only)")
	dataDirFlag(cmd.Flags(), &dataDir)
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log debug messages to stderr")
	return cmd
}

// serveHTTP serves srv over Streamable HTTP (/mcp) and legacy SSE (/sse,
// /message) on addr until ctx ends.
func serveHTTP(ctx context.Context, addr string, srv *mcp.Server, logger *slog.Logger, what string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	return serveListener(ctx, ln, srv, logger, what, nil)
}

// serveListener serves srv on ln until ctx ends, then shuts down
// gracefully. mount, if set, mounts the Streamable HTTP handler (to wrap
// it, e.g. with authorization); the legacy transport is then not served.
func serveListener(ctx context.Context, ln net.Listener, srv *mcp.Server, logger *slog.Logger, what string, mount func(*http.ServeMux, http.Handler) error) error {
	streamH := streamable.NewHandler(srv, &streamable.Options{Logger: logger})
	sseH := sse.NewHandler(srv, nil)
	mux := http.NewServeMux()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(os.Stderr, "switchboard %s: listening on %s\n  Streamable HTTP: %s/mcp\n", what, ln.Addr(), base)
	if mount != nil {
		if err := mount(mux, streamH); err != nil {
			return err
		}
	} else {
		mux.Handle("/mcp", streamH)
		mux.Handle("/sse", sseH)
		mux.Handle("/message", sseH)
		fmt.Fprintf(os.Stderr, "  legacy HTTP+SSE: %s/sse\n", base)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(os.Stderr, "switchboard: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	streamH.Close()
	sseH.Close()
	srv.Close()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
