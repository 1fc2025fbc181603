-- Tool pinning (package pins, through store.PinStorage): the approved
-- definition of each upstream tool, and the definitions waiting for
-- approval (new, flagged, or changed since their pin). Times are Unix
-- milliseconds. Definitions are canonical JSON; findings JSON arrays.

-- +goose Up
CREATE TABLE tool_pins (
    upstream    TEXT    NOT NULL,
    tool        TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    definition  TEXT    NOT NULL,
    approved_at INTEGER NOT NULL,
    approved_by TEXT    NOT NULL,
    findings    TEXT    NOT NULL,
    PRIMARY KEY (upstream, tool)
);

CREATE TABLE tool_pending (
    upstream    TEXT    NOT NULL,
    tool        TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    definition  TEXT    NOT NULL,
    pinned_hash TEXT    NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    findings    TEXT    NOT NULL,
    PRIMARY KEY (upstream, tool)
);

-- +goose Down
DROP TABLE tool_pending;
DROP TABLE tool_pins;
