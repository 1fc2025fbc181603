package sse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-mcp/switchboard/internal/httpclient"
	"github.com/switchboard-mcp/switchboard/internal/sse"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// Client defaults.
const (
	// DefaultEndpointTimeout bounds the wait for the endpoint event when
	// ClientOptions.EndpointTimeout is 0.
	DefaultEndpointTimeout = 30 * time.Second
	// DefaultClientMaxMessageSize bounds one incoming message when
	// ClientOptions.MaxMessageSize is 0.
	DefaultClientMaxMessageSize = 16 << 20
	// DefaultResponseHeaderTimeout bounds the wait for response headers
	// with the default HTTP client.
	DefaultResponseHeaderTimeout = 30 * time.Second
)

const (
	// clientRecvBuffer is how many messages wait for Recv before the
	// stream reader stops reading, which pushes back on the server.
	clientRecvBuffer = 16
	// maxErrorBody bounds the body kept in an HTTPError.
	maxErrorBody = 4 << 10
	// maxDrain bounds the body of an accepted POST read to reuse its
	// connection.
	maxDrain = 64 << 10
)

// ClientOptions configure a Dialer. The zero value is ready to use.
type ClientOptions struct {
	// HTTPClient sends the requests. Nil means a client with timeouts on
	// dialing, TLS handshakes and response headers but none on bodies,
	// as the SSE stream lasts as long as the connection. A Timeout set on
	// HTTPClient applies to the POSTs only, not to the stream.
	//
	// Whatever the client's CheckRedirect says, redirects to another
	// origin (scheme, host and port) than the URL's are refused, so that
	// messages and Header never go to a host the caller did not name.
	HTTPClient *http.Client
	// Header holds extra headers sent on every request (the GET that
	// opens the stream and every POST), such as a static API key. The
	// transport's own headers (Accept, Content-Type) take precedence.
	Header http.Header
	// MaxMessageSize bounds one incoming SSE event (default
	// DefaultClientMaxMessageSize). A larger event ends the connection:
	// Recv then returns an error wrapping the parser's "event too large"
	// error.
	MaxMessageSize int
	// EndpointTimeout bounds how long Dial waits for the server's
	// endpoint event, from the start of the GET (default
	// DefaultEndpointTimeout). Dial's context may end the wait earlier.
	EndpointTimeout time.Duration
	// Logger receives diagnostics: messages skipped because they were
	// not valid JSON-RPC, unknown events ignored. Nil discards them.
	// Message bodies and session ids are never logged.
	Logger *slog.Logger
}

// Dialer connects clients to a server of the legacy HTTP+SSE transport
// (protocol revision 2024-11-05). It implements transport.Dialer; a Dialer
// may be used for any number of connections, each with its own stream and
// session.
type Dialer struct {
	url        string
	opts       ClientOptions
	ownsClient bool // HTTPClient is the dialer's default client
}

// NewDialer returns a Dialer for the SSE endpoint at url (http or https),
// the URL a client GETs to open the stream, such as
// "http://127.0.0.1:3000/sse". opts may be nil. The URL is checked by
// Dial.
func NewDialer(url string, opts *ClientOptions) *Dialer {
	d := &Dialer{url: url}
	if opts != nil {
		d.opts = *opts
		d.opts.Header = opts.Header.Clone()
	}
	if d.opts.HTTPClient == nil {
		d.opts.HTTPClient = httpclient.New(DefaultResponseHeaderTimeout)
		d.ownsClient = true
	}
	if d.opts.MaxMessageSize <= 0 {
		d.opts.MaxMessageSize = DefaultClientMaxMessageSize
	}
	if d.opts.EndpointTimeout <= 0 {
		d.opts.EndpointTimeout = DefaultEndpointTimeout
	}
	if d.opts.Logger == nil {
		d.opts.Logger = slog.New(slog.DiscardHandler)
	}
	return d
}

// errEndpointTimeout ends a Dial whose endpoint event did not come in time.
var errEndpointTimeout = errors.New("sse: timed out waiting for the endpoint event")

