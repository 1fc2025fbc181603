package servers

import (
	"context"
	"fmt"
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

func newSwitchboardHTTP(o HTTPOptions) (Handler, error) {
	if o.Stateless {
		// Switchboard's stateless mode is a separate piece of work. When it
		// lands, build the handler with it here; the harness already asks.
		return nil, fmt.Errorf("switchboard stateless: %w", ErrUnsupported)
	}
	h := streamable.NewHandler(NewSwitchboardServer(), &streamable.Options{MaxSessions: o.MaxSessions})
	return handlerCloser{Handler: h, close: h.Close}, nil
}

func serveSwitchboardStdio(ctx context.Context, r io.Reader, w io.Writer) error {
	return NewSwitchboardServer().ServeStream(ctx, stdio.NewStream(readCloser{r}, writeCloser{w}, nil))
}
