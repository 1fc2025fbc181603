package jsonschema

import (
	"errors"
	"testing"
)

// FuzzValidateJSON checks that ValidateJSON never panics, that it reports
// every failure as a *SyntaxError or a non-empty *ValidationError, and that
// the fast accept path never accepts what the full validator rejects.
func FuzzValidateJSON(f *testing.F) {
	seeds := []string{
		``, `null`, `true`, `0`, `-0`, `1.5e300`, `1e400`, `9007199254740993`, `"x"`, `"\u00e9\ud83d\ude00"`,
		`[]`, `[1,"a",null,[{}]]`, `{}`, `{"text":"hello"}`, `{"text":1}`, `{"text":"hi","extra":{"a":[1,2]}}`,
		`{"name":"abc","count":3,"tags":["a"],"meta":{"x":1}}`, `{"name":"","count":0.5,"tags":["a","a"]}`,
		`{"next":{"next":{"v":null}}}`, `{"a":1,"a":2}`, `{"a":`, `[1,]`, "\"\xff\"", `{"a":1} {}`,
		`{"n":100,"f":4.9,"s":"ab","e":[1],"c":2.0,"d":"2024-01-02T03:04:05Z","a":[1],"m":{"x":true}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	schemas := []string{
		argsSchema,
		`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`,
		`{"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":100},"f":{"type":"number","exclusiveMinimum":-5,"exclusiveMaximum":5},"s":{"type":"string","minLength":2,"maxLength":4,"pattern":"^a"},"e":{"enum":["x",1,null,true,[1]]},"c":{"const":2},"d":{"type":"string","format":"date-time"},"a":{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3},"m":{"type":"object","additionalProperties":{"type":"boolean"},"minProperties":1,"maxProperties":2}},"additionalProperties":false}`,
		`{"$defs":{"node":{"type":"object","properties":{"next":{"$ref":"#/$defs/node"},"v":{"type":["integer","null"]}}}},"$ref":"#/$defs/node"}`,
		`{"anyOf":[{"type":"string","maxLength":3},{"type":"array","items":{"$ref":"#"}}]}`,
	}
	var validators []*Validator
	for _, s := range schemas {
		validators = append(validators, mustCompile(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range validators {
			err := v.ValidateJSON(data)
			var se *SyntaxError
			var ve *ValidationError
			switch {
			case err == nil:
			case errors.As(err, &se):
				continue
			case errors.As(err, &ve):
				if len(ve.Issues) == 0 || err.Error() == "" {
					t.Fatalf("empty validation error for %q", data)
				}
			default:
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if v.fast == nil {
				continue
			}
			for _, smallInts := range []bool{true, false} {
				x, derr := decodeAny(data, decodeOptions{smallInts: smallInts})
				if derr != nil {
					t.Fatalf("ValidateJSON accepted %q but decoding fails: %v", data, derr)
				}
				if v.fast.valid(x) && v.schema.Validate(x) != nil {
					t.Fatalf("fast path accepts %q, which the validator rejects", data)
				}
			}
		}
	})
}
