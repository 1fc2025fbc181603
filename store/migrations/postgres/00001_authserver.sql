-- The PostgreSQL twin of migrations/sqlite/00001_authserver.sql.
-- The embedded authorization server's state (package authserver, through
-- store.AuthServerStorage). Times are Unix milliseconds; 0 means never.
-- Lists are JSON arrays of strings. No secret is stored in the clear: the
-- signing key is sealed with the master key (AES-256-GCM), client secrets
-- and refresh tokens are SHA-256 digests.

-- +goose Up
CREATE TABLE authserver_keys (
    id         TEXT    PRIMARY KEY,
    sealed     BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL
);

CREATE TABLE authserver_clients (
    id            TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL,
    secret_hash   BYTEA,
    auth_method   TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    uri           TEXT    NOT NULL,
    redirect_uris TEXT    NOT NULL,
    grant_types   TEXT    NOT NULL,
    scopes        TEXT,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL
);
CREATE INDEX authserver_clients_kind ON authserver_clients (kind);
CREATE INDEX authserver_clients_expires ON authserver_clients (expires_at);

CREATE TABLE authserver_grants (
    id           TEXT    PRIMARY KEY,
    client_id    TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    grant_type   TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,
    resource     TEXT    NOT NULL,
    binding      TEXT    NOT NULL,
    revoked      BIGINT  NOT NULL,
    refresh_hash BYTEA,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX authserver_grants_client ON authserver_grants (client_id);
CREATE INDEX authserver_grants_binding ON authserver_grants (binding);
CREATE INDEX authserver_grants_expires ON authserver_grants (expires_at);

CREATE TABLE authserver_refresh_tokens (
    hash       BYTEA   PRIMARY KEY,
    grant_id   TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX authserver_refresh_tokens_expires ON authserver_refresh_tokens (expires_at);

CREATE TABLE authserver_access_tokens (
    jti        TEXT    PRIMARY KEY,
    grant_id   TEXT    NOT NULL,
    revoked    BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX authserver_access_tokens_expires ON authserver_access_tokens (expires_at);

CREATE TABLE authserver_revoked_bindings (
    binding    TEXT    PRIMARY KEY,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX authserver_revoked_bindings_expires ON authserver_revoked_bindings (expires_at);

-- +goose Down
DROP TABLE authserver_revoked_bindings;
DROP TABLE authserver_access_tokens;
DROP TABLE authserver_refresh_tokens;
DROP TABLE authserver_grants;
DROP TABLE authserver_clients;
DROP TABLE authserver_keys;
