package jsonschema

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"

	sj "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// ValidationError reports every way an instance fails its schema. Its
// Error method lists the issues in one line meant for people and for
// language models alike, for example:
//
//	at "/count": must be >= 1, got 0; missing required property "name"
//
// Callers add their own context, e.g. fmt.Errorf("invalid arguments: %w", err).
type ValidationError struct {
	// Issues are sorted by instance location (the root first) and free
	// of duplicates.
	Issues []Issue
}

// Issue is one reason an instance is invalid.
type Issue struct {
	// InstanceLocation is the JSON Pointer (RFC 6901) of the offending
	// value inside the instance; "" is the instance itself.
	InstanceLocation string
	// Message says what is wrong, in plain English, without the location.
	Message string
}

// String formats the issue as `at "/loc": message`, or just the message
// for the instance itself.
func (i Issue) String() string {
	if i.InstanceLocation == "" {
		return i.Message
	}
	return "at " + strconv.Quote(i.InstanceLocation) + ": " + i.Message
}

// maxIssuesInError bounds the length of ValidationError.Error for
// pathological inputs; Issues always holds all of them.
const maxIssuesInError = 20

// Error lists the issues separated by "; " (at most 20 of them, then a
// count of the rest).
func (e *ValidationError) Error() string {
	if len(e.Issues) == 0 {
		return "value does not match the schema"
	}
	var sb strings.Builder
	for i, is := range e.Issues {
		if i == maxIssuesInError {
			fmt.Fprintf(&sb, "; and %d more", len(e.Issues)-i)
			break
		}
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(is.String())
	}
	return sb.String()
}

// issue is an Issue with its location still split into tokens.
type issue struct {
	loc []string
	msg string
}

func newValidationError(ve *sj.ValidationError) *ValidationError {
	var list []issue
	collect(ve, &list, false)
	slices.SortStableFunc(list, func(a, b issue) int { return compareLocations(a.loc, b.loc) })
	out := &ValidationError{Issues: make([]Issue, 0, len(list))}
	seen := make(map[Issue]bool, len(list))
	for _, is := range list {
		x := Issue{InstanceLocation: pointer(is.loc), Message: is.msg}
		if !seen[x] {
			seen[x] = true
			out.Issues = append(out.Issues, x)
		}
	}
	return out
}

