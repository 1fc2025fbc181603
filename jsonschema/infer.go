package jsonschema

import (
	"cmp"
	"encoding"
	"errors"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Schemer is implemented by types that supply their own JSON Schema instead
// of the one this package would infer. JSONSchema is called once per type,
// on the zero value (through a pointer when the method has a pointer
// receiver), so it must not depend on the receiver's contents. The result
// must be a JSON object or boolean and self-contained: $ref values that
// point into the document ("#...") are not rewritten when the schema is
// embedded in a larger one.
type Schemer interface {
	JSONSchema() jsontext.Value
}

// cache holds one *inferred per reflect.Type.
var cache sync.Map

type inferred struct {
	schema jsontext.Value
	object bool // the top-level schema is {"type":"object",...}
	err    error
}

// For returns the JSON Schema (draft 2020-12) of the Go type T, as described
// in the package documentation. Results are cached per type; For is safe
// for concurrent use. The returned value is the caller's to modify.
func For[T any]() (jsontext.Value, error) {
	return ForType(reflect.TypeFor[T]())
}

// ForType is like [For] for a type known only at run time.
func ForType(t reflect.Type) (jsontext.Value, error) {
	r := lookup(t)
	if r.err != nil {
		return nil, r.err
	}
	return r.schema.Clone(), nil
}

// ForObject is like [For], but additionally requires the schema to describe
// a JSON object, as MCP requires of a tool's inputSchema and outputSchema:
// T must be a struct, a map with string keys, a pointer to one of those, or
// a [Schemer] whose schema has "type": "object".
func ForObject[T any]() (jsontext.Value, error) {
	t := reflect.TypeFor[T]()
	r := lookup(t)
	if r.err != nil {
		return nil, r.err
	}
	if !r.object {
		return nil, fmt.Errorf("jsonschema: %v does not describe a JSON object (want a struct or a map with string keys), its schema is %s", t, r.schema)
	}
	return r.schema.Clone(), nil
}

func lookup(t reflect.Type) *inferred {
	if t == nil {
		return &inferred{err: errors.New("jsonschema: cannot infer a schema for a nil type")}
	}
	if r, ok := cache.Load(t); ok {
		return r.(*inferred)
	}
	r := infer(t)
	actual, _ := cache.LoadOrStore(t, r)
	return actual.(*inferred)
}

func infer(t reflect.Type) *inferred {
	b := &builder{
		active:    make(map[reflect.Type]*def),
		finished:  make(map[reflect.Type]*def),
		names:     make(map[string]reflect.Type),
		outermost: true,
	}
	n, err := b.schema(t, jsonOpts{}, t.String())
	if err != nil {
		return &inferred{err: fmt.Errorf("jsonschema: inferring schema for %v: %w", t, err)}
	}
	if len(b.defs) > 0 {
		defs := slices.Clone(b.defs)
		slices.SortFunc(defs, func(x, y *def) int { return strings.Compare(x.name, y.name) })
		n.set(member{key: "$defs", defs: defs})
	}
	v, err := marshalNode(n)
	if err != nil {
		return &inferred{err: fmt.Errorf("jsonschema: encoding schema for %v: %w", t, err)}
	}
	return &inferred{
		schema: v,
		object: len(n.types) == 1 && n.types[0] == "object",
	}
}

// def is a named type that refers to itself and is therefore emitted once,
// under $defs (or as the whole document when it is the top-level type), and
// referenced with $ref.
type def struct {
	typ       reflect.Type
	name      string
	node      *node
	recursive bool
	root      bool
}

// pointer is the value of a $ref to d.
func (d *def) pointer() string {
	if d.root {
		return "#"
	}
	return "#/$defs/" + d.name
}

// builder infers the schema of one top-level type.
type builder struct {
	active    map[reflect.Type]*def // named types being expanded
	finished  map[reflect.Type]*def // recursive types already placed in $defs
	defs      []*def
	names     map[string]reflect.Type // $defs names in use
	outermost bool                    // no composite type has been expanded yet
}

// jsonOpts are the options of a field's `json` tag that change its JSON
// representation. They apply to the field's own value only, not to values
// nested inside it.
type jsonOpts struct {
	str    bool   // ,string
	format string // ,format:...
}

var (
	timeType           = reflect.TypeFor[time.Time]()
	durationType       = reflect.TypeFor[time.Duration]()
	jsontextValueType  = reflect.TypeFor[jsontext.Value]()
	schemerType        = reflect.TypeFor[Schemer]()
	jsonMethodTypes    = []reflect.Type{reflect.TypeFor[json.MarshalerTo](), reflect.TypeFor[json.Marshaler](), reflect.TypeFor[json.UnmarshalerFrom](), reflect.TypeFor[json.Unmarshaler]()}
	textMethodTypes    = []reflect.Type{reflect.TypeFor[encoding.TextAppender](), reflect.TypeFor[encoding.TextMarshaler](), reflect.TypeFor[encoding.TextUnmarshaler]()}
	errNoExportedField = errors.New("has no exported fields and no json tags, so encoding/json/v2 refuses it")
)

// implementsAny reports whether t or *t implements any of ifaces.
func implementsAny(t reflect.Type, ifaces []reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return false
	}
	for _, it := range ifaces {
		if t.Implements(it) || reflect.PointerTo(t).Implements(it) {
			return true
		}
	}
	return false
}

