package telemetry

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// The span kinds as start options, made once.
var (
	spanKindServer = trace.WithSpanKind(trace.SpanKindServer)
	spanKindClient = trace.WithSpanKind(trace.SpanKindClient)
)

// ServerMiddleware returns the middleware that makes a SERVER span and
// records mcp.server.operation.duration for every request a server
// handles: add it with mcp.Server.Use (first, to be the outermost), or to
// gateway.Hooks.Middleware.
func (t *Instrumentation) ServerMiddleware() mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, req *mcp.Request) (any, error) {
			start := time.Now()
			p := parseParams(req.Params, t.opts.CaptureToolCalls)
			// attrs are those of the span's start and of the metric; the
			// span's own (ids, the client's address) are added only to a
			// span that records.
			attrs := make([]attribute.KeyValue, 0, 12)
			attrs = append(attrs, attribute.String(AttrMethodName, req.Method))
			attrs = target(req.Method, &p, attrs)
			v := req.ProtocolVersion()
			if v != "" {
				attrs = append(attrs, attribute.String(AttrProtocolVersion, v))
			}
			info := transport.RequestInfoFrom(ctx)
			if info != nil {
				attrs = append(attrs, attribute.String(AttrNetworkTransport, "tcp"), attribute.String(AttrNetworkProtocol, "http"))
			} else {
				attrs = append(attrs, attribute.String(AttrNetworkTransport, "pipe"))
			}
			// The parent is the context the request carries in _meta; the
			// ambient one (the transport's) is linked.
			parent := ctx
			var links []trace.Link
			if len(p.Meta) > 0 {
				carried := t.prop.Extract(ctx, p.Meta)
				if sc := trace.SpanContextFromContext(carried); sc.IsValid() {
					if amb := trace.SpanContextFromContext(ctx); amb.IsValid() && !amb.Equal(sc) {
						links = append(links, trace.Link{SpanContext: amb})
					}
					parent = carried
				} else if bg := baggage.FromContext(carried); bg.Len() > 0 {
					parent = baggage.ContextWithBaggage(ctx, bg)
				}
			}
			var span trace.Span
			if sc := trace.SpanContextFromContext(parent); !t.tracing || sc.IsValid() && sc.IsRemote() && !sc.IsSampled() {
				// No tracing, or the caller did not sample the trace: a
				// span would record nothing; the context goes on to the
				// upstream calls as it came.
				span = trace.SpanFromContext(parent)
				ctx = parent
			} else {
				opts := []trace.SpanStartOption{spanKindServer, trace.WithAttributes(attrs...), trace.WithTimestamp(start)}
				if len(links) > 0 {
					opts = append(opts, trace.WithLinks(links...))
				}
				ctx, span = t.tracer.Start(parent, spanName(req.Method, &p), opts...)
				if span.IsRecording() {
					span.SetAttributes(t.serverSpanAttrs(req, v, info, &p)...)
				}
			}
			mattrs := t.methodSet(req.Method)
			t.active.Add(ctx, 1, mattrs)
			res, err := next(ctx, req)
			t.active.Add(ctx, -1, mattrs)
			errType, code, msg := outcome(ctx, res, err)
			if errType != "" {
				attrs = append(attrs, attribute.String(AttrErrorType, errType))
				span.SetAttributes(attribute.String(AttrErrorType, errType))
				if code != "" {
					attrs = append(attrs, attribute.String(AttrRPCStatusCode, code))
					span.SetAttributes(attribute.String(AttrRPCStatusCode, code))
				}
				span.SetStatus(codes.Error, msg)
			} else if t.opts.CaptureToolCalls && req.Method == protocol.MethodToolsCall && span.IsRecording() {
				if b, err := json.Marshal(res); err == nil {
					span.SetAttributes(attribute.String(AttrToolResult, string(b)))
				}
			}
			span.End()
			t.srvDur.Record(ctx, time.Since(start).Seconds(), t.sets.option(attrs))
			return res, err
		}
	}
}

