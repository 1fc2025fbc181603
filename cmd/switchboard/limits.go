package main

import (
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/internal/httpserve"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// httpLimits are the flags of an HTTP server the command runs (serve,
// demo everything --http, auth-server). docs/security.md explains each.
type httpLimits struct {
	readHeaderTimeout time.Duration
	bodyTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	shutdownTimeout   time.Duration
	maxHeaderBytes    int
	maxConns          int
}

func (l *httpLimits) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.DurationVar(&l.readHeaderTimeout, "read-header-timeout", httpserve.DefaultReadHeaderTimeout, "time allowed to read a request's headers")
	f.DurationVar(&l.bodyTimeout, "body-timeout", httpserve.DefaultBodyTimeout, "time allowed to read a request's body (a slower body is cut)")
	f.DurationVar(&l.writeTimeout, "write-timeout", httpserve.DefaultWriteTimeout, "time allowed for each write of a response; a client that does not read for that long loses its connection")
	f.DurationVar(&l.idleTimeout, "idle-conn-timeout", httpserve.DefaultIdleTimeout, "how long an idle keep-alive connection stays open")
	f.DurationVar(&l.shutdownTimeout, "shutdown-timeout", httpserve.DefaultShutdownTimeout, "on SIGTERM or SIGINT, how long to wait for open requests before closing their connections")
	f.IntVar(&l.maxHeaderBytes, "max-header-bytes", httpserve.DefaultMaxHeaderBytes, "largest request header block, in bytes")
	f.IntVar(&l.maxConns, "max-conns", 0, "most connections open at once; more are closed when accepted (0: 4096, or 3/4 of the open files limit if lower)")
}

// options returns the httpserve options of the flags.
func (l *httpLimits) options(logger *slog.Logger) *httpserve.Options {
	return &httpserve.Options{
		ReadHeaderTimeout: orDisabled(l.readHeaderTimeout),
		BodyTimeout:       orDisabled(l.bodyTimeout),
		WriteTimeout:      orDisabled(l.writeTimeout),
		IdleTimeout:       orDisabled(l.idleTimeout),
		ShutdownTimeout:   orDisabled(l.shutdownTimeout),
		MaxHeaderBytes:    l.maxHeaderBytes,
		MaxConns:          l.maxConns,
		Logger:            logger,
	}
}

// orDisabled maps a zero flag value ("no limit" on the command line) to
// the negative value that disables a limit in the options, whose zero
// means "the default".
func orDisabled(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// mcpLimits are the flags of the MCP transports (serve, demo everything
// --http).
type mcpLimits struct {
	http                  httpLimits
	maxBodyBytes          int64
	maxSessions           int
	maxSessionsPerClient  int
	sessionIdleTimeout    time.Duration
	maxInFlightPerSession int
	maxInFlight           int
	maxInFlightPerClient  int
	inFlightWait          time.Duration
	resumeWindow          time.Duration
	maxTasksPerSession    int
	maxTasksPerClient     int
}

func (l *mcpLimits) register(cmd *cobra.Command) {
	l.http.register(cmd)
	f := cmd.Flags()
	f.Int64Var(&l.maxBodyBytes, "max-body-bytes", streamable.DefaultMaxBodyBytes, "largest POST body, in bytes")
	f.IntVar(&l.maxSessions, "max-sessions", streamable.DefaultMaxSessions, "most MCP sessions at once (Streamable HTTP; legacy SSE streams are counted apart)")
	f.IntVar(&l.maxSessionsPerClient, "max-sessions-per-client", 0, "most MCP sessions of one client address at once; a client at its limit loses its own session idle the longest (0: a tenth of --max-sessions; -1: no limit)")
	f.DurationVar(&l.sessionIdleTimeout, "session-idle-timeout", streamable.DefaultIdleTimeout, "end a session after this long without requests (0: never)")
	f.IntVar(&l.maxInFlightPerSession, "max-inflight-per-session", streamable.DefaultMaxInFlightPerSession, "most requests of one session handled at once")
	f.DurationVar(&l.inFlightWait, "inflight-wait", streamable.DefaultInFlightWait, "how long a request waits for a free slot of its session before it is refused with 429 (0: no wait)")
	f.IntVar(&l.maxInFlight, "max-inflight", streamable.DefaultMaxInFlight, "most requests (and running tasks) handled at once in all; more are refused with 503 (-1: no limit)")
	f.IntVar(&l.maxInFlightPerClient, "max-inflight-per-client", streamable.DefaultMaxInFlightPerClient, "most requests (and running tasks) of one client address at once; more are refused with 429 (-1: no limit)")
	f.DurationVar(&l.resumeWindow, "resume-window", streamable.DefaultResumeWindow, "how long the requests of a stream whose client disconnected run on, waiting for it to resume the stream (0: no limit)")
	f.IntVar(&l.maxTasksPerSession, "max-tasks-per-session", mcp.DefaultMaxTasksPerSession, "most tasks of one session running at once (-1: no limit)")
	f.IntVar(&l.maxTasksPerClient, "max-tasks-per-client", mcp.DefaultMaxTasksPerClient, "most tasks of one client address running at once (-1: no limit)")
}

// server sets the limits of the flags on the options of an MCP server.
func (l *mcpLimits) server(o *mcp.ServerOptions) *mcp.ServerOptions {
	o.MaxTasksPerSession = l.maxTasksPerSession
	o.MaxTasksPerClient = l.maxTasksPerClient
	return o
}

// streamable returns the Streamable HTTP handler options of the flags.
func (l *mcpLimits) streamable(logger *slog.Logger) *streamable.Options {
	return &streamable.Options{
		Logger:                logger,
		WriteTimeout:          orDisabled(l.http.writeTimeout),
		MaxBodyBytes:          l.maxBodyBytes,
		MaxSessions:           l.maxSessions,
		MaxSessionsPerClient:  l.maxSessionsPerClient,
		IdleTimeout:           orDisabled(l.sessionIdleTimeout),
		MaxInFlightPerSession: l.maxInFlightPerSession,
		InFlightWait:          orDisabled(l.inFlightWait),
		MaxInFlight:           l.maxInFlight,
		MaxInFlightPerClient:  l.maxInFlightPerClient,
		ResumeWindow:          orDisabled(l.resumeWindow),
	}
}

// sse returns the legacy HTTP+SSE handler options of the flags.
func (l *mcpLimits) sse() *sse.Options {
	return &sse.Options{
		WriteTimeout:          orDisabled(l.http.writeTimeout),
		MaxBodyBytes:          l.maxBodyBytes,
		MaxInFlightPerSession: l.maxInFlightPerSession,
		InFlightWait:          orDisabled(l.inFlightWait),
		MaxInFlight:           l.maxInFlight,
		MaxInFlightPerClient:  l.maxInFlightPerClient,
		MaxSessions:           l.maxSessions,
		MaxSessionsPerClient:  l.maxSessionsPerClient,
	}
}
