package gateway_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

type eventLog struct {
	mu     sync.Mutex
	events []*gateway.Event
}

func (l *eventLog) observe(_ context.Context, e *gateway.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) find(method, name string) []*gateway.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*gateway.Event
	for _, e := range l.events {
		if e.Method == method && (name == "" || e.Name == name) {
			out = append(out, e)
		}
	}
	return out
}

// Hooks.Authorize hides what it refuses from lists and refuses its use
// with an error naming the rule; Hooks.Observe sees one event per
// request, attributed to the upstream and original name, and the
// upstream's requests of the client.
func TestHooksPolicyAndEvents(t *testing.T) {
	var log eventLog
	hooks := gateway.Hooks{
		Identify: func(ctx context.Context, r *mcp.Request) *gateway.Identity {
			return &gateway.Identity{Subject: r.ClientInfo().Name, Method: "test"}
		},
		Authorize: func(ctx context.Context, a *gateway.Access) error {
			if a.Identity == nil || a.Identity.Subject == "" {
				return errors.New("no identity")
			}
			if a.Kind == "tool" && a.Original == "add" {
				return &gateway.Denial{Rule: "no-math", Reason: "arithmetic is not allowed here"}
			}
			if a.Kind == "resource" && strings.Contains(a.Original, "binary") {
				return &gateway.Denial{Rule: "text-only", Reason: "binary resources are off limits"}
			}
			return nil
		},
		Observe: []func(context.Context, *gateway.Event){log.observe},
	}
	_, url := newGateway(t, gateway.Options{Hooks: hooks, Upstreams: []gateway.Upstream{
		{Name: "a", Server: everything.NewServer(nil)},
		{Name: "b", Server: everything.NewServer(nil)},
	}})
	cs := connect(t, url, &mcp.ClientOptions{Elicit: func(context.Context, *mcp.ClientSession, *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
		return &protocol.ElicitResult{Action: protocol.ElicitActionDecline}, nil
	}})

	names := toolNames(t, cs)
	if slices.Contains(names, "a_add") || slices.Contains(names, "b_add") || !slices.Contains(names, "a_echo") {
		t.Errorf("tools/list under the policy: %v", names)
	}
	_, err := cs.CallToolArgs(ctxT(t), "a_add", map[string]any{"a": 1, "b": 2})
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != gateway.CodeDenied || !strings.Contains(je.Message, `"no-math"`) || !strings.Contains(je.Message, "arithmetic") {
		t.Errorf("a denied call: %v", err)
	}
	for r, err := range cs.Resources(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.URI, "binary") {
			t.Errorf("a denied resource is listed: %s", r.URI)
		}
	}
	if _, err := cs.ReadResource(ctxT(t), "test://b/static-binary"); !errors.As(err, &je) || je.Code != gateway.CodeDenied {
		t.Errorf("a denied read: %v", err)
	}
	if _, err := cs.CallToolArgs(ctxT(t), "b_echo", map[string]any{"text": "ok"}); err != nil {
		t.Fatal(err)
	}
	if res, err := cs.CallToolArgs(ctxT(t), "b_test_error_handling", nil); err != nil || !res.IsError {
		t.Fatalf("tool error: %v %v", res, err)
	}
	if _, err := cs.CallToolArgs(ctxT(t), "a_test_elicitation", map[string]any{"message": "ok?"}); err != nil {
		t.Fatal(err)
	}

	check := func(what string, e *gateway.Event, upstream, original string, outcome gateway.Outcome) {
		t.Helper()
		if e.Kind != gateway.KindRequest || e.Upstream != upstream || e.Original != original || e.Outcome != outcome ||
			e.Identity == nil || e.Identity.Subject != "test-client" || e.Session == "" || e.ProtocolVersion == "" || e.Duration <= 0 {
			t.Errorf("%s event: %+v (identity %+v)", what, e, e.Identity)
		}
	}
	if ev := log.find(protocol.MethodToolsCall, "a_add"); len(ev) != 1 {
		t.Errorf("events for the denied call: %d", len(ev))
	} else {
		check("denied call", ev[0], "a", "add", gateway.OutcomeDenied)
		if ev[0].Denial == nil || ev[0].Denial.Rule != "no-math" || ev[0].Error == nil || ev[0].Error.Code != gateway.CodeDenied {
			t.Errorf("denial: %+v %+v", ev[0].Denial, ev[0].Error)
		}
	}
	if ev := log.find(protocol.MethodToolsCall, "b_echo"); len(ev) != 1 {
		t.Errorf("events for b_echo: %d", len(ev))
	} else {
		check("call", ev[0], "b", "echo", gateway.OutcomeOK)
		if !strings.Contains(string(ev[0].Params), `"text":"ok"`) || !strings.Contains(string(ev[0].Result), "ok") {
			t.Errorf("params %s result %s", ev[0].Params, ev[0].Result)
		}
	}
	if ev := log.find(protocol.MethodToolsCall, "b_test_error_handling"); len(ev) != 1 {
		t.Errorf("events for the tool error: %d", len(ev))
	} else {
		check("tool error", ev[0], "b", "test_error_handling", gateway.OutcomeToolError)
	}
	if ev := log.find(protocol.MethodResourcesRead, "test://b/static-binary"); len(ev) != 1 || ev[0].Outcome != gateway.OutcomeDenied {
		t.Errorf("events for the denied read: %+v", ev)
	}
	up := log.find(protocol.MethodElicitationCreate, "")
	if len(up) != 1 || up[0].Kind != gateway.KindUpstreamRequest || up[0].Upstream != "a" || !strings.Contains(string(up[0].Result), `"decline"`) ||
		up[0].Identity == nil || up[0].Identity.Subject != "test-client" {
		t.Errorf("elicitation events: %d %+v", len(up), up[0])
	}
	if ev := log.find(protocol.MethodToolsList, ""); len(ev) == 0 || ev[0].Upstream != "" || ev[0].Outcome != gateway.OutcomeOK {
		t.Errorf("tools/list events: %+v", ev)
	}
}
