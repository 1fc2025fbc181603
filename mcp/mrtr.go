package mcp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Multi round-trip requests (MRTR, revision 2026-07-28).
//
// A handler asks the client for input the same way in every revision:
// Request.Elicit, Request.CreateMessage, Request.ListRoots, or
// Request.Input for several requests at once. In a 2025-11-25 session each
// becomes a server-initiated request on the session's stream. In a
// 2026-07-28 request (tools/call, prompts/get, resources/read) the server
// instead re-executes the handler on every round:
//
//  1. The first run finds no answer for the input it asks for: the call
//     returns ErrInputRequired, which the handler returns (or wraps), and
//     the request ends with an InputRequiredResult listing the requests,
//     with a requestState.
//  2. The client fulfils them and retries the request with inputResponses
//     and the requestState. The server runs the handler again from the
//     start; its calls are answered, in order, from the responses carried
//     by the state and the retry, until it asks for something new (another
//     round) or returns its result.
//
// Handlers must therefore be idempotent up to their input requests: the
// work before an input request is repeated on every round, and the input
// requests of one run must be the same as those of the previous runs, in
// the same order, until the new one. Input keys are assigned in call order
// ("elicit-1", "sample-2", ...) unless WithInputKey names them.
//
// The requestState is the answers so far plus what binds them to the
// request (method, a digest of the tool, prompt or resource and its
// arguments, the principal named by ServerOptions.TaskOwner, an expiry),
// authenticated with HMAC-SHA256 under ServerOptions.RequestStateKey (a
// random per-Server key by default). A client cannot forge or alter it, nor
// move it to another request or principal; it can replay it until it
// expires, so handlers whose effects must happen at most once enforce that
// themselves.

// ErrInputRequired is returned to a handler of a 2026-07-28 request that
// asks the client for input not answered yet. The handler should return
// it (wrapped or not); the request then ends with an input_required result
// whatever the handler returns, and the handler runs again when the client
// retries with the answers.
var ErrInputRequired = errors.New("mcp: the client's input is required: the request ends with input_required and runs again with the answers")

// ErrInputNotAllowed is returned to a handler of a 2026-07-28 request that
// asks the client for input where the revision does not allow it (any
// method but tools/call, prompts/get and resources/read).
var ErrInputNotAllowed = errors.New("mcp: input requests are only allowed in tools/call, prompts/get and resources/read in revision 2026-07-28")

type inputKeyCtx struct{}

// WithInputKey returns a context that names the input request made with it
// (the key of the inputRequests map of a 2026-07-28 InputRequiredResult).
// Keys default to "elicit-N", "sample-N" and "roots-N" in call order; a
// handler names them when the client or a test expects particular keys. A
// key must stay the same on every run of the handler.
func WithInputKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, inputKeyCtx{}, key)
}

func inputKeyFrom(ctx context.Context) string {
	k, _ := ctx.Value(inputKeyCtx{}).(string)
	return k
}

// mrtrState is the input of one run of a handler: the answers known and
// the requests made.
type mrtrState struct {
	mu      sync.Mutex
	carry   map[string]jsontext.Value // values the handler keeps across rounds
	answers map[string]jsontext.Value // from the requestState and inputResponses
	used    map[string]jsontext.Value // answers the handler consumed
	pending protocol.InputRequests    // requests not answered yet
	seq     int                       // input requests made so far
}

// nextKey returns the key of the next input request for method.
func (m *mrtrState) nextKey(method string) string {
	m.seq++
	return fmt.Sprintf("%s-%d", inputKind(method), m.seq)
}

func inputKind(method string) string {
	switch method {
	case protocol.MethodElicitationCreate:
		return "elicit"
	case protocol.MethodSamplingCreateMessage:
		return "sample"
	case protocol.MethodRootsList:
		return "roots"
	}
	return "input"
}

