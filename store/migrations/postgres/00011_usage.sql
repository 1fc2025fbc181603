-- The PostgreSQL twin of migrations/sqlite/00011_usage.sql.
-- The usage ledger (package usage, through store.UsageStorage): calls,
-- errors, denials and cost units per hour (Unix milliseconds of the
-- hour's start, UTC), tenant, subject, client, upstream and tool.

-- +goose Up
CREATE TABLE usage_ledger (
    hour     BIGINT  NOT NULL,
    tenant   TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    client   TEXT    NOT NULL,
    upstream TEXT    NOT NULL,
    tool     TEXT    NOT NULL,
    calls    BIGINT  NOT NULL,
    errors   BIGINT  NOT NULL,
    denied   BIGINT  NOT NULL,
    cost     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (hour, tenant, subject, client, upstream, tool)
);
CREATE INDEX usage_ledger_tenant ON usage_ledger (tenant, hour);
CREATE INDEX usage_ledger_subject ON usage_ledger (subject, hour);

-- +goose Down
DROP TABLE usage_ledger;
