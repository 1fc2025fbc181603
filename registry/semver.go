package registry

import (
	"strings"
	"time"
)

// semver is a parsed semantic version (build metadata dropped).
type semver struct {
	major, minor, patch string
	pre                 []string
}

// parseSemver parses "1.2.3", "v1.2.3", "1.2.3-rc.1+build": exactly three
// numeric parts without leading zeros, as the official registry requires.
func parseSemver(v string) (semver, bool) {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexByte(v, '+'); i >= 0 {
		if !validIdents(v[i+1:], false) {
			return semver{}, false
		}
		v = v[:i]
	}
	var pre string
	if i := strings.IndexByte(v, '-'); i >= 0 {
		v, pre = v[:i], v[i+1:]
		if !validIdents(pre, true) {
			return semver{}, false
		}
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return semver{}, false
	}
	for _, p := range parts {
		if !numeric(p) || (len(p) > 1 && p[0] == '0') {
			return semver{}, false
		}
	}
	s := semver{major: parts[0], minor: parts[1], patch: parts[2]}
	if pre != "" {
		s.pre = strings.Split(pre, ".")
	}
	return s, true
}

func numeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validIdents(s string, noLeadingZero bool) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
		if noLeadingZero && numeric(id) && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

// cmpNum compares decimal strings without leading zeros.
func cmpNum(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func (a semver) compare(b semver) int {
	if c := cmpNum(a.major, b.major); c != 0 {
		return c
	}
	if c := cmpNum(a.minor, b.minor); c != 0 {
		return c
	}
	if c := cmpNum(a.patch, b.patch); c != 0 {
		return c
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		x, y := a.pre[i], b.pre[i]
		xn, yn := numeric(x), numeric(y)
		var c int
		switch {
		case xn && yn:
			c = cmpNum(x, y)
		case xn:
			c = -1
		case yn:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) < len(b.pre):
		return -1
	case len(a.pre) > len(b.pre):
		return 1
	}
	return 0
}

// IsSemanticVersion reports whether v is a semantic version with exactly
// three numeric parts (an optional leading "v" is accepted).
func IsSemanticVersion(v string) bool {
	_, ok := parseSemver(v)
	return ok
}

// CompareVersions orders two versions as the official registry does to
// pick the latest: semantic versions by precedence; a semantic version is
// above one that is not; two non-semantic versions by publication time.
func CompareVersions(v1, v2 string, published1, published2 time.Time) int {
	s1, ok1 := parseSemver(v1)
	s2, ok2 := parseSemver(v2)
	switch {
	case ok1 && ok2:
		return s1.compare(s2)
	case !ok1 && !ok2:
		return published1.Compare(published2)
	case ok1:
		return 1
	}
	return -1
}