// Input asks the client for several things at once: elicitations, samples
// and roots, keyed by names of the handler's choosing. In a 2026-07-28
// request every unanswered one goes out in the same input_required round
// (see ErrInputRequired); in a 2025-11-25 session they are sent one after
// the other as server-initiated requests. It returns each response by key,
// raw (decode an ElicitResult, CreateMessageResult or ListRootsResult).
func (r *Request) Input(ctx context.Context, reqs protocol.InputRequests) (protocol.InputResponses, error) {
	keys := slices.Sorted(maps.Keys(reqs))
	for _, k := range keys {
		if err := r.checkInput(reqs[k]); err != nil {
			return nil, err
		}
	}
	switch {
	case r.v26 != nil && r.v26.task != nil:
		return r.v26.task.input(ctx, reqs)
	case r.v26 != nil:
		m := r.v26.mrtr
		if m == nil {
			return nil, ErrInputNotAllowed
		}
		out := make(protocol.InputResponses, len(reqs))
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, k := range keys {
			if a, ok := m.answers[k]; ok {
				if err := checkAnswer(k, reqs[k].Method, a); err != nil {
					return nil, err
				}
				out[k] = a
				m.use(k, a)
				continue
			}
			m.addPending(k, reqs[k])
		}
		if len(m.pending) > 0 {
			return nil, ErrInputRequired
		}
		return out, nil
	}
	out := make(protocol.InputResponses, len(reqs))
	for _, k := range keys {
		var raw jsontext.Value
		if err := r.call(ctx, reqs[k].Method, reqs[k].Params, &raw); err != nil {
			return nil, err
		}
		out[k] = raw
	}
	return out, nil
}

// SetRequestState keeps value under key across the rounds of a 2026-07-28
// multi round-trip request: when the request ends with input_required,
// value is sealed into the requestState, and when the client retries,
// RequestState(key) returns it to the handler's next run. A nil value
// forgets the key. The requestState is authenticated, not encrypted: the
// client can read it, so keep no secrets in it.
//
// It returns ErrInputNotAllowed for a request that cannot ask for input
// (any method but tools/call, prompts/get and resources/read of revision
// 2026-07-28, or a request that runs as a task).
func (r *Request) SetRequestState(key string, value jsontext.Value) error {
	if r.v26 == nil || r.v26.mrtr == nil {
		return ErrInputNotAllowed
	}
	m := r.v26.mrtr
	m.mu.Lock()
	defer m.mu.Unlock()
	if value == nil {
		delete(m.carry, key)
		return nil
	}
	if m.carry == nil {
		m.carry = map[string]jsontext.Value{}
	}
	m.carry[key] = value
	return nil
}

// RequestState returns the value an earlier round of the request kept
// under key with SetRequestState.
func (r *Request) RequestState(key string) (jsontext.Value, bool) {
	if r.v26 == nil || r.v26.mrtr == nil {
		return nil, false
	}
	m := r.v26.mrtr
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.carry[key]
	return v, ok
}

// checkInput checks that the client declared what an input request needs.
func (r *Request) checkInput(in protocol.InputRequest) error {
	switch in.Method {
	case protocol.MethodElicitationCreate:
		var p protocol.ElicitRequestParams
		if err := json.Unmarshal(in.Params, &p); err != nil {
			return fmt.Errorf("mcp: elicitation params: %w", err)
		}
		if err := checkElicit(&r.peer.caps, &p); err != nil {
			return r.capabilityError(err, in.Method, &p)
		}
	case protocol.MethodSamplingCreateMessage:
		var p protocol.CreateMessageRequestParams
		if err := json.Unmarshal(in.Params, &p); err != nil {
			return fmt.Errorf("mcp: sampling params: %w", err)
		}
		if err := checkSampling(&r.peer.caps, &p); err != nil {
			return r.capabilityError(err, in.Method, &p)
		}
	case protocol.MethodRootsList:
		if r.peer.caps.Roots == nil {
			return r.capabilityError(fmt.Errorf("%w: roots", ErrCapability), in.Method, nil)
		}
	default:
		return fmt.Errorf("mcp: %q cannot be an input request", in.Method)
	}
	return nil
}

// use records an answer the handler consumed; m.mu is held.
func (m *mrtrState) use(key string, a jsontext.Value) {
	if m.used == nil {
		m.used = map[string]jsontext.Value{}
	}
	m.used[key] = a
}

// addPending records an unanswered input request; m.mu is held.
func (m *mrtrState) addPending(key string, in protocol.InputRequest) {
	if m.pending == nil {
		m.pending = protocol.InputRequests{}
	}
	m.pending[key] = in
}

