package servers

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// Lines a server child writes to standard error for its parent.
const (
	// ReadyPrefix starts the line announcing the listening addresses:
	// "READY mcp=<url or -> side=<url>".
	ReadyPrefix = "READY"
	// UnsupportedPrefix starts the line explaining an exit with
	// ExitUnsupported.
	UnsupportedPrefix = "UNSUPPORTED"
)

// ExitUnsupported is the exit status of a server asked for a mode its
// implementation lacks.
const ExitUnsupported = 3

// Stats is what a server reports about itself on its side endpoint, after
// two garbage collections.
type Stats struct {
	HeapAlloc  uint64 `json:"heapAlloc"`  // bytes of live heap objects
	HeapInuse  uint64 `json:"heapInuse"`  // bytes in in-use heap spans
	StackInuse uint64 `json:"stackInuse"` // bytes of goroutine stacks
	Goroutines int    `json:"goroutines"`
	NumGC      uint32 `json:"numGC"`
	UserMicros int64  `json:"userMicros"` // CPU time, from getrusage
	SysMicros  int64  `json:"sysMicros"`
}

// ReadStats collects the Stats of this process.
func ReadStats() Stats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := Stats{
		HeapAlloc:  ms.HeapAlloc,
		HeapInuse:  ms.HeapInuse,
		StackInuse: ms.StackInuse,
		Goroutines: runtime.NumGoroutine(),
		NumGC:      ms.NumGC,
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		st.UserMicros = ru.Utime.Sec*1e6 + ru.Utime.Usec
		st.SysMicros = ru.Stime.Sec*1e6 + ru.Stime.Usec
	}
	return st
}

// sideHandler serves /stats and the pprof endpoints.
func sideHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ReadStats())
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	return mux
}

// Main is the servers command: it serves one implementation over HTTP on
// loopback or over stdin/stdout, plus a side HTTP endpoint for stats and
// profiles, and returns the exit status. It announces itself on stderr with
// a READY line (see ReadyPrefix).
//
// With GatewayCommand as its first argument it runs the Switchboard
// gateway instead (see MainGateway).
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == GatewayCommand {
		return MainGateway(args[1:], stderr)
	}
	fs := flag.NewFlagSet("servers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	impl := fs.String("impl", Switchboard, fmt.Sprintf("implementation: %v", Names))
	tr := fs.String("transport", "http", "http (Streamable HTTP) or stdio")
	addr := fs.String("addr", "127.0.0.1:0", "HTTP listen address (loopback)")
	side := fs.String("side", "127.0.0.1:0", "side endpoint address for /stats and /debug/pprof/ (empty: none)")
	stateless := fs.Bool("stateless", false, "use the implementation's stateless HTTP mode")
	validate := fs.Bool("validate", false, "turn on optional input validation (mcp-go)")
	jsonResp := fs.Bool("json-response", false, "go-sdk: answer application/json instead of SSE")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !Known(*impl) {
		fmt.Fprintf(stderr, "servers: unknown -impl %q\n", *impl)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	sideURL := "-"
	if *side != "" {
		ln, err := listenLoopback(*side)
		if err != nil {
			fmt.Fprintf(stderr, "servers: side endpoint: %v\n", err)
			return 1
		}
		srv := newHTTPServer(sideHandler())
		srv.WriteTimeout = 0 // CPU profiles stream for their duration
		go srv.Serve(ln)
		defer srv.Close()
		sideURL = "http://" + ln.Addr().String()
	}

	switch *tr {
	case "http":
		h, err := NewHTTPHandler(*impl, HTTPOptions{Stateless: *stateless, Validate: *validate, JSONResponse: *jsonResp})
		if errors.Is(err, ErrUnsupported) {
			fmt.Fprintf(stderr, "%s %v\n", UnsupportedPrefix, err)
			return ExitUnsupported
		}
		if err != nil {
			fmt.Fprintf(stderr, "servers: %v\n", err)
			return 1
		}
		defer h.Close()
		ln, err := listenLoopback(*addr)
		if err != nil {
			fmt.Fprintf(stderr, "servers: %v\n", err)
			return 1
		}
		mux := http.NewServeMux()
		mux.Handle("/mcp", h)
		srv := newHTTPServer(mux)
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		fmt.Fprintf(stderr, "%s mcp=http://%s/mcp side=%s\n", ReadyPrefix, ln.Addr(), sideURL)
		select {
		case <-ctx.Done():
		case err := <-errc:
			fmt.Fprintf(stderr, "servers: %v\n", err)
			return 1
		}
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return 0
	case "stdio":
		if *stateless {
			fmt.Fprintf(stderr, "%s stdio has no stateless mode\n", UnsupportedPrefix)
			return ExitUnsupported
		}
		fmt.Fprintf(stderr, "%s mcp=- side=%s\n", ReadyPrefix, sideURL)
		err := ServeStdio(ctx, *impl, stdin, stdout, StdioOptions{Validate: *validate})
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			fmt.Fprintf(stderr, "servers: stdio: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "servers: unknown -transport %q\n", *tr)
	return 2
}

// listenLoopback listens on addr, which must be a loopback address.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("address %q is not a loopback IP", addr)
	}
	return net.Listen("tcp", addr)
}

// newHTTPServer returns the http.Server every implementation is served by,
// with the same timeouts for all.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       10 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
