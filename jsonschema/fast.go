package jsonschema

import (
	"encoding/json"
	"math"
	"math/big"
	"unicode/utf8"

	sj "github.com/santhosh-tekuri/jsonschema/v6"
)

// The full validator allocates for every value it visits and for every
// numeric check, which is a lot on a path run for every tool call. Most tool
// schemas use a small set of keywords, so a Validator also carries a "fast
// accept" check compiled from the same *sj.Schema (reusing its compiled
// patterns and format checkers). The fast check only ever answers "valid"
// when it is certain; whenever it is not (a failure, a decimal bound, a big
// number), the full validator decides and produces the error report. A
// schema using any keyword outside the subset gets no fast check at all.

// JSON type bits for fastSchema.types.
const (
	tNull uint8 = 1 << iota
	tBoolean
	tNumber
	tInteger
	tString
	tArray
	tObject
)

// maxExact is the largest magnitude up to which every integer is a float64.
const maxExact = 1 << 53

type fastSchema struct {
	never bool        // the schema false
	types uint8       // 0: any type
	ref   *fastSchema // $ref, checked in addition to the other keywords

	enum     []fastConst // nil: no enum
	hasEnum  bool
	constVal fastConst
	hasConst bool
	format   func(any) error

	required   []string
	props      map[string]*fastSchema
	additional *fastSchema // nil: any additional property is allowed
	minProps   int         // -1: none
	maxProps   int

	items    *fastSchema
	minItems int
	maxItems int

	minLen  int
	maxLen  int
	pattern sj.Regexp

	// Numeric bounds, only when they are integers of magnitude <= 2^53, so
	// that comparing float64 values gives exactly the rational comparison
	// the full validator makes.
	min, max, exMin, exMax *float64
}

// fastConst is an enum or const value.
type fastConst struct {
	v       any     // string, bool or nil
	num     float64 // a number that is an integer of magnitude <= 2^53
	isNum   bool
	unknown bool // another number, an array or an object: not compared here
}

// buildFast compiles the fast check for s, or returns nil when s uses a
// keyword the fast check does not implement.
func buildFast(s *sj.Schema) *fastSchema {
	memo := make(map[*sj.Schema]*fastSchema)
	f, ok := fastNode(s, memo)
	if !ok {
		return nil
	}
	// A $ref chain that comes back to itself without descending into the
	// instance would recurse forever; the full validator reports it.
	for _, n := range memo {
		seen := map[*fastSchema]bool{}
		for x := n; x != nil; x = x.ref {
			if seen[x] {
				return nil
			}
			seen[x] = true
		}
	}
	return f
}

