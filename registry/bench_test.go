package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/registry"
)

// loadStore fills a store with n versions (ten per server) through Put.
func loadStore(b testing.TB, st *registry.SQLStore, n int) {
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var batch []registry.Record
	topics := benchTopics()
	for i := 0; i < n; i++ {
		s, v := i/10, i%10
		name := fmt.Sprintf("com.vendor%03d/%s-%05d", s%997, topics[s%len(topics)], s)
		doc, _ := json.Marshal(serverJSON(name, fmt.Sprintf("1.%d.0", v), "MCP server for "+topics[s%len(topics)]))
		at := base.Add(time.Duration(i) * time.Millisecond)
		batch = append(batch, registry.Record{Name: name, Version: fmt.Sprintf("1.%d.0", v), Description: "MCP server for " + topics[s%len(topics)], Server: doc,
			Official: registry.Official{Status: registry.StatusActive, PublishedAt: at, UpdatedAt: at, StatusChangedAt: at, IsLatest: v == 9}})
		if len(batch) == 1000 {
			if err := st.Put(ctx, batch, nil); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := st.Put(ctx, batch, nil); err != nil {
		b.Fatal(err)
	}
	st.Analyze(ctx)
}

// BenchmarkList times the list queries on a store of
// REGISTRY_BENCH_VERSIONS versions (default 10,000).
func BenchmarkList(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("REGISTRY_BENCH_VERSIONS"))
	if n == 0 {
		n = 10000
	}
	st := openStore(b)
	loadStore(b, st, n)
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n*99/100) * time.Millisecond)
	mid := fmt.Sprintf("com.vendor%03d/%s-%05d", (n/20)%997, benchTopics()[(n/20)%50], n/20)
	for _, q := range []struct {
		name string
		q    registry.ListQuery
	}{
		{"first", registry.ListQuery{Limit: 101}},
		{"middle", registry.ListQuery{Limit: 101, AfterName: mid, AfterVersion: "1.5.0"}},
		{"search", registry.ListQuery{Limit: 101, Search: "weather"}},
		{"search-rare", registry.ListQuery{Limit: 101, Search: "vendor007/"}},
		{"updated", registry.ListQuery{Limit: 101, UpdatedSince: &since, IncludeDeleted: true}},
		{"updated-all", registry.ListQuery{Limit: 101, UpdatedSince: &time.Time{}, IncludeDeleted: true}},
		{"latest", registry.ListQuery{Limit: 101, Latest: true}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				q := q.q
				q.Approval = "not-denied"
				if _, err := st.List(context.Background(), &q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("get-latest", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.Latest(context.Background(), mid, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchTopics are 50 topics, "weather" among them (one server in 50, as
// in registrytest.TestSpeed).
func benchTopics() []string {
	t := make([]string, 50)
	for i := range t {
		t[i] = fmt.Sprintf("topic%02d", i)
	}
	t[49] = "weather"
	return t
}
