package store

import (
	"database/sql"
	"io/fs"
	"strings"
)

// RegistryDB returns the database handle and the backend's name
// ("sqlite" or "postgres") for the MCP registry's store (package
// registry), whose tables the migrations numbered 00030–00039 create.
func (db *DB) RegistryDB() (*sql.DB, string) { return db.sql, db.dialect.name }

// RegistryPostgresMigrations returns the PostgreSQL migrations of the
// registry's tables alone (00030–00039), for a registry that keeps a
// database of its own (registry.OpenPostgres); a DB opened on PostgreSQL
// applies them with all the others.
func RegistryPostgresMigrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations/postgres")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return prefixFS{FS: sub, prefix: "0003"}
}

// prefixFS shows the files of a flat directory whose names start with
// prefix.
type prefixFS struct {
	fs.FS
	prefix string
}

func (f prefixFS) Open(name string) (fs.File, error) {
	if name != "." && !strings.HasPrefix(name, f.prefix) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.FS.Open(name)
}

func (f prefixFS) ReadDir(name string) ([]fs.DirEntry, error) {
	all, err := fs.ReadDir(f.FS, name)
	if err != nil {
		return nil, err
	}
	var out []fs.DirEntry
	for _, e := range all {
		if strings.HasPrefix(e.Name(), f.prefix) {
			out = append(out, e)
		}
	}
	return out, nil
}
