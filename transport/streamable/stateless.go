package streamable

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// Stateless mode (protocol revision 2026-07-28).
//
// When the Handler's factory also implements transport.StatelessHandler, a
// POST that names a revision the factory's sessions do not serve (in the
// MCP-Protocol-Version header) or that carries such a revision in its
// body's _meta is served without a session: no Mcp-Session-Id is read or
// issued, the response (plain JSON or an SSE stream) belongs to that POST
// alone, SSE events carry no ids and cannot be resumed, and closing the
// response cancels the request. The standard request headers Mcp-Method,
// Mcp-Name and MCP-Protocol-Version are required and must match the body
// (HeaderMismatch, -32020, HTTP 400). GET and DELETE with such a version
// answer 405. Requests of the revisions served with sessions go on as
// before, on the same endpoint.

// Defaults of the stateless mode.
const (
	// DefaultMaxStatelessRequests bounds the stateless requests served at
	// the same time when Options.MaxStatelessRequests is zero.
	DefaultMaxStatelessRequests = 4096
)

// Error codes of revision 2026-07-28 the transport sends or maps (the
// protocol package has them too; the transport does not depend on it).
const (
	codeHeaderMismatch                  = -32020
	codeMissingRequiredClientCapability = -32021
	codeUnsupportedProtocolVersion      = -32022
	metaProtocolVersion                 = "io.modelcontextprotocol/protocolVersion"
)

// statelessVersioner is implemented by stateless handlers that list the
// revisions they serve (mcp.Server does). The handler then refuses a
// protocol version header that names neither those nor the session
// revisions with a 400 naming the header, before the stateless header
// checks, whose complaints would mislead.
type statelessVersioner interface {
	StatelessVersions() []string
}

// unknownVersion reports whether v, a protocol version header value, is
// known to name no revision the handler serves.
func (h *Handler) unknownVersion(v string) bool {
	return h.modern != nil && !slices.Contains(h.modern, v) && !slices.Contains(h.versions, v)
}

