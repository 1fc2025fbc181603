package registry

import "testing"

func FuzzCursor(f *testing.F) {
	f.Add("com.example/a:1.0.0")
	f.Add("com.example/a")
	f.Add(":")
	f.Add("a:b:c")
	f.Fuzz(func(t *testing.T, c string) {
		n, v := parseCursor(c)
		if v != "" && makeCursor(n, v) != c {
			t.Fatalf("%q -> %q %q", c, n, v)
		}
	})
}
