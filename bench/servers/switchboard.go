package servers

import (
	"context"
	"io"

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
	h := streamable.NewHandler(NewSwitchboardServer(), &streamable.Options{MaxSessions: o.MaxSessions})
	return handlerCloser{Handler: h, close: h.Close}, nil
}

func serveSwitchboardStdio(ctx context.Context, r io.Reader, w io.Writer) error {
	return NewSwitchboardServer().ServeStream(ctx, stdio.NewStream(readCloser{r}, writeCloser{w}, nil))
}
