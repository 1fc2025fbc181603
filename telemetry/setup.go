package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// SetupOptions configure Setup. Everything not set here follows the
// standard OpenTelemetry variables: OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_ENDPOINT (and the
// _TRACES_/_METRICS_ ones), OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT,
// _COMPRESSION, OTEL_TRACES_SAMPLER and _ARG, OTEL_METRIC_EXPORT_INTERVAL,
// OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER ("none" turns one off),
// OTEL_SDK_DISABLED.
type SetupOptions struct {
	// ServiceName and ServiceVersion describe the process (OTEL_SERVICE_NAME
	// wins over ServiceName).
	ServiceName, ServiceVersion string
	// OTLP exports traces and metrics over OTLP/HTTP. It is on when an
	// OTEL_EXPORTER_OTLP_*ENDPOINT variable is set, too.
	OTLP bool
	// Endpoint is the OTLP/HTTP base URL ("http://collector:4318"),
	// instead of OTEL_EXPORTER_OTLP_ENDPOINT; Headers are sent with every
	// export.
	Endpoint string
	Headers  map[string]string
	// SampleRatio, if set, samples this fraction of the traces that start
	// here (parent-based: a request whose caller sampled it is sampled);
	// nil follows OTEL_TRACES_SAMPLER (default: every trace).
	SampleRatio *float64
	// Prometheus serves the metrics for scraping (Providers.Metrics).
	Prometheus bool
	// MetricInterval is the OTLP metric export period (default
	// OTEL_METRIC_EXPORT_INTERVAL, or 60s).
	MetricInterval time.Duration
}

// Providers are the OpenTelemetry SDK's providers Setup built.
type Providers struct {
	TracerProvider *sdktrace.TracerProvider
	MeterProvider  *sdkmetric.MeterProvider
	Resource       *resource.Resource
	// Metrics serves the Prometheus text format (nil without
	// SetupOptions.Prometheus).
	Metrics http.Handler
	// Exporting says what is sent: "otlp traces", "otlp metrics",
	// "prometheus".
	Exporting []string
}

// Shutdown flushes and stops the providers.
func (p *Providers) Shutdown(ctx context.Context) error {
	return errors.Join(p.TracerProvider.Shutdown(ctx), p.MeterProvider.Shutdown(ctx))
}

// envSet reports whether any of the variables is set and not empty.
func envSet(names ...string) bool {
	for _, n := range names {
		if os.Getenv(n) != "" {
			return true
		}
	}
	return false
}

// Setup builds tracer and meter providers as o and the OTEL_* variables
// say, and installs them (and the W3C propagators) as the global ones.
func Setup(ctx context.Context, o SetupOptions) (*Providers, error) {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		o.OTLP, o.Prometheus = false, false
	}
	switch p := strings.ToLower(firstEnv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")); p {
	case "", "http/protobuf":
	default:
		return nil, fmt.Errorf("telemetry: OTEL_EXPORTER_OTLP_PROTOCOL=%s is not supported: Switchboard exports OTLP over HTTP (http/protobuf, port 4318)", p)
	}
	otlpOn := o.OTLP || o.Endpoint != "" || envSet("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		otlpOn = false
	}
	name := o.ServiceName
	if name == "" {
		name = "switchboard"
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", name)}
	if o.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", o.ServiceVersion))
	}
	res, err := resource.New(ctx, resource.WithAttributes(attrs...), resource.WithFromEnv(), resource.WithHost(), resource.WithProcessPID())
	if err != nil && res == nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	p := &Providers{Resource: res}

	topts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if o.SampleRatio != nil {
		topts = append(topts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(*o.SampleRatio))))
	}
	if otlpOn && !strings.EqualFold(os.Getenv("OTEL_TRACES_EXPORTER"), "none") {
		var eopts []otlptracehttp.Option
		if o.Endpoint != "" {
			eopts = append(eopts, otlptracehttp.WithEndpointURL(strings.TrimRight(o.Endpoint, "/")+"/v1/traces"))
		}
		if len(o.Headers) > 0 {
			eopts = append(eopts, otlptracehttp.WithHeaders(o.Headers))
		}
		exp, err := otlptracehttp.New(ctx, eopts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP trace exporter: %w", err)
		}
		topts = append(topts, sdktrace.WithBatcher(exp))
		p.Exporting = append(p.Exporting, "otlp traces")
	}
	p.TracerProvider = sdktrace.NewTracerProvider(topts...)

	mopts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	metricsExporter := strings.ToLower(os.Getenv("OTEL_METRICS_EXPORTER"))
	if otlpOn && metricsExporter != "none" && metricsExporter != "prometheus" {
		var eopts []otlpmetrichttp.Option
		if o.Endpoint != "" {
			eopts = append(eopts, otlpmetrichttp.WithEndpointURL(strings.TrimRight(o.Endpoint, "/")+"/v1/metrics"))
		}
		if len(o.Headers) > 0 {
			eopts = append(eopts, otlpmetrichttp.WithHeaders(o.Headers))
		}
		exp, err := otlpmetrichttp.New(ctx, eopts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP metric exporter: %w", err)
		}
		var ropts []sdkmetric.PeriodicReaderOption
		if o.MetricInterval > 0 {
			ropts = append(ropts, sdkmetric.WithInterval(o.MetricInterval))
		}
		mopts = append(mopts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, ropts...)))
		p.Exporting = append(p.Exporting, "otlp metrics")
	}
	if o.Prometheus || metricsExporter == "prometheus" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			return nil, fmt.Errorf("telemetry: Prometheus exporter: %w", err)
		}
		mopts = append(mopts, sdkmetric.WithReader(exp))
		p.Metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
		p.Exporting = append(p.Exporting, "prometheus")
	}
	p.MeterProvider = sdkmetric.NewMeterProvider(mopts...)
	otel.SetTracerProvider(p.TracerProvider)
	otel.SetMeterProvider(p.MeterProvider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return p, nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
