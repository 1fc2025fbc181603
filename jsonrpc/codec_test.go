package jsonrpc

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  Message
		code  int64 // expected DecodeError code, 0 for success
		errID ID
	}{
		{"request int id", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"a":1}}`,
			&Request{ID: Int64ID(1), Method: "tools/call", Params: []byte(`{"a":1}`)}, 0, ID{}},
		{"request string id", `{"id":"x-1","jsonrpc":"2.0","method":"m"}`,
			&Request{ID: StringID("x-1"), Method: "m"}, 0, ID{}},
		{"integral float id", `{"jsonrpc":"2.0","id":7.0,"method":"m"}`,
			&Request{ID: Int64ID(7), Method: "m"}, 0, ID{}},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			&Request{Method: "notifications/initialized"}, 0, ID{}},
		{"escaped method", `{"jsonrpc":"2.0","id":1,"method":"a\/b"}`,
			&Request{ID: Int64ID(1), Method: "a/b"}, 0, ID{}},
		{"array params", `{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2]}`,
			&Request{ID: Int64ID(1), Method: "m", Params: []byte(`[1,2]`)}, 0, ID{}},
		{"unknown members ignored", `{"jsonrpc":"2.0","id":1,"method":"m","extra":{"x":[1]}}`,
			&Request{ID: Int64ID(1), Method: "m"}, 0, ID{}},
		{"whitespace", " \n{ \"jsonrpc\" : \"2.0\" , \"id\" : 2 , \"result\" : { } }\n",
			&Response{ID: Int64ID(2), Result: []byte(`{ }`)}, 0, ID{}},
		{"result null", `{"jsonrpc":"2.0","id":2,"result":null}`,
			&Response{ID: Int64ID(2), Result: []byte(`null`)}, 0, ID{}},
		{"error response", `{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"nope","data":{"k":1}}}`,
			&Response{ID: StringID("a"), Error: &Error{Code: -32601, Message: "nope", Data: []byte(`{"k":1}`)}}, 0, ID{}},
		{"error response null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}`,
			&Response{Error: &Error{Code: -32700, Message: "bad"}}, 0, ID{}},

		{"empty", ``, nil, CodeParseError, ID{}},
		{"truncated", `{"jsonrpc":"2.0","id":1,"method":"m"`, nil, CodeParseError, ID{}},
		{"garbage", `hello`, nil, CodeParseError, ID{}},
		{"trailing data", `{"jsonrpc":"2.0","id":1,"method":"m"} {}`, nil, CodeParseError, ID{}},
		{"duplicate member", `{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}`, nil, CodeParseError, ID{}},
		{"invalid utf8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\xff\"}", nil, CodeParseError, ID{}},
		{"not an object", `[1]`, nil, CodeInvalidRequest, ID{}},
		{"string", `"x"`, nil, CodeInvalidRequest, ID{}},
		{"wrong version", `{"jsonrpc":"1.0","id":3,"method":"m"}`, nil, CodeInvalidRequest, Int64ID(3)},
		{"missing version", `{"id":3,"method":"m"}`, nil, CodeInvalidRequest, Int64ID(3)},
		{"version case", `{"JSONRPC":"2.0","id":3,"method":"m"}`, nil, CodeInvalidRequest, Int64ID(3)},
		{"method case", `{"jsonrpc":"2.0","id":3,"Method":"m"}`, nil, CodeInvalidRequest, Int64ID(3)},
		{"null id request", `{"jsonrpc":"2.0","id":null,"method":"m"}`, nil, CodeInvalidRequest, ID{}},
		{"fractional id", `{"jsonrpc":"2.0","id":1.5,"method":"m"}`, nil, CodeInvalidRequest, ID{}},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"m"}`, nil, CodeInvalidRequest, ID{}},
		{"numeric method", `{"jsonrpc":"2.0","id":1,"method":5}`, nil, CodeInvalidRequest, ID{}},
		{"scalar params", `{"jsonrpc":"2.0","id":4,"method":"m","params":5}`, nil, CodeInvalidRequest, Int64ID(4)},
		{"request with result", `{"jsonrpc":"2.0","id":4,"method":"m","result":{}}`, nil, CodeInvalidRequest, Int64ID(4)},
		{"response with both", `{"jsonrpc":"2.0","id":4,"result":{},"error":{"code":1,"message":""}}`, nil, CodeInvalidRequest, Int64ID(4)},
		{"response with neither", `{"jsonrpc":"2.0","id":4}`, nil, CodeInvalidRequest, Int64ID(4)},
		{"no method no id", `{"jsonrpc":"2.0"}`, nil, CodeInvalidRequest, ID{}},
		{"malformed error", `{"jsonrpc":"2.0","id":4,"error":"boom"}`, nil, CodeInvalidRequest, Int64ID(4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if tt.code != 0 {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("Decode(%q) = %#v, %v; want DecodeError %d", tt.in, got, err, tt.code)
				}
				if de.Code != tt.code || de.ID != tt.errID {
					t.Fatalf("Decode(%q) error code %d id %v, want %d id %v (%v)", tt.in, de.Code, de.ID, tt.code, tt.errID, de)
				}
				if got != nil {
					t.Fatalf("Decode(%q) returned a message with an error", tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%q): %v", tt.in, err)
			}
			if !equalMessage(got, tt.want) {
				t.Fatalf("Decode(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func equalMessage(a, b Message) bool {
	switch a := a.(type) {
	case *Request:
		b, ok := b.(*Request)
		return ok && a.ID == b.ID && a.Method == b.Method && bytes.Equal(a.Params, b.Params)
	case *Response:
		b, ok := b.(*Response)
		if !ok || a.ID != b.ID || !bytes.Equal(a.Result, b.Result) || (a.Error == nil) != (b.Error == nil) {
			return false
		}
		return a.Error == nil || (a.Error.Code == b.Error.Code && a.Error.Message == b.Error.Message && bytes.Equal(a.Error.Data, b.Error.Data))
	}
	return false
}

func TestEncodeRoundTrip(t *testing.T) {
	msgs := []Message{
		&Request{ID: Int64ID(42), Method: "tools/call", Params: []byte(`{"name":"echo"}`)},
		&Request{ID: StringID("a\"b\n"), Method: "ping"},
		&Request{Method: "notifications/progress", Params: []byte(`{"progress":1}`)},
		&Response{ID: Int64ID(-1), Result: []byte(`{"ok":true}`)},
		&Response{ID: StringID("z"), Error: &Error{Code: CodeInvalidParams, Message: "bad \"x\"", Data: []byte(`[1]`)}},
	}
	for _, m := range msgs {
		b := AppendMessage(nil, m)
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(%s): %v", b, err)
		}
		if !equalMessage(got, m) {
			t.Fatalf("round trip of %s gave %#v", b, got)
		}
	}
	// A response without a result encodes an empty object.
	if got := string(AppendResponse(nil, &Response{ID: Int64ID(1)})); got != `{"jsonrpc":"2.0","id":1,"result":{}}` {
		t.Fatalf("empty result encoded as %s", got)
	}
}

func TestAppendResult(t *testing.T) {
	b, err := AppendResult(nil, StringID("q"), map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"jsonrpc":"2.0","id":"q","result":{"a":1}}` {
		t.Fatalf("got %s", b)
	}
	if _, err := AppendResult(nil, Int64ID(1), make(chan int)); err == nil {
		t.Fatal("marshalling a channel succeeded")
	}
}

