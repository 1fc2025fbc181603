package servers

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// EchoIn is the echo tool's input for Switchboard's typed tool (its
// schema tags differ from go-sdk's).
type EchoIn struct {
	Text string `json:"text" description:"the text to send back"`
}

// NewSwitchboardServer returns a Switchboard server with the echo tool,
// registered through the typed mcp.AddTool (schema inferred from EchoIn,
// arguments validated on every call, a string result sent as one text
// block).
func NewSwitchboardServer() *mcp.Server {
	s := mcp.NewServer(protocol.Implementation{Name: "switchboard-bench", Version: "0"}, nil)
	mcp.AddTool(s, &protocol.Tool{Name: "echo", Description: "returns its text argument"},
		func(_ context.Context, _ *mcp.Request, in EchoIn) (string, error) {
			return in.Text, nil
		})
	return s
}

// newSwitchboardHTTP returns Switchboard's Streamable HTTP handler. One
// handler serves both eras: initialize-era sessions (2025-11-25) and, for
// requests that name revision 2026-07-28, stateless requests without a
// session. So o.Stateless changes nothing on the server side; it is the
// client that chooses the stateless mode, request by request (see
// StatelessRevision).
func newSwitchboardHTTP(o HTTPOptions) (Handler, error) {
	h := streamable.NewHandler(NewSwitchboardServer(), &streamable.Options{MaxSessions: o.MaxSessions, JSONResponseWindow: JSONWindow()})
	return handlerCloser{Handler: h, close: h.Close}, nil
}

// newSwitchboardDemoHTTP returns the everything demo's server (what
// `switchboard demo everything --http` serves) behind the handler of
// newSwitchboardHTTP.
func newSwitchboardDemoHTTP(o HTTPOptions) (Handler, error) {
	h := streamable.NewHandler(everything.NewServer(nil), &streamable.Options{MaxSessions: o.MaxSessions, JSONResponseWindow: JSONWindow()})
	return handlerCloser{Handler: h, close: h.Close}, nil
}

// JSONWindowEnv names an environment variable that, when set to a
// duration, sets Switchboard's JSON response window (the server's and the
// gateway's): callgrind.sh sets it, since under valgrind a call outlasts
// the default 50 ms window and would be answered as SSE.
const JSONWindowEnv = "BENCH_JSON_WINDOW"

// JSONWindow returns the JSON response window set by JSONWindowEnv, or 0
// (the default) when it is unset or invalid.
func JSONWindow() time.Duration {
	d, _ := time.ParseDuration(os.Getenv(JSONWindowEnv))
	return d
}

func serveSwitchboardStdio(ctx context.Context, r io.Reader, w io.Writer) error {
	return NewSwitchboardServer().ServeStream(ctx, stdio.NewStream(readCloser{r}, writeCloser{w}, nil))
}