// serverSpanAttrs are the attributes of a SERVER span beyond those of
// its metric: the session and request ids, the client's address, and
// the arguments when captured.
func (t *Instrumentation) serverSpanAttrs(req *mcp.Request, version string, info *transport.RequestInfo, p *params) []attribute.KeyValue {
	var attrs []attribute.KeyValue
	if req.Session != nil && version < sessionless {
		if id := req.Session.ID(); id != "" {
			attrs = append(attrs, attribute.String(AttrSessionID, id))
		}
	}
	if req.ID.IsValid() {
		attrs = append(attrs, attribute.String(AttrRequestID, idString(req.ID)))
	}
	if info != nil {
		if host, port, err := net.SplitHostPort(info.RemoteAddr); err == nil {
			attrs = append(attrs, attribute.String(AttrClientAddress, host))
			if n, err := strconv.Atoi(port); err == nil {
				attrs = append(attrs, attribute.Int(AttrClientPort, n))
			}
		}
	}
	if t.opts.CaptureToolCalls && req.Method == protocol.MethodToolsCall && len(p.Arguments) > 0 {
		attrs = append(attrs, attribute.String(AttrToolArguments, string(p.Arguments)))
	}
	return attrs
}

// ClientMiddleware returns the middleware that makes a CLIENT span for
// every request a client sends, injects its context into the request's
// params._meta (traceparent, tracestate, baggage), and records
// mcp.client.operation.duration: add it to mcp.ClientOptions.Sending, or
// to gateway.Hooks.UpstreamMiddleware.
func (t *Instrumentation) ClientMiddleware() mcp.ClientMiddleware {
	return func(next mcp.CallHandler) mcp.CallHandler {
		return func(ctx context.Context, method string, raw jsontext.Value) (jsontext.Value, error) {
			start := time.Now()
			p := parseParams(raw, t.opts.CaptureToolCalls)
			attrs := make([]attribute.KeyValue, 0, 12)
			attrs = append(attrs, attribute.String(AttrMethodName, method))
			attrs = target(method, &p, attrs)
			if t.opts.ClientAttributes != nil {
				attrs = append(attrs, t.opts.ClientAttributes(ctx)...)
			}
			if t.opts.ClientTransport != "" && !hasKey(attrs, AttrNetworkTransport) {
				attrs = append(attrs, attribute.String(AttrNetworkTransport, t.opts.ClientTransport))
			}
			// Health pings outside any request make no root spans of
			// their own.
			parentSC := trace.SpanContextFromContext(ctx)
			traced := method != protocol.MethodPing || parentSC.IsValid()
			span := trace.SpanFromContext(context.Background()) // a no-op span
			if !t.tracing || parentSC.IsValid() && !parentSC.IsSampled() {
				// No tracing, or the trace is not sampled: a span would
				// record nothing; pass the context on as it is.
				traced = false
				if parentSC.IsValid() {
					raw = t.inject(ctx, raw)
				}
			}
			if traced {
				ctx, span = t.tracer.Start(ctx, spanName(method, &p), spanKindClient, trace.WithAttributes(attrs...), trace.WithTimestamp(start))
				if sc := span.SpanContext(); sc.IsValid() {
					raw = t.inject(ctx, raw)
				}
				if t.opts.CaptureToolCalls && method == protocol.MethodToolsCall && len(p.Arguments) > 0 && span.IsRecording() {
					span.SetAttributes(attribute.String(AttrToolArguments, string(p.Arguments)))
				}
			}
			res, err := next(ctx, method, raw)
			errType, code, msg := outcome(ctx, res, err)
			if errType != "" {
				attrs = append(attrs, attribute.String(AttrErrorType, errType))
				span.SetAttributes(attribute.String(AttrErrorType, errType))
				if code != "" {
					attrs = append(attrs, attribute.String(AttrRPCStatusCode, code))
					span.SetAttributes(attribute.String(AttrRPCStatusCode, code))
				}
				span.SetStatus(codes.Error, msg)
			} else if t.opts.CaptureToolCalls && method == protocol.MethodToolsCall && len(res) > 0 && span.IsRecording() {
				span.SetAttributes(attribute.String(AttrToolResult, string(res)))
			}
			span.End()
			t.cliDur.Record(ctx, time.Since(start).Seconds(), t.sets.option(attrs))
			return res, err
		}
	}
}

func hasKey(attrs []attribute.KeyValue, k attribute.Key) bool {
	for _, a := range attrs {
		if a.Key == k {
			return true
		}
	}
	return false
}