// Dial opens the SSE stream and waits for the server's endpoint event,
// which names the URL to POST messages to. The endpoint must have the
// same origin as the dialer's URL: a server cannot direct the client's
// messages to another host. ctx bounds Dial only; the stream then lasts
// until Close or until the server ends it.
//
// A server that refuses the GET yields an error wrapping a
// *transport.HTTPError.
func (d *Dialer) Dial(ctx context.Context) (transport.ClientConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	base, err := url.Parse(d.url)
	if err != nil {
		return nil, fmt.Errorf("sse: invalid URL: %w", err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("sse: invalid URL %q: want an http or https URL", d.url)
	}
	base.Fragment, base.RawFragment = "", ""

	connCtx, cancel := context.WithCancelCause(context.Background())
	timer := time.AfterFunc(d.opts.EndpointTimeout, func() { cancel(errEndpointTimeout) })
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	c, err := d.open(connCtx, base)
	timerStopped := timer.Stop()
	ctxStopped := stop()
	if err == nil && (!timerStopped || !ctxStopped) {
		// The timeout or ctx ended the dial just as it succeeded.
		c.body.Close()
		err = errors.New("sse: dial abandoned")
	}
	if err != nil {
		cause := context.Cause(connCtx) // nil unless the timer or ctx ended the dial
		cancel(nil)
		switch {
		case cause == errEndpointTimeout:
			return nil, fmt.Errorf("%w (%v)", errEndpointTimeout, d.opts.EndpointTimeout)
		case cause != nil:
			return nil, fmt.Errorf("sse: dial: %w", cause)
		}
		return nil, err
	}
	c.cancel = func() { cancel(transport.ErrConnClosed) }
	go c.read()
	return c, nil
}

// open sends the GET and reads up to the endpoint event.
func (d *Dialer) open(ctx context.Context, base *url.URL) (*ClientConn, error) {
	client := d.httpClient(base)
	stream := *client
	stream.Timeout = 0 // the stream lasts as long as the connection
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("sse: %w", err)
	}
	setHeaders(req.Header, d.opts.Header)
	req.Header.Set("Accept", sse.ContentType)
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := stream.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sse: opening the stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sse: opening the stream at %s: %w", base.Redacted(), readHTTPError(resp))
	}
	if ct := resp.Header.Get("Content-Type"); !sse.IsEventStream(ct) {
		resp.Body.Close()
		return nil, fmt.Errorf("sse: %s is not an SSE endpoint: it answered with Content-Type %q, not %s", base.Redacted(), truncate(ct, 100), sse.ContentType)
	}
	r := sse.NewReader(resp.Body, d.opts.MaxMessageSize)
	var endpoint *url.URL
	for endpoint == nil {
		ev, err := r.Next()
		if err != nil {
			resp.Body.Close()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("sse: the stream ended before the endpoint event: %w", io.EOF)
			}
			return nil, fmt.Errorf("sse: reading the endpoint event: %w", err)
		}
		if ev.Type() != "endpoint" {
			d.opts.Logger.Debug("sse: event before the endpoint event ignored", "event", truncate(ev.Type(), 100))
			continue
		}
		endpoint, err = resolveEndpoint(resp.Request.URL, base, string(ev.Data))
		if err != nil {
			resp.Body.Close()
			return nil, err
		}
	}
	q := endpoint.Query()
	sid := q.Get("sessionId")
	if sid == "" {
		sid = q.Get("session_id") // the Python SDK's name
	}
	c := &ClientConn{
		client:    client,
		header:    d.opts.Header,
		endpoint:  endpoint.String(),
		shown:     redactQuery(endpoint),
		sessionID: sid,
		logger:    d.opts.Logger,
		ctx:       ctx,
		body:      resp.Body,
		reader:    r,
		msgs:      make(chan jsonrpc.Message, clientRecvBuffer),
		readDone:  make(chan struct{}),
		closed:    make(chan struct{}),
	}
	if d.ownsClient {
		c.idle = client.CloseIdleConnections
	}
	return c, nil
}