// schema infers the schema of t. where names the Go field or type, for
// error messages.
func (b *builder) schema(t reflect.Type, jo jsonOpts, where string) (*node, error) {
	for i := 0; t.Kind() == reflect.Pointer; i++ {
		if i >= 32 {
			return nil, fmt.Errorf("%s: too many pointer indirections in %v", where, t)
		}
		t = t.Elem()
	}
	if n, ok, err := schemerSchema(t); ok {
		if err != nil {
			return nil, fmt.Errorf("%s: %v.JSONSchema: %w", where, t, err)
		}
		return n, nil
	}
	switch t {
	case timeType:
		return timeSchema(jo, where)
	case durationType:
		return durationSchema(jo, where)
	}
	if implementsAny(t, jsonMethodTypes) {
		// The type decides its own representation; anything goes.
		return &node{}, nil
	}
	if implementsAny(t, textMethodTypes) {
		if jo.str || jo.format != "" {
			return nil, fmt.Errorf("%s: json tag options string and format are not supported for %v", where, t)
		}
		return typed("string"), nil
	}
	if jo.str {
		return stringNumberSchema(t, where)
	}

	switch t.Kind() {
	case reflect.Bool:
		return b.plain(typed("boolean"), t, jo, where)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return b.plain(typed("integer"), t, jo, where)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := typed("integer")
		n.setValue("minimum", jsontext.Value("0"))
		return b.plain(n, t, jo, where)
	case reflect.Float32, reflect.Float64:
		if jo.format == "nonfinite" {
			n := &node{}
			nonFinite := &node{}
			nonFinite.setValue("enum", jsontext.Value(`["NaN","Infinity","-Infinity"]`))
			n.set(member{key: "anyOf", list: []*node{typed("number"), nonFinite}})
			return n, nil
		}
		return b.plain(typed("number"), t, jo, where)
	case reflect.String:
		return b.plain(typed("string"), t, jo, where)
	case reflect.Interface:
		if jo.format != "" {
			return nil, fmt.Errorf("%s: json tag option format:%s is not supported for %v", where, jo.format, t)
		}
		return &node{}, nil
	case reflect.Struct, reflect.Slice, reflect.Array, reflect.Map:
		return b.composite(t, jo, where)
	}
	return nil, fmt.Errorf("%s: type %v (kind %v) has no JSON representation", where, t, t.Kind())
}

// plain returns n after checking that no format option was given.
func (b *builder) plain(n *node, t reflect.Type, jo jsonOpts, where string) (*node, error) {
	if jo.format != "" {
		return nil, fmt.Errorf("%s: json tag option format:%s is not supported for %v", where, jo.format, t)
	}
	return n, nil
}

// schemerSchema returns the schema of a type implementing Schemer (with a
// value or pointer receiver).
func schemerSchema(t reflect.Type) (*node, bool, error) {
	if t.Kind() == reflect.Interface {
		return nil, false, nil
	}
	var s Schemer
	switch {
	case t.Implements(schemerType):
		s = reflect.Zero(t).Interface().(Schemer)
	case reflect.PointerTo(t).Implements(schemerType):
		s = reflect.New(t).Interface().(Schemer)
	default:
		return nil, false, nil
	}
	raw, err := callSchemer(s)
	if err != nil {
		return nil, true, err
	}
	if len(raw) == 0 {
		return nil, true, errors.New("returned an empty schema")
	}
	n, err := parseRaw(raw)
	if err != nil {
		return nil, true, fmt.Errorf("returned an invalid schema: %w", err)
	}
	return n, true, nil
}

