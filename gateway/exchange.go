package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Revision bridging for clients of revision 2026-07-28.
//
// Such a client cannot be sent a request in the middle of its call: the
// call ends with an input_required result, and the client calls again with
// the answers (multi round-trip requests). An upstream, whatever its
// revision, asks in the middle of its call and waits for the answer. The
// gateway bridges the two with an exchange: the upstream call runs on its
// own, detached from the client's request; when the upstream asks for
// input, the client's request ends with input_required, under input keys
// that name the exchange ("sbx.<id>.<n>"); the client's retry finds the
// exchange by those keys, its answers go to the waiting upstream, and the
// retry then waits for the upstream's next question or its result.
//
// Exchanges live in the gateway's memory, bounded in number and in time
// (the request-state lifetime): a retry that reaches another gateway
// instance, or comes too late, gets an error saying to call again.

const exchangeKeyPrefix = "sbx."

// exchangeTTL bounds how long an exchange waits for the client's retry.
const exchangeTTL = mcp.DefaultRequestStateTTL

// collectWindow is how long a round waits for more questions after the
// first, so that questions an upstream asks together go out together.
const collectWindow = 5 * time.Millisecond

type exchanges struct {
	mu  sync.Mutex
	m   map[string]*exchange
	max int
}

func (x *exchanges) init(max int) {
	x.m = map[string]*exchange{}
	x.max = max
}

// register makes ex findable by its id.
func (x *exchanges) register(ex *exchange) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.m[ex.id]; ok {
		return nil
	}
	if len(x.m) >= x.max {
		return jsonrpc.ErrInternal("switchboard: %d requests already wait for their clients' input; try again later", x.max)
	}
	x.m[ex.id] = ex
	ex.expiry = time.AfterFunc(exchangeTTL, func() {
		ex.cancel(errors.New("the client did not come back with its input in time"))
		x.remove(ex)
	})
	return nil
}

func (x *exchanges) get(id string) *exchange {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.m[id]
}

func (x *exchanges) remove(ex *exchange) {
	x.mu.Lock()
	if x.m[ex.id] == ex {
		delete(x.m, ex.id)
	}
	x.mu.Unlock()
	if ex.expiry != nil {
		ex.expiry.Stop()
	}
}

func (x *exchanges) closeAll() {
	x.mu.Lock()
	all := slices.Collect(maps.Values(x.m))
	x.m = map[string]*exchange{}
	x.mu.Unlock()
	for _, ex := range all {
		ex.cancel(errors.New("the gateway is shutting down"))
	}
}

// exchange is one relayed request of a 2026-07-28 client whose upstream
// call runs on its own.
type exchange struct {
	id     string
	u      *upstream
	ctx    context.Context
	cancel context.CancelCauseFunc
	expiry *time.Timer

	questions chan *question // from the upstream side
	done      chan struct{}  // closed when the upstream call ended
	result    jsontext.Value
	err       error

	cur atomic.Pointer[mcp.Request] // the client's request of the current round

	mu      sync.Mutex
	seq     int
	pending map[string]*question // asked, not answered yet
}

// question is one request the upstream made of the client.
type question struct {
	key    string
	method string
	params jsontext.Value
	answer chan answer
}

type answer struct {
	raw jsontext.Value
	err error
}

func newExchangeID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// current returns the client's request of the round in progress.
func (ex *exchange) current() *mcp.Request { return ex.cur.Load() }

