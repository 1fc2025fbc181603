package config

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/tailscale/hujson"
)

// Format is the syntax of a configuration file.
type Format int

const (
	// FormatAuto picks the format from the content: JSON when the first
	// character that is not white space or a comment is "{", else YAML.
	FormatAuto Format = iota
	// FormatJSON is JSON with comments and trailing commas (JSONC, as VS
	// Code's settings and mcp.json files allow). Plain JSON is JSONC.
	FormatJSON
	// FormatYAML is YAML 1.2 (one document).
	FormatYAML
)

// String returns "auto", "json" or "yaml".
func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatYAML:
		return "yaml"
	default:
		return "auto"
	}
}

// FormatOf returns the format of a file: YAML for the extensions .yaml and
// .yml, JSON for .json, .jsonc and .json5 (the JSON5 extension is accepted
// for its JSONC subset), and otherwise the format its content looks like
// (see [FormatAuto]).
func FormatOf(path string, data []byte) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return FormatYAML
	case ".json", ".jsonc", ".json5":
		return FormatJSON
	}
	return sniff(data)
}

// sniff tells JSON from YAML by the first significant character.
func sniff(data []byte) Format {
	for len(data) > 0 {
		data = bytes.TrimLeft(data, " \t\r\n\ufeff")
		switch {
		case bytes.HasPrefix(data, []byte("//")):
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				data = data[i+1:]
			} else {
				data = nil
			}
		case bytes.HasPrefix(data, []byte("/*")):
			if i := bytes.Index(data[2:], []byte("*/")); i >= 0 {
				data = data[i+4:]
			} else {
				data = nil
			}
		case len(data) > 0 && data[0] == '{':
			return FormatJSON
		default:
			return FormatYAML
		}
	}
	return FormatYAML
}

// MaxFileSize is the largest configuration file accepted, in bytes.
const MaxFileSize = 4 << 20

// maxDepth bounds the nesting of objects and arrays in a file.
const maxDepth = 64

// maxValues bounds the number of values in a file (after YAML aliases are
// expanded), so that an alias bomb cannot exhaust memory.
const maxValues = 100_000

// tree is a parsed file: plain Go values (map[string]any, []any, string,
// float64, bool, nil) and the line of each path.
type tree struct {
	root  any
	lines map[string]int
}

// line returns the line of path, or of its nearest ancestor that has one.
func (t *tree) line(path string) int {
	for {
		if l, ok := t.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			return t.lines[""]
		}
		path = path[:i]
	}
}

// parseTree parses data in format f. Its errors are syntax errors, at
// path "" with the line where the parser stopped.
func parseTree(data []byte, f Format) (*tree, *Error) {
	if len(data) > MaxFileSize {
		return nil, &Error{Msg: fmt.Sprintf("file too large (%d bytes, at most %d)", len(data), MaxFileSize)}
	}
	if f == FormatAuto {
		f = sniff(data)
	}
	if f == FormatYAML {
		return parseYAML(data)
	}
	return parseJSONC(data)
}

func parseJSONC(data []byte) (*tree, *Error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if len(bytes.TrimSpace(data)) == 0 {
		return &tree{root: map[string]any{}, lines: map[string]int{"": 1}}, nil
	}
	if line, ok := jsonDepthOK(data); !ok {
		return nil, &Error{Line: line, Msg: fmt.Sprintf("JSON: objects and arrays nested more than %d deep", maxDepth)}
	}
	v, err := hujson.Parse(data)
	if err != nil {
		return nil, &Error{Line: errorLine(err.Error()), Msg: "JSON: " + cleanJSONError(err.Error())}
	}
	t := &tree{lines: make(map[string]int)}
	b := jsonBuilder{data: data, t: t}
	root, e := b.value(&v, "")
	if e != nil {
		return nil, e
	}
	t.root = root
	return t, nil
}

