// Package store keeps Switchboard's durable state in a database: the
// embedded authorization server's signing key, clients, grants, refresh
// tokens and revocations ([DB.AuthServer], an authserver.Storage), so that
// a restart of "switchboard serve --auth" or "switchboard auth-server"
// logs nobody out; and API keys, data keys and the vault's sealed secrets
// ([DB.Identity], an identity.Storage).
//
// The database is embedded SQLite, through the pure-Go driver
// modernc.org/sqlite (no cgo), in a data directory ([DefaultDir]):
//
//	db, err := store.Open(ctx, dir, nil)
//	...
//	defer db.Close()
//	as, err := authserver.New(authserver.Options{Issuer: iss, Storage: db.AuthServer()})
//
// It runs in WAL mode with a busy timeout, so that the administration
// commands ("switchboard auth-server clients add") can write while a
// server runs. The schema is versioned: Open applies the migrations
// embedded under migrations/ (goose, numbered 00001, 00002, …) that the
// database has not seen yet. The API hides SQL and the driver.
//
// PostgreSQL is used instead when [Options.URL] names a server
// ("postgres://user@host/db", or a key=value connection string), through
// the pgx driver; the data directory then holds only the master key
// (share it between replicas with $SWITCHBOARD_MASTER_KEY). Its
// migrations live under migrations/postgres and run under an advisory
// lock, so that replicas starting together migrate once.
//
// Secrets at rest are encrypted with AES-256-GCM under a master key (see
// [LoadMasterKey]): the environment variable SWITCHBOARD_MASTER_KEY, or
// the file master.key in the data directory, created with mode 0600 on
// first use. [DB.RotateMasterKey] seals everything sealed under it again
// under a new one. Client secrets and refresh tokens are stored only as SHA-256
// digests.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/switchboard-mcp/switchboard/internal/stmtcache"
)

// FileName is the name of the SQLite database in the data directory.
const FileName = "switchboard.db"

// busyTimeout is how long a statement waits for another connection's (or
// process's) write lock before failing.
const busyTimeout = 10 * time.Second

//go:embed migrations
var migrations embed.FS

// Options configure [Open].
type Options struct {
	// MasterKey is the 32-byte key that encrypts secrets at rest. Nil
	// means [LoadMasterKey] for the data directory.
	MasterKey []byte
	// Logger receives migration and maintenance messages (default:
	// discarded). Secrets are never logged.
	Logger *slog.Logger
	// URL, if set, is a PostgreSQL database to use instead of the data
	// directory's SQLite file: a postgres:// or postgresql:// URL or a
	// key=value connection string (see [IsPostgresURL]).
	URL string
}

// DB is an open Switchboard database. It is safe for concurrent use.
type DB struct {
	sql     *sql.DB
	dialect dialect
	sealer  *sealer
	dir     string
	// keyFromFile: the master key is the data directory's master.key.
	keyFromFile bool
	log         *slog.Logger

	stmts stmtcache.Cache // SQLite's prepared statements

	mu sync.Mutex
	// auditInsert holds the INSERT of n audit records, by n.
	auditInsert map[int]string
}

// dialect is what differs between database backends: the goose dialect,
// the migrations directory, and the placeholder syntax. Queries are
// written with "?" placeholders; rebind turns them into the backend's.
type dialect struct {
	name       string
	goose      goose.Dialect
	migrations string
	rebind     func(query string) string
	// locker, if set, makes the lock that serializes migrations of
	// several processes.
	locker func() (lock.SessionLocker, error)
}

var sqliteDialect = dialect{
	name:       "sqlite",
	goose:      goose.DialectSQLite3,
	migrations: "migrations/sqlite",
	rebind:     func(q string) string { return q },
}

