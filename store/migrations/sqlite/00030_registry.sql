-- The MCP registry's state (package registry, through registry.SQLStore):
-- server versions with their registry-managed metadata, curation
-- (approval) states, and the progress of mirroring other registries.
-- Times are Unix microseconds; booleans are 0/1. The same tables exist on
-- PostgreSQL (registry/migrations/postgres/00030_registry.sql).

-- +goose Up
CREATE TABLE registry_servers (
    name              TEXT    NOT NULL,
    version           TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    status_message    TEXT,
    status_changed_at INTEGER NOT NULL,
    published_at      INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    is_latest         INTEGER NOT NULL,
    origin            TEXT    NOT NULL DEFAULT '',
    -- The document last: reading the other columns does not walk its
    -- overflow pages.
    body              TEXT    NOT NULL
);
-- The list route's order and cursor: (name, version) ascending, bytewise.
CREATE UNIQUE INDEX registry_servers_key ON registry_servers (name, version);
CREATE INDEX registry_servers_latest ON registry_servers (name, version) WHERE is_latest = 1;
CREATE INDEX registry_servers_updated ON registry_servers (updated_at);
-- Searches that match many rows walk this index in list order, testing the
-- name and description without reading the documents.
CREATE INDEX registry_servers_search ON registry_servers (name, version, status, description);

-- Substring search on names and descriptions: an FTS5 trigram index kept
-- in step with registry_servers by triggers.
CREATE VIRTUAL TABLE registry_servers_fts USING fts5(
    name, description, content='registry_servers', content_rowid='rowid', tokenize='trigram'
);
-- +goose StatementBegin
CREATE TRIGGER registry_servers_ai AFTER INSERT ON registry_servers BEGIN
    INSERT INTO registry_servers_fts (rowid, name, description) VALUES (new.rowid, new.name, new.description);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER registry_servers_ad AFTER DELETE ON registry_servers BEGIN
    INSERT INTO registry_servers_fts (registry_servers_fts, rowid, name, description) VALUES ('delete', old.rowid, old.name, old.description);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER registry_servers_au AFTER UPDATE OF name, description ON registry_servers BEGIN
    INSERT INTO registry_servers_fts (registry_servers_fts, rowid, name, description) VALUES ('delete', old.rowid, old.name, old.description);
    INSERT INTO registry_servers_fts (rowid, name, description) VALUES (new.rowid, new.name, new.description);
END;
-- +goose StatementEnd

CREATE TABLE registry_curation (
    name       TEXT    PRIMARY KEY,
    state      TEXT    NOT NULL,
    note       TEXT    NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);

CREATE TABLE registry_sync (
    source       TEXT    PRIMARY KEY,
    since        INTEGER NOT NULL,
    run_since    INTEGER NOT NULL,
    cursor       TEXT    NOT NULL,
    max_seen     INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    run_started  INTEGER NOT NULL,
    completed_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE registry_sync;
DROP TABLE registry_curation;
DROP TRIGGER registry_servers_au;
DROP TRIGGER registry_servers_ad;
DROP TRIGGER registry_servers_ai;
DROP TABLE registry_servers_fts;
DROP TABLE registry_servers;
