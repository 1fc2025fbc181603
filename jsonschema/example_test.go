package jsonschema_test

import (
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/switchboard-mcp/switchboard/jsonschema"
)

// SearchArgs are the arguments of a hypothetical search tool.
type SearchArgs struct {
	_     struct{} `description:"Arguments of the search tool."`
	Query string   `json:"query" description:"What to look for." jsonschema:"minLength=1"`
	Limit int      `json:"limit,omitzero" description:"Maximum number of results." jsonschema:"minimum=1,maximum=50,default=10"`
	Sort  string   `json:"sort,omitempty" jsonschema:"enum=relevance|date"`
}

func Example() {
	schema, err := jsonschema.ForObject[SearchArgs]()
	if err != nil {
		panic(err)
	}
	pretty := schema.Clone()
	_ = pretty.Indent(jsontext.WithIndent("  "))
	fmt.Println(pretty)

	v, err := jsonschema.Compile(schema)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.ValidateJSON([]byte(`{"query":"mcp","limit":5}`)))
	if err := v.ValidateJSON([]byte(`{"limit":0,"sort":"name"}`)); err != nil {
		fmt.Println("invalid arguments:", err)
	}
	// Output:
	// {
	//   "type": "object",
	//   "description": "Arguments of the search tool.",
	//   "properties": {
	//     "query": {
	//       "type": "string",
	//       "description": "What to look for.",
	//       "minLength": 1
	//     },
	//     "limit": {
	//       "type": "integer",
	//       "description": "Maximum number of results.",
	//       "default": 10,
	//       "minimum": 1,
	//       "maximum": 50
	//     },
	//     "sort": {
	//       "type": "string",
	//       "enum": [
	//         "relevance",
	//         "date"
	//       ]
	//     }
	//   },
	//   "required": [
	//     "query"
	//   ]
	// }
	// <nil>
	// invalid arguments: missing required property "query"; at "/limit": must be >= 1, got 0; at "/sort": must be one of "relevance", "date", got "name"
}

// Celsius describes itself instead of being inferred as a plain number.
type Celsius float64

func (Celsius) JSONSchema() jsontext.Value {
	return jsontext.Value(`{"type":"number","minimum":-273.15}`)
}

func ExampleSchemer() {
	type Reading struct {
		Temp Celsius `json:"temp" description:"Measured temperature."`
	}
	schema, _ := jsonschema.For[Reading]()
	fmt.Println(string(schema))
	// Output:
	// {"type":"object","properties":{"temp":{"type":"number","description":"Measured temperature.","minimum":-273.15}},"required":["temp"]}
}

func ExampleValidationError() {
	v, _ := jsonschema.Compile(jsontext.Value(`{"type":"object","properties":{"ids":{"type":"array","items":{"type":"integer"}}}}`))
	err := v.ValidateJSON([]byte(`{"ids":[1,"two",3.5]}`))
	if verr, ok := err.(*jsonschema.ValidationError); ok {
		for _, issue := range verr.Issues {
			fmt.Printf("%s: %s\n", issue.InstanceLocation, issue.Message)
		}
	}
	// Output:
	// /ids/1: must be integer, got string
	// /ids/2: must be integer, got number
}
