package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// decoderState is a reusable decoder; decoding a tool call's arguments
// should not pay for setting one up every time.
type decoderState struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var decoders = sync.Pool{New: func() any { return new(decoderState) }}

// emptyReader is what pooled decoders point at between uses, so that they
// do not keep the last input alive.
var emptyReader = new(bytes.Buffer)

// decodeOptions tune decodeAny.
type decodeOptions struct {
	// names maps object member names expected in instances to themselves,
	// so that decoding reuses those strings instead of allocating.
	names map[string]string
	// smallInts decodes integers that fit in 18 digits as int64 (boxing
	// small ones costs nothing); everything else is a json.Number.
	smallInts bool
}

// decodeAny decodes one JSON value into the representation the validator
// works on: map[string]any, []any, string, bool, nil, and, for numbers,
// json.Number (or int64, see decodeOptions) so that large integers and
// long decimals stay exact.
func decodeAny(data []byte, opts decodeOptions) (any, error) {
	s := decoders.Get().(*decoderState)
	// The decoder reads a *bytes.Buffer in place, without copying.
	s.buf = *bytes.NewBuffer(data)
	s.dec.Reset(&s.buf)
	v, err := decodeValue(&s.dec, &opts, 0)
	if err == nil {
		if _, err2 := s.dec.ReadToken(); err2 != io.EOF {
			if err2 == nil {
				err2 = errors.New("unexpected data after the top-level JSON value")
			}
			err = err2
		}
	}
	s.dec.Reset(emptyReader)
	s.buf = bytes.Buffer{}
	decoders.Put(s)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// MaxDepth is the deepest nesting of arrays and objects that
// [Validator.ValidateJSON] and [Compile] accept. Real tool arguments are
// nowhere near it; the limit keeps the cost of validating (and of
// reporting errors for) adversarial input against recursive schemas small.
const MaxDepth = 512

var errTooDeep = fmt.Errorf("JSON nesting is deeper than %d levels", MaxDepth)

func decodeValue(dec *jsontext.Decoder, opts *decodeOptions, depth int) (any, error) {
	switch dec.PeekKind() {
	case '{', '[':
		if depth >= MaxDepth {
			return nil, errTooDeep
		}
	}
	switch dec.PeekKind() {
	case '{':
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		obj := make(map[string]any)
		for dec.PeekKind() != '}' {
			raw, err := dec.ReadValue()
			if err != nil {
				return nil, err
			}
			key, err := unquote(raw, opts.names)
			if err != nil {
				return nil, err
			}
			val, err := decodeValue(dec, opts, depth+1)
			if err != nil {
				return nil, err
			}
			obj[key] = val
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		return obj, nil
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		arr := []any{}
		for dec.PeekKind() != ']' {
			val, err := decodeValue(dec, opts, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, val)
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		return arr, nil
	case '"':
		raw, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		return unquote(raw, nil)
	case '0':
		raw, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		if opts.smallInts {
			if n, ok := parseSmallInt(raw); ok {
				return n, nil
			}
		}
		return json.Number(raw), nil
	case 't', 'f', 'n':
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		switch tok.Kind() {
		case 't':
			return true, nil
		case 'f':
			return false, nil
		}
		return nil, nil
	}
	// Invalid or truncated input: let the decoder describe the problem.
	_, err := dec.ReadToken()
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// unquote returns the contents of the JSON string raw (which the decoder
// has already checked), reusing a string from names when one matches.
func unquote(raw jsontext.Value, names map[string]string) (string, error) {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		if s, ok := names[string(body)]; ok {
			return s, nil
		}
		return string(body), nil
	}
	b, err := jsontext.AppendUnquote(nil, raw)
	if err != nil {
		return "", err
	}
	if s, ok := names[string(b)]; ok {
		return s, nil
	}
	return string(b), nil
}
