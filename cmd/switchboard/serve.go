package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/gateway/console"
	"github.com/switchboard-mcp/switchboard/internal/httpserve"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/store"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// serveFlags are the flags of "switchboard serve".
type serveFlags struct {
	addr, authAddr, configPath string
	dataDir, adminToken        string
	appsAddr                   string
	addrSet                    bool // --addr was given: it wins over the file's gateway.addr
	verbose, withAuth          bool
	autoApprove, stdio         bool
	limits                     mcpLimits
	cluster                    clusterFlags
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
  switchboard serve --auth --auto-approve
  switchboard serve --max-sessions-per-client 100 --session-idle-timeout 10m`,
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
	cmd.Flags().StringVar(&f.appsAddr, "apps-addr", "127.0.0.1:0", "address of the sandbox through which the console renders MCP Apps: another origin than the console's (default: a free loopback port; \"off\": no apps in the console)")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log debug messages to stderr")
	f.limits.register(cmd)
	f.cluster.register(cmd)
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
	opts := gateway.Options{Version: version, Logger: logger, ServerOptions: f.limits.server(&mcp.ServerOptions{}),
		HTTP: f.limits.streamable(logger), SSE: f.limits.sse()}
	var cfg *config.Config
	if f.configPath != "" {
		var err error
		if cfg, err = loadConfig(f.configPath); err != nil {
			return err
		}
		applyGatewaySettings(&opts, cfg.Gateway)
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
	gov, err := newGovernance(cfg, &opts, db, logger)
	if err != nil {
		return err
	}
	defer gov.close()
	idn, err := newServeIdentity(ctx, cfg, db, logger)
	if err != nil {
		return err
	}
	obs, err := setupObservability(ctx, cfg, &opts, db, logger)
	if err != nil {
		return err
	}
	defer obs.Close()

	if f.stdio {
		if err := idn.apply(cfg, &opts, ""); err != nil {
			return err
		}
		g, err := gateway.New(opts)
		if err != nil {
			return err
		}
		defer g.Close()
		obs.attach(g)
		startWatch(g)
		gov.start(ctx, g)
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
		authMW *auth.Middleware
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if f.withAuth {
		var aln net.Listener
		as, aln, authMW, err = startAuth(ctx, f, logger, base+gateway.PathMCP, db, idn)
		if err != nil {
			return err
		}
		ahs := httpserve.New(idn.authServerHandler(as), f.limits.http.options(logger))
		authDone := make(chan error, 1)
		go func() { authDone <- ahs.Run(ctx, aln) }()
		defer func() {
			// It shuts down with ctx, which ends when serving /mcp does
			// (cancel is deferred after this).
			cancel()
			<-authDone
		}()
		ended := opts.ServerOptions.OnSessionEnd
		opts.ServerOptions.OnSessionEnd = func(ss *mcp.ServerSession) {
			as.RevokeSession(ss.ID())
			if ended != nil {
				ended(ss)
			}
		}
	}
	if err := idn.apply(cfg, &opts, base); err != nil {
		return err
	}
	so, err := startScaleOut(ctx, &f.cluster, &opts, logger)
	if err != nil {
		return err
	}
	defer so.close() // after the gateway closes
	g, err := gateway.New(opts)
	if err != nil {
		return err
	}
	defer g.Close()
	startWatch(g)
	obs.attach(g)
	gov.start(ctx, g)

	mux := http.NewServeMux()
	adminOpts := console.Options{Token: f.adminToken, Logs: logs, Version: version, Routes: joinRoutes(gov.adminRoutes(), obs.routes())}
	if f.appsAddr != "" && f.appsAddr != "off" {
		sln, err := net.Listen("tcp", f.appsAddr)
		if err != nil {
			return fmt.Errorf("listening on %s (--apps-addr): %w", f.appsAddr, err)
		}
		adminOpts.AppsSandbox = console.SandboxOrigin(sln.Addr()) + console.PathSandbox
		shs := httpserve.New(console.Sandbox(console.SandboxOptions{HostOrigins: []string{base}, Logger: logger}), f.limits.http.options(logger))
		sandboxDone := make(chan error, 1)
		go func() { sandboxDone <- shs.Run(ctx, sln) }()
		defer func() {
			cancel()
			<-sandboxDone
		}()
	}
	if adminOpts.Token == "" {
		adminOpts.Token = os.Getenv("SWITCHBOARD_ADMIN_TOKEN")
	}
	if rl != nil {
		adminOpts.Reload = func() error { return rl.Reload("the admin API") }
		if so != nil {
			adminOpts.Reload = so.onReload(rl.Reload)
		}
	}
	console.NewAdmin(g, adminOpts).Mount(mux)
	if authMW != nil {
		authMW.Mount(mux, g.MCPHandler())
		mux.HandleFunc(gateway.PathHealthz, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
		mux.Handle(gateway.PathReadyz, g.Handler())
		for _, name := range g.VirtualServerNames() {
			mux.Handle(gateway.PathVirtual+name+gateway.PathMCP, authMW.Wrap(g.VirtualHandler(name)))
		}
	} else if !idn.mountAPIKeys(mux, g) {
		g.Mount(mux)
	}
	mux.Handle(pathOAuthCallback, idn.reg)
	if err := mountRegistry(ctx, mux, cfg, db, g, logger, authMW == nil); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "switchboard serve: listening on %s\n  Streamable HTTP: %s%s\n", ln.Addr(), base, gateway.PathMCP)
	access := "loopback only"
	if adminOpts.Token != "" {
		access = "admin token required"
	}
	fmt.Fprintf(os.Stderr, "  console: %s%s (admin API %s%s, %s)\n", base, console.PathUI, base, console.PathAPI, access)
	if adminOpts.AppsSandbox != "" {
		fmt.Fprintf(os.Stderr, "  MCP Apps sandbox: %s\n", adminOpts.AppsSandbox)
	}
	if authMW == nil {
		fmt.Fprintf(os.Stderr, "  legacy HTTP+SSE: %s%s\n", base, gateway.PathSSE)
	} else {
		fmt.Fprintf(os.Stderr, "  authorization server at %s\n", as.Issuer())
	}
	fmt.Fprintf(os.Stderr, "  health: %s%s, %s%s\n", base, gateway.PathHealthz, base, gateway.PathReadyz)
	obs.print(os.Stderr, mux, base)
	if cfg != nil {
		fmt.Fprintf(os.Stderr, "  configuration: %s (reloaded when it changes, and on SIGHUP)\n", cfg.Path)
	}
	gov.mount(mux, g)
	printUpstreams(g)
	return serveUntilDone(so.drainOnCancel(ctx, f.cluster.drainDelay, g), ln, so.wrap(gov.wrap(mux)), g, &f.limits.http, logger)
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

// startAuth prepares the embedded authorization server for resource and
// its listener; the caller serves it.
func startAuth(ctx context.Context, f *serveFlags, logger *slog.Logger, resource string, db *store.DB, idn *serveIdentity) (*authserver.Server, net.Listener, *auth.Middleware, error) {
	aln, err := net.Listen("tcp", f.authAddr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listening on %s: %w", f.authAddr, err)
	}
	issuer := "http://" + aln.Addr().String()
	asOpts := authserver.Options{
		Issuer:      issuer,
		Resources:   []string{resource},
		AutoApprove: f.autoApprove,
		Logger:      logger,
		Storage:     db.AuthServer(),
	}
	if err := idn.authServerOptions(ctx, &asOpts); err != nil {
		aln.Close()
		return nil, nil, nil, err
	}
	as, err := authserver.New(asOpts)
	if err != nil {
		aln.Close()
		return nil, nil, nil, err
	}
	fmt.Fprintf(os.Stderr, "switchboard serve: authorization server at %s\n", issuer)
	v, err := as.Verifier(resource)
	if err != nil {
		aln.Close()
		return nil, nil, nil, err
	}
	mwOpts := &auth.Options{Resource: resource, AuthorizationServers: []string{as.Issuer()}, Logger: logger}
	m, err := auth.New(idn.middleware(v, mwOpts), mwOpts)
	if err != nil {
		aln.Close()
		return nil, nil, nil, err
	}
	return as, aln, m, nil
}

// serveUntilDone serves h on ln until ctx ends, then shuts down within
// the shutdown timeout: the server stops taking connections and requests,
// the calls in flight finish (bounded), then the gateway ends its
// sessions and stops its upstreams; connections left at the end of the
// timeout are closed.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, g *gateway.Gateway, limits *httpLimits, logger *slog.Logger) error {
	hs := httpserve.New(h, limits.options(logger))
	hs.OnShutdown(func(ctx context.Context) {
		fmt.Fprintln(os.Stderr, "switchboard: shutting down")
		if err := g.Drain(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "switchboard:", err)
		}
		_ = g.Shutdown(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			g.Close()
		}()
		select {
		case <-done:
		case <-ctx.Done():
		}
	})
	return hs.Run(ctx, ln)
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

// joinRoutes merges the admin API routes of the parts of serve.
func joinRoutes(parts ...map[string]http.Handler) map[string]http.Handler {
	all := map[string]http.Handler{}
	for _, p := range parts {
		maps.Copy(all, p)
	}
	return all
}
