package transport

import (
	"context"
	"net/http"
)

type headerKey struct{}

// WithHeader returns a context that asks HTTP client connections to add
// h to the request carrying the next message sent with it, such as the
// Mcp-Param-* headers a tools/call of revision 2026-07-28 mirrors from
// its arguments. Headers the transport sets itself take precedence.
// Transports without headers (stdio) ignore it.
func WithHeader(ctx context.Context, h http.Header) context.Context {
	if len(h) == 0 {
		return ctx
	}
	return context.WithValue(ctx, headerKey{}, h)
}

// HeaderFrom returns the headers attached with WithHeader, or nil.
func HeaderFrom(ctx context.Context) http.Header {
	h, _ := ctx.Value(headerKey{}).(http.Header)
	return h
}
