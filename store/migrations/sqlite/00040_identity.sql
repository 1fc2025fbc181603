-- Identity (issue 14): claims carried by a grant (groups, tenant, email,
-- the DPoP key thumbprint...), machine API keys (hashed with a pepper),
-- the data keys that seal secrets (envelope encryption, rotated by
-- "switchboard keys rotate"), and the token vault of upstream
-- credentials (sealed).

-- +goose Up
ALTER TABLE authserver_grants ADD COLUMN claims TEXT;

CREATE TABLE identity_api_keys (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    hash        BLOB    NOT NULL,
    subject     TEXT    NOT NULL,
    tenant      TEXT    NOT NULL,
    groups_json TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER NOT NULL,
    last_used   INTEGER NOT NULL
);

CREATE TABLE identity_data_keys (
    id         TEXT    PRIMARY KEY,
    sealed     BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER NOT NULL
);

CREATE TABLE identity_secrets (
    name       TEXT    PRIMARY KEY,
    key_id     TEXT    NOT NULL,
    sealed     BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX identity_secrets_key ON identity_secrets (key_id);

-- +goose Down
DROP TABLE identity_secrets;
DROP TABLE identity_data_keys;
DROP TABLE identity_api_keys;
ALTER TABLE authserver_grants DROP COLUMN claims;
