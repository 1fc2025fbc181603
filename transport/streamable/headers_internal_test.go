package streamable

import "testing"

func TestStringMemberFastPath(t *testing.T) {
	for _, c := range []struct {
		params string
		want   string
		ok     bool
	}{
		{`{"name":"echo","arguments":{}}`, "echo", true},
		{`{"name":"echo"}`, "echo", true},
		{`{"name":"e\"cho"}`, `e"cho`, true},
		{`{"name":"héllo"}`, "héllo", true},
		{`{"arguments":{"name":"x"},"name":"y"}`, "y", true},
		{`{"name":1}`, "", false},
		{`{"name" : "spaced"}`, "spaced", true},
		{`{"names":"x"}`, "", false},
	} {
		got, ok := stringMember([]byte(c.params), "name")
		if got != c.want || ok != c.ok {
			t.Errorf("stringMember(%s) = %q, %v; want %q, %v", c.params, got, ok, c.want, c.ok)
		}
	}
}

func TestQuickMetaVersion(t *testing.T) {
	for _, c := range []struct {
		params string
		want   string
		ok     bool // whether metaVersion finds a version
	}{
		{`{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","x":1}}`, "2026-07-28", true},
		{`{"_meta":{"a":1, "io.modelcontextprotocol/protocolVersion" : "v"}}`, "v", true},
		{`{"_meta":{"a":{"io.modelcontextprotocol/protocolVersion":"nested"}}}`, "", false},
		{`{"_meta":{"a":[1],"io.modelcontextprotocol/protocolVersion":"v"}}`, "v", true},
		{`{"_meta":{"io.modelcontextprotocol/protocolVersion":"v\u0031"}}`, "v1", true},
		{`{"_meta":{"io.modelcontextprotocol/protocolVersion":1}}`, "", false},
		{`{"_meta":{}}`, "", false},
	} {
		got, ok := metaVersion([]byte(c.params))
		if got != c.want || ok != c.ok {
			t.Errorf("metaVersion(%s) = %q, %v; want %q, %v", c.params, got, ok, c.want, c.ok)
		}
	}
}
