package mcp_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// blockingTool registers a tool that signals started and then waits for
// its context to end (or release to close), recording the context error.
type blockingTool struct {
	started chan jsonrpc.ID
	release chan struct{}
	ctxErr  chan error
	result  func(ctx context.Context) (*protocol.CallToolResult, error)
}

func addBlockingTool(srv *mcp.Server, name string) *blockingTool {
	b := &blockingTool{started: make(chan jsonrpc.ID, 16), release: make(chan struct{}), ctxErr: make(chan error, 16)}
	srv.AddTool(&protocol.Tool{Name: name}, func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		b.started <- req.ID
		select {
		case <-ctx.Done():
			b.ctxErr <- ctx.Err()
			if b.result != nil {
				return b.result(ctx)
			}
			return nil, ctx.Err()
		case <-b.release:
			b.ctxErr <- nil
			return mcp.TextResult("released"), nil
		}
	})
	return b
}

func recvWithin[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testWait):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func TestCancellation(t *testing.T) {
	tests := []struct {
		name string
		// result is what the handler returns after its context ends.
		result func(ctx context.Context) (*protocol.CallToolResult, error)
	}{
		{name: "handler returns the context error"},
		{name: "handler returns a wrapped context error", result: func(ctx context.Context) (*protocol.CallToolResult, error) {
			return nil, errors.Join(errors.New("stopped"), ctx.Err())
		}},
		{name: "handler ignores cancellation and returns a result", result: func(ctx context.Context) (*protocol.CallToolResult, error) {
			return mcp.TextResult("too late"), nil
		}},
		{name: "handler returns an unrelated error", result: func(ctx context.Context) (*protocol.CallToolResult, error) {
			return nil, errors.New("something else")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSrv(nil)
			b := addBlockingTool(srv, "block")
			b.result = tt.result
			h := newSessHarness(t, srv)
			h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

			done := make(chan []byte, 1)
			go func() {
				raw, _ := h.roundTrip(context.Background(), jsonrpc.StringID("req-1"), protocol.MethodToolsCall, `{"name":"block"}`)
				done <- raw
			}()
			recvWithin(t, b.started, "the tool to start")
			h.notify(protocol.NotificationCancelled, `{"requestId":"req-1","reason":"user pressed stop"}`)
			if err := recvWithin(t, b.ctxErr, "the handler's context to end"); !errors.Is(err, context.Canceled) {
				t.Errorf("handler context error = %v, want Canceled", err)
			}
			if raw := recvWithin(t, done, "HandleRequest to return"); raw != nil {
				t.Errorf("a cancelled request was answered: %s", raw)
			}
			// The session goes on.
			h.mustCall(protocol.MethodPing, nil, nil)
		})
	}
}

