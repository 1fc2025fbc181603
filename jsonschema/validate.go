package jsonschema

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	sj "github.com/santhosh-tekuri/jsonschema/v6"
)

// ErrRemoteRef is reported (wrapped) by [Compile] when a schema refers to a
// document outside itself. Schemas are compiled without network or file
// access, so every $ref must point into the schema being compiled (or to a
// standard meta-schema).
var ErrRemoteRef = errors.New("loading external schemas is disabled")

// Validator checks JSON values against a compiled schema. It is safe for
// concurrent use.
type Validator struct {
	schema *sj.Schema
	fast   *fastSchema       // nil when the schema needs the full validator
	names  map[string]string // property names the schema mentions
}

// schemaURL is the base URI of every compiled schema (hierarchical, so that
// relative references resolve against it). A $ref that does not point
// into the schema resolves to another URI and is refused.
const (
	schemaBase = "switchboard:///"
	schemaURL  = schemaBase + "schema.json"
)

// refuseLoader fails every attempt to load a schema from outside.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%w: %q is not part of the schema", ErrRemoteRef, url)
}

// Compile compiles a JSON Schema document for validation. Draft 2020-12 is
// assumed unless the document declares another dialect with $schema
// (drafts 4, 6, 7 and 2019-09 are understood). The "format" keyword is
// asserted for the formats the validator knows (date-time, date, time,
// duration, email, hostname, ipv4, ipv6, uri, uri-reference, uuid, regex,
// json-pointer, ...); unknown formats are ignored. Content keywords
// (contentEncoding, contentMediaType) are annotations only.
//
// References to other documents ($ref to a URL that is not part of the
// schema) are refused with an error wrapping [ErrRemoteRef]; nothing is
// ever fetched.
func Compile(schema jsontext.Value) (*Validator, error) {
	doc, err := decodeAny(schema, decodeOptions{})
	if err != nil {
		return nil, fmt.Errorf("jsonschema: schema is not valid JSON: %w", err)
	}
	c := sj.NewCompiler()
	c.DefaultDraft(sj.Draft2020)
	c.AssertFormat()
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("jsonschema: %w", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, compileError(err)
	}
	names := make(map[string]string)
	collectNames(doc, names)
	return &Validator{schema: sch, fast: buildFast(sch), names: names}, nil
}

// collectNames records the names listed under "properties" and "required"
// anywhere in a schema document.
func collectNames(doc any, names map[string]string) {
	switch d := doc.(type) {
	case map[string]any:
		for k, v := range d {
			switch k {
			case "properties":
				if props, ok := v.(map[string]any); ok {
					for name := range props {
						names[name] = name
					}
				}
			case "required":
				if list, ok := v.([]any); ok {
					for _, x := range list {
						if name, ok := x.(string); ok {
							names[name] = name
						}
					}
				}
			}
			collectNames(v, names)
		}
	case []any:
		for _, v := range d {
			collectNames(v, names)
		}
	}
}

// compileError turns an error of the underlying compiler into one that
// names the problem without the internal base URI.
func compileError(err error) error {
	var load *sj.LoadURLError
	if errors.As(err, &load) {
		url := strings.TrimPrefix(load.URL, schemaBase)
		if errors.Is(load.Err, ErrRemoteRef) {
			return fmt.Errorf("jsonschema: schema refers to %q, which is not part of it: %w", url, ErrRemoteRef)
		}
		return fmt.Errorf("jsonschema: loading %q: %w", url, load.Err)
	}
	var invalid *sj.SchemaValidationError
	if errors.As(err, &invalid) {
		var ve *sj.ValidationError
		if errors.As(invalid.Err, &ve) {
			return fmt.Errorf("jsonschema: invalid schema: %v", newValidationError(ve))
		}
		err = invalid.Err
	}
	return fmt.Errorf("jsonschema: invalid schema: %s", strings.ReplaceAll(err.Error(), schemaURL, "schema"))
}

// Validate checks an instance as produced by decoding JSON into an any:
// nil, bool, float64 or json.Number (from encoding/json), string, []any and
// map[string]any (Go integer types are accepted as numbers too; a
// json.Number must hold a valid JSON number). It returns nil or a
// *ValidationError.
func (v *Validator) Validate(instance any) error {
	if v.fast != nil && v.fast.valid(instance) {
		return nil
	}
	err := v.schema.Validate(instance)
	if err == nil {
		return nil
	}
	var ve *sj.ValidationError
	if !errors.As(err, &ve) {
		return &ValidationError{Issues: []Issue{{Message: err.Error()}}}
	}
	return newValidationError(ve)
}

// ValidateJSON decodes data (strict JSON: case-sensitive, duplicate object
// names and invalid UTF-8 rejected, numbers kept exact) and validates the
// result. Malformed JSON yields a *SyntaxError; a well-formed document
// that does not satisfy the schema yields a *ValidationError.
func (v *Validator) ValidateJSON(data []byte) error {
	instance, err := decodeAny(data, decodeOptions{names: v.names, smallInts: true})
	if err != nil {
		return &SyntaxError{Err: err}
	}
	return v.Validate(instance)
}

// SyntaxError reports input to [Validator.ValidateJSON] that it cannot
// decode: anything but a single well-formed JSON value, or a value nested
// deeper than [MaxDepth].
type SyntaxError struct {
	Err error
}

// Error describes the decoding problem.
func (e *SyntaxError) Error() string { return "invalid JSON: " + e.Err.Error() }

// Unwrap returns the decoder's error.
func (e *SyntaxError) Unwrap() error { return e.Err }
