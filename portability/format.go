package portability

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format is the syntax of a configuration file.
type Format int

const (
	// JSON is JSON, comments and trailing commas allowed (JSONC).
	JSON Format = iota + 1
	// YAML is YAML 1.2, one document.
	YAML
	// TOML is TOML 1.0.
	TOML
)

// String returns "json", "yaml" or "toml".
func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case YAML:
		return "yaml"
	case TOML:
		return "toml"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf returns the format of a file by its extension: .yaml and .yml
// are YAML, .toml is TOML, anything else JSON.
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return YAML
	case ".toml":
		return TOML
	}
	return JSON
}

// document is a parsed file that can be edited in place.
type document interface {
	// tree is the decoded content: map[string]any, []any, string,
	// float64, bool and nil values.
	tree() map[string]any
	// setMapEntry sets the member name of the map at path (made when
	// missing) to v.
	setMapEntry(path []string, name string, v obj) error
	// setListEntry replaces the element of the list at path whose key
	// is name, or appends v.
	setListEntry(path []string, key, name string, v obj) error
	// bytes is the file's current content.
	bytes() []byte
}

// parseDocument parses data in format f.
func parseDocument(data []byte, f Format) (document, error) {
	switch f {
	case YAML:
		return parseYAMLDoc(data)
	case TOML:
		return parseTOMLDoc(data)
	default:
		return parseJSONDoc(data)
	}
}

// lookup walks the decoded tree along path; a missing key gives nil.
func lookup(root map[string]any, path []string) (any, error) {
	var cur any = root
	for i, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is not an object", strings.Join(path[:i], "."))
		}
		cur, ok = m[k]
		if !ok {
			return nil, nil
		}
	}
	return cur, nil
}
