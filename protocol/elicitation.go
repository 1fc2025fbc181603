package protocol

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// ElicitRequestParams are the params of elicitation/create. One struct
// covers both modes of the schema (ElicitRequestFormParams and
// ElicitRequestURLParams):
//
//   - Form mode (Mode empty or ElicitModeForm): Message and RequestedSchema.
//     Leave Mode empty to reach clients of 2025-06-18, which know no modes.
//   - URL mode (Mode ElicitModeURL): Message, URL and ElicitationID.
//
// Fields of the other mode are omitted when zero; [ElicitRequestParams.Validate]
// checks that a value is one or the other.
type ElicitRequestParams struct {
	// Mode is the mode; empty means form mode.
	Mode ElicitMode `json:"mode,omitzero"`
	// Message tells the user why the information is needed.
	Message string `json:"message"`
	// RequestedSchema is the form to fill in (form mode).
	RequestedSchema *ElicitSchema `json:"requestedSchema,omitzero"`
	// URL is the page the user should open (URL mode).
	URL string `json:"url,omitzero"`
	// ElicitationID identifies the elicitation (URL mode); a later
	// notifications/elicitation/complete carries it.
	ElicitationID string `json:"elicitationId,omitzero"`
	// Task, if set, asks the client to run the request as a task.
	Task *TaskMetadata `json:"task,omitzero"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// EffectiveMode returns Mode, or ElicitModeForm when Mode is empty.
func (p *ElicitRequestParams) EffectiveMode() ElicitMode {
	if p.Mode == "" {
		return ElicitModeForm
	}
	return p.Mode
}

// Validate checks that p is a well-formed form mode or URL mode request.
func (p *ElicitRequestParams) Validate() error {
	switch p.EffectiveMode() {
	case ElicitModeForm:
		if p.RequestedSchema == nil {
			return errors.New("protocol: form mode elicitation needs a requestedSchema")
		}
		if p.URL != "" || p.ElicitationID != "" {
			return errors.New("protocol: form mode elicitation has url or elicitationId")
		}
		return p.RequestedSchema.Validate()
	case ElicitModeURL:
		if p.URL == "" || p.ElicitationID == "" {
			return errors.New("protocol: url mode elicitation needs a url and an elicitationId")
		}
		if p.RequestedSchema != nil {
			return errors.New("protocol: url mode elicitation has a requestedSchema")
		}
		return nil
	}
	return fmt.Errorf("protocol: unknown elicitation mode %q", p.Mode)
}

// ElicitSchema is the requestedSchema of a form mode elicitation: a flat
// JSON object schema whose properties are primitive field schemas. It is
// always sent with "type": "object".
type ElicitSchema struct {
	// Schema is the optional $schema member.
	Schema string
	// Properties are the form's fields, by name.
	Properties map[string]PrimitiveSchema
	// Required lists the fields that must be filled in.
	Required []string
	// Order lists property names in the order they are sent, which is the
	// order clients show them in. Properties not listed follow, sorted by
	// name. Decoding sets Order to the order of the JSON document, so a
	// decoded schema is re-encoded unchanged. Order is not a member of
	// its own on the wire.
	Order []string
}

// PropertyNames returns the names of the properties in the order they are
// sent (see Order).
func (s *ElicitSchema) PropertyNames() []string {
	names := make([]string, 0, len(s.Properties))
	seen := make(map[string]bool, len(s.Properties))
	for _, n := range s.Order {
		if _, ok := s.Properties[n]; ok && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	start := len(names)
	for n := range s.Properties {
		if !seen[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names[start:])
	return names
}

// Validate checks that every required property exists and no property is
// nil.
func (s *ElicitSchema) Validate() error {
	for name, p := range s.Properties {
		if p == nil {
			return fmt.Errorf("protocol: elicitation schema property %q is nil", name)
		}
	}
	for _, r := range s.Required {
		if _, ok := s.Properties[r]; !ok {
			return fmt.Errorf("protocol: elicitation schema requires %q, which is not a property", r)
		}
	}
	return nil
}

// MarshalJSONTo implements json.MarshalerTo.
func (s *ElicitSchema) MarshalJSONTo(enc *jsontext.Encoder) error {
	tokens := func(ts ...jsontext.Token) error {
		for _, t := range ts {
			if err := enc.WriteToken(t); err != nil {
				return err
			}
		}
		return nil
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	if s.Schema != "" {
		if err := tokens(jsontext.String("$schema"), jsontext.String(s.Schema)); err != nil {
			return err
		}
	}
	if err := tokens(jsontext.String("type"), jsontext.String("object"), jsontext.String("properties"), jsontext.BeginObject); err != nil {
		return err
	}
	for _, name := range s.PropertyNames() {
		if err := enc.WriteToken(jsontext.String(name)); err != nil {
			return err
		}
		if err := json.MarshalEncode(enc, s.Properties[name]); err != nil {
			return err
		}
	}
	if err := enc.WriteToken(jsontext.EndObject); err != nil {
		return err
	}
	if s.Required != nil {
		if err := enc.WriteToken(jsontext.String("required")); err != nil {
			return err
		}
		if err := json.MarshalEncode(enc, s.Required); err != nil {
			return err
		}
	}
	return enc.WriteToken(jsontext.EndObject)
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom. "type" must be
// "object" and "properties" must be present.
func (s *ElicitSchema) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if k := dec.PeekKind(); k != '{' {
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		return fmt.Errorf("protocol: elicitation schema must be an object, not %s", kindName(k))
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	var typ string
	var sawProps bool
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		switch name.String() {
		case "$schema":
			err = json.UnmarshalDecode(dec, &s.Schema)
		case "type":
			err = json.UnmarshalDecode(dec, &typ)
		case "required":
			err = json.UnmarshalDecode(dec, &s.Required)
		case "properties":
			sawProps = true
			err = s.decodeProperties(dec)
		default:
			err = dec.SkipValue()
		}
		if err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if err := checkType("elicitation schema", typ, "object"); err != nil {
		return err
	}
	if !sawProps {
		return errors.New("protocol: elicitation schema has no properties")
	}
	return nil
}

func (s *ElicitSchema) decodeProperties(dec *jsontext.Decoder) error {
	if k := dec.PeekKind(); k != '{' {
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		return fmt.Errorf("protocol: elicitation schema properties must be an object, not %s", kindName(k))
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if s.Properties == nil {
		s.Properties = make(map[string]PrimitiveSchema)
	}
	s.Order = s.Order[:0]
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String() // copied before the next read invalidates tok
		p, err := decodePrimitiveSchema(dec)
		if err != nil {
			return fmt.Errorf("protocol: elicitation schema property %q: %w", name, err)
		}
		s.Properties[name] = p
		s.Order = append(s.Order, name)
	}
	_, err := dec.ReadToken()
	return err
}

// PrimitiveSchema is the schema of one field of an elicitation form (the
// schema's PrimitiveSchemaDefinition): *StringSchema, *NumberSchema,
// *BooleanSchema or one of the enum schemas (see EnumSchema).
type PrimitiveSchema interface {
	isPrimitiveSchema()
}

// EnumSchema is a field whose value is chosen from a list:
// *UntitledSingleSelectEnumSchema, *TitledSingleSelectEnumSchema,
// *LegacyTitledEnumSchema (single select) or
// *UntitledMultiSelectEnumSchema, *TitledMultiSelectEnumSchema (multi
// select).
type EnumSchema interface {
	PrimitiveSchema
	// Values returns the values the user can choose from.
	Values() []string
	isEnumSchema()
}

// SingleSelectEnumSchema is an enum field whose value is one string:
// *UntitledSingleSelectEnumSchema or *TitledSingleSelectEnumSchema (the
// schema's SingleSelectEnumSchema; the legacy *LegacyTitledEnumSchema is
// single-select too but kept apart by the schema).
type SingleSelectEnumSchema interface {
	EnumSchema
	isSingleSelect()
}

// MultiSelectEnumSchema is an enum field whose value is an array of
// strings: *UntitledMultiSelectEnumSchema or *TitledMultiSelectEnumSchema.
type MultiSelectEnumSchema interface {
	EnumSchema
	isMultiSelect()
}

// StringSchema is a free text field.
type StringSchema struct {
	// Title is the field's label.
	Title string `json:"title,omitzero"`
	// Description explains the field.
	Description string `json:"description,omitzero"`
	// MinLength is the minimum length of the value.
	MinLength *int `json:"minLength,omitzero"`
	// MaxLength is the maximum length of the value.
	MaxLength *int `json:"maxLength,omitzero"`
	// Format constrains the value to an email address, URI, date or
	// date-time.
	Format StringFormat `json:"format,omitzero"`
	// Default is the initial value.
	Default *string `json:"default,omitzero"`
}

// NumberSchema is a number field.
type NumberSchema struct {
	// Type is "number" or "integer"; empty means "number".
	Type string `json:"type"`
	// Title is the field's label.
	Title string `json:"title,omitzero"`
	// Description explains the field.
	Description string `json:"description,omitzero"`
	// Minimum is the smallest allowed value.
	Minimum *float64 `json:"minimum,omitzero"`
	// Maximum is the largest allowed value.
	Maximum *float64 `json:"maximum,omitzero"`
	// Default is the initial value.
	Default *float64 `json:"default,omitzero"`
}

// BooleanSchema is a checkbox.
type BooleanSchema struct {
	// Title is the field's label.
	Title string `json:"title,omitzero"`
	// Description explains the field.
	Description string `json:"description,omitzero"`
	// Default is the initial value.
	Default *bool `json:"default,omitzero"`
}

// UntitledSingleSelectEnumSchema is a choice of one value, shown as is:
// {"type": "string", "enum": [...]}.
type UntitledSingleSelectEnumSchema struct {
	// Title is the field's label.
	Title string `json:"title,omitzero"`
	// Description explains the field.
	Description string `json:"description,omitzero"`
	// Enum lists the values.
	Enum []string `json:"enum"`
	// Default is the initially selected value.
	Default string `json:"default,omitzero"`
}

// TitledSingleSelectEnumSchema is a choice of one value, each shown by its
// title: {"type": "string", "oneOf": [{"const": ..., "title": ...}]}.
type TitledSingleSelectEnumSchema struct {
	// Title is the field's label.
	Title string `json:"title,omitzero"`
	// Description explains the field.
	Description string `json:"description,omitzero"`
	// OneOf lists the options.
	OneOf []EnumOption `json:"oneOf"`
	// Default is the initially selected value.
	Default string `json:"default,omitzero"`
}

// LegacyTitledEnumSchema is the form of a titled single choice from before
// 2025-11-25, kept for compatibility: {"type": "string", "enum": [...],
// "enumNames": [...]}, EnumNames holding the title of each value.
type LegacyTitledEnumSchema struct {
	// Title is the field's label.
	Title string `json:"title,omitzero"`
	// Description explains the field.
	Description string `json:"description,omitzero"`
	// Enum lists the values.
	Enum []string `json:"enum"`
	// EnumNames lists the display names of the values, in the same order.
	EnumNames []string `json:"enumNames,omitzero"`
	// Default is the initially selected value.
	Default string `json:"default,omitzero"`
}

// UntitledMultiSelectEnumSchema is a choice of any number of values, shown
// as is: {"type": "array", "items": {"type": "string", "enum": [...]}}.
type UntitledMultiSelectEnumSchema struct {
	// Title is the field's label.
	Title string `json:"title,omitzero"`
	// Description explains the field.
	Description string `json:"description,omitzero"`
	// MinItems is the least number of values to select.
	MinItems *int `json:"minItems,omitzero"`
	// MaxItems is the most values to select.
	MaxItems *int `json:"maxItems,omitzero"`
	// Items lists the values.
	Items UntitledEnumItems `json:"items"`
	// Default is the initially selected values.
	Default []string `json:"default,omitzero"`
}

// UntitledEnumItems is the items schema of an untitled multi-select:
// {"type": "string", "enum": [...]}.
type UntitledEnumItems struct {
	// Enum lists the values.
	Enum []string `json:"enum"`
}

// TitledMultiSelectEnumSchema is a choice of any number of values, each
// shown by its title: {"type": "array", "items": {"anyOf": [{"const": ...,
// "title": ...}]}}.
type TitledMultiSelectEnumSchema struct {
	// Title is the field's label.
	Title string `json:"title,omitzero"`
	// Description explains the field.
	Description string `json:"description,omitzero"`
	// MinItems is the least number of values to select.
	MinItems *int `json:"minItems,omitzero"`
	// MaxItems is the most values to select.
	MaxItems *int `json:"maxItems,omitzero"`
	// Items lists the options.
	Items TitledEnumItems `json:"items"`
	// Default is the initially selected values.
	Default []string `json:"default,omitzero"`
}

// TitledEnumItems is the items schema of a titled multi-select:
// {"anyOf": [{"const": ..., "title": ...}]}.
type TitledEnumItems struct {
	// AnyOf lists the options.
	AnyOf []EnumOption `json:"anyOf"`
}

// EnumOption is a value and its display title.
type EnumOption struct {
	// Const is the value.
	Const string `json:"const"`
	// Title is what the user sees.
	Title string `json:"title"`
}

func (*StringSchema) isPrimitiveSchema()                   {}
func (*NumberSchema) isPrimitiveSchema()                   {}
func (*BooleanSchema) isPrimitiveSchema()                  {}
func (*UntitledSingleSelectEnumSchema) isPrimitiveSchema() {}
func (*TitledSingleSelectEnumSchema) isPrimitiveSchema()   {}
func (*LegacyTitledEnumSchema) isPrimitiveSchema()         {}
func (*UntitledMultiSelectEnumSchema) isPrimitiveSchema()  {}
func (*TitledMultiSelectEnumSchema) isPrimitiveSchema()    {}

func (*UntitledSingleSelectEnumSchema) isEnumSchema() {}
func (*TitledSingleSelectEnumSchema) isEnumSchema()   {}
func (*LegacyTitledEnumSchema) isEnumSchema()         {}
func (*UntitledMultiSelectEnumSchema) isEnumSchema()  {}
func (*TitledMultiSelectEnumSchema) isEnumSchema()    {}

func (*UntitledSingleSelectEnumSchema) isSingleSelect() {}
func (*TitledSingleSelectEnumSchema) isSingleSelect()   {}
func (*UntitledMultiSelectEnumSchema) isMultiSelect()   {}
func (*TitledMultiSelectEnumSchema) isMultiSelect()     {}

func optionValues(opts []EnumOption) []string {
	vs := make([]string, len(opts))
	for i, o := range opts {
		vs[i] = o.Const
	}
	return vs
}

// Values implements EnumSchema.
func (s *UntitledSingleSelectEnumSchema) Values() []string { return slices.Clone(s.Enum) }

// Values implements EnumSchema.
func (s *TitledSingleSelectEnumSchema) Values() []string { return optionValues(s.OneOf) }

// Values implements EnumSchema.
func (s *LegacyTitledEnumSchema) Values() []string { return slices.Clone(s.Enum) }

// Values implements EnumSchema.
func (s *UntitledMultiSelectEnumSchema) Values() []string { return slices.Clone(s.Items.Enum) }

// Values implements EnumSchema.
func (s *TitledMultiSelectEnumSchema) Values() []string { return optionValues(s.Items.AnyOf) }

// Schema "type" values of the field schemas.
const (
	schemaString  = "string"
	schemaNumber  = "number"
	schemaInteger = "integer"
	schemaBoolean = "boolean"
	schemaArray   = "array"
)

// MarshalJSONTo implements json.MarshalerTo.
func (s *StringSchema) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields StringSchema
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{schemaString, (*Fields)(s)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "string".
func (s *StringSchema) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields StringSchema
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(s)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("string schema", w.Type, schemaString)
}

// MarshalJSONTo implements json.MarshalerTo; an empty Type is sent as
// "number".
func (s *NumberSchema) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields NumberSchema
	f := (*Fields)(s)
	if s.Type == "" {
		cp := *f
		cp.Type = schemaNumber
		f = &cp
	}
	return json.MarshalEncode(enc, f)
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "number" or "integer".
func (s *NumberSchema) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields NumberSchema
	if err := json.UnmarshalDecode(dec, (*Fields)(s)); err != nil {
		return err
	}
	if s.Type != schemaNumber && s.Type != schemaInteger {
		return fmt.Errorf("protocol: number schema has type %q, want \"number\" or \"integer\"", s.Type)
	}
	return nil
}

// MarshalJSONTo implements json.MarshalerTo.
func (s *BooleanSchema) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields BooleanSchema
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{schemaBoolean, (*Fields)(s)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "boolean".
func (s *BooleanSchema) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields BooleanSchema
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(s)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("boolean schema", w.Type, schemaBoolean)
}

// MarshalJSONTo implements json.MarshalerTo.
func (s *UntitledSingleSelectEnumSchema) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields UntitledSingleSelectEnumSchema
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{schemaString, (*Fields)(s)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "string".
func (s *UntitledSingleSelectEnumSchema) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields UntitledSingleSelectEnumSchema
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(s)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("enum schema", w.Type, schemaString)
}

// MarshalJSONTo implements json.MarshalerTo.
func (s *TitledSingleSelectEnumSchema) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields TitledSingleSelectEnumSchema
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{schemaString, (*Fields)(s)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "string".
func (s *TitledSingleSelectEnumSchema) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields TitledSingleSelectEnumSchema
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(s)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("enum schema", w.Type, schemaString)
}

// MarshalJSONTo implements json.MarshalerTo.
func (s *LegacyTitledEnumSchema) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields LegacyTitledEnumSchema
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{schemaString, (*Fields)(s)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "string".
func (s *LegacyTitledEnumSchema) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields LegacyTitledEnumSchema
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(s)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("enum schema", w.Type, schemaString)
}

// MarshalJSONTo implements json.MarshalerTo.
func (s *UntitledMultiSelectEnumSchema) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields UntitledMultiSelectEnumSchema
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{schemaArray, (*Fields)(s)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "array".
func (s *UntitledMultiSelectEnumSchema) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields UntitledMultiSelectEnumSchema
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(s)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("multi-select enum schema", w.Type, schemaArray)
}

// MarshalJSONTo implements json.MarshalerTo.
func (s *UntitledEnumItems) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields UntitledEnumItems
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{schemaString, (*Fields)(s)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "string".
func (s *UntitledEnumItems) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields UntitledEnumItems
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(s)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("enum items schema", w.Type, schemaString)
}

// MarshalJSONTo implements json.MarshalerTo.
func (s *TitledMultiSelectEnumSchema) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields TitledMultiSelectEnumSchema
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{schemaArray, (*Fields)(s)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "array".
func (s *TitledMultiSelectEnumSchema) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields TitledMultiSelectEnumSchema
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(s)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("multi-select enum schema", w.Type, schemaArray)
}

// decodePrimitiveSchema decodes a field schema, telling the variants apart
// by "type" and by which of enum, oneOf, enumNames and items.anyOf are
// present.
func decodePrimitiveSchema(dec *jsontext.Decoder) (PrimitiveSchema, error) {
	obj, err := readObject(dec, "elicitation field schema")
	if err != nil {
		return nil, err
	}
	var shape struct {
		Type      string  `json:"type"`
		Enum      present `json:"enum"`
		OneOf     present `json:"oneOf"`
		EnumNames present `json:"enumNames"`
		Items     *struct {
			AnyOf present `json:"anyOf"`
		} `json:"items"`
	}
	if err := json.Unmarshal(obj, &shape); err != nil {
		return nil, err
	}
	var s PrimitiveSchema
	switch shape.Type {
	case schemaString:
		switch {
		case bool(shape.OneOf):
			s = new(TitledSingleSelectEnumSchema)
		case bool(shape.Enum && shape.EnumNames):
			s = new(LegacyTitledEnumSchema)
		case bool(shape.Enum):
			s = new(UntitledSingleSelectEnumSchema)
		default:
			s = new(StringSchema)
		}
	case schemaNumber, schemaInteger:
		s = new(NumberSchema)
	case schemaBoolean:
		s = new(BooleanSchema)
	case schemaArray:
		if shape.Items == nil {
			return nil, errors.New("protocol: multi-select enum schema has no items")
		}
		if shape.Items.AnyOf {
			s = new(TitledMultiSelectEnumSchema)
		} else {
			s = new(UntitledMultiSelectEnumSchema)
		}
	case "":
		return nil, errors.New("protocol: elicitation field schema has no type")
	default:
		return nil, fmt.Errorf("protocol: elicitation field schema has unsupported type %q", shape.Type)
	}
	if err := json.Unmarshal(obj, s); err != nil {
		return nil, err
	}
	return s, nil
}

// ElicitResult is the result of elicitation/create.
type ElicitResult struct {
	// Action is the user's answer.
	Action ElicitAction `json:"action"`
	// Content holds the submitted form when Action is accept in form
	// mode: field name to value, each a string, a number (float64 when
	// decoded), a bool or, for multi-select fields, a []string ([]any of
	// strings when decoded).
	Content map[string]any `json:"content,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ElicitationCompleteNotificationParams are the params of
// notifications/elicitation/complete, sent by a server when the
// out-of-band interaction of a URL mode elicitation is over.
type ElicitationCompleteNotificationParams struct {
	// ElicitationID is the id of the elicitation.
	ElicitationID string `json:"elicitationId"`
	// Meta is the notification's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}