// httpClient returns the configured client with a redirect policy that
// keeps requests on base's origin.
func (d *Dialer) httpClient(base *url.URL) *http.Client {
	c := *d.opts.HTTPClient
	check := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, base) {
			return fmt.Errorf("sse: redirect to another origin (%s://%s) refused", req.URL.Scheme, req.URL.Host)
		}
		if check != nil {
			return check(req, via)
		}
		if len(via) >= 10 {
			return errors.New("sse: stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// resolveEndpoint resolves the endpoint event's data against the URL the
// stream came from, and checks that it stays on base's origin.
func resolveEndpoint(streamURL, base *url.URL, data string) (*url.URL, error) {
	data = strings.TrimSpace(data)
	shown := strconv.Quote(truncate(data, 200))
	if data == "" {
		return nil, errors.New("sse: the server's endpoint event is empty")
	}
	ref, err := url.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("sse: the server's endpoint %s is not a URL: %w", shown, err)
	}
	ep := streamURL.ResolveReference(ref)
	ep.Fragment, ep.RawFragment = "", ""
	if !sameOrigin(ep, base) {
		return nil, fmt.Errorf("sse: refusing the server's endpoint %s: it is on another origin than %s://%s, and messages go only to the server that was dialed", shown, base.Scheme, base.Host)
	}
	return ep, nil
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// ClientConn is a client connection of the legacy HTTP+SSE transport: the
// server's messages arrive on one long-lived SSE stream, and each message
// to the server is POSTed to the endpoint the server named. It implements
// transport.ClientConn and transport.SessionIDer.
//
// A goroutine of the connection reads the stream and keeps a few messages
// for Recv; when Recv is not called it stops reading, which pushes back on
// the server. Events other than "message", and messages that are not
// valid JSON-RPC, are skipped. Batches are delivered message by message.
type ClientConn struct {
	client    *http.Client
	header    http.Header
	endpoint  string
	shown     string // endpoint without its query, for error messages
	sessionID string
	logger    *slog.Logger
	idle      func() // closes the default client's idle connections

	ctx    context.Context // ends with the connection
	cancel func()

	body   io.ReadCloser
	reader *sse.Reader

	msgs     chan jsonrpc.Message
	readDone chan struct{}
	readErr  error // set before readDone is closed

	closed    chan struct{}
	closeOnce sync.Once
}

var (
	_ transport.ClientConn  = (*ClientConn)(nil)
	_ transport.SessionIDer = (*ClientConn)(nil)
)

// SessionID implements transport.SessionIDer: it returns the sessionId
// query parameter of the endpoint ("session_id" for servers that use that
// name), or "" if it has neither.
func (c *ClientConn) SessionID() string { return c.sessionID }

// Endpoint returns the URL messages are POSTed to.
func (c *ClientConn) Endpoint() string { return c.endpoint }

// Send POSTs one message to the endpoint. The server answers 202 Accepted
// and sends any response on the stream, where Recv finds it. Send is safe
// for concurrent use, but concurrent sends may reach the server in any
// order. A refusal (any status other than 2xx) yields a
// *transport.HTTPError; a 404 means the server no longer knows the
// session, which on this transport ends with its stream: dial again.
// Send returns transport.ErrConnClosed after Close.
func (c *ClientConn) Send(ctx context.Context, msg jsonrpc.Message) error {
	if msg == nil {
		return errors.New("sse: Send of a nil message")
	}
	if isDone(c.closed) {
		return transport.ErrConnClosed
	}
	body := jsonrpc.AppendMessage(nil, msg)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sse: %w", err)
	}
	setHeaders(req.Header, c.header)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := c.client.Do(req)
	if err != nil {
		if isDone(c.closed) {
			return transport.ErrConnClosed
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			// Keep the session id, which is a credential of sorts, out
			// of error messages.
			err = &url.Error{Op: ue.Op, URL: c.shown, Err: ue.Err}
		}
		return fmt.Errorf("sse: sending a message: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sse: POST %s: %w", c.shown, readHTTPError(resp))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	return nil
}

// Recv returns the next message from the stream. It returns
// transport.ErrConnClosed after Close and ctx's error when ctx ends
// first. When the stream has ended it returns, after the messages read
// before, an error wrapping io.EOF if the server closed it, or the error
// that broke it.
func (c *ClientConn) Recv(ctx context.Context) (jsonrpc.Message, error) {
	if isDone(c.closed) {
		return nil, transport.ErrConnClosed
	}
	select {
	case m := <-c.msgs:
		return m, nil
	case <-c.closed:
		return nil, transport.ErrConnClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.readDone:
		select {
		case m := <-c.msgs:
			return m, nil
		default:
		}
		if isDone(c.closed) {
			return nil, transport.ErrConnClosed
		}
		return nil, c.readErr
	}
}

// Close ends the connection: it closes the stream, which ends the session
// on the server, and cancels POSTs in flight. Pending and later Recv and
// Send calls return transport.ErrConnClosed. Close waits for the
// connection's goroutine to end.
func (c *ClientConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.cancel()
		<-c.readDone
		if c.idle != nil {
			c.idle()
		}
	})
	return nil
}

// read is the goroutine that reads the stream until it ends.
func (c *ClientConn) read() {
	var err error
	for {
		var ev sse.Event
		ev, err = c.reader.Next()
		if err != nil {
			break
		}
		if !ev.HasData {
			continue // an id or retry field only
		}
		if ev.Type() != "message" {
			c.logger.Debug("sse: event ignored", "event", truncate(ev.Type(), 100))
			continue
		}
		msgs, errs, _, derr := jsonrpc.DecodeBatch(ev.Data)
		if derr != nil {
			c.logger.Warn("sse: invalid message skipped", "err", derr)
			continue
		}
		for i, m := range msgs {
			if errs != nil && errs[i] != nil {
				c.logger.Warn("sse: invalid message skipped", "err", errs[i])
				continue
			}
			select {
			case c.msgs <- m:
			case <-c.closed:
			}
		}
	}
	c.body.Close()
	switch {
	case isDone(c.closed):
		c.readErr = transport.ErrConnClosed
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		c.readErr = fmt.Errorf("sse: the server closed the stream: %w", io.EOF)
	default:
		c.readErr = fmt.Errorf("sse: reading the stream: %w", err)
	}
	close(c.readDone)
}

// setHeaders copies extra headers into h.
func setHeaders(h, extra http.Header) {
	for k, v := range extra {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
}

// readHTTPError builds the error for a refused request from the start of
// its body, and closes the body.
func readHTTPError(resp *http.Response) *transport.HTTPError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	return &transport.HTTPError{
		StatusCode: resp.StatusCode,
		Status:     resp.Status,
		Body:       strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD")),
		Header:     resp.Header.Clone(),
	}
}

// redactQuery returns u without its query, which carries the session id.
func redactQuery(u *url.URL) string {
	v := *u
	if v.RawQuery != "" {
		v.RawQuery = "…"
	}
	return v.Redacted()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "") + "..."
	}
	return s
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
