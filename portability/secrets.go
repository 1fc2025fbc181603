package portability

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode"
)

// RedactedValue replaces secret values in diffs and summaries.
const RedactedValue = "<redacted>"

// secretWords are the words of a key name that mark its value as secret.
var secretWords = map[string]bool{
	"token": true, "tokens": true, "secret": true, "secrets": true, "password": true, "passwd": true,
	"pass": true, "pwd": true, "key": true, "apikey": true, "auth": true, "authorization": true,
	"credential": true, "credentials": true, "cookie": true, "pat": true, "bearer": true,
	"private": true, "session": true, "signature": true, "jwt": true, "sid": true,
}

// secretPrefixes start values that are credentials whatever their key.
var secretPrefixes = []string{
	"Bearer ", "bearer ", "Basic ", "basic ", "token ", "Token ",
	"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "sk-", "sk_live_", "rk_live_",
	"xoxb-", "xoxp-", "xapp-", "AKIA", "AIza", "hf_", "npm_",
}

// keyWords splits a key name into lower-case words at "_", "-", ".", " "
// and lower-to-upper case changes.
func keyWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(key)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && unicode.IsLower(rs[i-1]):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

// secretKey reports whether a key's name says its value is a secret.
func secretKey(key string) bool {
	for _, w := range keyWords(key) {
		if secretWords[w] {
			return true
		}
	}
	return false
}

// looksLikePath reports whether v looks like a file path (paths are not
// secrets, even under a key such as SSH_KEY_PATH).
func looksLikePath(v string) bool {
	return strings.HasPrefix(v, "/") || strings.HasPrefix(v, "~") || strings.HasPrefix(v, "./") ||
		strings.HasPrefix(v, "../") || len(v) > 2 && v[1] == ':' && (v[2] == '\\' || v[2] == '/')
}

// IsSecret reports whether the literal value of an env variable or header
// called key is to be treated as a secret: its name says so (TOKEN,
// API_KEY, Authorization, ...) and it is not a file path, or it starts
// like a credential (Bearer, ghp_, sk-, ...). A value that is only
// references (${VAR}) is never a secret itself.
func IsSecret(key, value string) bool {
	if value == "" || !hasLiteral(value) {
		return false
	}
	for _, p := range secretPrefixes {
		if strings.HasPrefix(value, p) {
			return true
		}
	}
	switch strings.ToLower(value) {
	case "true", "false", "yes", "no", "on", "off", "none", "null":
		return false
	}
	return secretKey(key) && !looksLikePath(value)
}

// hasLiteral reports whether a canonical value has literal text beyond
// white space and an auth scheme word.
func hasLiteral(v string) bool {
	for _, s := range parseValue(v, synGateway) {
		if s.kind == segLit || s.kind == segRaw {
			t := strings.TrimSpace(s.text)
			switch t {
			case "", "Bearer", "bearer", "Basic", "basic", "Token", "token":
				continue
			}
			return true
		}
	}
	return false
}

