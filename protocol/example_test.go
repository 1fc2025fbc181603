package protocol_test

import (
	"fmt"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/protocol"
)

func ptr[T any](v T) *T { return &v }

// A tool result with a text block and structured output.
func ExampleCallToolResult() {
	out, _ := json.Marshal(map[string]any{"temperature": 22.5})
	res := &protocol.CallToolResult{
		Content:           []protocol.Content{&protocol.TextContent{Text: string(out)}},
		StructuredContent: out,
	}
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	// Output:
	// {"content":[{"type":"text","text":"{\"temperature\":22.5}"}],"structuredContent":{"temperature":22.5}}
}

// An elicitation form with defaults (SEP-1034) and the enum shapes of
// SEP-1330. Order fixes the order in which the client shows the fields.
func ExampleElicitSchema() {
	p := &protocol.ElicitRequestParams{
		Message: "Set up your profile",
		RequestedSchema: &protocol.ElicitSchema{
			Properties: map[string]protocol.PrimitiveSchema{
				"name": &protocol.StringSchema{Title: "Name", Default: ptr("John Doe")},
				"age":  &protocol.NumberSchema{Type: "integer", Minimum: ptr(0.0), Default: ptr(30.0)},
				"plan": &protocol.UntitledSingleSelectEnumSchema{Enum: []string{"free", "pro"}, Default: "free"},
				"color": &protocol.TitledSingleSelectEnumSchema{OneOf: []protocol.EnumOption{
					{Const: "#FF0000", Title: "Red"}, {Const: "#00FF00", Title: "Green"}}},
				"tags": &protocol.UntitledMultiSelectEnumSchema{MaxItems: ptr(2),
					Items: protocol.UntitledEnumItems{Enum: []string{"a", "b", "c"}}},
				"langs": &protocol.TitledMultiSelectEnumSchema{Items: protocol.TitledEnumItems{AnyOf: []protocol.EnumOption{
					{Const: "go", Title: "Go"}, {Const: "rs", Title: "Rust"}}}},
				"legacy": &protocol.LegacyTitledEnumSchema{Enum: []string{"x", "y"}, EnumNames: []string{"X", "Y"}},
				"agree":  &protocol.BooleanSchema{Default: ptr(false)},
			},
			Required: []string{"name"},
			Order:    []string{"name", "age", "plan", "color", "tags", "langs", "legacy", "agree"},
		},
	}
	if err := p.Validate(); err != nil {
		fmt.Println(err)
	}
	b, _ := json.Marshal(p)
	fmt.Println(string(b))
	// Output:
	// {"message":"Set up your profile","requestedSchema":{"type":"object","properties":{"name":{"type":"string","title":"Name","default":"John Doe"},"age":{"type":"integer","minimum":0,"default":30},"plan":{"type":"string","enum":["free","pro"],"default":"free"},"color":{"type":"string","oneOf":[{"const":"#FF0000","title":"Red"},{"const":"#00FF00","title":"Green"}]},"tags":{"type":"array","maxItems":2,"items":{"type":"string","enum":["a","b","c"]}},"langs":{"type":"array","items":{"anyOf":[{"const":"go","title":"Go"},{"const":"rs","title":"Rust"}]}},"legacy":{"type":"string","enum":["x","y"],"enumNames":["X","Y"]},"agree":{"type":"boolean","default":false}},"required":["name"]}}
}

// Dispatching on the method name: the method table gives the params type.
func ExampleLookupMethod() {
	method, params := "tools/call", []byte(`{"name":"get_weather","arguments":{"city":"Paris"},"_meta":{"progressToken":7}}`)
	info, ok := protocol.LookupMethod(method)
	if !ok || !info.AvailableIn(protocol.Version20250618) {
		fmt.Println("method not found")
		return
	}
	p := info.NewParams().(protocol.ClientRequestParams)
	if err := json.Unmarshal(params, p); err != nil {
		fmt.Println(err)
		return
	}
	call := p.(*protocol.CallToolRequestParams)
	tok, _ := call.Meta.ProgressToken()
	fmt.Println(call.Name, string(call.Arguments), tok)
	// Output:
	// get_weather {"city":"Paris"} 7
}
