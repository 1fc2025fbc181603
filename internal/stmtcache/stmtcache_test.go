package stmtcache_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/switchboard-mcp/switchboard/internal/stmtcache"
)

func TestCache(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	c := &stmtcache.Cache{DB: db, Max: 2}
	ins := c.Get(ctx, "INSERT INTO t (k, v) VALUES (?, ?)")
	if ins == nil || c.Get(ctx, "INSERT INTO t (k, v) VALUES (?, ?)") != ins {
		t.Fatal("the same SQL did not give the same statement")
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Get(ctx, "INSERT INTO t (k, v) VALUES (?, ?)").Exec(i, "x"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if c.Get(ctx, "SELEC nonsense") != nil {
		t.Fatal("a statement that does not compile was cached")
	}
	if c.Get(ctx, "SELECT COUNT(*) FROM t") == nil {
		t.Fatal("the second statement was not prepared")
	}
	if c.Get(ctx, "SELECT v FROM t") != nil {
		t.Fatal("a third statement went past Max")
	}
	var n int
	if err := c.Get(ctx, "SELECT COUNT(*) FROM t").QueryRow().Scan(&n); err != nil || n != 20 {
		t.Fatalf("%d rows, %v", n, err)
	}
	c.Close()
	if _, err := ins.Exec(99, "y"); err == nil {
		t.Fatal("a statement still runs after Close")
	}
}
