package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/redis/go-redis/v9"

	"github.com/switchboard-mcp/switchboard/cluster/seal"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// SealPurpose is the purpose session ids are sealed for (see seal.Keyring).
const SealPurpose = "mcp-session-id"

// DefaultSessionTTL is how long the shared state of a session (its log
// level, subscriptions, the mark of its end) is kept after its last change,
// and so the longest a session lives without changing them.
const DefaultSessionTTL = 24 * time.Hour

// maxSealedParams bounds the initialize params sealed into an id; larger
// ones (a client describing itself at length) are stored in Redis and the
// id seals a reference.
const maxSealedParams = 512

// SessionOptions configure Sessions.
type SessionOptions struct {
	// Sealer seals and opens session ids. Required.
	Sealer *seal.Sealer
	// TTL: see DefaultSessionTTL.
	TTL time.Duration
	// Binding names the principal of a request (such as the subject of
	// its OAuth token) from its context; nil for none. A session id is
	// bound to the principal that created it: restoring it for another
	// principal fails as for an unknown session.
	Binding func(ctx context.Context) string
}

// Sessions is the session factory of a scaled-out streamable.Handler: it
// wraps an mcp.Server, mints sealed session ids, restores sessions from
// them on any instance, and routes the client's responses and
// cancellations to the instance that needs them. It implements
// transport.SessionFactory, transport.StatelessHandler (2026-07-28
// requests go straight to the server), streamable.SessionIDMinter,
// streamable.SessionRestorer and streamable.SessionTerminator.
type Sessions struct {
	n       *Node
	srv     *mcp.Server
	sealer  *seal.Sealer
	ttl     time.Duration
	binding func(context.Context) string

	local     sync.Map // session id → *session
	sweepOnce sync.Once
}

var (
	_ transport.SessionFactory     = (*Sessions)(nil)
	_ transport.StatelessHandler   = (*Sessions)(nil)
	_ streamable.SessionIDMinter   = (*Sessions)(nil)
	_ streamable.SessionRestorer   = (*Sessions)(nil)
	_ streamable.SessionTerminator = (*Sessions)(nil)
)

// Sessions returns the session factory of srv for this node.
func (n *Node) Sessions(srv *mcp.Server, opts SessionOptions) (*Sessions, error) {
	if opts.Sealer == nil {
		return nil, errors.New("cluster: SessionOptions.Sealer is required")
	}
	s := &Sessions{n: n, srv: srv, sealer: opts.Sealer, ttl: opts.TTL, binding: opts.Binding}
	if s.ttl <= 0 {
		s.ttl = DefaultSessionTTL
	}
	n.Handle("resp", s.onResponse)
	n.Handle("note", s.onNotification)
	n.Handle("end", s.onEnd)
	return s, nil
}

// sealed is the content of a session id.
type sealed struct {
	V int             `json:"v"`
	N string          `json:"n"`           // random nonce: the session's key in Redis
	T int64           `json:"t"`           // creation, unix seconds
	I json.RawMessage `json:"i,omitempty"` // initialize params
	R bool            `json:"r,omitempty"` // the params are in Redis instead
	B string          `json:"b,omitempty"` // binding hash
}

func (s *Sessions) stateKey(nonce string) string { return s.n.prefix + "sess:" + nonce }

func (s *Sessions) bindingOf(ctx context.Context) string {
	if s.binding == nil {
		return ""
	}
	b := s.binding(ctx)
	if b == "" {
		return ""
	}
	h := sha256.Sum256([]byte(b))
	return hex.EncodeToString(h[:12])
}

// SupportedVersions implements transport.SessionFactory.
func (s *Sessions) SupportedVersions() []string { return s.srv.SupportedVersions() }

// StatelessVersions lists the stateless revisions the server serves.
func (s *Sessions) StatelessVersions() []string { return s.srv.StatelessVersions() }

// HandleStateless implements transport.StatelessHandler: stateless
// requests need nothing from the cluster.
func (s *Sessions) HandleStateless(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) []byte {
	return s.srv.HandleStateless(ctx, req, sink)
}

// compactParams re-encodes the parts of initialize params a restored
// session needs.
func compactParams(raw jsontext.Value) ([]byte, error) {
	p, err := mcp.InitializeParams(raw)
	if err != nil {
		return nil, err
	}
	c := protocol.InitializeRequestParams{ProtocolVersion: p.ProtocolVersion, Capabilities: p.Capabilities,
		ClientInfo: protocol.Implementation{Name: p.ClientInfo.Name, Title: p.ClientInfo.Title, Version: p.ClientInfo.Version}}
	return jsonv2.Marshal(c)
}