func TestDecodeBatch(t *testing.T) {
	msgs, errs, isBatch, err := DecodeBatch([]byte(` [{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"},{"bad":1}]`))
	if err != nil || !isBatch || len(msgs) != 3 {
		t.Fatalf("got %v %v %v %v", msgs, errs, isBatch, err)
	}
	if errs[0] != nil || errs[1] != nil || errs[2] == nil {
		t.Fatalf("errs = %v", errs)
	}
	if _, _, _, err := DecodeBatch([]byte(`[]`)); err == nil {
		t.Fatal("empty batch accepted")
	}
	if _, _, _, err := DecodeBatch([]byte(`[{]`)); err == nil {
		t.Fatal("malformed batch accepted")
	}
	msgs, _, isBatch, err = DecodeBatch([]byte(`{"jsonrpc":"2.0","id":1,"method":"a"}`))
	if err != nil || isBatch || len(msgs) != 1 {
		t.Fatalf("single: %v %v %v", msgs, isBatch, err)
	}
}

func TestIDJSON(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ID
		bad  bool
	}{
		{`1`, Int64ID(1), false}, {`-5`, Int64ID(-5), false}, {`"s"`, StringID("s"), false},
		{`""`, StringID(""), false}, {`null`, ID{}, false}, {`1e3`, Int64ID(1000), false},
		{`1.25`, ID{}, true}, {`true`, ID{}, true}, {`[]`, ID{}, true}, {`1e300`, ID{}, true}, {``, ID{}, true},
	} {
		var id ID
		err := id.UnmarshalJSON([]byte(tt.in))
		if (err != nil) != tt.bad || (!tt.bad && id != tt.want) {
			t.Errorf("UnmarshalJSON(%s) = %v, %v", tt.in, id, err)
		}
	}
	if StringID("1") == Int64ID(1) {
		t.Fatal(`string id "1" equals integer id 1`)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":"a","result":{}}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"m"}}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"a"}]`, `{`, `null`, `{"id":1e400}`, "\xef\xbb\xbf{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := append([]byte(nil), data...)
		msgs, errs, _, err := DecodeBatch(in)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || (de.Code != CodeParseError && de.Code != CodeInvalidRequest) {
				t.Fatalf("unexpected error type %T %v", err, err)
			}
			return
		}
		for i, m := range msgs {
			if errs != nil && errs[i] != nil {
				continue
			}
			// Whatever decodes must re-encode to something that decodes to the same message.
			b := AppendMessage(nil, m)
			m2, err := Decode(b)
			if err != nil {
				t.Fatalf("re-decoding %s (from %q): %v", b, data, err)
			}
			if !equalMessage(m, m2) {
				t.Fatalf("round trip changed %#v to %#v", m, m2)
			}
		}
	})
}

func BenchmarkDecodeRequest(b *testing.B) {
	data := []byte(`{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendResult(b *testing.B) {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type result struct {
		Content []text `json:"content"`
	}
	r := &result{Content: []text{{"text", "hello"}}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendResult(buf[:0], Int64ID(17), r); err != nil {
			b.Fatal(err)
		}
	}
}