// compareLocations orders locations token by token, array indexes
// numerically, so that "/items/2" comes before "/items/10" and a parent
// before its children.
func compareLocations(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, errx := strconv.ParseUint(a[i], 10, 64)
		y, erry := strconv.ParseUint(b[i], 10, 64)
		var c int
		if errx == nil && erry == nil {
			c = cmp.Compare(x, y)
		} else {
			c = strings.Compare(a[i], b[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// pointer joins tokens into a JSON Pointer.
func pointer(tokens []string) string {
	if len(tokens) == 0 {
		return ""
	}
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		sb.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return sb.String()
}

// collect flattens the validator's error tree into leaf issues. Wrapper
// kinds (the schema itself, $ref, allOf, groups) are transparent; anyOf
// and oneOf become a single issue that summarises every alternative. Inside
// an alternative (nested is set), anyOf and oneOf are not expanded again:
// a recursive schema would otherwise make the report grow with the square
// of the instance's depth.
func collect(e *sj.ValidationError, out *[]issue, nested bool) {
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		if len(e.Causes) == 0 {
			*out = append(*out, issue{e.InstanceLocation, "does not match the schema"})
		}
		for _, c := range e.Causes {
			collect(c, out, nested)
		}
	case *kind.AnyOf:
		msg := "must match at least one of the allowed schemas"
		if !nested {
			msg += alternatives(e)
		}
		*out = append(*out, issue{e.InstanceLocation, msg})
	case *kind.OneOf:
		msg := "must match exactly one of the allowed schemas"
		if len(k.Subschemas) == 2 {
			msg += fmt.Sprintf(", but matches both alternative %d and alternative %d", k.Subschemas[0]+1, k.Subschemas[1]+1)
		} else if !nested {
			msg += alternatives(e)
		}
		*out = append(*out, issue{e.InstanceLocation, msg})
	case *kind.PropertyNames:
		var sub []issue
		for _, c := range e.Causes {
			collect(c, &sub, true)
		}
		msg := "invalid property name " + strconv.Quote(k.Property)
		if len(sub) > 0 {
			msg += ": " + joinMessages(sub, nil)
		}
		*out = append(*out, issue{e.InstanceLocation, msg})
	default:
		*out = append(*out, issue{e.InstanceLocation, describe(e.ErrorKind)})
	}
}

// alternatives describes why each alternative of anyOf/oneOf failed.
func alternatives(e *sj.ValidationError) string {
	if len(e.Causes) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString(": ")
	for i, c := range e.Causes {
		var sub []issue
		collect(c, &sub, true)
		slices.SortStableFunc(sub, func(a, b issue) int { return compareLocations(a.loc, b.loc) })
		if i > 0 {
			sb.WriteString("; ")
		}
		fmt.Fprintf(&sb, "(%d) %s", i+1, joinMessages(sub, e.InstanceLocation))
	}
	return sb.String()
}

// joinMessages lists issues with ", ", naming locations relative to base
// when they are deeper than it.
func joinMessages(list []issue, base []string) string {
	var parts []string
	for _, is := range list {
		m := is.msg
		if len(is.loc) > len(base) {
			m = "at " + strconv.Quote(pointer(is.loc)) + ": " + m
		}
		if !slices.Contains(parts, m) {
			parts = append(parts, m)
		}
	}
	return strings.Join(parts, ", ")
}

// describe renders one leaf error kind.
func describe(k sj.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("must be %s, got %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Required:
		return missing("missing required", k.Missing)
	case *kind.AdditionalProperties:
		props := slices.Clone(k.Properties)
		sort.Strings(props)
		if len(props) == 1 {
			return "unexpected property " + strconv.Quote(props[0])
		}
		return "unexpected properties " + quoteList(props)
	case *kind.Enum:
		if len(k.Want) == 1 {
			return fmt.Sprintf("must be %s, got %s", display(k.Want[0]), display(k.Got))
		}
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = display(w)
		}
		return fmt.Sprintf("must be one of %s, got %s", strings.Join(want, ", "), display(k.Got))
	case *kind.Const:
		return fmt.Sprintf("must be %s, got %s", display(k.Want), display(k.Got))
	case *kind.Format:
		msg := fmt.Sprintf("must be a valid %s, got %s", k.Want, display(k.Got))
		if k.Err != nil {
			msg += " (" + k.Err.Error() + ")"
		}
		return msg
	case *kind.Minimum:
		return fmt.Sprintf("must be >= %s, got %s", rat(k.Want), rat(k.Got))
	case *kind.Maximum:
		return fmt.Sprintf("must be <= %s, got %s", rat(k.Want), rat(k.Got))
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("must be > %s, got %s", rat(k.Want), rat(k.Got))
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("must be < %s, got %s", rat(k.Want), rat(k.Got))
	case *kind.MultipleOf:
		return fmt.Sprintf("must be a multiple of %s, got %s", rat(k.Want), rat(k.Got))
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %s long, got %d", plural(k.Want, "character"), k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %s long, got %d", plural(k.Want, "character"), k.Got)
	case *kind.Pattern:
		return fmt.Sprintf("must match the pattern %s, got %s", strconv.Quote(k.Want), display(k.Got))
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %s, got %d", plural(k.Want, "item"), k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %s, got %d", plural(k.Want, "item"), k.Got)
	case *kind.UniqueItems:
		return fmt.Sprintf("must not contain duplicates, but items %d and %d are equal", k.Duplicates[0], k.Duplicates[1])
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %s, got %d", plural(k.Want, "property"), k.Got)
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %s, got %d", plural(k.Want, "property"), k.Got)
	case *kind.DependentRequired:
		return missing(fmt.Sprintf("property %q is present, so it needs", k.Prop), k.Missing)
	case *kind.Dependency:
		return missing(fmt.Sprintf("property %q is present, so it needs", k.Prop), k.Missing)
	case *kind.FalseSchema:
		return "is not allowed"
	case *kind.Not:
		return "must not match the schema in \"not\""
	case *kind.Contains:
		return "must contain at least one item that matches the \"contains\" schema"
	case *kind.MinContains:
		return fmt.Sprintf("must contain at least %s that match the \"contains\" schema, got %d", plural(k.Want, "item"), len(k.Got))
	case *kind.MaxContains:
		return fmt.Sprintf("must contain at most %s that match the \"contains\" schema, got %d", plural(k.Want, "item"), len(k.Got))
	case *kind.AdditionalItems:
		return fmt.Sprintf("has %s more than allowed", plural(k.Count, "item"))
	case *kind.InvalidJsonValue:
		return fmt.Sprintf("is not a JSON value (Go type %T)", k.Value)
	case *kind.RefCycle:
		return fmt.Sprintf("cannot be validated: the schema's references %s and %s form a cycle", k.KeywordLocation1, k.KeywordLocation2)
	}
	if path := k.KeywordPath(); len(path) > 0 {
		return fmt.Sprintf("does not satisfy the %q keyword", strings.Join(path, "/"))
	}
	return "does not match the schema"
}

func missing(prefix string, names []string) string {
	if len(names) == 1 {
		return prefix + " property " + strconv.Quote(names[0])
	}
	return prefix + " properties " + quoteList(names)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return strconv.Itoa(n) + " " + noun[:len(noun)-1] + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// rat formats a number exactly when it is an integer, otherwise as the
// shortest decimal that identifies the nearest float64.
func rat(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// maxDisplay bounds how much of an offending value a message quotes.
const maxDisplay = 64

// display renders an instance value as compact JSON for messages,
// shortened when long.
func display(v any) string {
	var sb strings.Builder
	writeJSON(&sb, v)
	s := sb.String()
	if len(s) > maxDisplay {
		cut := maxDisplay
		for cut > 0 && s[cut]&0xC0 == 0x80 { // keep UTF-8 intact
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func writeJSON(sb *strings.Builder, v any) {
	if sb.Len() > maxDisplay {
		return
	}
	switch v := v.(type) {
	case nil:
		sb.WriteString("null")
	case bool:
		sb.WriteString(strconv.FormatBool(v))
	case string:
		sb.WriteString(strconv.Quote(v))
	case json.Number:
		sb.WriteString(string(v))
	case float64:
		sb.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case []any:
		sb.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeJSON(sb, x)
			if sb.Len() > maxDisplay {
				return
			}
		}
		sb.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(strconv.Quote(k))
			sb.WriteByte(':')
			writeJSON(sb, v[k])
			if sb.Len() > maxDisplay {
				return
			}
		}
		sb.WriteByte('}')
	default:
		fmt.Fprint(sb, v)
	}
}
