package servers

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// GatewayCommand is the first argument that makes the servers command run
// the Switchboard gateway instead of a server (see MainGateway).
const GatewayCommand = "gateway"

// UpstreamName is the name of the one upstream behind the benchmark's
// gateway. With a single upstream the gateway adds no prefix, so the
// upstream's tool "echo" keeps its name.
const UpstreamName = "echo"

// GatewayOptions say what the benchmark's gateway fronts: exactly one of
// Command (a stdio server the gateway starts) and URL (a Streamable HTTP
// server).
type GatewayOptions struct {
	// Command and Args start the upstream over stdio; Env is added to the
	// gateway's minimal environment for it.
	Command string
	Args    []string
	Env     []string
	// URL is the upstream's Streamable HTTP endpoint.
	URL string
	// MaxIdleConnsPerHost, if positive, gives an HTTP upstream a client
	// whose idle pool keeps that many connections (an experiment: the
	// gateway's default client keeps 16, see internal/httpclient).
	MaxIdleConnsPerHost int
	// Logger receives the gateway's logs (nil: discarded).
	Logger *slog.Logger
}

// NewGateway starts a Switchboard gateway in front of one upstream, at the
// gateway's defaults (shared upstream session, the default timeouts and
// HTTP client), as `switchboard serve` would with a one-server
// configuration. It waits for the upstream to be ready and returns an
// error if it is not.
func NewGateway(o GatewayOptions) (*gateway.Gateway, error) {
	up := gateway.Upstream{Name: UpstreamName}
	switch {
	case o.Command != "" && o.URL != "":
		return nil, errors.New("servers: a gateway upstream is a command or a URL, not both")
	case o.Command != "":
		up.Command = &gateway.Command{Path: o.Command, Args: o.Args, Env: o.Env}
	case o.URL != "":
		up.URL = o.URL
		if o.MaxIdleConnsPerHost > 0 {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.MaxIdleConnsPerHost = o.MaxIdleConnsPerHost
			t.MaxIdleConns = max(t.MaxIdleConns, o.MaxIdleConnsPerHost)
			up.HTTPClient = &http.Client{Transport: t}
		}
	default:
		return nil, errors.New("servers: the gateway needs an upstream command or URL")
	}
	opts := gateway.Options{Name: "switchboard-bench-gateway", Upstreams: []gateway.Upstream{up}, Logger: o.Logger}
	if w := JSONWindow(); w > 0 {
		opts.HTTP = &streamable.Options{JSONResponseWindow: w}
	}
	g, err := gateway.New(opts)
	if err != nil {
		return nil, err
	}
	st, _ := g.Status()
	if len(st) != 1 || st[0].State != gateway.StateReady || st[0].Tools != 1 {
		g.Close()
		if len(st) == 1 {
			return nil, fmt.Errorf("servers: upstream %s is %s with %d tools (want ready with 1): %s", st[0].Name, st[0].State, st[0].Tools, st[0].Error)
		}
		return nil, errors.New("servers: the gateway reports no upstream")
	}
	return g, nil
}

// MainGateway runs the Switchboard gateway in front of one upstream, with
// the same READY line and side endpoint as a server child (see Main):
//
//	servers gateway [-addr A] [-side A] [-upstream-env K=V]... -- COMMAND ARGS...
//	servers gateway [-addr A] [-side A] [-upstream-max-idle-conns N] -upstream-url URL
//
// The gateway serves Streamable HTTP at /mcp (g.Handler()); a stdio
// upstream is its child process, so its CPU time is counted with the
// gateway's process tree.
func MainGateway(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("servers gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "HTTP listen address (loopback)")
	side := fs.String("side", "127.0.0.1:0", "side endpoint address for /stats and /debug/pprof/ (empty: none)")
	url := fs.String("upstream-url", "", "the upstream's Streamable HTTP URL (instead of a command after --)")
	idle := fs.Int("upstream-max-idle-conns", 0, "experiment: an HTTP upstream's client keeps this many idle connections (0: the gateway's default client)")
	var env multiFlag
	fs.Var(&env, "upstream-env", "KEY=VALUE added to a stdio upstream's environment (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o := GatewayOptions{URL: *url, Env: env, MaxIdleConnsPerHost: *idle,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if rest := fs.Args(); len(rest) > 0 {
		o.Command, o.Args = rest[0], rest[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	sideURL := "-"
	if *side != "" {
		ln, err := listenLoopback(*side)
		if err != nil {
			fmt.Fprintf(stderr, "servers gateway: side endpoint: %v\n", err)
			return 1
		}
		srv := newHTTPServer(sideHandler())
		srv.WriteTimeout = 0
		go srv.Serve(ln)
		defer srv.Close()
		sideURL = "http://" + ln.Addr().String()
	}
	g, err := NewGateway(o)
	if err != nil {
		fmt.Fprintf(stderr, "servers gateway: %v\n", err)
		return 1
	}
	defer g.Close()
	ln, err := listenLoopback(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "servers gateway: %v\n", err)
		return 1
	}
	srv := newHTTPServer(g.Handler())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "%s mcp=http://%s%s side=%s\n", ReadyPrefix, ln.Addr(), gateway.PathMCP, sideURL)
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "servers gateway: %v\n", err)
			return 1
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}
