-- Registry search on PostgreSQL: one lowercased copy of the name and the
-- description (chr(1) between them, a character a search term never
-- holds), kept by PostgreSQL as a generated column, with one trigram index
-- over it, instead of one index on each. The planner would not OR the two
-- indexes and scanned the table (3-10 ms at 10,000 versions), and
-- rechecking a match computed lower() of both for every candidate row.
-- registry.SQLStore.List searches search_text.
-- fastupdate is off: with it, rows inserted after the index was made (a
-- whole mirror) wait in GIN's pending list until a vacuum, and the
-- planner, counting those pages, scans the table instead.

-- +goose Up
ALTER TABLE registry_servers
    ADD COLUMN search_text TEXT GENERATED ALWAYS AS (lower(name) || chr(1) || lower(description)) STORED;
CREATE INDEX registry_servers_search_trgm ON registry_servers
    USING gin (search_text gin_trgm_ops) WITH (fastupdate = off);
DROP INDEX registry_servers_name_trgm;
DROP INDEX registry_servers_desc_trgm;

-- +goose Down
CREATE INDEX registry_servers_name_trgm ON registry_servers USING gin (lower(name) gin_trgm_ops);
CREATE INDEX registry_servers_desc_trgm ON registry_servers USING gin (lower(description) gin_trgm_ops);
DROP INDEX registry_servers_search_trgm;
ALTER TABLE registry_servers DROP COLUMN search_text;