// jsonDepthOK reports whether objects and arrays in data nest at most
// maxDepth deep (hujson's parser is recursive), and else the line where
// the limit is crossed.
func jsonDepthOK(data []byte) (int, bool) {
	depth, line := 0, 1
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line++
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				} else if data[i] == '\n' {
					line++
				}
			}
		case '/':
			if i+1 < len(data) && data[i+1] == '/' {
				for i < len(data) && data[i] != '\n' {
					i++
				}
				i-- // count the newline
			} else if i+1 < len(data) && data[i+1] == '*' {
				for i += 2; i+1 < len(data) && !(data[i] == '*' && data[i+1] == '/'); i++ {
					if data[i] == '\n' {
						line++
					}
				}
				i++
			}
		case '{', '[':
			if depth++; depth > maxDepth {
				return line, false
			}
		case '}', ']':
			depth--
		}
	}
	return 0, true
}

// errorLine extracts the line from hujson's "hujson: line N, column M: ..."
func errorLine(msg string) int {
	var line, col int
	if _, err := fmt.Sscanf(msg, "hujson: line %d, column %d:", &line, &col); err == nil {
		return line
	}
	return 0
}

// cleanJSONError removes hujson's prefix and any quoted literal from a
// syntax error (a literal can be part of a secret).
func cleanJSONError(msg string) string {
	msg = strings.TrimPrefix(msg, "hujson: ")
	if strings.HasPrefix(msg, "line ") { // the line is reported separately
		if _, rest, ok := strings.Cut(msg, ", "); ok {
			msg = rest
		}
	}
	if i := strings.Index(msg, "invalid literal"); i >= 0 {
		msg = msg[:i] + "invalid string, number or literal"
	}
	return msg
}

type jsonBuilder struct {
	data []byte
	t    *tree
	n    int
}

func (b *jsonBuilder) lineAt(off int) int {
	if off > len(b.data) {
		off = len(b.data)
	}
	return 1 + bytes.Count(b.data[:off], []byte("\n"))
}

func (b *jsonBuilder) value(v *hujson.Value, path string) (any, *Error) {
	if b.n++; b.n > maxValues {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("more than %d values in the file", maxValues)}
	}
	line := b.lineAt(v.StartOffset)
	if _, ok := b.t.lines[path]; !ok {
		b.t.lines[path] = line
	}
	switch x := v.Value.(type) {
	case *hujson.Object:
		m := make(map[string]any, len(x.Members))
		for i := range x.Members {
			mem := &x.Members[i]
			lit, _ := mem.Name.Value.(hujson.Literal)
			name := lit.String()
			p := childPath(path, name)
			if _, dup := m[name]; dup {
				return nil, &Error{Path: p, Line: b.lineAt(mem.Name.StartOffset), Msg: fmt.Sprintf("duplicate key %q", name)}
			}
			b.t.lines[p] = b.lineAt(mem.Name.StartOffset)
			val, err := b.value(&mem.Value, p)
			if err != nil {
				return nil, err
			}
			m[name] = val
		}
		return m, nil
	case *hujson.Array:
		a := make([]any, len(x.Elements))
		for i := range x.Elements {
			val, err := b.value(&x.Elements[i], indexPath(path, i))
			if err != nil {
				return nil, err
			}
			a[i] = val
		}
		return a, nil
	case hujson.Literal:
		switch x.Kind() {
		case 'n':
			return nil, nil
		case 't', 'f':
			return x.Bool(), nil
		case '"':
			return x.String(), nil
		default:
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil || math.IsInf(f, 0) {
				return nil, &Error{Path: path, Line: line, Msg: "number out of range"}
			}
			return f, nil
		}
	}
	return nil, &Error{Path: path, Line: line, Msg: "unexpected JSON value"}
}

func parseYAML(data []byte) (t *tree, e *Error) {
	defer func() {
		if r := recover(); r != nil { // the YAML library must not take the caller down
			t, e = nil, &Error{Msg: "YAML: the file could not be parsed"}
		}
	}()
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(err)
	}
	t = &tree{lines: map[string]int{"": 1}}
	var docs []*ast.DocumentNode
	for _, d := range file.Docs {
		if d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch len(docs) {
	case 0:
		t.root = map[string]any{}
		return t, nil
	case 1:
	default:
		return nil, &Error{Line: docs[1].Body.GetToken().Position.Line, Msg: "YAML: more than one document in the file"}
	}
	var raw any
	if err := yaml.NodeToValue(docs[0].Body, &raw); err != nil {
		return nil, yamlError(err)
	}
	yamlLines(docs[0].Body, "", t.lines, 0)
	n := 0
	root, e := normalizeYAML(raw, "", &n, 0, t)
	if e != nil {
		return nil, e
	}
	t.root = root
	return t, nil
}

