-- Twin of migrations/postgres/00031_registry_search.sql, which gives
-- PostgreSQL one trigram index over name and description. SQLite has had
-- that since 00030 (registry_servers_fts, FTS5 trigram over both), so
-- there is nothing to change here.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
