package portability

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/goccy/go-yaml"
)

// obj is an object whose keys keep the order they were added in, the
// form in which entries are written to files.
type obj []field

// field is a key and its value: a string, bool, int, []string, []any,
// obj, or map[string]string (written with sorted keys).
type field struct {
	k string
	v any
}

// set appends a key.
func (o *obj) set(k string, v any) { *o = append(*o, field{k, v}) }

// MarshalJSON writes the object with its keys in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshalJSON(f.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshalJSON(f.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalJSON is json.Marshal without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// indentJSON writes v as indented JSON for a value that starts on a line
// indented by prefix, with unit per level.
func indentJSON(v any, prefix, unit string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, unit)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// yamlValue converts v for the YAML encoder, keeping key order.
func yamlValue(v any) any {
	switch x := v.(type) {
	case obj:
		ms := make(yaml.MapSlice, len(x))
		for i, f := range x {
			ms[i] = yaml.MapItem{Key: f.k, Value: yamlValue(f.v)}
		}
		return ms
	case map[string]string:
		ms := make(yaml.MapSlice, 0, len(x))
		for _, k := range sortedKeys(x) {
			ms = append(ms, yaml.MapItem{Key: k, Value: x[k]})
		}
		return ms
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = yamlValue(e)
		}
		return out
	}
	return v
}

// plain converts v to the plain values encoding/json decodes to
// (map[string]any, []any, string, bool, float64), so that an entry about
// to be written can be read back by the same code that reads files.
func plain(v any) any {
	switch x := v.(type) {
	case obj:
		m := make(map[string]any, len(x))
		for _, f := range x {
			m[f.k] = plain(f.v)
		}
		return m
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return m
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		return a
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = plain(e)
		}
		return a
	case int:
		return float64(x)
	case yaml.MapSlice:
		m := make(map[string]any, len(x))
		for _, it := range x {
			m[fmt.Sprint(it.Key)] = plain(it.Value)
		}
		return m
	}
	return v
}
