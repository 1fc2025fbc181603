package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/internal/pgtest"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/store"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// serveObserved runs the gateway as serve wires it (setupObservability
// from a configuration) in front of an in-process everything server, for
// the identity alice of tenant acme; it returns a client and a function
// that stops the gateway and the observability (flushing them).
func serveObserved(t *testing.T, yaml, dataDir string) (*mcp.ClientSession, *observability, func()) {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), config.FormatYAML, &config.LoadOptions{BaseDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := openStore(ctx, dataDir, io.Discard, "test")
	if err != nil {
		t.Fatal(err)
	}
	opts := gateway.Options{Upstreams: []gateway.Upstream{{Name: "demo", Server: everything.NewServer(nil)}}}
	opts.Hooks.Identify = func(ctx context.Context, r *mcp.Request) *gateway.Identity {
		return &gateway.Identity{Subject: "alice", Tenant: "acme"}
	}
	obs, err := setupObservability(ctx, cfg, &opts, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	obs.attach(g)
	ts := httptest.NewServer(g.Handler())
	cs, err := mcp.NewClient(protocol.Implementation{Name: "cli-test", Version: "1"}, nil).Connect(ctx, streamable.NewDialer(ts.URL+gateway.PathMCP, nil))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cs.Close()
		ts.Close()
		g.Close()
		obs.Close()
		db.Close()
	}
	t.Cleanup(stop)
	return cs, obs, stop
}

// The commands on a trail that serve wrote: a budget refuses the fourth
// call, verify passes, search finds the denial, usage sums the calls, and
// after an edit in the database verify fails naming the record — on
// SQLite and on PostgreSQL ($SWITCHBOARD_DATABASE_URL).
func TestAuditAndUsageCommands(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(store.MasterKeyEnv, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
			var raw *sql.DB
			if backend == "postgres" {
				dsn := pgtest.DSN(t)
				t.Setenv(databaseURLEnv, dsn)
				var err error
				if raw, err = sql.Open("pgx", dsn); err != nil {
					t.Fatal(err)
				}
			} else {
				os.Unsetenv(databaseURLEnv)
				var err error
				if raw, err = sql.Open("sqlite", "file:"+filepath.Join(dir, store.FileName)+"?_pragma=busy_timeout(10000)"); err != nil {
					t.Fatal(err)
				}
			}
			defer raw.Close()
			cs, obs, stop := serveObserved(t, `
audit: {stream: gw, export: {file: {path: trail.jsonl}}}
costs:
  default: 1
  budgets: [{name: hourly, per: identity, period: hour, limit: 3, warnAt: 0.5}]
`, dir)
			ctx := ctxT(t)
			for i := range 4 {
				res, err := cs.CallToolArgs(ctx, "echo", map[string]any{"text": "x"})
				if err != nil {
					t.Fatal(err)
				}
				if res.IsError != (i == 3) {
					t.Fatalf("call %d: isError %v", i+1, res.IsError)
				}
			}
			// The admin API's usage route.
			rec := httptest.NewRecorder()
			obs.routes()["GET /api/usage"].ServeHTTP(rec, httptest.NewRequest("GET", "/api/usage?by=identity,tool", nil))
			if !strings.Contains(rec.Body.String(), `{"identity":"alice","tool":"echo","calls":4,"errors":0,"denied":1,"cost":3}`) {
				t.Errorf("GET /api/usage: %d %s", rec.Code, rec.Body)
			}
			rec = httptest.NewRecorder()
			obs.routes()["GET /api/audit"].ServeHTTP(rec, httptest.NewRequest("GET", "/api/audit?outcome=denied", nil))
			if !strings.Contains(rec.Body.String(), `"rule":"budget:hourly"`) {
				t.Errorf("GET /api/audit: %d %s", rec.Code, rec.Body)
			}
			stop()

			out, _, err := runBoth(t, "audit", "verify", "--data-dir", dir)
			if err != nil || !strings.Contains(out, `stream "gw": ok, records 1 to `) {
				t.Fatalf("verify: %v\n%s", err, out)
			}
			out, _, err = runBoth(t, "audit", "search", "--data-dir", dir, "--outcome", "denied", "--json")
			if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"rule":"budget:hourly"`) || !strings.Contains(out, `"subject":"alice"`) {
				t.Fatalf("search: %v\n%s", err, out)
			}
			out, _, err = runBoth(t, "audit", "search", "--data-dir", dir, "--kind", "budget")
			if err != nil || !strings.Contains(out, "warning") || !strings.Contains(out, "exhausted") {
				t.Fatalf("budget records: %v\n%s", err, out)
			}
			out, _, err = runBoth(t, "audit", "tail", "--data-dir", dir, "-n", "2")
			if err != nil || strings.Count(out, "\n") != 2 {
				t.Fatalf("tail: %v\n%s", err, out)
			}
			out, _, err = runBoth(t, "usage", "--data-dir", dir, "--by", "tenant,identity,tool", "--format", "json")
			var rows []map[string]any
			if err != nil || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0]["calls"] != 4.0 || rows[0]["denied"] != 1.0 || rows[0]["cost"] != 3.0 || rows[0]["tenant"] != "acme" {
				t.Fatalf("usage: %v\n%s", err, out)
			}
			out, _, err = runBoth(t, "usage", "--data-dir", dir, "--by", "tool", "--format", "csv")
			if err != nil || out != "tool,calls,errors,denied,cost\necho,4,0,1,3\n" {
				t.Fatalf("usage csv: %v\n%q", err, out)
			}
			exp := filepath.Join(dir, "export.jsonl")
			if _, _, err := runBoth(t, "audit", "export", "--data-dir", dir, "-o", exp); err != nil {
				t.Fatal(err)
			}
			key, _, err := runBoth(t, "audit", "key", "--data-dir", dir)
			if err != nil {
				t.Fatal(err)
			}
			if out, _, err := runBoth(t, "audit", "verify", "--file", exp, "--public-key", strings.TrimSpace(key)); err != nil || !strings.Contains(out, "ok") {
				t.Fatalf("verify an export: %v\n%s", err, out)
			}
			// The file sink got the same records.
			if data, err := os.ReadFile(filepath.Join(dir, "trail.jsonl")); err != nil || !strings.Contains(string(data), `"rule":"budget:hourly"`) {
				t.Fatalf("the file export: %v\n%s", err, data)
			}

			// Tamper: the denial becomes a success.
			q := `UPDATE audit_records SET body = REPLACE(body, '"outcome":"denied"', '"outcome":"ok"') WHERE outcome = 'denied'`
			if _, err := raw.Exec(q); err != nil {
				t.Fatal(err)
			}
			var seq int64
			if err := raw.QueryRow(`SELECT seq FROM audit_records WHERE outcome = 'denied'`).Scan(&seq); err != nil {
				t.Fatal(err)
			}
			out, _, err = runBoth(t, "audit", "verify", "--data-dir", dir)
			var ee exitError
			if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, "FAILED at record") || !strings.Contains(out, "tools/call echo") ||
				!strings.Contains(out, "was edited") {
				t.Fatalf("verify after tampering: %v\n%s", err, out)
			}
			if !strings.Contains(out, "record "+itoa64(seq)+" of stream") {
				t.Errorf("verify names another record than %d:\n%s", seq, out)
			}
		})
	}
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
