package gateway

import "testing"

func TestIsErrorResult(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want bool
	}{
		{``, false},
		{`{"content":[]}`, false},
		{`{"content":[],"isError":false}`, false},
		{`{"content":[],"isError":true}`, true},
		{`{"content":[], "isError" :	true }`, true},
		{`{"content":[{"type":"text","text":"\"isError\":true"}]}`, false},
		{`{"content":[],"structuredContent":{"isError":true},"isError":false}`, false},
		{`{"isError":false,"structuredContent":{"isError":true}}`, false},
	} {
		if got := isErrorResult([]byte(c.raw)); got != c.want {
			t.Errorf("isErrorResult(%s) = %v, want %v", c.raw, got, c.want)
		}
	}
}
