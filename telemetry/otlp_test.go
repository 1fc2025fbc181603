package telemetry_test

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/telemetry"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// receiver is an OTLP/HTTP receiver: it decodes the protobuf exports of
// traces and metrics.
type receiver struct {
	mu      sync.Mutex
	spans   []*tracepb.Span
	metrics []*metricpb.Metric
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf", 415)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch r.URL.Path {
	case "/v1/traces":
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(data, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				rc.spans = append(rc.spans, ss.Spans...)
			}
		}
		b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(b)
	case "/v1/metrics":
		var req colmetricpb.ExportMetricsServiceRequest
		if err := proto.Unmarshal(data, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				rc.metrics = append(rc.metrics, sm.Metrics...)
			}
		}
		b, _ := proto.Marshal(&colmetricpb.ExportMetricsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = strconv.FormatInt(v.IntValue, 10)
		default:
			out[kv.Key] = kv.Value.String()
		}
	}
	return out
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Spans and metrics reach a real OTLP receiver with the conventions'
// names and attributes, and a call from an instrumented client through
// the gateway to an instrumented upstream (over HTTP both ways) is one
// trace: client span → gateway SERVER span → gateway CLIENT span →
// upstream SERVER span.
func TestOTLPClientGatewayUpstream(t *testing.T) {
	rc := &receiver{}
	col := httptest.NewServer(rc)
	defer col.Close()
	ratio := 1.0
	prov, err := telemetry.Setup(ctxT(t), telemetry.SetupOptions{ServiceName: "switchboard-test", OTLP: true, Endpoint: col.URL, SampleRatio: &ratio, Prometheus: true})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := telemetry.New(telemetry.Options{
		TracerProvider: prov.TracerProvider, MeterProvider: prov.MeterProvider,
		ClientAttributes: func(ctx context.Context) []attribute.KeyValue {
			if ri := gateway.RelayFrom(ctx); ri != nil {
				return []attribute.KeyValue{attribute.String(telemetry.AttrUpstream, ri.Upstream), attribute.String(telemetry.AttrNetworkTransport, "tcp")}
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	// The upstream: the everything server over Streamable HTTP, with the
	// server middleware.
	up := everything.NewServer(nil)
	up.Use(inst.ServerMiddleware())
	uh := streamable.NewHandler(up, nil)
	uts := httptest.NewServer(uh)
	defer uts.Close()
	defer uh.Close()

	so := &mcp.ServerOptions{}
	inst.InstrumentServer(so)
	g, err := gateway.New(gateway.Options{ServerOptions: so,
		Hooks:     gateway.Hooks{Middleware: []mcp.Middleware{inst.ServerMiddleware()}, UpstreamMiddleware: []mcp.ClientMiddleware{inst.ClientMiddleware()}},
		Upstreams: []gateway.Upstream{{Name: "a", URL: uts.URL}, {Name: "b", Server: everything.NewServer(nil)}}})
	if err != nil {
		t.Fatal(err)
	}
	gts := httptest.NewServer(g.Handler())
	defer gts.Close()
	defer g.Close()

	ctx := ctxT(t)
	client := mcp.NewClient(protocol.Implementation{Name: "test-client", Version: "1"}, &mcp.ClientOptions{Sending: []mcp.ClientMiddleware{inst.ClientMiddleware()}})
	cs, err := client.Connect(ctx, streamable.NewDialer(gts.URL+gateway.PathMCP, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CallToolArgs(ctx, "a_echo", map[string]any{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	if res, err := cs.CallToolArgs(ctx, "b_test_error_handling", nil); err != nil || !res.IsError {
		t.Fatalf("tool error: %v %v", res, err)
	}
	if _, err := cs.CallToolArgs(ctx, "no_such_tool", nil); err == nil {
		t.Fatal("an unknown tool was called")
	}
	if _, err := cs.GetPrompt(ctx, "a_test_simple_prompt", nil); err != nil {
		t.Fatal(err)
	}
	cs.Close()
	// A 2026-07-28 client: no mcp.session.id.
	c26 := mcp.NewClient(protocol.Implementation{Name: "test-client-26", Version: "1"}, &mcp.ClientOptions{ProtocolVersion: "2026-07-28"})
	cs26, err := c26.Connect(ctx, streamable.NewDialer(gts.URL+gateway.PathMCP, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs26.CallToolArgs(ctx, "b_echo", map[string]any{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	cs26.Close()

	// Prometheus sees the same metrics.
	rec := httptest.NewRecorder()
	prov.Metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if body := rec.Body.String(); !strings.Contains(body, `mcp_server_operation_duration_seconds_bucket{`) || !strings.Contains(body, `mcp_method_name="tools/call"`) ||
		!strings.Contains(body, `gen_ai_tool_name="a_echo"`) || !strings.Contains(body, "mcp_client_operation_duration_seconds") {
		t.Errorf("Prometheus metrics:\n%.3000s", body)
	}
	if err := prov.Shutdown(ctx); err != nil { // flushes traces and metrics
		t.Fatal(err)
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	type span struct {
		s     *tracepb.Span
		attrs map[string]string
	}
	var spans []span
	for _, s := range rc.spans {
		spans = append(spans, span{s, attrs(s.Attributes)})
	}
	find := func(name string, kind tracepb.Span_SpanKind, pred func(map[string]string) bool) []span {
		var out []span
		for _, s := range spans {
			if s.s.Name == name && s.s.Kind == kind && (pred == nil || pred(s.attrs)) {
				out = append(out, s)
			}
		}
		return out
	}
	one := func(what string, ss []span) span {
		t.Helper()
		if len(ss) != 1 {
			var names []string
			for _, s := range spans {
				names = append(names, s.s.Name+"/"+s.s.Kind.String())
			}
			t.Fatalf("%s: %d spans (all: %v)", what, len(ss), names)
		}
		return ss[0]
	}
	isGateway := func(a map[string]string) bool { return a[telemetry.AttrUpstream] == "a" }
	notGateway := func(a map[string]string) bool { return a[telemetry.AttrUpstream] == "" }
	cli := one("client span", find("tools/call a_echo", tracepb.Span_SPAN_KIND_CLIENT, notGateway))
	gws := one("gateway server span", find("tools/call a_echo", tracepb.Span_SPAN_KIND_SERVER, nil))
	gwc := one("gateway client span", find("tools/call echo", tracepb.Span_SPAN_KIND_CLIENT, isGateway))
	ups := one("upstream server span", find("tools/call echo", tracepb.Span_SPAN_KIND_SERVER, nil))
	trace := hex.EncodeToString(cli.s.TraceId)
	for _, s := range []span{gws, gwc, ups} {
		if hex.EncodeToString(s.s.TraceId) != trace {
			t.Errorf("span %s %s is in trace %x, not %s", s.s.Name, s.s.Kind, s.s.TraceId, trace)
		}
	}
	parentOf := func(child, parent span) {
		t.Helper()
		if hex.EncodeToString(child.s.ParentSpanId) != hex.EncodeToString(parent.s.SpanId) {
			t.Errorf("the parent of %s %s is %x, want %s %s (%x)", child.s.Name, child.s.Kind, child.s.ParentSpanId, parent.s.Name, parent.s.Kind, parent.s.SpanId)
		}
	}
	parentOf(gws, cli)
	parentOf(gwc, gws)
	parentOf(ups, gwc)

	check := func(what string, s span, want map[string]string, absent ...string) {
		t.Helper()
		for k, v := range want {
			if got, ok := s.attrs[k]; !ok || (v != "*" && got != v) {
				t.Errorf("%s: %s = %q, want %q (attributes %v)", what, k, got, v, s.attrs)
			}
		}
		for _, k := range absent {
			if _, ok := s.attrs[k]; ok {
				t.Errorf("%s: %s is set (%q)", what, k, s.attrs[k])
			}
		}
	}
	check("gateway server span", gws, map[string]string{
		"mcp.method.name": "tools/call", "gen_ai.tool.name": "a_echo", "gen_ai.operation.name": "execute_tool",
		"mcp.protocol.version": protocol.LatestVersion, "mcp.session.id": "*", "jsonrpc.request.id": "*",
		"network.transport": "tcp", "network.protocol.name": "http", "client.address": "127.0.0.1", "client.port": "*",
	}, "error.type")
	check("gateway client span", gwc, map[string]string{
		"mcp.method.name": "tools/call", "gen_ai.tool.name": "echo", "gen_ai.operation.name": "execute_tool",
		"switchboard.upstream.name": "a", "network.transport": "tcp",
	})
	check("upstream server span", ups, map[string]string{"mcp.method.name": "tools/call", "gen_ai.tool.name": "echo", "mcp.session.id": "*"})
	te := one("tool error span", find("tools/call b_test_error_handling", tracepb.Span_SPAN_KIND_SERVER, nil))
	check("tool error span", te, map[string]string{"error.type": "tool_error"})
	if te.s.Status == nil || te.s.Status.Code != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("tool error status %v", te.s.Status)
	}
	unk := one("unknown tool span", find("tools/call no_such_tool", tracepb.Span_SPAN_KIND_SERVER, nil))
	if unk.attrs["error.type"] == "" || unk.attrs["error.type"] != unk.attrs["rpc.response.status_code"] || !strings.HasPrefix(unk.attrs["error.type"], "-32") ||
		unk.s.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || unk.s.Status.GetMessage() == "" {
		t.Errorf("unknown tool span: %v %v", unk.attrs, unk.s.Status)
	}
	pr := one("prompt span", find("prompts/get a_test_simple_prompt", tracepb.Span_SPAN_KIND_SERVER, nil))
	check("prompt span", pr, map[string]string{"gen_ai.prompt.name": "a_test_simple_prompt"}, "gen_ai.operation.name", "gen_ai.tool.name")
	s26 := one("2026-07-28 span", find("tools/call b_echo", tracepb.Span_SPAN_KIND_SERVER, nil))
	check("2026-07-28 span", s26, map[string]string{"mcp.protocol.version": "2026-07-28"}, "mcp.session.id")

	// Metrics: the duration histograms with the conventions' attributes.
	seen := map[string]bool{}
	for _, m := range rc.metrics {
		h := m.GetHistogram()
		if h == nil {
			continue
		}
		for _, dp := range h.DataPoints {
			a := attrs(dp.Attributes)
			if m.Name == telemetry.MetricServerDuration && a["mcp.method.name"] == "tools/call" && a["gen_ai.tool.name"] == "a_echo" && m.Unit == "s" && dp.Count >= 1 {
				seen["server"] = true
				if len(dp.ExplicitBounds) != len(telemetry.DurationBuckets) {
					t.Errorf("buckets %v", dp.ExplicitBounds)
				}
			}
			if m.Name == telemetry.MetricServerDuration && a["gen_ai.tool.name"] == "b_test_error_handling" && a["error.type"] == "tool_error" {
				seen["server error"] = true
			}
			if m.Name == telemetry.MetricClientDuration && a["switchboard.upstream.name"] == "a" && a["gen_ai.tool.name"] == "echo" && m.Unit == "s" {
				seen["client"] = true
			}
			if m.Name == telemetry.MetricServerSessionDuration && dp.Count >= 1 {
				seen["session"] = true
			}
		}
	}
	for _, k := range []string{"server", "server error", "client", "session"} {
		if !seen[k] {
			var names []string
			for _, m := range rc.metrics {
				names = append(names, m.Name)
			}
			t.Errorf("metric %s not received (got %v)", k, names)
		}
	}
}
