package mcp_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// One test per item of the changelog of revision 2026-07-28 (the spec's
// docs/changelog.mdx), named after it, end to end over Streamable HTTP
// (httptest, the streamable handler and the everything demo server) and
// over stdio. docs/revisions.md maps every item to these tests.

// Major 7 (MRTR) and the design requirement "one handler": our client in
// 2026 mode calls test_elicitation and test_sampling, whose handlers call
// req.Elicit and req.CreateMessage, and gets the results through
// input_required round trips; a 2025-11-25 client calls the same handlers
// at the same time and gets them through server-initiated requests.
func TestChangelog_MRTR_OurClientElicitationAndSampling(t *testing.T) {
	for _, tr := range []string{"http", "stdio"} {
		t.Run(tr, func(t *testing.T) {
			srv := everything.NewServer(nil)
			var modern, legacy *mcp.ClientSession
			if tr == "http" {
				s := c26NewHTTP(t, srv, nil)
				modern = c26Client(t, streamable.NewDialer(s.ts.URL, nil), c26Handlers(&mcp.ClientOptions{ProtocolVersion: v26}))
				legacy = c26Client(t, streamable.NewDialer(s.ts.URL, nil), c26Handlers(&mcp.ClientOptions{ProtocolVersion: protocol.Version20251125}))
			} else {
				modern = c26Client(t, c26Pipe(t, srv), c26Handlers(&mcp.ClientOptions{ProtocolVersion: v26}))
				legacy = c26Client(t, c26Pipe(t, srv), c26Handlers(&mcp.ClientOptions{ProtocolVersion: protocol.Version20251125}))
			}
			if !modern.Stateless() || modern.ProtocolVersion() != v26 || legacy.Stateless() || legacy.ProtocolVersion() != protocol.Version20251125 {
				t.Fatalf("modern %v %s, legacy %v %s", modern.Stateless(), modern.ProtocolVersion(), legacy.Stateless(), legacy.ProtocolVersion())
			}
			if modern.SessionID() != "" {
				t.Errorf("a 2026-07-28 session has the session id %q", modern.SessionID())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			for _, cs := range []*mcp.ClientSession{modern, legacy} {
				for range 3 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						res, err := cs.CallToolArgs(ctx, "test_elicitation", map[string]any{"message": "who?"})
						if err != nil {
							t.Errorf("%s: test_elicitation: %v", cs.ProtocolVersion(), err)
							return
						}
						if got := c26Text(t, res); got != `User response: action=accept, content={"response":"answer-to-response"}` {
							t.Errorf("%s: test_elicitation = %q", cs.ProtocolVersion(), got)
						}
						res, err = cs.CallToolArgs(ctx, "test_sampling", map[string]any{"prompt": "hi"})
						if err != nil {
							t.Errorf("%s: test_sampling: %v", cs.ProtocolVersion(), err)
							return
						}
						if got := c26Text(t, res); got != "LLM response: sampled" {
							t.Errorf("%s: test_sampling = %q", cs.ProtocolVersion(), got)
						}
					}()
				}
			}
			wg.Wait()
		})
	}
}

func TestChangelog_ServerDiscover(t *testing.T) {
	s := c26NewHTTP(t, everything.NewServer(&mcp.ServerOptions{Instructions: "use the demo"}), nil)
	r := s.post(1, protocol.MethodServerDiscover, c26Params(nil, c26Meta(nil)), nil)
	if r.status != http.StatusOK || r.header.Get(streamable.HeaderSessionID) != "" {
		t.Fatalf("status %d, session id %q", r.status, r.header.Get(streamable.HeaderSessionID))
	}
	var res protocol.DiscoverResult
	raw := r.result(t, &res)
	info, ok := res.ServerInfo()
	if res.ResultType != protocol.ResultTypeComplete || !ok || info.Name != "switchboard-everything" ||
		!slices.Equal(res.SupportedVersions, append([]string{v26}, protocol.SupportedVersions...)) ||
		res.Capabilities.Tools == nil || res.Instructions != "use the demo" || res.TTLMs != mcp.DefaultListTTL.Milliseconds() || res.CacheScope != protocol.CacheScopePrivate {
		t.Errorf("discover = %s", raw)
	}
	if _, ok := res.Capabilities.Extensions[protocol.ExtensionTasks]; !ok {
		t.Errorf("the tasks extension is not advertised: %s", raw)
	}
}

