// Package toolsearch ranks tools for a query, so that a client facing
// hundreds of tools can find the few it needs instead of loading every
// definition (the gateway's "search" tool mode, see gateway.VirtualServer).
//
// Ranking is BM25F: a tool is a document of weighted fields — its name
// (split into words at underscores, dots, hyphens and camelCase), title,
// argument names, description and argument descriptions — and a query's
// words score by their weighted frequency in each tool against their
// rarity across the set. An Index is immutable and safe for concurrent
// use; a Cache keeps one Index per tool-set version, so that it is built
// once however many sessions search it.
package toolsearch

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// Doc is one tool as the index sees it.
type Doc struct {
	// Name is the tool's name.
	Name string
	// Title is its display name.
	Title string
	// Description tells what it does.
	Description string
	// Args are the names of its arguments (the input schema's
	// properties).
	Args []string
	// ArgText is the text of its arguments' descriptions.
	ArgText string
}

// Field weights of BM25F.
const (
	weightName        = 3.0
	weightTitle       = 2.0
	weightArgs        = 1.5
	weightDescription = 1.0
	weightArgText     = 0.5
	k1                = 1.2
	bParam            = 0.75
)

// Index is a BM25F index over a set of tools.
type Index struct {
	docs   []Doc
	tf     []map[string]float64 // weighted term frequency per document
	length []float64            // weighted length per document
	avg    float64
	df     map[string]int
}

// New indexes docs.
func New(docs []Doc) *Index {
	ix := &Index{docs: slices.Clone(docs), tf: make([]map[string]float64, len(docs)), length: make([]float64, len(docs)), df: map[string]int{}}
	total := 0.0
	for i, d := range docs {
		m := map[string]float64{}
		add := func(text string, w float64) {
			for _, t := range Tokenize(text) {
				m[t] += w
				ix.length[i] += w
			}
		}
		add(d.Name, weightName)
		add(d.Title, weightTitle)
		for _, a := range d.Args {
			add(a, weightArgs)
		}
		add(d.Description, weightDescription)
		add(d.ArgText, weightArgText)
		ix.tf[i] = m
		for t := range m {
			ix.df[t]++
		}
		total += ix.length[i]
	}
	if len(docs) > 0 {
		ix.avg = total / float64(len(docs))
	}
	if ix.avg == 0 {
		ix.avg = 1
	}
	return ix
}

// Len returns the number of documents.
func (ix *Index) Len() int { return len(ix.docs) }

// Doc returns document i.
func (ix *Index) Doc(i int) Doc { return ix.docs[i] }

// Result is a document that matched a query.
type Result struct {
	// Index is the document's position in the slice given to New.
	Index int
	// Score is its BM25F score (higher is better).
	Score float64
}

// Search returns the documents matching query, best first (ties by
// name), at most limit of them (limit <= 0: all) among those keep accepts
// (nil keeps all). keep is asked in rank order, so that a caller can
// filter by policy without judging every document.
func (ix *Index) Search(query string, limit int, keep func(i int) bool) []Result {
	terms := Tokenize(query)
	if len(terms) == 0 {
		return nil
	}
	terms = slices.Compact(sortedCopy(terms))
	n := float64(len(ix.docs))
	scores := map[int]float64{}
	for _, t := range terms {
		df := ix.df[t]
		if df == 0 {
			continue
		}
		idf := math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
		for i, m := range ix.tf {
			f := m[t]
			if f == 0 {
				continue
			}
			norm := f * (k1 + 1) / (f + k1*(1-bParam+bParam*ix.length[i]/ix.avg))
			scores[i] += idf * norm
		}
	}
	out := make([]Result, 0, len(scores))
	for i, s := range scores {
		out = append(out, Result{Index: i, Score: s})
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Score != out[b].Score {
			return out[a].Score > out[b].Score
		}
		return ix.docs[out[a].Index].Name < ix.docs[out[b].Index].Name
	})
	if keep == nil {
		if limit > 0 && len(out) > limit {
			out = out[:limit]
		}
		return out
	}
	kept := out[:0]
	for _, r := range out {
		if limit > 0 && len(kept) >= limit {
			break
		}
		if keep(r.Index) {
			kept = append(kept, r)
		}
	}
	return kept
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// stopWords are words too common in tool descriptions to rank by.
var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "to": true, "of": true, "for": true, "and": true, "or": true,
	"in": true, "on": true, "with": true, "by": true, "is": true, "it": true, "this": true, "that": true,
	"from": true, "as": true, "be": true, "are": true, "at": true, "its": true, "into": true, "i": true,
}

// Tokenize splits text into lower-case words for indexing and queries:
// at every character that is not a letter or digit, and at camelCase
// boundaries; stop words go, and a plural "s" is dropped.
func Tokenize(text string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) == 0 {
			return
		}
		w := normalize(string(cur))
		cur = cur[:0]
		if w != "" && !stopWords[w] {
			out = append(out, w)
		}
	}
	var prev rune
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && len(cur) > 0 && (unicode.IsLower(prev) || unicode.IsDigit(prev)) {
				flush()
			}
			cur = append(cur, unicode.ToLower(r))
		default:
			flush()
		}
		prev = r
	}
	flush()
	return out
}

// normalize strips a plural ending: "issues" -> "issue", "files" ->
// "file", "queries" -> "query"; words of three letters or fewer and
// those ending in "ss", "us" or "is" stay.
func normalize(w string) string {
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w
	case strings.HasSuffix(w, "s"):
		return w[:len(w)-1]
	}
	return w
}

// Cache keeps the index of each tool-set version: Get builds an index
// only for a key it has not seen. It keeps the most recent few.
type Cache struct {
	mu     sync.Mutex
	byKey  map[string]*Index
	order  []string
	builds atomic.Int64
}

// cacheSize bounds the indexes a Cache keeps.
const cacheSize = 16

// Get returns the index of the tool set named key, calling docs to build
// it when the cache has none.
func (c *Cache) Get(key string, docs func() []Doc) *Index {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ix, ok := c.byKey[key]; ok {
		return ix
	}
	ix := New(docs())
	c.builds.Add(1)
	if c.byKey == nil {
		c.byKey = map[string]*Index{}
	}
	c.byKey[key] = ix
	c.order = append(c.order, key)
	if len(c.order) > cacheSize {
		delete(c.byKey, c.order[0])
		c.order = c.order[1:]
	}
	return ix
}

// Builds returns how many indexes the cache has built.
func (c *Cache) Builds() int64 { return c.builds.Load() }
