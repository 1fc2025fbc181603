package pins

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/go-json-experiment/json"
	"golang.org/x/text/unicode/norm"

	"github.com/switchboard-mcp/switchboard/protocol"
)

// Kinds of findings.
const (
	// FindingHiddenInstructions: text addressed to the model rather than
	// describing the tool ("ignore previous instructions", "<IMPORTANT>",
	// "do not tell the user", reading ~/.ssh, ...).
	FindingHiddenInstructions = "hidden-instructions"
	// FindingInvisibleUnicode: characters that render as nothing (zero
	// width, tags, soft hyphen, other format characters).
	FindingInvisibleUnicode = "invisible-unicode"
	// FindingBidi: bidirectional control characters, which reorder what
	// a person reads.
	FindingBidi = "bidi-control"
	// FindingLookalike: a name that looks like another tool's name
	// (homoglyphs, case or separators) without being it.
	FindingLookalike = "lookalike-name"
	// FindingNonASCIIName: a name with characters outside ASCII.
	FindingNonASCIIName = "non-ascii-name"
)

// Finding is something the poisoning checks flagged in a tool's
// definition.
type Finding struct {
	// Kind is one of the Finding* constants.
	Kind string `json:"kind"`
	// Where names the part of the definition: "name", "description",
	// "inputSchema.properties.path.description", ...
	Where string `json:"where"`
	// Detail says what was found, with invisible characters spelled out.
	Detail string `json:"detail"`
}

func (f Finding) String() string { return fmt.Sprintf("%s in %s: %s", f.Kind, f.Where, f.Detail) }