// Major 1: no protocol-level sessions. Requests carry no Mcp-Session-Id and
// get none; a stray one is ignored; list endpoints do not vary per
// connection; and a multi round-trip request can hop between server
// instances that share the requestState key (no sticky load balancing).
func TestChangelog_RemoveSessions(t *testing.T) {
	s := c26NewHTTP(t, nil, nil)
	list := func(edit func(http.Header)) jsontext.Value {
		r := s.post(1, protocol.MethodToolsList, c26Params(nil, c26Meta(nil)), edit)
		if r.status != http.StatusOK || r.header.Get(streamable.HeaderSessionID) != "" {
			t.Fatalf("status %d, Mcp-Session-Id %q", r.status, r.header.Get(streamable.HeaderSessionID))
		}
		var res struct {
			Tools jsontext.Value `json:"tools"`
		}
		r.result(t, &res)
		return res.Tools
	}
	a := list(nil)
	b := list(func(h http.Header) { h.Set(streamable.HeaderSessionID, "not-a-session") })
	if string(a) != string(b) {
		t.Errorf("tools/list differs between two requests:\n%s\n%s", a, b)
	}
	if n := s.h.SessionCount(); n != 0 {
		t.Errorf("%d sessions after stateless requests", n)
	}

	// Two instances behind a (non-sticky) load balancer.
	key := []byte("0123456789abcdef0123456789abcdef")
	one := c26NewHTTP(t, everything.NewServer(&mcp.ServerOptions{RequestStateKey: key}), nil)
	two := c26NewHTTP(t, everything.NewServer(&mcp.ServerOptions{RequestStateKey: key}), nil)
	other := c26NewHTTP(t, everything.NewServer(nil), nil)
	call := map[string]any{"name": "test_input_required_result_multi_round", "arguments": map[string]any{}}
	caps := map[string]any{"elicitation": map[string]any{}}
	var r1 protocol.InputRequiredResult
	one.post(1, protocol.MethodToolsCall, c26Params(call, c26Meta(caps)), nil).result(t, &r1)
	retry := func(s *c26HTTP, state, key, field string) *c26Reply {
		m := map[string]any{"name": call["name"], "arguments": map[string]any{}, "requestState": state,
			"inputResponses": map[string]any{key: map[string]any{"action": "accept", "content": map[string]any{field: "x-" + key}}}}
		return s.post(2, protocol.MethodToolsCall, c26Params(m, c26Meta(caps)), nil)
	}
	var r2 protocol.InputRequiredResult
	retry(two, r1.RequestState, "step1", "name").result(t, &r2)
	if r2.ResultType != protocol.ResultTypeInputRequired || r2.InputRequests["step2"].Method != protocol.MethodElicitationCreate {
		t.Fatalf("round 2 on the other instance: %+v", r2)
	}
	var done protocol.CallToolResult
	retry(one, r2.RequestState, "step2", "color").result(t, &done)
	if got := c26Text(t, &done); got != "Multi-round complete for x-step1 who likes x-step2" {
		t.Errorf("round 3 back on the first instance: %q", got)
	}
	if r := retry(other, r1.RequestState, "step1", "name"); r.errCode(t) != jsonrpc.CodeInvalidParams || r.status != http.StatusBadRequest {
		t.Errorf("an instance with another key accepted the state: %s", r.body)
	}
}

