package registrytest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// topics make names and descriptions; "weather" is in 1 server in 50.
var topics = []string{"files", "search", "git", "slack", "notes", "calendar", "mail", "browser", "shell", "sql",
	"vector", "images", "maps", "music", "video", "pdf", "docs", "tickets", "crm", "billing",
	"metrics", "logs", "alerts", "deploy", "k8s", "cloud", "storage", "queue", "cache", "auth",
	"payments", "translate", "speech", "ocr", "ml", "data", "sheets", "chat", "forms", "wiki",
	"travel", "news", "sports", "finance", "health", "shop", "recipes", "games", "books", "weather"}

const versionsPerServer = 10

// seedFile writes n versions (n/10 servers, ten versions each) as the
// official registry's seed format, and returns the names in seed order.
func seedFile(t *testing.T, path string, n int) []string {
	var docs []map[string]any
	var names []string
	for s := 0; s < n/versionsPerServer; s++ {
		topic := topics[s%len(topics)]
		name := fmt.Sprintf("com.vendor%03d/%s-%05d", s%997, topic, s)
		names = append(names, name)
		for v := 0; v < versionsPerServer; v++ {
			d := serverDoc(name, fmt.Sprintf("1.%d.0", v), fmt.Sprintf("MCP server for %s number %d", topic, s))
			docs = append(docs, d)
		}
	}
	b, _ := json.Marshal(docs)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return names
}

type scenario struct {
	name string
	path func(r *rand.Rand) string
}

type result struct {
	target, scenario string
	conc             int
	p50, p99         time.Duration
	rps              float64
	errors           int
}

