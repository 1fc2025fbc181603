// Package httpserve runs the HTTP servers of the switchboard command (and
// of the gateway): an http.Server with a timeout on every phase of a
// request, a listener with a connection limit, and a shutdown that ends
// within a bound whatever clients do.
//
// The timeouts:
//
//   - ReadHeaderTimeout bounds reading a request's headers;
//   - BodyTimeout bounds reading a request's body, from the moment the
//     handler is called. It is a per-request read deadline
//     (http.ResponseController), armed only for requests with a body and
//     lifted once the body has been read to its end, so that it can never
//     touch a long-lived response such as an SSE stream, whatever the HTTP
//     version; a body trickled more slowly fails to read;
//   - WriteTimeout is the first write deadline of every response. Handlers
//     that stream (the MCP transports) re-arm their own before each write;
//   - IdleTimeout bounds how long a keep-alive connection waits for its
//     next request;
//   - MaxHeaderBytes bounds the request headers.
//
// MaxConns bounds the connections open at once: connections beyond it are
// closed as soon as they are accepted, so that a flood of connections
// cannot exhaust the process's file descriptors.
//
// Shutdown stops accepting, runs the hooks registered with OnShutdown
// (which end long-lived responses, such as the MCP handlers' Shutdown) at
// the same time as net/http's graceful shutdown, and when ShutdownTimeout
// has passed closes every connection that is left, which also unblocks
// writes to clients that stopped reading.
package httpserve

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultBodyTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 30 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultShutdownTimeout   = 5 * time.Second
	// DefaultMaxConns is the connection limit when Options.MaxConns is
	// zero, lowered to three quarters of the process's limit on open
	// files where that is lower.
	DefaultMaxConns = 4096
)

// forceGrace is how long Shutdown waits, after closing the connections
// that were left, for the handlers and hooks they unblocked to return.
const forceGrace = time.Second

// Options configure a Server. The zero value is ready to use: every zero
// field takes its default, and a negative duration or limit disables it.
type Options struct {
	// ReadHeaderTimeout bounds reading the request headers (default 10s).
	ReadHeaderTimeout time.Duration
	// BodyTimeout bounds reading a request body, counted from the start of
	// the handler (default 30s). A body trickled more slowly fails to
	// read and its connection is closed.
	BodyTimeout time.Duration
	// WriteTimeout is the write deadline armed when a request has been
	// read (default 30s). Handlers that stream extend it with
	// http.ResponseController.SetWriteDeadline before each write, as the
	// MCP transports do.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection (default 30s).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers (default 64 KiB;
	// negative: net/http's default, 1 MiB).
	MaxHeaderBytes int
	// MaxConns bounds the connections open at once (default
	// DefaultMaxConns, or three quarters of the open files limit when that
	// is lower). Connections beyond it are closed when accepted.
	MaxConns int
	// ShutdownTimeout bounds Shutdown (default 5s): after it, connections
	// still open are closed.
	ShutdownTimeout time.Duration
	// Logger receives diagnostics (nil: discarded).
	Logger *slog.Logger
}

// Server is an http.Server with the limits of Options. Create it with New.
type Server struct {
	hs              *http.Server
	log             *slog.Logger
	bodyTimeout     time.Duration
	maxConns        int
	shutdownTimeout time.Duration

	mu    sync.Mutex
	hooks []func(context.Context)
	lns   []*limitListener
}