// yamlError turns a YAML library error into a syntax error without the
// source excerpt (which can show secrets).
func yamlError(err error) *Error {
	msg := yaml.FormatError(err, false, false)
	var line, col int
	if _, serr := fmt.Sscanf(msg, "[%d:%d]", &line, &col); serr == nil {
		if i := strings.Index(msg, "] "); i >= 0 {
			msg = msg[i+2:]
		}
	}
	msg, _, _ = strings.Cut(strings.TrimSpace(msg), "\n")
	return &Error{Line: line, Msg: "YAML: " + msg}
}

// normalizeYAML copies a decoded YAML value into the plain JSON-like
// model, so that aliases are no longer shared (substitution rewrites
// strings in place), rejecting what JSON cannot represent.
func normalizeYAML(v any, path string, n *int, depth int, t *tree) (any, *Error) {
	if *n++; *n > maxValues {
		return nil, &Error{Path: path, Line: t.line(path), Msg: fmt.Sprintf("more than %d values in the file (after expanding aliases)", maxValues)}
	}
	if depth > maxDepth {
		return nil, &Error{Path: path, Line: t.line(path), Msg: fmt.Sprintf("YAML: mappings and sequences nested more than %d deep", maxDepth)}
	}
	bad := func(what string) (any, *Error) {
		return nil, &Error{Path: path, Line: t.line(path), Msg: what}
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			c, e := normalizeYAML(val, childPath(path, k), n, depth+1, t)
			if e != nil {
				return nil, e
			}
			m[k] = c
		}
		return m, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			var key string
			switch k := k.(type) {
			case string:
				key = k
			case bool, int, int64, uint64, float64:
				key = fmt.Sprint(k)
			default:
				return bad("a mapping key must be a string")
			}
			c, e := normalizeYAML(val, childPath(path, key), n, depth+1, t)
			if e != nil {
				return nil, e
			}
			m[key] = c
		}
		return m, nil
	case []any:
		a := make([]any, len(x))
		for i, val := range x {
			c, e := normalizeYAML(val, indexPath(path, i), n, depth+1, t)
			if e != nil {
				return nil, e
			}
			a[i] = c
		}
		return a, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return bad("not a finite number")
		}
		return x, nil
	case time.Time:
		return bad("a timestamp is not a valid value here: quote it to make it a string")
	case []byte:
		return bad("binary data is not a valid value here")
	default:
		return bad(fmt.Sprintf("unsupported YAML value (%T)", v))
	}
}

// yamlLines records the line of every path it can reach without
// following aliases or merge keys.
func yamlLines(node ast.Node, path string, lines map[string]int, depth int) {
	if node == nil || depth > maxDepth {
		return
	}
	if tok := node.GetToken(); tok != nil && tok.Position != nil {
		if _, ok := lines[path]; !ok || path == "" {
			lines[path] = tok.Position.Line
		}
	}
	switch x := node.(type) {
	case *ast.AnchorNode:
		yamlLines(x.Value, path, lines, depth+1)
	case *ast.TagNode:
		yamlLines(x.Value, path, lines, depth+1)
	case *ast.MappingNode:
		for _, mv := range x.Values {
			yamlMappingValue(mv, path, lines, depth)
		}
	case *ast.MappingValueNode:
		yamlMappingValue(x, path, lines, depth)
	case *ast.SequenceNode:
		for i, v := range x.Values {
			yamlLines(v, indexPath(path, i), lines, depth+1)
		}
	}
}

func yamlMappingValue(mv *ast.MappingValueNode, path string, lines map[string]int, depth int) {
	if mv == nil || mv.Key == nil || mv.Key.IsMergeKey() {
		return
	}
	var key string
	switch k := mv.Key.(type) {
	case ast.ScalarNode:
		key = fmt.Sprint(k.GetValue())
	default:
		return
	}
	p := childPath(path, key)
	if tok := mv.Key.GetToken(); tok != nil && tok.Position != nil {
		lines[p] = tok.Position.Line
	}
	yamlLines(mv.Value, p, lines, depth+1)
	if tok := mv.Key.GetToken(); tok != nil && tok.Position != nil {
		lines[p] = tok.Position.Line
	}
}
