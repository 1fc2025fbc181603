package jsonschema

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

func mustCompile(t testing.TB, schema string) *Validator {
	t.Helper()
	v, err := Compile(jsontext.Value(schema))
	if err != nil {
		t.Fatalf("Compile(%s): %v", schema, err)
	}
	return v
}

const argsSchema = `{
	"type": "object",
	"properties": {
		"name":  {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]+$"},
		"count": {"type": "integer", "minimum": 1, "maximum": 10},
		"ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
		"tags":  {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2, "uniqueItems": true},
		"mode":  {"enum": ["fast", "slow"]},
		"kind":  {"const": "k"},
		"email": {"type": "string", "format": "email"},
		"when":  {"type": "string", "format": "date-time"},
		"meta":  {"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 1},
		"step":  {"type": "number", "multipleOf": 0.5}
	},
	"required": ["name", "count"],
	"additionalProperties": false
}`

func TestValidateJSON(t *testing.T) {
	v := mustCompile(t, argsSchema)
	tests := []struct {
		name  string
		input string
		want  string // "" for valid
	}{
		{"minimal", `{"name":"abc","count":1}`, ""},
		{"everything", `{"name":"ab","count":10,"ratio":0.5,"tags":["a","b"],"mode":"slow","kind":"k","email":"a@b.example","when":"2024-01-02T03:04:05Z","meta":{"x":1},"step":1.5}`, ""},
		{"integer written as 1.0", `{"name":"a","count":1.0}`, ""},
		{"integer written with exponent", `{"name":"a","count":1e1}`, ""},
		{"missing one", `{"count":1}`, `missing required property "name"`},
		{"missing two", `{}`, `missing required properties "name", "count"`},
		{"the brief's example", `{"name":"a","count":0}`, `at "/count": must be >= 1, got 0`},
		{"several", `{"count":0}`, `missing required property "name"; at "/count": must be >= 1, got 0`},
		{"wrong type", `{"name":3,"count":1}`, `at "/name": must be string, got number`},
		{"not an integer", `{"name":"a","count":1.5}`, `at "/count": must be integer, got number`},
		{"maximum", `{"name":"a","count":11}`, `at "/count": must be <= 10, got 11`},
		{"exclusive minimum", `{"name":"a","count":1,"ratio":0}`, `at "/ratio": must be > 0, got 0`},
		{"exclusive maximum", `{"name":"a","count":1,"ratio":1}`, `at "/ratio": must be < 1, got 1`},
		{"multipleOf", `{"name":"a","count":1,"step":0.75}`, `at "/step": must be a multiple of 0.5, got 0.75`},
		{"minLength", `{"name":"","count":1}`, `at "/name": must be at least 1 character long, got 0; at "/name": must match the pattern "^[a-z]+$", got ""`},
		{"maxLength", `{"name":"abcdef","count":1}`, `at "/name": must be at most 5 characters long, got 6`},
		{"pattern", `{"name":"ABC","count":1}`, `at "/name": must match the pattern "^[a-z]+$", got "ABC"`},
		{"minItems", `{"name":"a","count":1,"tags":[]}`, `at "/tags": must have at least 1 item, got 0`},
		{"maxItems", `{"name":"a","count":1,"tags":["a","b","c"]}`, `at "/tags": must have at most 2 items, got 3`},
		{"uniqueItems", `{"name":"a","count":1,"tags":["x","x"]}`, `at "/tags": must not contain duplicates, but items 0 and 1 are equal`},
		{"item type", `{"name":"a","count":1,"tags":["x",2]}`, `at "/tags/1": must be string, got number`},
		{"enum", `{"name":"a","count":1,"mode":"medium"}`, `at "/mode": must be one of "fast", "slow", got "medium"`},
		{"const", `{"name":"a","count":1,"kind":"j"}`, `at "/kind": must be "k", got "j"`},
		{"format email", `{"name":"a","count":1,"email":"nobody"}`, `at "/email": must be a valid email, got "nobody" (missing @)`},
		{"additional property", `{"name":"a","count":1,"extra":true}`, `unexpected property "extra"`},
		{"additional properties sorted", `{"name":"a","count":1,"zz":1,"aa":2}`, `unexpected properties "aa", "zz"`},
		{"additionalProperties schema", `{"name":"a","count":1,"meta":{"x":"1"}}`, `at "/meta/x": must be integer, got string`},
		{"maxProperties", `{"name":"a","count":1,"meta":{"x":1,"y":2}}`, `at "/meta": must have at most 1 property, got 2`},
		{"not an object", `[1,2]`, `must be object, got array`},
		{"null", `null`, `must be object, got null`},
		{"locations sorted numerically", `{"name":"a","count":1,"tags":[1,2]}`, `at "/tags/0": must be string, got number; at "/tags/1": must be string, got number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.ValidateJSON([]byte(tt.input))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ValidateJSON(%s) = %v, want nil", tt.input, err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ValidateJSON(%s) = %v (%T), want a *ValidationError", tt.input, err, err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("ValidateJSON(%s)\n got: %s\nwant: %s", tt.input, got, tt.want)
			}
		})
	}
}

func TestValidationErrorIssues(t *testing.T) {
	v := mustCompile(t, argsSchema)
	err := v.ValidateJSON([]byte(`{"count":0,"a/b~c":1}`))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	want := []Issue{
		{"", `missing required property "name"`},
		{"", `unexpected property "a/b~c"`},
		{"/count", "must be >= 1, got 0"},
	}
	if fmt.Sprint(ve.Issues) != fmt.Sprint(want) {
		t.Errorf("Issues = %q, want %q", ve.Issues, want)
	}
	// Pointer escaping of locations.
	v2 := mustCompile(t, `{"additionalProperties":{"type":"string"}}`)
	err = v2.ValidateJSON([]byte(`{"a/b~c":1}`))
	if !errors.As(err, &ve) || len(ve.Issues) != 1 || ve.Issues[0].InstanceLocation != "/a~1b~0c" {
		t.Errorf("got %#v", err)
	}
	fmt.Fprint(new(strings.Builder), ve) // Error on a value must not panic
}

func TestValidationErrorTruncates(t *testing.T) {
	v := mustCompile(t, `{"type":"array","items":{"type":"string"}}`)
	err := v.ValidateJSON([]byte("[" + strings.Repeat("1,", 29) + "1]"))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Issues) != 30 {
		t.Fatalf("got %v", err)
	}
	if msg := err.Error(); !strings.HasSuffix(msg, "; and 10 more") || strings.Count(msg, "must be string") != 20 {
		t.Errorf("Error() = %q", msg)
	}
	if (&ValidationError{}).Error() == "" {
		t.Error("empty ValidationError has an empty message")
	}
}

func TestCompositeMessages(t *testing.T) {
	tests := []struct {
		schema, input, want string
	}{
		{`{"anyOf":[{"type":"string"},{"type":"integer","minimum":5}]}`, `3`,
			`must match at least one of the allowed schemas: (1) must be string, got number; (2) must be >= 5, got 3`},
		{`{"oneOf":[{"type":"number"},{"type":"integer"}]}`, `3`,
			`must match exactly one of the allowed schemas, but matches both alternative 1 and alternative 2`},
		{`{"oneOf":[{"type":"string"},{"type":"object","required":["a"]}]}`, `{}`,
			`must match exactly one of the allowed schemas: (1) must be string, got object; (2) missing required property "a"`},
		{`{"anyOf":[{"type":"object","properties":{"a":{"type":"string"}}},{"type":"null"}]}`, `{"a":1}`,
			`must match at least one of the allowed schemas: (1) at "/a": must be string, got number; (2) must be null, got object`},
		{`{"allOf":[{"minimum":1},{"maximum":0}]}`, `0.5`, `must be >= 1, got 0.5; must be <= 0, got 0.5`},
		{`{"not":{"type":"string"}}`, `"x"`, `must not match the schema in "not"`},
		{`{"properties":{"a":false}}`, `{"a":1}`, `at "/a": is not allowed`},
		{`{"propertyNames":{"maxLength":2}}`, `{"abc":1}`, `invalid property name "abc": must be at most 2 characters long, got 3`},
		{`{"contains":{"type":"string"}}`, `[1]`, `must contain at least one item that matches the "contains" schema`},
		{`{"contains":{"type":"string"},"minContains":2}`, `["a",1]`, `must contain at least 2 items that match the "contains" schema, got 1`},
		{`{"dependentRequired":{"a":["b"]}}`, `{"a":1}`, `property "a" is present, so it needs property "b"`},
		{`{"minProperties":2}`, `{"a":1}`, `must have at least 2 properties, got 1`},
		{`{"$defs":{"pos":{"type":"integer","minimum":1}},"properties":{"n":{"$ref":"#/$defs/pos"}}}`, `{"n":0}`, `at "/n": must be >= 1, got 0`},
		{`{"const":{"a":[1,2]}}`, `{"a":[1]}`, `must be {"a":[1,2]}, got {"a":[1]}`},
		{`{"enum":[1,"x",null]}`, `true`, `must be one of 1, "x", null, got true`},
		{`{"type":["string","null"]}`, `1`, `must be null or string, got number`},
		{`false`, `1`, `is not allowed`},
		{`{"maxLength":3}`, `"` + strings.Repeat("é", 100) + `"`, `must be at most 3 characters long, got 100`},
		{`{"const":"x"}`, `"` + strings.Repeat("long ", 30) + `"`, `must be "x", got "long long long long long long long long long long long long lon…`},
	}
	for _, tt := range tests {
		v := mustCompile(t, tt.schema)
		err := v.ValidateJSON([]byte(tt.input))
		if err == nil {
			t.Errorf("%s with %s: no error", tt.schema, tt.input)
			continue
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("%s with %s\n got: %s\nwant: %s", tt.schema, tt.input, got, tt.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	tests := []struct {
		schema, input string
		valid         bool
	}{
		// Integers beyond 2^53 keep their exact value.
		{`{"type":"integer","maximum":9007199254740992}`, `9007199254740992`, true},
		{`{"type":"integer","maximum":9007199254740992}`, `9007199254740993`, false},
		{`{"type":"integer"}`, `123456789012345678901234567890`, true},
		{`{"type":"integer","minimum":123456789012345678901234567890}`, `123456789012345678901234567889`, false},
		{`{"const":12345678901234567891}`, `12345678901234567891`, true},
		{`{"const":12345678901234567891}`, `12345678901234567890`, false},
		{`{"type":"integer"}`, `1e400`, true},
		{`{"type":"number"}`, `1e400`, true},
		{`{"type":"integer"}`, `1.000000000000000000001`, false},
		{`{"type":"integer"}`, `-0`, true},
		{`{"type":"integer"}`, `2.0`, true},
		{`{"type":"integer"}`, `2.5`, false},
		{`{"maximum":0.3}`, `0.30000000000000004`, false},
		{`{"maximum":0.3}`, `0.3`, true},
		{`{"minimum":-1}`, `-1`, true},
		{`{"enum":[1,2.5]}`, `2.50`, true},
		{`{"enum":[1,2.5]}`, `1.0`, true},
		{`{"enum":[1,2.5]}`, `3`, false},
		{`{"multipleOf":0.1}`, `0.3`, true},
	}
	for _, tt := range tests {
		v := mustCompile(t, tt.schema)
		err := v.ValidateJSON([]byte(tt.input))
		if (err == nil) != tt.valid {
			t.Errorf("%s with %s: err = %v, want valid=%v", tt.schema, tt.input, err, tt.valid)
		}
	}
}

func TestValidateDecodedValues(t *testing.T) {
	v := mustCompile(t, `{"type":"object","properties":{"n":{"type":"integer","minimum":1}},"required":["n"]}`)
	// Values as produced by the v2 decoder (float64) and by
	// encoding/json with UseNumber (json.Number), and Go integers.
	var fromV2 any
	if err := json.Unmarshal([]byte(`{"n":5}`), &fromV2); err != nil {
		t.Fatal(err)
	}
	valid := []any{
		fromV2,
		map[string]any{"n": 5.0},
		map[string]any{"n": stdjson.Number("5")},
		map[string]any{"n": 5},
		map[string]any{"n": int64(5)},
		map[string]any{"n": uint8(5)},
	}
	for _, x := range valid {
		if err := v.Validate(x); err != nil {
			t.Errorf("Validate(%#v) = %v", x, err)
		}
	}
	invalid := []struct {
		x    any
		want string
	}{
		{map[string]any{"n": 0.5}, `at "/n": must be integer, got number`},
		{map[string]any{"n": 0.0}, `at "/n": must be >= 1, got 0`},
		{map[string]any{"n": math.NaN()}, `at "/n": is not a JSON value (Go type float64)`},
		{map[string]any{"n": []string{"x"}}, `at "/n": is not a JSON value (Go type []string)`},
		{struct{ N int }{1}, `is not a JSON value (Go type struct { N int })`},
	}
	for _, tt := range invalid {
		err := v.Validate(tt.x)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Validate(%#v) = %v, want %s", tt.x, err, tt.want)
		}
	}
}

func TestValidateJSONSyntax(t *testing.T) {
	v := mustCompile(t, `{}`)
	for _, bad := range []string{``, ` `, `{`, `{"a":1,"a":2}`, `{"a":1} x`, `[1,]`, "\"\xff\"", `{'a':1}`, `01`, `NaN`} {
		err := v.ValidateJSON([]byte(bad))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ValidateJSON(%q) = %v, want a *SyntaxError", bad, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "invalid JSON: ") || se.Unwrap() == nil {
			t.Errorf("ValidateJSON(%q) = %q", bad, err)
		}
	}
	for _, good := range []string{`{}`, ` {"a" : [1, {"b":null}]} `, `"\u00e9"`, `-1.5e-3`, `true`} {
		if err := v.ValidateJSON([]byte(good)); err != nil {
			t.Errorf("ValidateJSON(%q) = %v", good, err)
		}
	}
}

func TestCompile(t *testing.T) {
	// $schema selects the dialect: draft-07 ignores siblings of $ref.
	d7 := `{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"s":{"type":"string"}},"$ref":"#/definitions/s","maxLength":1}`
	if err := mustCompile(t, d7).ValidateJSON([]byte(`"abc"`)); err != nil {
		t.Errorf("draft-07: %v", err)
	}
	d2020 := `{"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":1}`
	if err := mustCompile(t, d2020).ValidateJSON([]byte(`"abc"`)); err == nil {
		t.Errorf("draft 2020-12 by default: maxLength next to $ref was ignored")
	}
	// Keywords of hand-written schemas are honoured, including $id-relative refs.
	withID := `{"$id":"https://example.com/root.json","$defs":{"a":{"$id":"a.json","type":"integer"}},"properties":{"x":{"$ref":"a.json"}}}`
	if err := mustCompile(t, withID).ValidateJSON([]byte(`{"x":"no"}`)); err == nil || err.Error() != `at "/x": must be integer, got string` {
		t.Errorf("$id-relative ref: %v", err)
	}
	// Boolean schemas.
	if err := mustCompile(t, `true`).ValidateJSON([]byte(`[1]`)); err != nil {
		t.Error(err)
	}

	bad := []struct {
		schema string
		want   string
		remote bool
	}{
		{`{"type":`, "not valid JSON", false},
		{`{"type":"strin"}`, `invalid schema: at "/type": must match at least one of the allowed schemas: (1) must be one of "array", "boolean", "integer", "null", "number", "object", "string", got "strin"; (2) must be array, got string`, false},
		{`{"minimum":"1"}`, "invalid schema", false},
		{`{"pattern":"("}`, "invalid schema", false},
		{`{"$ref":"https://example.com/schema.json"}`, `"https://example.com/schema.json", which is not part of it`, true},
		{`{"$ref":"other.json"}`, `schema refers to "other.json", which is not part of it`, true},
		{`{"$id":"https://example.com/dir/root.json","$ref":"sibling.json"}`, `"https://example.com/dir/sibling.json", which is not part of it`, true},
		{`{"properties":{"a":{"$ref":"file:///etc/passwd"}}}`, "which is not part of it", true},
		{`{"$schema":"https://example.com/my-meta"}`, "which is not part of it", true},
		{`{"$ref":"#/$defs/missing"}`, "invalid schema", false},
	}
	for _, tt := range bad {
		_, err := Compile(jsontext.Value(tt.schema))
		if err == nil {
			t.Errorf("Compile(%s) succeeded", tt.schema)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "jsonschema: ") {
			t.Errorf("Compile(%s) = %q, want it to contain %q", tt.schema, err, tt.want)
		}
		if errors.Is(err, ErrRemoteRef) != tt.remote {
			t.Errorf("Compile(%s): errors.Is(ErrRemoteRef) = %v", tt.schema, !tt.remote)
		}
		if strings.Contains(err.Error(), schemaURL) {
			t.Errorf("Compile(%s) = %q leaks the internal base URI", tt.schema, err)
		}
	}
}

// The fast accept path must never accept what the full validator rejects,
// and must actually be used for ordinary schemas.
func TestFastPathAgrees(t *testing.T) {
	schemas := []struct {
		schema string
		fast   bool // whether a fast check is expected
	}{
		{argsSchema, false}, // uniqueItems and multipleOf need the full validator
		{`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`, true},
		{`{"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":100},"f":{"type":"number","exclusiveMinimum":-5,"exclusiveMaximum":5},"s":{"type":"string","minLength":2,"maxLength":4,"pattern":"^a"},"e":{"enum":["x",1,null,true,[1]]},"c":{"const":2},"d":{"type":"string","format":"date-time"},"a":{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3},"m":{"type":"object","additionalProperties":{"type":"boolean"},"minProperties":1,"maxProperties":2}},"additionalProperties":false}`, true},
		{`{"$defs":{"node":{"type":"object","properties":{"next":{"$ref":"#/$defs/node"},"v":{"type":["integer","null"]}}}},"$ref":"#/$defs/node"}`, true},
		{`{"type":"object","properties":{"x":{"maximum":0.5}}}`, false}, // decimal bound
		{`{"anyOf":[{"type":"string"},{"type":"null"}]}`, false},
		{`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}`, false},
		{`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`, false},
		{`false`, true},
		{`true`, true},
	}
	instances := []string{
		`null`, `true`, `0`, `1`, `-1`, `1.5`, `2.0`, `1e2`, `100`, `101`, `4.999`, `5`, `-5`, `9007199254740993`, `1e400`,
		`"a"`, `"ab"`, `"abcde"`, `"ba"`, `"2024-01-02T03:04:05Z"`, `"nope"`, `[]`, `[1]`, `[1,2,3,4]`, `["x"]`, `{}`,
		`{"text":"hello"}`, `{"text":1}`, `{"text":"hi","extra":[]}`,
		`{"n":1}`, `{"n":0}`, `{"n":100.0}`, `{"n":1.5}`, `{"n":"1"}`, `{"f":4.9}`, `{"f":5}`, `{"f":-5}`, `{"f":-4.99}`,
		`{"s":"ab"}`, `{"s":"ba"}`, `{"s":"a"}`, `{"s":"aéé"}`, `{"e":"x"}`, `{"e":1.0}`, `{"e":null}`, `{"e":true}`, `{"e":false}`, `{"e":[1]}`, `{"e":2}`,
		`{"c":2}`, `{"c":2.0}`, `{"c":"2"}`, `{"d":"2024-01-02T03:04:05Z"}`, `{"d":"yesterday"}`, `{"a":[1]}`, `{"a":[]}`, `{"a":[1,"x"]}`, `{"a":[1,2,3,4]}`,
		`{"m":{"x":true}}`, `{"m":{}}`, `{"m":{"x":1}}`, `{"m":{"x":true,"y":false,"z":true}}`, `{"zz":1}`,
		`{"next":{"next":{"v":null}}}`, `{"next":{"next":{"v":"x"}}}`, `{"v":1.5}`, `{"x":0.5}`, `{"x":0.50000001}`,
		`{"name":"abc","count":1}`, `{"name":"abc","count":1,"tags":["a","a"]}`,
	}
	for _, s := range schemas {
		v := mustCompile(t, s.schema)
		if (v.fast != nil) != s.fast {
			t.Errorf("%s: fast path present = %v, want %v", s.schema, v.fast != nil, s.fast)
		}
		if v.fast == nil {
			continue
		}
		for _, in := range instances {
			for _, smallInts := range []bool{true, false} {
				x, err := decodeAny([]byte(in), decodeOptions{smallInts: smallInts})
				if err != nil {
					t.Fatal(err)
				}
				fast := v.fast.valid(x)
				full := v.schema.Validate(x) == nil
				if fast && !full {
					t.Errorf("%s with %s: fast path accepts what the validator rejects", s.schema, in)
				}
				if !fast && full && fastShouldDecide(in) {
					t.Errorf("%s with %s: fast path unsure about a simple valid value", s.schema, in)
				}
			}
		}
	}
	// Float64 values (as from the v2 decoder) through Validate.
	v := mustCompile(t, schemas[2].schema)
	for _, f := range []float64{0, 1, 100, 100.5, 101, 1e300, -5, 4.999999999999999, 5, math.Inf(1), math.NaN()} {
		x := map[string]any{"n": f, "f": f}
		if v.fast.valid(x) && v.schema.Validate(x) != nil {
			t.Errorf("float64 %v: fast path accepts what the validator rejects", f)
		}
	}
}

// fastShouldDecide lists instances that the fast path is expected to accept
// on its own whenever they are valid.
func fastShouldDecide(in string) bool {
	switch in {
	case `{"text":"hello"}`, `{"n":1}`, `{"s":"ab"}`, `{"e":"x"}`, `{"e":null}`, `{"c":2}`, `{"a":[1]}`, `{"m":{"x":true}}`, `{"next":{"next":{"v":null}}}`:
		return true
	}
	return false
}

func TestValidatorConcurrent(t *testing.T) {
	fast := mustCompile(t, `{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`)
	slow := mustCompile(t, argsSchema)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if err := fast.ValidateJSON([]byte(`{"text":"hello"}`)); err != nil {
					t.Error(err)
					return
				}
				if err := fast.ValidateJSON([]byte(`{"text":1}`)); err == nil || err.Error() != `at "/text": must be string, got number` {
					t.Errorf("got %v", err)
					return
				}
				in := fmt.Sprintf(`{"name":"abc","count":%d}`, (g+i)%12)
				err := slow.ValidateJSON([]byte(in))
				if c := (g + i) % 12; (c >= 1 && c <= 10) != (err == nil) {
					t.Errorf("%s: %v", in, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestValidateAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	v := mustCompile(t, `{"type":"object","properties":{"text":{"type":"string"},"n":{"type":"integer","minimum":0}},"required":["text"]}`)
	data := []byte(`{"text":"hello","n":3}`)
	x := map[string]any{"text": "hello", "n": 3.0}
	if n := testing.AllocsPerRun(100, func() { _ = v.Validate(x) }); n != 0 {
		t.Errorf("Validate allocates %v times, want 0", n)
	}
	// The map (2), the string value and its boxing; keys and small
	// integers cost nothing.
	if n := testing.AllocsPerRun(100, func() { _ = v.ValidateJSON(data) }); n > 4 {
		t.Errorf("ValidateJSON allocates %v times, want at most 4", n)
	}
}

func TestMaxDepth(t *testing.T) {
	v := mustCompile(t, `{"anyOf":[{"type":"string"},{"type":"array","items":{"$ref":"#"}}]}`)
	nest := func(d int) []byte {
		return []byte(strings.Repeat("[", d) + `"x"` + strings.Repeat("]", d))
	}
	if err := v.ValidateJSON(nest(MaxDepth)); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	err := v.ValidateJSON(nest(MaxDepth + 1))
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "deeper than 512") {
		t.Errorf("depth %d: %v", MaxDepth+1, err)
	}
	// An invalid value at the deepest level produces a short report.
	deep := []byte(strings.Repeat("[", MaxDepth) + `1` + strings.Repeat("]", MaxDepth))
	err = v.ValidateJSON(deep)
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("deep invalid value: %d bytes of error: %.200v", len(fmt.Sprint(err)), err)
	}
}

func TestRefCycleMessage(t *testing.T) {
	v := mustCompile(t, `{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`)
	err := v.ValidateJSON([]byte(`1`))
	if err == nil || !strings.Contains(err.Error(), "form a cycle") {
		t.Errorf("got %v", err)
	}
}
