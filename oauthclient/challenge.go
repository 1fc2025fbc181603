package oauthclient

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// A Challenge is one authentication challenge from a WWW-Authenticate
// header field (RFC 7235 Section 4.1): a scheme with either a token68 or a
// list of parameters.
type Challenge struct {
	// Scheme is the authentication scheme as sent, e.g. "Bearer". Schemes
	// are case-insensitive; use IsBearer or strings.EqualFold to compare.
	Scheme string
	// Token68 is the token68 form of the credentials, if the challenge
	// used it instead of parameters.
	Token68 string
	// Params maps lowercased parameter names to their unquoted values.
	// When a name occurs more than once (a malformed challenge) the first
	// value is kept.
	Params map[string]string
}

// IsBearer reports whether the challenge uses the Bearer scheme (RFC 6750).
func (c Challenge) IsBearer() bool { return strings.EqualFold(c.Scheme, "Bearer") }

// Param returns the value of the named parameter (case-insensitive name).
func (c Challenge) Param(name string) string { return c.Params[strings.ToLower(name)] }

// Scopes returns the space-separated scope parameter (RFC 6750 Section 3)
// as a list; nil when the challenge has none.
func (c Challenge) Scopes() []string { return strings.Fields(c.Param("scope")) }

// ResourceMetadata returns the resource_metadata parameter (RFC 9728
// Section 5.1): the URL of the protected resource metadata document.
func (c Challenge) ResourceMetadata() string { return c.Param("resource_metadata") }

// Error returns the error parameter (RFC 6750 Section 3.1), e.g.
// "invalid_token" or "insufficient_scope".
func (c Challenge) Error() string { return c.Param("error") }

// String formats the challenge in RFC 7235 syntax. Parameter values are
// always quoted; names are written in sorted order.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	if c.Token68 != "" {
		b.WriteByte(' ')
		b.WriteString(c.Token68)
		return b.String()
	}
	for i, k := range sortedKeys(c.Params) {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(`="`)
		for _, r := range []byte(c.Params[k]) {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(r)
		}
		b.WriteByte('"')
	}
	return b.String()
}

// ErrMalformedChallenge is wrapped by the error ParseChallenges returns
// for syntax it had to skip.
var ErrMalformedChallenge = errors.New("oauthclient: malformed WWW-Authenticate challenge")

