package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/switchboard-mcp/switchboard/audit"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/store"
	"github.com/switchboard-mcp/switchboard/telemetry"
	"github.com/switchboard-mcp/switchboard/usage"
)

// observability is what serve adds to the gateway for the audit trail,
// traces and metrics, and cost attribution: hooks on gateway.Options, a
// /metrics handler, admin API routes. Each part is off when not
// configured (the audit trail is on unless "audit.enabled" is false).
type observability struct {
	log    *slog.Logger
	writer *audit.Writer
	meter  *usage.Meter
	inst   *telemetry.Instrumentation
	prov   *telemetry.Providers
	db     *store.DB

	g        atomic.Pointer[gateway.Gateway]
	peers    sync.Map // upstream name -> []attribute.KeyValue
	urls     map[string]string
	stop     chan struct{}
	stopOnce sync.Once
	cost     metric.Float64Counter
	// failClosed is the audit trail's failure policy.
	failClosed bool
}

// setupObservability configures audit, telemetry and costs from cfg (nil
// without a configuration file) into opts. Call attach once the gateway
// exists, and Close at the end.
func setupObservability(ctx context.Context, cfg *config.Config, opts *gateway.Options, db *store.DB, logger *slog.Logger) (*observability, error) {
	o := &observability{log: logger, db: db, stop: make(chan struct{}), urls: map[string]string{}}
	if cfg == nil {
		cfg = &config.Config{}
	}
	for name, s := range cfg.Servers {
		o.urls[name] = s.URL
	}
	if err := o.setupTelemetry(ctx, cfg.Telemetry); err != nil {
		return nil, err
	}
	if err := o.setupCosts(cfg.Costs); err != nil {
		o.Close()
		return nil, err
	}
	if err := o.setupAudit(ctx, cfg.Audit); err != nil {
		o.Close()
		return nil, err
	}
	o.install(opts)
	return o, nil
}

func (o *observability) setupTelemetry(ctx context.Context, tc *config.Telemetry) error {
	envOTLP := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != ""
	if tc == nil && !envOTLP {
		return nil
	}
	if tc == nil {
		tc = &config.Telemetry{}
	}
	so := telemetry.SetupOptions{ServiceName: tc.ServiceName, ServiceVersion: version, Prometheus: tc.Metrics, SampleRatio: tc.SampleRatio}
	if tc.OTLP != nil {
		so.OTLP, so.Endpoint, so.Headers = true, tc.OTLP.Endpoint, tc.OTLP.Headers
	}
	otlp := so.OTLP || envOTLP
	traces := otlp
	if tc.Traces != nil {
		traces = *tc.Traces
	}
	if !traces && !tc.Metrics && !otlp {
		return nil
	}
	prov, err := telemetry.Setup(ctx, so)
	if err != nil {
		return err
	}
	o.prov = prov
	var tp trace.TracerProvider = prov.TracerProvider
	if !traces {
		tp = tracenoop.NewTracerProvider()
	}
	o.inst, err = telemetry.New(telemetry.Options{TracerProvider: tp, MeterProvider: prov.MeterProvider,
		CaptureToolCalls: tc.CaptureToolCalls, ClientAttributes: o.clientAttributes})
	if err != nil {
		return err
	}
	o.cost, err = o.inst.Meter().Float64Counter("switchboard.usage.cost", metric.WithUnit("{unit}"),
		metric.WithDescription("Cost units charged for tool calls, by upstream and tool."))
	if err != nil {
		return err
	}
	o.log.Info("telemetry on", "exporting", strings.Join(prov.Exporting, ", "), "traces", traces)
	return nil
}

