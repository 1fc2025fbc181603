package mcp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// Request is one incoming request being served. Handlers and middleware get
// it with the typed params of their method; through it they talk back to
// the client while they work: progress, log messages, and requests such as
// elicitation and sampling, all tied to this request.
type Request struct {
	// Method is the JSON-RPC method name, e.g. "tools/call".
	Method string
	// Params holds the raw params. Middleware may replace them before the
	// method's handler decodes them.
	Params jsontext.Value
	// ID is the JSON-RPC request id.
	ID jsonrpc.ID
	// Session is the client's session. It is nil for requests served
	// without a session (stateless protocol revisions).
	Session *ServerSession

	sink     transport.Sink
	peer     *peer
	meta     protocol.Meta
	metaRead bool
	task     *task
	v26      *requestV2026 // set for requests of stateless revisions (2026-07-28)
}

// Meta returns the request's _meta object (nil when absent).
func (r *Request) Meta() protocol.Meta {
	if !r.metaRead {
		r.metaRead = true
		if len(r.Params) > 0 && r.meta == nil {
			var p struct {
				Meta protocol.Meta `json:"_meta"`
			}
			if json.Unmarshal(r.Params, &p) == nil {
				r.meta = p.Meta
			}
		}
	}
	return r.meta
}

func (r *Request) setMeta(m protocol.Meta) {
	r.meta, r.metaRead = m, true
}

// ProtocolVersion returns the protocol revision spoken with the client.
func (r *Request) ProtocolVersion() string { return r.peer.version }

// ClientCapabilities returns the capabilities of the client.
func (r *Request) ClientCapabilities() *protocol.ClientCapabilities { return &r.peer.caps }

// ClientInfo returns the client's self-description.
func (r *Request) ClientInfo() protocol.Implementation { return r.peer.info }

// Transport returns what the transport knows of the request (HTTP headers
// and addresses), or nil on stdio.
func (r *Request) Transport(ctx context.Context) *transport.RequestInfo {
	return transport.RequestInfoFrom(ctx)
}

// TaskID returns the id of the task this request runs as, or "".
func (r *Request) TaskID() string {
	if r.task == nil {
		return ""
	}
	return r.task.id
}

// Progress reports progress on the request to the client, if the client
// asked for progress (by sending a progress token). progress must increase
// from one call to the next; total is 0 when unknown.
//
// Progress, like Log, is best effort: a message the transport cannot carry
// (a plain JSON HTTP response has no room for it) is dropped. The error is
// non-nil only when ctx is done.
func (r *Request) Progress(ctx context.Context, progress, total float64, message string) error {
	tok, ok := r.Meta().ProgressToken()
	if !ok {
		return nil
	}
	p := &protocol.ProgressNotificationParams{ProgressToken: tok, Progress: progress, Total: total, Message: message}
	if r.task != nil {
		p.Meta = r.task.relatedMeta()
	}
	return r.sendBestEffort(ctx, protocol.NotificationProgress, p)
}

// Log sends a log message to the client on the request's stream, if the
// client's logging level lets it through. data is any JSON-encodable value;
// logger names the component (optional). Like Progress it is best effort;
// it fails when ctx is done or data cannot be encoded.
func (r *Request) Log(ctx context.Context, level protocol.LoggingLevel, logger string, data any) error {
	if r.Session != nil && !r.Session.logEnabled(level) {
		return nil
	}
	p := &protocol.LoggingMessageNotificationParams{Level: level, Logger: logger, Data: data}
	if r.task != nil {
		p.Meta = r.task.relatedMeta()
	}
	return r.sendBestEffort(ctx, protocol.NotificationMessage, p)
}

// sendBestEffort sends a notification that the request's work does not
// depend on: a delivery failure is logged and dropped, unless ctx is done.
func (r *Request) sendBestEffort(ctx context.Context, method string, params any) error {
	if err := r.send(ctx, method, params); err != nil {
		var ee *encodeError
		if errors.As(err, &ee) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if r.Session != nil {
			r.Session.server.log.Debug("notification dropped", "method", method, "session", r.Session.id, "err", err)
		}
	}
	return nil
}

// Notify sends a notification related to this request.
func (r *Request) Notify(ctx context.Context, method string, params any) error {
	return r.send(ctx, method, params)
}

func (r *Request) send(ctx context.Context, method string, params any) error {
	if r.Session == nil {
		return r.sendStateless(ctx, method, params)
	}
	return r.Session.notify(ctx, r.sink, method, params)
}

// CloseStream asks the transport to close the stream this request answers
// on while the work continues, if the transport supports it (Streamable
// HTTP with SSE). The client reconnects after retry and resumes where it
// left off. It reports whether the stream was closed.
func (r *Request) CloseStream(retry time.Duration) bool {
	if c, ok := r.sink.(transport.StreamCloser); ok {
		c.CloseStream(int(retry / time.Millisecond))
		return true
	}
	return false
}

// ErrCapability is returned when asking the client for something it did
// not declare a capability for.
var ErrCapability = errors.New("mcp: the client lacks the capability")

