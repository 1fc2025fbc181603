package portability

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// tomlDoc is a TOML file. Its entries ([table.NAME] sections) are
// replaced and added as whole sections at the positions go-toml's parser
// reports, so every other line, comments included, is kept byte for byte.
type tomlDoc struct {
	src  []byte
	data map[string]any
}

// tomlDepthOK bounds the nesting of arrays and inline tables outside
// strings and comments.
func tomlDepthOK(data []byte) error {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
		case '"', '\'':
			for i++; i < len(data) && data[i] != c && data[i] != '\n'; i++ {
				if c == '"' && data[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if depth++; depth > maxDepth {
				return fmt.Errorf("TOML: arrays and tables nested more than %d deep", maxDepth)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

func parseTOMLDoc(data []byte) (d *tomlDoc, err error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("file too large (more than %d bytes)", MaxFileSize)
	}
	if err := tomlDepthOK(data); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, errors.New("TOML: the file could not be parsed")
		}
	}()
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("TOML: %s", cleanTOMLError(err))
	}
	n := 0
	v, err := normalizeTOML(m, &n)
	if err != nil {
		return nil, err
	}
	d = &tomlDoc{src: data, data: map[string]any{}}
	if mm, ok := v.(map[string]any); ok {
		d.data = mm
	}
	return d, nil
}

// cleanTOMLError keeps the position and message of a TOML error, not the
// excerpt of the file.
func cleanTOMLError(err error) string {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Sprintf("line %d, column %d: %s", row, col, de.Error())
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// normalizeTOML converts decoded TOML into plain JSON-like values.
func normalizeTOML(v any, n *int) (any, error) {
	if *n++; *n > maxValues {
		return nil, fmt.Errorf("TOML: more than %d values in the file", maxValues)
	}
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, c := range x {
			nc, err := normalizeTOML(c, n)
			if err != nil {
				return nil, err
			}
			m[k] = nc
		}
		return m, nil
	case []any:
		a := make([]any, len(x))
		for i, c := range x {
			nc, err := normalizeTOML(c, n)
			if err != nil {
				return nil, err
			}
			a[i] = nc
		}
		return a, nil
	case []map[string]any:
		a := make([]any, len(x))
		for i, c := range x {
			nc, err := normalizeTOML(c, n)
			if err != nil {
				return nil, err
			}
			a[i] = nc
		}
		return a, nil
	case int64:
		return float64(x), nil
	case float64, bool, string, nil:
		return x, nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case toml.LocalDate, toml.LocalTime, toml.LocalDateTime:
		return fmt.Sprint(x), nil
	default:
		return fmt.Sprint(x), nil
	}
}

func (d *tomlDoc) tree() map[string]any { return d.data }

func (d *tomlDoc) bytes() []byte { return d.src }

// tomlHeader is a [table] or [[array]] header of the file.
type tomlHeader struct {
	keys  []string
	start int // offset of the start of its line
}

// lineStart returns the offset of the start of the line holding off.
func lineStart(src []byte, off int) int {
	return bytes.LastIndexByte(src[:off], '\n') + 1
}

// scan returns the headers of the file, and whether path+name is defined
// anywhere other than by headers (dotted keys or an inline table).
func (d *tomlDoc) scan(path []string, name string) ([]tomlHeader, bool, error) {
	var p unstable.Parser
	p.Reset(d.src)
	var headers []tomlHeader
	var table []string
	target := append(slices.Clone(path), name)
	inline := false
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			var keys []string
			first := -1
			it := e.Key()
			for it.Next() {
				k := it.Node()
				if first < 0 {
					first = int(p.Range(k.Data).Offset)
				}
				keys = append(keys, string(k.Data))
			}
			if first < 0 {
				return nil, false, errors.New("TOML: a table header without a key")
			}
			headers = append(headers, tomlHeader{keys: keys, start: lineStart(d.src, first)})
			table = keys
		case unstable.KeyValue:
			full := slices.Clone(table)
			it := e.Key()
			for it.Next() {
				full = append(full, string(it.Node().Data))
			}
			// A key/value that defines the target, or a table above it,
			// from outside the target's own sections.
			n := min(len(full), len(target))
			if len(table) < len(target) && slices.Equal(full[:n], target[:n]) {
				inline = true
			}
		}
	}
	if err := p.Error(); err != nil {
		return nil, false, fmt.Errorf("TOML: %s", cleanTOMLError(err))
	}
	return headers, inline, nil
}

// trimTrailing moves end back over the blank and comment lines that
// precede it, which belong to what follows.
func trimTrailing(src []byte, start, end int) int {
	for end > start {
		prev := bytes.LastIndexByte(src[:end-1], '\n') + 1
		if prev < start {
			break
		}
		line := bytes.TrimSpace(src[prev:end])
		if len(line) > 0 && line[0] != '#' {
			break
		}
		end = prev
	}
	return end
}

