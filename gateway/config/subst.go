package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// expander substitutes ${...} references in strings; see the package
// documentation for the rules.
type expander struct {
	lookup    func(string) (string, bool)
	workspace string // "" when unknown
	home      func() (string, bool)
}

// InputEnvPrefix starts the name of the environment variable that gives
// the value of a VS Code input: ${input:api-key} is read from
// SWITCHBOARD_INPUT_API_KEY (see [InputEnvVar]).
const InputEnvPrefix = "SWITCHBOARD_INPUT_"

// InputEnvVar returns the environment variable that gives the value of
// ${input:id}: InputEnvPrefix followed by id upper-cased, with every
// character other than A-Z and 0-9 replaced by "_".
func InputEnvVar(id string) string {
	var sb strings.Builder
	sb.WriteString(InputEnvPrefix)
	for _, r := range strings.ToUpper(id) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

func newExpander(o *LoadOptions) *expander {
	x := &expander{lookup: o.LookupEnv}
	if x.lookup == nil {
		x.lookup = os.LookupEnv
	}
	if o.BaseDir != "" {
		x.workspace = workspaceFolder(o.BaseDir)
	}
	if o.LookupEnv == nil {
		x.home = func() (string, bool) {
			h, err := os.UserHomeDir()
			return h, err == nil && h != ""
		}
	} else {
		x.home = func() (string, bool) {
			key := "HOME"
			if runtime.GOOS == "windows" {
				key = "USERPROFILE"
			}
			h, ok := o.LookupEnv(key)
			return h, ok && h != ""
		}
	}
	return x
}

// workspaceFolder is the folder ${workspaceFolder} names for a
// configuration file in dir: dir itself, or its parent when dir is an
// editor's folder inside a project (.vscode, .cursor).
func workspaceFolder(dir string) string {
	dir = filepath.Clean(dir)
	switch filepath.Base(dir) {
	case ".vscode", ".cursor":
		return filepath.Dir(dir)
	}
	return dir
}

var (
	envName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	printableRef = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,64}$`)
)

// hasRef reports whether s contains a ${...} reference (for Raw mode).
func hasRef(s string) bool { return strings.Contains(s, "${") }

// expand returns s with its references substituted. Problems are
// returned as messages that name variables but never values.
func (x *expander) expand(s string) (string, []string) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var sb strings.Builder
	var problems []string
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			sb.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			sb.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			sb.WriteByte('$')
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			problems = append(problems, `unterminated "${" (write "$$" for a literal "$")`)
			sb.WriteString(s[i:])
			break
		}
		expr := s[i+2 : i+2+end]
		i += 2 + end + 1
		v, problem := x.resolve(expr)
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		sb.WriteString(v)
	}
	return sb.String(), problems
}

// resolve returns the value of one reference (the text between "${" and
// "}").
func (x *expander) resolve(expr string) (string, string) {
	switch expr {
	case "workspaceFolder":
		if x.workspace == "" {
			return "", "${workspaceFolder} is unknown: the configuration was not read from a file"
		}
		return x.workspace, ""
	case "userHome":
		h, ok := x.home()
		if !ok {
			return "", "${userHome} is unknown: HOME is not set"
		}
		return h, ""
	case "pathSeparator", "/":
		return string(filepath.Separator), ""
	}
	if id, ok := strings.CutPrefix(expr, "input:"); ok {
		if id == "" {
			return "", `empty input name in "${input:}"`
		}
		key := InputEnvVar(id)
		if v, ok := x.lookup(key); ok {
			return v, ""
		}
		return "", fmt.Sprintf("input %q has no value: set the environment variable %s", id, key)
	}
	name, def, hasDef := strings.Cut(strings.TrimPrefix(expr, "env:"), ":-")
	if !envName.MatchString(name) {
		// The text is not printed: a "${" inside a secret is not a reference.
		return "", `unknown reference "${...}" (want ${VAR}, ${VAR:-default}, ${env:VAR}, ${input:ID}, ${workspaceFolder} or ${userHome}, where VAR is a letter or "_" followed by letters, digits and "_"; "$$" is a literal "$")`
	}
	v, ok := x.lookup(name)
	if hasDef && (!ok || v == "") {
		return def, ""
	}
	if !ok {
		return "", fmt.Sprintf("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
	}
	return v, ""
}