// measure sends count requests at concurrency conc.
func measure(base string, sc scenario, conc, count int) result {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2}}
	work := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range work {
				u := base + sc.path(r)
				t0 := time.Now()
				resp, err := client.Get(u)
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if !ok {
					errs++
				}
				mu.Unlock()
			}
		}(w)
	}
	for i := 0; i < count; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	el := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	return result{scenario: sc.name, conc: conc, p50: pct(0.5), p99: pct(0.99), rps: float64(count) / el.Seconds(), errors: errs}
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestSpeed measures the official registry (on PostgreSQL) and
// Switchboard (on SQLite and on PostgreSQL, mirrored from it) side by
// side: list (first page, a cursor in the middle, search, updated_since)
// and versions/latest, p50/p99 at concurrency 1 and 8. CI runs it small;
// "make registry-bench" runs 10,000 and 100,000 versions
// (REGISTRY_BENCH_VERSIONS) and writes the table to REGISTRY_BENCH_OUT.
func TestSpeed(t *testing.T) {
	n := envInt("REGISTRY_BENCH_VERSIONS", 1000)
	reqs := envInt("REGISTRY_BENCH_REQUESTS", 200)
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.json")
	names := seedFile(t, seed, n)
	newDB := startPostgres(t)
	t0 := time.Now()
	off := officialRegistryWith(t, newDB("official"), "MCP_REGISTRY_SEED_FROM="+seed, time.Duration(n/50)*time.Second+2*time.Minute)
	t.Logf("official registry seeded with %d versions in %v", n, time.Since(t0).Round(time.Second))

	targets := []struct{ name, base string }{{"official (PostgreSQL)", off}}
	for _, tg := range []struct {
		name string
		args []string
	}{
		{"Switchboard (SQLite)", []string{"--data-dir", filepath.Join(dir, "sqlite")}},
		{"Switchboard (PostgreSQL)", []string{"--database", newDB("switchboard"), "--data-dir", filepath.Join(dir, "pg")}},
	} {
		t0 := time.Now()
		out := mustRun(t, nil, bins.switchboard, append([]string{"registry", "sync", "-q", "--from", off}, tg.args...)...)
		t.Logf("%s: %s in %v", tg.name, strings.TrimSpace(lastLine(out)), time.Since(t0).Round(time.Millisecond))
		_, base := startSwitchboardRegistry(t, tg.args...)
		targets = append(targets, struct{ name, base string }{tg.name, base})
	}
	// The updated_since of the last 1% of the versions.
	late := names[len(names)*99/100]
	var e entry
	getJSON(t, off+"/v0.1/servers/"+esc(late)+"/versions/1.0.0", &e)
	var one struct {
		Meta struct {
			Official struct {
				UpdatedAt time.Time `json:"updatedAt"`
			} `json:"io.modelcontextprotocol.registry/official"`
		} `json:"_meta"`
	}
	if resp, err := http.Get(off + "/v0.1/servers/" + esc(late) + "/versions/1.0.0"); err == nil {
		json.NewDecoder(resp.Body).Decode(&one)
		resp.Body.Close()
	}
	since := one.Meta.Official.UpdatedAt.Add(-time.Microsecond).Format(time.RFC3339Nano)
	mid := names[len(names)/2]
	scenarios := []scenario{
		{"list, first page", func(*rand.Rand) string { return "/v0.1/servers?limit=100" }},
		{"list, cursor in the middle", func(*rand.Rand) string {
			return "/v0.1/servers?limit=100&cursor=" + url.QueryEscape(mid+":1.5.0")
		}},
		{"list, search", func(*rand.Rand) string { return "/v0.1/servers?limit=100&search=weather" }},
		{"list, updated_since", func(*rand.Rand) string {
			return "/v0.1/servers?limit=100&updated_since=" + url.QueryEscape(since)
		}},
		{"versions/latest", func(r *rand.Rand) string {
			return "/v0.1/servers/" + esc(names[r.IntN(len(names))]) + "/versions/latest"
		}},
	}
	var results []result
	for _, sc := range scenarios {
		for _, tg := range targets {
			measure(tg.base, sc, 4, 40) // warm up
			for _, c := range []int{1, 8} {
				count := reqs
				if c == 8 {
					count = reqs * 4
				}
				r := measure(tg.base, sc, c, count)
				r.target = tg.name
				if r.errors > 0 {
					t.Errorf("%s, %s: %d failed requests", tg.name, sc.name, r.errors)
				}
				results = append(results, r)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d versions (%d servers × %d), %d requests at concurrency 1 and %d at 8 per row\n\n", n, n/versionsPerServer, versionsPerServer, reqs, reqs*4)
	fmt.Fprintf(&b, "| request | registry | c=1 p50 | c=1 p99 | c=8 p50 | c=8 p99 | c=8 req/s |\n|---|---|---:|---:|---:|---:|---:|\n")
	for i := 0; i < len(results); i += 2 {
		a, c := results[i], results[i+1]
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %.0f |\n", a.scenario, a.target, ms(a.p50), ms(a.p99), ms(c.p50), ms(c.p99), c.rps)
	}
	t.Log("\n" + b.String())
	if out := os.Getenv("REGISTRY_BENCH_OUT"); out != "" {
		os.WriteFile(out, []byte(b.String()), 0o644)
	}
	// Switchboard is not slower than the official registry (p99 at
	// concurrency 8, with slack for a shared machine). Checked by "make
	// registry-bench" (REGISTRY_BENCH_STRICT=1); in the quick CI run, on a
	// machine other work shares, timings are only reported.
	if os.Getenv("REGISTRY_BENCH_STRICT") == "" {
		return
	}
	for i := 0; i < len(results); i += 6 {
		offR, sq, pg := results[i+1], results[i+3], results[i+5]
		for _, r := range []result{sq, pg} {
			if r.p99 > offR.p99*2+5*time.Millisecond {
				t.Errorf("%s, %s: p99 %v against the official registry's %v", r.target, r.scenario, r.p99, offR.p99)
			}
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// officialRegistryWith starts the official registry with extra
// environment (a seed file) and a start-up timeout.
func officialRegistryWith(t *testing.T, dsn, extra string, timeout time.Duration) string {
	t.Helper()
	port := freePort(t)
	env := []string{
		"MCP_REGISTRY_DATABASE_URL=" + dsn,
		fmt.Sprintf("MCP_REGISTRY_SERVER_ADDRESS=127.0.0.1:%d", port),
		"MCP_REGISTRY_JWT_PRIVATE_KEY=" + strings.Repeat("ab", 32),
		"MCP_REGISTRY_ENABLE_ANONYMOUS_AUTH=true",
		"MCP_REGISTRY_ENABLE_REGISTRY_VALIDATION=false",
		"MCP_REGISTRY_MALWARE_CHECK_MODE=off",
		extra,
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	p, _ := start(t, env, `Starting MCP Registry`, bins.official)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/v0/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("the official registry did not start:\n%s", p.output())
	return ""
}
