package portability

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// yamlDoc is a YAML file, edited by replacing and inserting whole lines
// at the positions goccy/go-yaml's parser reports, so that every other
// line, comments included, is kept byte for byte.
type yamlDoc struct {
	src  []byte
	body ast.Node // the document's root node, nil for an empty file
	data map[string]any
}

func parseYAMLDoc(data []byte) (d *yamlDoc, err error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("file too large (more than %d bytes)", MaxFileSize)
	}
	defer func() {
		if r := recover(); r != nil { // the parser must not take the caller down
			d, err = nil, errors.New("YAML: the file could not be parsed")
		}
	}()
	file, perr := parser.ParseBytes(data, 0)
	if perr != nil {
		return nil, fmt.Errorf("YAML: %s", cleanYAMLError(perr))
	}
	d = &yamlDoc{src: data, data: map[string]any{}}
	var bodies []ast.Node
	for _, doc := range file.Docs {
		if doc.Body != nil {
			bodies = append(bodies, doc.Body)
		}
	}
	switch len(bodies) {
	case 0:
		return d, nil
	case 1:
	default:
		return nil, errors.New("YAML: more than one document in the file")
	}
	d.body = bodies[0]
	var raw any
	if err := yaml.NodeToValue(d.body, &raw); err != nil {
		return nil, fmt.Errorf("YAML: %s", cleanYAMLError(err))
	}
	n := 0
	v, err := normalizeYAML(raw, &n, 0)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case map[string]any:
		d.data = m
	case nil:
	default:
		return nil, errors.New("YAML: the file is not a mapping")
	}
	return d, nil
}

// cleanYAMLError keeps the first line of a YAML error without the source
// excerpt (which can show secrets).
func cleanYAMLError(err error) string {
	msg := yaml.FormatError(err, false, false)
	msg, _, _ = strings.Cut(strings.TrimSpace(msg), "\n")
	return msg
}

// normalizeYAML copies a decoded YAML value into plain JSON-like values,
// bounding the values (aliases expanded) and the depth.
func normalizeYAML(v any, n *int, depth int) (any, error) {
	if *n++; *n > maxValues {
		return nil, fmt.Errorf("YAML: more than %d values in the file (after expanding aliases)", maxValues)
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("YAML: mappings and sequences nested more than %d deep", maxDepth)
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, c := range x {
			nc, err := normalizeYAML(c, n, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = nc
		}
		return m, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, c := range x {
			nc, err := normalizeYAML(c, n, depth+1)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = nc
		}
		return m, nil
	case []any:
		a := make([]any, len(x))
		for i, c := range x {
			nc, err := normalizeYAML(c, n, depth+1)
			if err != nil {
				return nil, err
			}
			a[i] = nc
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
			return nil, nil
		}
		return x, nil
	case time.Time:
		return x.Format(time.RFC3339), nil
	default:
		return fmt.Sprint(x), nil
	}
}

func (d *yamlDoc) tree() map[string]any { return d.data }

func (d *yamlDoc) bytes() []byte { return d.src }

// yamlLines splits src into lines, each with its line break.
func yamlLines(src []byte) [][]byte {
	var lines [][]byte
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			lines = append(lines, src)
			break
		}
		lines = append(lines, src[:i+1])
		src = src[i+1:]
	}
	return lines
}

// indentOf returns the number of leading spaces of a line, and whether
// the line holds content (not blank, not only a comment).
func indentOf(line []byte) (int, bool) {
	t := bytes.TrimLeft(line, " ")
	n := len(line) - len(t)
	t = bytes.TrimSpace(t)
	return n, len(t) > 0 && t[0] != '#'
}