// callSchemer calls s.JSONSchema, turning a panic into an error.
func callSchemer(s Schemer) (raw jsontext.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panicked: %v", r)
		}
	}()
	return s.JSONSchema(), nil
}

// stringNumberSchema is the schema of a number field with the `string`
// json option: the number is encoded inside a JSON string.
func stringNumberSchema(t reflect.Type, where string) (*node, error) {
	n := typed("string")
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n.setValue("pattern", quoteString(`^-?(0|[1-9][0-9]*)$`))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n.setValue("pattern", quoteString(`^(0|[1-9][0-9]*)$`))
	case reflect.Float32, reflect.Float64:
	default:
		return nil, fmt.Errorf("%s: json tag option string applies only to numbers, not %v", where, t)
	}
	return n, nil
}

// timeSchema follows encoding/json/v2's representation of time.Time.
func timeSchema(jo jsonOpts, where string) (*node, error) {
	switch jo.format {
	case "", "RFC3339", "RFC3339Nano":
		if jo.str {
			break
		}
		n := typed("string")
		n.setValue("format", quoteString("date-time"))
		return n, nil
	case "unix", "unixmilli", "unixmicro", "unixnano":
		if jo.str {
			return typed("string"), nil
		}
		return typed("number"), nil
	case "DateOnly", time.DateOnly:
		if jo.str {
			break
		}
		n := typed("string")
		n.setValue("format", quoteString("date"))
		return n, nil
	case "ANSIC", "UnixDate", "RubyDate", "RFC822", "RFC822Z", "RFC850", "RFC1123", "RFC1123Z",
		"Kitchen", "Stamp", "StampMilli", "StampMicro", "StampNano", "DateTime", "TimeOnly":
		if !jo.str {
			return typed("string"), nil
		}
	default:
		if strings.TrimFunc(jo.format, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) == "" {
			// encoding/json/v2 reserves identifiers for future constants.
			return nil, fmt.Errorf("%s: json tag option format:%s is not a time format known to encoding/json/v2", where, jo.format)
		}
		if !jo.str {
			return typed("string"), nil // a layout such as '2006-01-02 15:04'
		}
	}
	return nil, fmt.Errorf("%s: json tag option string needs a numeric time format (unix, unixmilli, unixmicro, unixnano)", where)
}

// durationSchema follows encoding/json/v2's representation of
// time.Duration, which has no default and needs an explicit format.
func durationSchema(jo jsonOpts, where string) (*node, error) {
	var n *node
	switch jo.format {
	case "":
		return nil, fmt.Errorf("%s: time.Duration has no default representation in encoding/json/v2; add a json format option (format:units, format:sec, format:milli, format:micro, format:nano or format:iso8601)", where)
	case "units":
		n = typed("string")
	case "iso8601":
		n = typed("string")
		n.setValue("format", quoteString("duration"))
	case "nano":
		n = typed("integer")
	case "sec", "milli", "micro":
		n = typed("number")
	default:
		return nil, fmt.Errorf("%s: json tag option format:%s is not supported for time.Duration", where, jo.format)
	}
	if jo.str {
		if n.primary() == "string" {
			return nil, fmt.Errorf("%s: json tag option string needs a numeric duration format", where)
		}
		return typed("string"), nil
	}
	return n, nil
}

// primary is the JSON type of n if it has exactly one.
func (n *node) primary() string {
	if len(n.types) == 1 {
		return n.types[0]
	}
	return ""
}

// composite handles structs, slices, arrays and maps. Named types are
// tracked so that a type that contains itself becomes a $defs entry.
func (b *builder) composite(t reflect.Type, jo jsonOpts, where string) (*node, error) {
	isRoot := b.outermost
	b.outermost = false
	if t.Name() == "" || jo != (jsonOpts{}) {
		return b.expand(t, jo, where)
	}
	if d, ok := b.finished[t]; ok {
		return refNode(d), nil
	}
	if d, ok := b.active[t]; ok {
		d.recursive = true
		return refNode(d), nil
	}
	d := &def{typ: t, root: isRoot}
	b.active[t] = d
	n, err := b.expand(t, jo, where)
	delete(b.active, t)
	if err != nil || !d.recursive {
		return n, err
	}
	d.node = n
	if d.root {
		return n, nil
	}
	d.name = b.defName(t)
	b.finished[t] = d
	b.defs = append(b.defs, d)
	return refNode(d), nil
}

