package mcp_test

import (
	"strings"
	"testing"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// The demo's json_schema_2020_12_tool shows 2026-07-28 clients the
// pre-release suite's form (allOf/anyOf, if/then/else, $anchor) and
// validates their arguments against it.
func TestJSONSchemaToolModernForm(t *testing.T) {
	s := c26NewHTTP(t, everything.NewServer(nil), nil)
	var lt protocol.ListToolsResult
	s.post(1, protocol.MethodToolsList, c26Params(nil, c26Meta(nil)), nil).result(t, &lt)
	found := false
	for _, tl := range lt.Tools {
		if tl.Name == "json_schema_2020_12_tool" {
			found = true
			for _, kw := range []string{`"allOf"`, `"anyOf"`, `"if"`, `"then"`, `"else"`, `"$anchor"`, `"$defs"`, `"additionalProperties":false`} {
				if !strings.Contains(string(tl.InputSchema), kw) {
					t.Errorf("2026-07-28 form lacks %s: %s", kw, tl.InputSchema)
				}
			}
		}
	}
	if !found {
		t.Fatal("json_schema_2020_12_tool not listed")
	}
	call := func(args map[string]any) string {
		r := s.post(2, protocol.MethodToolsCall, c26Params(map[string]any{"name": "json_schema_2020_12_tool", "arguments": args}, c26Meta(nil)), nil)
		return string(r.body)
	}
	if b := call(map[string]any{"name": "n", "email": "a@b"}); strings.Contains(b, `"isError":true`) {
		t.Errorf("valid 2026-07-28 arguments refused: %s", b)
	}
	if b := call(map[string]any{"name": "n", "address": map[string]any{"city": "c"}}); !strings.Contains(b, `"isError":true`) {
		t.Errorf("arguments without phone or email accepted: %s", b)
	}
}
