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

// Analyze leaves SQLite no index samples that would recompile lookups by
// name on every call (sqlite_stat4), keeps those of updated_at and the
// table counts, and the reads give the same answers afterwards.
func TestAnalyzeSQLite(t *testing.T) {
	t.Setenv("SWITCHBOARD_TEST_POSTGRES", "")
	st := openStore(t)
	loadStore(t, st, 2000)
	ctx := context.Background()
	name := fmt.Sprintf("com.vendor%03d/%s-%05d", 7, benchTopics()[7], 7)
	before, err := st.Latest(ctx, name, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Analyze(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		var n int
		if err := st.DB().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count("SELECT COUNT(*) FROM sqlite_stat4 WHERE tbl = 'registry_servers' AND idx <> 'registry_servers_updated'"); n != 0 {
		t.Errorf("%d samples of lookup indexes left in sqlite_stat4", n)
	}
	if n := count("SELECT COUNT(*) FROM sqlite_stat4 WHERE idx = 'registry_servers_updated'"); n == 0 {
		t.Error("no samples of registry_servers_updated in sqlite_stat4")
	}
	if n := count("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'registry_servers'"); n == 0 {
		t.Error("no table counts in sqlite_stat1")
	}
	for range 3 { // prepared once, then reused
		after, err := st.Latest(ctx, name, false)
		if err != nil || after.Version != before.Version || after.Version != "1.9.0" {
			t.Fatalf("Latest after Analyze: %+v %v (before %s)", after, err, before.Version)
		}
	}
	if _, err := st.Latest(ctx, "com.example/none", false); err != registry.ErrNotFound {
		t.Fatalf("Latest of an unknown name: %v", err)
	}
}