func fastNode(s *sj.Schema, memo map[*sj.Schema]*fastSchema) (*fastSchema, bool) {
	if f, ok := memo[s]; ok {
		return f, true
	}
	f := &fastSchema{minProps: -1, maxProps: -1, minItems: -1, maxItems: -1, minLen: -1, maxLen: -1}
	memo[s] = f
	if s.Bool != nil {
		f.never = !*s.Bool
		return f, true
	}
	if s.DraftVersion < 2019 ||
		s.RecursiveRef != nil || s.DynamicRef != nil || s.Not != nil ||
		len(s.AllOf) > 0 || len(s.AnyOf) > 0 || len(s.OneOf) > 0 ||
		s.If != nil || s.Then != nil || s.Else != nil ||
		s.PropertyNames != nil || len(s.PatternProperties) > 0 ||
		len(s.Dependencies) > 0 || len(s.DependentRequired) > 0 || len(s.DependentSchemas) > 0 ||
		s.UnevaluatedProperties != nil || s.UnevaluatedItems != nil ||
		s.UniqueItems || s.Contains != nil || s.MinContains != nil || s.MaxContains != nil ||
		s.AdditionalItems != nil || len(s.PrefixItems) > 0 ||
		s.ContentEncoding != nil || s.ContentMediaType != nil || s.ContentSchema != nil ||
		s.MultipleOf != nil || len(s.Extensions) > 0 {
		return nil, false
	}
	if s.Ref != nil {
		r, ok := fastNode(s.Ref, memo)
		if !ok {
			return nil, false
		}
		f.ref = r
	}
	if s.Types != nil {
		for _, t := range s.Types.ToStrings() {
			switch t {
			case "null":
				f.types |= tNull
			case "boolean":
				f.types |= tBoolean
			case "number":
				f.types |= tNumber
			case "integer":
				f.types |= tInteger
			case "string":
				f.types |= tString
			case "array":
				f.types |= tArray
			case "object":
				f.types |= tObject
			}
		}
	}
	if s.Enum != nil {
		f.hasEnum = true
		for _, v := range s.Enum.Values {
			f.enum = append(f.enum, makeFastConst(v))
		}
	}
	if s.Const != nil {
		f.hasConst = true
		f.constVal = makeFastConst(*s.Const)
	}
	if s.Format != nil {
		f.format = s.Format.Validate
	}

	f.required = s.Required
	if len(s.Properties) > 0 {
		f.props = make(map[string]*fastSchema, len(s.Properties))
		for name, ps := range s.Properties {
			p, ok := fastNode(ps, memo)
			if !ok {
				return nil, false
			}
			f.props[name] = p
		}
	}
	switch a := s.AdditionalProperties.(type) {
	case nil:
	case bool:
		if !a {
			f.additional = &fastSchema{never: true}
		}
	case *sj.Schema:
		p, ok := fastNode(a, memo)
		if !ok {
			return nil, false
		}
		f.additional = p
	default:
		return nil, false
	}
	f.minProps, f.maxProps = intOr(s.MinProperties), intOr(s.MaxProperties)

	var items *sj.Schema
	if s.DraftVersion >= 2020 {
		items = s.Items2020
	} else {
		switch it := s.Items.(type) {
		case nil:
		case *sj.Schema:
			items = it
		default:
			return nil, false
		}
	}
	if items != nil {
		p, ok := fastNode(items, memo)
		if !ok {
			return nil, false
		}
		f.items = p
	}
	f.minItems, f.maxItems = intOr(s.MinItems), intOr(s.MaxItems)

	f.minLen, f.maxLen = intOr(s.MinLength), intOr(s.MaxLength)
	f.pattern = s.Pattern

	var ok bool
	if f.min, ok = exactBound(s.Minimum); !ok {
		return nil, false
	}
	if f.max, ok = exactBound(s.Maximum); !ok {
		return nil, false
	}
	if f.exMin, ok = exactBound(s.ExclusiveMinimum); !ok {
		return nil, false
	}
	if f.exMax, ok = exactBound(s.ExclusiveMaximum); !ok {
		return nil, false
	}
	return f, true
}

func intOr(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// exactBound converts a bound that is an integer of magnitude <= 2^53.
func exactBound(r *big.Rat) (*float64, bool) {
	if r == nil {
		return nil, true
	}
	if !r.IsInt() {
		return nil, false
	}
	f, exact := r.Float64()
	if !exact || math.Abs(f) > maxExact {
		return nil, false
	}
	return &f, true
}

func makeFastConst(v any) fastConst {
	switch v := v.(type) {
	case nil, bool, string:
		return fastConst{v: v}
	}
	if f, ok := exactInt(v); ok {
		return fastConst{num: f, isNum: true}
	}
	return fastConst{unknown: true}
}

// exactInt returns the value of a number that is an integer of magnitude
// <= 2^53 written without a fraction or exponent (or a float64 holding
// such an integer).
func exactInt(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		if v >= -maxExact && v <= maxExact {
			return float64(v), true
		}
	case int:
		if v >= -maxExact && v <= maxExact {
			return float64(v), true
		}
	case float64:
		if math.Trunc(v) == v && math.Abs(v) <= maxExact {
			return v, true
		}
	case json.Number:
		if n, ok := parseSmallInt(string(v)); ok && n >= -maxExact && n <= maxExact {
			return float64(n), true
		}
	}
	return 0, false
}

