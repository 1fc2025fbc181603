// Package clients opens MCP client sessions with each Go SDK's own client
// (Switchboard's, go-sdk's and mcp-go's) over Streamable HTTP and calls the
// bench servers' echo tool through them, for the client side of the
// benchmark: the CPU a client process spends per tools/call. Main is the
// clientload command the harness runs, one process per measurement, so
// that the process's own CPU time is the client's.
//
// Every session initializes with servers.ProtocolVersion (2025-11-25) and
// runs at its SDK's defaults otherwise (Switchboard's and go-sdk's clients
// open the standalone GET stream after initialize, mcp-go's does not). The
// sessions of one Open share one HTTP client whose idle pool is sized to
// them, so that no SDK pays for new connections because of its default
// pool. The echo arguments are sent as pre-encoded JSON, as a gateway
// forwards them.
package clients

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	mcpgoclient "github.com/mark3labs/mcp-go/client"
	mcpgotransport "github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/switchboard-mcp/switchboard/bench/servers"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// Impls lists the client implementations, Switchboard first. The names
// are the servers package's.
var Impls = []string{servers.Switchboard, servers.GoSDK, servers.MCPGo}

// Known reports whether impl names a client implementation.
func Known(impl string) bool { return slices.Contains(Impls, impl) }

// Tool is the tool every session calls, and EchoText the text it sends
// (arguments {"text": EchoText}); a call succeeds when the result is one
// text block carrying EchoText back.
const (
	Tool     = "echo"
	EchoText = "hello"
)

// echoArgs are the echo tool's arguments, encoded once.
var echoArgs = []byte(`{"text":"` + EchoText + `"}`)

// Session is one initialized client session.
type Session interface {
	// Call calls the echo tool once and checks its result.
	Call(ctx context.Context) error
	// Protocol returns the negotiated protocol revision.
	Protocol() string
	// Close ends the session.
	Close() error
}

// NewHTTPClient returns the HTTP client the sessions of one Open share:
// HTTP/1.1 with keep-alive and an idle pool large enough for a POST and a
// standalone GET stream per session.
func NewHTTPClient(sessions int) *http.Client {
	conns := 2*sessions + 16
	return &http.Client{Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
	}}
}

