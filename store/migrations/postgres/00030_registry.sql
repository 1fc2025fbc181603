-- The MCP registry's state on PostgreSQL (see the SQLite twin,
-- store/migrations/sqlite/00030_registry.sql). Names and versions sort
-- bytewise (COLLATE "C") so that the list order and cursors are the same
-- on both databases. Substring search uses pg_trgm.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE registry_servers (
    name              TEXT COLLATE "C" NOT NULL,
    version           TEXT COLLATE "C" NOT NULL,
    description       TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    status_message    TEXT,
    status_changed_at BIGINT  NOT NULL,
    published_at      BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    is_latest         INTEGER NOT NULL,
    origin            TEXT    NOT NULL DEFAULT '',
    body              TEXT    NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE INDEX registry_servers_latest ON registry_servers (name, version) WHERE is_latest = 1;
CREATE INDEX registry_servers_updated ON registry_servers (updated_at);
CREATE INDEX registry_servers_name_trgm ON registry_servers USING gin (lower(name) gin_trgm_ops);
CREATE INDEX registry_servers_desc_trgm ON registry_servers USING gin (lower(description) gin_trgm_ops);

CREATE TABLE registry_curation (
    name       TEXT COLLATE "C" PRIMARY KEY,
    state      TEXT   NOT NULL,
    note       TEXT   NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);

CREATE TABLE registry_sync (
    source       TEXT   PRIMARY KEY,
    since        BIGINT NOT NULL,
    run_since    BIGINT NOT NULL,
    cursor       TEXT   NOT NULL,
    max_seen     BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    run_started  BIGINT NOT NULL,
    completed_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE registry_sync;
DROP TABLE registry_curation;
DROP TABLE registry_servers;