// Major 2: no initialize handshake. Every request carries its version and
// capabilities in _meta (clientInfo is optional); results carry the
// server's identity; unsupported versions get UnsupportedProtocolVersion.
func TestChangelog_Stateless_PerRequestMeta(t *testing.T) {
	s := c26NewHTTP(t, nil, nil)
	noVersion := c26Meta(nil)
	delete(noVersion, protocol.MetaProtocolVersion)
	noCaps := c26Meta(nil)
	delete(noCaps, protocol.MetaClientCapabilities)
	noInfo := c26Meta(nil)
	delete(noInfo, protocol.MetaClientInfo)
	badLevel := c26Meta(nil)
	badLevel[protocol.MetaLogLevel] = "verbose"
	old := c26Meta(nil)
	old[protocol.MetaProtocolVersion] = "1900-01-01"
	tests := []struct {
		name   string
		meta   map[string]any
		header string // MCP-Protocol-Version, if not 2026-07-28
		status int
		code   int64
	}{
		{"missing _meta", nil, "", 400, jsonrpc.CodeInvalidParams},
		{"missing protocolVersion", noVersion, "", 400, jsonrpc.CodeInvalidParams},
		{"missing clientCapabilities", noCaps, "", 400, jsonrpc.CodeInvalidParams},
		{"invalid logLevel", badLevel, "", 400, jsonrpc.CodeInvalidParams},
		{"no clientInfo", noInfo, "", 200, 0},
		{"unsupported version", old, "1900-01-01", 400, protocol.CodeUnsupportedProtocolVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.post(101, protocol.MethodServerDiscover, c26Params(nil, tt.meta), func(h http.Header) {
				if tt.header != "" {
					h.Set(streamable.HeaderProtocolVersion, tt.header)
				}
			})
			if r.status != tt.status || r.errCode(t) != tt.code {
				t.Fatalf("status %d, code %d, want %d, %d: %s", r.status, r.errCode(t), tt.status, tt.code, r.body)
			}
			if resp := r.response(t); resp.ID != jsonrpc.Int64ID(101) {
				t.Errorf("error response id %v", resp.ID)
			}
			if tt.code == protocol.CodeUnsupportedProtocolVersion {
				d, ok := protocol.UnsupportedProtocolVersion(r.response(t).Error)
				if !ok || d.Requested != "1900-01-01" || !slices.Contains(d.Supported, v26) || !slices.Contains(d.Supported, protocol.Version20251125) {
					t.Errorf("error data %+v", d)
				}
			}
		})
	}
	// Identity in every result, over HTTP and stdio, with no handshake.
	var res struct {
		Meta protocol.Meta `json:"_meta"`
	}
	s.post(2, protocol.MethodToolsCall, c26Params(map[string]any{"name": "echo", "arguments": map[string]any{"text": "x"}}, c26Meta(nil)), nil).result(t, &res)
	if info, ok := res.Meta.ServerInfo(); !ok || info.Name != "switchboard-everything" {
		t.Errorf("serverInfo in a tools/call result: %+v", res.Meta)
	}
	p := c26NewRawPipe(t, everything.NewServer(nil))
	resp, _ := p.call(1, protocol.MethodToolsCall, c26Params(map[string]any{"name": "echo", "arguments": map[string]any{"text": "over stdio"}}, c26Meta(nil)))
	var cr protocol.CallToolResult
	if resp.Error != nil || json.Unmarshal(resp.Result, &cr) != nil || c26Text(t, &cr) != "over stdio" || cr.ResultType != protocol.ResultTypeComplete {
		t.Errorf("stdio request without initialize: %+v %s", resp.Error, resp.Result)
	}
	resp, _ = p.call(2, protocol.MethodToolsList, c26Params(nil, old))
	if resp.Error == nil || resp.Error.Code != protocol.CodeUnsupportedProtocolVersion {
		t.Errorf("stdio, unsupported version: %+v", resp.Error)
	}
}