// callStateless serves a request the handler of a stateless request makes
// of the client (Elicit, CreateMessage, ListRoots).
func (r *Request) callStateless(ctx context.Context, method string, params, result any) error {
	if r.v26 == nil {
		return fmt.Errorf("mcp: %s needs a session", method)
	}
	in, err := inputRequestFor(method, params)
	if err != nil {
		return err
	}
	var raw jsontext.Value
	switch {
	case r.v26.task != nil:
		key := inputKeyFrom(ctx)
		if key == "" {
			key = r.v26.task.nextKey(method)
		}
		res, err := r.v26.task.input(ctx, protocol.InputRequests{key: in})
		if err != nil {
			return err
		}
		raw = res[key]
	case r.v26.mrtr == nil:
		return ErrInputNotAllowed
	default:
		m := r.v26.mrtr
		m.mu.Lock()
		key := inputKeyFrom(ctx)
		if key == "" {
			key = m.nextKey(method)
		} else {
			m.seq++
		}
		a, ok := m.answers[key]
		if !ok {
			m.addPending(key, in)
			m.mu.Unlock()
			return ErrInputRequired
		}
		if err := checkAnswer(key, method, a); err != nil {
			m.mu.Unlock()
			return err
		}
		m.use(key, a)
		m.mu.Unlock()
		raw = a
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return jsonrpc.ErrInvalidParams("inputResponses: the answer to %s is not a valid %s result: %v", method, method, paramsError(err))
	}
	return nil
}

// inputRequestFor encodes a request to the client as an input request,
// leaving out what revision 2026-07-28 has no place for (the task member,
// the elicitationId of URL mode elicitations).
func inputRequestFor(method string, params any) (protocol.InputRequest, error) {
	switch p := params.(type) {
	case *protocol.ElicitRequestParams:
		c := *p
		c.ElicitationID, c.Task = "", nil
		params = &c
	case *protocol.CreateMessageRequestParams:
		c := *p
		c.Task = nil
		params = &c
	case *protocol.ListRootsRequestParams:
		params = struct{}{}
	}
	return protocol.NewInputRequest(method, params)
}

// checkAnswer validates an input response enough that a malformed one is a
// protocol error rather than a confusing handler failure.
func checkAnswer(key, method string, a jsontext.Value) error {
	switch method {
	case protocol.MethodElicitationCreate:
		var er protocol.ElicitResult
		if err := json.Unmarshal(a, &er); err != nil {
			return jsonrpc.ErrInvalidParams("inputResponses[%s]: not an elicitation result: %v", jsonrpc.QuoteElided(key, jsonrpc.EchoLimit), paramsError(err))
		}
		switch er.Action {
		case protocol.ElicitActionAccept, protocol.ElicitActionDecline, protocol.ElicitActionCancel:
		default:
			return jsonrpc.ErrInvalidParams("inputResponses[%s]: elicitation action %s is not accept, decline or cancel", jsonrpc.QuoteElided(key, jsonrpc.EchoLimit), jsonrpc.QuoteElided(string(er.Action), jsonrpc.EchoLimit))
		}
	case protocol.MethodRootsList:
		var lr struct {
			Roots *[]protocol.Root `json:"roots"`
		}
		if err := json.Unmarshal(a, &lr); err != nil || lr.Roots == nil {
			return jsonrpc.ErrInvalidParams("inputResponses[%s]: not a roots/list result", jsonrpc.QuoteElided(key, jsonrpc.EchoLimit))
		}
	case protocol.MethodSamplingCreateMessage:
		var cm protocol.CreateMessageResult
		if err := json.Unmarshal(a, &cm, protocol.UnionUnmarshalers); err != nil {
			return jsonrpc.ErrInvalidParams("inputResponses[%s]: not a sampling result: %v", jsonrpc.QuoteElided(key, jsonrpc.EchoLimit), paramsError(err))
		}
	}
	return nil
}

// mrtrParams are the members of tools/call, prompts/get and resources/read
// params that MRTR reads.
type mrtrParams struct {
	Name           string         `json:"name"`
	URI            string         `json:"uri"`
	Arguments      jsontext.Value `json:"arguments"`
	InputResponses jsontext.Value `json:"inputResponses"`
	RequestState   string         `json:"requestState"`
}

