package mcp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Custom headers from tool parameters (x-mcp-header, revision 2026-07-28,
// Streamable HTTP). A tool's input schema may mark primitive parameters
// with "x-mcp-header": "Name"; clients then mirror the argument's value in
// an Mcp-Param-Name header, which intermediaries can route on, and servers
// check the header against the body.

// HeaderParamPrefix starts the name of a header that mirrors a tool
// parameter.
const HeaderParamPrefix = "Mcp-Param-"

const xMCPHeader = "x-mcp-header"

// headerParam is one x-mcp-header annotation of a tool's input schema.
type headerParam struct {
	name string   // the header is HeaderParamPrefix+name
	path []string // chain of properties keys from the schema root
	typ  string   // "string", "integer" or "boolean"
}

// toolHeaders caches the annotations of a tool definition.
type toolHeaders struct {
	params []headerParam
	err    error // the annotations break the rules: the tool is invalid
}

// parseHeaderParams finds the x-mcp-header annotations of an input schema
// and checks them against the rules of the specification: non-empty HTTP
// tokens, unique regardless of case, on string, integer or boolean
// properties reachable from the root through properties keys only.
func parseHeaderParams(schema jsontext.Value) ([]headerParam, error) {
	if len(schema) == 0 || !strings.Contains(string(schema), xMCPHeader) {
		return nil, nil
	}
	var root any
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, err
	}
	var (
		params []headerParam
		errs   []error
		seen   = map[string]bool{}
	)
	var walk func(v any, path []string, reachable bool)
	walk = func(v any, path []string, reachable bool) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e, nil, false)
			}
		case map[string]any:
			if h, ok := v[xMCPHeader]; ok {
				p, err := headerAnnotation(h, v, path, reachable)
				switch {
				case err != nil:
					errs = append(errs, err)
				case seen[strings.ToLower(p.name)]:
					errs = append(errs, fmt.Errorf("x-mcp-header %q is used twice", p.name))
				default:
					seen[strings.ToLower(p.name)] = true
					params = append(params, p)
				}
			}
			for k, e := range v {
				if k == "properties" && reachable {
					if props, ok := e.(map[string]any); ok {
						for name, ps := range props {
							walk(ps, append(append([]string(nil), path...), name), true)
						}
						continue
					}
				}
				if k == xMCPHeader {
					continue
				}
				walk(e, nil, false)
			}
		}
	}
	walk(root, nil, true)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return params, nil
}

func headerAnnotation(h any, prop map[string]any, path []string, reachable bool) (headerParam, error) {
	name, ok := h.(string)
	if !ok || !validHeaderToken(name) {
		return headerParam{}, fmt.Errorf("x-mcp-header %v is not an HTTP token", h)
	}
	if !reachable || len(path) == 0 {
		return headerParam{}, fmt.Errorf("x-mcp-header %q is not on a property reachable through properties alone", name)
	}
	typ, _ := prop["type"].(string)
	switch typ {
	case "string", "integer", "boolean":
	default:
		return headerParam{}, fmt.Errorf("x-mcp-header %q is on a property of type %v, not string, integer or boolean", name, prop["type"])
	}
	return headerParam{name: name, path: path, typ: typ}, nil
}

// validHeaderToken reports whether s is an RFC 9110 token.
func validHeaderToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// lookupPath returns the value at a chain of object keys.
func lookupPath(v any, path []string) (any, bool) {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, v != nil
}

// headerText renders an argument value as a header value (before Base64
// protection), and false when the value does not fit the annotated type.
func headerText(v any, typ string) (string, bool) {
	switch typ {
	case "string":
		s, ok := v.(string)
		return s, ok
	case "boolean":
		b, ok := v.(bool)
		return strconv.FormatBool(b), ok
	case "integer":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53-1 {
			return "", false
		}
		return strconv.FormatInt(int64(f), 10), true
	}
	return "", false
}

// Base64 sentinel of header values that are not plain ASCII.
const (
	b64Prefix = "=?base64?"
	b64Suffix = "?="
)

// encodeHeaderValue protects a header value: unchanged when it is plain
// visible ASCII without surrounding whitespace, else the Base64 sentinel
// form.
func encodeHeaderValue(s string) string {
	plain := s == "" || (s[0] != ' ' && s[0] != '\t' && s[len(s)-1] != ' ' && s[len(s)-1] != '\t')
	for i := 0; plain && i < len(s); i++ {
		if c := s[i]; c != '\t' && (c < 0x20 || c > 0x7e) {
			plain = false
		}
	}
	if plain && !(strings.HasPrefix(s, b64Prefix) && strings.HasSuffix(s, b64Suffix)) {
		return s
	}
	return b64Prefix + base64.StdEncoding.EncodeToString([]byte(s)) + b64Suffix
}

