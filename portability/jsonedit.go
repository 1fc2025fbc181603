package portability

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tailscale/hujson"
)

// maxDepth bounds the nesting of objects and arrays in a file.
const maxDepth = 64

// maxValues bounds the values of a decoded file (after YAML aliases are
// expanded).
const maxValues = 100_000

// MaxFileSize is the largest file read, in bytes.
const MaxFileSize = 4 << 20

// jsonDoc is a JSON-with-comments file, edited through hujson's AST so
// that every byte outside the edited values is kept.
type jsonDoc struct {
	root hujson.Value
	unit string // one level of indentation
	data map[string]any
}

// checkDepth reports an error when brackets nest more than maxDepth deep
// outside strings and comments (hujson's parser is recursive).
func checkDepth(data []byte) error {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '/':
			if i+1 < len(data) && data[i+1] == '/' {
				for i < len(data) && data[i] != '\n' {
					i++
				}
			} else if i+1 < len(data) && data[i+1] == '*' {
				for i += 2; i+1 < len(data) && !(data[i] == '*' && data[i+1] == '/'); i++ {
				}
				i++
			}
		case '{', '[':
			if depth++; depth > maxDepth {
				return fmt.Errorf("objects and arrays nested more than %d deep", maxDepth)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// parseJSONDoc parses a JSON file with comments; empty content is an
// empty object.
func parseJSONDoc(data []byte) (*jsonDoc, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("file too large (more than %d bytes)", MaxFileSize)
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\ufeff")))) == 0 {
		data = []byte("{}\n")
	}
	if err := checkDepth(data); err != nil {
		return nil, err
	}
	v, err := hujson.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("JSON: %s", cleanHujsonError(err))
	}
	if _, ok := v.Value.(*hujson.Object); !ok {
		return nil, errors.New("JSON: the file is not an object")
	}
	d := &jsonDoc{root: v, unit: detectIndent(data)}
	if err := d.decode(); err != nil {
		return nil, err
	}
	return d, nil
}

// cleanHujsonError drops quoted literals from a syntax error: they can be
// part of a secret.
func cleanHujsonError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "hujson: ")
	if i := strings.Index(msg, "invalid literal"); i >= 0 {
		msg = msg[:i] + "invalid string, number or literal"
	}
	return msg
}

