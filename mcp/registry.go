package mcp

import (
	"encoding/base64"
	"slices"
	"strings"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// registry keeps named features sorted by name, so that list results are
// deterministic and a cursor (the last name of a page) stays valid when
// features are added or removed between pages.
type registry[T any] struct {
	byName map[string]T
	names  []string
}

func (r *registry[T]) len() int { return len(r.names) }

func (r *registry[T]) get(name string) (T, bool) {
	v, ok := r.byName[name]
	return v, ok
}

// add inserts or replaces a feature and reports whether it replaced one.
func (r *registry[T]) add(name string, v T) bool {
	if r.byName == nil {
		r.byName = make(map[string]T)
	}
	_, replaced := r.byName[name]
	r.byName[name] = v
	if !replaced {
		i, _ := slices.BinarySearch(r.names, name)
		r.names = slices.Insert(r.names, i, name)
	}
	return replaced
}

// remove deletes the named features and reports how many existed.
func (r *registry[T]) remove(names ...string) int {
	n := 0
	for _, name := range names {
		if _, ok := r.byName[name]; !ok {
			continue
		}
		delete(r.byName, name)
		if i, found := slices.BinarySearch(r.names, name); found {
			r.names = slices.Delete(r.names, i, i+1)
		}
		n++
	}
	return n
}

// all returns every feature in name order.
func (r *registry[T]) all() []T {
	out := make([]T, len(r.names))
	for i, name := range r.names {
		out[i] = r.byName[name]
	}
	return out
}

// page returns up to size features after the cursor, and the cursor of the
// next page ("" on the last one).
func (r *registry[T]) page(cursor string, size int) ([]T, string, error) {
	start := 0
	if cursor != "" {
		after, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		start, _ = slices.BinarySearch(r.names, after)
		if start < len(r.names) && r.names[start] == after {
			start++
		}
	}
	end := min(start+size, len(r.names))
	out := make([]T, 0, end-start)
	for _, name := range r.names[start:end] {
		out = append(out, r.byName[name])
	}
	next := ""
	if end < len(r.names) {
		next = encodeCursor(r.names[end-1])
	}
	return out, next, nil
}

const cursorPrefix = "sb1:"

func encodeCursor(after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + after))
}

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), cursorPrefix) {
		return "", jsonrpc.ErrInvalidParams("invalid cursor")
	}
	return string(b[len(cursorPrefix):]), nil
}
