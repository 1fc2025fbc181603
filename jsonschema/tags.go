package jsonschema

import (
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// tagKeyword is one item of a `jsonschema:"..."` struct tag.
type tagKeyword struct {
	key      string
	value    string
	hasValue bool
}

// splitEscaped splits s on sep, except where sep is preceded by a
// backslash. The escape `\sep` becomes sep; when unescapeBackslash is set,
// `\\` becomes a single backslash. Other backslashes are kept verbatim so
// that regular expressions such as `^\d+$` need no extra escaping.
func splitEscaped(s string, sep byte, unescapeBackslash bool) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == sep:
			cur.WriteByte(sep)
			i++
		case c == '\\' && i+1 < len(s) && s[i+1] == '\\':
			if unescapeBackslash {
				cur.WriteByte('\\')
			} else {
				cur.WriteString(`\\`)
			}
			i++
		case c == sep:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String())
}

// parseSchemaTag parses the value of a `jsonschema` struct tag: a
// comma-separated list of keyword or keyword=value items, with `\,`
// standing for a comma inside a value.
func parseSchemaTag(tag string) ([]tagKeyword, error) {
	if strings.TrimSpace(tag) == "" {
		return nil, nil
	}
	var out []tagKeyword
	seen := make(map[string]bool)
	for _, item := range splitEscaped(tag, ',', false) {
		key, value, hasValue := strings.Cut(item, "=")
		key = strings.TrimSpace(key)
		if key == "" {
			return nil, fmt.Errorf("jsonschema tag %q has an empty item", tag)
		}
		if seen[key] {
			if key == "enum" {
				return nil, fmt.Errorf("jsonschema tag keyword %q appears more than once (list the values in one: enum=a|b|c)", key)
			}
			return nil, fmt.Errorf("jsonschema tag keyword %q appears more than once", key)
		}
		seen[key] = true
		out = append(out, tagKeyword{key: key, value: value, hasValue: hasValue})
	}
	return out, nil
}

// keyword classes, for checking that a keyword applies to a field's type.
const (
	anyType = iota
	numericType
	stringType
	arrayType
	objectType
)

// keywordInfo describes a keyword accepted in a jsonschema tag.
type keywordInfo struct {
	class int
	kind  int // how the value is parsed
}

const (
	kwText    = iota // free text (title)
	kwFlag           // bare or =true/=false
	kwNumber         // a JSON number
	kwCount          // a non-negative integer
	kwLiteral        // a value parsed to the field's type (const, default)
	kwEnum           // |-separated values parsed to the field's type
	kwPattern        // a regular expression
	kwFormat         // a format name
	kwSchema         // true, false or a JSON object (additionalProperties)
	kwNullable
	kwRequired
	kwOptional
)

var tagKeywords = map[string]keywordInfo{
	"title":                {anyType, kwText},
	"enum":                 {anyType, kwEnum},
	"const":                {anyType, kwLiteral},
	"default":              {anyType, kwLiteral},
	"minimum":              {numericType, kwNumber},
	"maximum":              {numericType, kwNumber},
	"exclusiveMinimum":     {numericType, kwNumber},
	"exclusiveMaximum":     {numericType, kwNumber},
	"multipleOf":           {numericType, kwNumber},
	"minLength":            {stringType, kwCount},
	"maxLength":            {stringType, kwCount},
	"pattern":              {stringType, kwPattern},
	"format":               {stringType, kwFormat},
	"minItems":             {arrayType, kwCount},
	"maxItems":             {arrayType, kwCount},
	"uniqueItems":          {arrayType, kwFlag},
	"minProperties":        {objectType, kwCount},
	"maxProperties":        {objectType, kwCount},
	"additionalProperties": {objectType, kwSchema},
	"deprecated":           {anyType, kwFlag},
	"readOnly":             {anyType, kwFlag},
	"writeOnly":            {anyType, kwFlag},
	"nullable":             {anyType, kwNullable},
	"required":             {anyType, kwRequired},
	"optional":             {anyType, kwOptional},
}