// serveInputRequired serves tools/call, prompts/get or resources/read of a
// stateless request: the handler may ask for input, which ends the request
// with an InputRequiredResult.
func (s *Server) serveInputRequired(ctx context.Context, r *Request) (any, error) {
	var p mrtrParams
	if len(r.Params) > 0 {
		if err := json.Unmarshal(r.Params, &p); err != nil {
			return nil, jsonrpc.ErrInvalidParams("invalid params for %s: %v", r.Method, paramsError(err))
		}
	}
	target := p.Name
	if r.Method == protocol.MethodResourcesRead {
		target = p.URI
	}
	// What binds a state to its request is computed only when a state is
	// opened or sealed: most requests ask for nothing.
	var fp, principal string
	bind := func() {
		if fp == "" {
			fp = fingerprint(r.Method, target, p.Arguments)
			principal = s.statePrincipal(ctx, r)
		}
	}
	m := &mrtrState{}
	if p.RequestState != "" {
		bind()
		prior, carry, err := s.openState(p.RequestState, r.Method, fp, principal, time.Now())
		if err != nil {
			return nil, jsonrpc.ErrInvalidParams("invalid requestState: %v", err)
		}
		m.answers, m.carry = prior, carry
	}
	if len(p.InputResponses) > 0 {
		if p.InputResponses.Kind() != '{' {
			return nil, jsonrpc.ErrInvalidParams("inputResponses must be an object")
		}
		var resps map[string]jsontext.Value
		if err := json.Unmarshal(p.InputResponses, &resps); err != nil {
			return nil, jsonrpc.ErrInvalidParams("invalid inputResponses: %v", paramsError(err))
		}
		for k, v := range resps {
			if v.Kind() != '{' {
				return nil, jsonrpc.ErrInvalidParams("inputResponses[%s] must be an object (an elicitation, sampling or roots result)", jsonrpc.QuoteElided(k, jsonrpc.EchoLimit))
			}
			if _, answered := m.answers[k]; !answered {
				if m.answers == nil {
					m.answers = map[string]jsontext.Value{}
				}
				m.answers[k] = v
			}
		}
	}
	r.v26.mrtr = m

	var (
		res any
		err error
	)
	if r.Method == protocol.MethodToolsCall {
		res, err = s.callToolModern(ctx, r, p.Name, p.Arguments)
	} else {
		res, err = s.dispatch(ctx, r)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.pending) == 0 {
		if d, ok := urlElicitationRequired(err); ok {
			// -32042 does not exist from 2026-07-28 on: the URL mode
			// elicitations become input requests, and the client learns
			// their outcome by retrying.
			for i, e := range d.Elicitations {
				key := e.ElicitationID
				if key == "" {
					key = fmt.Sprintf("url-%d", i+1)
				}
				in, ierr := inputRequestFor(protocol.MethodElicitationCreate, &e)
				if ierr != nil {
					return nil, jsonrpc.ErrInternal("%v", ierr)
				}
				m.addPending(key, in)
			}
		}
	}
	if len(m.pending) == 0 {
		if errors.Is(err, ErrInputRequired) {
			// The handler returned the sentinel without asking (or after a
			// failed ask): not an input round.
			return nil, jsonrpc.ErrInternal("the handler returned ErrInputRequired without a pending input request")
		}
		return res, err
	}
	bind()
	state, serr := s.sealState(r.Method, fp, principal, m.used, m.carry, time.Now())
	if serr != nil {
		return nil, jsonrpc.ErrInternal("sealing requestState: %v", serr)
	}
	return &protocol.InputRequiredResult{
		ResultType:    protocol.ResultTypeInputRequired,
		InputRequests: m.pending,
		RequestState:  state,
	}, nil
}

// fingerprint identifies what a request is about, so that a requestState
// is only accepted on a retry of the same request.
func fingerprint(method, target string, args jsontext.Value) string {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(target))
	h.Write([]byte{0})
	var v any
	if len(args) > 0 && json.Unmarshal(args, &v) == nil && v != nil {
		if b, err := json.Marshal(v, json.Deterministic(true)); err == nil {
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// statePrincipal names who a requestState belongs to: the principal of
// ServerOptions.TaskOwner, hashed; "" without one.
func (s *Server) statePrincipal(ctx context.Context, r *Request) string {
	if s.opts.TaskOwner == nil {
		return ""
	}
	o := s.opts.TaskOwner(ctx, r)
	if o == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("switchboard-principal\x00" + o))
	return hex.EncodeToString(sum[:16])
}

// requestState is the payload of a sealed requestState.
type requestState struct {
	V         int                       `json:"v"`
	Method    string                    `json:"m"`
	Digest    string                    `json:"f"`
	Principal string                    `json:"p,omitzero"`
	Expires   int64                     `json:"e"`
	Nonce     string                    `json:"n"`
	Answers   map[string]jsontext.Value `json:"a,omitzero"`
	Carry     map[string]jsontext.Value `json:"c,omitzero"`
}

const (
	stateVersion = 1
	stateDomain  = "switchboard-mrtr-v1\n"
	// maxRequestState bounds a requestState the server accepts.
	maxRequestState = 1 << 20
)

func (s *Server) stateTTL() time.Duration {
	if s.opts.RequestStateTTL > 0 {
		return s.opts.RequestStateTTL
	}
	return DefaultRequestStateTTL
}

func (s *Server) stateMAC(payload []byte) []byte {
	mac := hmac.New(sha256.New, s.stateKey())
	mac.Write([]byte(stateDomain))
	mac.Write(payload)
	return mac.Sum(nil)
}

// sealState encodes and authenticates the answers of a round.
func (s *Server) sealState(method, digest, principal string, answers, carry map[string]jsontext.Value, now time.Time) (string, error) {
	var nonce [12]byte
	rand.Read(nonce[:])
	st := requestState{V: stateVersion, Method: method, Digest: digest, Principal: principal,
		Expires: now.Add(s.stateTTL()).Unix(), Nonce: base64.RawURLEncoding.EncodeToString(nonce[:]), Answers: answers, Carry: carry}
	payload, err := json.Marshal(st, json.Deterministic(true))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.stateMAC(payload)), nil
}

