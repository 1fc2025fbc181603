// Package auto connects a client to an MCP server at an HTTP URL without
// knowing which HTTP transport it speaks: Streamable HTTP first, then the
// legacy HTTP+SSE transport of revision 2024-11-05, as the backwards
// compatibility section of the transports specification describes.
package auto

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/sse"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// Options configure the HTTP dialer.
type Options struct {
	// HTTPClient sends every HTTP request (set its Transport to add
	// authorization). Nil means each transport's default.
	HTTPClient *http.Client
	// Header holds extra headers sent with every request.
	Header http.Header
	// MaxMessageSize bounds one incoming message; zero means the
	// transports' default.
	MaxMessageSize int
}

// NewHTTPDialer returns a dialer for the server at url. Messages go out as
// Streamable HTTP POSTs; if the server refuses the first initialize request
// with 400, 404 or 405, the connection switches to the legacy
// transport: a GET of the same url for the SSE stream, whose endpoint
// event names where to POST, and the message is sent again there.
func NewHTTPDialer(url string, opts *Options) transport.Dialer {
	d := &dialer{url: url}
	if opts != nil {
		d.opts = *opts
	}
	return d
}

type dialer struct {
	url  string
	opts Options
}

func (d *dialer) Dial(ctx context.Context) (transport.ClientConn, error) {
	sc, err := streamable.NewDialer(d.url, &streamable.ClientOptions{
		HTTPClient:     d.opts.HTTPClient,
		Header:         d.opts.Header,
		MaxMessageSize: d.opts.MaxMessageSize,
	}).Dial(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{d: d, cur: sc, first: true}, nil
}

// conn starts as a Streamable HTTP connection and may switch to the
// legacy transport on its first Send.
type conn struct {
	d *dialer

	mu      sync.Mutex
	cur     transport.ClientConn
	first   bool // no initialize has been sent yet
	legacy  bool
	closed  bool
	swapped chan struct{} // closed when the switch is decided
	once    sync.Once
}

func (c *conn) current() transport.ClientConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// Legacy reports whether the connection fell back to the legacy HTTP+SSE
// transport.
func (c *conn) Legacy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.legacy
}

func (c *conn) decided() chan struct{} {
	c.once.Do(func() { c.swapped = make(chan struct{}) })
	return c.swapped
}

func (c *conn) Send(ctx context.Context, msg jsonrpc.Message) error {
	req, _ := msg.(*jsonrpc.Request)
	isInit := req != nil && req.Method == "initialize" && req.ID.IsValid()
	c.mu.Lock()
	first := c.first
	if isInit {
		c.first = false
	}
	cur := c.cur
	c.mu.Unlock()
	switch {
	case first && !isInit:
		// Before initialize (a 2026-07-28 server/discover probe, say):
		// Streamable HTTP only; the transport is decided by initialize.
		return cur.Send(ctx, msg)
	case !first:
		<-c.decided()
		return c.current().Send(ctx, msg)
	}
	defer close(c.decided())
	err := cur.Send(ctx, msg)
	var he *transport.HTTPError
	if err == nil || !errors.As(err, &he) || (he.StatusCode != http.StatusBadRequest && he.StatusCode != http.StatusNotFound && he.StatusCode != http.StatusMethodNotAllowed) {
		return err
	}
	legacy, lerr := sse.NewDialer(c.d.url, &sse.ClientOptions{
		HTTPClient:     c.d.opts.HTTPClient,
		Header:         c.d.opts.Header,
		MaxMessageSize: c.d.opts.MaxMessageSize,
	}).Dial(ctx)
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		legacy.Close()
		return transport.ErrConnClosed
	}
	old := c.cur
	c.cur, c.legacy = legacy, true
	c.mu.Unlock()
	old.Close()
	return legacy.Send(ctx, msg)
}

func (c *conn) Recv(ctx context.Context) (jsonrpc.Message, error) {
	for {
		cur := c.current()
		m, err := cur.Recv(ctx)
		if err != nil && c.current() != cur && ctx.Err() == nil {
			continue // the streamable connection was replaced
		}
		return m, err
	}
}

// RecvRelated implements transport.RelatedReceiver: over Streamable HTTP it
// reports the request a message belongs to; after the switch to the
// legacy transport, which cannot tell, the id is always absent.
func (c *conn) RecvRelated(ctx context.Context) (jsonrpc.Message, jsonrpc.ID, error) {
	for {
		cur := c.current()
		var (
			m   jsonrpc.Message
			id  jsonrpc.ID
			err error
		)
		if rr, ok := cur.(transport.RelatedReceiver); ok {
			m, id, err = rr.RecvRelated(ctx)
		} else {
			m, err = cur.Recv(ctx)
		}
		if err != nil && c.current() != cur && ctx.Err() == nil {
			continue // the streamable connection was replaced
		}
		return m, id, err
	}
}

func (c *conn) Close() error {
	c.mu.Lock()
	c.closed = true
	cur := c.cur
	c.mu.Unlock()
	return cur.Close()
}

func (c *conn) SetProtocolVersion(v string) {
	if vs, ok := c.current().(transport.VersionSetter); ok {
		vs.SetProtocolVersion(v)
	}
}

func (c *conn) SessionID() string {
	if s, ok := c.current().(transport.SessionIDer); ok {
		return s.SessionID()
	}
	return ""
}
