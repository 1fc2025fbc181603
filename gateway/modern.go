package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Requests of revision 2026-07-28 clients, to upstreams that speak that
// revision too, are relayed as they are, statelessly: the upstream's
// input_required result goes to the client with the upstream's own input
// keys, and the upstream's requestState rides inside the gateway's own
// (mcp.Request.SetRequestState), so that the client's retry carries it
// back, to this gateway instance or any other. Upstreams that do not
// speak 2026-07-28 are bridged through an exchange (exchange.go).

// upstreamStateKey names the upstream's requestState and questions kept in
// the gateway's requestState.
const upstreamStateKey = "switchboard/upstream"

// maxRelayRounds bounds the rounds of one relayed request whose questions
// the client already answered (the upstream asked them again).
const maxRelayRounds = 8

type carriedState struct {
	State string                 `json:"s,omitzero"`
	Reqs  protocol.InputRequests `json:"r"`
}

// relayModern relays a request of a 2026-07-28 client.
func (g *Gateway) relayModern(ctx context.Context, dreq *mcp.Request, u *upstream, method string, params jsontext.Value) (jsontext.Value, error) {
	cs, err := u.modernSession(ctx)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return g.exchangeCall(ctx, dreq, u, method, params)
	}
	if v, ok := dreq.RequestState(upstreamStateKey); ok {
		var c carriedState
		if err := json.Unmarshal(v, &c); err != nil {
			return nil, fmt.Errorf("switchboard: the upstream's state in the requestState is malformed: %w", err)
		}
		answers, err := dreq.Input(ctx, c.Reqs)
		if err != nil {
			return nil, err // questions left unanswered: input_required again
		}
		if params, err = withInput(params, answers, c.State); err != nil {
			return nil, err
		}
	}
	ctx, _, end, err := g.begin(ctx, dreq, u, nil, &upstreamSession{cs: cs, shared: true, release: func() {}})
	if err != nil {
		return nil, err
	}
	defer end()
	ctx = mcp.WithInputRequiredResult(ctx)
	// The upstream sees what the client declared, so that it asks only for
	// what the client can give; tasks stay the gateway's (the request did
	// not ask for one).
	caps := *dreq.ClientCapabilities()
	if caps.Extensions != nil {
		caps.Extensions = maps.Clone(caps.Extensions)
		delete(caps.Extensions, protocol.ExtensionTasks)
	}
	level, _ := dreq.Meta().LogLevel()
	ctx = mcp.WithClientCapabilities(ctx, &caps, level)
	for range maxRelayRounds {
		var raw jsontext.Value
		if err := cs.Call(ctx, method, params, &raw); err != nil {
			return nil, toolCallError(g.relayError(ctx, u, method, err))
		}
		var peek struct {
			ResultType protocol.ResultType `json:"resultType"`
		}
		_ = json.Unmarshal(raw, &peek)
		if peek.ResultType != protocol.ResultTypeInputRequired {
			return raw, nil
		}
		var ir protocol.InputRequiredResult
		if err := json.Unmarshal(raw, &ir); err != nil {
			return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q sent a malformed input_required result: %v", u.spec.Name, err)}
		}
		b, err := json.Marshal(carriedState{State: ir.RequestState, Reqs: ir.InputRequests})
		if err != nil {
			return nil, err
		}
		if err := dreq.SetRequestState(upstreamStateKey, b); err != nil {
			return nil, err
		}
		answers, err := dreq.Input(ctx, ir.InputRequests)
		if err != nil {
			return nil, err // mcp.ErrInputRequired ends the round; -32021 the request
		}
		// Every question was answered in an earlier round: retry now.
		if params, err = withInput(params, answers, ir.RequestState); err != nil {
			return nil, err
		}
	}
	return nil, &upstreamError{upstream: u.spec.Name, msg: fmt.Sprintf("upstream %q kept asking for input already given (%d rounds)", u.spec.Name, maxRelayRounds)}
}

// withInput returns params with inputResponses and requestState set.
func withInput(params jsontext.Value, answers protocol.InputResponses, state string) (jsontext.Value, error) {
	var obj map[string]jsontext.Value
	if err := json.Unmarshal(params, &obj); err != nil {
		return nil, err
	}
	delete(obj, "inputResponses")
	delete(obj, "requestState")
	if len(answers) > 0 {
		b, err := json.Marshal(answers, json.Deterministic(true))
		if err != nil {
			return nil, err
		}
		obj["inputResponses"] = b
	}
	if state != "" {
		b, _ := json.Marshal(state)
		obj["requestState"] = b
	}
	return json.Marshal(obj, json.Deterministic(true))
}

// modernSession returns a session with u that speaks revision 2026-07-28,
// or nil when u does not offer it.
func (u *upstream) modernSession(ctx context.Context) (*mcp.ClientSession, error) {
	cs, err := u.shared(ctx)
	if err != nil {
		return nil, err
	}
	if cs.Stateless() {
		return cs, nil
	}
	u.mu.Lock()
	if u.noModern {
		u.mu.Unlock()
		return nil, nil
	}
	if m := u.modern; m != nil && m.Err() == nil {
		u.mu.Unlock()
		return m, nil
	}
	wait := u.modernDial
	if wait == nil {
		wait = make(chan struct{})
		u.modernDial = wait
		u.mu.Unlock()
		u.dialModern(wait)
	} else {
		u.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.modern == nil || u.modern.Err() != nil {
		return nil, nil
	}
	return u.modern, nil
}

// dialModern opens the 2026-07-28 session, or records that u does not
// offer the revision, then closes wait.
func (u *upstream) dialModern(wait chan struct{}) {
	defer close(wait)
	ctx, cancel := context.WithTimeout(u.ctx, u.connectTimeout)
	defer cancel()
	caps := allClientCaps
	o := u.g.clientOptions(u, nil, &caps)
	o.ProtocolVersion, o.DiscoverModern = protocol.Version20260728, false
	cs, err := mcp.NewClient(u.g.clientInfo(), o).Connect(ctx, u.dialer)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.modernDial = nil
	if err != nil {
		if !errors.Is(err, mcp.ErrNotModern) {
			u.log.Info("upstream does not speak revision 2026-07-28; its 2026-07-28 clients are bridged", "err", err)
		}
		u.noModern = true
		return
	}
	if old := u.modern; old != nil {
		go old.Close()
	}
	u.modern = cs
	if u.state == StateStopped {
		go cs.Close()
		u.modern = nil
	}
}
