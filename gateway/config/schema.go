package config

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

//go:embed schema.json
var schemaJSON []byte

// SchemaID is the $id of the configuration file's JSON Schema; a file can
// name it in "$schema" for editor completion.
const SchemaID = "https://raw.githubusercontent.com/switchboard-mcp/switchboard/main/gateway/config/schema.json"

// Schema returns the JSON Schema (draft 2020-12) of the configuration
// file. The schema checks structure and types; [Load] checks more (see the
// package documentation).
func Schema() []byte { return bytes.Clone(schemaJSON) }

// compiledSchema is the schema compiled once; it is immutable.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, err
	}
	return c.Compile(SchemaID)
})

// validateSchema validates the (substituted) tree against the schema and
// adds what it finds to errs.
func validateSchema(t *tree, errs *errorList) {
	sch, err := compiledSchema()
	if err != nil { // the embedded schema is tested; this cannot happen
		errs.add(prioSchema, "", 0, "internal error: the configuration schema does not compile: %v", err)
		return
	}
	err = sch.Validate(t.root)
	if err == nil {
		return
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		errs.add(prioSchema, "", 0, "%v", err)
		return
	}
	schemaLeaves(ve, func(loc []string, k jsonschema.ErrorKind) {
		path := displayPath(t.root, loc)
		if ap, ok := k.(*kind.AdditionalProperties); ok {
			for _, p := range ap.Properties {
				cp := childPath(path, p)
				errs.add(prioSchema, cp, t.line(cp), "unknown key %q", p)
			}
			return
		}
		errs.add(prioSchema, path, t.line(path), "%s", describeKind(k))
	})
}

// schemaLeaves calls f for every leaf of the validator's error tree.
func schemaLeaves(e *jsonschema.ValidationError, f func([]string, jsonschema.ErrorKind)) {
	if len(e.Causes) == 0 {
		f(e.InstanceLocation, e.ErrorKind)
		return
	}
	for _, c := range e.Causes {
		schemaLeaves(c, f)
	}
}

// displayPath turns a JSON Pointer's tokens into a key path, telling
// array indexes from keys by walking the tree.
func displayPath(root any, loc []string) string {
	path, cur := "", root
	for _, tok := range loc {
		switch x := cur.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err == nil && i >= 0 && i < len(x) {
				path, cur = indexPath(path, i), x[i]
				continue
			}
		case map[string]any:
			cur = x[tok]
		default:
			cur = nil
		}
		path = childPath(path, tok)
	}
	return path
}

// describeKind says what a schema keyword found wrong, without the value.
func describeKind(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("want %s, got %s", joinOr(k.Want, typeName), typeName(k.Got))
	case *kind.Enum:
		return "want " + joinOr(k.Want, func(v any) string { b, _ := json.Marshal(v); return string(b) })
	case *kind.Required:
		return fmt.Sprintf("missing key %s", joinOr(k.Missing, strconv.Quote))
	case *kind.Not, *kind.FalseSchema:
		return "not allowed here"
	case *kind.MinLength:
		if k.Want == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("want at least %d characters", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("want at most %d characters", k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("want at least %d elements", k.Want)
	case *kind.Minimum:
		return fmt.Sprintf("want at least %s", k.Want.RatString())
	case *kind.Maximum:
		return fmt.Sprintf("want at most %s", k.Want.RatString())
	case *kind.Pattern:
		return "contains characters that are not allowed"
	}
	return fmt.Sprintf("fails the schema's %q rule", strings.Join(k.KeywordPath(), "/"))
}

func typeName(t string) string {
	switch t {
	case "object", "array", "integer":
		return "an " + t
	case "null":
		return "null"
	}
	return "a " + t
}

// joinOr lists items as `a`, `a or b`, `a, b or c`.
func joinOr[T any](items []T, f func(T) string) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = f(it)
	}
	s = slices.Compact(s)
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