// requirement is what the tags say about whether a field is required.
type requirement int

const (
	requiredDefault requirement = iota
	requiredYes
	requiredNo
)

// tagInput is everything applyTags needs about one struct field (or the
// `_` marker field of a struct).
type tagInput struct {
	keywords    []tagKeyword
	description string
	hasDesc     bool
	goType      reflect.Type // the field's Go type, pointers removed
	marker      bool         // the `_` marker field: keywords describe the struct itself
}

// applyTags applies description and jsonschema tag keywords to n, which is
// the schema inferred for the field's type. It may return a different node
// (nullable can wrap n in anyOf).
func applyTags(n *node, in tagInput) (*node, requirement, error) {
	req := requiredDefault
	nullable := false
	for _, kw := range in.keywords {
		info, ok := tagKeywords[kw.key]
		if !ok {
			if strings.ContainsAny(kw.key, " .") {
				// Looks like prose: the go-sdk convention puts the
				// description in the jsonschema tag.
				return nil, req, fmt.Errorf("unknown keyword %q in jsonschema tag (a description goes in its own tag: description:\"...\")", kw.key)
			}
			return nil, req, fmt.Errorf("unknown keyword %q in jsonschema tag", kw.key)
		}
		switch info.kind {
		case kwRequired, kwOptional, kwNullable:
			on, err := parseFlag(kw)
			if err != nil {
				return nil, req, err
			}
			if in.marker {
				return nil, req, fmt.Errorf("keyword %q cannot be used on a `_` marker field", kw.key)
			}
			switch {
			case info.kind == kwNullable:
				nullable = on
			case (info.kind == kwRequired) == on:
				if req == requiredNo {
					return nil, req, fmt.Errorf("keywords \"required\" and \"optional\" contradict each other")
				}
				req = requiredYes
			default:
				if req == requiredYes {
					return nil, req, fmt.Errorf("keywords \"required\" and \"optional\" contradict each other")
				}
				req = requiredNo
			}
		}
	}
	if n.isFalse && (len(in.keywords) > 0 || in.hasDesc) {
		return nil, req, fmt.Errorf("keywords cannot be added to the boolean schema false")
	}

	// nullable first, so the keywords below land on the outer schema.
	if nullable {
		switch {
		case n.types != nil:
			if !n.hasType("null") {
				n.setTypes(append(append([]string(nil), n.types...), "null")...)
			}
		case n.isEmpty():
			// {} already accepts null.
		default:
			inner := n
			n = &node{}
			n.set(member{key: "anyOf", list: []*node{inner, typed("null")}})
		}
	}

	if in.hasDesc {
		n.setValue("description", quoteString(in.description))
	}
	for _, kw := range in.keywords {
		info := tagKeywords[kw.key]
		if err := checkApplies(n, kw.key, info.class); err != nil {
			return nil, req, err
		}
		var val jsontext.Value
		var err error
		switch info.kind {
		case kwRequired, kwOptional, kwNullable:
			continue
		case kwText:
			if !kw.hasValue {
				return nil, req, fmt.Errorf("keyword %q needs a value (%s=...)", kw.key, kw.key)
			}
			val = quoteString(kw.value)
		case kwFlag:
			on, err := parseFlag(kw)
			if err != nil {
				return nil, req, err
			}
			if !on {
				n.remove(kw.key)
				continue
			}
			val = jsontext.Value("true")
		case kwNumber:
			val, err = parseNumber(kw)
		case kwCount:
			val, err = parseCount(kw)
		case kwPattern:
			if !kw.hasValue || kw.value == "" {
				return nil, req, fmt.Errorf("keyword %q needs a regular expression", kw.key)
			}
			if _, err := regexp.Compile(kw.value); err != nil {
				return nil, req, fmt.Errorf("keyword %q: invalid regular expression: %v", kw.key, err)
			}
			val = quoteString(kw.value)
		case kwFormat:
			if !kw.hasValue || strings.TrimSpace(kw.value) == "" {
				return nil, req, fmt.Errorf("keyword %q needs a format name (for example format=email)", kw.key)
			}
			val = quoteString(kw.value)
		case kwSchema:
			val, err = parseSchemaValue(kw)
		case kwLiteral:
			if !kw.hasValue {
				return nil, req, fmt.Errorf("keyword %q needs a value (%s=...)", kw.key, kw.key)
			}
			val, err = parseLiteral(n, in.goType, kw.value)
			if err != nil {
				err = fmt.Errorf("keyword %q: %w", kw.key, err)
			}
		case kwEnum:
			val, err = parseEnum(n, in.goType, kw)
		}
		if err != nil {
			return nil, req, err
		}
		n.setValue(kw.key, val)
	}

	if nullable {
		if i := n.index("const"); i >= 0 {
			c := n.members[i].value
			n.remove("const")
			if string(c) != "null" {
				n.setValue("enum", jsontext.Value("["+string(c)+",null]"))
			} else {
				n.setValue("const", c)
			}
		} else if i := n.index("enum"); i >= 0 {
			n.members[i].value = appendNullToEnum(n.members[i].value)
		}
	}
	return n, req, nil
}