func refNode(d *def) *node {
	n := &node{}
	n.set(member{key: "$ref", ref: d})
	return n
}

// defName picks the $defs name of t: its Go name, qualified by its package
// name (and then numbered) when another type already uses the name.
func (b *builder) defName(t reflect.Type) string {
	base := sanitizeName(t.Name())
	candidates := []string{base, sanitizeName(path.Base(t.PkgPath()) + "." + t.Name())}
	for _, c := range candidates {
		if _, taken := b.names[c]; !taken {
			b.names[c] = t
			return c
		}
	}
	for i := 2; ; i++ {
		c := candidates[1] + strconv.Itoa(i)
		if _, taken := b.names[c]; !taken {
			b.names[c] = t
			return c
		}
	}
}

// importPath matches the import path part of qualified names, which
// reflect spells out in the type arguments of generic types.
var importPath = regexp.MustCompile(`([A-Za-z0-9_.~-]+/)+`)

// sanitizeName keeps a $defs name short and usable verbatim in a JSON
// pointer inside a URI fragment: Tree[example.com/pkg.Leaf] becomes
// Tree_pkg.Leaf_.
func sanitizeName(s string) string {
	s = importPath.ReplaceAllString(s, "")
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '_'
	}, s)
}

func (b *builder) expand(t reflect.Type, jo jsonOpts, where string) (*node, error) {
	switch t.Kind() {
	case reflect.Struct:
		if jo.format != "" {
			return nil, fmt.Errorf("%s: json tag option format:%s is not supported for %v", where, jo.format, t)
		}
		return b.structSchema(t)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Elem().PkgPath() == "" {
			return bytesSchema(t, jo, where)
		}
		n := typed("array")
		switch {
		case jo.format == "":
		case jo.format == "emitnull" && t.Kind() == reflect.Slice:
			n.setTypes("array", "null")
		case jo.format == "emitempty" && t.Kind() == reflect.Slice:
		default:
			return nil, fmt.Errorf("%s: json tag option format:%s is not supported for %v", where, jo.format, t)
		}
		items, err := b.schema(t.Elem(), jsonOpts{}, where)
		if err != nil {
			return nil, err
		}
		n.set(member{key: "items", child: items})
		if t.Kind() == reflect.Array {
			l := jsontext.Value(strconv.Itoa(t.Len()))
			n.setValue("minItems", l)
			n.setValue("maxItems", l)
		}
		return n, nil
	case reflect.Map:
		n := typed("object")
		switch jo.format {
		case "", "emitempty":
		case "emitnull":
			n.setTypes("object", "null")
		default:
			return nil, fmt.Errorf("%s: json tag option format:%s is not supported for %v", where, jo.format, t)
		}
		names, err := mapKeySchema(t.Key(), where)
		if err != nil {
			return nil, err
		}
		values, err := b.schema(t.Elem(), jsonOpts{}, where)
		if err != nil {
			return nil, err
		}
		n.set(member{key: "additionalProperties", child: values})
		if names != nil {
			n.set(member{key: "propertyNames", child: names})
		}
		return n, nil
	}
	panic("unreachable")
}

// mapKeySchema returns the propertyNames schema for a map key type, nil
// when any string is a valid key.
func mapKeySchema(k reflect.Type, where string) (*node, error) {
	if implementsAny(k, textMethodTypes) {
		return nil, nil
	}
	var pattern string
	switch k.Kind() {
	case reflect.String:
		return nil, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		pattern = `^-?(0|[1-9][0-9]*)$`
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		pattern = `^(0|[1-9][0-9]*)$`
	default:
		return nil, fmt.Errorf("%s: map key type %v cannot be a JSON object name", where, k)
	}
	n := &node{}
	n.setValue("pattern", quoteString(pattern))
	return n, nil
}

