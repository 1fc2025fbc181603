package config

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds the sections of the audit trail, telemetry and cost
// attribution: the top-level keys "audit", "telemetry" and "costs".

// Audit is the audit trail's settings, the top-level key "audit". The
// trail is on unless Enabled is false.
type Audit struct {
	// Enabled turns the trail off when false (default true).
	Enabled *bool `json:"enabled,omitempty"`
	// Stream names this gateway's hash chain (default: the host name).
	Stream string `json:"stream,omitzero"`
	// Arguments is what is kept of arguments and answers: "shape"
	// (default), "values" or "none".
	Arguments string `json:"arguments,omitzero"`
	// Redact hides values when Arguments is "values".
	Redact *AuditRedact `json:"redact,omitempty"`
	// OnFailure is "open" (default: keep serving, count what is not
	// recorded) or "closed" (refuse calls while records cannot be
	// written).
	OnFailure string `json:"onFailure,omitzero"`
	// QueueSize bounds the events waiting to be written (default 8192).
	QueueSize int `json:"queueSize,omitzero"`
	// CheckpointEvery and CheckpointInterval say when a signed checkpoint
	// is written (defaults 1000 records, 1m).
	CheckpointEvery    int      `json:"checkpointEvery,omitzero"`
	CheckpointInterval Duration `json:"checkpointInterval,omitzero"`
	// Retention deletes old records.
	Retention *AuditRetention `json:"retention,omitempty"`
	// Export streams records to a SIEM.
	Export *AuditExport `json:"export,omitempty"`
}

// On reports whether the trail is on.
func (a *Audit) On() bool { return a == nil || a.Enabled == nil || *a.Enabled }

// AuditRedact is "audit.redact".
type AuditRedact struct {
	// Keys are member names whose values are hidden (path.Match
	// patterns, case-insensitive); absent means the built-in list.
	Keys []string `json:"keys,omitempty"`
	// Patterns are regular expressions hiding what they match in strings.
	Patterns []string `json:"patterns,omitempty"`
	// MaxValueBytes truncates longer strings (default 4096).
	MaxValueBytes int `json:"maxValueBytes,omitzero"`
}

// AuditRetention is "audit.retention".
type AuditRetention struct {
	// MaxAge deletes older records ("90d", "720h").
	MaxAge Duration `json:"maxAge,omitzero"`
	// MaxSize bounds each stream's records ("1GB", "500MB", or bytes).
	MaxSize int64 `json:"maxSize,omitzero"`
}

// AuditExport is "audit.export": where records are streamed.
type AuditExport struct {
	File *AuditFileExport `json:"file,omitempty"`
	HTTP *AuditHTTPExport `json:"http,omitempty"`
	OTLP *AuditOTLPExport `json:"otlp,omitempty"`
}

// AuditFileExport writes JSON lines to a file rotated by size.
type AuditFileExport struct {
	// Path is the file (relative to the configuration file's directory).
	Path string `json:"path"`
	// MaxSize rotates the file past this size (default 100MB); MaxFiles
	// rotated files are kept (default 5).
	MaxSize  int64 `json:"maxSize,omitzero"`
	MaxFiles int   `json:"maxFiles,omitzero"`
}

// AuditHTTPExport posts JSON lines to a URL.
type AuditHTTPExport struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

// AuditOTLPExport sends OpenTelemetry log records over OTLP/HTTP.
type AuditOTLPExport struct {
	// Endpoint is the logs URL ("http://collector:4318/v1/logs"); empty
	// uses OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT.
	Endpoint string            `json:"endpoint,omitzero"`
	Headers  map[string]string `json:"headers,omitempty"`
}

// Telemetry is the top-level key "telemetry": traces and metrics.
type Telemetry struct {
	// Traces makes spans (default: on when an OTLP endpoint is configured
	// here or in OTEL_EXPORTER_OTLP_*ENDPOINT).
	Traces *bool `json:"traces,omitempty"`
	// Metrics serves Prometheus metrics at /metrics (default false) and
	// records metrics for OTLP when it is configured.
	Metrics bool `json:"metrics,omitzero"`
	// OTLP is the collector (else the OTEL_* variables).
	OTLP *TelemetryOTLP `json:"otlp,omitempty"`
	// SampleRatio samples this fraction of new traces (0 to 1; default
	// OTEL_TRACES_SAMPLER, or all).
	SampleRatio *float64 `json:"sampleRatio,omitempty"`
	// CaptureToolCalls records tool arguments and results on spans
	// (gen_ai.tool.call.arguments/result; sensitive).
	CaptureToolCalls bool `json:"captureToolCalls,omitzero"`
	// ServiceName is service.name (default "switchboard";
	// OTEL_SERVICE_NAME wins).
	ServiceName string `json:"serviceName,omitzero"`
}