// Elicit asks the client (and through it, the user) for input: a form
// described by a restricted JSON Schema, or a visit to a URL.
func (r *Request) Elicit(ctx context.Context, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
	if err := checkElicit(&r.peer.caps, p); err != nil {
		return nil, r.capabilityError(err, protocol.MethodElicitationCreate, p)
	}
	p = r.prepareElicit(p)
	var res protocol.ElicitResult
	if err := r.call(ctx, protocol.MethodElicitationCreate, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CreateMessage asks the client to sample a message from its language
// model (with tools, if the client supports tool use in sampling).
func (r *Request) CreateMessage(ctx context.Context, p *protocol.CreateMessageRequestParams) (*protocol.CreateMessageResult, error) {
	if err := checkSampling(&r.peer.caps, p); err != nil {
		return nil, r.capabilityError(err, protocol.MethodSamplingCreateMessage, p)
	}
	var res protocol.CreateMessageResult
	if err := r.call(ctx, protocol.MethodSamplingCreateMessage, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ListRoots asks the client for its roots (the directories and files it
// lets the server work on).
func (r *Request) ListRoots(ctx context.Context) (*protocol.ListRootsResult, error) {
	if r.peer.caps.Roots == nil {
		return nil, r.capabilityError(fmt.Errorf("%w: roots", ErrCapability), protocol.MethodRootsList, nil)
	}
	var res protocol.ListRootsResult
	if err := r.call(ctx, protocol.MethodRootsList, &protocol.ListRootsRequestParams{}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func (r *Request) call(ctx context.Context, method string, params, result any) error {
	if r.Session == nil {
		return r.callStateless(ctx, method, params, result)
	}
	if r.task != nil {
		return r.task.call(ctx, r.Session, method, params, result)
	}
	return r.Session.call(ctx, r.sink, method, params, result)
}

// sendStateless (stateless.go) and callStateless (mrtr.go) serve requests
// that have no session: stateless revisions deliver notifications on the
// request's own stream and turn requests to the client into
// input-required results.

func checkElicit(c *protocol.ClientCapabilities, p *protocol.ElicitRequestParams) error {
	if c.Elicitation == nil {
		return fmt.Errorf("%w: elicitation", ErrCapability)
	}
	if p.Mode == protocol.ElicitModeURL && !c.SupportsElicitationURL() {
		return fmt.Errorf("%w: elicitation in URL mode", ErrCapability)
	}
	if p.Mode != protocol.ElicitModeURL && !c.SupportsElicitationForm() {
		return fmt.Errorf("%w: elicitation in form mode", ErrCapability)
	}
	return nil
}

func checkSampling(c *protocol.ClientCapabilities, p *protocol.CreateMessageRequestParams) error {
	if c.Sampling == nil {
		return fmt.Errorf("%w: sampling", ErrCapability)
	}
	if (len(p.Tools) > 0 || p.ToolChoice != nil) && c.Sampling.Tools == nil {
		return fmt.Errorf("%w: tool use in sampling", ErrCapability)
	}
	return nil
}

// Session-level requests, sent on the session's standalone stream rather
// than in answer to a request.

// Log sends a log message to the client outside any request.
func (ss *ServerSession) Log(ctx context.Context, level protocol.LoggingLevel, logger string, data any) error {
	if !ss.logEnabled(level) {
		return nil
	}
	return ss.notify(ctx, nil, protocol.NotificationMessage, &protocol.LoggingMessageNotificationParams{Level: level, Logger: logger, Data: data})
}

// Notify sends a notification to the client outside any request.
func (ss *ServerSession) Notify(ctx context.Context, method string, params any) error {
	return ss.notify(ctx, nil, method, params)
}

// Elicit asks the client for input outside any request.
func (ss *ServerSession) Elicit(ctx context.Context, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
	caps := ss.ClientCapabilities()
	if err := checkElicit(&caps, p); err != nil {
		return nil, err
	}
	var res protocol.ElicitResult
	if err := ss.call(ctx, nil, protocol.MethodElicitationCreate, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CreateMessage asks the client to sample from its model outside any
// request.
func (ss *ServerSession) CreateMessage(ctx context.Context, p *protocol.CreateMessageRequestParams) (*protocol.CreateMessageResult, error) {
	caps := ss.ClientCapabilities()
	if err := checkSampling(&caps, p); err != nil {
		return nil, err
	}
	var res protocol.CreateMessageResult
	if err := ss.call(ctx, nil, protocol.MethodSamplingCreateMessage, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ListRoots asks the client for its roots outside any request.
func (ss *ServerSession) ListRoots(ctx context.Context) (*protocol.ListRootsResult, error) {
	if ss.ClientCapabilities().Roots == nil {
		return nil, fmt.Errorf("%w: roots", ErrCapability)
	}
	var res protocol.ListRootsResult
	if err := ss.call(ctx, nil, protocol.MethodRootsList, &protocol.ListRootsRequestParams{}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Ping checks that the client is alive.
func (ss *ServerSession) Ping(ctx context.Context) error {
	return ss.call(ctx, nil, protocol.MethodPing, nil, nil)
}

// CompleteElicitation tells the client that a URL-mode elicitation it was
// given has been completed out of band.
func (ss *ServerSession) CompleteElicitation(ctx context.Context, elicitationID string) error {
	return ss.notify(ctx, nil, protocol.NotificationElicitationComplete, &protocol.ElicitationCompleteNotificationParams{ElicitationID: elicitationID})
}
