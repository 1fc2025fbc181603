package audit

import (
	"context"
	"log/slog"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// OTLPSinkOptions configure NewOTLPSink.
type OTLPSinkOptions struct {
	// Endpoint is the OTLP/HTTP logs URL
	// ("http://collector:4318/v1/logs"). Empty means the standard
	// variables: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, then
	// OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/logs), and their _HEADERS.
	Endpoint string
	// Headers are sent with every export (authorization for the SIEM).
	Headers map[string]string
	// Resource describes the gateway (service.name, ...); nil means the
	// SDK's default, from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
	Resource *resource.Resource
	Logger   *slog.Logger
}

// EventName is the OpenTelemetry event name of audit log records.
const EventName = "switchboard.audit"

// NewOTLPSink streams records as OpenTelemetry log records over
// OTLP/HTTP: the body is the record's JSON line, the attributes index it
// (event.name switchboard.audit, mcp.method.name, gen_ai.tool.name,
// switchboard.audit.* for stream, seq, hash, kind, outcome, subject,
// tenant, upstream), and the record's trace ids tie it to the trace.
// Checkpoints are sent too (kind "checkpoint").
func NewOTLPSink(ctx context.Context, o OTLPSinkOptions) (Sink, error) {
	var opts []otlploghttp.Option
	if o.Endpoint != "" {
		opts = append(opts, otlploghttp.WithEndpointURL(o.Endpoint))
	}
	if len(o.Headers) > 0 {
		opts = append(opts, otlploghttp.WithHeaders(o.Headers))
	}
	exp, err := otlploghttp.New(ctx, opts...)
	if err != nil {
		return nil, err
	}
	popts := []sdklog.LoggerProviderOption{sdklog.WithProcessor(sdklog.NewBatchProcessor(exp))}
	if o.Resource != nil {
		popts = append(popts, sdklog.WithResource(o.Resource))
	}
	lp := sdklog.NewLoggerProvider(popts...)
	d := &otlpDeliverer{lp: lp, logger: lp.Logger("github.com/switchboard-mcp/switchboard/audit")}
	return newAsync("otlp", d, o.Logger, true), nil
}

type otlpDeliverer struct {
	lp     *sdklog.LoggerProvider
	logger otellog.Logger
}

func (d *otlpDeliverer) deliver(ctx context.Context, lines [][]byte, recs []*Record) error {
	for i, line := range lines {
		var lr otellog.Record
		lr.SetEventName(EventName)
		lr.SetBody(attribute.StringValue(string(line)))
		lr.SetSeverity(otellog.SeverityInfo)
		lr.SetSeverityText("INFO")
		ectx := ctx
		if i < len(recs) {
			r := recs[i]
			lr.SetTimestamp(r.Time)
			attrs := []attribute.KeyValue{
				attribute.String("switchboard.audit.stream", r.Stream),
				attribute.Int64("switchboard.audit.seq", r.Seq),
				attribute.String("switchboard.audit.hash", r.Hash),
				attribute.String("switchboard.audit.kind", r.Kind),
			}
			add := func(k, v string) {
				if v != "" {
					attrs = append(attrs, attribute.String(k, v))
				}
			}
			add("switchboard.audit.outcome", r.Outcome)
			add("mcp.method.name", r.Method)
			add("switchboard.audit.subject", r.Subject)
			add("switchboard.audit.tenant", r.Tenant)
			add("switchboard.audit.upstream", r.Upstream)
			add("switchboard.audit.rule", r.Rule)
			if r.Method == "tools/call" {
				add("gen_ai.tool.name", r.Name)
			}
			if r.ErrorCode != 0 {
				add("error.type", strconv.FormatInt(r.ErrorCode, 10))
				lr.SetSeverity(otellog.SeverityWarn)
				lr.SetSeverityText("WARN")
			}
			lr.AddAttributes(attrs...)
			if tid, err := trace.TraceIDFromHex(r.TraceID); err == nil {
				sc := trace.SpanContextConfig{TraceID: tid, Remote: true}
				if sid, err := trace.SpanIDFromHex(r.SpanID); err == nil {
					sc.SpanID = sid
				}
				ectx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(sc))
			}
		} else {
			lr.AddAttributes(attribute.String("switchboard.audit.kind", KindCheckpoint))
		}
		d.logger.Emit(ectx, lr)
	}
	return d.lp.ForceFlush(ctx)
}

func (d *otlpDeliverer) close() error { return d.lp.Shutdown(context.Background()) }