var (
	errStateForged   = errors.New("integrity check failed")
	errStateExpired  = errors.New("expired")
	errStateMismatch = errors.New("it belongs to another request")
)

// openState verifies a requestState and returns its answers and the
// values the handler kept.
func (s *Server) openState(token, method, digest, principal string, now time.Time) (answers, carry map[string]jsontext.Value, err error) {
	if len(token) > maxRequestState {
		return nil, nil, fmt.Errorf("longer than %d bytes", maxRequestState)
	}
	body, sig, ok := strings.Cut(token, ".")
	if !ok {
		return nil, nil, errStateForged
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(body)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.stateMAC(payload)) {
		return nil, nil, errStateForged
	}
	var st requestState
	if err := json.Unmarshal(payload, &st); err != nil || st.V != stateVersion {
		return nil, nil, errStateForged
	}
	switch {
	case now.Unix() > st.Expires:
		return nil, nil, errStateExpired
	case st.Method != method || st.Digest != digest || st.Principal != principal:
		return nil, nil, errStateMismatch
	}
	return st.Answers, st.Carry, nil
}

// capabilityError reports a missing client capability. In a 2025-11-25
// session it is err (wrapping ErrCapability), which a tool handler usually
// turns into a tool error; in a 2026-07-28 request it also carries the
// MissingRequiredClientCapability protocol error (-32021) naming the
// capability, which becomes the request's error when the handler returns
// it.
func (r *Request) capabilityError(err error, method string, params any) error {
	if r.v26 == nil {
		return err
	}
	var need protocol.ClientCapabilities
	switch method {
	case protocol.MethodElicitationCreate:
		need.Elicitation = &protocol.ElicitationCapability{}
		if p, ok := params.(*protocol.ElicitRequestParams); ok && p.Mode == protocol.ElicitModeURL {
			need.Elicitation.URL = &protocol.EmptyCapability{}
		}
	case protocol.MethodSamplingCreateMessage:
		need.Sampling = &protocol.SamplingCapability{}
		if p, ok := params.(*protocol.CreateMessageRequestParams); ok && (len(p.Tools) > 0 || p.ToolChoice != nil) {
			need.Sampling.Tools = &protocol.EmptyCapability{}
		}
	case protocol.MethodRootsList:
		need.Roots = &protocol.RootsCapability{}
	}
	return &capabilityErr{err: err, je: protocol.NewMissingRequiredClientCapabilityError(err.Error(), need)}
}

// capabilityErr is a missing capability in a stateless request: both
// ErrCapability and the protocol error to send.
type capabilityErr struct {
	err error
	je  *jsonrpc.Error
}

func (e *capabilityErr) Error() string   { return e.err.Error() }
func (e *capabilityErr) Unwrap() []error { return []error{e.err, e.je} }

// prepareElicit fills in what a revision needs and the handler may have
// left out: a URL mode elicitation sent to a 2025-11-25 client needs an
// elicitationId, which 2026-07-28 handlers need not set.
func (r *Request) prepareElicit(p *protocol.ElicitRequestParams) *protocol.ElicitRequestParams {
	if r.v26 == nil && p.Mode == protocol.ElicitModeURL && p.ElicitationID == "" {
		c := *p
		var b [12]byte
		rand.Read(b[:])
		c.ElicitationID = base64.RawURLEncoding.EncodeToString(b[:])
		return &c
	}
	return p
}

// urlElicitationRequired returns the data of a -32042 error a handler
// returned.
func urlElicitationRequired(err error) (*protocol.URLElicitationRequiredErrorData, bool) {
	je, ok := protocolError(err)
	if !ok {
		return nil, false
	}
	return protocol.URLElicitationRequired(je)
}
