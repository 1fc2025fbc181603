package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

var postgresDialect = dialect{
	name:       "postgres",
	goose:      goose.DialectPostgres,
	migrations: "migrations/postgres",
	rebind:     rebindDollar,
	locker:     func() (lock.SessionLocker, error) { return lock.NewPostgresSessionLocker() },
}

// IsPostgresURL reports whether s names a PostgreSQL database: a
// postgres:// or postgresql:// URL, or a libpq key=value connection
// string ("host=/run/postgresql dbname=switchboard").
func IsPostgresURL(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		return true
	}
	return strings.Contains(s, "=") && !strings.Contains(s, "://")
}

// openPostgres opens the PostgreSQL database of opts.URL and migrates it.
func openPostgres(ctx context.Context, dir string, opts *Options, sl *sealer) (*DB, error) {
	if !IsPostgresURL(opts.URL) {
		return nil, fmt.Errorf("store: %q is not a PostgreSQL URL (postgres://… or key=value pairs)", redactURL(opts.URL))
	}
	sdb, err := sql.Open("pgx", opts.URL)
	if err != nil {
		return nil, fmt.Errorf("store: opening PostgreSQL %s: %w", redactURL(opts.URL), err)
	}
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: connecting to PostgreSQL %s: %w", redactURL(opts.URL), err)
	}
	db := &DB{sql: sdb, dialect: postgresDialect, sealer: sl, dir: dir, log: opts.Logger}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	return db, nil
}

// rebindDollar turns "?" placeholders into PostgreSQL's $1, $2, … (the
// queries of this package hold no "?" inside string literals).
func rebindDollar(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// redactURL hides the password of a connection URL or string for
// messages.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if at := strings.Index(rest, "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				return s[:i+3] + rest[:c] + ":xxxxx" + rest[at:]
			}
		}
		return s
	}
	var out []string
	for f := range strings.FieldsSeq(s) {
		if k, _, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "password") {
			f = k + "=xxxxx"
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}
