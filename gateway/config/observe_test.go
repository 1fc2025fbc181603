package config

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// The audit, telemetry and costs sections: decoded with their defaults,
// their keys in step with the schema, and their errors.
func TestObserveSections(t *testing.T) {
	cfg, err := Parse([]byte(`
audit:
  stream: gw-1
  arguments: values
  redact: {keys: [password, "*token*"], patterns: ['\b\d{16}\b'], maxValueBytes: 1024}
  onFailure: closed
  queueSize: 100
  checkpointEvery: 50
  checkpointInterval: 30s
  retention: {maxAge: 90d, maxSize: 1GB}
  export:
    file: {path: audit/audit.jsonl, maxSize: 10MB, maxFiles: 3}
    http: {url: "https://siem.example.com/ingest", headers: {Authorization: "Bearer x"}}
    otlp: {endpoint: "http://collector:4318/v1/logs"}
telemetry:
  metrics: true
  sampleRatio: 0.1
  otlp: {endpoint: "http://collector:4318"}
costs:
  default: 1
  upstreams: {search: 5}
  tools: {"search/query": 10}
  resultMeta: trust
  budgets:
    - {name: daily, per: tenant, limit: 1000}
    - {name: alice-hourly, per: identity, match: alice, period: hour, limit: 10, warnAt: 0.5}
mcpServers:
  search: {url: "https://search.example.com/mcp"}
`), FormatYAML, &LoadOptions{BaseDir: "/etc/switchboard", LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Audit
	if !a.On() || a.Stream != "gw-1" || a.Arguments != "values" || a.OnFailure != "closed" || a.QueueSize != 100 || a.CheckpointEvery != 50 ||
		a.CheckpointInterval != Duration(30*time.Second) || a.Redact.MaxValueBytes != 1024 || len(a.Redact.Keys) != 2 || len(a.Redact.Patterns) != 1 ||
		a.Retention.MaxAge != Duration(90*24*time.Hour) || a.Retention.MaxSize != 1e9 ||
		a.Export.File.Path != "/etc/switchboard/audit/audit.jsonl" || a.Export.File.MaxSize != 10e6 || a.Export.File.MaxFiles != 3 ||
		a.Export.HTTP.Headers["Authorization"] != "Bearer x" || a.Export.OTLP.Endpoint == "" {
		b, _ := json.Marshal(a)
		t.Errorf("audit: %s", b)
	}
	tl := cfg.Telemetry
	if !tl.Metrics || tl.SampleRatio == nil || *tl.SampleRatio != 0.1 || tl.OTLP.Endpoint != "http://collector:4318" || tl.Traces != nil {
		t.Errorf("telemetry: %+v", tl)
	}
	c := cfg.Costs
	if c.Default != 1 || c.Upstreams["search"] != 5 || c.Tools["search/query"] != 10 || c.ResultMeta != "trust" || len(c.Budgets) != 2 ||
		c.Budgets[0] != (Budget{Name: "daily", Per: "tenant", Period: "day", Limit: 1000}) ||
		c.Budgets[1] != (Budget{Name: "alice-hourly", Per: "identity", Match: "alice", Period: "hour", Limit: 10, WarnAt: 0.5}) {
		t.Errorf("costs: %+v", c)
	}

	none, err := Parse([]byte(`{"mcpServers": {}}`), FormatJSON, nil)
	if err != nil || none.Audit != nil || !none.Audit.On() || none.Telemetry != nil || none.Costs != nil {
		t.Errorf("absent sections: %+v %v", none, err)
	}

	for _, c := range []struct{ in, want string }{
		{`{"audit": {"arguments": "all"}}`, `audit.arguments: want "shape", "values" or "none"`},
		{`{"audit": {"onFailure": "maybe"}}`, `audit.onFailure: want "open" or "closed"`},
		{`{"audit": {"retention": {"maxSize": "lots"}}}`, `audit.retention.maxSize: want a size`},
		{`{"audit": {"redact": {"patterns": ["("]}}}`, `audit.redact.patterns[0]: not a valid regular expression`},
		{`{"audit": {"export": {"file": {}}}}`, `audit.export.file: missing key "path"`},
		{`{"audit": {"strem": "x"}}`, `audit.strem: unknown key "strem" (did you mean "stream"?)`},
		{`{"telemetry": {"sampleRatio": 2}}`, `telemetry.sampleRatio: want`},
		{`{"costs": {"budgets": [{"name": "b", "per": "team", "limit": 1}]}}`, `costs.budgets[0].per: want "tenant" or "identity"`},
		{`{"costs": {"budgets": [{"name": "b", "per": "tenant"}]}}`, `costs.budgets[0]: missing key "limit"`},
		{`{"costs": {"tools": {"a/b": -1}}}`, `costs.tools["a/b"]: want a number from 0`},
	} {
		_, err := Parse([]byte(c.in), FormatJSON, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.in, err, c.want)
		}
	}
}

// The keys the decoders read are the keys the schema lists.
func TestObserveSchemaKeys(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	defs := doc["$defs"].(map[string]any)
	props := func(v any) []string {
		return slices.Sorted(maps.Keys(v.(map[string]any)["properties"].(map[string]any)))
	}
	sub := func(def, key string) any { return defs[def].(map[string]any)["properties"].(map[string]any)[key] }
	for _, c := range []struct {
		name   string
		schema any
		keys   []string
	}{
		{"audit", defs["audit"], auditKeys},
		{"audit.redact", sub("audit", "redact"), auditRedactKeys},
		{"audit.retention", sub("audit", "retention"), auditRetentionKeys},
		{"audit.export", sub("audit", "export"), auditExportKeys},
		{"telemetry", defs["telemetry"], telemetryKeys},
		{"costs", defs["costs"], costsKeys},
		{"budget", defs["budget"], budgetKeys},
	} {
		if got, want := props(c.schema), slices.Sorted(slices.Values(c.keys)); !slices.Equal(got, want) {
			t.Errorf("%s: schema %q, decoder %q", c.name, got, want)
		}
	}
}