func (o *observability) setupCosts(cc *config.Costs) error {
	if cc == nil {
		cc = &config.Costs{}
	}
	costs := &usage.Costs{Default: cc.Default, Upstreams: cc.Upstreams, Tools: cc.Tools, TrustResultMeta: cc.ResultMeta == "trust", MetaKey: cc.MetaKey}
	var budgets []usage.Budget
	for _, b := range cc.Budgets {
		budgets = append(budgets, usage.Budget{Name: b.Name, Per: b.Per, Match: b.Match, Period: b.Period, Limit: b.Limit, WarnAt: b.WarnAt})
	}
	var err error
	o.meter, err = usage.NewMeter(usage.Options{Storage: o.db.Usage(), Costs: costs, Budgets: budgets, Logger: o.log, OnBudget: o.budgetEvent})
	return err
}

// budgetEvent records budget warnings and exhaustion in the trail.
func (o *observability) budgetEvent(e usage.BudgetEvent) {
	if o.writer == nil || e.Kind == "refused" { // a refused call has its own record
		return
	}
	detail, _ := json.Marshal(map[string]any{"budget": e.Budget.Name, "per": e.Budget.Per, "key": e.Key, "period": e.Budget.Period,
		"used": e.Used, "limit": e.Limit, "resets": e.Resets.Format(time.RFC3339)})
	r := &audit.Record{Kind: audit.KindBudget, Outcome: e.Kind, Rule: "budget:" + e.Budget.Name, Detail: detail,
		Reason: fmt.Sprintf("%s %q used %s of %s units of budget %q (resets %s)", e.Budget.Per, e.Key,
			strconv.FormatFloat(e.Used, 'f', -1, 64), strconv.FormatFloat(e.Limit, 'f', -1, 64), e.Budget.Name, e.Resets.Format(time.RFC3339))}
	if id := e.Identity; id != nil {
		r.Subject, r.ClientID, r.Tenant = id.Subject, id.ClientID, id.Tenant
	}
	o.writer.Record(r)
}

func (o *observability) setupAudit(ctx context.Context, ac *config.Audit) error {
	if !ac.On() {
		return nil
	}
	if ac == nil {
		ac = &config.Audit{}
	}
	wo := audit.Options{Storage: o.db.Audit(), Stream: ac.Stream, Capture: audit.Capture(ac.Arguments), FailClosed: ac.OnFailure == "closed",
		QueueSize: ac.QueueSize, CheckpointEvery: ac.CheckpointEvery, CheckpointInterval: time.Duration(ac.CheckpointInterval),
		Cost: o.meter.Cost, Logger: o.log}
	if r := ac.Redact; r != nil {
		red, err := audit.NewRedactor(r.Keys, r.Patterns, r.MaxValueBytes)
		if err != nil {
			return err
		}
		wo.Redactor = red
	}
	if r := ac.Retention; r != nil {
		wo.Retention = audit.Retention{MaxAge: time.Duration(r.MaxAge), MaxBytes: r.MaxSize}
	}
	if ex := ac.Export; ex != nil {
		if f := ex.File; f != nil {
			s, err := audit.NewFileSink(audit.FileSinkOptions{Path: f.Path, MaxBytes: f.MaxSize, MaxFiles: f.MaxFiles, Logger: o.log})
			if err != nil {
				return err
			}
			wo.Sinks = append(wo.Sinks, s)
		}
		if h := ex.HTTP; h != nil {
			hdr := http.Header{}
			for k, v := range h.Headers {
				hdr.Set(k, v)
			}
			s, err := audit.NewHTTPSink(audit.HTTPSinkOptions{URL: h.URL, Header: hdr, Logger: o.log})
			if err != nil {
				return err
			}
			wo.Sinks = append(wo.Sinks, s)
		}
		if x := ex.OTLP; x != nil {
			so := audit.OTLPSinkOptions{Endpoint: x.Endpoint, Headers: x.Headers, Logger: o.log}
			if o.prov != nil {
				so.Resource = o.prov.Resource
			}
			s, err := audit.NewOTLPSink(ctx, so)
			if err != nil {
				return err
			}
			wo.Sinks = append(wo.Sinks, s)
		}
	}
	w, err := audit.NewWriter(ctx, wo)
	if err != nil {
		for _, s := range wo.Sinks {
			s.Close()
		}
		return err
	}
	o.writer, o.failClosed = w, wo.FailClosed
	if o.inst != nil {
		m := o.inst.Meter()
		written, _ := m.Int64ObservableCounter("switchboard.audit.records", metric.WithDescription("Audit records written."))
		dropped, _ := m.Int64ObservableCounter("switchboard.audit.dropped", metric.WithDescription("Events the audit trail could not record."))
		queued, _ := m.Int64ObservableGauge("switchboard.audit.queue", metric.WithDescription("Events waiting to be written to the audit trail."))
		_, _ = m.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
			st := w.Stats()
			ob.ObserveInt64(written, st.Written)
			ob.ObserveInt64(dropped, st.Dropped)
			ob.ObserveInt64(queued, int64(st.Queued))
			return nil
		}, written, dropped, queued)
	}
	return nil
}

