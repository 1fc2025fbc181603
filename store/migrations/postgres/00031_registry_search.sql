-- Registry search on PostgreSQL: one trigram index over the name and the
-- description together (chr(1) between them, a character a search term
-- never holds) instead of one index each. PostgreSQL's planner would not
-- OR the two indexes and scanned the table instead (3-10 ms at 10,000
-- versions); one index answers a substring search of either in well
-- under a millisecond. registry.SQLStore.List writes the same expression.
-- fastupdate is off: with it, rows inserted after the index was made (a
-- whole mirror) wait in GIN's pending list until a vacuum, and the
-- planner, counting those pages, scans the table instead.

-- +goose Up
CREATE INDEX registry_servers_search_trgm ON registry_servers
    USING gin ((lower(name) || chr(1) || lower(description)) gin_trgm_ops)
    WITH (fastupdate = off);
DROP INDEX registry_servers_name_trgm;
DROP INDEX registry_servers_desc_trgm;

-- +goose Down
CREATE INDEX registry_servers_name_trgm ON registry_servers USING gin (lower(name) gin_trgm_ops);
CREATE INDEX registry_servers_desc_trgm ON registry_servers USING gin (lower(description) gin_trgm_ops);
DROP INDEX registry_servers_search_trgm;