// decodeHeaderValue undoes encodeHeaderValue.
func decodeHeaderValue(v string) (string, error) {
	if strings.HasPrefix(v, b64Prefix) && strings.HasSuffix(v, b64Suffix) && len(v) >= len(b64Prefix)+len(b64Suffix) {
		b, err := base64.StdEncoding.DecodeString(v[len(b64Prefix) : len(v)-len(b64Suffix)])
		if err != nil {
			return "", fmt.Errorf("malformed Base64 value: %v", err)
		}
		return string(b), nil
	}
	return v, nil
}

// maxHeaderParamCache bounds the cached annotations; the cache is emptied
// when it grows past it (tools replaced again and again leave entries
// behind).
const maxHeaderParamCache = 4096

var noHeaders = &toolHeaders{}

// toolHeaderParams returns the (cached) annotations of a tool.
func (s *Server) toolHeaderParams(t *protocol.Tool) *toolHeaders {
	if !bytes.Contains(t.InputSchema, []byte(xMCPHeader)) {
		return noHeaders
	}
	if v, ok := s.v26.headerParams.Load(t); ok {
		return v.(*toolHeaders)
	}
	params, err := parseHeaderParams(t.InputSchema)
	th := &toolHeaders{params: params, err: err}
	if err != nil {
		s.log.Warn("tool has invalid x-mcp-header annotations; its headers are not checked", "tool", t.Name, "err", err)
	}
	if s.v26.headerCached.Add(1) > maxHeaderParamCache {
		s.v26.headerParams.Clear()
		s.v26.headerCached.Store(1)
	}
	s.v26.headerParams.Store(t, th)
	return th
}

// checkParamHeaders checks the Mcp-Param-* headers of a tools/call against
// its arguments: every annotated argument present in the body has its
// header with the same value, and no header stands for an absent argument.
func (s *Server) checkParamHeaders(t *protocol.Tool, h http.Header, args jsontext.Value) *jsonrpc.Error {
	th := s.toolHeaderParams(t)
	if th.err != nil || len(th.params) == 0 {
		return nil
	}
	var argv any
	if len(args) > 0 {
		if err := json.Unmarshal(args, &argv); err != nil {
			return nil // the tool's own validation reports it
		}
	}
	for _, p := range th.params {
		hdr := HeaderParamPrefix + p.name
		vals := h.Values(hdr)
		v, present := lookupPath(argv, p.path)
		if !present {
			if len(vals) > 0 {
				return protocol.NewHeaderMismatchError("%s header is present but the arguments have no %s", hdr, strings.Join(p.path, "."))
			}
			continue
		}
		if len(vals) == 0 {
			return protocol.NewHeaderMismatchError("missing %s header for argument %s", hdr, strings.Join(p.path, "."))
		}
		if len(vals) > 1 {
			return protocol.NewHeaderMismatchError("%s header is repeated", hdr)
		}
		got, err := decodeHeaderValue(vals[0])
		if err != nil {
			return protocol.NewHeaderMismatchError("%s header: %v", hdr, err)
		}
		want, ok := headerText(v, p.typ)
		if !ok {
			continue // the argument has the wrong type: schema validation reports it
		}
		if p.typ == "integer" {
			if gf, err := strconv.ParseFloat(got, 64); err == nil {
				if wf, _ := strconv.ParseFloat(want, 64); gf == wf {
					continue
				}
			}
		} else if got == want {
			continue
		}
		return protocol.NewHeaderMismatchError("%s header value %s does not match the argument value %s", hdr,
			jsonrpc.QuoteElided(got, jsonrpc.EchoLimit), jsonrpc.QuoteElided(want, jsonrpc.EchoLimit))
	}
	return nil
}

// paramHeaders returns the Mcp-Param-* headers a client sends for a call
// with the given arguments.
func paramHeaders(params []headerParam, args jsontext.Value) http.Header {
	if len(params) == 0 || len(args) == 0 {
		return nil
	}
	var argv any
	if err := json.Unmarshal(args, &argv); err != nil {
		return nil
	}
	var h http.Header
	for _, p := range params {
		v, ok := lookupPath(argv, p.path)
		if !ok {
			continue
		}
		text, ok := headerText(v, p.typ)
		if !ok {
			continue
		}
		if h == nil {
			h = http.Header{}
		}
		h.Set(HeaderParamPrefix+p.name, encodeHeaderValue(text))
	}
	return h
}