// ParseChallenges parses the values of WWW-Authenticate header fields
// (each value may hold several comma-separated challenges). It is lenient:
// it returns every well-formed challenge it finds, skipping malformed
// parts up to the next comma, and reports what it skipped in an error
// wrapping ErrMalformedChallenge. A nil error means every byte parsed.
func ParseChallenges(values []string) ([]Challenge, error) {
	var out []Challenge
	var errs []error
	for _, v := range values {
		cs, err := parseChallengeList(v)
		out = append(out, cs...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// BearerChallenge returns the first Bearer challenge in the response
// header's WWW-Authenticate fields. Malformed parts of the header are
// ignored.
func BearerChallenge(h http.Header) (Challenge, bool) {
	cs, _ := ParseChallenges(h.Values("WWW-Authenticate"))
	for _, c := range cs {
		if c.IsBearer() {
			return c, true
		}
	}
	return Challenge{}, false
}

// challengeParser walks one header value.
type challengeParser struct {
	s   string
	pos int
}

func parseChallengeList(s string) ([]Challenge, error) {
	p := &challengeParser{s: s}
	var out []Challenge
	var errs []error
	var cur *Challenge
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.s) {
			break
		}
		if p.s[p.pos] == ',' {
			p.pos++
			continue
		}
		start := p.pos
		tok := p.token()
		if tok == "" {
			errs = append(errs, fmt.Errorf("%w: unexpected %q at offset %d", ErrMalformedChallenge, p.s[p.pos], p.pos))
			p.skipToComma()
			continue
		}
		// After a token: "=" (possibly after BWS) makes it a parameter of
		// the current challenge, unless it is the padding of a token68.
		save := p.pos
		p.skipSpace()
		if cur != nil && cur.Token68 == "" && p.peek() == '=' && !p.isToken68Padding() {
			p.pos++ // '='
			p.skipSpace()
			val, ok := p.value()
			if !ok {
				errs = append(errs, fmt.Errorf("%w: bad value for parameter %q at offset %d", ErrMalformedChallenge, tok, start))
				p.skipToComma()
				continue
			}
			name := strings.ToLower(tok)
			if _, dup := cur.Params[name]; !dup {
				cur.Params[name] = val
			}
			if !p.endOfItem() {
				errs = append(errs, fmt.Errorf("%w: trailing data after parameter %q at offset %d", ErrMalformedChallenge, tok, p.pos))
				p.skipToComma()
			}
			continue
		}
		// A new challenge: tok is its scheme.
		p.pos = save
		flush()
		cur = &Challenge{Scheme: tok, Params: map[string]string{}}
		if !p.skipSpace() {
			// No space: the challenge ends here (or the value is junk).
			if !p.endOfItem() {
				errs = append(errs, fmt.Errorf("%w: unexpected %q after scheme %q", ErrMalformedChallenge, p.s[p.pos], tok))
				cur = nil
				p.skipToComma()
			}
			continue
		}
		if p.pos >= len(p.s) || p.s[p.pos] == ',' {
			continue
		}
		// A token68 or the first auth-param follows.
		save = p.pos
		if t68 := p.token68(); t68 != "" && p.endOfItem() {
			cur.Token68 = t68
			continue
		}
		p.pos = save
		// Not a token68: parse the first auth-param by looping.
		name := p.token()
		p.skipSpace()
		if name == "" || p.peek() != '=' {
			errs = append(errs, fmt.Errorf("%w: expected parameter after scheme %q", ErrMalformedChallenge, tok))
			p.skipToComma()
			continue
		}
		p.pos++
		p.skipSpace()
		val, ok := p.value()
		if !ok {
			errs = append(errs, fmt.Errorf("%w: bad value for parameter %q", ErrMalformedChallenge, name))
			p.skipToComma()
			continue
		}
		cur.Params[strings.ToLower(name)] = val
		if !p.endOfItem() {
			errs = append(errs, fmt.Errorf("%w: trailing data after parameter %q at offset %d", ErrMalformedChallenge, name, p.pos))
			p.skipToComma()
		}
	}
	flush()
	return out, errors.Join(errs...)
}

func (p *challengeParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// skipSpace skips optional whitespace (SP / HTAB) and reports whether it
// skipped any.
func (p *challengeParser) skipSpace() bool {
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
	return p.pos > start
}

func (p *challengeParser) skipToComma() {
	inQuote := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case inQuote && c == '\\' && p.pos+1 < len(p.s):
			p.pos++
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return
		}
		p.pos++
	}
}

// endOfItem skips whitespace and reports whether the input is at a comma
// or its end.
func (p *challengeParser) endOfItem() bool {
	p.skipSpace()
	return p.pos >= len(p.s) || p.s[p.pos] == ','
}

// isToken68Padding reports whether the '=' at pos starts the padding of a
// token68 (more '='s, or nothing, up to the next comma or end).
func (p *challengeParser) isToken68Padding() bool {
	i := p.pos
	for i < len(p.s) && p.s[i] == '=' {
		i++
	}
	if i-p.pos > 1 {
		return true
	}
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t') {
		i++
	}
	return i >= len(p.s) || p.s[i] == ','
}

func (p *challengeParser) token() string {
	start := p.pos
	for p.pos < len(p.s) && isTChar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *challengeParser) token68() string {
	start := p.pos
	for p.pos < len(p.s) && isToken68Char(p.s[p.pos]) {
		p.pos++
	}
	for p.pos < len(p.s) && p.s[p.pos] == '=' {
		p.pos++
	}
	return p.s[start:p.pos]
}

// value reads a token or a quoted-string.
func (p *challengeParser) value() (string, bool) {
	if p.peek() != '"' {
		v := p.token()
		return v, v != ""
	}
	// On a byte that may not appear, keep going to the closing quote so
	// that recovery resumes after the whole quoted-string.
	p.pos++
	var b strings.Builder
	bad := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), !bad
		case c == '\\' && p.pos+1 < len(p.s):
			bad = bad || !isQuotedPairChar(p.s[p.pos+1])
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
		default:
			bad = bad || !isQDText(c)
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", false // unterminated
}

// isTChar reports whether c is a tchar (RFC 9110 Section 5.6.2).
func isTChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isToken68Char reports whether c may appear in a token68 before its
// padding (RFC 9110 Section 11.2).
func isToken68Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}

func isQDText(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (0x23 <= c && c <= 0x5B) || (0x5D <= c && c <= 0x7E) || c >= 0x80
}

func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || (0x21 <= c && c <= 0x7E) || c >= 0x80
}