// install adds the hooks to opts, around those already there (a
// policy's): telemetry outermost, then the meter; Authorize asks the
// audit trail (fail closed), then the policy, then the budgets.
func (o *observability) install(opts *gateway.Options) {
	h := &opts.Hooks
	var mw []mcp.Middleware
	if o.inst != nil {
		mw = append(mw, o.inst.ServerMiddleware())
		h.UpstreamMiddleware = append([]mcp.ClientMiddleware{o.inst.ClientMiddleware()}, h.UpstreamMiddleware...)
		if opts.ServerOptions == nil {
			opts.ServerOptions = &mcp.ServerOptions{}
		}
		o.inst.InstrumentServer(opts.ServerOptions)
	}
	mw = append(mw, o.meter.Middleware())
	h.Middleware = append(mw, h.Middleware...)
	policy := h.Authorize
	h.Authorize = func(ctx context.Context, a *gateway.Access) error {
		if o.writer != nil {
			if err := o.writer.Authorize(ctx, a); err != nil {
				return err
			}
		}
		if policy != nil {
			if err := policy(ctx, a); err != nil {
				return err
			}
		}
		return o.meter.Authorize(ctx, a)
	}
	observers := []func(context.Context, *gateway.Event){o.meter.Observe}
	if o.writer != nil {
		observers = append(observers, o.writer.Observe)
	}
	if o.cost != nil {
		observers = append(observers, func(ctx context.Context, e *gateway.Event) {
			if e.Method == protocol.MethodToolsCall && e.Kind == gateway.KindRequest {
				if c := o.meter.Cost(ctx, e); c > 0 {
					o.cost.Add(ctx, c, metric.WithAttributes(attribute.String(telemetry.AttrUpstream, e.Upstream), attribute.String(telemetry.AttrToolName, e.Original)))
				}
			}
		})
	}
	h.Observe = append(observers, h.Observe...)
}

// attach gives the parts that need it the gateway: upstream health
// metrics and the attributes of upstream calls.
func (o *observability) attach(g *gateway.Gateway) {
	o.g.Store(g)
	if o.inst == nil {
		return
	}
	o.refreshPeers()
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-o.stop:
				return
			case <-t.C:
				o.refreshPeers()
			}
		}
	}()
	m := o.inst.Meter()
	up, _ := m.Int64ObservableGauge("switchboard.upstream.up", metric.WithDescription("1 when the upstream is ready (or degraded), else 0; its state is an attribute."))
	inflight, _ := m.Int64ObservableGauge("switchboard.upstream.in_flight", metric.WithDescription("Calls relayed to the upstream and not answered yet."))
	tools, _ := m.Int64ObservableGauge("switchboard.upstream.tools", metric.WithDescription("Tools the upstream offers."))
	_, _ = m.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
		ups, _ := g.Status()
		for _, u := range ups {
			v := int64(0)
			if u.State == gateway.StateReady || u.State == gateway.StateDegraded {
				v = 1
			}
			attrs := metric.WithAttributes(attribute.String(telemetry.AttrUpstream, u.Name), attribute.String("switchboard.upstream.state", string(u.State)))
			ob.ObserveInt64(up, v, attrs)
			name := metric.WithAttributes(attribute.String(telemetry.AttrUpstream, u.Name))
			ob.ObserveInt64(inflight, int64(u.InFlight), name)
			ob.ObserveInt64(tools, int64(u.Tools), name)
		}
		return nil
	}, up, inflight, tools)
}

