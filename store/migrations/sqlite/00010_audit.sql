-- The audit trail (package audit, through store.AuditStorage): records
-- chained by hash per stream, signed checkpoints, the signing key sealed
-- with the master key. body is the hashed JSON; the other columns index
-- it and are checked against it by audit.Verify. Times are Unix
-- milliseconds. Only time is indexed (searches are bounded by time): each
-- index costs every insert, and the trail is written far more often than
-- searched.

-- +goose Up
CREATE TABLE audit_records (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    stream    TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    time_ms   INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    method    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    tenant    TEXT    NOT NULL,
    client_id TEXT    NOT NULL,
    upstream  TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    original  TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    UNIQUE (stream, seq)
);
CREATE INDEX audit_records_time ON audit_records (time_ms);

CREATE TABLE audit_checkpoints (
    stream    TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    hash      TEXT    NOT NULL,
    time_ms   INTEGER NOT NULL,
    time_text TEXT    NOT NULL,
    key_id    TEXT    NOT NULL,
    signature TEXT    NOT NULL,
    PRIMARY KEY (stream, seq)
);

CREATE TABLE audit_keys (
    id         TEXT    PRIMARY KEY,
    sealed     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE audit_keys;
DROP TABLE audit_checkpoints;
DROP TABLE audit_records;