// New returns a server for h with the given options (nil: defaults).
func New(h http.Handler, opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	s := &Server{
		log:             o.Logger,
		bodyTimeout:     orDefault(o.BodyTimeout, DefaultBodyTimeout),
		maxConns:        o.MaxConns,
		shutdownTimeout: orDefault(o.ShutdownTimeout, DefaultShutdownTimeout),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxConns == 0 {
		s.maxConns = defaultMaxConns()
	}
	if s.shutdownTimeout < 0 {
		s.shutdownTimeout = 0
	}
	maxHeader := o.MaxHeaderBytes
	if maxHeader == 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	s.hs = &http.Server{
		Handler:           s.withBodyDeadline(h),
		ReadHeaderTimeout: positive(orDefault(o.ReadHeaderTimeout, DefaultReadHeaderTimeout)),
		WriteTimeout:      positive(orDefault(o.WriteTimeout, DefaultWriteTimeout)),
		IdleTimeout:       positive(orDefault(o.IdleTimeout, DefaultIdleTimeout)),
		MaxHeaderBytes:    max(maxHeader, 0),
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// positive maps the "disabled" negative durations to net/http's zero.
func positive(d time.Duration) time.Duration { return max(d, 0) }

// HTTPServer returns the underlying http.Server, for settings Options does
// not cover (TLSConfig, ConnState, BaseContext). Its Handler, timeouts and
// MaxHeaderBytes are set by New.
func (s *Server) HTTPServer() *http.Server { return s.hs }

// OnShutdown registers f to run when Shutdown begins, concurrently with
// the other hooks and the graceful shutdown of the connections. f must
// return when its context ends; it is meant to end the long-lived
// responses that keep connections busy (such as the MCP handlers'
// Shutdown).
func (s *Server) OnShutdown(f func(ctx context.Context)) {
	s.mu.Lock()
	s.hooks = append(s.hooks, f)
	s.mu.Unlock()
}

// Serve accepts connections on ln, at most MaxConns at once, until
// Shutdown; it returns http.ErrServerClosed then. It closes ln.
func (s *Server) Serve(ln net.Listener) error {
	return s.hs.Serve(s.limit(ln))
}

// ServeTLS is Serve with TLS, the certificate and key read from files as
// http.Server.ServeTLS does.
func (s *Server) ServeTLS(ln net.Listener, certFile, keyFile string) error {
	return s.hs.ServeTLS(s.limit(ln), certFile, keyFile)
}

func (s *Server) limit(ln net.Listener) net.Listener {
	if s.maxConns < 0 {
		return ln
	}
	l := &limitListener{Listener: ln, max: int64(s.maxConns), log: s.log}
	s.mu.Lock()
	s.lns = append(s.lns, l)
	s.mu.Unlock()
	return l
}

// OpenConns returns the connections currently open on the server's
// listeners (0 without a connection limit).
func (s *Server) OpenConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.lns {
		n += int(l.open.Load())
	}
	return n
}

// Run serves ln until ctx ends, then shuts down (see Shutdown). It returns
// nil after a shutdown, even a forced one, and Serve's error otherwise.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	return s.run(ctx, func() error { return s.Serve(ln) })
}

// RunTLS is Run with TLS (see ServeTLS).
func (s *Server) RunTLS(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	return s.run(ctx, func() error { return s.ServeTLS(ln, certFile, keyFile) })
}

func (s *Server) run(ctx context.Context, serve func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	err := s.Shutdown(context.Background())
	<-errc // Serve returns as soon as Shutdown begins
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// Shutdown stops the server within ShutdownTimeout (or before, when ctx
// ends), whatever clients do. It closes the listeners, runs the
// OnShutdown hooks and waits for the connections to become idle; when the
// time is up it closes the connections that are left, which unblocks
// handlers writing to clients that do not read, and waits a little more
// (at most a second) for handlers and hooks to return. It returns nil
// when everything ended in time, and an error wrapping
// context.DeadlineExceeded when connections had to be closed.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.shutdownTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.shutdownTimeout)
		defer cancel()
	}
	s.mu.Lock()
	hooks := s.hooks
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, f := range hooks {
		wg.Go(func() { f(ctx) })
	}
	hooksDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(hooksDone)
	}()
	err := s.hs.Shutdown(ctx)
	if err != nil {
		s.log.Warn("httpserve: closing the connections still open at the end of the shutdown timeout", "timeout", s.shutdownTimeout)
		_ = s.hs.Close()
		err = errors.Join(errors.New("httpserve: connections closed at the end of the shutdown timeout"), err)
	}
	grace := time.NewTimer(forceGrace)
	defer grace.Stop()
	select {
	case <-hooksDone:
	case <-grace.C:
		s.log.Warn("httpserve: shutdown hooks still running; giving up on them")
	}
	return err
}

// withBodyDeadline arms the body read deadline for requests with a body.
func (s *Server) withBodyDeadline(h http.Handler) http.Handler {
	if s.bodyTimeout <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(s.bodyTimeout)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the body read deadline once the body has been read to
// its end, so that it cannot end a long-lived response. (On HTTP/1,
// net/http lifts it too when it starts reading the connection in the
// background to notice the client going away.)
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// limitListener closes the connections accepted beyond max open ones.
type limitListener struct {
	net.Listener
	max     int64
	log     *slog.Logger
	open    atomic.Int64
	refused atomic.Int64
	logged  atomic.Int64 // unix seconds of the last refusal logged
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		_ = c.Close()
		n := l.refused.Add(1)
		if now := time.Now().Unix(); l.logged.Swap(now) != now {
			l.log.Warn("httpserve: connection limit reached; closing new connections", "max", l.max, "refused", n)
		}
	}
}

// limitConn gives its place back when closed.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}

// CloseWrite half-closes the connection when the underlying one can, as
// net/http does before closing a connection after an error answer.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
