package streamable

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/httpclient"
	"github.com/switchboard-mcp/switchboard/internal/sse"
	"github.com/switchboard-mcp/switchboard/internal/workpool"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// Request metadata headers of protocol revision 2026-07-28, which the
// client sends on every POST (earlier servers ignore them).
const (
	// HeaderMethod mirrors the JSON-RPC method of the message.
	HeaderMethod = "Mcp-Method"
	// HeaderName mirrors params.name (tools/call, prompts/get) or
	// params.uri (resources/read). Values that are not plain header-safe
	// ASCII are sent as "=?base64?…?=".
	HeaderName = "Mcp-Name"
)

// Client defaults for zero ClientOptions fields.
const (
	// DefaultClientMaxMessageSize bounds one incoming message.
	DefaultClientMaxMessageSize = 16 << 20
	// DefaultMaxReconnects is how many times the client tries to resume a
	// request's SSE stream that broke before its response arrived.
	DefaultMaxReconnects = 5
	// DefaultResponseHeaderTimeout bounds the wait for response headers
	// in the client's default HTTP client. Servers that answer with plain
	// JSON only after long work need a client without this limit.
	DefaultResponseHeaderTimeout = 5 * time.Minute
)

const (
	// defaultClientRetry is the reconnection delay before the server
	// announces one with an SSE retry field.
	defaultClientRetry = time.Second
	// maxClientRetry caps a server's retry field, so that a hostile or
	// mistaken server cannot park a stream for hours.
	maxClientRetry = time.Minute
	// maxBackoff caps the exponential backoff between failed reconnection
	// attempts (a larger retry field still wins, up to maxClientRetry).
	maxBackoff = 30 * time.Second
	// minReconnectDelay keeps a server announcing "retry: 0" from
	// making the client reconnect in a tight loop.
	minReconnectDelay = 10 * time.Millisecond
	// deleteTimeout bounds the DELETE that Close sends.
	deleteTimeout = 3 * time.Second
	// maxErrorBody bounds the body kept in an HTTPError.
	maxErrorBody = 4 << 10
	// maxHeaderID bounds session and event ids the client sends back.
	maxHeaderID = 1024
	// recvBuffer is the capacity of the delivery channel. Stream readers
	// block once it is full, so a client that stops calling Recv stops
	// reading from the network (backpressure) instead of buffering.
	recvBuffer = 16
	// firstStatelessVersion is the first revision without sessions and
	// without the standalone GET stream.
	firstStatelessVersion = "2026-07-28"
)

// ClientOptions configure a Dialer. The zero value is ready to use.
type ClientOptions struct {
	// HTTPClient sends the requests. Nil means a client with timeouts on
	// dialing, TLS handshakes and response headers
	// (DefaultResponseHeaderTimeout) but none on bodies, as SSE streams
	// last long. Authorization is best added by its Transport (a
	// RoundTripper), which sees every request and its context.
	HTTPClient *http.Client
	// Header holds extra headers sent on every request, such as a static
	// API key. The transport's own headers take precedence.
	Header http.Header
	// MaxMessageSize bounds one incoming message, a JSON body or an SSE
	// event (default DefaultClientMaxMessageSize). A larger message is
	// not delivered: the request it belongs to fails with a JSON-RPC
	// error response.
	MaxMessageSize int
	// DisableStandaloneStream keeps the client from opening the GET
	// stream on which servers send messages unrelated to any request
	// (list changes, resource updates, server-to-client requests).
	DisableStandaloneStream bool
	// MaxReconnects bounds the attempts to resume a request's SSE stream
	// that broke before its response arrived (default
	// DefaultMaxReconnects; negative disables resumption). An attempt that
	// brings new events resets the count, so servers that poll (close
	// streams on purpose, SEP-1699) are followed as long as they make
	// progress. The standalone stream is reconnected until Close.
	MaxReconnects int
	// Logger receives diagnostics: malformed messages skipped, streams
	// lost and resumed (nil: discarded). Message bodies and credentials
	// are never logged.
	Logger *slog.Logger
}

// Dialer connects clients to one Streamable HTTP endpoint. It implements
// transport.Dialer; a Dialer may be used for any number of connections.
type Dialer struct {
	url  string
	opts ClientOptions
}

