package registry

import (
	"context"
	"database/sql"
	"fmt"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/pressly/goose/v3"

	"github.com/switchboard-mcp/switchboard/store"
)

// PostgresVersionTable is the table in which [OpenPostgres] records the
// registry's migrations, apart from any other user of the database.
const PostgresVersionTable = "switchboard_registry_migrations"

// OpenPostgres connects to the PostgreSQL database at dsn (a URL such as
// postgres://user:pass@host:5432/db?sslmode=disable, or key=value pairs)
// through github.com/jackc/pgx/v5, applies the registry's migrations
// (recorded in [PostgresVersionTable]) and returns a store that closes the
// connection pool when closed. The pg_trgm extension must be available
// (it ships with PostgreSQL; creating it needs the CREATE privilege on the
// database).
func OpenPostgres(ctx context.Context, dsn string) (*SQLStore, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("registry: opening PostgreSQL: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("registry: connecting to PostgreSQL: %w", err)
	}
	// The registry's migrations are package store's (00030–00039), the
	// same that a store opened on PostgreSQL applies.
	p, err := goose.NewProvider(goose.DialectPostgres, db, store.RegistryPostgresMigrations(),
		goose.WithDisableGlobalRegistry(true), goose.WithTableName(PostgresVersionTable))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("registry: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("registry: migrating PostgreSQL: %w", err)
	}
	s, _ := OpenSQL(db, DialectPostgres)
	s.closeDB = true
	return s, nil
}
