package jsonschema

import (
	"testing"
)

const textSchema = `{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`

// BenchmarkValidate measures the per-call cost of checking a tool's
// arguments: a small object against a small schema.
func BenchmarkValidate(b *testing.B) {
	v := mustCompile(b, textSchema)
	data := []byte(`{"text":"hello"}`)
	b.Run("Validate", func(b *testing.B) {
		x := map[string]any{"text": "hello"}
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Validate(x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ValidateJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := v.ValidateJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ValidateJSON/full validator", func(b *testing.B) {
		// uniqueItems keeps the fast path out, for comparison.
		slow := mustCompile(b, `{"type":"object","properties":{"text":{"type":"string"},"u":{"uniqueItems":true}},"required":["text"]}`)
		b.ReportAllocs()
		for b.Loop() {
			if err := slow.ValidateJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ValidateJSON/typical arguments", func(b *testing.B) {
		v := mustCompile(b, `{"type":"object","properties":{"query":{"type":"string","minLength":1},"limit":{"type":"integer","minimum":1,"maximum":50},"lang":{"enum":["en","de"]},"exact":{"type":"boolean"}},"required":["query"]}`)
		data := []byte(`{"query":"model context protocol","limit":10,"lang":"en","exact":false}`)
		b.ReportAllocs()
		for b.Loop() {
			if err := v.ValidateJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ValidateJSON/invalid", func(b *testing.B) {
		bad := []byte(`{"text":1}`)
		b.ReportAllocs()
		for b.Loop() {
			if err := v.ValidateJSON(bad); err == nil {
				b.Fatal("no error")
			}
		}
	})
}

func BenchmarkFor(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := For[tagged](); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile([]byte(textSchema)); err != nil {
			b.Fatal(err)
		}
	}
}