// NewSessionID implements streamable.SessionIDMinter.
func (s *Sessions) NewSessionID(ctx context.Context, init *jsonrpc.Request) (string, error) {
	var nb [16]byte
	rand.Read(nb[:])
	st := sealed{V: 1, N: hex.EncodeToString(nb[:]), T: time.Now().Unix(), B: s.bindingOf(ctx)}
	params, err := compactParams(init.Params)
	if err != nil {
		// initialize will refuse the params; the id need not restore.
		params = nil
	}
	if len(params) > maxSealedParams {
		if err := s.n.rdb.HSet(ctx, s.stateKey(st.N), "init", params).Err(); err != nil {
			return "", err
		}
		s.n.rdb.Expire(ctx, s.stateKey(st.N), s.ttl)
		st.R = true
	} else {
		st.I = params
	}
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	return s.sealer.Seal(SealPurpose, b), nil
}

// open decodes a session id.
func (s *Sessions) open(id string) (*sealed, error) {
	b, err := s.sealer.Open(SealPurpose, id)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", streamable.ErrUnknownSession, err)
	}
	var st sealed
	if err := json.Unmarshal(b, &st); err != nil || st.V != 1 || st.N == "" {
		return nil, fmt.Errorf("%w: bad sealed state", streamable.ErrUnknownSession)
	}
	return &st, nil
}

// NewSession implements transport.SessionFactory for the sessions of
// initialize requests.
func (s *Sessions) NewSession(ctx context.Context, id string, standalone transport.Sink) (transport.Session, error) {
	st, err := s.open(id)
	if err != nil {
		return nil, err
	}
	w := &session{s: s, id: id, nonce: st.N}
	inner, err := s.srv.NewSession(ctx, id, &rewriter{w: w, sink: standalone})
	if err != nil {
		return nil, err
	}
	w.inner = inner.(*mcp.ServerSession)
	s.track(w)
	return w, nil
}

// RestoreSession implements streamable.SessionRestorer.
func (s *Sessions) RestoreSession(ctx context.Context, id string, standalone transport.Sink) (transport.Session, error) {
	st, err := s.open(id)
	if err != nil {
		return nil, err
	}
	if st.B != s.bindingOf(ctx) {
		return nil, fmt.Errorf("%w: bound to another principal", streamable.ErrUnknownSession)
	}
	state, err := s.n.rdb.HGetAll(ctx, s.stateKey(st.N)).Result()
	if err != nil {
		return nil, err
	}
	if state["ended"] == "1" {
		return nil, fmt.Errorf("%w: ended", streamable.ErrUnknownSession)
	}
	params := st.I
	if st.R {
		params = []byte(state["init"])
	}
	p, err := mcp.InitializeParams(params)
	if err != nil || len(params) == 0 {
		return nil, fmt.Errorf("%w: no initialize params", streamable.ErrUnknownSession)
	}
	w := &session{s: s, id: id, nonce: st.N}
	ss, err := s.srv.RestoreSession(ctx, id, &rewriter{w: w, sink: standalone}, &mcp.RestoredSession{Initialize: *p, LogLevel: protocol.LoggingLevel(state["level"])})
	switch {
	case errors.Is(err, mcp.ErrNotRestorable):
		return nil, fmt.Errorf("%w: %w", streamable.ErrUnknownSession, err)
	case err != nil:
		return nil, err
	}
	w.inner = ss
	// Subscriptions are replayed through the server, which lets a gateway
	// subscribe upstream on this instance.
	for k := range state {
		if uri, ok := strings.CutPrefix(k, "sub:"); ok {
			params, _ := json.Marshal(map[string]string{"uri": uri})
			req := &jsonrpc.Request{ID: jsonrpc.StringID("sb-restore"), Method: protocol.MethodResourcesSubscribe, Params: params}
			ss.HandleRequest(ctx, req, discard{})
		}
	}
	s.track(w)
	s.n.stats.restored.Add(1)
	return w, nil
}

