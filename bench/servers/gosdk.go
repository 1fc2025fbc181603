package servers

import (
	"context"
	"io"
	"net/http"

	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// GoSDKEchoIn is the echo tool's input for go-sdk's typed tool.
type GoSDKEchoIn struct {
	Text string `json:"text" jsonschema:"the text to send back"`
}

// NewGoSDKServer returns a go-sdk server with the echo tool, registered
// through the typed gosdk.AddTool (schema inferred from GoSDKEchoIn, arguments
// validated on every call). Out is any, so there is no output schema: the
// handler returns one text block, like the other implementations.
func NewGoSDKServer() *gosdk.Server {
	s := gosdk.NewServer(&gosdk.Implementation{Name: "go-sdk-bench", Version: "0"}, nil)
	gosdk.AddTool(s, &gosdk.Tool{Name: "echo", Description: "returns its text argument"},
		func(_ context.Context, _ *gosdk.CallToolRequest, in GoSDKEchoIn) (*gosdk.CallToolResult, any, error) {
			return &gosdk.CallToolResult{Content: []gosdk.Content{&gosdk.TextContent{Text: in.Text}}}, nil, nil
		})
	return s
}

// newGoSDKHTTP serves go-sdk's StreamableHTTPHandler at its defaults
// (SSE-framed responses, no session timeout) or with Stateless or
// JSONResponse set.
func newGoSDKHTTP(o HTTPOptions) (Handler, error) {
	s := NewGoSDKServer()
	h := gosdk.NewStreamableHTTPHandler(func(*http.Request) *gosdk.Server { return s },
		&gosdk.StreamableHTTPOptions{Stateless: o.Stateless, JSONResponse: o.JSONResponse})
	return handlerCloser{Handler: h}, nil
}

// serveGoSDKStdio runs a go-sdk session over r and w with its IOTransport
// (the StdioTransport over other streams).
func serveGoSDKStdio(ctx context.Context, r io.Reader, w io.Writer) error {
	return NewGoSDKServer().Run(ctx, &gosdk.IOTransport{Reader: readCloser{r}, Writer: writeCloser{w}})
}
