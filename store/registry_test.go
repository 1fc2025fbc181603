package store

import (
	"context"
	"testing"

	"github.com/switchboard-mcp/switchboard/internal/pgtest"
)

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

// On PostgreSQL the store creates the registry's tables too, so that a
// registry on the gateway's database needs no database of its own.
func TestRegistryTablesPostgres(t *testing.T) {
	db, err := Open(context.Background(), t.TempDir(), &Options{URL: pgtest.DSN(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h, dialect := db.RegistryDB()
	if dialect != "postgres" {
		t.Fatalf("dialect %q", dialect)
	}
	for _, tbl := range []string{"registry_servers", "registry_curation", "registry_sync"} {
		var n int
		if err := h.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+tbl).Scan(&n); err != nil {
			t.Errorf("%s: %v", tbl, err)
		}
	}
	// Search has one trigram index, without GIN's pending list (rows of a
	// mirror waiting there made the planner scan the table).
	var opts string
	if err := h.QueryRowContext(context.Background(), "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'registry_servers_search_trgm'").Scan(&opts); err != nil || opts != "fastupdate=off" {
		t.Errorf("registry_servers_search_trgm: options %q, %v", opts, err)
	}
}