// Open opens the SQLite database of the data directory dir, creating the
// directory (mode 0700) and the database when they do not exist, and
// migrates it to the newest schema. Close the DB when done.
func Open(ctx context.Context, dir string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	if dir == "" {
		return nil, errors.New("store: no data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: creating the data directory: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	key := opts.MasterKey
	fromFile := false
	if key == nil {
		var err error
		if key, err = LoadMasterKey(dir); err != nil {
			return nil, err
		}
		_, inEnv := os.LookupEnv(MasterKeyEnv)
		fromFile = !inEnv
	}
	sl, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	if fromFile {
		sl.reload = func() ([][]byte, error) { return masterKeysInDir(dir) }
		// A master key rotation that stopped half-way left its new key
		// beside the old one: values may be sealed under either.
		if keys, err := masterKeysInDir(dir); err == nil {
			for _, k := range keys[1:] {
				_ = sl.add(k, false)
			}
		}
	}
	if opts.URL != "" {
		db, err := openPostgres(ctx, dir, opts, sl)
		if db != nil {
			db.keyFromFile = fromFile
		}
		return db, err
	}
	path := filepath.Join(dir, FileName)
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + filepath.ToSlash(path) + "?" + q.Encode()
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	// Keep the connections of a burst of readers (the registry's lookups,
	// the console): database/sql keeps 2 by default, and a new SQLite
	// connection costs its pragmas and recompiles every prepared
	// statement (versions/latest at 8 in flight: 30 -> 23 us a lookup).
	sdb.SetMaxIdleConns(maxIdleConns)
	db := &DB{sql: sdb, dialect: sqliteDialect, sealer: sl, dir: dir, log: opts.Logger, keyFromFile: fromFile}
	db.stmts.DB = sdb
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	return db, nil
}

// maxIdleConns is the number of idle SQLite connections kept open.
const maxIdleConns = 16

// migrate applies the migrations the database has not seen.
func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, db.dialect.migrations)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	popts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithSlog(db.log),
		// Migrations are numbered by area (00001 the authorization server,
		// 00010-00019 audit and usage, ...): a database may have seen a
		// higher number before a lower one exists.
		goose.WithAllowOutofOrder(true)}
	if db.dialect.locker != nil {
		l, err := db.dialect.locker()
		if err != nil {
			return fmt.Errorf("store: migrations: %w", err)
		}
		popts = append(popts, goose.WithSessionLocker(l))
	}
	p, err := goose.NewProvider(db.dialect.goose, db.sql, fsys, popts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrating %s: %w", db.dir, err)
	}
	for _, r := range results {
		db.log.Info("store: migrated", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// SchemaVersion returns the version of the newest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	fsys, err := fs.Sub(migrations, db.dialect.migrations)
	if err != nil {
		return 0, err
	}
	p, err := goose.NewProvider(db.dialect.goose, db.sql, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

// Dir returns the data directory.
func (db *DB) Dir() string { return db.dir }

// Backend names the database backend: "sqlite" or "postgres".
func (db *DB) Backend() string { return db.dialect.name }

// Close closes the database.
func (db *DB) Close() error {
	db.stmts.Close()
	return db.sql.Close()
}

// prepared returns the kept prepared statement of q (already rebound) on
// SQLite, where compiling a statement can cost more than running it;
// nil on PostgreSQL (pgx keeps a statement cache of its own) or when
// there is none: the caller then runs q unprepared.
func (db *DB) prepared(ctx context.Context, q string) *sql.Stmt {
	if db.dialect.name != sqliteDialect.name {
		return nil
	}
	return db.stmts.Get(ctx, q)
}

// txExec runs q (already rebound) in tx, as a kept prepared statement
// where there is one.
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := db.prepared(ctx, q); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// exec, query and queryRow run a statement written with "?"
// placeholders.
func (db *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.sql.ExecContext(ctx, db.dialect.rebind(q), args...)
}

func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.sql.QueryContext(ctx, db.dialect.rebind(q), args...)
}

func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.sql.QueryRowContext(ctx, db.dialect.rebind(q), args...)
}

// tx runs f in a transaction, committed if f returns nil.
func (db *DB) tx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// DefaultDir returns Switchboard's default data directory: "switchboard"
// under the user's data directory ([UserDataDir]).
func DefaultDir() (string, error) {
	d, err := UserDataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "switchboard"), nil
}

// UserDataDir returns the directory for the user's application data:
// $XDG_DATA_HOME or ~/.local/share on Linux and other Unix systems,
// ~/Library/Application Support on macOS, %LocalAppData% on Windows.
func UserDataDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return d, nil
		}
		return "", errors.New("store: %LocalAppData% is not set")
	case "darwin", "ios":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support"), nil
	case "plan9":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "lib"), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share"), nil
}