// NewDialer returns a Dialer for the MCP endpoint at url (http or https).
// opts may be nil. The URL is checked by Dial.
func NewDialer(url string, opts *ClientOptions) *Dialer {
	d := &Dialer{url: url}
	if opts != nil {
		d.opts = *opts
		d.opts.Header = opts.Header.Clone()
	}
	return d
}

// Dial implements transport.Dialer. It sends nothing: the first HTTP
// request is the first message sent. The returned connection is a
// *ClientConn.
func (d *Dialer) Dial(ctx context.Context) (transport.ClientConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u, err := url.Parse(d.url)
	if err != nil {
		return nil, fmt.Errorf("streamable: endpoint URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("streamable: endpoint URL %q: want an absolute http or https URL", d.url)
	}
	return newClientConn(u.String(), &d.opts), nil
}

// ClientConn is the client side of a Streamable HTTP connection; it
// implements transport.ClientConn, transport.VersionSetter and
// transport.SessionIDer.
//
// Each message is POSTed on its own. Send returns once the response
// headers arrive; a request's response, and the messages the server sends
// on its SSE stream, are read by a goroutine the connection owns and
// delivered through Recv. A broken request stream is resumed with GET and
// Last-Event-ID when the server gave event ids; a request whose response
// cannot be obtained gets a JSON-RPC error response (code -32603)
// generated by the client, so that no caller waits forever.
//
// HTTP has no connection whose loss would end a ClientConn: failures show
// per message (an error from Send, an error response through Recv), and
// Recv returns only messages until Close. When the server forgets the
// session (404), the id is dropped and the client may initialize again on
// the same ClientConn.
//
// Memory is bounded: a stream's reader blocks while Recv is not called
// (so the server's writes block too), and each message is limited by
// ClientOptions.MaxMessageSize. Every goroutine the connection starts
// ends by Close.
type ClientConn struct {
	url           string
	post          *http.Request  // template of the POSTs: the URL parsed once; nil if it does not parse
	readers       *workpool.Pool // run the goroutines reading responses
	client        *http.Client
	ownClient     bool // client was made here: Close closes its idle connections
	header        http.Header
	maxMsg        int
	maxReconnects int
	standalone    bool
	log           *slog.Logger

	ctx      context.Context // ends at Close: every request and stream
	cancel   context.CancelFunc
	done     chan struct{} // closed by Close
	incoming chan incomingMsg
	wg       sync.WaitGroup // goroutines reading responses and streams

	mu           sync.Mutex
	closed       bool
	sessionID    string
	version      string
	listenSID    string                      // session the standalone stream was opened for
	listenCancel context.CancelFunc          // stops that stream
	streams      map[jsonrpc.ID]*streamEntry // request streams being read
}

func newClientConn(u string, o *ClientOptions) *ClientConn {
	c := &ClientConn{
		url:           u,
		client:        o.HTTPClient,
		header:        o.Header,
		maxMsg:        o.MaxMessageSize,
		maxReconnects: o.MaxReconnects,
		standalone:    !o.DisableStandaloneStream,
		log:           o.Logger,
		done:          make(chan struct{}),
		incoming:      make(chan incomingMsg, recvBuffer),
		streams:       make(map[jsonrpc.ID]*streamEntry),
	}
	if c.client == nil {
		c.client, c.ownClient = httpclient.New(DefaultResponseHeaderTimeout), true
	}
	if c.maxMsg <= 0 {
		c.maxMsg = DefaultClientMaxMessageSize
	}
	switch {
	case c.maxReconnects == 0:
		c.maxReconnects = DefaultMaxReconnects
	case c.maxReconnects < 0:
		c.maxReconnects = 0
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if tmpl, err := http.NewRequest(http.MethodPost, u, nil); err == nil {
		c.post = tmpl
	}
	c.readers = workpool.New(maxIdleReaders)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// maxIdleReaders bounds the goroutines a ClientConn keeps to read its next
// responses.
const maxIdleReaders = 64

// newPost returns a POST of body to the connection's URL with ctx. It
// copies a template made once rather than parsing the URL per request.
func (c *ClientConn) newPost(ctx context.Context, body []byte) (*http.Request, error) {
	if c.post == nil {
		return http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	}
	req := c.post.WithContext(ctx)
	req.Header = make(http.Header, 8)
	req.ContentLength = int64(len(body))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return req, nil
}

// SessionID implements transport.SessionIDer: it returns the session id
// the server assigned in its answer to initialize, or "" if there is none
// (yet, or any more after the server forgot the session).
func (c *ClientConn) SessionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// SetProtocolVersion implements transport.VersionSetter. Later requests
// carry the version in the MCP-Protocol-Version header. When the server
// assigned a session and the option allows it, the standalone GET stream
// is opened for it (a 405 answer means the server offers none) and
// reconnected whenever it drops, until Close or the end of the session.
// Revisions from 2026-07-28 on have no such stream.
func (c *ClientConn) SetProtocolVersion(version string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.version = version
	sid := c.sessionID
	if !c.standalone || sid == "" || c.listenSID == sid || version >= firstStatelessVersion {
		c.mu.Unlock()
		return
	}
	if c.listenCancel != nil {
		c.listenCancel() // a stream for an earlier session
	}
	ctx, cancel := context.WithCancel(c.ctx)
	c.listenSID, c.listenCancel = sid, cancel
	c.wg.Add(1)
	ready := make(chan struct{})
	go c.runStandalone(ctx, sid, ready)
	c.mu.Unlock()
	// Wait (briefly) until the server has answered the GET, so that
	// messages it sends on the standalone stream right after
	// initialization, such as a request made while serving the client's
	// first call, are not sent before the stream exists.
	t := time.NewTimer(standaloneOpenWait)
	defer t.Stop()
	select {
	case <-ready:
	case <-t.C:
	case <-ctx.Done():
	}
}

// standaloneOpenWait bounds how long SetProtocolVersion waits for the
// standalone stream to open.
const standaloneOpenWait = 2 * time.Second

// Send implements transport.ClientConn. It POSTs msg and returns when the
// response headers have arrived: nil for an accepted message (the
// response to a request then comes through Recv), ErrSessionExpired for a
// 404 to a request carrying a session id (the id is forgotten),
// *transport.HTTPError for other refusals, ctx's error if ctx ends first.
//
// Send(notifications/cancelled) also stops reading the stream of the
// cancelled request, if it is still open.
func (c *ClientConn) Send(ctx context.Context, msg jsonrpc.Message) error {
	var (
		id     jsonrpc.ID // of a request
		method string
		params jsontext.Value
	)
	switch m := msg.(type) {
	case *jsonrpc.Request:
		if m == nil {
			return errors.New("streamable: Send of a nil message")
		}
		id, method, params = m.ID, m.Method, m.Params
	case *jsonrpc.Response:
		if m == nil {
			return errors.New("streamable: Send of a nil message")
		}
	default:
		return fmt.Errorf("streamable: cannot send a %T", msg)
	}
	isRequest := id.IsValid()
	isInit := isRequest && method == "initialize"
	if method == "notifications/cancelled" {
		c.stopStream(params)
	}
	body := jsonrpc.AppendMessage(nil, msg)

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return transport.ErrConnClosed
	}
	sid, version := c.sessionID, c.version
	c.mu.Unlock()
	if isInit {
		sid = "" // initialize starts a new session
	}

	// The request keeps ctx's values (for RoundTrippers) but not its
	// cancellation once the headers are in: the body is read later, and
	// lives until the conn closes or the stream ends.
	reqCtx, cancelReq := context.WithCancel(context.WithoutCancel(ctx))
	stopConn := context.AfterFunc(c.ctx, cancelReq)
	stopCall := context.AfterFunc(ctx, cancelReq)
	release := func() {
		stopConn()
		cancelReq()
	}
	fail := func(resp *http.Response, err error) error {
		stopCall()
		if resp != nil {
			resp.Body.Close()
		}
		release()
		return err
	}

	req, err := c.newPost(reqCtx, body)
	if err != nil {
		return fail(nil, fmt.Errorf("streamable: %w", err))
	}
	for k, v := range transport.HeaderFrom(ctx) {
		req.Header[k] = append([]string(nil), v...)
	}
	c.setHeaders(req.Header, sid, version)
	req.Header.Set("Content-Type", mediaJSON)
	req.Header.Set("Accept", mediaJSON+", "+mediaSSE)
	setMethodHeaders(req.Header, method, params)

	resp, err := c.client.Do(req)
	if err != nil {
		return fail(nil, c.requestErr(ctx, err))
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && sid != "":
		c.forgetSession(sid)
		return fail(resp, transport.ErrSessionExpired)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fail(resp, readHTTPError(resp))
	}
	if isInit {
		newSID := resp.Header.Get(HeaderSessionID)
		if newSID != "" && !validHeaderID(newSID) {
			return fail(resp, errors.New("streamable: the server assigned a malformed "+HeaderSessionID))
		}
		sid = newSID // the request's stream belongs to the new session
		c.mu.Lock()
		c.sessionID = newSID
		if c.listenCancel != nil && c.listenSID != newSID {
			c.listenCancel() // the standalone stream of an earlier session
			c.listenSID, c.listenCancel = "", nil
		}
		c.mu.Unlock()
	}
	if !stopCall() {
		// ctx ended while the headers were read: the body is cut off.
		return fail(resp, c.requestErr(ctx, ctx.Err()))
	}

	if !isRequest {
		// 202 Accepted (or 200 with an empty body) for a notification or a
		// response; whatever body there is, is not for us.
		_, _ = io.CopyN(io.Discard, resp.Body, maxErrorBody)
		resp.Body.Close()
		release()
		return nil
	}

	ct := resp.Header.Get("Content-Type")
	var read func(context.Context, *streamEntry)
	switch {
	case sse.IsEventStream(ct):
		read = func(ctx context.Context, e *streamEntry) { c.runRequestStream(ctx, e, resp, release, id, sid) }
	case isJSONContentType(ct):
		read = func(ctx context.Context, e *streamEntry) { c.readJSON(ctx, e, resp, release, id) }
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent || resp.ContentLength == 0:
		resp.Body.Close()
		release()
		return fmt.Errorf("streamable: the server answered %s to request %s without a response", resp.Status, id)
	default:
		resp.Body.Close()
		release()
		return fmt.Errorf("streamable: unexpected Content-Type %q in the answer to request %s", truncate(ct, 64), id)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		resp.Body.Close()
		release()
		return transport.ErrConnClosed
	}
	// Registered before Send returns, so that a cancellation sent right
	// after finds the stream.
	sctx, scancel := context.WithCancel(c.ctx)
	e := &streamEntry{cancel: scancel}
	c.streams[id] = e
	c.wg.Add(1)
	c.mu.Unlock()
	c.readers.Go(func() { read(sctx, e) })
	return nil
}

// Recv implements transport.ClientConn. It returns the next message from
// any of the connection's streams; transport.ErrConnClosed after Close.
func (c *ClientConn) Recv(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case <-c.done:
		return nil, transport.ErrConnClosed
	default:
	}
	select {
	case m := <-c.incoming:
		return m.msg, nil
	case <-c.done:
		return nil, transport.ErrConnClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// RecvRelated implements transport.RelatedReceiver: it is Recv, and also
// returns the id of the request whose response (JSON body or SSE stream)
// carried the message; the id is absent for messages of the standalone
// GET stream.
func (c *ClientConn) RecvRelated(ctx context.Context) (jsonrpc.Message, jsonrpc.ID, error) {
	select {
	case <-c.done:
		return nil, jsonrpc.ID{}, transport.ErrConnClosed
	default:
	}
	select {
	case m := <-c.incoming:
		return m.msg, m.related, nil
	case <-c.done:
		return nil, jsonrpc.ID{}, transport.ErrConnClosed
	case <-ctx.Done():
		return nil, jsonrpc.ID{}, ctx.Err()
	}
}

// incomingMsg is a message for Recv with the request whose stream carried
// it (absent for the standalone stream).
type incomingMsg struct {
	msg     jsonrpc.Message
	related jsonrpc.ID
}

// Close implements transport.ClientConn: it stops every stream and
// goroutine of the connection, then ends the session on the server with
// DELETE (bounded by a short timeout; 404 and 405 answers are fine). It
// returns the error of the DELETE, if any. Calling Close again does
// nothing.
func (c *ClientConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	sid, version := c.sessionID, c.version
	c.mu.Unlock()
	c.cancel()
	close(c.done)
	c.wg.Wait()
	c.readers.Close()
	var err error
	if sid != "" {
		err = c.deleteSession(sid, version)
	}
	if c.ownClient {
		c.client.CloseIdleConnections()
	}
	return err
}

func (c *ClientConn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// requestErr maps the error of a failed HTTP exchange.
func (c *ClientConn) requestErr(ctx context.Context, err error) error {
	if c.isClosed() {
		return transport.ErrConnClosed
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("streamable: %w", err)
}

// ownHeaders are set by the transport alone; ClientOptions.Header cannot
// supply them.
var ownHeaders = []string{HeaderSessionID, HeaderProtocolVersion, HeaderLastEventID, HeaderMethod, HeaderName, "Accept", "Content-Type"}

// setHeaders sets the headers every request carries.
func (c *ClientConn) setHeaders(h http.Header, sid, version string) {
	for k, v := range c.header {
		h[k] = append([]string(nil), v...)
	}
	for _, k := range ownHeaders {
		h.Del(k)
	}
	if sid != "" {
		h.Set(HeaderSessionID, sid)
	}
	if version != "" {
		h.Set(HeaderProtocolVersion, version)
	}
}

// setMethodHeaders sets Mcp-Method and, for the methods that name a tool,
// prompt, resource or task (tasks extension), Mcp-Name.
func setMethodHeaders(h http.Header, method string, params jsontext.Value) {
	if method == "" || !plainHeaderValue(method) {
		return // not representable; the revisions that need it define only plain method names
	}
	h.Set(HeaderMethod, method)
	var member string
	switch method {
	case "tools/call", "prompts/get":
		member = "name"
	case "resources/read":
		member = "uri"
	case "tasks/get", "tasks/update", "tasks/cancel":
		member = "taskId"
	default:
		return
	}
	if v, ok := stringMember(params, member); ok {
		h.Set(HeaderName, encodeHeaderValue(v))
	}
}

// readAll reads resp's body, at most limit bytes, into a buffer sized by
// its Content-Length when it has one.
func readAll(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n < limit {
		b := make([]byte, 0, n+1) // +1: the read that sees EOF needs room
		for {
			m, err := resp.Body.Read(b[len(b):cap(b)])
			b = b[:len(b)+m]
			if err == io.EOF {
				return b, nil
			}
			if err != nil {
				return b, err
			}
			if len(b) == cap(b) {
				// Longer than announced: read the rest the usual way.
				rest, err := io.ReadAll(io.LimitReader(resp.Body, limit-int64(len(b))))
				return append(b, rest...), err
			}
		}
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

// stringMember returns the string value of a top-level member of the JSON
// object params.
func stringMember(params jsontext.Value, name string) (string, bool) {
	if len(params) == 0 {
		return "", false
	}
	if v, ok := leadingStringMember(params, name); ok {
		return v, true
	}
	dec := jsontext.NewDecoder(bytes.NewReader(params))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return "", false
	}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return "", false
		}
		if tok.String() != name {
			if err := dec.SkipValue(); err != nil {
				return "", false
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil || v.Kind() != '"' {
			return "", false
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	}
	return "", false
}

// leadingStringMember is stringMember's fast path for params that start
// with the member, as relayed requests do ({"name":"echo",...}): a string
// without escapes is read from the bytes, without a decoder. Anything
// else reports false, and the decoder decides.
func leadingStringMember(params []byte, name string) (string, bool) {
	// {"NAME":"
	if len(params) < len(name)+6 || params[0] != '{' || params[1] != '"' ||
		string(params[2:2+len(name)]) != name || params[2+len(name)] != '"' ||
		params[3+len(name)] != ':' || params[4+len(name)] != '"' {
		return "", false
	}
	v := params[5+len(name):]
	for i, c := range v {
		switch {
		case c == '"':
			if i+1 < len(v) && (v[i+1] == ',' || v[i+1] == '}') {
				return string(v[:i]), true
			}
			return "", false
		case c == '\\' || c < 0x20 || c >= 0x80:
			return "", false
		}
	}
	return "", false
}

// Base64 sentinel of header values that are not plain ASCII (2026-07-28).
const (
	b64Prefix = "=?base64?"
	b64Suffix = "?="
)

// encodeHeaderValue returns s as a header value: unchanged when it is plain
// header-safe ASCII, else "=?base64?<standard Base64 of s>?=".
func encodeHeaderValue(s string) string {
	if plainHeaderValue(s) {
		return s
	}
	return b64Prefix + base64.StdEncoding.EncodeToString([]byte(s)) + b64Suffix
}

// plainHeaderValue reports whether s can be sent verbatim: visible ASCII,
// spaces and tabs, no leading or trailing whitespace, and no resemblance
// to the Base64 sentinel.
func plainHeaderValue(s string) bool {
	if s == "" {
		return true
	}
	if first, last := s[0], s[len(s)-1]; first == ' ' || first == '\t' || last == ' ' || last == '\t' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b != '\t' && (b < 0x20 || b > 0x7e) {
			return false
		}
	}
	return !(strings.HasPrefix(s, b64Prefix) && strings.HasSuffix(s, b64Suffix))
}

// validHeaderID reports whether a session or event id from the server can
// be sent back in a header: visible ASCII, bounded length.
func validHeaderID(id string) bool {
	if id == "" || len(id) > maxHeaderID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
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

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// forgetSession forgets the session id after the server answered 404 to a
// request carrying it, unless a new session has replaced it meanwhile.
func (c *ClientConn) forgetSession(sid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessionID != sid {
		return
	}
	c.log.Info("streamable: the server no longer knows the session")
	c.sessionID = ""
	if c.listenSID == sid && c.listenCancel != nil {
		c.listenCancel()
		c.listenCancel = nil
	}
}

// deliver hands msg, which arrived on the stream of request related (absent
// for the standalone stream), to Recv, waiting while the delivery channel
// is full. It reports false when the connection closed first.
func (c *ClientConn) deliver(msg jsonrpc.Message, related jsonrpc.ID) bool {
	select {
	case c.incoming <- incomingMsg{msg, related}:
		return true
	case <-c.done:
		return false
	}
}

// deliverError delivers a JSON-RPC error response for request id, in place
// of the response the server did not deliver.
func (c *ClientConn) deliverError(id jsonrpc.ID, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.log.Warn("streamable: request failed in transport", "id", id.String(), "reason", msg)
	c.deliver(&jsonrpc.Response{ID: id, Error: &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "streamable: " + msg}}, id)
}

// readJSON reads a plain JSON answer to request id: one message or a
// batch. It runs in its own goroutine.
func (c *ClientConn) readJSON(ctx context.Context, e *streamEntry, resp *http.Response, release func(), id jsonrpc.ID) {
	defer c.wg.Done()
	defer c.endStream(id, e)
	stop := context.AfterFunc(ctx, release)
	data, err := readAll(resp, int64(c.maxMsg)+1)
	stop()
	resp.Body.Close()
	release()
	switch {
	case ctx.Err() != nil: // closed, or the request was cancelled
		return
	case err != nil:
		c.deliverError(id, "reading the response: %v", err)
		return
	case len(data) > c.maxMsg:
		c.deliverError(id, "response larger than %d bytes", c.maxMsg)
		return
	}
	msgs, errs, _, err := jsonrpc.DecodeBatch(data)
	if err != nil {
		c.deliverError(id, "malformed response: %v", err)
		return
	}
	answered := false
	for i, m := range msgs {
		if errs != nil && errs[i] != nil {
			c.log.Warn("streamable: skipping a malformed message", "err", errs[i])
			continue
		}
		if r, ok := m.(*jsonrpc.Response); ok && r.ID == id {
			answered = true
		}
		if !c.deliver(m, id) {
			return
		}
	}
	if !answered {
		c.deliverError(id, "the server's answer holds no response to request %s", id)
	}
}

// streamState is what a reader has learned of an SSE stream.
type streamState struct {
	lastID   string        // last event id ("" none: not resumable)
	retry    time.Duration // reconnection delay
	progress bool          // the current connection brought a new id or a message
}

// readEvents reads events from body and delivers their messages until the
// stream ends, the response to want (if valid) has been delivered, or the
// connection closes. It reports whether the response was delivered.
func (c *ClientConn) readEvents(body io.Reader, st *streamState, want jsonrpc.ID) (bool, error) {
	r := sse.NewReader(body, c.maxMsg)
	r.SetLastEventID(st.lastID)
	for {
		ev, err := r.Next()
		if err != nil {
			return false, err
		}
		if ev.HasRetry {
			st.retry = min(ev.Retry, maxClientRetry)
		}
		if ev.HasID {
			if id := r.LastEventID(); id != st.lastID {
				st.lastID, st.progress = id, true
			}
		}
		if len(ev.Data) == 0 {
			continue // priming event, retry or id alone
		}
		if ev.Type() != "message" {
			c.log.Debug("streamable: skipping an event of unknown type", "type", truncate(ev.Name, 64))
			continue
		}
		st.progress = true
		msg, err := jsonrpc.Decode(ev.Data)
		if err != nil {
			c.log.Warn("streamable: skipping a malformed message", "err", err)
			continue
		}
		if !c.deliver(msg, want) {
			return false, transport.ErrConnClosed
		}
		if r, ok := msg.(*jsonrpc.Response); ok && want.IsValid() && r.ID == want {
			return true, nil
		}
	}
}

// backoff returns the delay before a reconnection: the server's retry
// delay, growing exponentially (with jitter) after failed attempts.
func backoff(retry time.Duration, failures int) time.Duration {
	if failures <= 0 {
		return max(retry, minReconnectDelay)
	}
	d := max(retry, 100*time.Millisecond)
	for i := 0; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	d += rand.N(d/4 + 1)
	return max(d, retry, minReconnectDelay)
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// streamEntry is a request stream (or JSON answer) being read; Send of
// notifications/cancelled stops it.
type streamEntry struct{ cancel context.CancelFunc }

// endStream forgets the stream of request id, unless a later request
// with the same id has replaced it.
func (c *ClientConn) endStream(id jsonrpc.ID, e *streamEntry) {
	e.cancel()
	c.mu.Lock()
	if c.streams[id] == e {
		delete(c.streams, id)
	}
	c.mu.Unlock()
}

// stopStream stops reading the stream of the request a
// notifications/cancelled names: its answer is no longer wanted, and on
// revision 2026-07-28 closing the stream is the cancellation.
func (c *ClientConn) stopStream(params jsontext.Value) {
	var p struct {
		RequestID jsonrpc.ID `json:"requestId"`
	}
	if json.Unmarshal(params, &p) != nil || !p.RequestID.IsValid() {
		return
	}
	c.mu.Lock()
	e := c.streams[p.RequestID]
	c.mu.Unlock()
	if e != nil {
		e.cancel()
	}
}

// runRequestStream reads the SSE answer to request id, resuming it with
// GET and Last-Event-ID when it breaks before the response. It runs in
// its own goroutine.
func (c *ClientConn) runRequestStream(ctx context.Context, e *streamEntry, resp *http.Response, release func(), id jsonrpc.ID, sid string) {
	defer c.wg.Done()
	defer c.endStream(id, e)

	st := streamState{retry: defaultClientRetry}
	attempts := 0 // reconnections since the last progress
	for {
		answered, err := c.readStream(ctx, resp, release, &st, id)
		switch {
		case answered || c.isClosed():
			return
		case ctx.Err() != nil:
			c.log.Debug("streamable: stopped reading a cancelled request's stream", "id", id.String())
			return
		case errors.Is(err, sse.ErrEventTooLarge):
			// Resuming would replay the same event.
			c.deliverError(id, "a message on the stream of request %s is larger than %d bytes", id, c.maxMsg)
			return
		}
		if st.progress {
			attempts = 0
		}
		c.log.Debug("streamable: request stream ended before its response", "id", id.String(), "err", err)

		failures := 0 // consecutive failed GETs
		for resp = nil; resp == nil; {
			switch {
			case !validHeaderID(st.lastID):
				c.deliverError(id, "the stream of request %s ended before its response, and the server gave no event id to resume from", id)
				return
			case c.maxReconnects == 0:
				c.deliverError(id, "the stream of request %s ended before its response (resumption disabled)", id)
				return
			case attempts >= c.maxReconnects:
				c.deliverError(id, "the stream of request %s ended before its response; %d attempts to resume it failed", id, attempts)
				return
			}
			attempts++
			if !sleep(ctx, backoff(st.retry, failures)) {
				return
			}
			c.mu.Lock()
			cur := c.sessionID
			c.mu.Unlock()
			if cur != sid {
				c.deliverError(id, "the session of request %s ended", id)
				return
			}
			var status int
			resp, release, status, err = c.openStream(ctx, sid, st.lastID)
			switch {
			case resp != nil:
				c.log.Debug("streamable: resumed a request stream", "id", id.String())
			case ctx.Err() != nil:
				return
			case status == http.StatusNotFound && sid != "":
				c.forgetSession(sid)
				c.deliverError(id, "the session of request %s expired", id)
				return
			case status == http.StatusMethodNotAllowed || status == http.StatusBadRequest:
				// No GET streams, or the server cannot resume from that
				// event: another attempt would get the same answer.
				c.deliverError(id, "cannot resume the stream of request %s: %v", id, err)
				return
			default:
				failures++
				c.log.Debug("streamable: resuming a request stream failed", "id", id.String(), "err", err)
			}
		}
	}
}

// readStream reads one HTTP response of an SSE stream (see readEvents),
// then closes it and calls release. Ending ctx cuts the read short.
func (c *ClientConn) readStream(ctx context.Context, resp *http.Response, release func(), st *streamState, want jsonrpc.ID) (bool, error) {
	st.progress = false
	stop := context.AfterFunc(ctx, release)
	answered, err := c.readEvents(resp.Body, st, want)
	stop()
	resp.Body.Close()
	release()
	return answered, err
}

// runStandalone keeps the session's standalone GET stream open until ctx
// ends, the server refuses it (405) or forgets the session (404). It runs
// in its own goroutine.
func (c *ClientConn) runStandalone(ctx context.Context, sid string, ready chan struct{}) {
	defer c.wg.Done()
	signal := func() {
		if ready != nil {
			close(ready)
			ready = nil
		}
	}
	defer signal()
	st := streamState{retry: defaultClientRetry}
	failures := 0
	for {
		resp, release, status, err := c.openStream(ctx, sid, st.lastID)
		signal()
		switch {
		case ctx.Err() != nil:
			if resp != nil {
				resp.Body.Close()
				release()
			}
			return
		case resp != nil:
			_, err = c.readStream(ctx, resp, release, &st, jsonrpc.ID{})
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, sse.ErrEventTooLarge) {
				// Resuming would replay the same event: skip it.
				c.log.Warn("streamable: dropped a message larger than the limit from the standalone stream", "limit", c.maxMsg)
				st.lastID = ""
			}
			if st.progress {
				failures = 0
			} else {
				failures++
			}
			c.log.Debug("streamable: standalone stream ended", "err", err)
		case status == http.StatusNotFound && sid != "":
			c.forgetSession(sid)
			return
		case status == http.StatusMethodNotAllowed:
			c.log.Debug("streamable: the server offers no standalone stream")
			return
		case status == http.StatusBadRequest && st.lastID != "":
			c.log.Info("streamable: the server cannot resume the standalone stream; messages may have been lost", "err", err)
			st.lastID = ""
			failures++
		default:
			failures++
			c.log.Debug("streamable: opening the standalone stream failed", "err", err)
		}
		if !validHeaderID(st.lastID) {
			st.lastID = ""
		}
		if !sleep(ctx, backoff(st.retry, failures)) {
			return
		}
	}
}

// openStream sends a GET for an SSE stream: the standalone stream, or
// with lastID the resumption of the stream that event belongs to. It
// returns the response with the function to call once its body is done,
// or the status (0 for a network error) and an error.
func (c *ClientConn) openStream(ctx context.Context, sid, lastID string) (*http.Response, func(), int, error) {
	c.mu.Lock()
	version := c.version
	c.mu.Unlock()
	reqCtx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, c.url, nil)
	if err != nil {
		cancel()
		return nil, nil, 0, err
	}
	c.setHeaders(req.Header, sid, version)
	req.Header.Set("Accept", mediaSSE)
	if lastID != "" {
		req.Header.Set(HeaderLastEventID, lastID)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		cancel()
		return nil, nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		return nil, nil, resp.StatusCode, readHTTPError(resp)
	}
	if ct := resp.Header.Get("Content-Type"); !sse.IsEventStream(ct) {
		resp.Body.Close()
		cancel()
		return nil, nil, resp.StatusCode, fmt.Errorf("streamable: GET answered with Content-Type %q", truncate(ct, 64))
	}
	return resp, cancel, resp.StatusCode, nil
}

// deleteSession ends the session on the server.
func (c *ClientConn) deleteSession(sid, version string) error {
	ctx, cancel := context.WithTimeout(context.Background(), deleteTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.url, nil)
	if err != nil {
		return err
	}
	c.setHeaders(req.Header, sid, version)
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("streamable: deleting the session: %w", err)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299,
		resp.StatusCode == http.StatusNotFound,         // already gone
		resp.StatusCode == http.StatusMethodNotAllowed: // the server keeps sessions until they expire
		_, _ = io.CopyN(io.Discard, resp.Body, maxErrorBody)
		resp.Body.Close()
		return nil
	}
	return readHTTPError(resp)
}

var _ interface {
	transport.ClientConn
	transport.VersionSetter
	transport.SessionIDer
} = (*ClientConn)(nil)

var _ transport.Dialer = (*Dialer)(nil)