func TestCancellationTargetsTheRightRequest(t *testing.T) {
	srv := newSrv(nil)
	b := addBlockingTool(srv, "block")
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	done := make(chan []byte, 1)
	go func() {
		raw, _ := h.roundTrip(context.Background(), jsonrpc.Int64ID(5), protocol.MethodToolsCall, `{"name":"block"}`)
		done <- raw
	}()
	recvWithin(t, b.started, "the tool to start")

	// Cancellations that do not name this request are ignored: a string id
	// "5" is not the integer 5; unknown ids and malformed params are harmless.
	for _, p := range []string{`{"requestId":"5"}`, `{"requestId":6}`, `{"requestId":{"x":1}}`, `{}`, `[]`, `{"reason":"no id"}`} {
		h.notify(protocol.NotificationCancelled, p)
	}
	select {
	case err := <-b.ctxErr:
		t.Fatalf("the request was cancelled by a notification for another id (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release)
	raw := recvWithin(t, done, "the response")
	if resp := mustDecodeResponse(t, raw); resp.Error != nil || resp.ID != jsonrpc.Int64ID(5) {
		t.Fatalf("response %s", raw)
	}
	// Cancelling a completed request is ignored.
	h.notify(protocol.NotificationCancelled, `{"requestId":5}`)
	h.mustCall(protocol.MethodPing, nil, nil)
}

func TestSessionCloseCancelsRequests(t *testing.T) {
	srv := newSrv(nil)
	b := addBlockingTool(srv, "block")
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	done := make(chan []byte, 1)
	go func() {
		raw, _ := h.roundTrip(context.Background(), jsonrpc.Int64ID(1), protocol.MethodToolsCall, `{"name":"block"}`)
		done <- raw
	}()
	recvWithin(t, b.started, "the tool to start")
	h.ss.Close()
	if err := recvWithin(t, b.ctxErr, "cancellation"); !errors.Is(err, context.Canceled) {
		t.Errorf("context error %v", err)
	}
	raw := recvWithin(t, done, "HandleRequest to return")
	if raw != nil && !jsontext.Value(raw).IsValid() {
		t.Errorf("invalid response %q", raw)
	}
}

func TestProgress(t *testing.T) {
	srv := newSrv(nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "work"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		for i := 1; i <= 3; i++ {
			if err := req.Progress(ctx, float64(i), 3, "step"); err != nil {
				return "", err
			}
		}
		return "done", nil
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	for _, token := range []string{`"tok-1"`, `42`, `""`, `-1`} {
		resp, sink := h.request(protocol.MethodToolsCall, `{"name":"work","_meta":{"progressToken":`+token+`}}`)
		if resp.Error != nil {
			t.Fatal(resp.Error)
		}
		notes := sink.requests(protocol.NotificationProgress)
		if len(notes) != 3 {
			t.Fatalf("token %s: %d progress notifications, want 3", token, len(notes))
		}
		for i, n := range notes {
			var p struct {
				ProgressToken jsontext.Value `json:"progressToken"`
				Progress      float64        `json:"progress"`
				Total         float64        `json:"total"`
				Message       string         `json:"message"`
			}
			if err := json.Unmarshal(n.Params, &p); err != nil {
				t.Fatal(err)
			}
			if string(p.ProgressToken) != token || p.Progress != float64(i+1) || p.Total != 3 || p.Message != "step" {
				t.Errorf("token %s: notification %d = %s", token, i, n.Params)
			}
		}
		if len(h.out.requests(protocol.NotificationProgress)) != 0 {
			t.Errorf("progress went to the standalone stream instead of the request's")
		}
	}
	// Without a token, no progress is sent.
	resp, sink := h.request(protocol.MethodToolsCall, `{"name":"work"}`)
	if resp.Error != nil || len(sink.all()) != 0 {
		t.Errorf("without a progress token: %v, %d messages", resp.Error, len(sink.all()))
	}
}

func TestLoggingLevels(t *testing.T) {
	srv := newSrv(nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "log"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		for _, l := range []protocol.LoggingLevel{protocol.LoggingLevelDebug, protocol.LoggingLevelInfo, protocol.LoggingLevelWarning, protocol.LoggingLevelError, protocol.LoggingLevelEmergency} {
			if err := req.Log(ctx, l, "comp", map[string]any{"level": string(l)}); err != nil {
				return "", err
			}
		}
		return "", nil
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	levels := func(sink *frameSink) string {
		var out []string
		for _, n := range sink.requests(protocol.NotificationMessage) {
			p := decodeParamsAs[protocol.LoggingMessageNotificationParams](t, n)
			if p.Logger != "comp" {
				t.Errorf("logger = %q", p.Logger)
			}
			out = append(out, string(p.Level))
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		setLevel string // "" sends no setLevel
		want     string
	}{
		{"", "debug,info,warning,error,emergency"},
		{"warning", "warning,error,emergency"},
		{"emergency", "emergency"},
		{"debug", "debug,info,warning,error,emergency"},
		{"notice", "warning,error,emergency"},
	}
	for _, tt := range tests {
		if tt.setLevel != "" {
			h.mustCall(protocol.MethodLoggingSetLevel, &protocol.SetLevelRequestParams{Level: protocol.LoggingLevel(tt.setLevel)}, nil)
		}
		_, sink := h.request(protocol.MethodToolsCall, `{"name":"log"}`)
		if got := levels(sink); got != tt.want {
			t.Errorf("after setLevel %q: sent %s, want %s", tt.setLevel, got, tt.want)
		}
	}
	if err := h.call(protocol.MethodLoggingSetLevel, `{"level":"verbose"}`, nil); err == nil || err.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("unknown level: %v", err)
	}
	// Session-level logging goes to the standalone stream, filtered alike.
	h.ss.Log(context.Background(), protocol.LoggingLevelInfo, "s", "dropped")
	h.ss.Log(context.Background(), protocol.LoggingLevelCritical, "s", "kept")
	msgs := h.out.requests(protocol.NotificationMessage)
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Params), `"kept"`) {
		t.Errorf("standalone log messages: %s", describeMsgs(h.out.all()))
	}
}

func TestSlogHandler(t *testing.T) {
	srv := newSrv(nil)
	// The handler is built before any session exists: records go to the
	// client of the request whose context they are logged with.
	logger := slog.New(mcp.NewLogHandler(nil, &mcp.LogHandlerOptions{Logger: "app"}))
	mcp.AddTool(srv, &protocol.Tool{Name: "work"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		if mcp.RequestFromContext(ctx) != req {
			return "", errors.New("RequestFromContext does not return the request being served")
		}
		logger.With("user", "ann").WithGroup("job").InfoContext(ctx, "started", "id", 7, "err", errors.New("boom"), "took", 1500*time.Millisecond)
		logger.DebugContext(ctx, "details")
		logger.WarnContext(context.Background(), "no request: dropped")
		return "ok", nil
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	h.mustCall(protocol.MethodLoggingSetLevel, `{"level":"info"}`, nil)

	resp, sink := h.request(protocol.MethodToolsCall, `{"name":"work"}`)
	var res protocol.CallToolResult
	if resp.Error != nil || json.Unmarshal(resp.Result, &res, protocol.UnionUnmarshalers) != nil || res.IsError {
		t.Fatalf("tool failed: %s %v", resp.Result, resp.Error)
	}
	msgs := sink.requests(protocol.NotificationMessage)
	if len(msgs) != 1 {
		t.Fatalf("got %d log notifications on the request's stream, want 1 (info passes, debug is filtered): %s", len(msgs), describeMsgs(sink.all()))
	}
	var p struct {
		Level  string         `json:"level"`
		Logger string         `json:"logger"`
		Data   jsontext.Value `json:"data"`
	}
	if err := json.Unmarshal(msgs[0].Params, &p); err != nil {
		t.Fatal(err)
	}
	var data any
	json.Unmarshal(p.Data, &data)
	got, _ := json.Marshal(data, json.Deterministic(true))
	if p.Level != "info" || p.Logger != "app" || string(got) != `{"job":{"err":"boom","id":7,"took":"1.5s"},"message":"started","user":"ann"}` {
		t.Errorf("log notification %s (data %s)", msgs[0].Params, got)
	}
	if n := len(h.out.requests(protocol.NotificationMessage)); n != 0 {
		t.Errorf("%d records without a request went to the standalone stream of a session-less handler", n)
	}

	// A handler bound to a session sends records without a request there.
	slog.New(mcp.NewLogHandler(h.ss, &mcp.LogHandlerOptions{Level: slog.LevelWarn})).Info("below the handler's level")
	slog.New(mcp.NewLogHandler(h.ss, &mcp.LogHandlerOptions{Level: slog.LevelWarn})).Error("session-wide")
	msgs = h.out.requests(protocol.NotificationMessage)
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Params), `"session-wide"`) || !strings.Contains(string(msgs[0].Params), `"error"`) {
		t.Errorf("session log handler: %s", describeMsgs(h.out.all()))
	}
}

// samplingClient answers sampling/createMessage with a fixed reply.
func samplingClient(t *testing.T, h *sessHarness, seen chan<- *protocol.CreateMessageRequestParams) clientAnswer {
	return func(req *jsonrpc.Request) *jsonrpc.Response {
		if req.Method != protocol.MethodSamplingCreateMessage {
			return &jsonrpc.Response{ID: req.ID, Error: jsonrpc.ErrMethodNotFound(req.Method)}
		}
		seen <- decodeParamsAs[protocol.CreateMessageRequestParams](t, req)
		return answerWith(t, req.ID, &protocol.CreateMessageResult{
			Role: protocol.RoleAssistant, Model: "test-model",
			Content: []protocol.SamplingContent{&protocol.TextContent{Text: "the answer is 4"}},
		})
	}
}

func addSamplingTool(srv *mcp.Server, withTools bool) {
	mcp.AddTool(srv, &protocol.Tool{Name: "ask"}, func(ctx context.Context, req *mcp.Request, in struct {
		TimeoutMS int `json:"timeoutMs,omitzero"`
	}) (string, error) {
		if in.TimeoutMS > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(in.TimeoutMS)*time.Millisecond)
			defer cancel()
		}
		p := &protocol.CreateMessageRequestParams{
			Messages:  []protocol.SamplingMessage{{Role: protocol.RoleUser, Content: []protocol.SamplingContent{&protocol.TextContent{Text: "2+2?"}}}},
			MaxTokens: 10,
		}
		if withTools {
			p.Tools = []protocol.Tool{{Name: "calculator", InputSchema: jsontext.Value(`{"type":"object"}`)}}
			p.ToolChoice = &protocol.ToolChoice{Mode: protocol.ToolChoiceAuto}
		}
		res, err := req.CreateMessage(ctx, p)
		if err != nil {
			return "", err
		}
		return res.Model + ": " + res.Content[0].(*protocol.TextContent).Text, nil
	})
}

