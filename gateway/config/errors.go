package config

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem found in a configuration file.
type Error struct {
	// Path is the key path of the offending value, for example
	// `mcpServers.github.env.TOKEN` or `mcpServers["my.server"].args[2]`;
	// "" is the file as a whole. It names keys, never values.
	Path string
	// Line is the 1-based line of the value (or key) in the file, 0 when
	// unknown.
	Line int
	// Msg says what is wrong, without the path. It never contains the
	// value of an environment variable, an env entry or a header.
	Msg string
}

// Error formats the error as "path: msg", or just msg when Path is empty.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errors is every problem found in a configuration file, sorted by Path
// (then Line and Msg). When two checks find fault with the same value,
// only the more specific message is kept. [Load] and [Parse] return it
// as their error when the file is invalid; use errors.As to get at the
// individual errors, e.g. to print them one per line.
type Errors []*Error

// Error lists the errors one per line.
func (es Errors) Error() string {
	var sb strings.Builder
	for i, e := range es {
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(e.Error())
	}
	return sb.String()
}

// Unwrap returns the individual errors, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sortErrors orders errors by path, line and message.
func sortErrors(es Errors) {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Msg, b.Msg))
	})
}

// plainKey matches keys written without brackets in a path.
var plainKey = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$-]*$`)

// childPath is the path of key inside the object at path.
func childPath(path, key string) string {
	if plainKey.MatchString(key) {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// indexPath is the path of element i of the array at path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// errorList collects errors with their priority; see [errorList.result].
type errorList struct {
	errs []prioritized
}

type prioritized struct {
	prio int
	err  *Error
}

// Priorities of the error sources: when two sources report the same path,
// the more specific one (lower number) wins.
const (
	prioSyntax = iota
	prioSubst
	prioDecode
	prioSchema
)

func (l *errorList) add(prio int, path string, line int, format string, args ...any) {
	l.errs = append(l.errs, prioritized{prio, &Error{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}})
}

// result keeps, for each path, the errors of the most specific source, and
// sorts them; nil when there is none.
func (l *errorList) result() Errors {
	if len(l.errs) == 0 {
		return nil
	}
	best := make(map[string]int)
	for _, p := range l.errs {
		if b, ok := best[p.err.Path]; !ok || p.prio < b {
			best[p.err.Path] = p.prio
		}
	}
	var out Errors
	seen := make(map[Error]bool)
	for _, p := range l.errs {
		if p.prio != best[p.err.Path] || seen[*p.err] {
			continue
		}
		seen[*p.err] = true
		out = append(out, p.err)
	}
	sortErrors(out)
	return out
}
