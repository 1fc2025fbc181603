package jsonschema

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

type basic struct {
	B   bool
	I   int
	I8  int8
	U   uint
	U64 uint64
	F32 float32
	F   float64
	S   string
}

type named struct {
	Renamed  string  `json:"renamed"`
	Skipped  string  `json:"-"`
	hidden   string  //lint:ignore U1000 checks that unexported fields are skipped
	Empty    string  `json:"empty,omitempty"`
	Zero     int     `json:"zero,omitzero"`
	Ptr      *int    `json:"ptr"`
	ForceReq *int    `json:"forceReq" jsonschema:"required"`
	ForceOpt string  `json:"forceOpt" jsonschema:"optional"`
	Untagged float64 // Go name kept, case preserved
}

type Base struct {
	ID   string `json:"id"`
	Note string `json:"note,omitempty"`
}

type withEmbed struct {
	Base
	Name string `json:"name"`
}

type withEmbedPtr struct {
	*Base
	Name string `json:"name"`
}

type withShadow struct {
	Base
	ID int `json:"id"` // shallower field wins
}

type withNamedEmbed struct {
	Base `json:"base"`
}

type withInlineEmbed struct {
	Base `json:",inline"`
	X    int `json:"x"`
}

type withFallback struct {
	Name  string         `json:"name"`
	Extra map[string]int `json:",embed"`
}

type deepA struct{ deepB }
type deepB struct {
	Inner string `json:"inner"`
}
type withUnexportedEmbed struct {
	deepA
	Top bool `json:"top"`
}

type tagged struct {
	Count  int               `json:"count" description:"How many, at most 10 (commas, quotes \"ok\")." jsonschema:"title=Count,minimum=1,maximum=10,default=5"`
	Ratio  float64           `json:"ratio" jsonschema:"exclusiveMinimum=0,exclusiveMaximum=1.5,multipleOf=0.25"`
	Name   string            `json:"name" jsonschema:"minLength=1,maxLength=20,pattern=^[a-z]+(\\,[a-z]+)*$"`
	Email  string            `json:"email" jsonschema:"format=email"`
	Tags   []string          `json:"tags" jsonschema:"minItems=1,maxItems=3,uniqueItems"`
	Meta   map[string]string `json:"meta" jsonschema:"minProperties=1,maxProperties=4"`
	Old    bool              `json:"old" jsonschema:"deprecated,readOnly"`
	Secret string            `json:"secret" jsonschema:"writeOnly=true,deprecated=false"`
	Kind   string            `json:"kind" jsonschema:"enum=a|b\\|c|d\\,e"`
	Level  int               `json:"level" jsonschema:"enum=1|2|3"`
	Scale  float32           `json:"scale" jsonschema:"enum=0.5|1|1e2"`
	Flag   bool              `json:"flag" jsonschema:"const=true"`
	When   time.Time         `json:"when" jsonschema:"format=date"`
	Pair   []int             `json:"pair" jsonschema:"default=[1\\,2]"`
	Fixed  string            `json:"fixed" jsonschema:"const=x"`
}

type nullables struct {
	N    int            `json:"n" jsonschema:"nullable"`
	E    string         `json:"e" jsonschema:"enum=a|b,nullable"`
	C    int            `json:"c" jsonschema:"const=3,nullable"`
	Any  any            `json:"any" jsonschema:"nullable"`
	Self *nullableNode  `json:"self" jsonschema:"nullable"`
	S    []string       `json:"s" jsonschema:"nullable,maxItems=2"`
	Raw  jsontext.Value `json:"raw"`
}

type nullableNode struct {
	Next *nullableNode `json:"next"`
}

type jsonOptions struct {
	Big      int64          `json:"big,string"`
	Unsigned uint32         `json:"unsigned,string"`
	Float    float64        `json:"float,string"`
	Units    time.Duration  `json:"units,format:units"`
	Nano     time.Duration  `json:"nano,format:nano"`
	Sec      time.Duration  `json:"sec,format:sec"`
	ISO      time.Duration  `json:"iso,format:iso8601"`
	Unix     time.Time      `json:"unix,format:unix"`
	Date     time.Time      `json:"date,format:DateOnly"`
	Kitchen  time.Time      `json:"kitchen,format:Kitchen"`
	Layout   time.Time      `json:"layout,format:'2006/01/02'"`
	Hex      []byte         `json:"hex,format:hex"`
	Array    [2]byte        `json:"array,format:array"`
	NullList []int          `json:"nullList,format:emitnull"`
	NullMap  map[string]int `json:"nullMap,format:emitnull"`
	NonFin   float64        `json:"nonFin,format:nonfinite"`
}

