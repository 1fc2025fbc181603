package protocol

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

func TestMetaProgressToken(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
		want ProgressToken
		ok   bool
	}{
		{"nil meta", nil, ProgressToken{}, false},
		{"absent", Meta{"other": 1}, ProgressToken{}, false},
		{"string", Meta{MetaProgressToken: "abc"}, jsonrpc.StringID("abc"), true},
		{"decoded integer", Meta{MetaProgressToken: 42.0}, jsonrpc.Int64ID(42), true},
		{"int", Meta{MetaProgressToken: 7}, jsonrpc.Int64ID(7), true},
		{"int64", Meta{MetaProgressToken: int64(-3)}, jsonrpc.Int64ID(-3), true},
		{"id", Meta{MetaProgressToken: jsonrpc.StringID("x")}, jsonrpc.StringID("x"), true},
		{"fraction", Meta{MetaProgressToken: 1.5}, ProgressToken{}, false},
		{"too large", Meta{MetaProgressToken: 1e300}, ProgressToken{}, false},
		{"bool", Meta{MetaProgressToken: true}, ProgressToken{}, false},
		{"null", Meta{MetaProgressToken: nil}, ProgressToken{}, false},
		{"object", Meta{MetaProgressToken: map[string]any{}}, ProgressToken{}, false},
	}
	for _, tt := range tests {
		got, ok := tt.meta.ProgressToken()
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: ProgressToken() = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMetaFromJSON(t *testing.T) {
	var p CallToolRequestParams
	in := `{"name":"x","_meta":{"progressToken":"tok","io.modelcontextprotocol/related-task":{"taskId":"t-1"},"io.modelcontextprotocol/model-immediate-response":"wait"}}`
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	if tok, ok := p.Meta.ProgressToken(); !ok || tok != jsonrpc.StringID("tok") {
		t.Errorf("progress token %v %v", tok, ok)
	}
	if rt, ok := p.Meta.RelatedTask(); !ok || rt.TaskID != "t-1" {
		t.Errorf("related task %v %v", rt, ok)
	}
	if s, ok := p.Meta.ModelImmediateResponse(); !ok || s != "wait" {
		t.Errorf("model immediate response %q %v", s, ok)
	}
}

func TestMetaSetters(t *testing.T) {
	var m Meta
	m.SetProgressToken(jsonrpc.Int64ID(5))
	m.SetRelatedTask("task-9")
	out, err := json.Marshal(m, json.Deterministic(true))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"io.modelcontextprotocol/related-task":{"taskId":"task-9"},"progressToken":5}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
	if tok, ok := m.ProgressToken(); !ok || tok != jsonrpc.Int64ID(5) {
		t.Errorf("progress token %v", tok)
	}
	for _, v := range []any{RelatedTaskMetadata{TaskID: "a"}, &RelatedTaskMetadata{TaskID: "a"}, map[string]any{"taskId": "a"}, map[string]string{"taskId": "a"}} {
		if rt, ok := (Meta{MetaRelatedTask: v}).RelatedTask(); !ok || rt.TaskID != "a" {
			t.Errorf("RelatedTask of %#v = %v, %v", v, rt, ok)
		}
	}
	for _, v := range []any{nil, "a", map[string]any{"taskId": 1}, map[string]any{}, RelatedTaskMetadata{}, (*RelatedTaskMetadata)(nil)} {
		if rt, ok := (Meta{MetaRelatedTask: v}).RelatedTask(); ok {
			t.Errorf("RelatedTask of %#v = %v, want none", v, rt)
		}
	}
}

func TestValidMetaKey(t *testing.T) {
	valid := []string{
		"progressToken", "", "a", "a.b-c_d", "io.modelcontextprotocol/related-task", "com.example/", "com.example/x9",
		"a/b", "a1.b2/c", "x-y.z/name",
	}
	for _, k := range valid {
		if err := ValidMetaKey(k); err != nil {
			t.Errorf("ValidMetaKey(%q): %v", k, err)
		}
	}
	invalid := []string{
		"/name", "com..example/x", "1com.example/x", "com.example-/x", "com.-example/x", "com.ex_ample/x",
		"-name", "name-", "na me", "com.example/-x", "com.example/a/b", "ünicode",
	}
	for _, k := range invalid {
		if err := ValidMetaKey(k); err == nil {
			t.Errorf("ValidMetaKey(%q) succeeded", k)
		}
	}
}

func TestIsReservedMetaKey(t *testing.T) {
	tests := map[string]bool{
		"io.modelcontextprotocol/related-task": true,
		"dev.mcp/x":                            true,
		"org.modelcontextprotocol.api/x":       true,
		"com.mcp.tools/x":                      true,
		"com.example.mcp/x":                    false,
		"mcp/x":                                false,
		"progressToken":                        false,
		"com.example/x":                        false,
	}
	for k, want := range tests {
		if got := IsReservedMetaKey(k); got != want {
			t.Errorf("IsReservedMetaKey(%q) = %v, want %v", k, got, want)
		}
	}
}

// A Meta always encodes to the same bytes, its keys and those of nested
// objects sorted; an empty one is still omitted from its object.
func TestMetaDeterministic(t *testing.T) {
	m := Meta{}
	for i := range 20 {
		m[fmt.Sprintf("k%02d", 19-i)] = map[string]any{"z": i, "a": []any{map[string]any{"y": 1, "b": 2}}}
	}
	first, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(first), `{"k00":{"a":[{"b":2,"y":1}],"z":19},"k01":`) {
		t.Fatalf("keys not sorted: %.80s", first)
	}
	for range 50 {
		again, err := json.Marshal(m)
		if err != nil || string(again) != string(first) {
			t.Fatalf("encodings differ:\n%s\n%s", first, again)
		}
	}
	type withMeta struct {
		Meta Meta `json:"_meta,omitempty"`
	}
	for _, v := range []withMeta{{}, {Meta: Meta{}}} {
		if b, _ := json.Marshal(v); string(b) != `{}` {
			t.Errorf("empty _meta encodes as %s", b)
		}
	}
}