// ask puts a question to the client and waits for its answer (in a later
// round of the client's request). The round that receives the question
// records it as pending.
func (ex *exchange) ask(ctx context.Context, method string, params, result any) error {
	ex.mu.Lock()
	ex.seq++
	q := &question{key: fmt.Sprintf("%s%s.%d", exchangeKeyPrefix, ex.id, ex.seq), method: method, params: rawOf(params), answer: make(chan answer, 1)}
	ex.mu.Unlock()
	select {
	case ex.questions <- q:
	case <-ctx.Done():
		return ctx.Err()
	case <-ex.ctx.Done():
		return context.Cause(ex.ctx)
	}
	select {
	case a := <-q.answer:
		if a.err != nil {
			return a.err
		}
		if err := json.Unmarshal(a.raw, result); err != nil {
			return jsonrpc.ErrInvalidParams("the client's answer to %s is malformed: %v", method, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-ex.ctx.Done():
		return context.Cause(ex.ctx)
	}
}

// needsExchange reports whether a client request must be relayed through
// an exchange: a 2026-07-28 request that does not run as a task (a task
// can wait for its input; it gets it through the tasks extension).
func needsExchange(dreq *mcp.Request) bool {
	return dreq != nil && dreq.Session == nil && dreq.TaskID() == "" && isStatelessVersion(dreq.ProtocolVersion())
}

// exchangeKeys returns the exchange id named by the input keys of a
// client's request params, if any.
func exchangeOf(params jsontext.Value) (string, bool) {
	var p struct {
		InputResponses map[string]jsontext.Value `json:"inputResponses"`
	}
	if json.Unmarshal(params, &p) != nil {
		return "", false
	}
	for k := range p.InputResponses {
		if rest, ok := strings.CutPrefix(k, exchangeKeyPrefix); ok {
			id, _, _ := strings.Cut(rest, ".")
			return id, true
		}
	}
	return "", false
}

// exchangeCall relays one round of a 2026-07-28 client's request: it
// starts the upstream call, or gives the answers of this round to the
// call waiting for them, then returns the upstream's result or ends the
// round with the upstream's next questions (mcp.ErrInputRequired).
func (g *Gateway) exchangeCall(ctx context.Context, dreq *mcp.Request, u *upstream, method string, params jsontext.Value) (jsontext.Value, error) {
	var ex *exchange
	if id, ok := exchangeOf(dreq.Params); ok {
		if ex = g.exch.get(id); ex == nil || ex.u != u {
			return nil, jsonrpc.ErrInvalidParams("switchboard: the request these inputResponses answer is no longer held by this gateway (it expired, or another instance served it): call again without inputResponses and requestState")
		}
	}
	if ex == nil {
		ex = g.startExchange(u, method, params, dreq)
	}
	ex.cur.Store(dreq)

	// Answers of this round to the questions of earlier rounds; questions
	// it leaves unanswered are asked again.
	ex.mu.Lock()
	waiting := slices.Sorted(maps.Keys(ex.pending))
	ex.mu.Unlock()
	unanswered := protocol.InputRequests{}
	for _, key := range waiting {
		ex.mu.Lock()
		q := ex.pending[key]
		ex.mu.Unlock()
		if q == nil {
			continue
		}
		if !hasInput(dreq.Params, key) {
			unanswered[key] = protocol.InputRequest{Method: q.method, Params: q.params}
			continue
		}
		resp, err := dreq.Input(ctx, protocol.InputRequests{key: {Method: q.method, Params: q.params}})
		if errors.Is(err, mcp.ErrInputRequired) {
			return nil, err
		}
		if je := protocolErr(err); je != nil {
			ex.cancel(err)
			g.exch.remove(ex)
			return nil, je
		}
		ex.mu.Lock()
		delete(ex.pending, key)
		ex.mu.Unlock()
		if err != nil {
			q.answer <- answer{err: clientSideError(err, q.method)}
			continue
		}
		q.answer <- answer{raw: resp[key]}
	}
	if len(unanswered) > 0 {
		_, err := dreq.Input(ctx, unanswered)
		if errors.Is(err, mcp.ErrInputRequired) {
			return nil, err
		}
		if err == nil {
			err = errors.New("the questions were answered in an earlier round")
		}
		ex.cancel(err)
		g.exch.remove(ex)
		return nil, toolCallError(err)
	}

	for {
		select {
		case q := <-ex.questions:
			qs := []*question{q}
			t := time.NewTimer(collectWindow)
		collect:
			for {
				select {
				case q := <-ex.questions:
					qs = append(qs, q)
				case <-t.C:
					break collect
				}
			}
			t.Stop()
			if err := g.exch.register(ex); err != nil {
				for _, q := range qs {
					q.answer <- answer{err: err}
				}
				continue
			}
			reqs := protocol.InputRequests{}
			ex.mu.Lock()
			for _, q := range qs {
				reqs[q.key] = protocol.InputRequest{Method: q.method, Params: q.params}
				ex.pending[q.key] = q
			}
			ex.mu.Unlock()
			resps, err := dreq.Input(ctx, reqs)
			if errors.Is(err, mcp.ErrInputRequired) {
				return nil, err // the round ends; the exchange waits for the retry
			}
			if je := protocolErr(err); je != nil {
				// The client lacks what the question needs (a 2026-07-28
				// client gets -32021): its request ends with that error.
				ex.cancel(err)
				g.exch.remove(ex)
				return nil, je
			}
			// Answered at once (the client sent the answers already), or
			// the client cannot be asked: the upstream gets what there is.
			for _, q := range qs {
				ex.mu.Lock()
				delete(ex.pending, q.key)
				ex.mu.Unlock()
				if err != nil {
					q.answer <- answer{err: clientSideError(err, q.method)}
				} else {
					q.answer <- answer{raw: resps[q.key]}
				}
			}
		case <-ex.done:
			g.exch.remove(ex)
			return ex.result, ex.err
		case <-ctx.Done():
			ex.cancel(errors.New("the client cancelled its request"))
			g.exch.remove(ex)
			return nil, ctx.Err()
		}
	}
}

// protocolErr returns the protocol error err carries, if any.
func protocolErr(err error) *jsonrpc.Error {
	var je *jsonrpc.Error
	if errors.As(err, &je) {
		return je
	}
	return nil
}

// hasInput reports whether the params answer input key.
func hasInput(params jsontext.Value, key string) bool {
	var p struct {
		InputResponses map[string]jsontext.Value `json:"inputResponses"`
	}
	if json.Unmarshal(params, &p) != nil {
		return false
	}
	_, ok := p.InputResponses[key]
	return ok
}

// startExchange starts the upstream call of a new exchange.
func (g *Gateway) startExchange(u *upstream, method string, params jsontext.Value, first *mcp.Request) *exchange {
	ex := &exchange{
		id:        newExchangeID(),
		u:         u,
		questions: make(chan *question),
		done:      make(chan struct{}),
		pending:   map[string]*question{},
	}
	ex.ctx, ex.cancel = context.WithCancelCause(u.ctx)
	ex.cur.Store(first)
	go func() {
		defer close(ex.done)
		defer ex.cancel(nil)
		ctx, us, end, err := g.begin(ex.ctx, nil, u, ex, nil)
		if err != nil {
			ex.err = err
			return
		}
		defer end()
		if _, ok := first.Meta().ProgressToken(); ok {
			ctx = mcp.WithProgress(ctx, func(p *protocol.ProgressNotificationParams) {
				if d := ex.current(); d != nil {
					_ = d.Progress(ctx, p.Progress, p.Total, p.Message)
				}
			})
		}
		var raw jsontext.Value
		if err := us.cs.Call(ctx, method, params, &raw); err != nil {
			ex.err = toolCallError(g.relayError(ctx, u, method, err))
			return
		}
		ex.result = raw
	}()
	return ex
}
