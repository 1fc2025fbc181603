package portability

import (
	"strings"
)

// syntax is how a file writes references to environment variables and
// other values inside strings.
type syntax int

const (
	// synNone: no references; every string is literal (Claude Desktop,
	// Cline, Zed, LM Studio, and Codex and Goose inside strings).
	synNone syntax = iota
	// synGateway: the gateway's syntax, the canonical one: ${VAR},
	// ${VAR:-default}, ${env:VAR}, ${input:ID}, ${workspaceFolder},
	// ${userHome}, ${pathSeparator}, ${/}, and $$ for "$".
	synGateway
	// synDollar: Claude Code's ${VAR} and ${VAR:-default}.
	synDollar
	// synGemini: Gemini CLI's $VAR, ${VAR} and ${VAR:-default}.
	synGemini
	// synVSCode: ${env:VAR}, ${input:ID}, ${workspaceFolder},
	// ${userHome}, ${pathSeparator}, ${/}.
	synVSCode
	// synCursor: VS Code's without ${input:ID}.
	synCursor
	// synWindsurf: ${env:VAR} only.
	synWindsurf
	// synOpencode: {env:VAR}.
	synOpencode
	// synContinue: ${{ secrets.VAR }}, Continue's secrets.
	synContinue
)

// segKind is the kind of a piece of a string value.
type segKind int

const (
	segLit       segKind = iota // literal text
	segEnv                      // an environment variable, maybe with a default
	segInput                    // a VS Code input
	segWorkspace                // ${workspaceFolder}
	segHome                     // ${userHome}
	segPathSep                  // ${pathSeparator} or ${/}
	segRaw                      // a "${...}" the gateway would not accept, kept as written
)

// seg is a piece of a string value.
type seg struct {
	kind   segKind
	text   string // literal or raw text; the variable or input name
	def    string // the default of segEnv
	hasDef bool
}

// isRef reports whether the piece refers to something outside the file.
func (s seg) isRef() bool { return s.kind != segLit && s.kind != segRaw }

// validEnvName reports whether s is a portable environment variable name.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// envRef parses "NAME" or "NAME:-default".
func envRef(body string, defaults bool) (seg, bool) {
	name, def, hasDef := body, "", false
	if defaults {
		if i := strings.Index(body, ":-"); i >= 0 {
			name, def, hasDef = body[:i], body[i+2:], true
		}
	}
	if !validEnvName(name) {
		return seg{}, false
	}
	return seg{kind: segEnv, text: name, def: def, hasDef: hasDef}, true
}

// parseValue splits a string written in syntax syn into pieces.
func parseValue(v string, syn syntax) []seg {
	var out []seg
	lit := func(s string) {
		if s == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].kind == segLit {
			out[n-1].text += s
			return
		}
		out = append(out, seg{kind: segLit, text: s})
	}
	for i := 0; i < len(v); {
		switch syn {
		case synNone:
			lit(v[i:])
			i = len(v)
			continue
		case synOpencode:
			if strings.HasPrefix(v[i:], "{env:") {
				if j := strings.IndexByte(v[i:], '}'); j > 0 {
					if s, ok := envRef(v[i+5:i+j], false); ok {
						out = append(out, s)
						i += j + 1
						continue
					}
				}
			}
			lit(v[i : i+1])
			i++
			continue
		case synContinue:
			if strings.HasPrefix(v[i:], "${{") {
				if j := strings.Index(v[i:], "}}"); j > 0 {
					body := strings.TrimSpace(v[i+3 : i+j])
					if name, ok := strings.CutPrefix(body, "secrets."); ok && validEnvName(name) {
						out = append(out, seg{kind: segEnv, text: name})
						i += j + 2
						continue
					}
				}
			}
			lit(v[i : i+1])
			i++
			continue
		}
		c := v[i]
		if c != '$' {
			j := strings.IndexByte(v[i:], '$')
			if j < 0 {
				j = len(v) - i
			}
			lit(v[i : i+j])
			i += j
			continue
		}
		// v[i] == '$'
		if syn == synGateway && strings.HasPrefix(v[i:], "$$") {
			lit("$")
			i += 2
			continue
		}
		if i+1 < len(v) && v[i+1] == '{' {
			j := strings.IndexByte(v[i:], '}')
			if j < 0 {
				if syn == synGateway {
					out = append(out, seg{kind: segRaw, text: v[i:]})
				} else {
					lit(v[i:])
				}
				i = len(v)
				continue
			}
			body := v[i+2 : i+j]
			if s, ok := parseBraced(body, syn); ok {
				out = append(out, s)
			} else if syn == synGateway {
				out = append(out, seg{kind: segRaw, text: v[i : i+j+1]})
			} else {
				lit(v[i : i+j+1])
			}
			i += j + 1
			continue
		}
		if syn == synGemini {
			j := i + 1
			for j < len(v) && (v[j] == '_' || v[j] >= 'A' && v[j] <= 'Z' || v[j] >= 'a' && v[j] <= 'z' || j > i+1 && v[j] >= '0' && v[j] <= '9') {
				j++
			}
			if j > i+1 {
				out = append(out, seg{kind: segEnv, text: v[i+1 : j]})
				i = j
				continue
			}
		}
		lit("$")
		i++
	}
	return out
}