func TestSampling(t *testing.T) {
	withSampling := protocol.ClientCapabilities{Sampling: &protocol.SamplingCapability{}}
	withSamplingTools := protocol.ClientCapabilities{Sampling: &protocol.SamplingCapability{Tools: &protocol.EmptyCapability{}}}
	rejecting := func(req *jsonrpc.Request) *jsonrpc.Response {
		return &jsonrpc.Response{ID: req.ID, Error: &jsonrpc.Error{Code: -1, Message: "User rejected sampling request"}}
	}
	tests := []struct {
		name      string
		caps      protocol.ClientCapabilities
		withTools bool
		answer    string // "ok", "error", "never"
		args      string
		wantText  string // substring of the tool's text
		wantError bool   // isError result expected
	}{
		{name: "answered", caps: withSampling, answer: "ok", wantText: "test-model: the answer is 4"},
		{name: "with tools", caps: withSamplingTools, withTools: true, answer: "ok", wantText: "test-model: the answer is 4"},
		{name: "tools without the capability", caps: withSampling, withTools: true, answer: "ok", wantText: "tool use in sampling", wantError: true},
		{name: "client errors", caps: withSampling, answer: "error", wantText: "User rejected", wantError: true},
		{name: "client never answers", caps: withSampling, answer: "never", args: `{"timeoutMs":100}`, wantText: "deadline", wantError: true},
		{name: "capability not declared", caps: protocol.ClientCapabilities{}, answer: "ok", wantText: "sampling", wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSrv(nil)
			addSamplingTool(srv, tt.withTools)
			h := newSessHarness(t, srv)
			h.initialize(protocol.LatestVersion, tt.caps)
			seen := make(chan *protocol.CreateMessageRequestParams, 1)
			switch tt.answer {
			case "ok":
				h.setAnswer(samplingClient(t, h, seen))
			case "error":
				h.setAnswer(rejecting)
			}
			args := tt.args
			if args == "" {
				args = "{}"
			}
			resp, sink := h.request(protocol.MethodToolsCall, `{"name":"ask","arguments":`+args+`}`)
			if resp.Error != nil {
				t.Fatalf("tools/call failed with a protocol error %v; a failed server-to-client request is a tool error", resp.Error)
			}
			var res protocol.CallToolResult
			if err := json.Unmarshal(resp.Result, &res, protocol.UnionUnmarshalers); err != nil {
				t.Fatal(err)
			}
			if res.IsError != tt.wantError || !strings.Contains(firstText(t, &res), tt.wantText) {
				t.Errorf("result isError=%v %q, want isError=%v containing %q", res.IsError, firstText(t, &res), tt.wantError, tt.wantText)
			}
			reqs := sink.requests(protocol.MethodSamplingCreateMessage)
			if tt.caps.Sampling == nil || (tt.withTools && tt.caps.Sampling.Tools == nil) {
				if len(reqs) != 0 {
					t.Errorf("sampling request sent to a client without the capability")
				}
				if !strings.Contains(firstText(t, &res), "capability") {
					t.Errorf("error does not name the missing capability: %q", firstText(t, &res))
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("%d sampling requests on the request's stream", len(reqs))
			}
			if tt.answer == "ok" {
				p := <-seen
				if p.MaxTokens != 10 || len(p.Messages) != 1 {
					t.Errorf("sampling params %+v", p)
				}
				if tt.withTools && (len(p.Tools) != 1 || p.ToolChoice == nil || p.ToolChoice.Mode != protocol.ToolChoiceAuto) {
					t.Errorf("tools/toolChoice not sent: %s", reqs[0].Params)
				}
			}
			if tt.answer == "never" {
				// The server tells the client to stop working on it.
				c := sink.waitMethod(protocol.NotificationCancelled)
				cp := decodeParamsAs[protocol.CancelledNotificationParams](t, c)
				if cp.RequestID != reqs[0].ID {
					t.Errorf("cancelled %v, want the sampling request %v", cp.RequestID, reqs[0].ID)
				}
				// A late answer is dropped without harm.
				h.ss.HandleResponse(answerWith(t, reqs[0].ID, map[string]any{}))
			}
		})
	}
}