// refreshPeers recomputes the attributes of each upstream's calls.
func (o *observability) refreshPeers() {
	g := o.g.Load()
	if g == nil {
		return
	}
	ups, _ := g.Status()
	for _, u := range ups {
		attrs := []attribute.KeyValue{attribute.String(telemetry.AttrUpstream, u.Name)}
		switch u.Transport {
		case "stdio":
			attrs = append(attrs, attribute.String(telemetry.AttrNetworkTransport, "pipe"))
		case "http", "sse":
			attrs = append(attrs, attribute.String(telemetry.AttrNetworkTransport, "tcp"), attribute.String(telemetry.AttrNetworkProtocol, "http"))
			if pu, err := url.Parse(o.urls[u.Name]); err == nil && pu.Hostname() != "" {
				attrs = append(attrs, attribute.String(telemetry.AttrServerAddress, pu.Hostname()))
				port := pu.Port()
				if port == "" {
					port = map[string]string{"http": "80", "https": "443"}[pu.Scheme]
				}
				if n, err := strconv.Atoi(port); err == nil {
					attrs = append(attrs, attribute.Int(telemetry.AttrServerPort, n))
				}
			}
		}
		if u.ProtocolVersion != "" {
			attrs = append(attrs, attribute.String(telemetry.AttrProtocolVersion, u.ProtocolVersion))
		}
		o.peers.Store(u.Name, attrs)
	}
}

// clientAttributes are the attributes of an upstream call.
func (o *observability) clientAttributes(ctx context.Context) []attribute.KeyValue {
	ri := gateway.RelayFrom(ctx)
	if ri == nil {
		return nil
	}
	if v, ok := o.peers.Load(ri.Upstream); ok {
		return v.([]attribute.KeyValue)
	}
	return []attribute.KeyValue{attribute.String(telemetry.AttrUpstream, ri.Upstream)}
}

// mount adds /metrics to mux when Prometheus metrics are on.
func (o *observability) mount(mux *http.ServeMux) string {
	if o.prov == nil || o.prov.Metrics == nil {
		return ""
	}
	mux.Handle("GET /metrics", o.prov.Metrics)
	return "/metrics"
}

// routes are the admin API's usage and audit routes.
func (o *observability) routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/usage": http.HandlerFunc(o.usageAPI),
		"GET /api/audit": http.HandlerFunc(o.auditAPI),
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.MarshalWrite(w, v)
}

func apiError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]string{"code": "bad_request", "message": msg}})
}

