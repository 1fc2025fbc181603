// Package telemetry instruments MCP servers and clients built on package
// mcp (the gateway included) with OpenTelemetry, following the MCP
// semantic conventions (status Development; the text of
// open-telemetry/semantic-conventions-genai docs/gen-ai/mcp.md):
//
//   - one SERVER span per request a server handles
//     ([Instrumentation.ServerMiddleware]) and one CLIENT span per request a
//     client sends ([Instrumentation.ClientMiddleware]), named
//     "{mcp.method.name} {target}" (the tool or prompt name where there is
//     one), with mcp.method.name, mcp.protocol.version, mcp.session.id
//     (session-era requests only), jsonrpc.request.id, gen_ai.tool.name,
//     gen_ai.prompt.name, gen_ai.operation.name (execute_tool),
//     mcp.resource.uri, error.type (the JSON-RPC code, or tool_error when a
//     result has isError), rpc.response.status_code, network.transport and
//     client.address/port or server.address/port;
//   - W3C traceparent, tracestate and baggage carried in params._meta both
//     ways: a server span's parent is the context the request carries (the
//     ambient context, an HTTP span say, is linked), a client injects its
//     span's context into the request, so that a call through the gateway
//     is one trace from the client to the upstream;
//   - the histograms mcp.server.operation.duration,
//     mcp.client.operation.duration and mcp.server.session.duration
//     (seconds, the conventions' buckets), and
//     switchboard.server.active_requests and switchboard.server.sessions.
//
// [Setup] builds the SDK's providers from the standard OTEL_* variables
// (OTLP over HTTP, sampling, resource) and can serve Prometheus /metrics.
package telemetry

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/switchboard-mcp/switchboard/telemetry"

// Attribute keys of the MCP semantic conventions and the ones Switchboard
// adds (switchboard.*).
const (
	AttrMethodName       = "mcp.method.name"
	AttrProtocolVersion  = "mcp.protocol.version"
	AttrSessionID        = "mcp.session.id"
	AttrResourceURI      = "mcp.resource.uri"
	AttrRequestID        = "jsonrpc.request.id"
	AttrToolName         = "gen_ai.tool.name"
	AttrPromptName       = "gen_ai.prompt.name"
	AttrOperationName    = "gen_ai.operation.name"
	AttrToolArguments    = "gen_ai.tool.call.arguments"
	AttrToolResult       = "gen_ai.tool.call.result"
	AttrErrorType        = "error.type"
	AttrRPCStatusCode    = "rpc.response.status_code"
	AttrNetworkTransport = "network.transport"
	AttrNetworkProtocol  = "network.protocol.name"
	AttrServerAddress    = "server.address"
	AttrServerPort       = "server.port"
	AttrClientAddress    = "client.address"
	AttrClientPort       = "client.port"
	// AttrUpstream names the gateway's upstream a client span or metric
	// is about.
	AttrUpstream = "switchboard.upstream.name"
)

// Metric names.
const (
	MetricServerDuration        = "mcp.server.operation.duration"
	MetricClientDuration        = "mcp.client.operation.duration"
	MetricServerSessionDuration = "mcp.server.session.duration"
	MetricActiveRequests        = "switchboard.server.active_requests"
	MetricSessions              = "switchboard.server.sessions"
)

// ErrorTypeToolError is error.type of a tool result with isError.
const ErrorTypeToolError = "tool_error"

// DurationBuckets are the bucket boundaries (seconds) the conventions
// give for the MCP duration histograms.
var DurationBuckets = []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}

// sessionless is the first revision without sessions: mcp.session.id is
// not set for it and later ones.
const sessionless = "2026-07-28"

// Options configure an Instrumentation.
type Options struct {
	// TracerProvider and MeterProvider default to the global ones.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Propagator defaults to W3C Trace Context and Baggage.
	Propagator propagation.TextMapPropagator
	// CaptureToolCalls records gen_ai.tool.call.arguments and
	// gen_ai.tool.call.result on tool call spans (opt-in: they may hold
	// sensitive data).
	CaptureToolCalls bool
	// ClientAttributes, if set, adds attributes to the spans and metrics
	// of the requests a client sends (the gateway: which upstream, its
	// address, transport and protocol revision).
	ClientAttributes func(ctx context.Context) []attribute.KeyValue
	// ClientTransport is the network.transport of client requests when
	// ClientAttributes does not say ("tcp" for HTTP, "pipe" for stdio;
	// "" leaves it out).
	ClientTransport string
}

