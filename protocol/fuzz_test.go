package protocol

import (
	"testing"

	"github.com/go-json-experiment/json"
)

// FuzzContentUnmarshal feeds arbitrary bytes to the decoders of the unions
// and of the types that hold them. They must never panic, and whatever they
// accept must encode and decode again to the same JSON.
func FuzzContentUnmarshal(f *testing.F) {
	for _, c := range exContent {
		b, _ := json.Marshal(c)
		f.Add(b)
		f.Add([]byte("[" + string(b) + "]"))
	}
	for _, c := range exSamplingContent {
		b, _ := json.Marshal(c)
		f.Add(b)
	}
	for _, v := range []any{exTextRes, exBlobRes, exElicitForm, exElicitURL, exElicitFormNoMode, exCallResult, exSamplingResult} {
		b, _ := json.Marshal(v)
		f.Add(b)
	}
	for _, s := range exPrimitiveSchemas {
		b, _ := json.Marshal(s)
		f.Add(b)
	}
	for _, s := range []string{
		`{"type":"resource","resource":{"uri":"x","text":"a","blob":"AA=="}}`,
		`{"type":"image","data":"!!!","mimeType":"x"}`,
		`{"mode":"url","message":"m","requestedSchema":{"type":"object","properties":{"a":{"type":"array"}}}}`,
		`{"content":[null]}`, `[{"type":"text"}, 1, "x", null]`, `{"type":"text","text":"\ud800"}`,
		`{"type":"tool_result","toolUseId":"a","content":[{"type":"resource","resource":{"uri":"x","blob":""}}]}`,
		``, `null`, `{`, `[`, `{"type":`,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip := func(name string, decode func([]byte) (any, error)) {
			v, err := decode(data)
			if err != nil {
				return
			}
			out, err := json.Marshal(v, deterministic)
			if err != nil {
				t.Fatalf("%s: accepted %q but cannot encode it: %v", name, data, err)
			}
			v2, err := decode(out)
			if err != nil {
				t.Fatalf("%s: cannot decode its own encoding %s of %q: %v", name, out, data, err)
			}
			out2, err := json.Marshal(v2, deterministic)
			if err != nil || string(out2) != string(out) {
				t.Fatalf("%s: encoding not stable for %q:\n%s\n%s (%v)", name, data, out, out2, err)
			}
		}
		roundTrip("[]Content", func(b []byte) (any, error) {
			var list []Content
			err := json.Unmarshal(b, &list, UnionUnmarshalers)
			return list, err
		})
		roundTrip("Content", func(b []byte) (any, error) { return UnmarshalContent(b) })
		roundTrip("SamplingContents", func(b []byte) (any, error) {
			var s SamplingContents
			err := json.Unmarshal(b, &s)
			return s, err
		})
		roundTrip("ResourceContents", func(b []byte) (any, error) { return UnmarshalResourceContents(b) })
		roundTrip("ElicitRequestParams", func(b []byte) (any, error) {
			var p ElicitRequestParams
			err := json.Unmarshal(b, &p)
			if err == nil {
				_ = p.Validate()
			}
			return &p, err
		})
		roundTrip("PrimitiveSchema", func(b []byte) (any, error) { return UnmarshalPrimitiveSchema(b) })
		roundTrip("CallToolResult", func(b []byte) (any, error) {
			var r CallToolResult
			err := json.Unmarshal(b, &r)
			return &r, err
		})
		roundTrip("CreateMessageResult", func(b []byte) (any, error) {
			var r CreateMessageResult
			err := json.Unmarshal(b, &r)
			return &r, err
		})
	})
}
