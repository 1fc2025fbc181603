package registry_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/registry"
)

// mutate returns a valid server.json changed by f.
func mutate(f func(m map[string]any)) []byte {
	m := map[string]any{
		"$schema":     registry.CurrentSchemaURL,
		"name":        "com.example/weather",
		"description": "Weather forecasts",
		"version":     "1.0.0",
		"repository":  map[string]any{"url": "https://github.com/example/weather", "source": "github"},
		"packages": []any{map[string]any{
			"registryType": "npm", "identifier": "@example/weather", "version": "1.0.0",
			"transport":            map[string]any{"type": "stdio"},
			"packageArguments":     []any{map[string]any{"type": "named", "name": "--units", "value": "metric"}},
			"environmentVariables": []any{map[string]any{"name": "API_KEY", "isSecret": true}},
		}},
		"remotes": []any{map[string]any{"type": "streamable-http", "url": "https://{region}.example.com/mcp",
			"variables": map[string]any{"region": map[string]any{"default": "eu"}}}},
	}
	if f != nil {
		f(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func pkg(m map[string]any) map[string]any    { return m["packages"].([]any)[0].(map[string]any) }
func remote(m map[string]any) map[string]any { return m["remotes"].([]any)[0].(map[string]any) }

// TestValidateRules rejects one bad server.json per rule, each naming the
// JSON path and the rule.
func TestValidateRules(t *testing.T) {
	if r := registry.Validate(mutate(nil), nil); !r.Valid || len(r.Issues) != 0 {
		t.Fatalf("the base document: %+v", r.Issues)
	}
	tests := []struct {
		name, path, rule string
		doc              []byte
	}{
		{"not JSON", "", "invalid-json", []byte(`{"name":`)},
		{"not an object", "", "not-an-object", []byte(`[1]`)},
		{"no $schema", "$schema", "schema-field-required", mutate(func(m map[string]any) { delete(m, "$schema") })},
		{"unknown schema", "$schema", "schema-version-not-available", mutate(func(m map[string]any) {
			m["$schema"] = "https://static.modelcontextprotocol.io/schemas/2099-01-01/server.schema.json"
		})},
		{"draft without the flag", "$schema", "schema-version-not-available", mutate(func(m map[string]any) {
			m["$schema"] = "https://static.modelcontextprotocol.io/schemas/draft/server.schema.json"
		})},
		{"bad schema URL", "$schema", "schema-version-extraction-error", mutate(func(m map[string]any) { m["$schema"] = "https://example.com/x.json" })},
		{"missing description", "", "#/definitions/ServerDetail/required", mutate(func(m map[string]any) { delete(m, "description") })},
		{"description too long", "description", "#/definitions/ServerDetail/properties/description/maxLength", mutate(func(m map[string]any) { m["description"] = strings.Repeat("d", 101) })},
		{"name pattern", "name", "#/definitions/ServerDetail/properties/name/pattern", mutate(func(m map[string]any) { m["name"] = "no slash" })},
		{"name two slashes", "name", "invalid-server-name", mutate(func(m map[string]any) { m["name"] = "com.example/a/b" })},
		{"name part ends badly", "name", "invalid-server-name", mutate(func(m map[string]any) { m["name"] = "com.example/weather-" })},
		{"version latest", "version", "reserved-version-string", mutate(func(m map[string]any) { m["version"] = "latest" })},
		{"version range", "version", "version-looks-like-range", mutate(func(m map[string]any) { m["version"] = "^1.2.3" })},
		{"version wildcard", "version", "version-looks-like-range", mutate(func(m map[string]any) { m["version"] = "1.x" })},
		{"repository without source", "repository.source", "repository-source-required", mutate(func(m map[string]any) { delete(m["repository"].(map[string]any), "source") })},
		{"repository URL", "repository.url", "invalid-repository-url", mutate(func(m map[string]any) { m["repository"].(map[string]any)["url"] = "https://example.com/repo" })},
		{"subfolder", "repository.subfolder", "invalid-subfolder-path", mutate(func(m map[string]any) { m["repository"].(map[string]any)["subfolder"] = "../x" })},
		{"website http", "websiteUrl", "website-url-invalid-scheme", mutate(func(m map[string]any) { m["websiteUrl"] = "http://example.com" })},
		{"title blank", "title", "title-whitespace-only", mutate(func(m map[string]any) { m["title"] = "   " })},
		{"icon http", "icons[0].src", "icon-src-invalid-scheme", mutate(func(m map[string]any) { m["icons"] = []any{map[string]any{"src": "http://example.com/i.png"}} })},
		{"package version latest", "packages[0].version", "reserved-version-string", mutate(func(m map[string]any) { pkg(m)["version"] = "latest" })},
		{"package version range", "packages[0].version", "version-looks-like-range", mutate(func(m map[string]any) { pkg(m)["version"] = ">=1.0.0" })},
		{"package identifier spaces", "packages[0].identifier", "package-name-has-spaces", mutate(func(m map[string]any) { pkg(m)["identifier"] = "a b" })},
		{"package without transport", "packages[0]", "#/definitions/Package/required", mutate(func(m map[string]any) { delete(pkg(m), "transport") })},
		{"stdio with URL", "packages[0].transport.url", "stdio-transport-url-not-empty", mutate(func(m map[string]any) {
			pkg(m)["transport"] = map[string]any{"type": "stdio", "url": "https://x.example.com"}
		})},
		{"package URL variable undefined", "packages[0].transport.url", "invalid-templated-url", mutate(func(m map[string]any) {
			pkg(m)["transport"] = map[string]any{"type": "streamable-http", "url": "http://localhost:{port}/mcp"}
		})},
		{"mcpb without hash", "packages[0].fileSha256", "mcpb-file-sha256-required", mutate(func(m map[string]any) {
			pkg(m)["registryType"] = "mcpb"
			pkg(m)["identifier"] = "https://github.com/example/weather/releases/download/v1/w.mcpb"
		})},
		{"named argument without name", "packages[0].packageArguments[0]", "#/definitions/NamedArgument/allOf/1/required", mutate(func(m map[string]any) {
			pkg(m)["packageArguments"] = []any{map[string]any{"type": "named", "value": "x"}}
		})},
		{"named argument with a value in its name", "packages[0].packageArguments[0].name", "invalid-named-argument-name", mutate(func(m map[string]any) {
			pkg(m)["packageArguments"] = []any{map[string]any{"type": "named", "name": "--port <port>"}}
		})},
		{"argument value repeats the name", "packages[0].packageArguments[0].value", "argument-value-starts-with-name", mutate(func(m map[string]any) {
			pkg(m)["packageArguments"] = []any{map[string]any{"type": "named", "name": "--port", "value": "--port=8080"}}
		})},
		{"positional without value", "packages[0].packageArguments[0]", "positional-argument-value-or-hint-required", mutate(func(m map[string]any) {
			pkg(m)["packageArguments"] = []any{map[string]any{"type": "positional"}}
		})},
		{"remote stdio", "remotes[0].type", "unsupported-remote-transport-type", mutate(func(m map[string]any) { remote(m)["type"] = "stdio" })},
		{"remote localhost", "remotes[0].url", "invalid-remote-url", mutate(func(m map[string]any) { remote(m)["url"] = "https://localhost/mcp" })},
		{"remote http", "remotes[0].url", "invalid-remote-url", mutate(func(m map[string]any) { remote(m)["url"] = "http://mcp.example.com/mcp" })},
		{"remote variable undefined", "remotes[0].url", "invalid-templated-url", mutate(func(m map[string]any) { delete(remote(m), "variables") })},
		{"publisher meta too large", "_meta." + registry.MetaPublisherProvided, "publisher-provided-too-large", mutate(func(m map[string]any) {
			m["_meta"] = map[string]any{registry.MetaPublisherProvided: map[string]any{"x": strings.Repeat("y", 5000)}}
		})},
		{"official meta", "_meta." + registry.MetaOfficial, "official-meta-not-allowed", mutate(func(m map[string]any) {
			m["_meta"] = map[string]any{registry.MetaOfficial: map[string]any{"status": "active"}}
		})},
		{"too large", "", "document-too-large", mutate(func(m map[string]any) { m["x"] = strings.Repeat("z", 70<<10) })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := registry.Validate(tc.doc, nil)
			if r.Valid {
				t.Fatalf("valid; want an error at %q (%s)", tc.path, tc.rule)
			}
			for _, i := range r.Issues {
				if i.Severity == registry.SeverityError && i.Path == tc.path && strings.HasPrefix(i.Reference, tc.rule) {
					return
				}
			}
			t.Fatalf("no error at %q with rule %s: %+v", tc.path, tc.rule, r.Issues)
		})
	}
}

func TestValidateSchemaVersions(t *testing.T) {
	for _, v := range registry.SchemaVersions()[3:] {
		doc := mutate(func(m map[string]any) {
			m["$schema"] = "https://static.modelcontextprotocol.io/schemas/" + v + "/server.schema.json"
			delete(m, "remotes") // URL variables are 2025-12-11
		})
		r := registry.Validate(doc, nil)
		if !r.Valid {
			t.Errorf("%s: %+v", v, r.Issues)
		}
		if v != registry.CurrentSchemaVersion && (len(r.Issues) != 1 || r.Issues[0].Reference != "schema-version-deprecated") {
			t.Errorf("%s: want one deprecation warning, got %+v", v, r.Issues)
		}
	}
	draft := mutate(func(m map[string]any) {
		m["$schema"] = "https://static.modelcontextprotocol.io/schemas/draft/server.schema.json"
	})
	if r := registry.Validate(draft, &registry.ValidateOptions{AllowDraft: true}); !r.Valid {
		t.Errorf("draft with AllowDraft: %+v", r.Issues)
	}
}

// TestPublishRejectsWithPaths checks the publish route's 422 names the
// path and rule of each problem.
func TestPublishRejectsWithPaths(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do("POST", "/v0.1/publish", adminToken, mutate(func(m map[string]any) { m["version"] = "^1.0"; remote(m)["url"] = "http://x.example.com" }))
	if r.status != 422 || !strings.Contains(string(r.body), `"location":"body.version"`) || !strings.Contains(string(r.body), "version-looks-like-range") ||
		!strings.Contains(string(r.body), `"location":"body.remotes[0].url"`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var vr registry.ValidationResult
	r = e.do("POST", "/v0/validate", "", mutate(func(m map[string]any) { m["version"] = "latest" }))
	r.json(t, &vr)
	if r.status != 200 || vr.Valid || vr.Issues[0].Path != "version" {
		t.Fatalf("validate: %d %s", r.status, r.body)
	}
}

func TestCompareVersions(t *testing.T) {
	t0, t1 := time.Unix(0, 0), time.Unix(1, 0)
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0.0", "1.0.1", -1}, {"1.10.0", "1.9.0", 1}, {"1.0.0-rc.1", "1.0.0", -1}, {"1.0.0-rc.10", "1.0.0-rc.2", 1},
		{"1.0.0-alpha", "1.0.0-alpha.1", -1}, {"1.0.0+b1", "1.0.0+b2", 0}, {"v2.0.0", "1.0.0", 1},
		{"2024-05-01", "1.0.0", -1}, {"1.0.0", "snapshot", 1},
	}
	for _, tc := range tests {
		if got := registry.CompareVersions(tc.a, tc.b, t0, t1); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if registry.CompareVersions("build-a", "build-b", t1, t0) != 1 {
		t.Error("non-semver versions compare by publication time")
	}
	for _, v := range []string{"1.0", "01.0.0", "1.0.0-", "1.0.0-01", "x.y.z"} {
		if registry.IsSemanticVersion(v) {
			t.Errorf("%q is not a semantic version", v)
		}
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(mutate(nil))
	f.Add([]byte(`{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-07-09/server.schema.json","name":"a.b/c"}`))
	f.Add([]byte(`{"packages":[{"packageArguments":[{"type":"positional","value":""}]}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		r := registry.Validate(doc, nil)
		if r.Valid != (r.Err() == nil) {
			t.Fatal("Valid and Err disagree")
		}
		for _, i := range r.Issues {
			if i.Reference == "" || i.Message == "" {
				t.Fatalf("issue without rule or message: %+v", i)
			}
		}
	})
}