// bytesSchema follows encoding/json/v2 for []byte and [N]byte: a binary
// string, base64 unless a format option says otherwise.
func bytesSchema(t reflect.Type, jo jsonOpts, where string) (*node, error) {
	n := typed("string")
	switch jo.format {
	case "", "base64":
		n.setValue("contentEncoding", quoteString("base64"))
	case "base32":
		n.setValue("contentEncoding", quoteString("base32"))
	case "base16", "hex":
		n.setValue("contentEncoding", quoteString("base16"))
	case "base64url", "base32hex":
	case "array":
		n = typed("array")
		item := typed("integer")
		item.setValue("minimum", jsontext.Value("0"))
		item.setValue("maximum", jsontext.Value("255"))
		n.set(member{key: "items", child: item})
		if t.Kind() == reflect.Array {
			l := jsontext.Value(strconv.Itoa(t.Len()))
			n.setValue("minItems", l)
			n.setValue("maxItems", l)
		}
	case "emitnull":
		if t.Kind() != reflect.Slice {
			return nil, fmt.Errorf("%s: json tag option format:%s is not supported for %v", where, jo.format, t)
		}
		n.setTypes("string", "null")
		n.setValue("contentEncoding", quoteString("base64"))
	case "emitempty":
		if t.Kind() != reflect.Slice {
			return nil, fmt.Errorf("%s: json tag option format:%s is not supported for %v", where, jo.format, t)
		}
		n.setValue("contentEncoding", quoteString("base64"))
	default:
		return nil, fmt.Errorf("%s: json tag option format:%s is not supported for %v", where, jo.format, t)
	}
	return n, nil
}

// field is a JSON object member of a struct, after flattening embedded
// structs.
type field struct {
	sf      reflect.StructField
	owner   reflect.Type // the struct that declares sf
	name    string
	hasName bool
	index   []int
	opts    jsonTag
	viaPtr  bool // reached through an embedded pointer, so may be absent
}

func (f *field) where() string { return typeLabel(f.owner) + "." + f.sf.Name }

func typeLabel(t reflect.Type) string {
	if t.Name() != "" {
		return t.Name()
	}
	return t.String()
}

func (b *builder) structSchema(t reflect.Type) (*node, error) {
	fields, markers, fallback, err := structFields(t)
	if err != nil {
		return nil, err
	}
	n := typed("object")
	var props []property
	var required []string
	for i := range fields {
		f := &fields[i]
		fs, err := b.schema(f.sf.Type, jsonOpts{str: f.opts.str, format: f.opts.format}, f.where())
		if err != nil {
			return nil, err
		}
		in, err := tagInputFor(f.sf)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.where(), err)
		}
		fs, req, err := applyTags(fs, in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.where(), err)
		}
		props = append(props, property{name: f.name, schema: fs})
		isRequired := !f.opts.omitempty && !f.opts.omitzero && f.sf.Type.Kind() != reflect.Pointer && !f.viaPtr
		switch req {
		case requiredYes:
			isRequired = true
		case requiredNo:
			isRequired = false
		}
		if isRequired {
			required = append(required, f.name)
		}
	}
	if len(props) > 0 {
		n.set(member{key: "properties", props: props})
	}
	if len(required) > 0 {
		list := []byte{'['}
		for i, r := range required {
			if i > 0 {
				list = append(list, ',')
			}
			list = append(list, quoteString(r)...)
		}
		n.setValue("required", append(list, ']'))
	}
	if fallback != nil {
		ft := fallback.sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Map {
			values, err := b.schema(ft.Elem(), jsonOpts{}, fallback.where())
			if err != nil {
				return nil, err
			}
			n.set(member{key: "additionalProperties", child: values})
		}
	}
	for _, m := range markers {
		in, err := tagInputFor(m)
		if err != nil {
			return nil, fmt.Errorf("%s._: %w", typeLabel(t), err)
		}
		in.marker = true
		in.goType = t
		if n, _, err = applyTags(n, in); err != nil {
			return nil, fmt.Errorf("%s._: %w", typeLabel(t), err)
		}
	}
	return n, nil
}

// tagInputFor reads the description and jsonschema tags of a field.
func tagInputFor(sf reflect.StructField) (tagInput, error) {
	kws, err := parseSchemaTag(sf.Tag.Get("jsonschema"))
	if err != nil {
		return tagInput{}, err
	}
	desc, hasDesc := sf.Tag.Lookup("description")
	t := sf.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return tagInput{keywords: kws, description: desc, hasDesc: hasDesc, goType: t}, nil
}