// Instrumentation makes the spans and metrics of MCP requests. It is safe
// for concurrent use.
type Instrumentation struct {
	opts    Options
	tracer  trace.Tracer
	tracing bool // false when the tracer provider is OpenTelemetry's no-op
	meter   metric.Meter
	prop    propagation.TextMapPropagator
	srvDur  metric.Float64Histogram
	cliDur  metric.Float64Histogram
	sessDur metric.Float64Histogram
	active  metric.Int64UpDownCounter
	sess    metric.Int64UpDownCounter

	mu          sync.Mutex
	sessions    map[*mcp.ServerSession]sessionStart
	methodSets  sync.Map // method -> metric.MeasurementOption
	methodCount atomic.Int64
	sets        metricSets
}

type sessionStart struct {
	at        time.Time
	transport string
}

// New creates an Instrumentation.
func New(opts Options) (*Instrumentation, error) {
	if opts.TracerProvider == nil {
		opts.TracerProvider = otel.GetTracerProvider()
	}
	if opts.MeterProvider == nil {
		opts.MeterProvider = otel.GetMeterProvider()
	}
	if opts.Propagator == nil {
		opts.Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	t := &Instrumentation{opts: opts, prop: opts.Propagator, sessions: map[*mcp.ServerSession]sessionStart{},
		tracer: opts.TracerProvider.Tracer(ScopeName), meter: opts.MeterProvider.Meter(ScopeName)}
	_, noopTraces := opts.TracerProvider.(tracenoop.TracerProvider)
	t.tracing = !noopTraces
	var err error
	if t.srvDur, err = t.meter.Float64Histogram(MetricServerDuration, metric.WithUnit("s"),
		metric.WithDescription("The duration of the MCP request or notification as observed on the receiver from the time it was received until the result or ack is sent."),
		metric.WithExplicitBucketBoundaries(DurationBuckets...)); err != nil {
		return nil, err
	}
	if t.cliDur, err = t.meter.Float64Histogram(MetricClientDuration, metric.WithUnit("s"),
		metric.WithDescription("The duration of the MCP request or notification as observed on the sender from the time it was sent until the response or ack is received."),
		metric.WithExplicitBucketBoundaries(DurationBuckets...)); err != nil {
		return nil, err
	}
	if t.sessDur, err = t.meter.Float64Histogram(MetricServerSessionDuration, metric.WithUnit("s"),
		metric.WithDescription("The duration of the MCP session as observed on the MCP server."),
		metric.WithExplicitBucketBoundaries(DurationBuckets...)); err != nil {
		return nil, err
	}
	if t.active, err = t.meter.Int64UpDownCounter(MetricActiveRequests, metric.WithUnit("{request}"),
		metric.WithDescription("MCP requests being handled.")); err != nil {
		return nil, err
	}
	if t.sess, err = t.meter.Int64UpDownCounter(MetricSessions, metric.WithUnit("{session}"),
		metric.WithDescription("Open MCP sessions.")); err != nil {
		return nil, err
	}
	return t, nil
}

// Meter returns the instrumentation's meter, for further instruments.
func (t *Instrumentation) Meter() metric.Meter { return t.meter }

// metaCarrier is a propagation carrier over a _meta object.
type metaCarrier map[string]jsontext.Value

func (c metaCarrier) Get(key string) string {
	v, ok := c[key]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

func (c metaCarrier) Set(key, value string) {
	b, _ := json.Marshal(value)
	c[key] = b
}

func (c metaCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}

// params is what the instrumentation reads of a request's params.
type params struct {
	Name      string
	URI       string
	Arguments jsontext.Value
	Meta      metaCarrier // only the trace context keys
}

// pooledDecoder is a reusable decoder of params (a decoder is large).
type pooledDecoder struct {
	r   bytes.Reader
	dec jsontext.Decoder
}

var decoders = sync.Pool{New: func() any { return new(pooledDecoder) }}

func (d *pooledDecoder) put() {
	d.r.Reset(nil)
	d.dec.Reset(&d.r)
	decoders.Put(d)
}

// openObject returns a pooled decoder past the opening brace of the JSON
// object raw, or nil if raw does not start one. Put it back when done.
func openObject(raw []byte) *pooledDecoder {
	d := decoders.Get().(*pooledDecoder)
	d.r.Reset(raw)
	d.dec.Reset(&d.r)
	if tok, err := d.dec.ReadToken(); err != nil || tok.Kind() != '{' {
		d.put()
		return nil
	}
	return d
}

// parseParams reads the members it needs from the top level of params,
// skipping the others without decoding them (arguments stay raw).
func parseParams(raw jsontext.Value, withArgs bool) params {
	var p params
	if len(raw) == 0 || raw[0] != '{' && !bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("{")) {
		return p
	}
	d := openObject(raw)
	if d == nil {
		return p
	}
	defer d.put()
	dec := &d.dec
	for dec.PeekKind() == '"' {
		key, err := dec.ReadValue()
		if err != nil {
			return p
		}
		var name string
		switch string(key) { // the common names without allocating
		case `"name"`:
			name = "name"
		case `"uri"`:
			name = "uri"
		case `"arguments"`:
			name = "arguments"
		case `"_meta"`:
			name = "_meta"
		default:
			if bytes.IndexByte(key, '\\') >= 0 {
				name = unquote(key)
			}
		}
		switch name {
		case "name", "uri":
			if dec.PeekKind() != '"' {
				if dec.SkipValue() != nil {
					return p
				}
				continue
			}
			v, err := dec.ReadToken()
			if err != nil {
				return p
			}
			if name == "name" {
				p.Name = v.String()
			} else {
				p.URI = v.String()
			}
		case "arguments":
			v, err := dec.ReadValue()
			if err != nil {
				return p
			}
			if withArgs {
				p.Arguments = bytes.Clone(v)
			}
		case "_meta":
			v, err := dec.ReadValue()
			if err != nil {
				return p
			}
			if bytes.Contains(v, []byte("traceparent")) || bytes.Contains(v, []byte("baggage")) {
				var m map[string]jsontext.Value
				if json.Unmarshal(v, &m) == nil {
					p.Meta = metaCarrier{}
					for _, k := range []string{protocol.MetaTraceparent, protocol.MetaTracestate, protocol.MetaBaggage} {
						if x, ok := m[k]; ok {
							p.Meta[k] = x
						}
					}
				}
			}
		default:
			if dec.SkipValue() != nil {
				return p
			}
		}
	}
	return p
}

// target appends the attributes that name what a request is about.
func target(method string, p *params, attrs []attribute.KeyValue) []attribute.KeyValue {
	switch method {
	case protocol.MethodToolsCall:
		if p.Name != "" {
			attrs = append(attrs, attribute.String(AttrToolName, p.Name))
		}
		attrs = append(attrs, attribute.String(AttrOperationName, "execute_tool"))
	case protocol.MethodPromptsGet:
		if p.Name != "" {
			attrs = append(attrs, attribute.String(AttrPromptName, p.Name))
		}
	case protocol.MethodResourcesRead, protocol.MethodResourcesSubscribe, protocol.MethodResourcesUnsubscribe:
		if p.URI != "" {
			attrs = append(attrs, attribute.String(AttrResourceURI, p.URI))
		}
	}
	return attrs
}

// spanName is a request's span name: the method, and the tool or
// prompt's name.
func spanName(method string, p *params) string {
	switch method {
	case protocol.MethodToolsCall, protocol.MethodPromptsGet:
		if p.Name != "" {
			return method + " " + p.Name
		}
	}
	return method
}

// outcome classifies a request's end: error.type, the JSON-RPC code, the
// span status message.
func outcome(ctx context.Context, res any, err error) (errType, code, msg string) {
	if err != nil {
		var je *jsonrpc.Error
		switch {
		case asRPC(err, &je):
			c := strconv.Itoa(int(je.Code))
			return c, c, je.Message
		case ctx.Err() != nil:
			return "cancelled", "", err.Error()
		}
		return "_OTHER", "", err.Error()
	}
	if isToolError(res) {
		return ErrorTypeToolError, "", "tool error"
	}
	return "", "", ""
}

func asRPC(err error, out **jsonrpc.Error) bool {
	for err != nil {
		if je, ok := err.(*jsonrpc.Error); ok {
			*out = je
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// isToolError reports whether a result is a tool result with isError.
func isToolError(res any) bool {
	switch v := res.(type) {
	case *protocol.CallToolResult:
		if v == nil {
			return false
		}
		if v.IsError {
			return true
		}
		return len(v.Raw) > 0 && rawIsError(v.Raw)
	case jsontext.Value:
		return rawIsError(v)
	case []byte:
		return rawIsError(v)
	}
	return false
}

func rawIsError(raw []byte) bool {
	if len(raw) == 0 || !bytes.Contains(raw, []byte(`"isError"`)) && !bytes.Contains(raw, []byte(`\u`)) {
		return false
	}
	// Read the top-level members without decoding them.
	d := openObject(raw)
	if d == nil {
		return false
	}
	defer d.put()
	dec := &d.dec
	for dec.PeekKind() == '"' {
		name, err := dec.ReadValue()
		if err != nil {
			return false
		}
		if string(name) == `"isError"` || bytes.IndexByte(name, '\\') >= 0 && unquote(name) == "isError" {
			v, err := dec.ReadToken()
			return err == nil && v.Kind() == 't'
		}
		if dec.SkipValue() != nil {
			return false
		}
	}
	return false
}

// unquote returns the text of a JSON string ("" if it is not one).
func unquote(v jsontext.Value) string {
	b, err := jsontext.AppendUnquote(nil, v)
	if err != nil {
		return ""
	}
	return string(b)
}

// metricSets caches the attribute sets of the duration metrics: few
// distinct sets, each recorded many times. A lookup allocates nothing.
type metricSets struct {
	mu sync.RWMutex
	m  map[string]metric.RecordOption // key of the kept attributes -> option
}

// maxMetricSets bounds the cache, and maxMetricKey the size of a key it
// keeps (clients choose the tool names they call, known or not, and
// their length).
const (
	maxMetricSets = 4096
	maxMetricKey  = 1024
)

// keyBufs are the buffers of metricSets keys.
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// option returns the record option of the metric attributes of attrs.
func (c *metricSets) option(attrs []attribute.KeyValue) metric.RecordOption {
	var arr [16]attribute.KeyValue
	kept := appendMetricAttrs(arr[:0], attrs)
	bp := keyBufs.Get().(*[]byte)
	b := (*bp)[:0]
	for _, a := range kept {
		// Length-prefixed, so that no value can pass for another set.
		b = binary.AppendUvarint(b, uint64(len(a.Key)))
		b = append(b, a.Key...)
		b = appendValue(b, a.Value)
	}
	c.mu.RLock()
	o, ok := c.m[string(b)]
	c.mu.RUnlock()
	if !ok {
		o = metric.WithAttributeSet(attribute.NewSet(slices.Clone(kept)...))
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]metric.RecordOption{}
		}
		if len(c.m) < maxMetricSets && len(b) <= maxMetricKey {
			c.m[string(b)] = o
		}
		c.mu.Unlock()
	}
	if cap(b) <= 4*maxMetricKey {
		*bp = b
		keyBufs.Put(bp)
	}
	return o
}

// appendValue appends an attribute value to a metricSets key: its type,
// then its length-prefixed text.
func appendValue(b []byte, v attribute.Value) []byte {
	b = append(b, byte(v.Type()))
	switch v.Type() {
	case attribute.STRING:
		s := v.AsString()
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	case attribute.INT64:
		return binary.AppendVarint(b, v.AsInt64())
	case attribute.BOOL:
		if v.AsBool() {
			return append(b, 1)
		}
		return append(b, 0)
	}
	s := v.Emit()
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendMetricAttrs appends the attributes the duration metrics carry
// (the low cardinality ones) to out.
func appendMetricAttrs(out, attrs []attribute.KeyValue) []attribute.KeyValue {
	for _, a := range attrs {
		switch a.Key {
		case AttrMethodName, AttrToolName, AttrPromptName, AttrOperationName, AttrProtocolVersion,
			AttrNetworkTransport, AttrNetworkProtocol, AttrServerAddress, AttrServerPort, AttrUpstream,
			AttrErrorType, AttrRPCStatusCode:
			out = append(out, a)
		}
	}
	return out
}
