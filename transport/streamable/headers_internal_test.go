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
