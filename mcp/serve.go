package mcp

import (
	"context"
	"os"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// ServeStdio serves one session over the process's standard input and
// output until the client closes standard input or ctx ends; it returns nil
// then. Write logs to standard error: anything else on standard output
// corrupts the stream.
//
// Requests are served concurrently, except initialize, which is answered
// before the next message is read, so a client may write its handshake and
// first requests at once. A later initialize on the same connection, as
// bridges that share one server process among their clients send (such as
// supergateway's stdio-to-SSE mode), is answered like the first and
// replaces the client's declared revision, capabilities and identity.
func (s *Server) ServeStdio(ctx context.Context) error {
	return s.ServeStream(ctx, stdio.NewStream(os.Stdin, os.Stdout, nil))
}

// ServeStream serves one session over a message stream, such as a
// stdio.Stream over a pipe or a network connection.
func (s *Server) ServeStream(ctx context.Context, st jsonrpc.Stream) error {
	return stdio.Serve(ctx, s, st, &stdio.ServeOptions{
		MaxInFlight: s.opts.MaxInFlight,
		OnDecodeError: func(err error) {
			s.log.Debug("invalid message", "err", err)
		},
	})
}
