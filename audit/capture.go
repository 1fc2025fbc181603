package audit

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// Capture says what the trail keeps of arguments and answers.
type Capture string

// Capture modes.
const (
	// CaptureShape keeps the structure with every value replaced by its
	// JSON type ("string", "number", "boolean", "null"; an array by the
	// shape of its first element). The default.
	CaptureShape Capture = "shape"
	// CaptureValues keeps the values, less what the Redactor hides.
	CaptureValues Capture = "values"
	// CaptureNone keeps nothing.
	CaptureNone Capture = "none"
)

// Redacted replaces a hidden value.
const Redacted = "[REDACTED]"

// Limits of a captured value.
const (
	maxCaptureDepth = 16
	maxCaptureKeys  = 256
	maxCaptureItems = 256
	// maxNumberBytes bounds a number kept as a number.
	maxNumberBytes = 64
	// DefaultMaxValueBytes bounds a captured string value.
	DefaultMaxValueBytes = 4096
)

// Redactor hides values when arguments are captured with their values.
type Redactor struct {
	// Keys are object member names whose values are hidden, matched
	// case-insensitively as path.Match patterns ("password", "*token*",
	// "api_key").
	Keys []string
	// Patterns hide the parts of string values they match.
	Patterns []*regexp.Regexp
	// MaxValueBytes truncates longer strings (0: DefaultMaxValueBytes).
	MaxValueBytes int
}

// DefaultRedactKeys are the member names hidden when no Keys are
// configured.
var DefaultRedactKeys = []string{"*password*", "*passwd*", "*secret*", "*token*", "*api_key*", "*apikey*", "authorization", "*credential*", "cookie", "*private_key*"}

// NewRedactor compiles keys and patterns (regular expressions, RE2
// syntax). Nil keys mean DefaultRedactKeys.
func NewRedactor(keys, patterns []string, maxValueBytes int) (*Redactor, error) {
	r := &Redactor{MaxValueBytes: maxValueBytes}
	if keys == nil {
		keys = DefaultRedactKeys
	}
	for _, k := range keys {
		k = strings.ToLower(k)
		if _, err := path.Match(k, ""); err != nil {
			return nil, fmt.Errorf("audit: redaction key %q: %v", k, err)
		}
		r.Keys = append(r.Keys, k)
	}
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("audit: redaction pattern %q: %v", p, err)
		}
		r.Patterns = append(r.Patterns, re)
	}
	return r, nil
}

func (r *Redactor) hidesKey(name string) bool {
	if r == nil || len(r.Keys) == 0 {
		return false
	}
	l := strings.ToLower(name)
	for _, k := range r.Keys {
		if ok, _ := path.Match(k, l); ok {
			return true
		}
	}
	return false
}

func (r *Redactor) str(s string) string {
	if r != nil {
		for _, re := range r.Patterns {
			s = re.ReplaceAllString(s, Redacted)
		}
	}
	max := DefaultMaxValueBytes
	if r != nil && r.MaxValueBytes > 0 {
		max = r.MaxValueBytes
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = fmt.Sprintf("%s…(%d more bytes)", s[:cut], len(s)-cut)
	}
	return s
}

// finiteNumber reports whether a JSON number literal reads as a finite
// float64.
func finiteNumber(lit string) bool {
	_, err := strconv.ParseFloat(lit, 64)
	return err == nil
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// CaptureJSON returns what the trail keeps of a JSON value in mode: its
// shape, its values less what r hides, or nothing. Invalid JSON is
// recorded as the string "<invalid JSON>".
func CaptureJSON(raw jsontext.Value, mode Capture, r *Redactor) jsontext.Value {
	if len(raw) == 0 || mode == CaptureNone {
		return nil
	}
	if mode != CaptureValues {
		mode = CaptureShape
	}
	cd := coders.Get().(*coder)
	defer cd.put()
	cd.r.Reset(raw)
	cd.dec.Reset(&cd.r)
	cd.buf.Reset()
	cd.enc.Reset(&cd.buf)
	c := capturer{mode: mode, r: r}
	if err := c.value(&cd.dec, &cd.enc, 0); err != nil {
		return jsontext.Value(`"<invalid JSON>"`)
	}
	return bytes.Clone(bytes.TrimRight(cd.buf.Bytes(), "\n"))
}

// coder is a reusable decoder and encoder (both are large).
type coder struct {
	r   bytes.Reader
	dec jsontext.Decoder
	buf bytes.Buffer
	enc jsontext.Encoder
}

var coders = sync.Pool{New: func() any { return new(coder) }}

func (c *coder) put() {
	c.r.Reset(nil)
	c.dec.Reset(&c.r)
	if c.buf.Cap() > 64<<10 {
		c.buf = bytes.Buffer{}
	}
	c.enc.Reset(&c.buf)
	coders.Put(c)
}

type capturer struct {
	mode Capture
	r    *Redactor
}

func (c *capturer) value(dec *jsontext.Decoder, enc *jsontext.Encoder, depth int) error {
	kind := dec.PeekKind()
	if depth > maxCaptureDepth && (kind == '{' || kind == '[') {
		if err := dec.SkipValue(); err != nil {
			return err
		}
		return enc.WriteToken(jsontext.String("…"))
	}
	switch kind {
	case '{':
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		n := 0
		for dec.PeekKind() != '}' {
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			name := tok.String()
			if n >= maxCaptureKeys {
				if err := dec.SkipValue(); err != nil {
					return err
				}
				continue
			}
			n++
			if err := enc.WriteToken(jsontext.String(name)); err != nil {
				return err
			}
			if c.mode == CaptureValues && c.r.hidesKey(name) {
				if err := dec.SkipValue(); err != nil {
					return err
				}
				if err := enc.WriteToken(jsontext.String(Redacted)); err != nil {
					return err
				}
				continue
			}
			if err := c.value(dec, enc, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		return enc.WriteToken(jsontext.EndObject)
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		limit := maxCaptureItems
		if c.mode == CaptureShape {
			limit = 1
		}
		for i := 0; dec.PeekKind() != ']'; i++ {
			if i >= limit {
				if err := dec.SkipValue(); err != nil {
					return err
				}
				continue
			}
			if err := c.value(dec, enc, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		return enc.WriteToken(jsontext.EndArray)
	case '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if c.mode == CaptureShape {
			return enc.WriteToken(jsontext.String("string"))
		}
		return enc.WriteToken(jsontext.String(c.r.str(tok.String())))
	case '0':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if c.mode == CaptureShape {
			return enc.WriteToken(jsontext.String("number"))
		}
		// A number a float64 cannot hold (1e999, or hundreds of digits)
		// is valid JSON that many readers of the trail (SIEMs, jq, Go's
		// encoding/json) refuse: it is kept as a string, bounded like one.
		if lit := tok.String(); len(lit) > maxNumberBytes || !finiteNumber(lit) {
			return enc.WriteToken(jsontext.String(c.r.str(lit)))
		}
		return enc.WriteToken(tok)
	case 't', 'f':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if c.mode == CaptureShape {
			return enc.WriteToken(jsontext.String("boolean"))
		}
		return enc.WriteToken(tok)
	case 'n':
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		if c.mode == CaptureShape {
			return enc.WriteToken(jsontext.String("null"))
		}
		return enc.WriteToken(jsontext.Null)
	}
	_, err := dec.ReadToken()
	if err == nil {
		err = fmt.Errorf("unexpected token")
	}
	return err
}
