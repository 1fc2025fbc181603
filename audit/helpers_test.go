package audit_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-mcp/switchboard/internal/pgtest"
	"github.com/switchboard-mcp/switchboard/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backend is a database the tests run against, with a raw connection
// to tamper with it as an attacker with database access would.
type backend struct {
	name string
	open func(t *testing.T) (*store.DB, *sql.DB)
}

var backends = []backend{
	{"sqlite", func(t *testing.T) (*store.DB, *sql.DB) {
		dir := t.TempDir()
		db, err := store.Open(context.Background(), dir, &store.Options{MasterKey: testKey})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.FileName)+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, raw
	}},
	{"postgres", func(t *testing.T) (*store.DB, *sql.DB) {
		dsn := pgtest.DSN(t)
		db, err := store.Open(context.Background(), t.TempDir(), &store.Options{MasterKey: testKey, URL: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, raw
	}},
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

// tamper runs a statement written with ? placeholders on the raw
// connection.
func tamper(t *testing.T, b backend, raw *sql.DB, q string, args ...any) {
	t.Helper()
	if b.name == "postgres" {
		n := 0
		var sb strings.Builder
		for _, c := range q {
			if c == '?' {
				n++
				sb.WriteString("$" + strconv.Itoa(n))
				continue
			}
			sb.WriteRune(c)
		}
		q = sb.String()
	}
	if _, err := raw.Exec(q, args...); err != nil {
		t.Fatalf("tampering: %s: %v", q, err)
	}
}

func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

var _ = os.Getenv

func jsonValid(b []byte) bool {
	var v any
	return json.Unmarshal(b, &v) == nil
}