// inject writes the trace context of ctx into params._meta, replacing
// what the params carried (a gateway forwards its client's).
func (t *Instrumentation) inject(ctx context.Context, raw jsontext.Value) jsontext.Value {
	carrier := metaCarrier{}
	t.prop.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return raw
	}
	// The common case, params without _meta: add it at the end.
	if trimmed := bytes.TrimRight(raw, " \t\r\n"); len(trimmed) >= 2 && trimmed[0] == '{' && trimmed[len(trimmed)-1] == '}' && !bytes.Contains(raw, []byte(`"_meta"`)) {
		mb := carrierJSON(carrier)
		out := make([]byte, 0, len(trimmed)+len(mb)+10)
		out = append(out, trimmed[:len(trimmed)-1]...)
		if len(bytes.TrimSpace(trimmed[1:len(trimmed)-1])) > 0 {
			out = append(out, ',')
		}
		out = append(out, `"_meta":`...)
		out = append(out, mb...)
		return append(out, '}')
	}
	obj := map[string]jsontext.Value{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return raw // not an object: leave it to the peer to refuse
		}
	}
	meta := map[string]jsontext.Value{}
	if m, ok := obj["_meta"]; ok {
		_ = json.Unmarshal(m, &meta)
	}
	for _, k := range []string{protocol.MetaTraceparent, protocol.MetaTracestate, protocol.MetaBaggage} {
		delete(meta, k)
	}
	for k, v := range carrier {
		meta[k] = v
	}
	mb, err := json.Marshal(meta, json.Deterministic(true))
	if err != nil {
		return raw
	}
	obj["_meta"] = mb
	out, err := json.Marshal(obj, json.Deterministic(true))
	if err != nil {
		return raw
	}
	return out
}

// carrierJSON encodes the injected keys as a JSON object, in a fixed
// order.
func carrierJSON(c metaCarrier) []byte {
	out := make([]byte, 0, 128)
	out = append(out, '{')
	for _, k := range []string{protocol.MetaTraceparent, protocol.MetaTracestate, protocol.MetaBaggage} {
		v, ok := c[k]
		if !ok {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out, _ = jsontext.AppendQuote(out, k)
		out = append(out, ':')
		out = append(out, v...)
	}
	return append(out, '}')
}

// InstrumentServer chains session hooks into o: the sessions gauge and
// mcp.server.session.duration.
func (t *Instrumentation) InstrumentServer(o *mcp.ServerOptions) {
	start, end := o.OnSessionStart, o.OnSessionEnd
	o.OnSessionStart = func(ss *mcp.ServerSession) {
		t.mu.Lock()
		t.sessions[ss] = sessionStart{at: time.Now()}
		t.mu.Unlock()
		t.sess.Add(context.Background(), 1)
		if start != nil {
			start(ss)
		}
	}
	o.OnSessionEnd = func(ss *mcp.ServerSession) {
		t.mu.Lock()
		s, ok := t.sessions[ss]
		delete(t.sessions, ss)
		t.mu.Unlock()
		if ok {
			t.sess.Add(context.Background(), -1)
			var attrs []attribute.KeyValue
			if v := ss.ProtocolVersion(); v != "" {
				attrs = append(attrs, attribute.String(AttrProtocolVersion, v))
			}
			t.sessDur.Record(context.Background(), time.Since(s.at).Seconds(), metric.WithAttributes(attrs...))
		}
		if end != nil {
			end(ss)
		}
	}
}

// idString is a JSON-RPC id as the conventions want it: its value as a
// string.
func idString(id jsonrpc.ID) string {
	if s, ok := id.Str(); ok {
		return s
	}
	if n, ok := id.Int64(); ok {
		return strconv.FormatInt(n, 10)
	}
	return ""
}

// methodSet returns the attribute option of a method, cached for the
// first maxMethodSets methods (clients may send methods of their own
// making, which the server then refuses).
func (t *Instrumentation) methodSet(method string) metric.MeasurementOption {
	if v, ok := t.methodSets.Load(method); ok {
		return v.(metric.MeasurementOption)
	}
	o := metric.WithAttributeSet(attribute.NewSet(attribute.String(AttrMethodName, method)))
	if len(method) <= 64 && t.methodCount.Add(1) <= maxMethodSets {
		t.methodSets.Store(method, o)
	}
	return o
}

// maxMethodSets bounds the methods methodSet keeps.
const maxMethodSets = 256
