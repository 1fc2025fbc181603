package protocol

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

func TestUnmarshalContent(t *testing.T) {
	tests := []struct {
		in      string
		want    Content
		wantErr string // substring of the error; "" for success
	}{
		{in: `{"type":"text","text":"hi"}`, want: &TextContent{Text: "hi"}},
		{in: `{"text":"hi","type":"text","_meta":{"k":"v"}}`, want: &TextContent{Text: "hi", Meta: Meta{"k": "v"}}},
		{in: `{"type":"image","data":"AAEC","mimeType":"image/png"}`, want: &ImageContent{Data: []byte{0, 1, 2}, MIMEType: "image/png"}},
		{in: `{"type":"audio","data":"","mimeType":"audio/wav"}`, want: &AudioContent{Data: []byte{}, MIMEType: "audio/wav"}},
		{in: `{"type":"resource_link","uri":"file:///a","name":"a","size":0}`, want: &ResourceLink{URI: "file:///a", Name: "a", Size: ptrTo[int64](0)}},
		{in: `{"type":"resource","resource":{"uri":"file:///a","blob":"AA=="}}`, want: &EmbeddedResource{Resource: &BlobResourceContents{URI: "file:///a", Blob: []byte{0}}}},
		{in: `{"type":"resource","resource":{"uri":"file:///a","text":""}}`, want: &EmbeddedResource{Resource: &TextResourceContents{URI: "file:///a"}}},
		// Unknown members are ignored.
		{in: `{"type":"text","text":"hi","future":{"x":1}}`, want: &TextContent{Text: "hi"}},

		{in: `{"type":"video","data":"AA=="}`, wantErr: `unknown content block type "video"`},
		{in: `{"type":"tool_use","id":"a","name":"b","input":{}}`, wantErr: `unknown content block type "tool_use"`},
		{in: `{"text":"no type"}`, wantErr: "has no type"},
		{in: `{"type":7}`, wantErr: "unmarshal JSON number"},
		{in: `"text"`, wantErr: "must be a JSON object, not a string"},
		{in: `null`, wantErr: "must be a JSON object, not null"},
		{in: `[{"type":"text","text":"hi"}]`, wantErr: "must be a JSON object, not an array"},
		{in: `{"type":"text","text":"hi"`, wantErr: "EOF"},
		{in: `{"type":"text","text":"a","text":"b"}`, wantErr: "duplicate"},
		{in: `{"type":"image","data":"not base64!","mimeType":"image/png"}`, wantErr: "illegal base64"},
		{in: `{"type":"image","data":"AAE","mimeType":"image/png"}`, wantErr: "illegal base64"},
		{in: `{"type":"image","data":"AA\u003d\u003d\n","mimeType":"image/png"}`, wantErr: "illegal character"},
		{in: `{"type":"image","data":12,"mimeType":"image/png"}`, wantErr: "unmarshal JSON number"},
		{in: `{"type":"resource"}`, wantErr: "has no resource"},
		{in: `{"type":"resource","resource":{"uri":"file:///a"}}`, wantErr: "neither text nor blob"},
		{in: `{"type":"resource","resource":{"uri":"file:///a","text":"x","blob":"AA=="}}`, wantErr: "both text and blob"},
		{in: `{"type":"resource","resource":{"uri":"file:///a","blob":"%%%"}}`, wantErr: "illegal base64"},
	}
	for _, tt := range tests {
		got, err := UnmarshalContent([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("UnmarshalContent(%s) = %#v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("UnmarshalContent(%s): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("UnmarshalContent(%s) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestUnmarshalSamplingContent(t *testing.T) {
	for _, in := range []string{
		`{"type":"text","text":"hi"}`,
		`{"type":"image","data":"AA==","mimeType":"image/png"}`,
		`{"type":"audio","data":"AA==","mimeType":"audio/wav"}`,
		`{"type":"tool_use","id":"a","name":"b","input":{"x":1}}`,
		`{"type":"tool_result","toolUseId":"a","content":[{"type":"text","text":"r"}]}`,
	} {
		c, err := UnmarshalSamplingContent([]byte(in))
		if err != nil {
			t.Errorf("UnmarshalSamplingContent(%s): %v", in, err)
			continue
		}
		out, _ := json.Marshal(c)
		if string(out) != in {
			t.Errorf("round trip of %s gave %s", in, out)
		}
	}
	for _, in := range []string{
		`{"type":"resource_link","uri":"file:///a","name":"a"}`,
		`{"type":"resource","resource":{"uri":"file:///a","text":"x"}}`,
		`{"type":"tool_result","toolUseId":"a","content":[{"type":"tool_use","id":"x","name":"y","input":{}}]}`,
	} {
		if c, err := UnmarshalSamplingContent([]byte(in)); err == nil {
			t.Errorf("UnmarshalSamplingContent(%s) = %#v, want an error", in, c)
		}
	}
}

// TestVariantTypeCheck checks that decoding straight into a variant checks
// the "type" member.
func TestVariantTypeCheck(t *testing.T) {
	tests := []struct {
		in     string
		target any
	}{
		{`{"type":"image","text":"x"}`, new(TextContent)},
		{`{"text":"x"}`, new(TextContent)},
		{`{"type":"text","data":"AA==","mimeType":"image/png"}`, new(ImageContent)},
		{`{"type":"image","data":"AA==","mimeType":"audio/wav"}`, new(AudioContent)},
		{`{"type":"resource","uri":"x","name":"y"}`, new(ResourceLink)},
		{`{"type":"resource_link","resource":{"uri":"x","text":""}}`, new(EmbeddedResource)},
		{`{"type":"tool_result","id":"a","name":"b","input":{}}`, new(ToolUseContent)},
		{`{"type":"tool_use","toolUseId":"a","content":[]}`, new(ToolResultContent)},
		{`{"type":"ref/resource","name":"x"}`, new(PromptReference)},
		{`{"type":"ref/prompt","uri":"x"}`, new(ResourceTemplateReference)},
		{`{"type":"number"}`, new(StringSchema)},
		{`{"type":"string"}`, new(NumberSchema)},
		{`{"type":"string"}`, new(BooleanSchema)},
		{`{"type":"array","enum":["a"]}`, new(UntitledSingleSelectEnumSchema)},
		{`{"oneOf":[]}`, new(TitledSingleSelectEnumSchema)},
		{`{"type":"array","enum":[]}`, new(LegacyTitledEnumSchema)},
		{`{"type":"string","items":{"type":"string","enum":[]}}`, new(UntitledMultiSelectEnumSchema)},
		{`{"type":"array","items":{"type":"number","enum":[]}}`, new(UntitledMultiSelectEnumSchema)},
		{`{"type":"string","items":{"anyOf":[]}}`, new(TitledMultiSelectEnumSchema)},
	}
	for _, tt := range tests {
		if err := json.Unmarshal([]byte(tt.in), tt.target); err == nil {
			t.Errorf("decoding %s into %T succeeded", tt.in, tt.target)
		}
	}
}

// TestCaseSensitive checks the v2 default: member names must match exactly.
func TestCaseSensitive(t *testing.T) {
	var tool Tool
	if err := json.Unmarshal([]byte(`{"Name":"x","NAME":"y","inputschema":{}}`), &tool); err != nil {
		t.Fatal(err)
	}
	if tool.Name != "" || tool.InputSchema != nil {
		t.Errorf("case-insensitive match: %+v", tool)
	}
	var p CallToolRequestParams
	if err := json.Unmarshal([]byte(`{"name":"a","Arguments":{"x":1}}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "a" || p.Arguments != nil {
		t.Errorf("got %+v", p)
	}
	if _, err := UnmarshalContent([]byte(`{"Type":"text","text":"x"}`)); err == nil {
		t.Error(`"Type" was taken for "type"`)
	}
}

func TestUnmarshalResourceContents(t *testing.T) {
	c, err := UnmarshalResourceContents([]byte(`{"uri":"file:///a","mimeType":"text/plain","text":"hello"}`))
	if err != nil {
		t.Fatal(err)
	}
	if tc, ok := c.(*TextResourceContents); !ok || tc.Text != "hello" || tc.ResourceURI() != "file:///a" {
		t.Errorf("got %#v", c)
	}
	// "text": null still marks text contents.
	if c, err := UnmarshalResourceContents([]byte(`{"uri":"file:///a","text":null}`)); err != nil {
		t.Error(err)
	} else if _, ok := c.(*TextResourceContents); !ok {
		t.Errorf("got %T", c)
	}
	if _, err := UnmarshalResourceContents([]byte(`{"uri":"file:///a","blob":"A"}`)); err == nil {
		t.Error("bad base64 accepted")
	}
}

func TestUnmarshalPrimitiveSchema(t *testing.T) {
	tests := []struct {
		in   string
		want PrimitiveSchema
	}{
		{`{"type":"string"}`, &StringSchema{}},
		{`{"type":"string","format":"date","default":"2025-01-01"}`, &StringSchema{Format: StringFormatDate, Default: ptrTo("2025-01-01")}},
		{`{"type":"integer","default":3}`, &NumberSchema{Type: "integer", Default: ptrTo(3.0)}},
		{`{"type":"number"}`, &NumberSchema{Type: "number"}},
		{`{"type":"boolean","default":true}`, &BooleanSchema{Default: ptrTo(true)}},
		{`{"type":"string","enum":["a","b"]}`, &UntitledSingleSelectEnumSchema{Enum: []string{"a", "b"}}},
		{`{"type":"string","enum":["a"],"enumNames":["A"]}`, &LegacyTitledEnumSchema{Enum: []string{"a"}, EnumNames: []string{"A"}}},
		{`{"type":"string","oneOf":[{"const":"a","title":"A"}]}`, &TitledSingleSelectEnumSchema{OneOf: []EnumOption{{"a", "A"}}}},
		{`{"type":"array","items":{"type":"string","enum":["a"]}}`, &UntitledMultiSelectEnumSchema{Items: UntitledEnumItems{Enum: []string{"a"}}}},
		{`{"type":"array","items":{"anyOf":[{"const":"a","title":"A"}]},"default":["a"]}`,
			&TitledMultiSelectEnumSchema{Items: TitledEnumItems{AnyOf: []EnumOption{{"a", "A"}}}, Default: []string{"a"}}},
	}
	for _, tt := range tests {
		got, err := UnmarshalPrimitiveSchema([]byte(tt.in))
		if err != nil {
			t.Errorf("UnmarshalPrimitiveSchema(%s): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("UnmarshalPrimitiveSchema(%s) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{`{}`, `{"type":"object"}`, `{"type":"null"}`, `[]`, `{"type":"array"}`, `{"type":"string","enum":"a"}`} {
		if s, err := UnmarshalPrimitiveSchema([]byte(in)); err == nil {
			t.Errorf("UnmarshalPrimitiveSchema(%s) = %#v, want an error", in, s)
		}
	}
}

func TestElicitSchema(t *testing.T) {
	s := &ElicitSchema{
		Properties: map[string]PrimitiveSchema{"z": &StringSchema{}, "b": &BooleanSchema{}, "a": &NumberSchema{}, "m": &StringSchema{}},
		Order:      []string{"m", "missing", "z", "m"},
	}
	if got, want := s.PropertyNames(), []string{"m", "z", "a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("PropertyNames() = %v, want %v", got, want)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"object","properties":{"m":{"type":"string"},"z":{"type":"string"},"a":{"type":"number"},"b":{"type":"boolean"}}}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	var back ElicitSchema
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if want := []string{"m", "z", "a", "b"}; !reflect.DeepEqual(back.Order, want) {
		t.Errorf("decoded order %v, want %v", back.Order, want)
	}
	if err := (&ElicitSchema{Properties: map[string]PrimitiveSchema{"a": &StringSchema{}}, Required: []string{"b"}}).Validate(); err == nil {
		t.Error("Validate accepted a required property that does not exist")
	}
	if err := (&ElicitSchema{Properties: map[string]PrimitiveSchema{"a": nil}}).Validate(); err == nil {
		t.Error("Validate accepted a nil property")
	}
	for _, in := range []string{
		`{"properties":{}}`,
		`{"type":"array","properties":{}}`,
		`{"type":"object"}`,
		`{"type":"object","properties":[]}`,
		`{"type":"object","properties":{"a":{"type":"object"}}}`,
		`{"type":"object","properties":{"a":{"type":"string"},"a":{"type":"string"}}}`,
		`[]`,
	} {
		var s ElicitSchema
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("decoding %s succeeded: %+v", in, s)
		}
	}
}

func TestElicitRequestParamsValidate(t *testing.T) {
	form := &ElicitSchema{Properties: map[string]PrimitiveSchema{"a": &StringSchema{}}}
	tests := []struct {
		p  ElicitRequestParams
		ok bool
	}{
		{ElicitRequestParams{Message: "m", RequestedSchema: form}, true},
		{ElicitRequestParams{Mode: ElicitModeForm, Message: "m", RequestedSchema: form}, true},
		{ElicitRequestParams{Mode: ElicitModeURL, Message: "m", URL: "https://x", ElicitationID: "e"}, true},
		{ElicitRequestParams{Message: "m"}, false},
		{ElicitRequestParams{Message: "m", RequestedSchema: form, URL: "https://x"}, false},
		{ElicitRequestParams{Mode: ElicitModeURL, Message: "m", URL: "https://x"}, false},
		{ElicitRequestParams{Mode: ElicitModeURL, Message: "m", URL: "https://x", ElicitationID: "e", RequestedSchema: form}, false},
		{ElicitRequestParams{Mode: "popup", Message: "m"}, false},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.p, err, tt.ok)
		}
	}
}

func TestSamplingContents(t *testing.T) {
	tests := []struct {
		in, out string
		n       int
	}{
		{`{"type":"text","text":"a"}`, `{"type":"text","text":"a"}`, 1},
		{`[{"type":"text","text":"a"}]`, `{"type":"text","text":"a"}`, 1},
		{`[{"type":"text","text":"a"},{"type":"tool_use","id":"i","name":"n","input":{}}]`, `[{"type":"text","text":"a"},{"type":"tool_use","id":"i","name":"n","input":{}}]`, 2},
		{`[]`, `[]`, 0},
	}
	for _, tt := range tests {
		var s SamplingContents
		if err := json.Unmarshal([]byte(tt.in), &s); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if len(s) != tt.n {
			t.Errorf("%s: %d blocks, want %d", tt.in, len(s), tt.n)
		}
		if out, _ := json.Marshal(s); string(out) != tt.out {
			t.Errorf("%s: re-encoded as %s, want %s", tt.in, out, tt.out)
		}
	}
	for _, in := range []string{`"text"`, `null`, `[null]`, `{"type":"resource_link","uri":"a","name":"b"}`} {
		var s SamplingContents
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("decoding %s succeeded: %#v", in, s)
		}
	}
	// A nil list is sent as [] (the field is required).
	out, _ := json.Marshal(SamplingMessage{Role: RoleUser})
	if string(out) != `{"role":"user","content":[]}` {
		t.Errorf("got %s", out)
	}
}

func TestRequiredMembersOfZeroValues(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{&CallToolResult{}, `{"content":[]}`},
		{&Tool{Name: "t"}, `{"name":"t","inputSchema":{"type":"object","additionalProperties":false}}`},
		{&ToolUseContent{ID: "i", Name: "n"}, `{"type":"tool_use","id":"i","name":"n","input":{}}`},
		{&ToolResultContent{ToolUseID: "i"}, `{"type":"tool_result","toolUseId":"i","content":[]}`},
		{&ListToolsResult{}, `{"tools":[]}`},
		{&GetPromptResult{}, `{"messages":[]}`},
		{&Completion{}, `{"values":[]}`},
		{&Task{TaskID: "t", Status: TaskStatusWorking, CreatedAt: "a", LastUpdatedAt: "b"}, `{"taskId":"t","status":"working","createdAt":"a","lastUpdatedAt":"b","ttl":null}`},
		{&ServerCapabilities{Logging: &LoggingCapability{}, Prompts: &PromptsCapability{}}, `{"logging":{},"prompts":{}}`},
		{&ClientCapabilities{}, `{}`},
		{&CancelledNotificationParams{}, `{}`},
		{&NumberSchema{}, `{"type":"number"}`},
		{&ElicitSchema{}, `{"type":"object","properties":{}}`},
		{&ElicitRequestParams{}, `{"message":""}`},
		{&LoggingMessageNotificationParams{Level: LoggingLevelInfo}, `{"level":"info","data":null}`},
		{&GetTaskPayloadResult{}, `{}`},
		{&Result{Meta: Meta{}}, `{"_meta":{}}`},
	}
	for _, tt := range tests {
		out, err := json.Marshal(tt.v)
		if err != nil {
			t.Errorf("%T: %v", tt.v, err)
			continue
		}
		if string(out) != tt.want {
			t.Errorf("%T:\n got %s\nwant %s", tt.v, out, tt.want)
		}
	}
}

// A CallToolResult with Raw encodes as Raw, whatever its other fields.
func TestCallToolResultRaw(t *testing.T) {
	const raw = `{"content":[],"x-new":{"kept":true}}`
	out, err := json.Marshal(&CallToolResult{IsError: true, Content: []Content{&TextContent{Text: "ignored"}}, Raw: jsontext.Value(raw)})
	if err != nil || string(out) != raw {
		t.Errorf("got %s, %v; want %s", out, err, raw)
	}
}

// TestCallToolResultFields guards the hand-written encoder of
// CallToolResult: it must write every field the struct declares.
func TestCallToolResultFields(t *testing.T) {
	out, err := json.Marshal(exCallResult)
	if err != nil {
		t.Fatal(err)
	}
	var members map[string]jsontext.Value
	if err := json.Unmarshal(out, &members); err != nil {
		t.Fatal(err)
	}
	full := *exCallResult
	full.IsError = true
	full.ResultType = ResultTypeComplete
	out, _ = json.Marshal(&full)
	_ = json.Unmarshal(out, &members)
	typ := reflect.TypeFor[CallToolResult]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name == "-" {
			continue // Raw replaces the encoding; tested below
		}
		if _, ok := members[name]; !ok {
			t.Errorf("field %s (%q) is not written", typ.Field(i).Name, name)
		}
	}
	// The hand-written encoder agrees with the generic one.
	type plain CallToolResult
	generic, err := json.Marshal((*plain)(&full), deterministic)
	if err != nil {
		t.Fatal(err)
	}
	hand, _ := json.Marshal(&full, deterministic)
	if string(generic) != string(hand) {
		t.Errorf("hand-written encoding differs:\n%s\n%s", hand, generic)
	}
}

func TestUnionUnmarshalers(t *testing.T) {
	var v struct {
		Blocks []Content           `json:"blocks"`
		One    SamplingContent     `json:"one"`
		Res    ResourceContents    `json:"res"`
		Field  PrimitiveSchema     `json:"field"`
		Ref    CompletionReference `json:"ref"`
	}
	in := `{"blocks":[{"type":"text","text":"a"},{"type":"audio","data":"AA==","mimeType":"audio/wav"}],"one":{"type":"tool_use","id":"i","name":"n","input":{}},` +
		`"res":{"uri":"file:///a","blob":"AA=="},"field":{"type":"boolean"},"ref":{"type":"ref/resource","uri":"file:///{p}"}}`
	if err := json.Unmarshal([]byte(in), &v, UnionUnmarshalers); err != nil {
		t.Fatal(err)
	}
	if len(v.Blocks) != 2 || v.One.ContentType() != ContentTypeToolUse || v.Res.ResourceURI() != "file:///a" || v.Ref.RefType() != RefTypeResource {
		t.Errorf("got %+v", v)
	}
	if _, ok := v.Field.(*BooleanSchema); !ok {
		t.Errorf("field %T", v.Field)
	}
	if out, _ := json.Marshal(v); string(out) != in {
		t.Errorf("re-encoded as %s", out)
	}
	// Without the option, v2 cannot decode into the interfaces.
	if err := json.Unmarshal([]byte(in), &v); err == nil {
		t.Error("decoding without UnionUnmarshalers succeeded")
	}
}

func TestResultFields(t *testing.T) {
	var r Result
	in := `{"_meta":{"a":"b"},"content":[],"isError":true}`
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.Meta["a"] != "b" || string(r.Fields) != `{"content":[],"isError":true}` {
		t.Errorf("got %+v %s", r, r.Fields)
	}
	if out, _ := json.Marshal(&r); string(out) != in {
		t.Errorf("re-encoded as %s", out)
	}
	// A GetTaskPayloadResult re-decodes as the original result type.
	var p GetTaskPayloadResult
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(&p)
	var c CallToolResult
	if err := json.Unmarshal(raw, &c); err != nil || !c.IsError || c.Meta["a"] != "b" {
		t.Errorf("got %+v, %v", c, err)
	}
}

func TestToolAccessors(t *testing.T) {
	var nilAnn *ToolAnnotations
	if nilAnn.ReadOnly() || !nilAnn.Destructive() || nilAnn.Idempotent() || !nilAnn.OpenWorld() {
		t.Error("defaults of nil annotations are wrong")
	}
	a := &ToolAnnotations{ReadOnlyHint: ptrTo(true), DestructiveHint: ptrTo(false), IdempotentHint: ptrTo(true), OpenWorldHint: ptrTo(false)}
	if !a.ReadOnly() || a.Destructive() || !a.Idempotent() || a.OpenWorld() {
		t.Error("explicit hints are not returned")
	}
	tests := []struct {
		tool Tool
		name string
		ts   TaskSupport
	}{
		{Tool{Name: "n"}, "n", TaskSupportForbidden},
		{Tool{Name: "n", Annotations: &ToolAnnotations{Title: "A"}, Execution: &ToolExecution{}}, "A", TaskSupportForbidden},
		{Tool{Name: "n", Title: "T", Annotations: &ToolAnnotations{Title: "A"}, Execution: &ToolExecution{TaskSupport: TaskSupportRequired}}, "T", TaskSupportRequired},
	}
	for _, tt := range tests {
		if got := tt.tool.DisplayName(); got != tt.name {
			t.Errorf("DisplayName() = %q, want %q", got, tt.name)
		}
		if got := tt.tool.TaskSupport(); got != tt.ts {
			t.Errorf("TaskSupport() = %q, want %q", got, tt.ts)
		}
	}
	if (BaseMetadata{Name: "n"}).DisplayName() != "n" || (BaseMetadata{Name: "n", Title: "t"}).DisplayName() != "t" {
		t.Error("BaseMetadata.DisplayName")
	}
	link := exResource.Link()
	if out, _ := json.Marshal(link); !strings.HasPrefix(string(out), `{"type":"resource_link","uri":"file:///project/src/main.rs","name":"main.rs"`) {
		t.Errorf("Link() encodes as %s", out)
	}
}

func TestValidToolName(t *testing.T) {
	for _, name := range []string{"getUser", "DATA_EXPORT_v2", "admin.tools.list", "a", "x-y", strings.Repeat("a", 128)} {
		if err := ValidToolName(name); err != nil {
			t.Errorf("ValidToolName(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "get user", "a,b", "naïve", "a/b", strings.Repeat("a", 129)} {
		if err := ValidToolName(name); err == nil {
			t.Errorf("ValidToolName(%q) succeeded", name)
		}
	}
}

func TestEnumValues(t *testing.T) {
	tests := []struct {
		s    EnumSchema
		want []string
	}{
		{exUntitledEnum, []string{"Red", "Green", "Blue"}},
		{exTitledEnum, []string{"#FF0000", "#00FF00", "#0000FF"}},
		{exLegacyEnum, []string{"opt1", "opt2", "opt3"}},
		{exUntitledMulti, []string{"Red", "Green", "Blue"}},
		{exTitledMulti, []string{"#FF0000", "#00FF00"}},
	}
	for _, tt := range tests {
		got := tt.s.Values()
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%T.Values() = %v, want %v", tt.s, got, tt.want)
		}
		got[0] = "changed"
		if reflect.DeepEqual(tt.s.Values(), got) {
			t.Errorf("%T.Values() returns the schema's own slice", tt.s)
		}
	}
}
