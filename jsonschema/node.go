package jsonschema

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// node is a schema under construction: an ordered list of keywords.
//
// Keywords are kept in a canonical order (see keywordRank) so that the same
// Go type always produces byte-identical JSON, whatever order the builder
// happened to set them in. Keywords taken from a hand-written schema (a
// [Schemer]) keep their relative order; keywords added by struct tags are
// inserted before the first keyword that ranks after them.
type node struct {
	members []member
	// types mirrors the "type" keyword when it is known (a list of JSON type
	// names); nil means the type is not constrained or not known.
	types []string
	// isFalse marks the boolean schema false.
	isFalse bool
}

// member is one keyword of a node. Exactly one of value, child, list, props,
// ref and defs is meaningful, depending on the keyword.
type member struct {
	key   string
	value jsontext.Value // a literal keyword value
	child *node          // items, additionalProperties, propertyNames
	list  []*node        // anyOf
	props []property     // properties
	ref   *def           // $ref: resolved to a pointer when encoding
	defs  []*def         // $defs
}

// property is one entry of a "properties" keyword.
type property struct {
	name   string
	schema *node
}

// keywordRank orders the keywords this package emits. Keywords not listed
// (only possible in hand-written schemas) rank after all of them but before
// $defs.
var keywordRank = func() map[string]int {
	order := []string{
		"$ref", "type", "title", "description",
		"format", "contentEncoding", "contentMediaType",
		"enum", "const", "default",
		"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf",
		"minLength", "maxLength", "pattern",
		"items", "minItems", "maxItems", "uniqueItems",
		"properties", "required", "additionalProperties", "propertyNames",
		"minProperties", "maxProperties",
		"anyOf",
		"deprecated", "readOnly", "writeOnly",
	}
	m := make(map[string]int, len(order)+1)
	for i, k := range order {
		m[k] = i + 1
	}
	m["$defs"] = 1 << 20
	return m
}()

const unknownRank = 1 << 19

func rankOf(key string) int {
	if r, ok := keywordRank[key]; ok {
		return r
	}
	return unknownRank
}

// index returns the position of key in n, or -1.
func (n *node) index(key string) int {
	for i := range n.members {
		if n.members[i].key == key {
			return i
		}
	}
	return -1
}

// has reports whether n has the keyword key.
func (n *node) has(key string) bool { return n.index(key) >= 0 }

// set stores m, replacing a keyword of the same name in place or inserting
// it at its canonical position.
func (n *node) set(m member) {
	if i := n.index(m.key); i >= 0 {
		n.members[i] = m
		return
	}
	r := rankOf(m.key)
	at := len(n.members)
	for i := range n.members {
		if rankOf(n.members[i].key) > r {
			at = i
			break
		}
	}
	n.members = append(n.members, member{})
	copy(n.members[at+1:], n.members[at:])
	n.members[at] = m
}

// setValue stores a literal keyword.
func (n *node) setValue(key string, v jsontext.Value) {
	n.set(member{key: key, value: v})
}

// remove deletes key from n if present.
func (n *node) remove(key string) {
	if i := n.index(key); i >= 0 {
		n.members = append(n.members[:i], n.members[i+1:]...)
	}
}

// setTypes sets the "type" keyword: a string for one type, an array for
// several.
func (n *node) setTypes(types ...string) {
	n.types = types
	var b []byte
	if len(types) == 1 {
		b, _ = jsontext.AppendQuote(nil, types[0])
	} else {
		b = append(b, '[')
		for i, t := range types {
			if i > 0 {
				b = append(b, ',')
			}
			b, _ = jsontext.AppendQuote(b, t)
		}
		b = append(b, ']')
	}
	n.setValue("type", b)
}

// hasType reports whether the known type list of n contains t.
func (n *node) hasType(t string) bool {
	for _, x := range n.types {
		if x == t {
			return true
		}
	}
	return false
}

// isEmpty reports whether n is the schema {} (accepts everything).
func (n *node) isEmpty() bool { return !n.isFalse && len(n.members) == 0 }

// typed returns a new node with only the "type" keyword.
func typed(types ...string) *node {
	n := &node{}
	n.setTypes(types...)
	return n
}

// parseRaw turns a hand-written schema (an object or a boolean) into a node
// whose members keep the order they had in raw.
func parseRaw(raw jsontext.Value) (*node, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 't':
		return &node{}, checkEOF(dec)
	case 'f':
		return &node{isFalse: true}, checkEOF(dec)
	case '{':
	default:
		return nil, fmt.Errorf("a schema must be a JSON object or boolean, got %s", tok.Kind())
	}
	n := &node{}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		key := name.String() // before the token is invalidated
		val, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		n.members = append(n.members, member{key: key, value: val.Clone()})
		if key == "type" {
			n.types = parseTypes(val)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	return n, checkEOF(dec)
}

// checkEOF reports an error if anything but whitespace follows the value
// the decoder has read.
func checkEOF(dec *jsontext.Decoder) error {
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			return errors.New("unexpected data after the top-level JSON value")
		}
		return err
	}
	return nil
}

// parseTypes decodes the value of a "type" keyword ("string" or
// ["string","null"]); it returns nil when the value is anything else.
func parseTypes(v jsontext.Value) []string {
	dec := jsontext.NewDecoder(bytes.NewReader(v))
	tok, err := dec.ReadToken()
	if err != nil {
		return nil
	}
	switch tok.Kind() {
	case '"':
		return []string{tok.String()}
	case '[':
		var out []string
		for {
			tok, err := dec.ReadToken()
			if err != nil {
				return nil
			}
			switch tok.Kind() {
			case ']':
				return out
			case '"':
				out = append(out, tok.String())
			default:
				return nil
			}
		}
	}
	return nil
}

// encodeNode writes n as JSON.
func encodeNode(enc *jsontext.Encoder, n *node) error {
	if n.isFalse {
		return enc.WriteToken(jsontext.False)
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	for i := range n.members {
		m := &n.members[i]
		if err := enc.WriteToken(jsontext.String(m.key)); err != nil {
			return err
		}
		if err := encodeMember(enc, m); err != nil {
			return fmt.Errorf("keyword %q: %w", m.key, err)
		}
	}
	return enc.WriteToken(jsontext.EndObject)
}

func encodeMember(enc *jsontext.Encoder, m *member) error {
	switch {
	case m.value != nil:
		return enc.WriteValue(m.value)
	case m.child != nil:
		return encodeNode(enc, m.child)
	case m.list != nil:
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		for _, c := range m.list {
			if err := encodeNode(enc, c); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndArray)
	case m.key == "properties":
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		for _, p := range m.props {
			if err := enc.WriteToken(jsontext.String(p.name)); err != nil {
				return err
			}
			if err := encodeNode(enc, p.schema); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndObject)
	case m.ref != nil:
		return enc.WriteToken(jsontext.String(m.ref.pointer()))
	case m.key == "$defs":
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		for _, d := range m.defs {
			if err := enc.WriteToken(jsontext.String(d.name)); err != nil {
				return err
			}
			if err := encodeNode(enc, d.node); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndObject)
	default:
		return fmt.Errorf("internal error: empty keyword")
	}
}

// marshalNode encodes n compactly.
func marshalNode(n *node) (jsontext.Value, error) {
	var buf bytes.Buffer
	enc := jsontext.NewEncoder(&buf)
	if err := encodeNode(enc, n); err != nil {
		return nil, err
	}
	return jsontext.Value(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}