// blockEnd returns the index of the last line of the block that starts on
// line start (0-based) with its key or dash at column ind: the lines
// after it indented deeper belong to it (and, for a mapping entry, a
// sequence at its own indentation), up to the last line with content.
func blockEnd(lines [][]byte, start, ind int, isItem bool) int {
	end := start
	for l := start + 1; l < len(lines); l++ {
		n, content := indentOf(lines[l])
		if !content {
			continue
		}
		t := bytes.TrimLeft(lines[l], " ")
		switch {
		case n > ind:
			end = l
		case n == ind && !isItem && (bytes.HasPrefix(t, []byte("- ")) || bytes.Equal(bytes.TrimSpace(t), []byte("-"))):
			end = l
		default:
			return end
		}
	}
	return end
}

// mappingEntries returns the entries of a block mapping node.
func mappingEntries(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch x := n.(type) {
	case *ast.MappingNode:
		if x.IsFlowStyle {
			return nil, false
		}
		return x.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{x}, true
	}
	return nil, false
}

// keyName returns the string of a mapping key.
func keyName(mv *ast.MappingValueNode) string {
	if mv == nil || mv.Key == nil {
		return ""
	}
	if s, ok := mv.Key.(ast.ScalarNode); ok {
		return fmt.Sprint(s.GetValue())
	}
	return mv.Key.String()
}

// position returns the 0-based line and column of a node's token.
func position(n ast.Node) (int, int) {
	tok := n.GetToken()
	if tok == nil || tok.Position == nil {
		return 0, 0
	}
	return tok.Position.Line - 1, tok.Position.Column - 1
}

// unitOf returns the indentation unit of a YAML file (two spaces unless
// it indents by something else) and whether sequences under a key are
// indented.
func (d *yamlDoc) style() (int, bool) {
	lines := yamlLines(d.src)
	unit, seqIndented := 0, true
	for i, line := range lines {
		n, content := indentOf(line)
		if !content {
			continue
		}
		if unit == 0 && n > 0 {
			unit = n
		}
		t := bytes.TrimLeft(line, " ")
		if bytes.HasPrefix(t, []byte("- ")) && i > 0 {
			for j := i - 1; j >= 0; j-- {
				pn, pc := indentOf(lines[j])
				if !pc {
					continue
				}
				pt := bytes.TrimSpace(lines[j])
				if pn == n && bytes.HasSuffix(pt, []byte(":")) {
					seqIndented = false
				}
				break
			}
		}
	}
	if unit <= 0 || unit > 8 {
		unit = 2
	}
	return unit, seqIndented
}

// render writes "key:" with v under it as
// YAML lines indented by ind spaces, in the file's style.
func (d *yamlDoc) render(key string, v any, ind int) ([]byte, error) {
	return d.renderBlock(yaml.MapSlice{{Key: key, Value: yamlValue(v)}}, false, ind)
}

// renderItem writes v as a block sequence item ("- " before its first
// line) indented by ind spaces.
func (d *yamlDoc) renderItem(v any, ind int) ([]byte, error) {
	return d.renderBlock(yamlValue(v), true, ind)
}

func (d *yamlDoc) renderBlock(doc any, item bool, ind int) ([]byte, error) {
	unit, seqIndented := d.style()
	out, err := yaml.MarshalWithOptions(doc, yaml.Indent(unit), yaml.IndentSequence(seqIndented), yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return nil, err
	}
	if !yamlFaithful(out, doc) {
		return nil, errors.New("a value cannot be written faithfully in YAML")
	}
	var b bytes.Buffer
	pad := strings.Repeat(" ", ind)
	for i, line := range yamlLines(out) {
		if len(bytes.TrimSpace(line)) > 0 {
			b.WriteString(pad)
			if item {
				if i == 0 {
					b.WriteString("- ")
				} else {
					b.WriteString("  ")
				}
			}
		}
		b.Write(line)
	}
	return b.Bytes(), nil
}

// yamlFaithful reports whether the encoder wrote what reads back as doc.
func yamlFaithful(out []byte, doc any) bool {
	var back any
	if err := yaml.Unmarshal(out, &back); err != nil {
		return false
	}
	n := 0
	back, err := normalizeYAML(back, &n, 0)
	return err == nil && reflect.DeepEqual(back, plain(doc))
}

