package protocol

import (
	"testing"

	"github.com/go-json-experiment/json"
)

var benchResult = &CallToolResult{Content: []Content{&TextContent{Text: "The weather in Paris is 18°C and partly cloudy."}}}

// BenchmarkMarshalCallToolResult measures the hot path of a server: a tool
// result holding one text block.
func BenchmarkMarshalCallToolResult(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(benchResult); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalCallToolResult measures decoding the same result (the
// client side).
func BenchmarkUnmarshalCallToolResult(b *testing.B) {
	data, err := json.Marshal(benchResult)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var r CallToolResult
		if err := json.Unmarshal(data, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMarshalCallToolResultAllocs keeps the hot path at one allocation: the
// output buffer of json.Marshal.
func TestMarshalCallToolResultAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := json.Marshal(benchResult); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("marshalling a CallToolResult with one text block takes %v allocations, want 1", allocs)
	}
}