// parseBraced parses the body of "${body}" in syntax syn.
func parseBraced(body string, syn syntax) (seg, bool) {
	special := func() (seg, bool) {
		switch body {
		case "workspaceFolder":
			return seg{kind: segWorkspace}, true
		case "userHome":
			return seg{kind: segHome}, true
		case "pathSeparator", "/":
			return seg{kind: segPathSep}, true
		}
		return seg{}, false
	}
	switch syn {
	case synGateway:
		if s, ok := special(); ok {
			return s, true
		}
		if id, ok := strings.CutPrefix(body, "input:"); ok && id != "" {
			return seg{kind: segInput, text: id}, true
		}
		body, _ = strings.CutPrefix(body, "env:")
		return envRef(body, true)
	case synDollar, synGemini:
		return envRef(body, true)
	case synVSCode, synCursor:
		if s, ok := special(); ok {
			return s, true
		}
		if id, ok := strings.CutPrefix(body, "input:"); ok && id != "" && syn == synVSCode {
			return seg{kind: segInput, text: id}, true
		}
		fallthrough
	case synWindsurf:
		if name, ok := strings.CutPrefix(body, "env:"); ok {
			return envRef(name, false)
		}
	}
	return seg{}, false
}

// canonical renders pieces in the gateway's syntax.
func canonical(segs []seg) string {
	var b strings.Builder
	for i, s := range segs {
		switch s.kind {
		case segLit:
			for j := 0; j < len(s.text); j++ {
				c := s.text[j]
				b.WriteByte(c)
				if c != '$' {
					continue
				}
				next := byte(0)
				if j+1 < len(s.text) {
					next = s.text[j+1]
				} else if i+1 < len(segs) {
					next = '$' // every other piece starts with "$"
				}
				if next == '{' || next == '$' {
					b.WriteByte('$')
				}
			}
		case segRaw:
			b.WriteString(s.text)
		default:
			b.WriteString(renderRef(s, synGateway))
		}
	}
	return b.String()
}

// toCanonical converts a value written in syntax syn to the gateway's.
func toCanonical(v string, syn syntax) string {
	return canonical(parseValue(v, syn))
}

// supports reports whether syntax syn can write the reference s (defaults
// aside: see keepsDefault).
func (syn syntax) supports(s seg) bool {
	switch s.kind {
	case segLit, segRaw:
		return true
	case segEnv:
		return syn != synNone
	case segInput:
		return syn == synGateway || syn == synVSCode
	case segWorkspace, segHome, segPathSep:
		return syn == synGateway || syn == synVSCode || syn == synCursor
	}
	return false
}

// keepsDefault reports whether syntax syn can write ${VAR:-default}.
func (syn syntax) keepsDefault() bool {
	return syn == synGateway || syn == synDollar || syn == synGemini
}

// renderRef writes the reference s in syntax syn, which supports it.
func renderRef(s seg, syn syntax) string {
	switch s.kind {
	case segEnv:
		switch syn {
		case synOpencode:
			return "{env:" + s.text + "}"
		case synContinue:
			return "${{ secrets." + s.text + " }}"
		case synVSCode, synCursor, synWindsurf:
			return "${env:" + s.text + "}"
		}
		if s.hasDef && syn.keepsDefault() {
			return "${" + s.text + ":-" + s.def + "}"
		}
		return "${" + s.text + "}"
	case segInput:
		return "${input:" + s.text + "}"
	case segWorkspace:
		return "${workspaceFolder}"
	case segHome:
		return "${userHome}"
	case segPathSep:
		return "${pathSeparator}"
	}
	return s.text
}

// render writes pieces in syntax syn; every reference must be supported.
func render(segs []seg, syn syntax) string {
	if syn == synGateway {
		return canonical(segs)
	}
	var b strings.Builder
	for _, s := range segs {
		if s.kind == segLit || s.kind == segRaw {
			b.WriteString(s.text)
			continue
		}
		b.WriteString(renderRef(s, syn))
	}
	return b.String()
}

// refOnly returns the variable name when the value is exactly one
// environment reference without a default, as Codex's env_vars and
// Goose's env_keys need.
func refOnly(v string) (string, bool) {
	segs := parseValue(v, synGateway)
	if len(segs) == 1 && segs[0].kind == segEnv && !segs[0].hasDef {
		return segs[0].text, true
	}
	return "", false
}

// hasRefs reports whether a canonical value refers to anything.
func hasRefs(v string) bool {
	for _, s := range parseValue(v, synGateway) {
		if s.isRef() {
			return true
		}
	}
	return false
}
