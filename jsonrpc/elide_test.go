package jsonrpc

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestElide(t *testing.T) {
	tests := []struct {
		in      string
		max     int
		elided  string
		quoted  string
		invalid bool // the input is not UTF-8
	}{
		{in: "", max: 4, elided: "", quoted: `""`},
		{in: "abcd", max: 4, elided: "abcd", quoted: `"abcd"`},
		{in: "abcde", max: 4, elided: "abcd… (5 bytes)", quoted: `"abcd"… (5 bytes)`},
		{in: "ab\"cd", max: 3, elided: "ab\"… (5 bytes)", quoted: `"ab\""… (5 bytes)`},
		// A cut inside a multi-byte character moves back to its start.
		{in: "aé€x", max: 2, elided: "a… (7 bytes)", quoted: `"a"… (7 bytes)`},
		{in: "aé€x", max: 4, elided: "aé… (7 bytes)", quoted: `"aé"… (7 bytes)`},
		{in: "aé€x", max: 6, elided: "aé€… (7 bytes)", quoted: `"aé€"… (7 bytes)`},
		{in: "abc", max: 0, elided: "… (3 bytes)", quoted: `""… (3 bytes)`},
		{in: "\xff\xff\xff\xff\xff", max: 2, elided: "\xff\xff… (5 bytes)", quoted: `"\xff\xff"… (5 bytes)`, invalid: true},
	}
	for _, tt := range tests {
		if got := Elide(tt.in, tt.max); got != tt.elided {
			t.Errorf("Elide(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.elided)
		}
		if got := QuoteElided(tt.in, tt.max); got != tt.quoted {
			t.Errorf("QuoteElided(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.quoted)
		}
		if got := Elide(tt.in, tt.max); !tt.invalid && !utf8.ValidString(got) {
			t.Errorf("Elide(%q, %d) = %q is not UTF-8", tt.in, tt.max, got)
		}
	}
	if m := ErrMethodNotFound(strings.Repeat("m", 1<<20)).Message; len(m) > EchoLimit+64 || !strings.HasSuffix(m, "… (1048576 bytes)") {
		t.Errorf("ErrMethodNotFound of a 1 MiB method: %.200q (%d bytes)", m, len(m))
	}
}
