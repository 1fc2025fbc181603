package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/switchboard-mcp/switchboard/store"
)

// dataDirFlag adds --data-dir to f, defaulting to the user's data
// directory (resolved when the command runs, so an unset HOME does not
// break other commands).
func dataDirFlag(f *pflag.FlagSet, p *string) {
	def, _ := store.DefaultDir()
	f.StringVar(p, "data-dir", "", fmt.Sprintf("directory of the state that survives restarts: database and master key (default %s)", orText(def, "the user data directory")))
}

// databaseURLEnv names a PostgreSQL database to use instead of the data
// directory's SQLite file (the master key stays in the data directory or
// $SWITCHBOARD_MASTER_KEY).
const databaseURLEnv = "SWITCHBOARD_DATABASE_URL"

// openStore opens the database of the data directory dir (the default
// one when empty) and says on w which directory it is.
func openStore(ctx context.Context, dir string, w io.Writer, what string) (*store.DB, error) {
	if dir == "" {
		var err error
		if dir, err = store.DefaultDir(); err != nil {
			return nil, fmt.Errorf("no data directory: %w (use --data-dir)", err)
		}
	}
	db, err := store.Open(ctx, dir, &store.Options{URL: os.Getenv(databaseURLEnv)})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "switchboard %s: data directory %s\n", what, db.Dir())
	if db.Backend() != "sqlite" {
		fmt.Fprintf(w, "switchboard %s: database %s ($%s)\n", what, db.Backend(), databaseURLEnv)
	}
	return db, nil
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
