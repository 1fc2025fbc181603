package store

import (
	"context"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/pgtest"
	"github.com/switchboard-mcp/switchboard/pins"
)

// latestMigration is the number of the newest embedded migration.
func latestMigration(t *testing.T) int64 {
	t.Helper()
	entries, err := fs.ReadDir(migrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseInt(num, 10, 64); err == nil && v > n {
			n = v
		}
	}
	return n
}

// The pins on both backends.
func TestPinStorage(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testPinStorage(t, openTest(t, t.TempDir()).Pins()) })
	t.Run("postgres", func(t *testing.T) {
		db, err := Open(context.Background(), t.TempDir(), &Options{URL: pgtest.DSN(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testPinStorage(t, db.Pins())
	})
}

// Every SQLite migration has its PostgreSQL twin, and no twin is left
// without its SQLite original: a part that stores something works on both.
func TestMigrationTwins(t *testing.T) {
	names := func(dir string) map[string]bool {
		entries, err := fs.ReadDir(migrations, dir)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, e := range entries {
			m[e.Name()] = true
		}
		return m
	}
	lite, pg := names("migrations/sqlite"), names("migrations/postgres")
	for n := range lite {
		if !pg[n] {
			t.Errorf("migrations/sqlite/%s has no PostgreSQL twin migrations/postgres/%s", n, n)
		}
	}
	for n := range pg {
		if !lite[n] {
			t.Errorf("migrations/postgres/%s has no SQLite original", n)
		}
	}
}

func testPinStorage(t *testing.T, s *PinStorage) {
	ctx := context.Background()
	k := pins.Key{Upstream: "up", Tool: "greet"}
	now := time.UnixMilli(time.Now().UnixMilli())
	f := []pins.Finding{{Kind: pins.FindingInvisibleUnicode, Where: "description", Detail: "U+200B x1"}}
	if err := s.SavePending(ctx, pins.Pending{Key: k, Hash: "h1", Definition: jsontext.Value(`{"name":"greet"}`), FirstSeen: now, LastSeen: now, Findings: f}); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Minute)
	if err := s.SavePending(ctx, pins.Pending{Key: k, Hash: "h1", Definition: jsontext.Value(`{"name":"greet"}`), FirstSeen: later, LastSeen: later, Findings: f}); err != nil {
		t.Fatal(err)
	}
	pend, err := s.Pending(ctx)
	if err != nil || len(pend) != 1 || !pend[0].FirstSeen.Equal(now) || !pend[0].LastSeen.Equal(later) || len(pend[0].Findings) != 1 {
		t.Fatalf("pending: %v %+v", err, pend)
	}
	p, err := pins.Approve(ctx, s, k, "admin", true, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Pins(ctx)
	if err != nil || len(got) != 1 || got[0].Hash != "h1" || got[0].ApprovedBy != "admin" || string(got[0].Definition) != `{"name":"greet"}` || !got[0].ApprovedAt.Equal(time.UnixMilli(p.ApprovedAt.UnixMilli())) {
		t.Fatalf("pins: %v %+v", err, got)
	}
	if pend, _ := s.Pending(ctx); len(pend) != 0 {
		t.Errorf("pending after approval: %+v", pend)
	}
	if err := s.DeletePin(ctx, k); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Pins(ctx); len(got) != 0 {
		t.Errorf("pins after delete: %+v", got)
	}
}