// hasSchemaTags reports whether a field carries tags this package reads.
func hasSchemaTags(sf reflect.StructField) bool {
	_, a := sf.Tag.Lookup("jsonschema")
	_, b := sf.Tag.Lookup("description")
	return a || b
}

// structFields lists the JSON members of struct t the way
// encoding/json/v2 does: a breadth-first walk that flattens embedded
// structs, then Go's dominance rules to settle duplicate names, in
// depth-first field order. It also returns the `_` marker fields of t and
// the dominant embedded fallback (a map or jsontext.Value field with the
// embed option), if any.
func structFields(root reflect.Type) (fields []field, markers []reflect.StructField, fallback *field, err error) {
	type entry struct {
		typ    reflect.Type
		index  []int
		viaPtr bool
		visit  bool
	}
	queue := []entry{{root, nil, false, true}}
	seen := map[reflect.Type]bool{root: true}
	var all, fallbacks []field
	for qi := 0; qi < len(queue); qi++ {
		qe := queue[qi]
		t := qe.typ
		names := make(map[string]string)
		var hasTag, hasField bool
		for i := range t.NumField() {
			sf := t.Field(i)
			where := typeLabel(t) + "." + sf.Name
			tag, tagged := sf.Tag.Lookup("json")
			hasTag = hasTag || tagged
			if sf.Name == "_" {
				if tagged && tag != "-" {
					return nil, nil, nil, fmt.Errorf("%s: a `_` marker field cannot have a json tag", where)
				}
				if qe.index == nil {
					markers = append(markers, sf)
				}
				continue
			}
			if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
				if !sf.IsExported() && tagged && tag != "-" {
					return nil, nil, nil, fmt.Errorf("%s: unexported field cannot have a json tag (encoding/json/v2 rejects it)", where)
				}
				if _, ok := sf.Tag.Lookup("jsonschema"); ok {
					return nil, nil, nil, fmt.Errorf("%s: field has a jsonschema tag but is not part of the JSON representation", where)
				}
				continue
			}
			opts, err := parseJSONTag(tag)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s: %w", where, err)
			}
			hasField = true
			f := field{
				sf:      sf,
				owner:   t,
				name:    cmp.Or(opts.name, sf.Name),
				hasName: opts.name != "",
				index:   append(slices.Clone(qe.index), i),
				opts:    opts,
				viaPtr:  qe.viaPtr,
			}
			ft, isPtr := sf.Type, false
			if ft.Kind() == reflect.Pointer && ft.Name() == "" {
				ft, isPtr = ft.Elem(), true
			}
			if opts.inline {
				if !sf.Anonymous || opts.name != "" {
					return nil, nil, nil, fmt.Errorf("%s: encoding/json/v2 ignores the json tag option inline; use embed", where)
				}
			}
			if sf.Anonymous && opts.name == "" && ft.Kind() != reflect.Struct {
				return nil, nil, nil, fmt.Errorf("%s: embedded field of non-struct type %v needs a JSON name in its json tag", where, sf.Type)
			}
			if opts.embed || (sf.Anonymous && opts.name == "") {
				if opts.name != "" || opts.omitempty || opts.omitzero || opts.str || opts.format != "" || opts.caseOpt {
					return nil, nil, nil, fmt.Errorf("%s: an embedded field cannot have json tag options other than embed", where)
				}
				if hasSchemaTags(sf) {
					return nil, nil, nil, fmt.Errorf("%s: description and jsonschema tags are not supported on embedded fields; put them on the embedded type's fields", where)
				}
				if implementsAny(ft, jsonMethodTypes) || implementsAny(ft, textMethodTypes) {
					return nil, nil, nil, fmt.Errorf("%s: embedded type %v must not implement JSON or text marshaling methods", where, ft)
				}
				if ft.Kind() == reflect.Struct {
					if qe.visit {
						queue = append(queue, entry{ft, f.index, qe.viaPtr || isPtr, !seen[ft]})
					}
					seen[ft] = true
					continue
				}
				if !sf.IsExported() {
					return nil, nil, nil, fmt.Errorf("%s: embedded field is not exported", where)
				}
				if ft == jsontextValueType || (ft.Kind() == reflect.Map && ft.Key().Kind() == reflect.String) {
					fallbacks = append(fallbacks, f)
					continue
				}
				return nil, nil, nil, fmt.Errorf("%s: embedded field of type %v must be a struct, a map with string keys or jsontext.Value", where, sf.Type)
			}
			if !sf.IsExported() {
				return nil, nil, nil, fmt.Errorf("%s: unexported field cannot be given a JSON name", where)
			}
			if prev, dup := names[f.name]; dup {
				return nil, nil, nil, fmt.Errorf("%s: fields %s and %s both have the JSON name %q", typeLabel(t), prev, sf.Name, f.name)
			}
			names[f.name] = sf.Name
			all = append(all, f)
		}
		if t.NumField() > 0 && !hasTag && !hasField {
			return nil, nil, nil, fmt.Errorf("%s: struct %w", typeLabel(t), errNoExportedField)
		}
	}

	// Keep, for each name, the dominant field: the only one at the
	// shallowest depth, or the only one there with an explicit JSON name.
	slices.SortStableFunc(all, func(x, y field) int {
		return cmp.Or(strings.Compare(x.name, y.name), cmp.Compare(len(x.index), len(y.index)), compareBool(!x.hasName, !y.hasName))
	})
	for len(all) > 0 {
		n := 1
		for n < len(all) && all[n].name == all[0].name {
			n++
		}
		if n == 1 || len(all[0].index) != len(all[1].index) || all[0].hasName != all[1].hasName {
			fields = append(fields, all[0])
		}
		all = all[n:]
	}
	slices.SortFunc(fields, func(x, y field) int { return slices.Compare(x.index, y.index) })
	if n := len(fallbacks); n == 1 || (n > 1 && len(fallbacks[0].index) != len(fallbacks[1].index)) {
		fallback = &fallbacks[0]
	}
	return fields, markers, fallback, nil
}

func compareBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}

// jsonTag is a parsed `json` struct tag.
type jsonTag struct {
	name      string
	omitempty bool
	omitzero  bool
	str       bool
	embed     bool
	inline    bool
	caseOpt   bool
	format    string
}

// parseJSONTag parses a `json` tag the way encoding/json/v2 reads it: a
// name, then comma-separated options, where a format value may be
// single-quoted. Options this package does not need are skipped;
// encoding/json/v2 itself reports other malformed tags.
func parseJSONTag(tag string) (jsonTag, error) {
	var out jsonTag
	if strings.HasPrefix(tag, "'") {
		return out, errors.New("encoding/json/v2 does not accept a single-quoted JSON name")
	}
	name, rest, found := strings.Cut(tag, ",")
	out.name, tag = name, ""
	if found {
		tag = "," + rest
	}
	for tag != "" {
		if tag[0] != ',' {
			return out, fmt.Errorf("malformed json tag: unexpected %q", tag)
		}
		tag = tag[1:]
		if tag == "" || tag[0] == ',' {
			return out, errors.New("malformed json tag: empty option")
		}
		end := strings.IndexAny(tag, ",:")
		if end < 0 {
			end = len(tag)
		}
		opt := tag[:end]
		tag = tag[end:]
		var value string
		if strings.HasPrefix(tag, ":") {
			tag = tag[1:]
			if strings.HasPrefix(tag, "'") {
				v, rest, err := consumeQuoted(tag)
				if err != nil {
					return out, fmt.Errorf("malformed json tag option %s: %v", opt, err)
				}
				value, tag = v, rest
			} else {
				v, rest, found := strings.Cut(tag, ",")
				value, tag = v, ""
				if found {
					tag = "," + rest
				}
			}
		}
		switch opt {
		case "omitempty":
			out.omitempty = true
		case "omitzero":
			out.omitzero = true
		case "string":
			out.str = true
		case "embed":
			out.embed = true
		case "inline", "unknown":
			out.inline = true
		case "case":
			out.caseOpt = true
		case "format":
			if value == "" {
				return out, errors.New("json tag option format needs a value")
			}
			out.format = value
		}
	}
	return out, nil
}

// consumeQuoted reads a single-quoted string (Go escapes, \' for a quote)
// from the start of s.
func consumeQuoted(s string) (value, rest string, err error) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			body := strings.ReplaceAll(s[1:i], `\'`, `'`)
			body = strings.ReplaceAll(body, `"`, `\"`)
			v, err := strconv.Unquote(`"` + body + `"`)
			if err != nil {
				return "", "", err
			}
			return v, s[i+1:], nil
		}
	}
	return "", "", errors.New("unterminated quoted string")
}