// TelemetryOTLP is "telemetry.otlp".
type TelemetryOTLP struct {
	// Endpoint is the OTLP/HTTP base URL ("http://collector:4318").
	Endpoint string            `json:"endpoint,omitzero"`
	Headers  map[string]string `json:"headers,omitempty"`
}

// Costs is the top-level key "costs": what tool calls cost and the
// budgets that bound them.
type Costs struct {
	// Default is the cost units of a tool call no other entry prices.
	Default float64 `json:"default,omitzero"`
	// Upstreams prices every tool of a server, by server name.
	Upstreams map[string]float64 `json:"upstreams,omitempty"`
	// Tools prices one tool, by "server/tool" (the server's own name) or
	// the name clients see.
	Tools map[string]float64 `json:"tools,omitempty"`
	// ResultMeta is "ignore" (default) or "trust": use the cost a tool
	// result reports in _meta under MetaKey.
	ResultMeta string `json:"resultMeta,omitzero"`
	// MetaKey is the _meta key of a reported cost (default
	// "switchboard/cost").
	MetaKey string `json:"metaKey,omitzero"`
	// Budgets bound what tenants or identities spend per period.
	Budgets []Budget `json:"budgets,omitempty"`
}

// Budget is an element of "costs.budgets".
type Budget struct {
	Name string `json:"name"`
	// Per is "tenant" or "identity".
	Per string `json:"per"`
	// Match restricts the budget to one tenant or identity ("*": all).
	Match string `json:"match,omitzero"`
	// Period is "hour", "day" (default), "week" or "month".
	Period string  `json:"period,omitzero"`
	Limit  float64 `json:"limit"`
	// WarnAt is the fraction of Limit that warns (default 0.8).
	WarnAt float64 `json:"warnAt,omitzero"`
}

// The keys of the sections, kept in step with schema.json by a test.
var (
	auditKeys          = []string{"enabled", "stream", "arguments", "redact", "onFailure", "queueSize", "checkpointEvery", "checkpointInterval", "retention", "export"}
	auditRedactKeys    = []string{"keys", "patterns", "maxValueBytes"}
	auditRetentionKeys = []string{"maxAge", "maxSize"}
	auditExportKeys    = []string{"file", "http", "otlp"}
	auditFileKeys      = []string{"path", "maxSize", "maxFiles"}
	auditHTTPKeys      = []string{"url", "headers"}
	auditOTLPKeys      = []string{"endpoint", "headers"}
	telemetryKeys      = []string{"traces", "metrics", "otlp", "sampleRatio", "captureToolCalls", "serviceName"}
	telemetryOTLPKeys  = []string{"endpoint", "headers"}
	costsKeys          = []string{"default", "upstreams", "tools", "resultMeta", "metaKey", "budgets"}
	budgetKeys         = []string{"name", "per", "match", "period", "limit", "warnAt"}
)

// object reads v as an object, reporting keys not in known (known nil:
// any key); nil when absent or not an object.
func (d *decoder) object(v any, path string, known []string) map[string]any {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		d.wrongType(path, v, "an object")
		return nil
	}
	if known != nil {
		for _, k := range sortedKeys(m) {
			if !slices.Contains(known, k) {
				d.unknownKey(path, k, known)
			}
		}
	}
	return m
}

// number reads m[key] as a number within [lo, hi].
func (d *decoder) number(m map[string]any, key, path string, lo, hi float64, whole bool) (float64, bool) {
	v, present := m[key]
	if !present {
		return 0, false
	}
	p := childPath(path, key)
	f, ok := v.(float64)
	if !ok {
		if whole {
			d.wrongType(p, v, "a whole number")
		} else {
			d.wrongType(p, v, "a number")
		}
		return 0, false
	}
	if whole && f != math.Trunc(f) {
		d.errorf(prioDecode, p, "want a whole number")
		return 0, false
	}
	if f < lo || f > hi || f != f {
		d.errorf(prioDecode, p, "want a number from %s to %s", strconv.FormatFloat(lo, 'f', -1, 64), strconv.FormatFloat(hi, 'f', -1, 64))
		return 0, false
	}
	return f, true
}

var sizePattern = regexp.MustCompile(`^(?i)\s*([0-9]+(?:\.[0-9]+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?\s*$`)