// Open opens n sessions of impl's client to the Streamable HTTP endpoint
// at url, all sharing hc (nil: NewHTTPClient(n)), and checks that each
// negotiated servers.ProtocolVersion. ctx must last as long as the
// sessions (some SDKs tie the connection to it). On error no session is
// left open.
func Open(ctx context.Context, impl, url string, n int, hc *http.Client) ([]Session, error) {
	if !Known(impl) {
		return nil, fmt.Errorf("clients: unknown implementation %q (want one of %v)", impl, Impls)
	}
	if n <= 0 {
		return nil, errors.New("clients: the number of sessions must be positive")
	}
	if hc == nil {
		hc = NewHTTPClient(n)
	}
	sessions := make([]Session, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Go(func() {
			s, err := open(ctx, impl, url, hc)
			if err == nil && s.Protocol() != servers.ProtocolVersion {
				err = fmt.Errorf("negotiated protocol %q, want %q", s.Protocol(), servers.ProtocolVersion)
				_ = s.Close()
			}
			if err != nil {
				errs[i] = fmt.Errorf("session %d: %w", i, err)
				return
			}
			sessions[i] = s
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		CloseAll(sessions)
		return nil, fmt.Errorf("clients: opening %d %s sessions: %w", n, impl, err)
	}
	return sessions, nil
}

// CloseAll closes every non-nil session, in parallel.
func CloseAll(sessions []Session) {
	var wg sync.WaitGroup
	for _, s := range sessions {
		if s != nil {
			wg.Go(func() { _ = s.Close() })
		}
	}
	wg.Wait()
}

func open(ctx context.Context, impl, url string, hc *http.Client) (Session, error) {
	switch impl {
	case servers.Switchboard:
		return openSwitchboard(ctx, url, hc)
	case servers.GoSDK:
		return openGoSDK(ctx, url, hc)
	case servers.MCPGo:
		return openMCPGo(ctx, url, hc)
	}
	return nil, fmt.Errorf("unknown implementation %q", impl)
}

// clientInfo is the name every client introduces itself with.
const clientName, clientVersion = "switchboard-bench-client", "0"

// checkEcho returns nil when a result is one text block carrying EchoText.
func checkEcho(isError bool, n int, text string, isText bool) error {
	switch {
	case isError:
		return fmt.Errorf("echo returned a tool error: %.200q", text)
	case n != 1 || !isText:
		return fmt.Errorf("echo returned %d content blocks (text: %v), want one text block", n, isText)
	case text != EchoText:
		return fmt.Errorf("echo returned %.200q, want %q", text, EchoText)
	}
	return nil
}

// Switchboard: mcp.Client over transport/streamable's client, as the
// gateway connects to an upstream (which goes through transport/auto to
// the same streamable client).
type switchboardSession struct {
	cs     *mcp.ClientSession
	params protocol.CallToolRequestParams
}

func openSwitchboard(ctx context.Context, url string, hc *http.Client) (Session, error) {
	c := mcp.NewClient(protocol.Implementation{Name: clientName, Version: clientVersion},
		&mcp.ClientOptions{ProtocolVersion: servers.ProtocolVersion})
	cs, err := c.Connect(ctx, streamable.NewDialer(url, &streamable.ClientOptions{HTTPClient: hc}))
	if err != nil {
		return nil, err
	}
	return &switchboardSession{cs: cs, params: protocol.CallToolRequestParams{Name: Tool, Arguments: echoArgs}}, nil
}

func (s *switchboardSession) Call(ctx context.Context) error {
	p := s.params
	res, err := s.cs.CallTool(ctx, &p)
	if err != nil {
		return err
	}
	var text string
	var isText bool
	if len(res.Content) > 0 {
		var tc *protocol.TextContent
		if tc, isText = res.Content[0].(*protocol.TextContent); isText {
			text = tc.Text
		}
	}
	return checkEcho(res.IsError, len(res.Content), text, isText)
}

func (s *switchboardSession) Protocol() string { return s.cs.ProtocolVersion() }
func (s *switchboardSession) Close() error     { return s.cs.Close() }

// go-sdk: gosdk.Client over gosdk.StreamableClientTransport.
type goSDKSession struct {
	cs *gosdk.ClientSession
}

func openGoSDK(ctx context.Context, url string, hc *http.Client) (Session, error) {
	c := gosdk.NewClient(&gosdk.Implementation{Name: clientName, Version: clientVersion}, nil)
	cs, err := c.Connect(ctx, &gosdk.StreamableClientTransport{Endpoint: url, HTTPClient: hc},
		&gosdk.ClientSessionOptions{ProtocolVersion: servers.ProtocolVersion})
	if err != nil {
		return nil, err
	}
	return &goSDKSession{cs: cs}, nil
}

func (s *goSDKSession) Call(ctx context.Context) error {
	res, err := s.cs.CallTool(ctx, &gosdk.CallToolParams{Name: Tool, Arguments: json.RawMessage(echoArgs)})
	if err != nil {
		return err
	}
	var text string
	var isText bool
	if len(res.Content) > 0 {
		var tc *gosdk.TextContent
		if tc, isText = res.Content[0].(*gosdk.TextContent); isText {
			text = tc.Text
		}
	}
	return checkEcho(res.IsError, len(res.Content), text, isText)
}

func (s *goSDKSession) Protocol() string {
	if r := s.cs.InitializeResult(); r != nil {
		return r.ProtocolVersion
	}
	return ""
}

func (s *goSDKSession) Close() error { return s.cs.Close() }

// mcp-go: client.NewStreamableHttpClient, Start and Initialize (pinned to
// 2025-11-25, so that it does not probe with server/discover first).
type mcpGoSession struct {
	c        *mcpgoclient.Client
	protocol string
}

func openMCPGo(ctx context.Context, url string, hc *http.Client) (Session, error) {
	c, err := mcpgoclient.NewStreamableHttpClient(url, mcpgotransport.WithHTTPBasicClient(hc))
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	var req mcpgo.InitializeRequest
	req.Params.ProtocolVersion = servers.ProtocolVersion
	req.Params.ClientInfo = mcpgo.Implementation{Name: clientName, Version: clientVersion}
	res, err := c.Initialize(ctx, req)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return &mcpGoSession{c: c, protocol: res.ProtocolVersion}, nil
}

func (s *mcpGoSession) Call(ctx context.Context) error {
	var req mcpgo.CallToolRequest
	req.Params.Name = Tool
	req.Params.Arguments = json.RawMessage(echoArgs)
	res, err := s.c.CallTool(ctx, req)
	if err != nil {
		return err
	}
	var text string
	var isText bool
	if len(res.Content) > 0 {
		var tc *mcpgo.TextContent
		if tc, isText = mcpgo.AsTextContent(res.Content[0]); isText {
			text = tc.Text
		}
	}
	return checkEcho(res.IsError, len(res.Content), text, isText)
}

func (s *mcpGoSession) Protocol() string { return s.protocol }
func (s *mcpGoSession) Close() error     { return s.c.Close() }