func TestElicitation(t *testing.T) {
	formCaps := protocol.ClientCapabilities{Elicitation: &protocol.ElicitationCapability{Form: &protocol.EmptyCapability{}}}
	legacyCaps := protocol.ClientCapabilities{Elicitation: &protocol.ElicitationCapability{}}
	urlCaps := protocol.ClientCapabilities{Elicitation: &protocol.ElicitationCapability{URL: &protocol.EmptyCapability{}}}

	srv := newSrv(nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "form"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{
			Message: "Your name?",
			RequestedSchema: &protocol.ElicitSchema{
				Properties: map[string]protocol.PrimitiveSchema{"name": &protocol.StringSchema{}},
				Required:   []string{"name"},
			},
		})
		if err != nil {
			return "", err
		}
		b, _ := json.Marshal(res.Content)
		return string(res.Action) + " " + string(b), nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "url"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{
			Mode: protocol.ElicitModeURL, Message: "Sign in", URL: "https://example.com/login", ElicitationID: "el-1",
		})
		if err != nil {
			return "", err
		}
		return string(res.Action), nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "needs-auth"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		return "", protocol.NewURLElicitationRequiredError("authorization required",
			protocol.ElicitRequestParams{Message: "Authorize", URL: "https://example.com/oauth", ElicitationID: "el-2"})
	})

	accept := func(t *testing.T) clientAnswer {
		return func(req *jsonrpc.Request) *jsonrpc.Response {
			p := decodeParamsAs[protocol.ElicitRequestParams](t, req)
			if p.Mode == protocol.ElicitModeURL {
				return answerWith(t, req.ID, &protocol.ElicitResult{Action: protocol.ElicitActionAccept})
			}
			return answerWith(t, req.ID, map[string]any{"action": "accept", "content": map[string]any{"name": "Ann"}})
		}
	}
	tests := []struct {
		name      string
		caps      protocol.ClientCapabilities
		version   string
		tool      string
		wantText  string
		wantError bool
	}{
		{name: "form", caps: formCaps, tool: "form", wantText: `accept {"name":"Ann"}`},
		{name: "form with a 2025-06-18 capability", caps: legacyCaps, version: "2025-06-18", tool: "form", wantText: `accept {"name":"Ann"}`},
		{name: "form not declared", caps: urlCaps, tool: "form", wantText: "form mode", wantError: true},
		{name: "no elicitation at all", caps: protocol.ClientCapabilities{}, tool: "form", wantText: "elicitation", wantError: true},
		{name: "url", caps: urlCaps, tool: "url", wantText: "accept"},
		{name: "url not declared", caps: formCaps, tool: "url", wantText: "URL mode", wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSessHarness(t, srv)
			v := tt.version
			if v == "" {
				v = protocol.LatestVersion
			}
			h.initialize(v, tt.caps)
			h.setAnswer(accept(t))
			resp, sink := h.request(protocol.MethodToolsCall, map[string]any{"name": tt.tool})
			if resp.Error != nil {
				t.Fatal(resp.Error)
			}
			var res protocol.CallToolResult
			json.Unmarshal(resp.Result, &res, protocol.UnionUnmarshalers)
			if res.IsError != tt.wantError || !strings.Contains(firstText(t, &res), tt.wantText) {
				t.Errorf("isError=%v %q, want isError=%v containing %q", res.IsError, firstText(t, &res), tt.wantError, tt.wantText)
			}
			reqs := sink.requests(protocol.MethodElicitationCreate)
			if tt.wantError && len(reqs) != 0 {
				t.Errorf("elicitation sent to a client without the capability")
			}
			if tt.tool == "url" && !tt.wantError {
				p := decodeParamsAs[protocol.ElicitRequestParams](t, reqs[0])
				if p.Mode != protocol.ElicitModeURL || p.URL != "https://example.com/login" || p.ElicitationID != "el-1" {
					t.Errorf("url elicitation params %s", reqs[0].Params)
				}
			}
		})
	}

	t.Run("url required error and completion", func(t *testing.T) {
		h := newSessHarness(t, srv)
		h.initialize(protocol.LatestVersion, urlCaps)
		resp, _ := h.request(protocol.MethodToolsCall, `{"name":"needs-auth"}`)
		if resp.Error == nil || resp.Error.Code != protocol.CodeURLElicitationRequired {
			t.Fatalf("want a -32042 error, got %s %v", resp.Result, resp.Error)
		}
		d, ok := protocol.URLElicitationRequired(resp.Error)
		if !ok || len(d.Elicitations) != 1 || d.Elicitations[0].Mode != protocol.ElicitModeURL || d.Elicitations[0].ElicitationID != "el-2" {
			t.Errorf("error data %s", resp.Error.Data)
		}
		// Once the user is done out of band, the server says so.
		if err := h.ss.CompleteElicitation(context.Background(), "el-2"); err != nil {
			t.Fatal(err)
		}
		n := h.out.waitMethod(protocol.NotificationElicitationComplete)
		if string(n.Params) != `{"elicitationId":"el-2"}` {
			t.Errorf("elicitation/complete params %s", n.Params)
		}
	})
}

