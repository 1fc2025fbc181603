// Package servers builds the echo servers compared by the benchmark
// harness: Switchboard, mark3labs/mcp-go, modelcontextprotocol/go-sdk and a
// plain net/http + encoding/json baseline that speaks just enough JSON-RPC
// for the load client and implements no MCP.
//
// Every implementation registers one tool, "echo", whose input schema is
// {"text": string (required)} and whose result is one text content block
// carrying the text back. Each is configured at its library's defaults
// except where noted on the constructor. NewGateway and MainGateway put
// Switchboard's gateway in front of one such server.
package servers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// Implementation names accepted by the constructors and the servers
// command.
const (
	Baseline    = "baseline"
	Switchboard = "switchboard"
	MCPGo       = "mcp-go"
	GoSDK       = "go-sdk"
	// SwitchboardDemo is `switchboard demo everything --http`'s server
	// (every fixture of the conformance suites, its echo tool among them)
	// behind the same handler as Switchboard's echo server.
	SwitchboardDemo = "switchboard-demo"
)

// Names lists every implementation, baseline first.
var Names = []string{Baseline, Switchboard, MCPGo, GoSDK, SwitchboardDemo}

// ProtocolVersion is the revision the harness's clients initialize with
// (every session, and the stateless mode of the peers).
const ProtocolVersion = "2025-11-25"

// StatelessProtocolVersion is the stateless revision: no initialize, no
// session; every request carries the version, the client's capabilities and
// its identity in its _meta, and names its method in headers.
const StatelessProtocolVersion = "2026-07-28"

// StatelessRevision returns the revision a client speaks to impl's
// stateless mode: StatelessProtocolVersion for Switchboard, whose stateless
// mode is revision 2026-07-28, and "" for the others, whose stateless mode
// is an initialize-era server that issues no session ids (the client
// initializes with ProtocolVersion and then sends requests without one).
func StatelessRevision(impl string) string {
	if impl == Switchboard || impl == SwitchboardDemo {
		return StatelessProtocolVersion
	}
	return ""
}

// ErrUnsupported reports a mode an implementation does not have yet.
var ErrUnsupported = errors.New("servers: mode not supported by this implementation")

// HTTPOptions select a variant of an implementation's Streamable HTTP
// handler.
type HTTPOptions struct {
	// Stateless selects the implementation's stateless mode (no session
	// ids; every request stands alone). Switchboard has no separate mode:
	// its one handler serves revision 2026-07-28 requests statelessly (see
	// StatelessRevision).
	Stateless bool
	// Validate turns on input validation where it is optional (mcp-go);
	// Switchboard and go-sdk always validate, the baseline never does.
	Validate bool
	// JSONResponse asks go-sdk for application/json responses instead of
	// its default SSE-framed ones. The others answer JSON by default.
	JSONResponse bool
	// MaxSessions raises session limits that would otherwise refuse the
	// idle-session measurement (0: 1,000,000).
	MaxSessions int
}

// Handler is an HTTP handler that may own resources; Close releases them.
type Handler interface {
	http.Handler
	io.Closer
}

type handlerCloser struct {
	http.Handler
	close func() error
}

func (h handlerCloser) Close() error {
	if h.close == nil {
		return nil
	}
	return h.close()
}

// NewHTTPHandler returns the Streamable HTTP handler of impl, serving the
// echo tool. It returns ErrUnsupported (wrapped) for a mode the
// implementation lacks.
func NewHTTPHandler(impl string, o HTTPOptions) (Handler, error) {
	if o.MaxSessions <= 0 {
		o.MaxSessions = 1_000_000
	}
	switch impl {
	case Baseline:
		return handlerCloser{Handler: NewBaselineHandler()}, nil
	case Switchboard:
		return newSwitchboardHTTP(o)
	case MCPGo:
		return newMCPGoHTTP(o)
	case GoSDK:
		return newGoSDKHTTP(o)
	case SwitchboardDemo:
		return newSwitchboardDemoHTTP(o)
	}
	return nil, fmt.Errorf("servers: unknown implementation %q (want one of %v)", impl, Names)
}

// StdioOptions select a variant of an implementation's stdio server.
type StdioOptions struct {
	// Validate turns on input validation where it is optional (mcp-go).
	Validate bool
}

// ServeStdio serves one session of impl over r and w (newline-delimited
// JSON-RPC) until r reaches EOF or ctx ends.
func ServeStdio(ctx context.Context, impl string, r io.Reader, w io.Writer, o StdioOptions) error {
	switch impl {
	case Baseline:
		return ServeBaselineStdio(ctx, r, w)
	case Switchboard:
		return serveSwitchboardStdio(ctx, r, w)
	case MCPGo:
		return serveMCPGoStdio(ctx, r, w, o)
	case GoSDK:
		return serveGoSDKStdio(ctx, r, w)
	case SwitchboardDemo:
		return everything.NewServer(nil).ServeStream(ctx, stdio.NewStream(readCloser{r}, writeCloser{w}, nil))
	}
	return fmt.Errorf("servers: unknown implementation %q (want one of %v)", impl, Names)
}

// Known reports whether impl names an implementation.
func Known(impl string) bool { return slices.Contains(Names, impl) }

// readCloser turns r into an io.ReadCloser whose Close unblocks nothing
// but is harmless, for libraries that insist on one.
type readCloser struct{ io.Reader }

func (readCloser) Close() error { return nil }

type writeCloser struct{ io.Writer }

func (writeCloser) Close() error { return nil }
