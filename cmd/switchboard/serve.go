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
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/gateway/console"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/store"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// serveFlags are the flags of "switchboard serve".
type serveFlags struct {
	addr, authAddr, configPath string
	dataDir, adminToken        string
	addrSet                    bool // --addr was given: it wins over the file's gateway.addr
	verbose, withAuth          bool
	autoApprove, stdio         bool
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway: one MCP endpoint in front of many MCP servers",
		Long: `Run the Switchboard gateway: one MCP endpoint in front of the MCP servers
of a configuration file, relaying every request to the server that serves
it (see docs/gateway.md).

With no configuration it fronts one upstream, the everything demo server
("switchboard demo everything", started as a child process over stdio),
on 127.0.0.1:8080: Streamable HTTP at /mcp (every revision, 2026-07-28
included), the legacy HTTP+SSE transport at /sse, liveness at /healthz and
readiness at /readyz.

--config takes a JSON or YAML file whose "mcpServers" (or VS Code's
"servers") map lists the upstreams with the keys MCP clients already use,
so a Claude Desktop, Cursor or VS Code file works as it is.

With --stdio the gateway speaks MCP over its standard input and output, for
clients that only start processes; logs go to standard error.

With --auth, /mcp becomes an OAuth 2.1 protected resource: an embedded
authorization server runs on --auth-addr, tokens must be audience-bound to
this server's /mcp URL, and "switchboard login http://ADDR/mcp" (or any MCP
client that implements the authorization spec) obtains one. Grants bound to
an MCP session (mcp_binding=session:ID) end with the session.

State that survives restarts lives in the data directory (--data-dir, or
the configuration's gateway.dataDir; by default under the user's data
directory): an embedded SQLite database and the master key that encrypts
its secrets. The authorization server's signing key, clients, grants,
refresh tokens and revocations are kept there, so a restart logs nobody
out.`,
		Example: `  switchboard serve
  switchboard serve --config ~/.cursor/mcp.json
  switchboard serve --addr 127.0.0.1:9090
  switchboard serve --stdio
  switchboard serve --auth --auto-approve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.addrSet = cmd.Flags().Changed("addr")
			return runServe(cmd.Context(), &f)
		},
	}
	cmd.Flags().StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVarP(&f.configPath, "config", "c", "", "configuration file (JSON or YAML; default: the demo server as the one upstream)")
	cmd.Flags().BoolVar(&f.stdio, "stdio", false, "speak MCP over standard input and output instead of HTTP")
	cmd.Flags().BoolVar(&f.withAuth, "auth", false, "protect /mcp with OAuth 2.1 and run the embedded authorization server")
	cmd.Flags().StringVar(&f.authAddr, "auth-addr", "127.0.0.1:9000", "address of the embedded authorization server (with --auth)")
	cmd.Flags().BoolVar(&f.autoApprove, "auto-approve", false, "approve every authorization request without the consent page (with --auth; tests only)")
	dataDirFlag(cmd.Flags(), &f.dataDir)
	cmd.Flags().StringVar(&f.adminToken, "admin-token", "", "require this bearer token on the admin API (/api/), which then answers from any address (default: $SWITCHBOARD_ADMIN_TOKEN; without one, loopback only)")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log debug messages to stderr")
	return cmd
}

// demoUpstream is the zero-configuration upstream: this program's own
// everything demo server, as a child process over stdio.
func demoUpstream() (gateway.Upstream, error) {
	exe, err := os.Executable()
	if err != nil {
		return gateway.Upstream{}, fmt.Errorf("finding this program to start the demo server: %w", err)
	}
	// Per-client sessions: the demo's tools elicit, sample and ask for
	// roots, which over a shared stdio process could not tell the calls of
	// concurrent clients apart.
	return gateway.Upstream{Name: "demo", Command: &gateway.Command{Path: exe, Args: []string{"demo", "everything"}}, Session: gateway.SessionPerClient}, nil
}

func runServe(ctx context.Context, f *serveFlags) error {
	logs := console.NewLogBuffer(0)
	logger := slog.New(logs.Handler(newLogger(f.verbose).Handler()))
	if f.stdio && f.withAuth {
		return errors.New("--auth protects the HTTP endpoint; it cannot be used with --stdio")
	}
	opts := gateway.Options{Version: version, Logger: logger, ServerOptions: &mcp.ServerOptions{}}
	var cfg *config.Config
	if f.configPath != "" {
		var err error
		if cfg, err = loadConfig(f.configPath); err != nil {
			return err
		}
		applyGatewaySettings(&opts, cfg.Gateway)
		opts.Version = version
		opts.Upstreams = upstreamsOf(cfg)
		if !f.addrSet && cfg.Gateway.Addr != "" {
			f.addr = cfg.Gateway.Addr
		}
		if f.dataDir == "" {
			f.dataDir = cfg.Gateway.DataDir
		}
		if len(opts.Upstreams) == 0 {
			logger.Warn("the configuration lists no servers; the gateway serves nothing until a reload adds some", "file", cfg.Path)
		}
	} else {
		demo, err := demoUpstream()
		if err != nil {
			return err
		}
		opts.Upstreams = []gateway.Upstream{demo}
	}
	var rl *reloader
	startWatch := func(g *gateway.Gateway) {
		if cfg != nil {
			rl = &reloader{g: g, log: logger, current: cfg}
			go rl.watch(ctx)
		}
	}

	db, err := openStore(ctx, f.dataDir, os.Stderr, "serve")
	if err != nil {
		return err
	}
	defer db.Close()

	if f.stdio {
		g, err := gateway.New(opts)
		if err != nil {
			return err
		}
		defer g.Close()
		startWatch(g)
		return g.ServeStdio(ctx)
	}

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", f.addr, err)
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	var (
		as     *authserver.Server
		ahs    *http.Server
		authMW *auth.Middleware
	)
	if f.withAuth {
		as, ahs, authMW, err = startAuth(f, logger, base+gateway.PathMCP, db)
		if err != nil {
			return err
		}
		defer ahs.Close()
		opts.ServerOptions.OnSessionEnd = func(ss *mcp.ServerSession) { as.RevokeSession(ss.ID()) }
	}
	g, err := gateway.New(opts)
	if err != nil {
		return err
	}
	defer g.Close()
	startWatch(g)

	mux := http.NewServeMux()
	adminOpts := console.Options{Token: f.adminToken, Logs: logs, Version: version}
	if adminOpts.Token == "" {
		adminOpts.Token = os.Getenv("SWITCHBOARD_ADMIN_TOKEN")
	}
	if rl != nil {
		adminOpts.Reload = func() error { return rl.Reload("the admin API") }
	}
	console.NewAdmin(g, adminOpts).Mount(mux)
	if authMW != nil {
		authMW.Mount(mux, g.MCPHandler())
		mux.HandleFunc(gateway.PathHealthz, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
		mux.Handle(gateway.PathReadyz, g.Handler())
	} else {
		g.Mount(mux)
	}
	if err := mountRegistry(ctx, mux, cfg, db, g, logger, authMW == nil); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "switchboard serve: listening on %s\n  Streamable HTTP: %s%s\n", ln.Addr(), base, gateway.PathMCP)
	access := "loopback only"
	if adminOpts.Token != "" {
		access = "admin token required"
	}
	fmt.Fprintf(os.Stderr, "  console: %s%s (admin API %s%s, %s)\n", base, console.PathUI, base, console.PathAPI, access)
	if authMW == nil {
		fmt.Fprintf(os.Stderr, "  legacy HTTP+SSE: %s%s\n", base, gateway.PathSSE)
	} else {
		fmt.Fprintf(os.Stderr, "  authorization server at %s\n", as.Issuer())
	}
	fmt.Fprintf(os.Stderr, "  health: %s%s, %s%s\n", base, gateway.PathHealthz, base, gateway.PathReadyz)
	if cfg != nil {
		fmt.Fprintf(os.Stderr, "  configuration: %s (reloaded when it changes, and on SIGHUP)\n", cfg.Path)
	}
	printUpstreams(g)
	return serveUntilDone(ctx, ln, mux, g)
}

// printUpstreams lists the upstreams and their state at start.
func printUpstreams(g *gateway.Gateway) {
	ups, collisions := g.Status()
	fmt.Fprintf(os.Stderr, "  upstreams:\n")
	for _, u := range ups {
		line := fmt.Sprintf("    %s (%s): %s", u.Name, u.Transport, u.State)
		if u.State == gateway.StateReady || u.State == gateway.StateDegraded {
			line += fmt.Sprintf(", %d tools, %d prompts, %d resources", u.Tools, u.Prompts, u.Resources)
		}
		if u.Error != "" {
			line += ": " + u.Error
		}
		fmt.Fprintln(os.Stderr, line)
	}
	for _, c := range collisions {
		fmt.Fprintf(os.Stderr, "  collision: %s\n", c)
	}
}

// startAuth starts the embedded authorization server for resource.
func startAuth(f *serveFlags, logger *slog.Logger, resource string, db *store.DB) (*authserver.Server, *http.Server, *auth.Middleware, error) {
	aln, err := net.Listen("tcp", f.authAddr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listening on %s: %w", f.authAddr, err)
	}
	issuer := "http://" + aln.Addr().String()
	as, err := authserver.New(authserver.Options{
		Issuer:      issuer,
		Resources:   []string{resource},
		AutoApprove: f.autoApprove,
		Logger:      logger,
		Storage:     db.AuthServer(),
	})
	if err != nil {
		aln.Close()
		return nil, nil, nil, err
	}
	ahs := &http.Server{Handler: as, ReadHeaderTimeout: 10 * time.Second}
	go ahs.Serve(aln)
	v, err := as.Verifier(resource)
	if err != nil {
		ahs.Close()
		return nil, nil, nil, err
	}
	m, err := auth.New(v, &auth.Options{Resource: resource, AuthorizationServers: []string{as.Issuer()}, Logger: logger})
	if err != nil {
		ahs.Close()
		return nil, nil, nil, err
	}
	return as, ahs, m, nil
}

// serveUntilDone serves h on ln until ctx ends, then shuts down: the HTTP
// server stops taking requests, then the gateway stops its upstreams.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, g *gateway.Gateway) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(os.Stderr, "switchboard: shutting down")
	// Stop taking connections and requests, let the calls in flight finish
	// (bounded), then end the sessions and stop the upstreams.
	drainCtx, cancel := context.WithTimeout(context.Background(), gateway.DefaultDrainTimeout)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- hs.Shutdown(drainCtx) }()
	if err := g.Drain(drainCtx); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
	}
	g.Close()
	hs.Close()
	if err := <-shut; err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
