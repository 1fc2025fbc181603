package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// newestMigration is the number of the newest embedded SQLite migration.
func newestMigration(t *testing.T) int64 {
	t.Helper()
	names, err := fs.Glob(migrations, "migrations/sqlite/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	var newest int64
	for _, n := range names {
		num, _, _ := strings.Cut(filepath.Base(n), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", n, err)
		}
		newest = max(newest, v)
	}
	return newest
}

// TestRegistryTables: Open creates the registry's tables (migration 00030)
// and RegistryDB hands out the database.
func TestRegistryTables(t *testing.T) {
	db := openTest(t, t.TempDir())
	h, dialect := db.RegistryDB()
	if dialect != "sqlite" {
		t.Fatalf("dialect %q", dialect)
	}
	for _, tbl := range []string{"registry_servers", "registry_servers_fts", "registry_curation", "registry_sync"} {
		var n int
		if err := h.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+tbl).Scan(&n); err != nil {
			t.Errorf("%s: %v", tbl, err)
		}
	}
}