// rootEntry finds the top-level key.
func (d *yamlDoc) rootEntry(key string) (*ast.MappingValueNode, error) {
	if d.body == nil {
		return nil, nil
	}
	entries, ok := mappingEntries(d.body)
	if !ok {
		return nil, errors.New("the file's top level is not a block mapping")
	}
	for _, mv := range entries {
		if keyName(mv) == key {
			return mv, nil
		}
	}
	return nil, nil
}

// splice replaces lines [from, to) with text and re-parses.
//
// The edit may change only the top-level key named key: if the new text makes the
// parser read another key differently (a tag or anchor with no value,
// for one, takes the lines after it as its value), the edit is refused
// and d is left as it was.
func (d *yamlDoc) splice(from, to int, text []byte, key string) error {
	lines := yamlLines(d.src)
	var b bytes.Buffer
	for _, l := range lines[:from] {
		b.Write(l)
	}
	if from > 0 && !bytes.HasSuffix(lines[from-1], []byte("\n")) {
		b.WriteByte('\n')
	}
	b.Write(text)
	for _, l := range lines[to:] {
		b.Write(l)
	}
	nd, err := parseYAMLDoc(b.Bytes())
	if err != nil {
		return fmt.Errorf("the edited file does not parse (%v)", err)
	}
	if _, ok := nd.data[key]; !ok {
		return fmt.Errorf("the edited file does not read back with %q: switchboard cannot edit this file safely", key)
	}
	for k, v := range d.data {
		if nv, ok := nd.data[k]; k != key && (!ok || !reflect.DeepEqual(v, nv)) {
			return fmt.Errorf("the edit would change how %q reads: switchboard cannot edit this file safely", k)
		}
	}
	if len(nd.data) > len(d.data)+1 {
		return errors.New("the edit would add keys it did not write: switchboard cannot edit this file safely")
	}
	*d = *nd
	return nil
}

// appendTop adds "key:" with v's block at the end of the file.
func (d *yamlDoc) appendTop(key string, v any) error {
	text, err := d.render(key, v, 0)
	if err != nil {
		return err
	}
	if d.body != nil {
		if _, ok := mappingEntries(d.body); !ok {
			return errors.New("the file's top level is not a block mapping")
		}
	}
	return d.splice(len(yamlLines(d.src)), len(yamlLines(d.src)), text, key)
}

// emptyValue reports whether a top-level value is empty and can be
// replaced by a block: null, or an empty flow mapping or sequence.
func emptyValue(n ast.Node) bool {
	switch x := n.(type) {
	case nil, *ast.NullNode:
		return true
	case *ast.MappingNode:
		return x.IsFlowStyle && len(x.Values) == 0
	case *ast.SequenceNode:
		return x.IsFlowStyle && len(x.Values) == 0
	}
	return false
}

// replaceEmpty replaces the empty value of a top-level key with a block.
func (d *yamlDoc) replaceEmpty(mv *ast.MappingValueNode, block []byte) error {
	kl, _ := position(mv.Key)
	lines := yamlLines(d.src)
	line := string(lines[kl])
	colon := strings.Index(line, ":")
	if colon < 0 {
		return errors.New("cannot find the key's colon")
	}
	rest := line[colon+1:]
	comment := ""
	if i := strings.Index(rest, " #"); i >= 0 {
		comment = strings.TrimRight(rest[i:], "\r\n")
	}
	head := line[:colon+1] + comment + "\n"
	return d.splice(kl, kl+1, append([]byte(head), block...), keyName(mv))
}

// setMapEntry sets entry name of the top-level mapping path[0]: an
// existing entry's lines are replaced, a new one is added after the last
// entry, with the indentation of its siblings.
func (d *yamlDoc) setMapEntry(path []string, name string, v obj) error {
	was := *d
	if err := d.setMapEntryLines(path, name, v); err != nil {
		return err
	}
	// Keys that differ in the file may read the same (0 and 000 are
	// both 0): the entry must read back as written.
	if m, _ := d.data[path[0]].(map[string]any); !reflect.DeepEqual(m[name], plain(v)) {
		*d = was
		return fmt.Errorf("another key of %s reads as %q: switchboard cannot edit this file safely", path[0], name)
	}
	return nil
}