// decode refreshes the plain decoded form of the document.
func (d *jsonDoc) decode() error {
	c := d.root.Clone()
	c.Standardize()
	dec := json.NewDecoder(bytes.NewReader(c.Pack()))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("JSON: %v", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	d.data = m
	return nil
}

// detectIndent returns the indentation unit of a file: the white space
// before the first indented line, or two spaces.
func detectIndent(data []byte) string {
	for _, line := range bytes.Split(data, []byte("\n")) {
		trimmed := bytes.TrimLeft(line, " \t")
		if len(trimmed) == 0 || len(trimmed) == len(line) {
			continue
		}
		ws := line[:len(line)-len(trimmed)]
		if ws[0] == '\t' {
			return "\t"
		}
		if len(ws) > 8 {
			break
		}
		return string(ws)
	}
	return "  "
}

func (d *jsonDoc) tree() map[string]any { return d.data }

func (d *jsonDoc) bytes() []byte { return d.root.Pack() }

// lineIndent returns the white space after the last line break of extra,
// or ok=false when extra has no line break or ends in a comment.
func lineIndent(extra hujson.Extra) (string, bool) {
	i := bytes.LastIndexByte(extra, '\n')
	if i < 0 {
		return "", false
	}
	ws := extra[i+1:]
	if len(bytes.Trim(ws, " \t")) != 0 {
		return "", false
	}
	return string(ws), true
}

// memberIndent returns the indentation of an object's members, given the
// indentation of the line the object starts on.
func (d *jsonDoc) memberIndent(o *hujson.Object, outer string) string {
	if len(o.Members) > 0 {
		if ind, ok := lineIndent(o.Members[0].Name.BeforeExtra); ok {
			return ind
		}
	}
	return outer + d.unit
}

func (d *jsonDoc) elementIndent(a *hujson.Array, outer string) string {
	if len(a.Elements) > 0 {
		if ind, ok := lineIndent(a.Elements[0].BeforeExtra); ok {
			return ind
		}
	}
	return outer + d.unit
}

// object finds (or, with create, makes) the object at path, and returns
// it with the indentation of the line it starts on.
func (d *jsonDoc) object(path []string, create bool) (*hujson.Object, string, error) {
	o := d.root.Value.(*hujson.Object)
	indent := ""
	for i, key := range path {
		mi := d.memberIndent(o, indent)
		var next *hujson.Value
		for j := range o.Members {
			if o.Members[j].Name.Value.(hujson.Literal).String() == key {
				next = &o.Members[j].Value
			}
		}
		if next == nil {
			if !create {
				return nil, "", nil
			}
			if err := d.insertMember(o, indent, key, obj{}); err != nil {
				return nil, "", err
			}
			next = &o.Members[len(o.Members)-1].Value
		}
		child, ok := next.Value.(*hujson.Object)
		if !ok {
			return nil, "", fmt.Errorf("%s is not an object", strings.Join(path[:i+1], "."))
		}
		o, indent = child, mi
	}
	return o, indent, nil
}

// array finds (or, with create, makes) the array at path.
func (d *jsonDoc) array(path []string, create bool) (*hujson.Array, string, error) {
	parent, indent, err := d.object(path[:len(path)-1], create)
	if err != nil || parent == nil {
		return nil, "", err
	}
	key := path[len(path)-1]
	mi := d.memberIndent(parent, indent)
	for j := range parent.Members {
		if parent.Members[j].Name.Value.(hujson.Literal).String() == key {
			a, ok := parent.Members[j].Value.Value.(*hujson.Array)
			if !ok {
				return nil, "", fmt.Errorf("%s is not an array", strings.Join(path, "."))
			}
			return a, mi, nil
		}
	}
	if !create {
		return nil, "", nil
	}
	if err := d.insertMember(parent, indent, key, []any{}); err != nil {
		return nil, "", err
	}
	return parent.Members[len(parent.Members)-1].Value.Value.(*hujson.Array), mi, nil
}

// parseValueAt renders v as JSON for a value on a line indented by indent.
func (d *jsonDoc) parseValueAt(v any, indent string) (hujson.Value, error) {
	text, err := indentJSON(v, indent, d.unit)
	if err != nil {
		return hujson.Value{}, err
	}
	return hujson.Parse(text)
}

// splitSameLine splits the extra before a closing bracket into what is on
// the line of the preceding value (a trailing comment) and the rest.
func splitSameLine(extra hujson.Extra) (hujson.Extra, hujson.Extra) {
	i := bytes.IndexByte(extra, '\n')
	if i < 0 || !bytes.Contains(extra[:i], []byte("//")) && !bytes.Contains(extra[:i], []byte("/*")) {
		return nil, extra
	}
	return append(hujson.Extra(nil), extra[:i]...), append(hujson.Extra(nil), extra[i:]...)
}

// insertMember appends a member to o, whose line is indented by outer,
// formatted like its siblings.
func (d *jsonDoc) insertMember(o *hujson.Object, outer, name string, v any) error {
	mi := d.memberIndent(o, outer)
	val, err := d.parseValueAt(v, mi)
	if err != nil {
		return err
	}
	trailingComma := false
	sameLine, rest := splitSameLine(o.AfterExtra)
	if n := len(o.Members); n > 0 {
		trailingComma = o.Members[n-1].Value.AfterExtra != nil
	} else {
		sameLine, rest = nil, hujson.Extra("\n"+outer)
		if ae := o.AfterExtra; len(bytes.TrimSpace(ae)) > 0 { // comments in an empty object stay
			if i := bytes.LastIndexByte(ae, '\n'); i >= 0 {
				sameLine = append(hujson.Extra(nil), ae[:i]...)
			} else {
				sameLine = append(hujson.Extra(nil), bytes.TrimRight(ae, " \t")...)
			}
		}
	}
	before := append(hujson.Extra(nil), sameLine...)
	if len(before) == 0 || before[len(before)-1] != '\n' {
		before = append(before, '\n')
	}
	before = append(before, mi...)
	m := hujson.ObjectMember{
		Name:  hujson.Value{BeforeExtra: before, Value: hujson.String(name)},
		Value: hujson.Value{BeforeExtra: hujson.Extra(" "), Value: val.Value},
	}
	if trailingComma {
		m.Value.AfterExtra = hujson.Extra{}
	}
	o.Members = append(o.Members, m)
	o.AfterExtra = rest
	return nil
}

// setMapEntry sets the member name of the object at path to v: a new
// member is appended, an existing one has its value replaced (the
// comments around it stay).
func (d *jsonDoc) setMapEntry(path []string, name string, v obj) error {
	o, indent, err := d.object(path, true)
	if err != nil {
		return err
	}
	mi := d.memberIndent(o, indent)
	for j := range o.Members {
		m := &o.Members[j]
		if m.Name.Value.(hujson.Literal).String() != name {
			continue
		}
		ind := mi
		if i, ok := lineIndent(m.Name.BeforeExtra); ok {
			ind = i
		}
		val, err := d.parseValueAt(v, ind)
		if err != nil {
			return err
		}
		m.Value.Value = val.Value
		return d.decode()
	}
	if err := d.insertMember(o, indent, name, v); err != nil {
		return err
	}
	return d.decode()
}

// setListEntry replaces the element of the array at path whose key is
// name, or appends v.
func (d *jsonDoc) setListEntry(path []string, key, name string, v obj) error {
	a, indent, err := d.array(path, true)
	if err != nil {
		return err
	}
	ei := d.elementIndent(a, indent)
	for j := range a.Elements {
		e := &a.Elements[j]
		o, ok := e.Value.(*hujson.Object)
		if !ok {
			continue
		}
		for _, m := range o.Members {
			if m.Name.Value.(hujson.Literal).String() == key {
				if lit, ok := m.Value.Value.(hujson.Literal); ok && lit.Kind() == '"' && lit.String() == name {
					val, err := d.parseValueAt(v, ei)
					if err != nil {
						return err
					}
					e.Value = val.Value
					return d.decode()
				}
			}
		}
	}
	val, err := d.parseValueAt(v, ei)
	if err != nil {
		return err
	}
	trailingComma := false
	sameLine, rest := splitSameLine(a.AfterExtra)
	if n := len(a.Elements); n > 0 {
		trailingComma = a.Elements[n-1].AfterExtra != nil
	} else {
		sameLine, rest = nil, hujson.Extra("\n"+indent)
	}
	before := append(hujson.Extra(nil), sameLine...)
	before = append(before, '\n')
	before = append(before, ei...)
	e := hujson.Value{BeforeExtra: before, Value: val.Value}
	if trailingComma {
		e.AfterExtra = hujson.Extra{}
	}
	a.Elements = append(a.Elements, e)
	a.AfterExtra = rest
	return d.decode()
}
