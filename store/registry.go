package store

import "database/sql"

// RegistryDB returns the database handle and the backend's name
// ("sqlite") for the MCP registry's store (package registry), whose
// tables the migrations numbered 00030–00039 create.
func (db *DB) RegistryDB() (*sql.DB, string) { return db.sql, db.dialect.name }