// number classifies v as the full validator's number type. It returns
// the value as a float64 when that is exact enough to compare against the
// fast check's bounds (see fastSchema.min), ok=false when v is not a
// number, and exact=false when it is a number this check cannot compare.
func number(v any) (f float64, isNum, exact bool) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false, false
		}
		return x, true, true
	case int64, int:
		f, ok := exactInt(x)
		return f, true, ok
	case json.Number:
		f, ok := exactInt(x)
		return f, true, ok
	}
	return 0, false, false
}

// isInteger reports (isInteger, certain) for a number.
func isInteger(v any) (bool, bool) {
	switch x := v.(type) {
	case float64:
		return math.Trunc(x) == x, true
	case int64, int:
		return true, true
	case json.Number:
		if _, ok := parseSmallInt(string(x)); ok {
			return true, true
		}
	}
	return false, false
}

// parseSmallInt parses an optionally negative run of at most 18 decimal
// digits (so that it cannot overflow an int64).
func parseSmallInt[T ~string | ~[]byte](s T) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// valid reports whether v certainly satisfies the schema. false means
// "invalid or not sure".
func (f *fastSchema) valid(v any) bool {
	if f.never {
		return false
	}
	var t uint8
	switch x := v.(type) {
	case nil:
		t = tNull
	case bool:
		t = tBoolean
	case string:
		t = tString
	case map[string]any:
		t = tObject
	case []any:
		t = tArray
	case float64, int64, int, json.Number:
		if _, isNum, _ := number(x); !isNum {
			return false // NaN or ±Inf
		}
		t = tNumber
	default:
		return false
	}
	if f.types != 0 && f.types&t == 0 {
		if t != tNumber || f.types&tInteger == 0 {
			return false
		}
		if isInt, certain := isInteger(v); !isInt || !certain {
			return false
		}
	}
	if f.hasConst && !f.constVal.equal(v, t) {
		return false
	}
	if f.hasEnum {
		found := false
		for i := range f.enum {
			if f.enum[i].equal(v, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if f.format != nil && f.format(v) != nil {
		return false
	}
	if f.ref != nil && !f.ref.valid(v) {
		return false
	}

	switch t {
	case tObject:
		obj := v.(map[string]any)
		if f.minProps >= 0 && len(obj) < f.minProps || f.maxProps >= 0 && len(obj) > f.maxProps {
			return false
		}
		for _, name := range f.required {
			if _, ok := obj[name]; !ok {
				return false
			}
		}
		for name, pv := range obj {
			if ps, ok := f.props[name]; ok {
				if !ps.valid(pv) {
					return false
				}
			} else if f.additional != nil && !f.additional.valid(pv) {
				return false
			}
		}
	case tArray:
		arr := v.([]any)
		if f.minItems >= 0 && len(arr) < f.minItems || f.maxItems >= 0 && len(arr) > f.maxItems {
			return false
		}
		if f.items != nil {
			for _, item := range arr {
				if !f.items.valid(item) {
					return false
				}
			}
		}
	case tString:
		s := v.(string)
		if f.minLen >= 0 || f.maxLen >= 0 {
			n := utf8.RuneCountInString(s)
			if f.minLen >= 0 && n < f.minLen || f.maxLen >= 0 && n > f.maxLen {
				return false
			}
		}
		if f.pattern != nil && !f.pattern.MatchString(s) {
			return false
		}
	case tNumber:
		if f.min != nil || f.max != nil || f.exMin != nil || f.exMax != nil {
			n, _, exact := number(v)
			if !exact {
				return false
			}
			if f.min != nil && n < *f.min || f.max != nil && n > *f.max ||
				f.exMin != nil && n <= *f.exMin || f.exMax != nil && n >= *f.exMax {
				return false
			}
		}
	}
	return true
}

// equal reports whether v (of type bit t) certainly equals c; false means
// "different or not sure".
func (c *fastConst) equal(v any, t uint8) bool {
	if c.unknown {
		return false
	}
	if c.isNum {
		if t != tNumber {
			return false
		}
		n, _, exact := number(v)
		return exact && n == c.num
	}
	switch w := c.v.(type) {
	case nil:
		return v == nil
	case bool:
		b, ok := v.(bool)
		return ok && b == w
	case string:
		s, ok := v.(string)
		return ok && s == w
	}
	return false
}