// tomlKey writes a key bare or quoted, as go-toml does.
func tomlKey(k string) (string, error) {
	b, err := toml.Marshal(map[string]int{k: 0})
	if err != nil {
		return "", err
	}
	key, _, ok := strings.Cut(strings.TrimSpace(string(b)), " = ")
	if !ok {
		return "", fmt.Errorf("cannot write the key %q", k)
	}
	return key, nil
}

// tomlLine writes "key = value" with go-toml; maps become inline tables.
func tomlLine(k string, v any) (string, error) {
	if m, ok := v.(map[string]string); ok {
		key, err := tomlKey(k)
		if err != nil {
			return "", err
		}
		parts := make([]string, 0, len(m))
		for _, mk := range sortedKeys(m) {
			l, err := tomlLine(mk, m[mk])
			if err != nil {
				return "", err
			}
			parts = append(parts, l)
		}
		if len(parts) == 0 {
			return key + " = {}", nil
		}
		return key + " = { " + strings.Join(parts, ", ") + " }", nil
	}
	b, err := toml.Marshal(map[string]any{k: v})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// renderTable writes [path.name] and the entry's keys.
func renderTable(path []string, name string, v obj) ([]byte, error) {
	var keys []string
	for _, k := range append(slices.Clone(path), name) {
		q, err := tomlKey(k)
		if err != nil {
			return nil, err
		}
		keys = append(keys, q)
	}
	var b bytes.Buffer
	b.WriteString("[" + strings.Join(keys, ".") + "]\n")
	for _, f := range v {
		l, err := tomlLine(f.k, f.v)
		if err != nil {
			return nil, err
		}
		b.WriteString(l + "\n")
	}
	return b.Bytes(), nil
}

// setMapEntry writes the entry as a [path.name] section: the sections of
// an existing entry ([path.name] and [path.name.*]) are replaced where the
// first of them was, a new one is added at the end of the file.
func (d *tomlDoc) setMapEntry(path []string, name string, v obj) error {
	headers, inline, err := d.scan(path, name)
	if err != nil {
		return err
	}
	if inline {
		return fmt.Errorf("%s.%s is written with dotted keys or an inline table: switchboard edits only [%s.NAME] sections", strings.Join(path, "."), name, strings.Join(path, "."))
	}
	text, err := renderTable(path, name, v)
	if err != nil {
		return err
	}
	target := append(slices.Clone(path), name)
	type span struct{ from, to int }
	var spans []span
	for i, h := range headers {
		if len(h.keys) < len(target) || !slices.Equal(h.keys[:len(target)], target) {
			continue
		}
		end := len(d.src)
		if i+1 < len(headers) {
			end = headers[i+1].start
		}
		end = trimTrailing(d.src, h.start, end)
		spans = append(spans, span{h.start, end})
	}
	var b bytes.Buffer
	if len(spans) == 0 {
		// After the last [path.*] section, or else at the end.
		for i := len(headers) - 1; i >= 0; i-- {
			h := headers[i]
			if len(h.keys) <= len(path) || !slices.Equal(h.keys[:len(path)], path) {
				continue
			}
			end := len(d.src)
			if i+1 < len(headers) {
				end = headers[i+1].start
			}
			end = trimTrailing(d.src, h.start, end)
			if end == len(d.src) {
				break
			}
			b.Write(d.src[:end])
			b.WriteByte('\n')
			b.Write(text)
			b.Write(d.src[end:])
			return d.reparse(b.Bytes())
		}
		b.Write(d.src)
		if b.Len() > 0 && !bytes.HasSuffix(d.src, []byte("\n")) {
			b.WriteByte('\n')
		}
		if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n\n")) {
			b.WriteByte('\n')
		}
		b.Write(text)
	} else {
		prev := 0
		for i, s := range spans {
			b.Write(d.src[prev:s.from])
			if i == 0 {
				b.Write(text)
			}
			prev = s.to
		}
		b.Write(d.src[prev:])
	}
	return d.reparse(b.Bytes())
}

// reparse replaces the document with edited content.
func (d *tomlDoc) reparse(data []byte) error {
	nd, err := parseTOMLDoc(data)
	if err != nil {
		return fmt.Errorf("the edited file does not parse (%v)", err)
	}
	*d = *nd
	return nil
}

// setListEntry is not used for TOML files.
func (d *tomlDoc) setListEntry(path []string, key, name string, v obj) error {
	return errors.New("TOML arrays of entries are not supported")
}