// secretVarName is the environment variable a literal secret of server's
// key is turned into: the env variable's own name, or SERVER_HEADER for
// a header (SERVER_TOKEN for Authorization).
func secretVarName(server, field, key string) string {
	if field == "env" && validEnvName(key) {
		return key
	}
	h := key
	if strings.EqualFold(key, "Authorization") || strings.EqualFold(key, "Proxy-Authorization") {
		h = "TOKEN"
	}
	var b strings.Builder
	for _, part := range []string{server, h} {
		if b.Len() > 0 {
			b.WriteByte('_')
		}
		for _, r := range part {
			switch {
			case r >= 'a' && r <= 'z':
				b.WriteRune(r - 'a' + 'A')
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
	}
	name := b.String()
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		name = "_" + name
	}
	return name
}

// secretReference turns a literal secret into a reference to the variable
// name, keeping an auth scheme ("Bearer ") in front.
func secretReference(value, name string) string {
	for _, scheme := range []string{"Bearer ", "bearer ", "Basic ", "basic ", "Token ", "token "} {
		if strings.HasPrefix(value, scheme) {
			return scheme + "${" + name + "}"
		}
	}
	return "${" + name + "}"
}

// Redactor hides secret values in text shown to the user (diffs,
// summaries): it knows the values to hide and replaces them, in the
// spellings the file formats use, by [RedactedValue].
type Redactor struct {
	values []string
}

// minSecretLen is the shortest value a Redactor hides: shorter ones
// would garble the text without protecting anything.
const minSecretLen = 4

// AddServers registers the secrets of servers: the literal values of env
// variables and headers, and the literal parts of their URLs' user
// information and query values.
func (r *Redactor) AddServers(servers ...*Server) {
	for _, s := range servers {
		for _, m := range []map[string]string{s.Env, s.Headers} {
			for _, v := range m {
				r.addValue(v)
			}
		}
		for i, a := range s.Args {
			if i > 0 && secretFlag(s.Args[i-1]) || secretKeyValueArg(a) {
				r.addValue(a)
			}
		}
	}
}

// secretFlag reports whether an argument is a flag whose value is secret
// ("--api-key", "--token").
func secretFlag(a string) bool {
	return strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && secretKey(strings.TrimLeft(a, "-"))
}

// secretKeyValueArg reports whether an argument is "--token=X" or
// "API_KEY=X".
func secretKeyValueArg(a string) bool {
	k, _, ok := strings.Cut(a, "=")
	return ok && secretKey(strings.TrimLeft(k, "-"))
}

// AddTree registers every string in a decoded file (maps, slices,
// strings) found under a key whose name says it is secret, or under an
// "env", "envs", "environment", "headers", "http_headers" map.
func (r *Redactor) AddTree(v any) {
	r.walk(v, false)
}

func (r *Redactor) walk(v any, secret bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			s := secret || secretKey(k)
			switch {
			case k == "env" || k == "envs" || k == "environment" || k == "headers" || k == "http_headers":
				s = true
			case k == "env_vars" || k == "env_keys" || k == "env_http_headers" || strings.HasSuffix(k, "_env_var"):
				s = false // names of variables (Codex, Goose), not values
			}
			r.walk(c, s)
		}
	case []any:
		for _, c := range x {
			r.walk(c, secret)
		}
	case string:
		if secret {
			r.addValue(x)
		}
	}
}

// Merge registers the values another Redactor knows.
func (r *Redactor) Merge(o *Redactor) { r.values = append(r.values, o.values...) }

// AddValue registers one secret value.
func (r *Redactor) AddValue(v string) { r.addValue(v) }

func (r *Redactor) addValue(v string) {
	// Only the literal parts of a value are secret; references are shown.
	for _, s := range parseValue(v, synGateway) {
		if s.kind != segLit {
			continue
		}
		t := strings.TrimSpace(s.text)
		for _, scheme := range []string{"Bearer ", "bearer ", "Basic ", "basic ", "Token ", "token "} {
			t = strings.TrimPrefix(t, scheme)
		}
		if len(t) < minSecretLen {
			continue
		}
		r.values = append(r.values, t)
		if q, err := json.Marshal(t); err == nil {
			if e := string(q[1 : len(q)-1]); e != t {
				r.values = append(r.values, e)
			}
		}
		if strings.Contains(t, "'") {
			r.values = append(r.values, strings.ReplaceAll(t, "'", "''"))
		}
	}
}

// Redact returns text with every registered value replaced, longest
// first.
func (r *Redactor) Redact(text string) string {
	vals := slices.Clone(r.values)
	slices.SortFunc(vals, func(a, b string) int { return len(b) - len(a) })
	vals = slices.Compact(vals)
	for _, v := range vals {
		text = strings.ReplaceAll(text, v, RedactedValue)
	}
	return text
}

// RedactorFor returns a Redactor that knows the secrets of the given
// contents of c's file: the values of env variables and headers of its
// servers, and every value under a key whose name says it is secret.
// Contents that do not parse are skipped.
func RedactorFor(c *Client, opts *Options, contents ...[]byte) *Redactor {
	r := &Redactor{}
	o := opts.orZero()
	for _, data := range contents {
		if len(data) == 0 {
			continue
		}
		if c.d.read == nil || c == Gateway {
			if doc, err := parseDocument(data, c.format(o)); err == nil {
				r.AddTree(doc.tree())
			}
		}
		if set, _, err := c.Read(data, o); err == nil {
			r.AddServers(set.Servers...)
		}
	}
	return r
}
