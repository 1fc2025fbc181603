package telemetry

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// inject writes the trace context into params._meta, replacing one the
// params carried, with or without other members.
func TestInject(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	inst := &Instrumentation{prop: propagation.TraceContext{}}
	const tp = `"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`
	for _, c := range []struct{ in, want string }{
		{``, `{"_meta":{` + tp + `}}`},
		{`null`, `{"_meta":{` + tp + `}}`},
		{`{}`, `{"_meta":{` + tp + `}}`},
		{`{"name":"echo"}`, `{"name":"echo","_meta":{` + tp + `}}`},
		{`{"name":"echo","_meta":{"traceparent":"00-old-old-00","progressToken":1}}`, `{"_meta":{"progressToken":1,` + tp + `},"name":"echo"}`},
		{`[1]`, `[1]`},
	} {
		if got := string(inst.inject(ctx, jsontext.Value(c.in))); got != c.want {
			t.Errorf("inject(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// parseParams reads untrusted params: it never panics, and reads the
// members it needs.
func FuzzParseParams(f *testing.F) {
	f.Add([]byte(`{"name":"echo","arguments":{"a":1},"_meta":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","x":1}}`))
	f.Add([]byte(`{"uri":"file:///x","name":3}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`{"name":`))
	f.Add([]byte(`{"content":[],"isError":true}`))
	f.Add([]byte(`{"\u0069sError":true,"isError":false}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := parseParams(data, true)
		_ = p.Meta.Get("traceparent")
		// A tool result from an upstream: rawIsError agrees with decoding
		// it, for every object JSON accepts with unique member names.
		var probe struct {
			IsError bool `json:"isError"`
		}
		var obj map[string]jsontext.Value
		if json.Unmarshal(data, &obj) == nil && json.Unmarshal(data, &probe) == nil {
			if got := rawIsError(data); got != probe.IsError {
				t.Fatalf("rawIsError(%s) = %v, decoding says %v", data, got, probe.IsError)
			}
		}
	})
}

func TestParseParams(t *testing.T) {
	p := parseParams(jsontext.Value(` {"x":[1,{"name":"no"}],"name":"echo","uri":"u","arguments":{"a":1},"_meta":{"traceparent":"tp","other":2}}`), true)
	if p.Name != "echo" || p.URI != "u" || string(p.Arguments) != `{"a":1}` || p.Meta.Get("traceparent") != "tp" || len(p.Meta) != 1 {
		t.Errorf("%+v", p)
	}
}

// A request of an unsampled trace makes no client span: the context goes
// on as it is.
func TestUnsampledPassesContext(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	inst, err := New(Options{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	var got string
	next := func(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
		got = string(params)
		return jsontext.Value(`{}`), nil
	}
	for _, sampled := range []bool{false, true} {
		cfg := trace.SpanContextConfig{TraceID: tid, SpanID: sid}
		if sampled {
			cfg.TraceFlags = trace.FlagsSampled
		}
		ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(cfg))
		exp.Reset()
		if _, err := inst.ClientMiddleware()(next)(ctx, "tools/call", jsontext.Value(`{"name":"echo"}`)); err != nil {
			t.Fatal(err)
		}
		spans := exp.GetSpans()
		switch {
		case !sampled && (len(spans) != 0 || got != `{"name":"echo","_meta":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}}`):
			t.Errorf("unsampled: %d spans, params %s", len(spans), got)
		case sampled && (len(spans) != 1 || !strings.Contains(got, "-"+spans[0].SpanContext.SpanID().String()+"-01")):
			t.Errorf("sampled: %d spans, params %s", len(spans), got)
		}
	}
}

func TestIsToolError(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want bool
	}{
		{`{"content":[],"isError":true}`, true},
		{`{"isError":false,"content":[]}`, false},
		{`{"content":[{"type":"text","text":"\"isError\":true"}]}`, false},
		{`{"structuredContent":{"isError":true},"content":[]}`, false},
		{`{"\u0069sError":true}`, true},
		{`{"isError":"yes"}`, false},
		{`{"isError":tru`, false},
		{`[{"isError":true}]`, false},
		{``, false},
	} {
		if got := rawIsError([]byte(c.raw)); got != c.want {
			t.Errorf("rawIsError(%s) = %v, want %v", c.raw, got, c.want)
		}
	}
}

// The attribute sets of the duration metrics are told apart whatever
// the values hold, and a repeated set is the cached option.
func TestMetricSets(t *testing.T) {
	var c metricSets
	a := []attribute.KeyValue{attribute.String(AttrMethodName, "tools/call"), attribute.String(AttrToolName, "x\x00y"), attribute.String(AttrSessionID, "s1")}
	b := []attribute.KeyValue{attribute.String(AttrMethodName, "tools/call"), attribute.String(AttrToolName, "x"), attribute.String(AttrPromptName, "y")}
	oa, ob := c.option(a), c.option(b)
	if len(c.m) != 2 {
		t.Fatalf("%d sets cached, want 2", len(c.m))
	}
	a[2] = attribute.String(AttrSessionID, "s2") // not a metric attribute
	if c.option(a); len(c.m) != 2 {
		t.Fatalf("a session id made a new set")
	}
	set := func(o metric.RecordOption) attribute.Set {
		return metric.NewRecordConfig([]metric.RecordOption{o}).Attributes()
	}
	if sa, sb := set(oa), set(ob); sa.Equals(&sb) || sa.Len() != 2 || sb.Len() != 3 {
		t.Fatalf("sets %v and %v", sa.ToSlice(), sb.ToSlice())
	}
	if n := testing.AllocsPerRun(100, func() { c.option(b) }); n != 0 {
		t.Errorf("a cached lookup allocates %v times", n)
	}
	// A long name a client made up is measured but not kept.
	long := []attribute.KeyValue{attribute.String(AttrMethodName, "tools/call"), attribute.String(AttrToolName, strings.Repeat("x", 4*maxMetricKey))}
	if ls := set(c.option(long)); len(c.m) != 2 || ls.Len() != 2 {
		t.Fatalf("a %d-byte tool name: %d sets cached", 4*maxMetricKey, len(c.m))
	}
}

// With tracing off (OpenTelemetry's no-op provider) the middlewares make
// no spans, and the trace context a request carries in _meta reaches the
// calls made while handling it unchanged; without one, none is invented.
func TestNoTracingPassesContext(t *testing.T) {
	inst, err := New(Options{TracerProvider: tracenoop.NewTracerProvider()})
	if err != nil {
		t.Fatal(err)
	}
	if inst.tracing {
		t.Fatal("a no-op provider was taken for tracing")
	}
	var got string
	upstream := inst.ClientMiddleware()(func(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
		got = string(params)
		return jsontext.Value(`{}`), nil
	})
	srv := mcp.NewServer(protocol.Implementation{Name: "s", Version: "1"}, nil)
	srv.Use(inst.ServerMiddleware())
	mcp.AddTool(srv, &protocol.Tool{Name: "relay"}, func(ctx context.Context, req *mcp.Request, _ struct{}) (struct{}, error) {
		if trace.SpanFromContext(ctx).IsRecording() {
			t.Error("a recording span with tracing off")
		}
		_, err := upstream(ctx, "tools/call", jsontext.Value(`{"name":"up"}`))
		return struct{}{}, err
	})
	a, b := stdio.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.ServeStream(ctx, a)
	defer a.Close()
	defer b.Close()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "c", Version: "1"}, nil).Connect(ctx, pipeDialer{stdio.NewClientConn(b, nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, c := range []struct {
		meta protocol.Meta
		want string
	}{
		{protocol.Meta{"traceparent": jsontext.Value(`"` + tp + `"`)}, `{"name":"up","_meta":{"traceparent":"` + tp + `"}}`},
		{nil, `{"name":"up"}`},
	} {
		got = ""
		if _, err := cs.CallTool(ctx, &protocol.CallToolRequestParams{Name: "relay", Meta: c.meta}); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("_meta %v: upstream got %s, want %s", c.meta, got, c.want)
		}
	}
}

type pipeDialer struct{ conn transport.ClientConn }

func (d pipeDialer) Dial(context.Context) (transport.ClientConn, error) { return d.conn, nil }

// Methods a client makes up are measured but not all kept.
func TestMethodSetsBounded(t *testing.T) {
	inst, err := New(Options{TracerProvider: tracenoop.NewTracerProvider()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 * maxMethodSets {
		inst.methodSet(fmt.Sprintf("made/up%d", i))
	}
	n := 0
	inst.methodSets.Range(func(any, any) bool { n++; return true })
	if n != maxMethodSets {
		t.Fatalf("%d methods kept, want %d", n, maxMethodSets)
	}
}