// usageAPI serves GET /api/usage?since=24h&until=&by=tenant,tool&period=day&tenant=&identity=&client=&upstream=&tool=
func (o *observability) usageAPI(w http.ResponseWriter, r *http.Request) {
	q, err := usageQuery(r.URL.Query().Get, time.Now())
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := o.meter.Flush(r.Context()); err != nil {
		o.log.Warn("usage: flushing the ledger", "err", err)
	}
	rows, err := o.db.Usage().Usage(r.Context(), q)
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if rows == nil {
		rows = []usage.Row{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": q.Since, "until": q.Until, "period": q.Period, "by": q.GroupBy, "rows": rows})
}

// auditAPI serves GET /api/audit?since=&until=&identity=&tenant=&upstream=&tool=&outcome=&limit= (newest first).
func (o *observability) auditAPI(w http.ResponseWriter, r *http.Request) {
	get := r.URL.Query().Get
	q, err := auditQuery(get, time.Now())
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	q.Newest = true
	if q.Limit == 0 {
		q.Limit = 100
	}
	if o.writer != nil {
		_ = o.writer.Flush(r.Context())
	}
	out := []*audit.Record{}
	for s, err := range o.db.Audit().Records(r.Context(), q) {
		if err != nil {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if rec, err := s.Record(); err == nil {
			out = append(out, rec)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": out})
}

// Close stops the parts: the meter writes its ledger, the audit writer
// its queue and a checkpoint, telemetry flushes.
func (o *observability) Close() {
	o.stopOnce.Do(func() {
		close(o.stop)
		if o.meter != nil {
			o.meter.Close()
		}
		if o.writer != nil {
			o.writer.Close()
		}
		if o.prov != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := o.prov.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				o.log.Warn("telemetry: shutting down", "err", err)
			}
		}
	})
}

// parseTime reads a time bound: a duration before now ("24h", "7d"), an
// RFC 3339 time, or a date (UTC).
func parseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if f, err := strconv.ParseFloat(n, 64); err == nil {
			return now.Add(-time.Duration(f * float64(24*time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want a duration before now (24h, 7d), an RFC 3339 time or a date (2026-12-01)", s)
}

// usageQuery builds a ledger query from parameters (flags or URL query).
func usageQuery(get func(string) string, now time.Time) (*usage.Query, error) {
	q := &usage.Query{Tenant: get("tenant"), Subject: get("identity"), Client: get("client"), Upstream: get("upstream"), Tool: get("tool")}
	var err error
	since := get("since")
	if since == "" {
		since = "24h"
	}
	if q.Since, err = parseTime(since, now); err != nil {
		return nil, err
	}
	if q.Until, err = parseTime(get("until"), now); err != nil {
		return nil, err
	}
	switch p := get("period"); p {
	case "", "total":
	case usage.Hour, usage.Day:
		q.Period = p
	default:
		return nil, fmt.Errorf("period %q: want hour, day or total", p)
	}
	q.GroupBy = []string{}
	by := get("by")
	if by == "" {
		by = "tenant,identity,upstream,tool"
	}
	if by != "none" {
		for d := range strings.SplitSeq(by, ",") {
			if d = strings.TrimSpace(d); d != "" {
				q.GroupBy = append(q.GroupBy, d)
			}
		}
	}
	if err := usage.ValidGroupBy(q.GroupBy); err != nil {
		return nil, err
	}
	return q, nil
}

// auditQuery builds a trail query from parameters.
func auditQuery(get func(string) string, now time.Time) (*audit.Query, error) {
	q := &audit.Query{Stream: get("stream"), Subject: get("identity"), Tenant: get("tenant"), ClientID: get("client"),
		Upstream: get("upstream"), Tool: get("tool"), Outcome: get("outcome"), Kind: get("kind"), Method: get("method")}
	var err error
	if q.Since, err = parseTime(get("since"), now); err != nil {
		return nil, err
	}
	if q.Until, err = parseTime(get("until"), now); err != nil {
		return nil, err
	}
	if l := get("limit"); l != "" {
		if q.Limit, err = strconv.Atoi(l); err != nil || q.Limit < 0 {
			return nil, fmt.Errorf("limit %q: want a number", l)
		}
	}
	return q, nil
}

// print mounts /metrics and says on w what is on.
func (o *observability) print(w io.Writer, mux *http.ServeMux, base string) {
	if p := o.mount(mux); p != "" {
		fmt.Fprintf(w, "  metrics: %s%s\n", base, p)
	}
	if o.writer != nil {
		mode := "fail open"
		if o.failClosed {
			mode = "fail closed"
		}
		fmt.Fprintf(w, "  audit trail: stream %q in the %s store (%s)\n", o.writer.Stream(), o.db.Backend(), mode)
	}
}