// TerminateSession implements streamable.SessionTerminator: the session
// ends on every instance, and its events are deleted.
func (s *Sessions) TerminateSession(ctx context.Context, id string) error {
	st, err := s.open(id)
	if err != nil {
		return nil // not ours to end
	}
	key := s.stateKey(st.N)
	if _, err := s.n.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "ended", "1")
		p.Expire(ctx, key, s.ttl)
		return nil
	}); err != nil {
		return err
	}
	if err := s.n.events.Purge(ctx, id); err != nil {
		s.n.log.Warn("cluster: deleting the events of an ended session", "err", err)
	}
	// The DELETE is answered once every other instance has closed its
	// copy of the session (each acknowledges on a list of this call's
	// own), so that a request the client sends next, wherever the balancer
	// puts it, finds the session ended. The wait is bounded: an instance
	// that died or does not answer holds it at most endAckTimeout.
	ack := s.n.prefix + "endack:" + rand.Text()
	got, err := s.n.broadcast(ctx, "end", endMsg{From: s.n.id, Session: id, Ack: ack})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, endAckTimeout)
	defer cancel()
	for others := got - 1; others > 0; others-- {
		left := time.Until(deadlineOf(wctx))
		if left <= 0 || s.n.rdb.BLPop(wctx, left, ack).Err() != nil {
			s.n.log.Warn("cluster: an instance did not confirm the end of a session in time", "waited", endAckTimeout, "missing", others)
			break
		}
	}
	s.n.rdb.Del(context.WithoutCancel(ctx), ack)
	return nil
}

// endAckTimeout bounds how long ending a session waits for the other
// instances to confirm.
const endAckTimeout = time.Second

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// track records a session this instance holds, for the messages other
// instances route to it. Ended sessions are dropped by lookup and by a
// sweep every minute (no goroutine per session).
func (s *Sessions) track(w *session) {
	s.local.Store(w.id, w)
	s.sweepOnce.Do(func() { go s.sweep() })
}

func (s *Sessions) sweep() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.n.done:
			return
		case <-t.C:
		}
		s.local.Range(func(k, v any) bool {
			if w := v.(*session); ended(w) {
				s.local.CompareAndDelete(k, w)
			}
			return true
		})
	}
}

func ended(w *session) bool {
	select {
	case <-w.inner.Done():
		return true
	default:
		return false
	}
}

func (s *Sessions) lookup(id string) *session {
	v, ok := s.local.Load(id)
	if !ok {
		return nil
	}
	w := v.(*session)
	if ended(w) {
		s.local.CompareAndDelete(id, w)
		return nil
	}
	return w
}

// Messages between instances.
type respMsg struct {
	Session  string          `json:"s"`
	Response json.RawMessage `json:"m"`
}

