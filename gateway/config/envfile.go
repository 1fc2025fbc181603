package config

import (
	"bytes"
	"fmt"
	"strings"
)

// parseEnvFile parses an env file: KEY=VALUE lines, with blank lines and
// lines starting with "#" ignored, an optional "export " before the key,
// and values optionally in single quotes (taken literally) or double
// quotes (where \n, \r, \t, \" and \\ are escapes). An unquoted value ends
// at " #" (a comment) and is trimmed. Nothing is substituted. Problems
// name the line but never its content.
func parseEnvFile(data []byte) (map[string]string, []string) {
	vars := make(map[string]string)
	var problems []string
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !envName.MatchString(key) {
			problems = append(problems, fmt.Sprintf("line %d: want KEY=VALUE with KEY made of A-Z a-z 0-9 _", n))
			continue
		}
		v, err := envValue(strings.TrimSpace(val))
		if err != "" {
			problems = append(problems, fmt.Sprintf("line %d: %s", n, err))
			continue
		}
		vars[key] = v
	}
	return vars, problems
}

// envValue decodes the value part of an env file line.
func envValue(v string) (string, string) {
	if v == "" {
		return "", ""
	}
	switch v[0] {
	case '\'':
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 {
			return "", "unterminated single-quoted value"
		}
		if rest := strings.TrimSpace(v[end+2:]); rest != "" && !strings.HasPrefix(rest, "#") {
			return "", "text after the closing quote"
		}
		return v[1 : end+1], ""
	case '"':
		var sb strings.Builder
		for i := 1; i < len(v); i++ {
			c := v[i]
			switch {
			case c == '"':
				if rest := strings.TrimSpace(v[i+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
					return "", "text after the closing quote"
				}
				return sb.String(), ""
			case c == '\\' && i+1 < len(v):
				i++
				switch v[i] {
				case 'n':
					sb.WriteByte('\n')
				case 'r':
					sb.WriteByte('\r')
				case 't':
					sb.WriteByte('\t')
				default:
					sb.WriteByte(v[i])
				}
			default:
				sb.WriteByte(c)
			}
		}
		return "", "unterminated double-quoted value"
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v, ""
}