// checkApplies reports an error when a type-specific keyword is used on a
// schema whose type is known and is not of that kind. additionalProperties
// additionally needs a schema that is known to be an object, since next to
// a $ref it would reject every property.
func checkApplies(n *node, key string, class int) error {
	if class == anyType {
		return nil
	}
	if n.types == nil {
		if class == objectType && key == "additionalProperties" {
			return fmt.Errorf("keyword %q needs a schema of type object", key)
		}
		return nil
	}
	var want []string
	switch class {
	case numericType:
		want = []string{"integer", "number"}
	case stringType:
		want = []string{"string"}
	case arrayType:
		want = []string{"array"}
	case objectType:
		want = []string{"object"}
	}
	for _, w := range want {
		if n.hasType(w) {
			return nil
		}
	}
	return fmt.Errorf("keyword %q applies to %s values, but the schema has type %s",
		key, strings.Join(want, "/"), strings.Join(n.types, "/"))
}

func parseFlag(kw tagKeyword) (bool, error) {
	if !kw.hasValue {
		return true, nil
	}
	switch kw.value {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("keyword %q takes no value or =true/=false, got %q", kw.key, kw.value)
}

// isJSONNumber reports whether s is a number in JSON syntax.
func isJSONNumber(s string) bool {
	v := jsontext.Value(s)
	return v.Kind() == '0' && v.IsValid()
}

func parseNumber(kw tagKeyword) (jsontext.Value, error) {
	s := strings.TrimSpace(kw.value)
	if !kw.hasValue || !isJSONNumber(s) {
		return nil, fmt.Errorf("keyword %q needs a JSON number, got %q", kw.key, kw.value)
	}
	if kw.key == "multipleOf" {
		if r, ok := new(big.Rat).SetString(s); !ok || r.Sign() <= 0 {
			return nil, fmt.Errorf("keyword %q must be greater than 0, got %s", kw.key, s)
		}
	}
	return jsontext.Value(s), nil
}

func parseCount(kw tagKeyword) (jsontext.Value, error) {
	s := strings.TrimSpace(kw.value)
	n, err := strconv.ParseUint(s, 10, 63)
	if !kw.hasValue || err != nil || !isJSONNumber(s) {
		return nil, fmt.Errorf("keyword %q needs a non-negative integer, got %q", kw.key, kw.value)
	}
	return jsontext.Value(strconv.FormatUint(n, 10)), nil
}

func parseSchemaValue(kw tagKeyword) (jsontext.Value, error) {
	s := strings.TrimSpace(kw.value)
	v := jsontext.Value(s)
	if kw.hasValue && v.IsValid() {
		switch v.Kind() {
		case 't', 'f', '{':
			if err := v.Compact(); err != nil {
				return nil, err
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("keyword %q needs true, false or a JSON object, got %q", kw.key, kw.value)
}

// primaryType is the single JSON type of n apart from "null", or "".
func primaryType(n *node) string {
	var t string
	for _, x := range n.types {
		if x == "null" {
			continue
		}
		if t != "" {
			return ""
		}
		t = x
	}
	return t
}

// parseLiteral converts the text of a tag value to JSON according to the
// field's type: strings are taken verbatim, numbers and booleans are
// parsed (with the range of the Go type), and anything else must be a JSON
// literal.
func parseLiteral(n *node, goType reflect.Type, s string) (jsontext.Value, error) {
	switch primaryType(n) {
	case "string":
		return quoteString(s), nil
	case "boolean":
		switch s {
		case "true", "false":
			return jsontext.Value(s), nil
		}
		return nil, fmt.Errorf("want true or false, got %q", s)
	case "integer":
		if !isJSONNumber(s) {
			return nil, fmt.Errorf("want an integer, got %q", s)
		}
		switch goType.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			i, err := strconv.ParseInt(s, 10, goType.Bits())
			if err != nil {
				return nil, fmt.Errorf("want an integer that fits %v, got %q", goType, s)
			}
			return jsontext.Value(strconv.FormatInt(i, 10)), nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			u, err := strconv.ParseUint(s, 10, goType.Bits())
			if err != nil {
				return nil, fmt.Errorf("want an integer that fits %v, got %q", goType, s)
			}
			return jsontext.Value(strconv.FormatUint(u, 10)), nil
		}
		if r, ok := new(big.Rat).SetString(s); !ok || !r.IsInt() {
			return nil, fmt.Errorf("want an integer, got %q", s)
		}
		return jsontext.Value(s), nil
	case "number":
		if !isJSONNumber(s) {
			return nil, fmt.Errorf("want a JSON number, got %q", s)
		}
		if goType.Kind() == reflect.Float32 || goType.Kind() == reflect.Float64 {
			if _, err := strconv.ParseFloat(s, goType.Bits()); err != nil {
				return nil, fmt.Errorf("want a number that fits %v, got %q", goType, s)
			}
		}
		return jsontext.Value(s), nil
	}
	v := jsontext.Value(strings.TrimSpace(s))
	if !v.IsValid() {
		return nil, fmt.Errorf("want a JSON value for a field of type %v, got %q (quote strings: \"text\")", goType, s)
	}
	v = v.Clone()
	if err := v.Compact(); err != nil {
		return nil, err
	}
	return v, nil
}

// parseEnum parses enum=a|b|c; `\|` stands for a | inside a value.
func parseEnum(n *node, goType reflect.Type, kw tagKeyword) (jsontext.Value, error) {
	if !kw.hasValue || kw.value == "" {
		return nil, fmt.Errorf("keyword %q needs values (enum=a|b|c)", kw.key)
	}
	b := []byte{'['}
	for i, item := range splitEscaped(kw.value, '|', true) {
		v, err := parseLiteral(n, goType, item)
		if err != nil {
			return nil, fmt.Errorf("keyword %q: value %d: %w", kw.key, i+1, err)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, v...)
	}
	return append(b, ']'), nil
}

// appendNullToEnum adds null to a JSON array unless it already holds it.
func appendNullToEnum(v jsontext.Value) jsontext.Value {
	dec := jsontext.NewDecoder(strings.NewReader(string(v)))
	if _, err := dec.ReadToken(); err != nil {
		return v
	}
	for dec.PeekKind() != ']' {
		item, err := dec.ReadValue()
		if err != nil {
			return v
		}
		if string(item) == "null" {
			return v
		}
	}
	out := append([]byte(nil), v[:len(v)-1]...)
	if len(out) > 1 {
		out = append(out, ',')
	}
	return append(out, "null]"...)
}

// quoteString returns s as a JSON string.
func quoteString(s string) jsontext.Value {
	b, err := jsontext.AppendQuote(nil, s)
	if err != nil {
		// Invalid UTF-8 is replaced rather than rejected.
		b, _ = jsontext.AppendQuote(nil, strings.ToValidUTF8(s, "\uFFFD"))
	}
	return b
}