// Major 3: server/discover over stdio before any initialize, and clients
// that probe with it and fall back to initialize on older servers.
func TestChangelog_ServerDiscover_StdioAndFallback(t *testing.T) {
	p := c26NewRawPipe(t, everything.NewServer(nil))
	resp, _ := p.call(1, protocol.MethodServerDiscover, c26Params(nil, c26Meta(nil)))
	var res protocol.DiscoverResult
	if resp.Error != nil || json.Unmarshal(resp.Result, &res) != nil || !slices.Contains(res.SupportedVersions, v26) {
		t.Fatalf("stdio discover: %+v %s", resp.Error, resp.Result)
	}
	// The same connection may still initialize (dual-era server).
	resp, _ = p.call(2, protocol.MethodInitialize, c26Params(map[string]any{"protocolVersion": protocol.Version20251125,
		"capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "c", "version": "1"}}, nil))
	if resp.Error != nil {
		t.Fatalf("initialize after discover: %v", resp.Error)
	}

	legacyOnly := func() *mcp.Server {
		return everything.NewServer(&mcp.ServerOptions{SupportedVersions: []string{protocol.Version20251125, protocol.Version20250618}})
	}
	tests := []struct {
		name     string
		dial     func(t *testing.T, srv *mcp.Server) *mcp.ClientSession
		srv      func() *mcp.Server
		modern   bool
		fallback string
	}{
		{"http dual-era", c26DialHTTP, func() *mcp.Server { return everything.NewServer(nil) }, true, ""},
		{"stdio dual-era", c26DialStdio, func() *mcp.Server { return everything.NewServer(nil) }, true, ""},
		{"http legacy-only", c26DialHTTP, legacyOnly, false, protocol.Version20251125},
		{"stdio legacy-only", c26DialStdio, legacyOnly, false, protocol.Version20251125},
		{"http pre-2026 transport", c26DialHTTPNoStateless, func() *mcp.Server { return everything.NewServer(nil) }, false, protocol.Version20251125},
		{"stdio pre-2026 server", c26DialStdioNoDiscover, func() *mcp.Server { return everything.NewServer(nil) }, false, protocol.Version20251125},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := tt.dial(t, tt.srv())
			if cs.Stateless() != tt.modern {
				t.Fatalf("Stateless() = %v, want %v (version %s)", cs.Stateless(), tt.modern, cs.ProtocolVersion())
			}
			if !tt.modern && cs.ProtocolVersion() != tt.fallback {
				t.Errorf("fell back to %s, want %s", cs.ProtocolVersion(), tt.fallback)
			}
			if tt.modern && (cs.DiscoverResult() == nil || cs.ServerInfo().Name != "switchboard-everything") {
				t.Errorf("discover %+v, server info %+v", cs.DiscoverResult(), cs.ServerInfo())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := cs.CallToolArgs(ctx, "echo", map[string]string{"text": "hi"})
			if err != nil || c26Text(t, res) != "hi" {
				t.Errorf("echo: %v %+v", err, res)
			}
		})
	}

	// A client that insists on 2026-07-28 against a server without it.
	s := c26NewHTTP(t, legacyOnly(), nil)
	_, err := mcp.NewClient(protocol.Implementation{Name: "c", Version: "1"}, &mcp.ClientOptions{ProtocolVersion: v26}).
		Connect(context.Background(), streamable.NewDialer(s.ts.URL, nil))
	if !errors.Is(err, mcp.ErrNotModern) {
		t.Errorf("modern-only client against a legacy-only server: %v", err)
	}
	// A legacy client against a modern-only server gets an error naming
	// the versions.
	m := c26NewHTTP(t, everything.NewServer(&mcp.ServerOptions{SupportedVersions: []string{v26}}), nil)
	_, err = mcp.NewClient(protocol.Implementation{Name: "c", Version: "1"}, nil).Connect(context.Background(), streamable.NewDialer(m.ts.URL, nil))
	if err == nil || !strings.Contains(err.Error(), v26) {
		t.Errorf("legacy client against a modern-only server: %v", err)
	}
}

// Major 4: subscriptions/listen replaces the GET stream and
// resources/subscribe.
func TestChangelog_SubscriptionsListen(t *testing.T) {
	srv := everything.NewServer(nil)
	s := c26NewHTTP(t, srv, nil)
	listen := func(id int64, f map[string]any) *c26Stream {
		return s.open(id, protocol.MethodSubscriptionsListen, c26Params(map[string]any{"notifications": f}, c26Meta(nil)))
	}
	tagged := func(t *testing.T, m jsonrpc.Message, method string, id int64) *jsonrpc.Request {
		t.Helper()
		n, ok := m.(*jsonrpc.Request)
		if !ok || n.Method != method {
			t.Fatalf("got %+v, want %s", m, method)
		}
		var p struct {
			Meta protocol.Meta `json:"_meta"`
		}
		_ = json.Unmarshal(n.Params, &p)
		if sid, ok := p.Meta.SubscriptionID(); !ok || sid != jsonrpc.Int64ID(id) {
			t.Errorf("%s: subscriptionId %v, want %d", method, p.Meta[protocol.MetaSubscriptionID], id)
		}
		return n
	}
	trigger := func(tool string) {
		s.post(99, protocol.MethodToolsCall, c26Params(map[string]any{"name": tool, "arguments": map[string]any{}}, c26Meta(nil)), nil).result(t, nil)
	}

	tools := listen(11, map[string]any{"toolsListChanged": true, "resourceSubscriptions": []string{everything.WatchedURI}})
	ack := tagged(t, tools.next(), protocol.NotificationSubscriptionsAcknowledged, 11)
	var ap protocol.SubscriptionsAcknowledgedNotificationParams
	if err := json.Unmarshal(ack.Params, &ap); err != nil || !ap.Notifications.ToolsListChanged || len(ap.Notifications.ResourceSubscriptions) != 1 || ap.Notifications.PromptsListChanged {
		t.Errorf("acknowledged filter %s", ack.Params)
	}
	prompts := listen(12, map[string]any{"promptsListChanged": true})
	tagged(t, prompts.next(), protocol.NotificationSubscriptionsAcknowledged, 12)

	trigger("test_trigger_tool_change")
	tagged(t, tools.next(), protocol.NotificationToolsListChanged, 11)
	prompts.none(200 * time.Millisecond) // not asked for
	trigger("test_trigger_prompt_change")
	tagged(t, prompts.next(), protocol.NotificationPromptsListChanged, 12)
	srv.ResourceUpdated(context.Background(), everything.WatchedURI)
	n := tagged(t, tools.next(), protocol.NotificationResourcesUpdated, 11)
	if !strings.Contains(string(n.Params), everything.WatchedURI) {
		t.Errorf("updated %s", n.Params)
	}
	srv.ResourceUpdated(context.Background(), "test://static-text") // not subscribed
	// Request-scoped notifications stay on their request's stream.
	r := s.post(98, protocol.MethodToolsCall, c26Params(map[string]any{"name": "test_tool_with_progress", "arguments": map[string]any{}},
		map[string]any{protocol.MetaProtocolVersion: v26, protocol.MetaClientCapabilities: map[string]any{}, "progressToken": "p1"}), nil)
	if len(r.notifications(protocol.NotificationProgress)) != 3 {
		t.Errorf("progress on the call's own stream: %s", r.body)
	}
	tools.none(200 * time.Millisecond)

	// The old ways are gone for 2026-07-28.
	get := s.do(http.MethodGet, c26Headers("", nil), nil)
	if get.status != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d", get.status)
	}
	if r := s.post(3, protocol.MethodResourcesSubscribe, c26Params(map[string]any{"uri": everything.WatchedURI}, c26Meta(nil)), nil); r.status != 404 || r.errCode(t) != jsonrpc.CodeMethodNotFound {
		t.Errorf("resources/subscribe answered %d %s", r.status, r.body)
	}

	// A server shutting down ends subscriptions with a result.
	srv.Close()
	end, ok := tools.next().(*jsonrpc.Response)
	if !ok || end.Error != nil || end.ID != jsonrpc.Int64ID(11) || !strings.Contains(string(end.Result), `"io.modelcontextprotocol/subscriptionId":11`) {
		t.Errorf("graceful end: %+v", end)
	}
}

// Major 4, client side: Listen, the automatic subscription for list-changed
// handlers, and Subscribe emulated with subscriptions/listen, over HTTP and
// stdio.
func TestChangelog_SubscriptionsListen_Client(t *testing.T) {
	for _, tr := range []string{"http", "stdio"} {
		t.Run(tr, func(t *testing.T) {
			srv := everything.NewServer(nil)
			toolsChanged := make(chan struct{}, 4)
			updated := make(chan string, 4)
			o := &mcp.ClientOptions{ProtocolVersion: v26,
				OnToolsListChanged: func(context.Context, *mcp.ClientSession) { toolsChanged <- struct{}{} },
				OnResourceUpdated: func(_ context.Context, _ *mcp.ClientSession, p *protocol.ResourceUpdatedNotificationParams) {
					updated <- p.URI
				},
			}
			var cs *mcp.ClientSession
			if tr == "http" {
				cs = c26Client(t, streamable.NewDialer(c26NewHTTP(t, srv, nil).ts.URL, nil), o)
			} else {
				cs = c26Client(t, c26Pipe(t, srv), o)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := cs.Subscribe(ctx, everything.WatchedURI); err != nil {
				t.Fatal(err)
			}
			if _, err := cs.CallToolArgs(ctx, "test_trigger_tool_change", nil); err != nil {
				t.Fatal(err)
			}
			recvWithin(t, toolsChanged, "tools list_changed")
			srv.ResourceUpdated(ctx, everything.WatchedURI)
			if got := recvWithin(t, updated, "resource update"); got != everything.WatchedURI {
				t.Errorf("updated %q", got)
			}
			if err := cs.Unsubscribe(ctx, everything.WatchedURI); err != nil {
				t.Fatal(err)
			}
			sub, err := cs.Listen(ctx, protocol.SubscriptionFilter{PromptsListChanged: true, ToolsListChanged: true})
			if err != nil {
				t.Fatal(err)
			}
			if ack := sub.Acknowledged(); !ack.PromptsListChanged || !ack.ToolsListChanged {
				t.Errorf("ack %+v", ack)
			}
			sub.Close()
			select {
			case <-sub.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("subscription did not end")
			}
			srv.ResourceUpdated(ctx, everything.WatchedURI)
			select {
			case u := <-updated:
				t.Errorf("update %q after Unsubscribe", u)
			case <-time.After(200 * time.Millisecond):
			}
		})
	}
}