type marker struct {
	_    struct{} `jsonschema:"title=Marker,additionalProperties=false" description:"A struct that rejects unknown members."`
	Text string   `json:"text"`
}

// valueSchemer supplies its schema through a value receiver.
type valueSchemer struct{ x int }

func (valueSchemer) JSONSchema() jsontext.Value {
	return jsontext.Value(`{"type":"string", "pattern":"^v", "x-extra":1}`)
}

// ptrSchemer supplies its schema through a pointer receiver.
type ptrSchemer struct{ y int }

func (*ptrSchemer) JSONSchema() jsontext.Value {
	return jsontext.Value(`{"type":"object","properties":{"k":{"type":"integer"}}}`)
}

type withSchemers struct {
	V valueSchemer   `json:"v" description:"custom" jsonschema:"maxLength=3"`
	P *ptrSchemer    `json:"p"`
	L []valueSchemer `json:"l"`
}

type badSchemer struct{}

func (badSchemer) JSONSchema() jsontext.Value { return jsontext.Value(`{"type":`) }

type arraySchemer struct{}

func (arraySchemer) JSONSchema() jsontext.Value { return jsontext.Value(`[1]`) }

type Node struct {
	Name     string  `json:"name"`
	Children []*Node `json:"children,omitempty"`
}

type holdsNodes struct {
	First  Node   `json:"first" description:"the first tree"`
	Others []Node `json:"others"`
}

type Even struct {
	Next *Odd `json:"next,omitempty"`
}

type Odd struct {
	Next *Even `json:"next,omitempty"`
}

type holdsEven struct {
	E Even `json:"e"`
	O Odd  `json:"o"`
}

type List []List

type Tree map[string]Tree

type Tree2[T any] struct {
	V    T          `json:"v"`
	Kids []Tree2[T] `json:"kids"`
}

type holdsGeneric struct {
	T Tree2[Leaf] `json:"t"`
}

type Leaf struct {
	V int `json:"v"`
}

type twoLeaves struct {
	A Leaf  `json:"a"`
	B *Leaf `json:"b"`
}

type myByte byte

type textKey struct{ s string }

func (k textKey) MarshalText() ([]byte, error) { return []byte(k.s), nil }

// clashing returns two distinct recursive types that are both named Node.
func clashing() (reflect.Type, reflect.Type) {
	type Node struct {
		Up *Node `json:"up"`
	}
	a := reflect.TypeFor[Node]()
	b := func() reflect.Type {
		type Node struct {
			Down []Node `json:"down"`
		}
		return reflect.TypeFor[Node]()
	}()
	return a, b
}

