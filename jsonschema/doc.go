// Package jsonschema provides the JSON Schemas of MCP tools: schemas
// (draft 2020-12) inferred from Go types for a tool's inputSchema and
// outputSchema, and compiled validators that check arguments and results
// against any schema, inferred or hand-written.
//
// Schemas are plain JSON ([jsontext.Value]), so a hand-written schema passes
// through verbatim, with every keyword it uses ($schema, $defs,
// additionalProperties, ...).
//
// # Inference
//
// [For], [ForType] and [ForObject] map Go types to schemas following
// encoding/json/v2, so that the schema describes exactly what the JSON
// encoding of a value looks like:
//
//   - bool is "boolean"; signed integers are "integer", unsigned integers
//     "integer" with "minimum": 0; floats are "number"; strings "string".
//   - []byte and [N]byte are strings with "contentEncoding": "base64".
//   - time.Time is a string with "format": "date-time".
//   - Slices are "array" with "items"; arrays additionally have
//     minItems = maxItems = their length.
//   - Maps with string (or integer, or text-marshaling) keys are "object"
//     with "additionalProperties" describing the values.
//   - Structs are "object" with "properties" in field order and "required".
//   - Pointers have the schema of what they point to.
//   - Interfaces, jsontext.Value, json.RawMessage and any type with its own
//     JSON marshaling methods are {} (anything); types with text marshaling
//     methods are strings.
//   - A type implementing [Schemer] supplies its own schema.
//
// The json tag options that change a value's representation are honoured:
// `string` on numbers, `embed`, and `format:...` on time.Time,
// time.Duration, []byte, floats, slices and maps. (encoding/json/v2 only
// honours format options when marshaling with
// json.ExperimentalSupportFormatTag(true), and has no default encoding for
// time.Duration, so a Duration field without a format option is an error
// here.) Channels, functions and complex numbers are errors too.
//
// A type that contains itself is emitted once under "$defs" and referred
// to with "$ref": "#/$defs/Name" (or "#" when it is the top-level type);
// every other type is inlined, so most schemas have no $defs at all. When
// two distinct recursive types share a name, the second is qualified with
// its package name.
//
// Output is deterministic: the same type always produces byte-identical
// JSON. Results are cached per type. No "$schema" keyword is emitted, since
// MCP assumes draft 2020-12.
//
// # Struct fields
//
// Field names, omission and embedding follow encoding/json/v2: the `json`
// tag sets the name; `json:"-"` and unexported fields are skipped; embedded
// structs without a JSON name (or with the `embed` option) have their
// fields promoted, with Go's rules deciding between fields of the same
// name; an embedded map[string]T with `embed` makes "additionalProperties"
// T. The `inline` option is accepted on embedded structs, where it changes
// nothing; elsewhere encoding/json/v2 ignores it, so this package reports it
// as an error rather than describe a shape the encoder will not produce.
//
// A field is required unless its json tag has omitempty or omitzero, it is
// a pointer, or it was promoted from an embedded pointer to a struct. The
// `jsonschema` tag keywords required and optional override that.
//
// The `description` tag sets "description" and takes free text:
//
//	Query string `json:"query" description:"Search terms, e.g. \"go, json\"."`
//
// The `jsonschema` tag is a comma-separated list of keywords; a comma inside
// a value is written `\,` (other backslashes are taken literally, so
// regular expressions need no extra escaping):
//
//	Count int    `json:"count" jsonschema:"minimum=1,maximum=100,default=10"`
//	Unit  string `json:"unit" jsonschema:"enum=km|mi,title=Unit"`
//	Tags  []int  `json:"tags,omitempty" jsonschema:"maxItems=5,uniqueItems"`
//
// The keywords are:
//
//	title=text                 "title"
//	enum=a|b|c                 "enum"; values parsed as the field's type, `\|` for a literal |
//	const=v, default=v         parsed as the field's type; a JSON literal for other types
//	minimum=, maximum=, exclusiveMinimum=, exclusiveMaximum=, multipleOf=   numbers
//	minLength=, maxLength=, pattern=regexp, format=name                     strings
//	minItems=, maxItems=, uniqueItems                                       arrays
//	minProperties=, maxProperties=, additionalProperties=false|true|{...}   objects
//	deprecated, readOnly, writeOnly                                         annotations
//	nullable                   also accept null ("type": [T, "null"])
//	required, optional         override whether the field is required
//
// String values are taken verbatim for string fields, so quotes are not
// needed there. Flags (uniqueItems, deprecated, ...) may be written bare or
// as =true / =false. Unknown keywords, malformed values, patterns that do
// not compile and keywords that do not fit the field's type (minLength on
// an int) are errors that name the field and the keyword, reported by For
// the first time the type is seen.
//
// Keywords that describe a struct itself go on a blank marker field, which
// takes no space when it comes first and is invisible to JSON:
//
//	type Args struct {
//		_    struct{} `jsonschema:"additionalProperties=false" description:"Arguments of the search tool."`
//		Text string   `json:"text"`
//	}
//
// Structs do not get "additionalProperties": false by default, because
// rejecting unknown members breaks callers that send extra fields; the
// marker field opts in.
//
// # Validation
//
// [Compile] prepares a [Validator] for any schema (draft 2020-12 unless the
// schema's $schema says otherwise), using
// github.com/santhosh-tekuri/jsonschema/v6. Nothing is ever loaded from the
// network or the file system: a $ref to another document is an error
// wrapping [ErrRemoteRef]. A Validator is safe for concurrent use.
//
// [Validator.Validate] checks an already decoded value;
// [Validator.ValidateJSON] decodes strictly (duplicate names, invalid UTF-8
// and nesting deeper than [MaxDepth] are rejected) and keeps every number
// exact, so integer checks and bounds are right even for integers beyond
// 2^53. A failure is a *[ValidationError] listing every problem with its
// location:
//
//	at "/count": must be >= 1, got 0; missing required property "name"
//
// Common schemas (type, properties, required, items, enum, bounds, lengths,
// patterns, formats, $ref) are first checked by an allocation-free fast path
// that can only accept; anything it is unsure about goes to the full
// validator, which also writes the error report.
package jsonschema
