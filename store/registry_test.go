package store

import (
	"context"
	"testing"
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