func TestFor(t *testing.T) {
	clashA, clashB := clashing()
	clash := reflect.StructOf([]reflect.StructField{
		{Name: "A", Type: clashA, Tag: `json:"a"`},
		{Name: "B", Type: clashB, Tag: `json:"b"`},
		{Name: "C", Type: reflect.TypeFor[Node](), Tag: `json:"c"`},
	})
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"bool", reflect.TypeFor[bool](), `{"type":"boolean"}`},
		{"int", reflect.TypeFor[int](), `{"type":"integer"}`},
		{"int64", reflect.TypeFor[int64](), `{"type":"integer"}`},
		{"uint16", reflect.TypeFor[uint16](), `{"type":"integer","minimum":0}`},
		{"float32", reflect.TypeFor[float32](), `{"type":"number"}`},
		{"string", reflect.TypeFor[string](), `{"type":"string"}`},
		{"bytes", reflect.TypeFor[[]byte](), `{"type":"string","contentEncoding":"base64"}`},
		{"byte array", reflect.TypeFor[[4]byte](), `{"type":"string","contentEncoding":"base64"}`},
		{"named bytes are numbers", reflect.TypeFor[[]myByte](), `{"type":"array","items":{"type":"integer","minimum":0}}`},
		{"time", reflect.TypeFor[time.Time](), `{"type":"string","format":"date-time"}`},
		{"slice", reflect.TypeFor[[]string](), `{"type":"array","items":{"type":"string"}}`},
		{"array", reflect.TypeFor[[2]int](), `{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":2}`},
		{"map", reflect.TypeFor[map[string]float64](), `{"type":"object","additionalProperties":{"type":"number"}}`},
		{"map int keys", reflect.TypeFor[map[int]bool](), `{"type":"object","additionalProperties":{"type":"boolean"},"propertyNames":{"pattern":"^-?(0|[1-9][0-9]*)$"}}`},
		{"map text keys", reflect.TypeFor[map[textKey]int](), `{"type":"object","additionalProperties":{"type":"integer"}}`},
		{"any", reflect.TypeFor[any](), `{}`},
		{"jsontext.Value", reflect.TypeFor[jsontext.Value](), `{}`},
		{"json.RawMessage", reflect.TypeFor[stdjson.RawMessage](), `{}`},
		{"text marshaler", reflect.TypeFor[netip.Addr](), `{"type":"string"}`},
		{"pointer", reflect.TypeFor[**string](), `{"type":"string"}`},
		{"empty struct", reflect.TypeFor[struct{}](), `{"type":"object"}`},
		{"basic struct", reflect.TypeFor[basic](),
			`{"type":"object","properties":{"B":{"type":"boolean"},"I":{"type":"integer"},"I8":{"type":"integer"},"U":{"type":"integer","minimum":0},"U64":{"type":"integer","minimum":0},"F32":{"type":"number"},"F":{"type":"number"},"S":{"type":"string"}},"required":["B","I","I8","U","U64","F32","F","S"]}`},
		{"json names and required", reflect.TypeFor[named](),
			`{"type":"object","properties":{"renamed":{"type":"string"},"empty":{"type":"string"},"zero":{"type":"integer"},"ptr":{"type":"integer"},"forceReq":{"type":"integer"},"forceOpt":{"type":"string"},"Untagged":{"type":"number"}},"required":["renamed","forceReq","Untagged"]}`},
		{"embedded struct", reflect.TypeFor[withEmbed](),
			`{"type":"object","properties":{"id":{"type":"string"},"note":{"type":"string"},"name":{"type":"string"}},"required":["id","name"]}`},
		{"embedded pointer makes fields optional", reflect.TypeFor[withEmbedPtr](),
			`{"type":"object","properties":{"id":{"type":"string"},"note":{"type":"string"},"name":{"type":"string"}},"required":["name"]}`},
		{"shallower field wins", reflect.TypeFor[withShadow](),
			`{"type":"object","properties":{"note":{"type":"string"},"id":{"type":"integer"}},"required":["id"]}`},
		{"named embedded field is a member", reflect.TypeFor[withNamedEmbed](),
			`{"type":"object","properties":{"base":{"type":"object","properties":{"id":{"type":"string"},"note":{"type":"string"}},"required":["id"]}},"required":["base"]}`},
		{"inline on embedded struct", reflect.TypeFor[withInlineEmbed](),
			`{"type":"object","properties":{"id":{"type":"string"},"note":{"type":"string"},"x":{"type":"integer"}},"required":["id","x"]}`},
		{"embedded fallback map", reflect.TypeFor[withFallback](),
			`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":{"type":"integer"}}`},
		{"unexported embedded structs promote fields", reflect.TypeFor[withUnexportedEmbed](),
			`{"type":"object","properties":{"inner":{"type":"string"},"top":{"type":"boolean"}},"required":["inner","top"]}`},
		{"tags", reflect.TypeFor[tagged](),
			`{"type":"object","properties":{` +
				`"count":{"type":"integer","title":"Count","description":"How many, at most 10 (commas, quotes \"ok\").","default":5,"minimum":1,"maximum":10},` +
				`"ratio":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1.5,"multipleOf":0.25},` +
				`"name":{"type":"string","minLength":1,"maxLength":20,"pattern":"^[a-z]+(,[a-z]+)*$"},` +
				`"email":{"type":"string","format":"email"},` +
				`"tags":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":3,"uniqueItems":true},` +
				`"meta":{"type":"object","additionalProperties":{"type":"string"},"minProperties":1,"maxProperties":4},` +
				`"old":{"type":"boolean","deprecated":true,"readOnly":true},` +
				`"secret":{"type":"string","writeOnly":true},` +
				`"kind":{"type":"string","enum":["a","b|c","d,e"]},` +
				`"level":{"type":"integer","enum":[1,2,3]},` +
				`"scale":{"type":"number","enum":[0.5,1,1e2]},` +
				`"flag":{"type":"boolean","const":true},` +
				`"when":{"type":"string","format":"date"},` +
				`"pair":{"type":"array","default":[1,2],"items":{"type":"integer"}},` +
				`"fixed":{"type":"string","const":"x"}` +
				`},"required":["count","ratio","name","email","tags","meta","old","secret","kind","level","scale","flag","when","pair","fixed"]}`},
		{"nullable", reflect.TypeFor[nullables](),
			`{"type":"object","properties":{` +
				`"n":{"type":["integer","null"]},` +
				`"e":{"type":["string","null"],"enum":["a","b",null]},` +
				`"c":{"type":["integer","null"],"enum":[3,null]},` +
				`"any":{},` +
				`"self":{"anyOf":[{"$ref":"#/$defs/nullableNode"},{"type":"null"}]},` +
				`"s":{"type":["array","null"],"items":{"type":"string"},"maxItems":2},` +
				`"raw":{}` +
				`},"required":["n","e","c","any","s","raw"],` +
				`"$defs":{"nullableNode":{"type":"object","properties":{"next":{"$ref":"#/$defs/nullableNode"}}}}}`},
		{"json tag options", reflect.TypeFor[jsonOptions](),
			`{"type":"object","properties":{` +
				`"big":{"type":"string","pattern":"^-?(0|[1-9][0-9]*)$"},` +
				`"unsigned":{"type":"string","pattern":"^(0|[1-9][0-9]*)$"},` +
				`"float":{"type":"string"},` +
				`"units":{"type":"string"},` +
				`"nano":{"type":"integer"},` +
				`"sec":{"type":"number"},` +
				`"iso":{"type":"string","format":"duration"},` +
				`"unix":{"type":"number"},` +
				`"date":{"type":"string","format":"date"},` +
				`"kitchen":{"type":"string"},` +
				`"layout":{"type":"string"},` +
				`"hex":{"type":"string","contentEncoding":"base16"},` +
				`"array":{"type":"array","items":{"type":"integer","minimum":0,"maximum":255},"minItems":2,"maxItems":2},` +
				`"nullList":{"type":["array","null"],"items":{"type":"integer"}},` +
				`"nullMap":{"type":["object","null"],"additionalProperties":{"type":"integer"}},` +
				`"nonFin":{"anyOf":[{"type":"number"},{"enum":["NaN","Infinity","-Infinity"]}]}` +
				`},"required":["big","unsigned","float","units","nano","sec","iso","unix","date","kitchen","layout","hex","array","nullList","nullMap","nonFin"]}`},
		{"marker field", reflect.TypeFor[marker](),
			`{"type":"object","title":"Marker","description":"A struct that rejects unknown members.","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}`},
		{"schemers", reflect.TypeFor[withSchemers](),
			`{"type":"object","properties":{` +
				`"v":{"type":"string","description":"custom","maxLength":3,"pattern":"^v","x-extra":1},` +
				`"p":{"type":"object","properties":{"k":{"type":"integer"}}},` +
				`"l":{"type":"array","items":{"type":"string","pattern":"^v","x-extra":1}}` +
				`},"required":["v","l"]}`},
		{"schemer at top level", reflect.TypeFor[valueSchemer](), `{"type":"string","pattern":"^v","x-extra":1}`},
		{"pointer schemer at top level", reflect.TypeFor[ptrSchemer](), `{"type":"object","properties":{"k":{"type":"integer"}}}`},
		{"recursive root", reflect.TypeFor[Node](),
			`{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#"}}},"required":["name"]}`},
		{"recursive root through pointer", reflect.TypeFor[*Node](),
			`{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#"}}},"required":["name"]}`},
		{"recursive type inside", reflect.TypeFor[holdsNodes](),
			`{"type":"object","properties":{"first":{"$ref":"#/$defs/Node","description":"the first tree"},"others":{"type":"array","items":{"$ref":"#/$defs/Node"}}},"required":["first","others"],` +
				`"$defs":{"Node":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}},"required":["name"]}}}`},
		{"recursive slice in slice", reflect.TypeFor[[]Node](),
			`{"type":"array","items":{"$ref":"#/$defs/Node"},"$defs":{"Node":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}},"required":["name"]}}}`},
		{"mutual recursion at root", reflect.TypeFor[Even](),
			`{"type":"object","properties":{"next":{"type":"object","properties":{"next":{"$ref":"#"}}}}}`},
		{"mutual recursion inside", reflect.TypeFor[holdsEven](),
			`{"type":"object","properties":{"e":{"$ref":"#/$defs/Even"},"o":{"type":"object","properties":{"next":{"$ref":"#/$defs/Even"}}}},"required":["e","o"],` +
				`"$defs":{"Even":{"type":"object","properties":{"next":{"type":"object","properties":{"next":{"$ref":"#/$defs/Even"}}}}}}}`},
		{"recursive named slice", reflect.TypeFor[List](), `{"type":"array","items":{"$ref":"#"}}`},
		{"recursive named map", reflect.TypeFor[Tree](), `{"type":"object","additionalProperties":{"$ref":"#"}}`},
		{"generic recursive type", reflect.TypeFor[holdsGeneric](),
			`{"type":"object","properties":{"t":{"$ref":"#/$defs/Tree2_jsonschema.Leaf_"}},"required":["t"],` +
				`"$defs":{"Tree2_jsonschema.Leaf_":{"type":"object","properties":{"v":{"type":"object","properties":{"v":{"type":"integer"}},"required":["v"]},"kids":{"type":"array","items":{"$ref":"#/$defs/Tree2_jsonschema.Leaf_"}}},"required":["v","kids"]}}}`},
		{"repeated type is inlined", reflect.TypeFor[twoLeaves](),
			`{"type":"object","properties":{"a":{"type":"object","properties":{"v":{"type":"integer"}},"required":["v"]},"b":{"type":"object","properties":{"v":{"type":"integer"}},"required":["v"]}},"required":["a"]}`},
		{"name clash", clash,
			`{"type":"object","properties":{"a":{"$ref":"#/$defs/Node"},"b":{"$ref":"#/$defs/jsonschema.Node"},"c":{"$ref":"#/$defs/jsonschema.Node2"}},"required":["a","b","c"],` +
				`"$defs":{` +
				`"Node":{"type":"object","properties":{"up":{"$ref":"#/$defs/Node"}}},` +
				`"jsonschema.Node":{"type":"object","properties":{"down":{"type":"array","items":{"$ref":"#/$defs/jsonschema.Node"}}},"required":["down"]},` +
				`"jsonschema.Node2":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/jsonschema.Node2"}}},"required":["name"]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ForType(tt.typ)
			if err != nil {
				t.Fatalf("ForType(%v): %v", tt.typ, err)
			}
			if string(got) != tt.want {
				t.Errorf("ForType(%v)\n got: %s\nwant: %s", tt.typ, got, tt.want)
			}
			// Every inferred schema must compile.
			if _, err := Compile(got); err != nil {
				t.Errorf("Compile(%s): %v", got, err)
			}
			// And inference must be deterministic, not just cached.
			again := infer(tt.typ)
			if again.err != nil || !bytes.Equal(again.schema, got) {
				t.Errorf("second inference differs: %s, %v", again.schema, again.err)
			}
		})
	}
}

// The emitted schema must describe what encoding/json/v2 actually
// produces: marshal values of the test types and validate them.
func TestForMatchesEncoding(t *testing.T) {
	one := 1
	values := []any{
		basic{B: true, I: -1, U: 2, F: 1.5, S: "x"},
		named{Renamed: "r", Ptr: &one, ForceReq: &one},
		withEmbed{Base: Base{ID: "i"}, Name: "n"},
		withEmbedPtr{Name: "n"},
		withShadow{ID: 3},
		withNamedEmbed{},
		withFallback{Name: "n", Extra: map[string]int{"a": 1}},
		withUnexportedEmbed{},
		jsonOptions{Big: 1 << 60, Units: time.Second, Nano: 5, Sec: time.Millisecond, ISO: time.Hour, Unix: time.Unix(1, 0), Hex: []byte{1}},
		marker{Text: "t"},
		Node{Name: "a", Children: []*Node{{Name: "b"}}},
		holdsEven{E: Even{Next: &Odd{Next: &Even{}}}},
		List{List{}, List{List{}}},
		Tree{"a": Tree{"b": nil}},
		twoLeaves{B: &Leaf{}},
		map[int]bool{1: true, -2: false},
		[3]byte{1, 2, 3},
		time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	for _, v := range values {
		t.Run(fmt.Sprintf("%T", v), func(t *testing.T) {
			s, err := ForType(reflect.TypeOf(v))
			if err != nil {
				t.Fatal(err)
			}
			val, err := Compile(s)
			if err != nil {
				t.Fatal(err)
			}
			// Fields with format options need the experimental option.
			data, err := json.Marshal(v, json.ExperimentalSupportFormatTag(true))
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			if err := val.ValidateJSON(data); err != nil {
				t.Errorf("%s does not match its own schema %s: %v", data, s, err)
			}
		})
	}
}

type (
	badUnknown struct {
		Count int `json:"count" jsonschema:"minimun=1"`
	}
	badNumber struct {
		Count int `json:"count" jsonschema:"minimum=abc"`
	}
	badPattern struct {
		Name string `json:"name" jsonschema:"pattern=(["`
	}
	badApplies struct {
		Count int `json:"count" jsonschema:"minLength=1"`
	}
	badEnumValue struct {
		Count int `json:"count" jsonschema:"enum=1|two"`
	}
	badRange struct {
		Small int8 `json:"small" jsonschema:"default=300"`
	}
	badDuplicate struct {
		Count int `json:"count" jsonschema:"minimum=1,minimum=2"`
	}
	badContradiction struct {
		Count int `json:"count" jsonschema:"required,optional"`
	}
	badFlag struct {
		Tags []int `json:"tags" jsonschema:"uniqueItems=yes"`
	}
	badCount struct {
		Tags []int `json:"tags" jsonschema:"maxItems=-1"`
	}
	badLiteral struct {
		Tags []int `json:"tags" jsonschema:"default=1|2"`
	}
	badEmptyItem struct {
		Count int `json:"count" jsonschema:"minimum=1,,maximum=2"`
	}
	badMultipleOf struct {
		Count int `json:"count" jsonschema:"multipleOf=0"`
	}
	badChan struct {
		C chan int `json:"c"`
	}
	badFunc struct {
		F func() `json:"f"`
	}
	badComplex struct {
		C complex128 `json:"c"`
	}
	badDuration struct {
		D time.Duration `json:"d"`
	}
	badInline struct {
		B Base `json:"b,inline"`
	}
	badIgnoredTagged struct {
		X int `json:"-" jsonschema:"minimum=1"`
	}
	badEmbeddedNonStruct struct {
		myInt
	}
	badNoExported struct {
		a int
	}
	badSchemerField struct {
		S badSchemer `json:"s"`
	}
	badArraySchemer struct {
		S arraySchemer `json:"s"`
	}
	badRefAdditional struct {
		N *Node `json:"n" jsonschema:"additionalProperties=false"`
	}
	badStringOption struct {
		S string `json:"s,string"`
	}
	badFormatOption struct {
		I int `json:"i,format:hex"`
	}
	badMapKey struct {
		M map[bool]int `json:"m"`
	}
	badMarkerKeyword struct {
		_ struct{} `jsonschema:"required"`
		X int      `json:"x"`
	}
	badMarkerApplies struct {
		_ struct{} `jsonschema:"minLength=1"`
		X int      `json:"x"`
	}
	badEmbeddedTagged struct {
		Base `description:"no"`
	}
	badNested struct {
		Inner struct {
			Count int `json:"count" jsonschema:"bogus"`
		} `json:"inner"`
	}
	badFormatValue struct {
		S string `json:"s" jsonschema:"format="`
	}
	badTitle struct {
		S string `json:"s" jsonschema:"title"`
	}
	badTimeFormat struct {
		T time.Time `json:"t,format:Tomorrow"`
	}
	badTimeString struct {
		T time.Time `json:"t,string"`
	}
	badSchemerPanics struct {
		P panicSchemer `json:"p"`
	}
	badRepeatedEnum struct {
		Lang string `json:"lang" jsonschema:"enum=en,enum=fr"`
	}
)

type panicSchemer struct{ m map[string]int }

func (p panicSchemer) JSONSchema() jsontext.Value {
	p.m["x"] = 1 // nil map: panics on the zero value
	return nil
}

type myInt int

func TestForErrors(t *testing.T) {
	tests := []struct {
		typ  reflect.Type
		want []string // substrings of the error
	}{
		{reflect.TypeFor[badUnknown](), []string{"badUnknown.Count", `unknown keyword "minimun"`}},
		{reflect.TypeFor[badProse](), []string{"badProse.Name", `a description goes in its own tag`}},
		{reflect.TypeFor[badNumber](), []string{"badNumber.Count", `"minimum" needs a JSON number`}},
		{reflect.TypeFor[badPattern](), []string{"badPattern.Name", "invalid regular expression"}},
		{reflect.TypeFor[badApplies](), []string{"badApplies.Count", `"minLength" applies to string values`, "integer"}},
		{reflect.TypeFor[badEnumValue](), []string{"badEnumValue.Count", "enum", "value 2", `"two"`}},
		{reflect.TypeFor[badRange](), []string{"badRange.Small", "int8", `"300"`}},
		{reflect.TypeFor[badDuplicate](), []string{"badDuplicate.Count", `"minimum" appears more than once`}},
		{reflect.TypeFor[badRepeatedEnum](), []string{"badRepeatedEnum.Lang", `"enum" appears more than once`, "enum=a|b|c"}},
		{reflect.TypeFor[badContradiction](), []string{"badContradiction.Count", "contradict"}},
		{reflect.TypeFor[badFlag](), []string{"badFlag.Tags", `"uniqueItems"`, `"yes"`}},
		{reflect.TypeFor[badCount](), []string{"badCount.Tags", `"maxItems" needs a non-negative integer`}},
		{reflect.TypeFor[badLiteral](), []string{"badLiteral.Tags", `"default"`, "want a JSON value"}},
		{reflect.TypeFor[badEmptyItem](), []string{"badEmptyItem.Count", "empty item"}},
		{reflect.TypeFor[badMultipleOf](), []string{"badMultipleOf.Count", "greater than 0"}},
		{reflect.TypeFor[badChan](), []string{"badChan.C", "chan int", "no JSON representation"}},
		{reflect.TypeFor[badFunc](), []string{"badFunc.F", "no JSON representation"}},
		{reflect.TypeFor[badComplex](), []string{"badComplex.C", "complex128"}},
		{reflect.TypeFor[badDuration](), []string{"badDuration.D", "time.Duration has no default representation", "format:units"}},
		{reflect.TypeFor[badInline](), []string{"badInline.B", "inline", "embed"}},
		{reflect.TypeFor[badIgnoredTagged](), []string{"badIgnoredTagged.X", "not part of the JSON representation"}},
		{reflect.TypeFor[badEmbeddedNonStruct](), []string{"badEmbeddedNonStruct.myInt", "needs a JSON name"}},
		// Built at run time: go vet rejects duplicate json names in source.
		{reflect.StructOf([]reflect.StructField{
			{Name: "A", Type: reflect.TypeFor[int](), Tag: `json:"x"`},
			{Name: "B", Type: reflect.TypeFor[int](), Tag: `json:"x"`},
		}), []string{"A and B", `"x"`}},
		{reflect.TypeFor[badNoExported](), []string{"badNoExported", "no exported fields"}},
		{reflect.TypeFor[badSchemerField](), []string{"badSchemerField.S", "JSONSchema", "invalid schema"}},
		{reflect.TypeFor[badArraySchemer](), []string{"badArraySchemer.S", "JSON object or boolean"}},
		{reflect.TypeFor[badRefAdditional](), []string{"badRefAdditional.N", `"additionalProperties" needs a schema of type object`}},
		{reflect.TypeFor[badStringOption](), []string{"badStringOption.S", "string applies only to numbers"}},
		{reflect.TypeFor[badFormatOption](), []string{"badFormatOption.I", "format:hex"}},
		{reflect.TypeFor[badMapKey](), []string{"badMapKey.M", "map key type bool"}},
		{reflect.TypeFor[badMarkerKeyword](), []string{"badMarkerKeyword._", `"required"`, "marker"}},
		{reflect.TypeFor[badMarkerApplies](), []string{"badMarkerApplies._", `"minLength"`, "object"}},
		{reflect.TypeFor[badEmbeddedTagged](), []string{"badEmbeddedTagged.Base", "embedded"}},
		{reflect.TypeFor[badNested](), []string{".Count", `unknown keyword "bogus"`}},
		{reflect.TypeFor[badFormatValue](), []string{"badFormatValue.S", "format name"}},
		{reflect.TypeFor[badTitle](), []string{"badTitle.S", `"title" needs a value`}},
		{reflect.TypeFor[badTimeFormat](), []string{"badTimeFormat.T", "format:Tomorrow"}},
		{reflect.TypeFor[badTimeString](), []string{"badTimeString.T", "numeric time format"}},
		{reflect.TypeFor[badSchemerPanics](), []string{"badSchemerPanics.P", "JSONSchema", "panicked"}},
		{reflect.TypeFor[chan int](), []string{"chan int"}},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String(), func(t *testing.T) {
			got, err := ForType(tt.typ)
			if err == nil {
				t.Fatalf("ForType(%v) = %s, want an error", tt.typ, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "jsonschema: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := ForType(nil); err == nil {
		t.Error("ForType(nil) succeeded")
	}
}

type objectSchemer struct{}

func (objectSchemer) JSONSchema() jsontext.Value { return jsontext.Value(`{"type":"object"}`) }

func TestForObject(t *testing.T) {
	check := func(name string, got jsontext.Value, err error, wantErr bool) {
		t.Helper()
		if (err != nil) != wantErr {
			t.Errorf("%s: got %s, err %v; want error: %v", name, got, err, wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "does not describe a JSON object") && !strings.Contains(err.Error(), "no JSON representation") {
			t.Errorf("%s: unexpected error text %q", name, err)
		}
	}
	s, err := ForObject[basic]()
	check("struct", s, err, false)
	s, err = ForObject[*withEmbed]()
	check("pointer to struct", s, err, false)
	s, err = ForObject[map[string]any]()
	check("map", s, err, false)
	s, err = ForObject[objectSchemer]()
	check("object schemer", s, err, false)
	s, err = ForObject[int]()
	check("int", s, err, true)
	s, err = ForObject[[]basic]()
	check("slice", s, err, true)
	s, err = ForObject[any]()
	check("any", s, err, true)
	s, err = ForObject[valueSchemer]()
	check("string schemer", s, err, true)
	s, err = ForObject[nullableMap]()
	check("nullable map", s, err, false)
	s, err = ForObject[chan int]()
	check("chan", s, err, true)
}

type nullableMap map[string]int

func TestForReturnsCopy(t *testing.T) {
	a, err := For[basic]()
	if err != nil {
		t.Fatal(err)
	}
	want := string(a)
	for i := range a {
		a[i] = 'x'
	}
	b, _ := For[basic]()
	if string(b) != want {
		t.Fatalf("cached schema was modified through a returned value: %s", b)
	}
}

func TestForConcurrent(t *testing.T) {
	types := []reflect.Type{
		reflect.TypeFor[basic](), reflect.TypeFor[tagged](), reflect.TypeFor[holdsNodes](),
		reflect.TypeFor[Node](), reflect.TypeFor[holdsEven](), reflect.TypeFor[badUnknown](),
		reflect.TypeFor[jsonOptions](), reflect.TypeFor[withSchemers](),
	}
	want := make([]string, len(types))
	for i, typ := range types {
		r := infer(typ)
		want[i] = string(r.schema) + fmt.Sprint(r.err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				k := (g + i) % len(types)
				s, err := ForType(types[k])
				if got := string(s) + fmt.Sprint(err); got != want[k] {
					t.Errorf("ForType(%v) = %s, want %s", types[k], got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSplitEscaped(t *testing.T) {
	tests := []struct {
		in   string
		sep  byte
		unBS bool
		want []string
	}{
		{`a,b`, ',', false, []string{"a", "b"}},
		{`a\,b,c`, ',', false, []string{"a,b", "c"}},
		{`^\d+$,x`, ',', false, []string{`^\d+$`, "x"}},
		{`a\\,b`, ',', false, []string{`a\\`, "b"}},
		{`a|b\|c`, '|', true, []string{"a", "b|c"}},
		{`a\\|b`, '|', true, []string{`a\`, "b"}},
		{``, ',', false, []string{""}},
	}
	for _, tt := range tests {
		got := splitEscaped(tt.in, tt.sep, tt.unBS)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitEscaped(%q, %q) = %q, want %q", tt.in, tt.sep, got, tt.want)
		}
	}
}

func TestParseJSONTag(t *testing.T) {
	tests := []struct {
		tag  string
		want jsonTag
	}{
		{``, jsonTag{}},
		{`name`, jsonTag{name: "name"}},
		{`name,omitempty`, jsonTag{name: "name", omitempty: true}},
		{`,omitzero,string`, jsonTag{omitzero: true, str: true}},
		{`t,format:'2006-01-02, Mon'`, jsonTag{name: "t", format: "2006-01-02, Mon"}},
		{`t,format:unix,omitempty`, jsonTag{name: "t", format: "unix", omitempty: true}},
		{`,embed`, jsonTag{embed: true}},
		{`x,case:ignore`, jsonTag{name: "x", caseOpt: true}},
	}
	for _, tt := range tests {
		got, err := parseJSONTag(tt.tag)
		if err != nil || got != tt.want {
			t.Errorf("parseJSONTag(%q) = %+v, %v; want %+v", tt.tag, got, err, tt.want)
		}
	}
	for _, bad := range []string{`'quoted'`, `x,format:'unterminated`, `x,format:`, `-,`, `x,,omitempty`} {
		if _, err := parseJSONTag(bad); err == nil {
			t.Errorf("parseJSONTag(%q) succeeded", bad)
		}
	}
}

// badProse uses the go-sdk convention of a description in the jsonschema
// tag.
type badProse struct {
	Name string `json:"name" jsonschema:"the name of the thing"`
}