type noteMsg struct {
	From    string          `json:"f"`
	Session string          `json:"s"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

type endMsg struct {
	From    string `json:"f"`
	Session string `json:"s"`
	// Ack is the list on which the instances confirm the session closed.
	Ack string `json:"a,omitempty"`
}

func (s *Sessions) onResponse(payload []byte) {
	var m respMsg
	if json.Unmarshal(payload, &m) != nil {
		return
	}
	w := s.lookup(m.Session)
	if w == nil {
		return
	}
	if r, ok := decodeResponse(m.Response); ok {
		w.HandleResponse(r)
	}
}

func (s *Sessions) onNotification(payload []byte) {
	var m noteMsg
	if json.Unmarshal(payload, &m) != nil || m.From == s.n.id {
		return
	}
	w := s.lookup(m.Session)
	if w == nil {
		return
	}
	if m.Method == "sb/setLevel" {
		req := &jsonrpc.Request{ID: jsonrpc.StringID("sb-level"), Method: protocol.MethodLoggingSetLevel, Params: jsontext.Value(m.Params)}
		go w.inner.HandleRequest(context.Background(), req, discard{})
		return
	}
	w.inner.HandleNotification(context.Background(), &jsonrpc.Request{Method: m.Method, Params: jsontext.Value(m.Params)})
}

func (s *Sessions) onEnd(payload []byte) {
	var m endMsg
	if json.Unmarshal(payload, &m) != nil || m.From == s.n.id {
		return
	}
	if w := s.lookup(m.Session); w != nil {
		w.inner.Close()
	}
	if strings.HasPrefix(m.Ack, s.n.prefix+"endack:") {
		// A short, bounded write on the node's goroutine: the ending
		// instance waits for it.
		ctx, cancel := context.WithTimeout(context.Background(), endAckTimeout)
		defer cancel()
		s.n.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.RPush(ctx, m.Ack, "1")
			p.Expire(ctx, m.Ack, 10*time.Second)
			return nil
		})
	}
}

// session wraps an mcp.ServerSession of a scaled-out server.
type session struct {
	s     *Sessions
	id    string
	nonce string
	inner *mcp.ServerSession
}

// ID implements transport.Session.
func (w *session) ID() string { return w.id }

// ProtocolVersion implements transport.Session.
func (w *session) ProtocolVersion() string { return w.inner.ProtocolVersion() }

// Close implements transport.Session.
func (w *session) Close() { w.inner.Close() }

// Done implements transport.Session.
func (w *session) Done() <-chan struct{} { return w.inner.Done() }

// HandleRequest implements transport.Session. Changes of the session's
// state are recorded in Redis for the instances that restore it later.
func (w *session) HandleRequest(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) []byte {
	resp := w.inner.HandleRequest(ctx, req, &rewriter{w: w, sink: sink})
	switch req.Method {
	case protocol.MethodLoggingSetLevel, protocol.MethodResourcesSubscribe, protocol.MethodResourcesUnsubscribe:
	default:
		return resp
	}
	if r, ok := decodeResponse(resp); !ok || r.Error != nil {
		return resp
	}
	var p struct {
		Level string `json:"level"`
		URI   string `json:"uri"`
	}
	if json.Unmarshal(req.Params, &p) != nil {
		return resp
	}
	key := w.s.stateKey(w.nonce)
	rdb := w.s.n.rdb
	_, err := rdb.TxPipelined(ctx, func(pl redis.Pipeliner) error {
		switch req.Method {
		case protocol.MethodLoggingSetLevel:
			pl.HSet(ctx, key, "level", p.Level)
		case protocol.MethodResourcesSubscribe:
			pl.HSet(ctx, key, "sub:"+p.URI, "1")
		default:
			pl.HDel(ctx, key, "sub:"+p.URI)
		}
		pl.Expire(ctx, key, w.s.ttl)
		return nil
	})
	if err != nil {
		w.s.n.log.Warn("cluster: recording session state", "method", req.Method, "err", err)
	}
	if req.Method == protocol.MethodLoggingSetLevel {
		w.s.n.Broadcast(ctx, "note", noteMsg{From: w.s.n.id, Session: w.id, Method: "sb/setLevel", Params: json.RawMessage(req.Params)})
	}
	return resp
}

// HandleNotification implements transport.Session. Cancellations and
// roots changes also reach the other instances holding the session: the
// request cancelled may run there.
func (w *session) HandleNotification(ctx context.Context, req *jsonrpc.Request) {
	w.inner.HandleNotification(ctx, req)
	switch req.Method {
	case protocol.NotificationCancelled, protocol.NotificationRootsListChanged:
		if err := w.s.n.Broadcast(ctx, "note", noteMsg{From: w.s.n.id, Session: w.id, Method: req.Method, Params: json.RawMessage(req.Params)}); err == nil {
			w.s.n.stats.forwarded.Add(1)
		}
	}
}

// idPrefix starts the ids of requests the server sends clients.
const idPrefix = "sb~"

// HandleResponse implements transport.Session: a response to a request
// another instance sent is published to that instance.
func (w *session) HandleResponse(resp *jsonrpc.Response) {
	str, ok := resp.ID.Str()
	if !ok || !strings.HasPrefix(str, idPrefix) {
		w.inner.HandleResponse(resp)
		return
	}
	inst, num, ok := strings.Cut(str[len(idPrefix):], "~")
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil {
		w.inner.HandleResponse(resp)
		return
	}
	if inst == w.s.n.id {
		r := *resp
		r.ID = jsonrpc.Int64ID(n)
		w.inner.HandleResponse(&r)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.s.n.Send(ctx, inst, "resp", respMsg{Session: w.id, Response: jsonrpc.AppendResponse(nil, resp)}); err != nil {
		w.s.n.log.Warn("cluster: forwarding a response", "instance", inst, "err", err)
		return
	}
	w.s.n.stats.forwarded.Add(1)
}

// rewriter gives the requests the server sends through a sink ids naming
// this instance.
type rewriter struct {
	w    *session
	sink transport.Sink
}

var (
	methodKey = []byte(`"method"`)
	idKey     = []byte(`"id"`)
)

// Send implements transport.Sink.
func (r *rewriter) Send(ctx context.Context, msg []byte) error {
	if bytes.Contains(msg, methodKey) && bytes.Contains(msg, idKey) {
		if m, err := jsonrpc.Decode(msg); err == nil {
			if req, ok := m.(*jsonrpc.Request); ok && !req.IsNotification() {
				if n, ok := req.ID.Int64(); ok {
					c := *req
					c.ID = jsonrpc.StringID(idPrefix + r.w.s.n.id + "~" + strconv.FormatInt(n, 10))
					msg = jsonrpc.AppendRequest(nil, &c)
				}
			}
		}
	}
	return r.sink.Send(ctx, msg)
}

// CloseStream implements transport.StreamCloser when the wrapped sink
// does.
func (r *rewriter) CloseStream(retryAfter int) {
	if c, ok := r.sink.(transport.StreamCloser); ok {
		c.CloseStream(retryAfter)
	}
}

type discard struct{}

// Send implements transport.Sink; the messages go nowhere.
func (discard) Send(context.Context, []byte) error { return nil }
