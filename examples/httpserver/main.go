// Command httpserver serves an MCP server over Streamable HTTP at /mcp,
// with a resource besides a tool.
//
//	go run ./examples/httpserver -addr 127.0.0.1:8081
//	switchboard inspect http://127.0.0.1:8081/mcp
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// AddIn is the input of the add tool.
type AddIn struct {
	A float64 `json:"a" description:"First addend"`
	B float64 `json:"b" description:"Second addend"`
}

// AddOut is its structured output.
type AddOut struct {
	Sum float64 `json:"sum"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address (port 0: any free port)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	s := mcp.NewServer(protocol.Implementation{Name: "example-http", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &protocol.Tool{Name: "add", Description: "Add two numbers"},
		func(ctx context.Context, req *mcp.Request, in AddIn) (AddOut, error) {
			return AddOut{Sum: in.A + in.B}, nil
		})
	s.AddResource(&protocol.Resource{URI: "example://time", Name: "time", MIMEType: "text/plain"},
		func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return &protocol.ReadResourceResult{Contents: []protocol.ResourceContents{
				&protocol.TextResourceContents{URI: uri, MIMEType: "text/plain", Text: time.Now().UTC().Format(time.RFC3339)},
			}}, nil
		})

	h := streamable.NewHandler(s, nil) // Origin checks and session limits on by default
	defer h.Close()
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving MCP at http://%s/mcp", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