// size reads a byte size: a number of bytes or "100MB", "1GiB", ...
func (d *decoder) size(m map[string]any, key, path string) (int64, bool) {
	v, present := m[key]
	if !present {
		return 0, false
	}
	p := childPath(path, key)
	switch x := v.(type) {
	case float64:
		if x < 0 || x != math.Trunc(x) {
			d.errorf(prioDecode, p, "want a whole number of bytes")
			return 0, false
		}
		return int64(x), true
	case string:
		mm := sizePattern.FindStringSubmatch(d.expand(p, x))
		if mm == nil {
			d.errorf(prioDecode, p, `want a size such as "500MB" or "1GB", or a number of bytes`)
			return 0, false
		}
		f, _ := strconv.ParseFloat(mm[1], 64)
		mult := map[string]float64{"": 1, "b": 1, "kb": 1e3, "kib": 1 << 10, "mb": 1e6, "mib": 1 << 20, "gb": 1e9, "gib": 1 << 30, "tb": 1e12, "tib": 1 << 40}[strings.ToLower(mm[2])]
		return int64(f * mult), true
	}
	d.wrongType(p, v, `a size ("500MB") or a number of bytes`)
	return 0, false
}

// age reads a duration that may also be given in days ("90d").
func (d *decoder) age(m map[string]any, key, path string) (Duration, bool) {
	if s, ok := m[key].(string); ok {
		if n, found := strings.CutSuffix(strings.TrimSpace(s), "d"); found {
			if f, err := strconv.ParseFloat(n, 64); err == nil && f >= 0 {
				return Duration(f * float64(24*time.Hour)), true
			}
		}
	}
	return d.duration(m, key, path)
}

func (d *decoder) decodeAudit(v any) *Audit {
	const path = "audit"
	m := d.object(v, path, auditKeys)
	if m == nil {
		return nil
	}
	a := &Audit{}
	if b, ok := d.boolean(m, "enabled", path); ok {
		a.Enabled = &b
	}
	a.Stream, _ = d.str(m, "stream", path)
	if s, ok := d.str(m, "arguments", path); ok {
		switch s {
		case "shape", "values", "none":
			a.Arguments = s
		default:
			d.errorf(prioDecode, "audit.arguments", `want "shape", "values" or "none", got %q`, s)
		}
	}
	if s, ok := d.str(m, "onFailure", path); ok {
		switch s {
		case "open", "closed":
			a.OnFailure = s
		default:
			d.errorf(prioDecode, "audit.onFailure", `want "open" or "closed", got %q`, s)
		}
	}
	if f, ok := d.number(m, "queueSize", path, 1, 1e7, true); ok {
		a.QueueSize = int(f)
	}
	if f, ok := d.number(m, "checkpointEvery", path, 1, 1e9, true); ok {
		a.CheckpointEvery = int(f)
	}
	if v, ok := d.duration(m, "checkpointInterval", path); ok {
		a.CheckpointInterval = v
	}
	if rm := d.object(m["redact"], "audit.redact", auditRedactKeys); rm != nil {
		a.Redact = &AuditRedact{Keys: d.strList(rm, "keys", "audit.redact"), Patterns: d.strList(rm, "patterns", "audit.redact")}
		for i, p := range a.Redact.Patterns {
			if _, err := regexp.Compile(p); err != nil {
				d.errorf(prioDecode, indexPath("audit.redact.patterns", i), "not a valid regular expression: %v", err)
			}
		}
		if f, ok := d.number(rm, "maxValueBytes", "audit.redact", 16, 1<<24, true); ok {
			a.Redact.MaxValueBytes = int(f)
		}
	}
	if rm := d.object(m["retention"], "audit.retention", auditRetentionKeys); rm != nil {
		a.Retention = &AuditRetention{}
		if v, ok := d.age(rm, "maxAge", "audit.retention"); ok {
			a.Retention.MaxAge = v
		}
		if v, ok := d.size(rm, "maxSize", "audit.retention"); ok {
			a.Retention.MaxSize = v
		}
	}
	if em := d.object(m["export"], "audit.export", auditExportKeys); em != nil {
		a.Export = &AuditExport{}
		if fm := d.object(em["file"], "audit.export.file", auditFileKeys); fm != nil {
			f := &AuditFileExport{}
			if s, ok := d.str(fm, "path", "audit.export.file"); ok && s != "" {
				f.Path = d.resolvePath(s)
			} else {
				d.errorf(prioDecode, "audit.export.file", "missing key %q", "path")
			}
			if v, ok := d.size(fm, "maxSize", "audit.export.file"); ok {
				f.MaxSize = v
			}
			if v, ok := d.number(fm, "maxFiles", "audit.export.file", 1, 1000, true); ok {
				f.MaxFiles = int(v)
			}
			a.Export.File = f
		}
		if hm := d.object(em["http"], "audit.export.http", auditHTTPKeys); hm != nil {
			h := &AuditHTTPExport{}
			if s, ok := d.str(hm, "url", "audit.export.http"); ok {
				h.URL = s
				d.checkURL("audit.export.http.url", s)
			} else {
				d.errorf(prioDecode, "audit.export.http", "missing key %q", "url")
			}
			h.Headers = d.strMap(hm, "headers", "audit.export.http", validHeaderKey, "header")
			a.Export.HTTP = h
		}
		if om := d.object(em["otlp"], "audit.export.otlp", auditOTLPKeys); om != nil {
			o := &AuditOTLPExport{}
			if s, ok := d.str(om, "endpoint", "audit.export.otlp"); ok {
				o.Endpoint = s
				d.checkURL("audit.export.otlp.endpoint", s)
			}
			o.Headers = d.strMap(om, "headers", "audit.export.otlp", validHeaderKey, "header")
			a.Export.OTLP = o
		}
	}
	return a
}

