package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/audit"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startGateway serves a gateway over HTTP in front of two in-process
// everything servers (a, b), with an identity, a policy refusing "add",
// and the writer's hooks; it returns a connected client.
func startGateway(t *testing.T, w *audit.Writer, copts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	hooks := gateway.Hooks{
		Identify: func(ctx context.Context, r *mcp.Request) *gateway.Identity {
			return &gateway.Identity{Subject: "alice", ClientID: "app-1", Tenant: "acme", Groups: []string{"eng"}, Method: "oauth"}
		},
		Authorize: func(ctx context.Context, a *gateway.Access) error {
			if err := w.Authorize(ctx, a); err != nil {
				return err
			}
			if a.Kind == "tool" && a.Original == "add" {
				return &gateway.Denial{Rule: "no-math", Reason: "arithmetic is not allowed here"}
			}
			return nil
		},
		Observe: []func(context.Context, *gateway.Event){w.Observe},
	}
	g, err := gateway.New(gateway.Options{Hooks: hooks, Upstreams: []gateway.Upstream{
		{Name: "a", Server: everything.NewServer(nil)},
		{Name: "b", Server: everything.NewServer(nil)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(g.Handler())
	t.Cleanup(func() { g.Close(); ts.Close() })
	cs, err := mcp.NewClient(protocol.Implementation{Name: "test-client", Version: "1.2"}, copts).Connect(ctxT(t), streamable.NewDialer(ts.URL+gateway.PathMCP, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// scriptedClient answers elicitation (accept) and sampling.
var scriptedClient = &mcp.ClientOptions{
	Elicit: func(context.Context, *mcp.ClientSession, *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
		return &protocol.ElicitResult{Action: protocol.ElicitActionAccept, Content: map[string]any{"response": "yes, delete it"}}, nil
	},
	CreateMessage: func(context.Context, *mcp.ClientSession, *protocol.CreateMessageRequestParams) (*protocol.CreateMessageResult, error) {
		return &protocol.CreateMessageResult{Role: protocol.RoleAssistant, Model: "test-model", StopReason: protocol.StopReasonEndTurn,
			Content: protocol.SamplingContents{&protocol.TextContent{Text: "hi there"}}}, nil
	},
}

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// A scripted session through the gateway: each kind of event becomes one
// record, checked field by field, on SQLite and PostgreSQL; the chain
// verifies.
func TestScriptedSession(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := b.open(t)
		st := db.Audit()
		w, err := audit.NewWriter(ctxT(t), audit.Options{Storage: st, Stream: "gw"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		cs := startGateway(t, w, scriptedClient)
		ctx := ctxT(t)

		if _, err := cs.CallTool(ctx, &protocol.CallToolRequestParams{Name: "a_echo", Arguments: jsontext.Value(`{"text":"my secret"}`),
			Meta: protocol.Meta{"traceparent": traceparent}}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CallTool(ctx, &protocol.CallToolRequestParams{Name: "a_add", Arguments: jsontext.Value(`{"a":1,"b":2}`)}); err == nil {
			t.Fatal("the denied call succeeded")
		}
		if res, err := cs.CallToolArgs(ctx, "b_test_error_handling", nil); err != nil || !res.IsError {
			t.Fatalf("tool error: %v %v", res, err)
		}
		if _, err := cs.CallToolArgs(ctx, "a_test_elicitation", map[string]any{"message": "Delete the file?"}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CallToolArgs(ctx, "b_test_sampling", map[string]any{"prompt": "Say hi"}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.ReadResource(ctx, "test://a/static-text"); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}

		var recs []*audit.Record
		for s, err := range st.Records(ctx, &audit.Query{Stream: "gw", BySeq: true}) {
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Record()
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		find := func(kind, method, name string) *audit.Record {
			t.Helper()
			var found *audit.Record
			for _, r := range recs {
				if r.Kind == kind && r.Method == method && (name == "" || r.Name == name) {
					if found != nil {
						t.Fatalf("two records for %s %s %s", kind, method, name)
					}
					found = r
				}
			}
			if found == nil {
				t.Fatalf("no record for %s %s %s", kind, method, name)
			}
			return found
		}
		// The fields every record of the client's requests shares.
		common := func(r *audit.Record) {
			t.Helper()
			if r.Stream != "gw" || r.Seq == 0 || r.Hash == "" || r.Time.IsZero() || time.Since(r.Time) > time.Minute ||
				r.Subject != "alice" || r.ClientID != "app-1" || r.Tenant != "acme" || strings.Join(r.Groups, ",") != "eng" || r.AuthMethod != "oauth" ||
				r.Client != "test-client/1.2" || r.Session == "" || r.Revision != protocol.LatestVersion || r.LatencyUs <= 0 {
				t.Errorf("common fields of %s %s: %+v", r.Method, r.Name, r)
			}
		}
		type want struct {
			kind, method, name, upstream, original, outcome, args, capture, rule, reason, answer, traceID string
			code                                                                                          int64
		}
		for _, c := range []want{
			{kind: "request", method: "tools/call", name: "a_echo", upstream: "a", original: "echo", outcome: "ok", args: `{"text":"string"}`, capture: "shape",
				traceID: "4bf92f3577b34da6a3ce929d0e0e4736"},
			{kind: "request", method: "tools/call", name: "a_add", upstream: "a", original: "add", outcome: "denied", args: `{"a":"number","b":"number"}`, capture: "shape",
				rule: "no-math", reason: "arithmetic is not allowed here", code: gateway.CodeDenied},
			{kind: "request", method: "tools/call", name: "b_test_error_handling", upstream: "b", original: "test_error_handling", outcome: "tool_error"},
			{kind: "request", method: "tools/call", name: "a_test_elicitation", upstream: "a", original: "test_elicitation", outcome: "ok", args: `{"message":"string"}`, capture: "shape"},
			{kind: "upstream-request", method: "elicitation/create", upstream: "a", outcome: "ok", capture: "shape",
				args:   `{"message":"string","requestedSchema":{"type":"string","properties":{"response":{"type":"string","description":"string"}},"required":["string"]}}`,
				answer: `{"action":"accept","content":{"response":"string"}}`},
			{kind: "request", method: "tools/call", name: "b_test_sampling", upstream: "b", original: "test_sampling", outcome: "ok", args: `{"prompt":"string"}`, capture: "shape"},
			{kind: "upstream-request", method: "sampling/createMessage", upstream: "b", outcome: "ok", capture: "shape",
				answer: `{"model":"test-model","role":"assistant","stopReason":"endTurn","content":{"type":"string","text":"string"}}`},
			{kind: "request", method: "resources/read", name: "test://a/static-text", upstream: "a", original: "test://static-text", outcome: "ok"},
		} {
			r := find(c.kind, c.method, c.name)
			common(r)
			if r.Upstream != c.upstream || r.Original != c.original || r.Outcome != c.outcome || r.Rule != c.rule || r.Reason != c.reason ||
				r.ErrorCode != c.code || r.TraceID != c.traceID || r.Capture != c.capture {
				t.Errorf("%s %s %s: %+v", c.kind, c.method, c.name, r)
			}
			if c.args != "" && c.kind == "request" && string(r.Arguments) != c.args {
				t.Errorf("%s %s arguments %s, want %s", c.method, c.name, r.Arguments, c.args)
			}
			if c.kind == "upstream-request" && c.args != "" && string(r.Arguments) != c.args {
				t.Errorf("%s arguments %s, want %s", c.method, r.Arguments, c.args)
			}
			if string(r.Answer) != c.answer {
				t.Errorf("%s %s answer %s, want %s", c.method, c.name, r.Answer, c.answer)
			}
			if c.kind == "request" && r.RequestID == "" {
				t.Errorf("%s %s: no request id", c.method, c.name)
			}
			if c.outcome == "denied" && !strings.Contains(r.Error, "no-math") {
				t.Errorf("denial error %q", r.Error)
			}
		}
		// Values never leak in shape mode.
		for _, r := range recs {
			if b, _ := json.Marshal(r); strings.Contains(string(b), "my secret") || strings.Contains(string(b), "yes, delete it") {
				t.Errorf("a value was recorded: %s", b)
			}
		}
		rep, err := audit.Verify(ctx, st, nil)
		if err != nil || !rep.OK() {
			t.Fatalf("verify: %v %+v", err, rep.Problems())
		}
	})
}

// With values captured, redaction hides keys and patterns.
func TestCaptureValues(t *testing.T) {
	red, err := audit.NewRedactor([]string{"*secret*"}, []string{`\b\d{4}-\d{4}-\d{4}-\d{4}\b`}, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mode    audit.Capture
		in, out string
	}{
		{audit.CaptureShape, `{"a":1,"b":"x","c":[1,2,3],"d":{"e":null,"f":true}}`, `{"a":"number","b":"string","c":["number"],"d":{"e":"null","f":"boolean"}}`},
		{audit.CaptureShape, `[]`, `[]`},
		{audit.CaptureValues, `{"a":1.50,"my_secret":"hunter2","card":"pay 1234-5678-9012-3456 now"}`, `{"a":1.50,"my_secret":"[REDACTED]","card":"pay [REDACTED] now"}`},
		{audit.CaptureValues, `{"long":"abcdefghijklmnopqrstuvwxyz"}`, `{"long":"abcdefghijklmnopqrst…(6 more bytes)"}`},
		{audit.CaptureValues, `{"nested":{"Client_Secret":{"x":1}}}`, `{"nested":{"Client_Secret":"[REDACTED]"}}`},
		{audit.CaptureNone, `{"a":1}`, ``},
		{audit.CaptureShape, `{"a":`, `"<invalid JSON>"`},
		{audit.CaptureValues, `{"big":1e999,"n":-0.5e-3}`, `{"big":"1e999","n":-0.5e-3}`},
		{audit.CaptureValues, `[` + strings.Repeat("1", 70) + `]`, `["11111111111111111111…(50 more bytes)"]`},
	} {
		if got := string(audit.CaptureJSON([]byte(c.in), c.mode, red)); got != c.out {
			t.Errorf("%s %s: got %s, want %s", c.mode, c.in, got, c.out)
		}
	}
}

// failingStorage fails Append while fail is set.
type failingStorage struct {
	audit.Storage
	mu   sync.Mutex
	fail bool
	gate chan struct{} // when set, Append waits for it
}

func (f *failingStorage) Append(ctx context.Context, recs []*audit.Stored, cps []*audit.Checkpoint) error {
	f.mu.Lock()
	fail, gate := f.fail, f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if fail {
		return errors.New("disk full")
	}
	return f.Storage.Append(ctx, recs, cps)
}

func (f *failingStorage) set(fail bool, gate chan struct{}) {
	f.mu.Lock()
	f.fail, f.gate = fail, gate
	f.mu.Unlock()
}

// Fail closed: while the trail cannot be written, calls are refused with
// a reason; once it can, they go through and nothing was lost.
func TestFailClosed(t *testing.T) {
	db, _ := backends[0].open(t)
	fs := &failingStorage{Storage: db.Audit()}
	w, err := audit.NewWriter(ctxT(t), audit.Options{Storage: fs, Stream: "gw", FailClosed: true, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cs := startGateway(t, w, nil)
	ctx := ctxT(t)
	fs.set(true, nil)
	// The first call's record fails to be written...
	if _, err := cs.CallToolArgs(ctx, "a_echo", map[string]any{"text": "1"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.Healthy() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// ... and the next calls are refused.
	_, err = cs.CallToolArgs(ctx, "a_echo", map[string]any{"text": "2"})
	if err == nil || !strings.Contains(err.Error(), "audit-fail-closed") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("a call while the trail fails: %v", err)
	}
	fs.set(false, nil)
	for !w.Healthy() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := cs.CallToolArgs(ctx, "a_echo", map[string]any{"text": "3"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for s, err := range db.Audit().Records(ctx, &audit.Query{Method: "tools/call", BySeq: true}) {
		if err != nil {
			t.Fatal(err)
		}
		outcomes = append(outcomes, s.Outcome)
	}
	if strings.Join(outcomes, ",") != "ok,denied,ok" || w.Stats().Dropped != 0 {
		t.Errorf("recorded outcomes %v, stats %+v", outcomes, w.Stats())
	}
}

// Fail open: with a full queue calls go on, the events not recorded are
// counted, logged and recorded as a gap in the trail.
func TestFailOpenCountsDrops(t *testing.T) {
	db, _ := backends[0].open(t)
	fs := &failingStorage{Storage: db.Audit()}
	w, err := audit.NewWriter(ctxT(t), audit.Options{Storage: fs, Stream: "gw", QueueSize: 2, BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cs := startGateway(t, w, nil)
	ctx := ctxT(t)
	gate := make(chan struct{})
	fs.set(false, gate) // the writer blocks: the queue fills
	for i := range 10 {
		if _, err := cs.CallToolArgs(ctx, "a_echo", map[string]any{"text": "x"}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	fs.set(false, nil)
	close(gate)
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Dropped == 0 || st.Written+st.Dropped < 10 {
		t.Fatalf("stats %+v", st)
	}
	var gap *audit.Record
	for s, err := range db.Audit().Records(ctx, &audit.Query{Kind: audit.KindAudit}) {
		if err != nil {
			t.Fatal(err)
		}
		gap, _ = s.Record()
	}
	if gap == nil || gap.Outcome != "dropped" || !strings.Contains(string(gap.Detail), `"dropped":`) {
		t.Fatalf("no gap record: %+v", gap)
	}
	if rep, err := audit.Verify(ctx, db.Audit(), nil); err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep.Problems())
	}
}