func TestRoots(t *testing.T) {
	var changed atomic.Int32
	srv := newSrv(&mcp.ServerOptions{OnRootsListChanged: func(ctx context.Context, ss *mcp.ServerSession) { changed.Add(1) }})
	mcp.AddTool(srv, &protocol.Tool{Name: "roots"}, func(ctx context.Context, req *mcp.Request, in struct {
		TimeoutMS int `json:"timeoutMs,omitzero"`
	}) (string, error) {
		if in.TimeoutMS > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(in.TimeoutMS)*time.Millisecond)
			defer cancel()
		}
		res, err := req.ListRoots(ctx)
		if err != nil {
			return "", err
		}
		var uris []string
		for _, r := range res.Roots {
			uris = append(uris, r.URI)
		}
		return strings.Join(uris, " "), nil
	})
	rootsCaps := protocol.ClientCapabilities{Roots: &protocol.RootsCapability{ListChanged: true}}
	answers := map[string]clientAnswer{
		"ok": func(req *jsonrpc.Request) *jsonrpc.Response {
			return answerWith(t, req.ID, map[string]any{"roots": []map[string]string{{"uri": "file:///a", "name": "a"}, {"uri": "file:///b"}}})
		},
		"error": func(req *jsonrpc.Request) *jsonrpc.Response {
			return &jsonrpc.Response{ID: req.ID, Error: &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "roots unavailable"}}
		},
		"garbage": func(req *jsonrpc.Request) *jsonrpc.Response {
			return &jsonrpc.Response{ID: req.ID, Result: jsontext.Value(`{"roots":"not a list"}`)}
		},
		"never": nil,
	}
	tests := []struct {
		name, answer, args string
		caps               protocol.ClientCapabilities
		want               string
		wantError          bool
	}{
		{name: "answered", answer: "ok", caps: rootsCaps, want: "file:///a file:///b"},
		{name: "client errors", answer: "error", caps: rootsCaps, want: "roots unavailable", wantError: true},
		{name: "malformed answer", answer: "garbage", caps: rootsCaps, want: "roots/list", wantError: true},
		{name: "never answers", answer: "never", caps: rootsCaps, args: `{"timeoutMs":80}`, want: "deadline", wantError: true},
		{name: "not declared", answer: "ok", want: "roots", wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSessHarness(t, srv)
			h.initialize(protocol.LatestVersion, tt.caps)
			h.setAnswer(answers[tt.answer])
			args := tt.args
			if args == "" {
				args = "{}"
			}
			res, perr := h.callTool("roots", args)
			if perr != nil {
				t.Fatalf("protocol error %v", perr)
			}
			if res.IsError != tt.wantError || !strings.Contains(firstText(t, res), tt.want) {
				t.Errorf("isError=%v %q, want isError=%v containing %q", res.IsError, firstText(t, res), tt.wantError, tt.want)
			}
		})
	}

	t.Run("session level and list_changed", func(t *testing.T) {
		h := newSessHarness(t, srv)
		h.initialize(protocol.LatestVersion, rootsCaps)
		h.setAnswer(answers["ok"])
		res, err := h.ss.ListRoots(context.Background())
		if err != nil || len(res.Roots) != 2 {
			t.Fatalf("ListRoots: %v %+v", err, res)
		}
		if len(h.out.requests(protocol.MethodRootsList)) != 1 {
			t.Errorf("session-level roots/list not sent on the standalone stream")
		}
		before := changed.Load()
		h.notify(protocol.NotificationRootsListChanged, nil)
		if changed.Load() != before+1 {
			t.Errorf("OnRootsListChanged not called")
		}
		// Ping from the server.
		if err := h.ss.Ping(context.Background()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

func TestServerRequestsOnClosedSession(t *testing.T) {
	srv := newSrv(nil)
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{Roots: &protocol.RootsCapability{}, Sampling: &protocol.SamplingCapability{}})
	// The client never answers; Close must release the waiting call.
	errc := make(chan error, 1)
	go func() {
		_, err := h.ss.ListRoots(context.Background())
		errc <- err
	}()
	h.out.waitMethod(protocol.MethodRootsList)
	h.ss.Close()
	if err := recvWithin(t, errc, "ListRoots to fail"); err == nil {
		t.Fatal("ListRoots succeeded on a closed session")
	}
	if _, err := h.ss.CreateMessage(context.Background(), &protocol.CreateMessageRequestParams{MaxTokens: 1}); err == nil {
		t.Error("CreateMessage succeeded on a closed session")
	}
	// A session without a standalone stream cannot reach the client.
	ss, _ := srv.NewSession(context.Background(), "no-stream", nil)
	defer ss.Close()
	if err := ss.(*mcp.ServerSession).Ping(context.Background()); err == nil {
		t.Error("Ping without a stream succeeded")
	}
	if !errors.Is(func() error {
		_, err := ss.(*mcp.ServerSession).Elicit(context.Background(), &protocol.ElicitRequestParams{Message: "x"})
		return err
	}(), mcp.ErrCapability) {
		t.Error("Elicit without the capability did not return ErrCapability")
	}
}

// Progress and log messages are best effort: a transport that cannot carry
// them (Streamable HTTP answering with plain JSON) must not make the tool
// fail.
func TestProgressOverPlainJSONResponses(t *testing.T) {
	srv := newSrv(nil)
	mcp.AddTool(srv, &protocol.Tool{Name: "chatty"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		if err := req.Progress(ctx, 1, 2, "half"); err != nil {
			return "", err
		}
		if err := req.Log(ctx, protocol.LoggingLevelError, "", "note"); err != nil {
			return "", err
		}
		return "finished", nil
	})
	mcp.AddTool(srv, &protocol.Tool{Name: "unencodable"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (string, error) {
		return "", req.Log(ctx, protocol.LoggingLevelError, "", func() {})
	})
	handler := streamable.NewHandler(srv, &streamable.Options{ResponseMode: streamable.ResponseJSON})
	ts := httptest.NewServer(handler)
	t.Cleanup(func() {
		handler.Close()
		ts.Close()
		srv.Close()
	})
	c := &httpMCP{t: t, url: ts.URL}
	c.call("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`)
	c.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	resp := c.call("tools/call", `{"name":"chatty","_meta":{"progressToken":1}}`)
	var res protocol.CallToolResult
	if resp.Error != nil || json.Unmarshal(resp.Result, &res, protocol.UnionUnmarshalers) != nil || res.IsError || firstText(t, &res) != "finished" {
		t.Errorf("tool with progress over plain JSON: %s %v", resp.Result, resp.Error)
	}
	// Encoding errors are still reported.
	resp = c.call("tools/call", `{"name":"unencodable"}`)
	if resp.Error != nil || json.Unmarshal(resp.Result, &res, protocol.UnionUnmarshalers) != nil || !res.IsError {
		t.Errorf("unencodable log data: %s %v", resp.Result, resp.Error)
	}
}