func (d *decoder) decodeTelemetry(v any) *Telemetry {
	const path = "telemetry"
	m := d.object(v, path, telemetryKeys)
	if m == nil {
		return nil
	}
	t := &Telemetry{}
	if b, ok := d.boolean(m, "traces", path); ok {
		t.Traces = &b
	}
	t.Metrics, _ = d.boolean(m, "metrics", path)
	t.CaptureToolCalls, _ = d.boolean(m, "captureToolCalls", path)
	t.ServiceName, _ = d.str(m, "serviceName", path)
	if f, ok := d.number(m, "sampleRatio", path, 0, 1, false); ok {
		t.SampleRatio = &f
	}
	if om := d.object(m["otlp"], "telemetry.otlp", telemetryOTLPKeys); om != nil {
		o := &TelemetryOTLP{}
		if s, ok := d.str(om, "endpoint", "telemetry.otlp"); ok {
			o.Endpoint = s
			d.checkURL("telemetry.otlp.endpoint", s)
		}
		o.Headers = d.strMap(om, "headers", "telemetry.otlp", validHeaderKey, "header")
		t.OTLP = o
	}
	return t
}

func (d *decoder) decodeCosts(v any) *Costs {
	const path = "costs"
	m := d.object(v, path, costsKeys)
	if m == nil {
		return nil
	}
	c := &Costs{}
	if f, ok := d.number(m, "default", path, 0, 1e12, false); ok {
		c.Default = f
	}
	for _, key := range []string{"upstreams", "tools"} {
		mm := d.object(m[key], childPath(path, key), nil)
		if mm == nil {
			continue
		}
		out := map[string]float64{}
		for _, k := range sortedKeys(mm) {
			if f, ok := d.number(mm, k, childPath(path, key), 0, 1e12, false); ok {
				out[k] = f
			}
		}
		if key == "upstreams" {
			c.Upstreams = out
		} else {
			c.Tools = out
		}
	}
	if s, ok := d.str(m, "resultMeta", path); ok {
		switch s {
		case "trust", "ignore":
			c.ResultMeta = s
		default:
			d.errorf(prioDecode, "costs.resultMeta", `want "trust" or "ignore", got %q`, s)
		}
	}
	c.MetaKey, _ = d.str(m, "metaKey", path)
	if bv, ok := m["budgets"]; ok {
		list, isList := bv.([]any)
		if !isList {
			d.wrongType("costs.budgets", bv, "an array")
		}
		seen := map[string]bool{}
		for i, e := range list {
			p := indexPath("costs.budgets", i)
			bm := d.object(e, p, budgetKeys)
			if bm == nil {
				continue
			}
			b := Budget{Period: "day"}
			b.Name, _ = d.str(bm, "name", p)
			if b.Name == "" {
				d.errorf(prioDecode, p, "missing key %q", "name")
			} else if seen[b.Name] {
				d.errorf(prioDecode, childPath(p, "name"), "budget %q is defined twice", b.Name)
			}
			seen[b.Name] = true
			if s, ok := d.str(bm, "per", p); !ok {
				d.errorf(prioDecode, p, "missing key %q", "per")
			} else if s != "tenant" && s != "identity" {
				d.errorf(prioDecode, childPath(p, "per"), `want "tenant" or "identity", got %q`, s)
			} else {
				b.Per = s
			}
			b.Match, _ = d.str(bm, "match", p)
			if s, ok := d.str(bm, "period", p); ok {
				switch s {
				case "hour", "day", "week", "month":
					b.Period = s
				default:
					d.errorf(prioDecode, childPath(p, "period"), `want "hour", "day", "week" or "month", got %q`, s)
				}
			}
			if f, ok := d.number(bm, "limit", p, 0, 1e15, false); ok {
				b.Limit = f
			} else if _, present := bm["limit"]; !present {
				d.errorf(prioDecode, p, "missing key %q", "limit")
			}
			if f, ok := d.number(bm, "warnAt", p, 0, 1, false); ok {
				b.WarnAt = f
			}
			c.Budgets = append(c.Budgets, b)
		}
	}
	return c
}
