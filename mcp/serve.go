package mcp

import (
	"context"
	"os"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// ServeStdio serves one session over the process's standard input and
// output until the client closes standard input or ctx ends. Write logs to
// standard error: anything else on standard output corrupts the stream.
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