// hiddenPatterns find instructions to the model hidden in descriptions.
var hiddenPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(ignore|disregard|forget)\b.{0,20}\b(previous|prior|above|earlier|all)\b.{0,20}\b(instructions?|prompts?|rules|messages?)`),
	regexp.MustCompile(`(?i)<\s*/?\s*(important|system|instructions?|secret|hidden|admin)\s*>`),
	regexp.MustCompile(`(?i)\bdo\s+not\s+(tell|inform|mention|reveal|show|alert|notify)\b.{0,30}\buser`),
	regexp.MustCompile(`(?i)\bwithout\s+(telling|informing|asking|notifying)\b.{0,20}\buser`),
	regexp.MustCompile(`(?i)\b(before|after|when)\s+(using|calling|running|invoking)\s+(this|any|the)\b.{0,60}\b(read|send|call|include|pass|upload|forward)\b`),
	regexp.MustCompile(`(?i)(~/\.ssh|\bid_rsa\b|\bid_ed25519\b|/etc/passwd|/etc/shadow|\.aws/credentials|\bprivate[\s_-]key\b)`),
	regexp.MustCompile(`(?i)\b(system\s+prompt|developer\s+message)\b`),
	regexp.MustCompile(`(?i)\byou\s+(must|should|have\s+to)\s+(now\s+|also\s+|always\s+|first\s+)?(call|use|invoke|run)\b.{0,40}\btool\b`),
	regexp.MustCompile(`(?i)\b(instead\s+of|rather\s+than)\s+(using|calling)\b.{0,40}\btool\b`),
	regexp.MustCompile(`<!--`),
}

// isBidi reports bidirectional control characters.
func isBidi(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// isInvisible reports characters that render as nothing.
func isInvisible(r rune) bool {
	switch {
	case r >= 0x200B && r <= 0x200D, r == 0x2060, r >= 0x2061 && r <= 0x2064, r == 0xFEFF, r == 0x00AD, r == 0x180E, r == 0x034F:
		return true
	case r >= 0xE0000 && r <= 0xE007F: // tags
		return true
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF: // variation selectors
		return true
	}
	return unicode.Is(unicode.Cf, r) && !isBidi(r)
}

// scanText adds the findings of one text of a definition.
func scanText(where, text string, out *[]Finding) {
	var invisible, bidi []string
	for _, r := range text {
		switch {
		case isBidi(r):
			bidi = append(bidi, fmt.Sprintf("U+%04X", r))
		case isInvisible(r):
			invisible = append(invisible, fmt.Sprintf("U+%04X", r))
		}
	}
	if len(invisible) > 0 {
		*out = append(*out, Finding{Kind: FindingInvisibleUnicode, Where: where, Detail: summarize(invisible)})
	}
	if len(bidi) > 0 {
		*out = append(*out, Finding{Kind: FindingBidi, Where: where, Detail: summarize(bidi)})
	}
	// Hidden text may be spelled with invisible characters between its
	// letters: look at the text without them too.
	clean := strings.Map(func(r rune) rune {
		if isInvisible(r) || isBidi(r) {
			return -1
		}
		return r
	}, text)
	for _, re := range hiddenPatterns {
		if m := re.FindString(clean); m != "" {
			*out = append(*out, Finding{Kind: FindingHiddenInstructions, Where: where, Detail: fmt.Sprintf("%q", clip(m, 80))})
			break
		}
	}
}

func summarize(codes []string) string {
	seen := map[string]int{}
	var order []string
	for _, c := range codes {
		if seen[c] == 0 {
			order = append(order, c)
		}
		seen[c]++
	}
	parts := make([]string, len(order))
	for i, c := range order {
		parts[i] = fmt.Sprintf("%s x%d", c, seen[c])
	}
	return strings.Join(parts, ", ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// schemaTexts walks a JSON Schema and calls f for every string in it
// that a model reads: descriptions, titles, enum values, defaults,
// examples and property names.
func schemaTexts(prefix string, schema []byte, f func(where, text string)) {
	if len(schema) == 0 {
		return
	}
	var v any
	if json.Unmarshal(schema, &v) != nil {
		return
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := path + "." + k
				if path == "" {
					p = k
				}
				if strings.HasSuffix(path, "properties") {
					f(p+" (name)", k)
				}
				walk(p, x[k])
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case string:
			f(path, x)
		}
	}
	walk(prefix, v)
}

// ScanTool returns the findings of one tool's definition, without the
// lookalike check (which needs the other tools: Scan).
func ScanTool(t *protocol.Tool) []Finding {
	var out []Finding
	scanText("name", t.Name, &out)
	for _, r := range t.Name {
		if r > unicode.MaxASCII {
			out = append(out, Finding{Kind: FindingNonASCIIName, Where: "name", Detail: fmt.Sprintf("%q", t.Name)})
			break
		}
	}
	scanText("title", t.Title, &out)
	scanText("description", t.Description, &out)
	if t.Annotations != nil {
		scanText("annotations.title", t.Annotations.Title, &out)
	}
	schemaTexts("inputSchema", t.InputSchema, func(w, s string) { scanText(w, s, &out) })
	schemaTexts("outputSchema", t.OutputSchema, func(w, s string) { scanText(w, s, &out) })
	return out
}

// confusables maps characters that look like ASCII letters to them (the
// common Cyrillic and Greek homoglyphs, and digits that pass for letters).
var confusables = map[rune]rune{
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'ɡ': 'g', 'һ': 'h', 'ⅼ': 'l',
	'А': 'a', 'В': 'b', 'Е': 'e', 'К': 'k', 'М': 'm', 'Н': 'h', 'О': 'o', 'Р': 'p', 'С': 'c', 'Т': 't', 'Х': 'x', 'У': 'y',
	'α': 'a', 'ο': 'o', 'ν': 'v', 'ρ': 'p', 'τ': 't', 'ι': 'i', 'κ': 'k', 'υ': 'u', 'ε': 'e', 'Α': 'a', 'Β': 'b', 'Ε': 'e', 'Ο': 'o', 'Ρ': 'p', 'Τ': 't',
	'0': 'o', '1': 'l', 'I': 'l', 'i': 'l', '|': 'l',
}

// Skeleton returns the form of a name that lookalikes share: compatibility
// normalized, homoglyphs mapped to ASCII, lower case, separators,
// invisible characters and "rn" (for "m") folded.
func Skeleton(name string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(name) {
		if isInvisible(r) || isBidi(r) || r == '_' || r == '-' || r == '.' || r == ' ' {
			continue
		}
		if c, ok := confusables[r]; ok {
			r = c
		}
		b.WriteRune(unicode.ToLower(r))
	}
	s := strings.ReplaceAll(b.String(), "rn", "m")
	return strings.ReplaceAll(s, "vv", "w")
}
