package jsonrpc

import (
	"errors"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// ID is a JSON-RPC request id: a string or an integer. The zero ID is
// "absent", which is what a notification carries.
//
// IDs are comparable and can be used as map keys. A string id "1" and an
// integer id 1 are different ids.
type ID struct {
	str   string
	num   int64
	isStr bool
	valid bool
}

// Int64ID returns an integer id.
func Int64ID(n int64) ID { return ID{num: n, valid: true} }

// StringID returns a string id.
func StringID(s string) ID { return ID{str: s, isStr: true, valid: true} }

// IsValid reports whether the id is present.
func (id ID) IsValid() bool { return id.valid }

// IsString reports whether the id is a string id.
func (id ID) IsString() bool { return id.isStr }

// Int64 returns the integer value of an integer id, and false for any other id.
func (id ID) Int64() (int64, bool) { return id.num, id.valid && !id.isStr }

// Str returns the value of a string id, and false for any other id.
func (id ID) Str() (string, bool) { return id.str, id.isStr }

// String formats the id for logs: strings are quoted, integers are not.
func (id ID) String() string {
	switch {
	case !id.valid:
		return "<no id>"
	case id.isStr:
		return strconv.Quote(id.str)
	default:
		return strconv.FormatInt(id.num, 10)
	}
}

// AppendJSON appends the JSON encoding of the id (null when absent).
func (id ID) AppendJSON(b []byte) []byte {
	switch {
	case !id.valid:
		return append(b, "null"...)
	case id.isStr:
		v, _ := jsontext.AppendQuote(b, id.str)
		return v
	default:
		return strconv.AppendInt(b, id.num, 10)
	}
}

// MarshalJSON implements json.Marshaler.
func (id ID) MarshalJSON() ([]byte, error) { return id.AppendJSON(nil), nil }

var errBadID = errors.New("jsonrpc: id must be a string or an integer")

// UnmarshalJSON implements json.Unmarshaler. It accepts a JSON string, a JSON
// number with an integral value (1 and 1.0 are both the integer 1), or null
// (the absent id). Fractional and out-of-range numbers are rejected.
func (id *ID) UnmarshalJSON(b []byte) error {
	v, err := parseID(b)
	if err != nil {
		return err
	}
	*id = v
	return nil
}

func parseID(b []byte) (ID, error) {
	if len(b) == 0 {
		return ID{}, errBadID
	}
	switch b[0] {
	case 'n':
		if string(b) == "null" {
			return ID{}, nil
		}
	case '"':
		s, err := jsontext.AppendUnquote(nil, b)
		if err != nil {
			return ID{}, errBadID
		}
		return StringID(string(s)), nil
	default:
		if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			return Int64ID(n), nil
		}
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil || f != float64(int64(f)) || f > 1<<53 || f < -(1<<53) {
			return ID{}, errBadID
		}
		return Int64ID(int64(f)), nil
	}
	return ID{}, errBadID
}