// writeUnsupportedVersion answers a request whose protocol version header
// names no revision the server serves: 400 with error -32022 and, as data,
// the revisions it does serve.
func (h *Handler) writeUnsupportedVersion(w http.ResponseWriter, id jsonrpc.ID, v string) {
	supported := make([]string, 0, len(h.modern)+len(h.versions))
	supported = append(append(supported, h.modern...), h.versions...)
	data, _ := json.Marshal(struct {
		Supported []string `json:"supported"`
		Requested string   `json:"requested"`
	}{supported, jsonrpc.Elide(v, 64)})
	body := jsonrpc.AppendErrorResponse(nil, id, &jsonrpc.Error{
		Code: codeUnsupportedProtocolVersion,
		Message: fmt.Sprintf("Unsupported protocol version %s in the %s header (supported: %s)",
			jsonrpc.QuoteElided(v, 64), HeaderProtocolVersion, strings.Join(supported, ", ")),
		Data: data,
	})
	w.Header().Set("Content-Type", mediaJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(body)
}

// statelessCandidate reports whether the request's version header leaves
// room for stateless serving: the factory serves stateless requests and
// the header is absent or names a revision its sessions do not serve.
func (h *Handler) statelessCandidate(r *http.Request) bool {
	if h.stateless == nil {
		return false
	}
	v := r.Header.Get(HeaderProtocolVersion)
	return v == "" || !slices.Contains(h.versions, v)
}

// routeStateless decides, for a candidate (see statelessCandidate), whether
// the POSTed messages are served statelessly: yes when the version header
// names a revision without sessions, or, without the header, when the body
// is one request whose _meta names a protocol version.
func routeStateless(r *http.Request, msgs []jsonrpc.Message, isBatch bool) bool {
	if r.Header.Get(HeaderProtocolVersion) != "" {
		return true
	}
	if isBatch || len(msgs) != 1 {
		return false
	}
	req, ok := msgs[0].(*jsonrpc.Request)
	if !ok {
		return false
	}
	_, ok = metaVersion(req.Params)
	return ok
}

// modernGetOrDelete reports whether a GET or DELETE names a stateless
// revision and carries no session id: revision 2026-07-28 has no GET
// stream and no sessions, so the answer is 405.
func (h *Handler) modernGetOrDelete(r *http.Request) bool {
	if h.stateless == nil || r.Header.Get(HeaderSessionID) != "" {
		return false
	}
	v := r.Header.Get(HeaderProtocolVersion)
	return v != "" && !slices.Contains(h.versions, v) && !h.unknownVersion(v)
}

// metaVersion returns the io.modelcontextprotocol/protocolVersion of a
// request's params, if any.
func metaVersion(params jsontext.Value) (string, bool) {
	if len(params) == 0 || !bytes.Contains(params, []byte(metaProtocolVersion)) {
		return "", false
	}
	if v, ok := quickMetaVersion(params); ok {
		return v, true
	}
	var p struct {
		Meta struct {
			Version *string `json:"io.modelcontextprotocol/protocolVersion"`
		} `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil || p.Meta.Version == nil {
		return "", false
	}
	return *p.Meta.Version, true
}

// quickMetaVersion is metaVersion without decoding, for the common body:
// the member appears once, inside a top-level "_meta" object that
// appears once, and its value is a plain string. Anything else reports
// false, and metaVersion decodes.
func quickMetaVersion(params []byte) (string, bool) {
	key := []byte(`"` + metaProtocolVersion + `"`)
	if bytes.Count(params, key) != 1 || bytes.Count(params, []byte(`"_meta"`)) != 1 {
		return "", false
	}
	i := bytes.Index(params, key)
	m := bytes.Index(params, []byte(`"_meta"`))
	if between := params[m:i]; m > i || bytes.Count(between, []byte("{")) != 1 ||
		bytes.IndexByte(between, '}') >= 0 || bytes.IndexByte(between, '[') >= 0 {
		return "", false // the member may not be _meta's own
	}
	rest := bytes.TrimLeft(params[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return "", false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return "", false
	}
	for j, c := range rest[1:] {
		switch {
		case c == '"':
			return string(rest[1 : j+1]), true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// checkStatelessHeaders validates the standard request headers of a
// stateless request against its body.
func checkStatelessHeaders(hdr http.Header, req *jsonrpc.Request) *jsonrpc.Error {
	mismatch := func(format string, args ...any) *jsonrpc.Error {
		return &jsonrpc.Error{Code: codeHeaderMismatch, Message: "Header mismatch: " + sprintf(format, args...)}
	}
	switch m := hdr.Values(HeaderMethod); {
	case len(m) == 0:
		return mismatch("missing %s header", HeaderMethod)
	case len(m) > 1:
		return mismatch("repeated %s header", HeaderMethod)
	case m[0] != req.Method:
		return mismatch("%s header value %s does not match body value %s", HeaderMethod, echo(m[0]), echo(req.Method))
	}
	hv := hdr.Get(HeaderProtocolVersion)
	if hv == "" {
		return mismatch("missing %s header", HeaderProtocolVersion)
	}
	if bv, ok := metaVersion(req.Params); ok && bv != hv {
		return mismatch("%s header value %s does not match body value %s", HeaderProtocolVersion, echo(hv), echo(bv))
	}
	var member string
	required := true
	switch req.Method {
	case "tools/call", "prompts/get":
		member = "name"
	case "resources/read":
		member = "uri"
	case "tasks/get", "tasks/update", "tasks/cancel":
		member, required = "taskId", false
	default:
		return nil
	}
	body, inBody := stringMember(req.Params, member)
	names := hdr.Values(HeaderName)
	switch {
	case len(names) == 0 && inBody && required:
		return mismatch("missing %s header", HeaderName)
	case len(names) == 0:
		return nil
	case len(names) > 1:
		return mismatch("repeated %s header", HeaderName)
	}
	got, err := unsentinelHeaderValue(names[0])
	if err != nil {
		return mismatch("%s header: %v", HeaderName, err)
	}
	if !inBody || got != body {
		return mismatch("%s header value %s does not match body value %s", HeaderName, echo(got), echo(body))
	}
	return nil
}

// echo quotes a client's value for an error message, elided past
// jsonrpc.EchoLimit bytes.
func echo(s string) string { return jsonrpc.QuoteElided(s, jsonrpc.EchoLimit) }

// unsentinelHeaderValue undoes the Base64 sentinel encoding of a header value.
func unsentinelHeaderValue(v string) (string, error) {
	if len(v) >= len(b64Prefix)+len(b64Suffix) && strings.HasPrefix(v, b64Prefix) && strings.HasSuffix(v, b64Suffix) {
		b, err := base64.StdEncoding.DecodeString(v[len(b64Prefix) : len(v)-len(b64Suffix)])
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	return v, nil
}

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// statusFor returns the HTTP status of a stateless response sent as plain
// JSON: errors of the request's own making are client errors.
func statusFor(resp []byte) int {
	if !bytes.Contains(resp, []byte(`"error"`)) {
		return http.StatusOK
	}
	m, err := jsonrpc.Decode(resp)
	if err != nil {
		return http.StatusOK
	}
	r, ok := m.(*jsonrpc.Response)
	if !ok || r.Error == nil {
		return http.StatusOK
	}
	switch r.Error.Code {
	case jsonrpc.CodeMethodNotFound:
		return http.StatusNotFound
	case jsonrpc.CodeParseError, jsonrpc.CodeInvalidRequest, jsonrpc.CodeInvalidParams,
		codeHeaderMismatch, codeMissingRequiredClientCapability, codeUnsupportedProtocolVersion:
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// serveStateless serves a POST of a stateless revision.
func (h *Handler) serveStateless(w http.ResponseWriter, r *http.Request, wc writeCtl, msgs []jsonrpc.Message, isBatch, acceptJSON, acceptSSE bool) {
	if hv := r.Header.Get(HeaderProtocolVersion); h.unknownVersion(hv) {
		var id jsonrpc.ID
		bv, hasMeta := "", false
		if req, ok := msgs[0].(*jsonrpc.Request); ok && !isBatch {
			id = req.ID
			bv, hasMeta = metaVersion(req.Params)
		}
		if !hasMeta || bv == hv {
			// A body naming another revision is a header mismatch, which
			// checkStatelessHeaders reports.
			h.writeUnsupportedVersion(w, id, hv)
			return
		}
	}
	if isBatch {
		writeError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, jsonrpc.ID{}, "JSON-RPC batches are not supported in stateless protocol revisions")
		return
	}
	req, ok := msgs[0].(*jsonrpc.Request)
	if !ok {
		writeError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, jsonrpc.ID{}, "a stateless POST carries a request or a notification, not a response")
		return
	}
	if req.IsNotification() {
		// Revision 2026-07-28 defines no client notifications over HTTP
		// (closing a stream cancels its request).
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if jerr := checkStatelessHeaders(r.Header, req); jerr != nil {
		body := jsonrpc.AppendErrorResponse(nil, req.ID, jerr)
		w.Header().Set("Content-Type", mediaJSON)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(body)
		return
	}
	select {
	case h.statelessSem <- struct{}{}:
	default:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, req.ID, "too many requests in flight")
		return
	}
	defer func() { <-h.statelessSem }()
	client := h.clientKey(r)
	if err := h.inflight.Acquire(client); err != nil {
		status, msg := refusal(err)
		w.Header().Set("Retry-After", "1")
		writeError(w, status, jsonrpc.CodeInternalError, req.ID, msg)
		return
	}
	h.mu.RLock()
	closed := h.closed
	if !closed {
		h.wg.Add(1)
	}
	h.mu.RUnlock()
	if closed {
		h.inflight.Release(client)
		writeError(w, http.StatusServiceUnavailable, jsonrpc.CodeInternalError, req.ID, "server shutting down")
		return
	}

	mode := h.mode
	switch {
	case !acceptSSE:
		mode = ResponseJSON
	case !acceptJSON:
		mode = ResponseSSE
	}
	// The request's context ends when the client closes the response (the
	// cancellation of revision 2026-07-28) or the handler closes.
	ctx, cancel := context.WithCancel(r.Context())
	stopClose := context.AfterFunc(h.closedCtx, cancel)
	ctx = transport.WithRequestInfo(ctx, &transport.RequestInfo{Header: r.Header, RemoteAddr: r.RemoteAddr, Host: r.Host, Client: client, Admitter: h})
	st := &statelessStream{h: h, c: newConn(h, w, wc), mode: mode, id: req.ID}
	if mode == ResponseSSE {
		st.mu.Lock()
		st.startSSELocked()
		st.mu.Unlock()
	}
	// The request runs on this goroutine: a stateless request cannot end
	// its HTTP response early (it has no CloseStream), so nothing needs
	// the response to outlive it, and serving it here saves a goroutine
	// hand-off and the growth of a fresh stack. A client that goes away
	// cancels ctx; the keep-alive comments come from a timer.
	if h.keepAlive > 0 && mode != ResponseJSON {
		st.mu.Lock() // tick reads keepAlive under mu
		st.keepAlive = time.AfterFunc(h.keepAlive, st.tick)
		st.mu.Unlock()
	}
	resp := h.handleStatelessRequest(ctx, req, st)
	h.inflight.Release(client)
	st.finish(resp)
	st.mu.Lock()
	if st.keepAlive != nil {
		st.keepAlive.Stop()
	}
	st.mu.Unlock()
	st.respond()
	h.wg.Done()
	cancel()
	stopClose()
}

func (h *Handler) handleStatelessRequest(ctx context.Context, req *jsonrpc.Request, st *statelessStream) (resp []byte) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("streamable: panic serving a stateless request", "method", req.Method, "id", req.ID.String(), "panic", sprintf("%v", p))
			resp = jsonrpc.AppendErrorResponse(nil, req.ID, jsonrpc.ErrInternal("internal error"))
		}
	}()
	return h.stateless.HandleStateless(ctx, req, st)
}

// statelessStream is the response of one stateless POST: undecided until
// something is sent (then SSE) or the response is ready (then JSON, with
// the HTTP status of its error), in adaptive mode.
type statelessStream struct {
	h    *Handler
	c    *conn
	mode ResponseMode
	id   jsonrpc.ID

	mu       sync.Mutex
	sse      bool
	gone     bool   // the HTTP response is over: nothing more may be written
	finished bool   // the response is in
	resp     []byte // the response, while the reply is undecided
	// keepAlive runs tick while the request goes on (nil without
	// keep-alives); set and stopped under mu.
	keepAlive *time.Timer
}

// Send implements transport.Sink: notifications related to the request
// (and, for subscriptions/listen, the subscribed ones) go on its SSE
// stream, without event ids.
func (st *statelessStream) Send(ctx context.Context, msg []byte) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.finished:
		return errStreamDone
	case st.gone:
		return errClientGone
	case st.mode == ResponseJSON:
		return errJSONOnly
	}
	if !st.sse {
		st.startSSELocked()
	}
	return st.writeLocked(msg)
}

func (st *statelessStream) startSSELocked() {
	st.sse = true
	st.c.startSSE()
	if err := st.c.flush(); err != nil {
		st.gone = true
	}
}

func (st *statelessStream) writeLocked(msg []byte) error {
	if err := st.c.writeEvent("", msg); err != nil {
		st.gone = true
		st.h.log.Debug("streamable: writing a stateless event", "err", err)
		return errClientGone
	}
	return nil
}

// finish records the response (nil when none is due, as for a request
// cancelled by the client) and ends the stream.
func (st *statelessStream) finish(resp []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.finished {
		return
	}
	st.finished = true
	if st.sse && !st.gone && resp != nil {
		_ = st.writeLocked(resp)
	} else {
		st.resp = resp
	}
}

// respond ends the HTTP response once the request is answered: a plain
// JSON answer when nothing was streamed, an empty SSE stream when no
// response is due.
func (st *statelessStream) respond() {
	st.mu.Lock()
	if !st.sse && !st.gone {
		if st.resp == nil && st.mode != ResponseJSON {
			// No response is due: an SSE stream without events answers
			// the request, not an empty 202.
			st.startSSELocked()
		} else {
			st.writeJSONLocked()
		}
	}
	st.gone = true
	st.mu.Unlock()
	st.c.finalize()
}

// tick keeps a long request's response alive: it turns an undecided
// response into an SSE stream (so that intermediaries do not time it out)
// and writes a comment when nothing was written since the last tick.
func (st *statelessStream) tick() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.finished || st.gone {
		return
	}
	if !st.sse {
		st.startSSELocked()
	} else if !st.c.wroteSinceTick {
		if err := st.c.writeComment(); err != nil {
			st.gone = true
		}
	}
	st.c.wroteSinceTick = false
	st.keepAlive.Reset(st.h.keepAlive)
}

func (st *statelessStream) writeJSONLocked() {
	w := st.c.w
	if st.resp == nil {
		st.resp = jsonrpc.AppendErrorResponse(nil, st.id, errNoResponse)
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(st.resp)))
	st.c.deadline() // a client that does not read must not hold the handler
	w.WriteHeader(statusFor(st.resp))
	_, _ = w.Write(st.resp)
}