func (d *yamlDoc) setMapEntryLines(path []string, name string, v obj) error {
	if len(path) != 1 {
		return fmt.Errorf("editing %s in YAML is not supported", strings.Join(path, "."))
	}
	mv, err := d.rootEntry(path[0])
	if err != nil {
		return err
	}
	if mv == nil {
		return d.appendTop(path[0], obj{{name, v}})
	}
	_, kc := position(mv.Key)
	unit, _ := d.style()
	if emptyValue(mv.Value) {
		block, err := d.render(name, v, kc+unit)
		if err != nil {
			return err
		}
		return d.replaceEmpty(mv, block)
	}
	entries, ok := mappingEntries(mv.Value)
	if !ok || len(entries) == 0 {
		return fmt.Errorf("%s is not written as a block mapping: switchboard edits only that style", path[0])
	}
	lines := yamlLines(d.src)
	for _, e := range entries {
		if keyName(e) != name {
			continue
		}
		el, ec := position(e.Key)
		end := blockEnd(lines, el, ec, false)
		block, err := d.render(name, v, ec)
		if err != nil {
			return err
		}
		return d.splice(el, end+1, block, path[0])
	}
	ll, lc := position(entries[len(entries)-1].Key)
	end := blockEnd(lines, ll, lc, false)
	block, err := d.render(name, v, lc)
	if err != nil {
		return err
	}
	return d.splice(end+1, end+1, block, path[0])
}

// dashLine returns the line and column of the dash of the sequence item
// whose content starts on line l.
func dashLine(lines [][]byte, l int) (int, int, bool) {
	for ; l >= 0; l-- {
		n, content := indentOf(lines[l])
		if !content {
			continue
		}
		if lines[l][n] == '-' {
			return l, n, true
		}
		return 0, 0, false
	}
	return 0, 0, false
}

// setListEntry replaces the item of the top-level sequence path[0] whose
// key is name, or appends v.
func (d *yamlDoc) setListEntry(path []string, key, name string, v obj) error {
	if len(path) != 1 {
		return fmt.Errorf("editing %s in YAML is not supported", strings.Join(path, "."))
	}
	mv, err := d.rootEntry(path[0])
	if err != nil {
		return err
	}
	if mv == nil {
		return d.appendTop(path[0], []any{v})
	}
	_, kc := position(mv.Key)
	unit, seqIndented := d.style()
	if emptyValue(mv.Value) {
		ind := kc
		if seqIndented {
			ind += unit
		}
		block, err := d.renderItem(v, ind)
		if err != nil {
			return err
		}
		return d.replaceEmpty(mv, block)
	}
	seq, ok := mv.Value.(*ast.SequenceNode)
	if !ok || seq.IsFlowStyle || len(seq.Values) == 0 {
		return fmt.Errorf("%s is not written as a block sequence: switchboard edits only that style", path[0])
	}
	lines := yamlLines(d.src)
	lastEnd, lastCol := -1, 0
	for _, item := range seq.Values {
		il, _ := position(item)
		dl, dc, ok := dashLine(lines, il)
		if !ok {
			return fmt.Errorf("cannot find the items of %s", path[0])
		}
		end := blockEnd(lines, dl, dc, true)
		lastEnd, lastCol = end, dc
		entries, _ := mappingEntries(item)
		match := false
		for _, e := range entries {
			if keyName(e) == key {
				if s, ok := e.Value.(ast.ScalarNode); ok && fmt.Sprint(s.GetValue()) == name {
					match = true
				}
			}
		}
		if !match {
			continue
		}
		block, err := d.renderItem(v, dc)
		if err != nil {
			return err
		}
		return d.splice(dl, end+1, block, path[0])
	}
	block, err := d.renderItem(v, lastCol)
	if err != nil {
		return err
	}
	return d.splice(lastEnd+1, lastEnd+1, block, path[0])
}
