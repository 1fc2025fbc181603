package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-mcp/switchboard/internal/stmtcache"
)

// Dialects of [OpenSQL].
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// SQLStore is a [Store] on a database/sql handle: SQLite (the database of
// Switchboard's data directory, whose migrations 00030–00039 create the
// registry's tables) or PostgreSQL (see [OpenPostgres]). The SQL is
// portable but for full-text search: an FTS5 trigram index on SQLite, a
// pg_trgm index on PostgreSQL. Times are stored as Unix microseconds.
type SQLStore struct {
	db      *sql.DB
	dialect string
	closeDB bool

	searchMu    sync.Mutex
	searchCache map[string]searchEstimate

	stmts stmtcache.Cache // SQLite reads, prepared once
}

// maxStmts bounds the prepared statements a store keeps (the reads have
// a few dozen shapes: the filters of a list, the lookups).
const maxStmts = 128

// reads runs the read-only queries of the pool. On SQLite it runs them
// as prepared statements, kept for the store's life: compiling a query
// costs more than running a lookup by key (40% of the CPU of a
// versions/latest). pgx keeps its own statement cache on PostgreSQL.
type reads struct{ s *SQLStore }

func (r reads) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := r.s.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.s.db.QueryContext(ctx, q, args...)
}

func (r reads) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := r.s.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.s.db.QueryRowContext(ctx, q, args...)
}

func (r reads) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.s.db.ExecContext(ctx, q, args...)
}

// stmt returns the prepared statement of q on SQLite; nil on
// PostgreSQL, or when there is none (the query then runs unprepared and
// reports its own error).
func (s *SQLStore) stmt(ctx context.Context, q string) *sql.Stmt {
	if s.dialect != DialectSQLite {
		return nil
	}
	return s.stmts.Get(ctx, q)
}

// OpenSQL returns a store on db, whose schema must already be migrated
// (store.Open does it for SQLite, [OpenPostgres] for PostgreSQL).
// Closing the store does not close db.
func OpenSQL(db *sql.DB, dialect string) (*SQLStore, error) {
	switch dialect {
	case DialectSQLite, DialectPostgres:
	default:
		return nil, fmt.Errorf("registry: unknown SQL dialect %q", dialect)
	}
	return &SQLStore{db: db, dialect: dialect, stmts: stmtcache.Cache{DB: db, Max: maxStmts}}, nil
}

// Dialect names the database: "sqlite" or "postgres".
func (s *SQLStore) Dialect() string { return s.dialect }

// DB returns the database handle.
func (s *SQLStore) DB() *sql.DB { return s.db }

// Close closes the handle when the store opened it.
func (s *SQLStore) Close() error {
	s.stmts.Close()
	if s.closeDB {
		return s.db.Close()
	}
	return nil
}

// rebind turns "?" placeholders into PostgreSQL's "$n".
func (s *SQLStore) rebind(q string) string {
	if s.dialect != DialectPostgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const recordCols = "name, version, description, body, status, status_message, status_changed_at, published_at, updated_at, is_latest, origin"

// approvalCol adds a version's curation state to Get, Latest and
// Versions, sparing lookups a second query.
const approvalCol = ", COALESCE((SELECT c.state FROM registry_curation c WHERE c.name = registry_servers.name), '')"

func scanRecord(sc interface{ Scan(...any) error }, extra ...any) (*Record, error) {
	var (
		r                               Record
		body                            string
		status                          string
		msg                             sql.NullString
		changed, published, updated, lt int64
	)
	dest := []any{&r.Name, &r.Version, &r.Description, &body, &status, &msg, &changed, &published, &updated, &lt, &r.Origin}
	if len(extra) > 0 {
		dest = append(dest, &r.Approval)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	r.Server = json.RawMessage(body)
	r.Official = Official{Status: Status(status), StatusChangedAt: fromMicros(changed), PublishedAt: fromMicros(published), UpdatedAt: fromMicros(updated), IsLatest: lt != 0}
	if msg.Valid {
		m := msg.String
		r.Official.StatusMessage = &m
	}
	return &r, nil
}

func (s *SQLStore) queryRecords(ctx context.Context, q querier, query string, args ...any) ([]Record, error) {
	return s.queryRecordsWith(ctx, q, false, query, args...)
}

// queryRecordsWith reads records; withApproval when the query ends with
// approvalCol.
func (s *SQLStore) queryRecordsWith(ctx context.Context, q querier, withApproval bool, query string, args ...any) ([]Record, error) {
	rows, err := q.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var extra []any
	if withApproval {
		extra = []any{true}
	}
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows, extra...)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

func (s *SQLStore) queryRecord(ctx context.Context, q querier, query string, args ...any) (*Record, error) {
	var extra []any
	if strings.Contains(query, approvalCol) {
		extra = []any{true}
	}
	r, err := scanRecord(q.QueryRowContext(ctx, s.rebind(query), args...), extra...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

// tx runs f in a transaction; on PostgreSQL it first takes a transaction
// advisory lock on name (if not empty) so that publishes and status
// changes of one server are serialized (SQLite's write transactions are
// already exclusive).
func (s *SQLStore) tx(ctx context.Context, name string, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if s.dialect == DialectPostgres && name != "" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "registry:"+name); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Publish implements [Store].
func (s *SQLStore) Publish(ctx context.Context, sj *ServerJSON, doc json.RawMessage, now time.Time) (*Record, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var rec *Record
	err := s.tx(ctx, sj.Name, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.rebind("SELECT COUNT(*) FROM registry_servers WHERE name = ?"), sj.Name).Scan(&n); err != nil {
			return err
		}
		if n >= MaxVersionsPerServer {
			return ErrTooManyVersions
		}
		if _, err := s.queryRecord(ctx, tx, "SELECT "+recordCols+" FROM registry_servers WHERE name = ? AND version = ?", sj.Name, sj.Version); err == nil {
			return fmt.Errorf("%w: %s@%s already exists", ErrDuplicateVersion, sj.Name, sj.Version)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		latest := true
		cur, err := s.queryRecord(ctx, tx, "SELECT "+recordCols+" FROM registry_servers WHERE name = ? AND is_latest = 1", sj.Name)
		switch {
		case err == nil:
			latest = CompareVersions(sj.Version, cur.Version, now, cur.Official.PublishedAt) > 0
			if latest {
				if _, err := tx.ExecContext(ctx, s.rebind("UPDATE registry_servers SET is_latest = 0 WHERE name = ? AND is_latest = 1"), sj.Name); err != nil {
					return err
				}
			}
		case !errors.Is(err, ErrNotFound):
			return err
		}
		rec = &Record{Name: sj.Name, Version: sj.Version, Description: sj.Description, Server: doc,
			Official: Official{Status: StatusActive, StatusChangedAt: now, PublishedAt: now, UpdatedAt: now, IsLatest: latest}}
		return s.insert(ctx, tx, rec)
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

func (s *SQLStore) insert(ctx context.Context, q querier, r *Record) error {
	var msg any
	if r.Official.StatusMessage != nil {
		msg = *r.Official.StatusMessage
	}
	o := r.Official
	_, err := q.ExecContext(ctx, s.rebind("INSERT INTO registry_servers ("+recordCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		r.Name, r.Version, r.Description, string(r.Server), string(o.Status), msg,
		micros(o.StatusChangedAt), micros(o.PublishedAt), micros(o.UpdatedAt), boolInt(o.IsLatest), r.Origin)
	return err
}

// Edit implements [Store].
func (s *SQLStore) Edit(ctx context.Context, sj *ServerJSON, doc json.RawMessage, now time.Time) (*Record, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var rec *Record
	err := s.tx(ctx, sj.Name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind("UPDATE registry_servers SET body = ?, description = ?, updated_at = ? WHERE name = ? AND version = ?"),
			string(doc), sj.Description, micros(now), sj.Name, sj.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		rec, err = s.queryRecord(ctx, tx, "SELECT "+recordCols+" FROM registry_servers WHERE name = ? AND version = ?", sj.Name, sj.Version)
		return err
	})
	return rec, err
}

// Get implements [Store].
func (s *SQLStore) Get(ctx context.Context, name, version string) (*Record, error) {
	return s.queryRecord(ctx, reads{s}, "SELECT "+recordCols+approvalCol+" FROM registry_servers WHERE name = ? AND version = ?", name, version)
}

// Latest implements [Store].
func (s *SQLStore) Latest(ctx context.Context, name string, includeDeleted bool) (*Record, error) {
	q := "SELECT " + recordCols + approvalCol + " FROM registry_servers WHERE name = ? AND is_latest = 1"
	if !includeDeleted {
		q += " AND status <> 'deleted'"
	}
	return s.queryRecord(ctx, reads{s}, q+" ORDER BY published_at DESC LIMIT 1", name)
}

// Versions implements [Store].
func (s *SQLStore) Versions(ctx context.Context, name string, includeDeleted bool) ([]Record, error) {
	q := "SELECT " + recordCols + approvalCol + " FROM registry_servers WHERE name = ?"
	if !includeDeleted {
		q += " AND status <> 'deleted'"
	}
	recs, err := s.queryRecordsWith(ctx, reads{s}, true, q+" ORDER BY published_at DESC, version DESC", name)
	if err == nil && len(recs) == 0 {
		return nil, ErrNotFound
	}
	return recs, err
}

// likeEscape escapes LIKE's metacharacters (with "\" as the escape).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// List implements [Store].
func (s *SQLStore) List(ctx context.Context, q *ListQuery) ([]Record, error) {
	var (
		where           []string
		args            []any
		ftsFrom, ftsArg string
		scanIndex       string
	)
	if q.AfterName != "" || q.AfterVersion != "" {
		if q.AfterVersion == "" {
			where = append(where, "s.name > ?")
			args = append(args, q.AfterName)
		} else {
			where = append(where, "(s.name, s.version) > (?, ?)")
			args = append(args, q.AfterName, q.AfterVersion)
		}
	}
	if !q.IncludeDeleted {
		where = append(where, "s.status <> 'deleted'")
	}
	if q.Latest {
		where = append(where, "s.is_latest = 1")
	}
	if q.Version != "" {
		where = append(where, "s.version = ?")
		args = append(args, q.Version)
	}
	if q.UpdatedSince != nil {
		where = append(where, "s.updated_at > ?")
		args = append(args, micros(*q.UpdatedSince))
	}
	if q.Search != "" {
		switch s.dialect {
		case DialectSQLite:
			if len([]rune(q.Search)) >= 3 && s.selectiveSearch(ctx, q.Search) {
				// Few matches: read them from the trigram index first (CROSS
				// JOIN keeps that order of the loops) and sort them.
				ftsFrom = "(SELECT rowid AS rid FROM registry_servers_fts WHERE registry_servers_fts MATCH ?) AS m CROSS JOIN registry_servers s ON s.rowid = m.rid"
				ftsArg = `"` + strings.ReplaceAll(q.Search, `"`, `""`) + `"`
			} else {
				scanIndex = " INDEXED BY registry_servers_search"
				where = append(where, `(s.name LIKE ? ESCAPE '\' OR s.description LIKE ? ESCAPE '\')`)
				p := "%" + likeEscape(q.Search) + "%"
				args = append(args, p, p)
			}
		default:
			p := "%" + likeEscape(q.Search) + "%"
			if strings.ContainsRune(q.Search, 1) {
				// The indexed expression joins the two with chr(1): a term
				// holding one could match across them.
				where = append(where, `(lower(s.name) LIKE lower(?) ESCAPE '\' OR lower(s.description) LIKE lower(?) ESCAPE '\')`)
				args = append(args, p, p)
			} else {
				// search_text is lower(name) || chr(1) || lower(description),
				// indexed by registry_servers_search_trgm.
				where = append(where, `s.search_text LIKE lower(?) ESCAPE '\'`)
				args = append(args, p)
			}
		}
	}
	from := "registry_servers s" + scanIndex
	if ftsFrom != "" {
		from = ftsFrom
		args = append([]any{ftsArg}, args...)
	}
	switch q.Approval {
	case "approved":
		where = append(where, "EXISTS (SELECT 1 FROM registry_curation c WHERE c.name = s.name AND c.state = 'approved')")
	case "not-denied":
		// Most registries deny nothing: then spare every row the lookup.
		var one int
		if err := (reads{s}).QueryRowContext(ctx, "SELECT 1 FROM registry_curation WHERE state = 'denied' LIMIT 1").Scan(&one); err == nil {
			where = append(where, "NOT EXISTS (SELECT 1 FROM registry_curation c WHERE c.name = s.name AND c.state = 'denied')")
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	query := "SELECT s." + strings.ReplaceAll(recordCols, ", ", ", s.") + " FROM " + from
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 30
	}
	query += " ORDER BY s.name, s.version LIMIT ?"
	args = append(args, limit)
	if s.dialect == DialectPostgres && q.Search != "" {
		// A search's selectivity depends on its term: have PostgreSQL plan
		// for the term (an unnamed statement) rather than reuse one
		// generic plan, as the official registry does.
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	switch {
	case s.dialect == DialectSQLite:
		// Select the page's keys first, then read its documents: sorts
		// and filters do not carry the documents along.
		inner := strings.Replace(query, "SELECT s."+strings.ReplaceAll(recordCols, ", ", ", s."), "SELECT s.rowid", 1)
		query = "SELECT " + recordCols + " FROM registry_servers WHERE rowid IN (" + inner + ") ORDER BY name, version"
	case q.Search != "":
		// The same on PostgreSQL for a search, whose matches may be
		// sorted: keys first, documents for the page only.
		inner := strings.Replace(query, "SELECT s."+strings.ReplaceAll(recordCols, ", ", ", s."), "SELECT s.name, s.version", 1)
		query = "SELECT r." + strings.ReplaceAll(recordCols, ", ", ", r.") + " FROM registry_servers r JOIN (" + inner + ") k ON r.name = k.name AND r.version = k.version ORDER BY r.name, r.version"
	}
	return s.queryRecords(ctx, reads{s}, query, args...)
}

// searchScanLimit is the number of trigram-index matches above which a
// search walks the (name, version) index instead: with that many matches
// a page fills after a short walk, while sorting every match would cost
// in proportion to all of them.
const searchScanLimit = 1000

// selectiveSearch reports whether the trigram index finds fewer than
// searchScanLimit rows for a term (SQLite).
func (s *SQLStore) selectiveSearch(ctx context.Context, term string) bool {
	key := strings.ToLower(term)
	s.searchMu.Lock()
	if e, ok := s.searchCache[key]; ok && time.Since(e.at) < time.Minute {
		s.searchMu.Unlock()
		return e.selective
	}
	s.searchMu.Unlock()
	var n int
	err := (reads{s}).QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT rowid FROM registry_servers_fts WHERE registry_servers_fts MATCH ? LIMIT ?)",
		`"`+strings.ReplaceAll(term, `"`, `""`)+`"`, searchScanLimit).Scan(&n)
	selective := err == nil && n < searchScanLimit
	if err == nil {
		s.searchMu.Lock()
		if s.searchCache == nil || len(s.searchCache) > 4096 {
			s.searchCache = map[string]searchEstimate{}
		}
		s.searchCache[key] = searchEstimate{selective: selective, at: time.Now()}
		s.searchMu.Unlock()
	}
	return selective
}

// searchEstimate is a remembered selectivity of a search term (terms
// repeat, and their selectivity changes slowly).
type searchEstimate struct {
	selective bool
	at        time.Time
}

// SetStatus implements [Store].
func (s *SQLStore) SetStatus(ctx context.Context, name, version string, c StatusChange, now time.Time) ([]Record, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var out []Record
	err := s.tx(ctx, name, func(tx *sql.Tx) error {
		var msg any
		if c.Message != nil {
			msg = *c.Message
		}
		q := "UPDATE registry_servers SET status_changed_at = CASE WHEN status <> ? THEN ? ELSE status_changed_at END, status = ?, status_message = ?, updated_at = ? WHERE name = ?"
		args := []any{string(c.Status), micros(now), string(c.Status), msg, micros(now), name}
		if version != "" {
			q += " AND version = ?"
			args = append(args, version)
		} else {
			q += " AND (status <> ? OR COALESCE(status_message, '') <> COALESCE(?, ''))"
			args = append(args, string(c.Status), msg)
		}
		res, err := tx.ExecContext(ctx, s.rebind(q), args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 && version != "" {
			return ErrNotFound
		}
		if err := s.recalculateLatest(ctx, tx, name); err != nil {
			return err
		}
		if version != "" {
			r, err := s.queryRecord(ctx, tx, "SELECT "+recordCols+" FROM registry_servers WHERE name = ? AND version = ?", name, version)
			if err != nil {
				return err
			}
			out = []Record{*r}
			return nil
		}
		out, err = s.queryRecords(ctx, tx, "SELECT "+recordCols+" FROM registry_servers WHERE name = ? ORDER BY published_at DESC, version DESC", name)
		if err == nil && len(out) == 0 {
			return ErrNotFound
		}
		return err
	})
	return out, err
}

// recalculateLatest marks the highest non-deleted version latest (the
// highest deleted one when all are deleted), as the official registry
// does after a status change.
func (s *SQLStore) recalculateLatest(ctx context.Context, tx *sql.Tx, name string) error {
	recs, err := s.queryRecords(ctx, tx, "SELECT "+recordCols+" FROM registry_servers WHERE name = ?", name)
	if err != nil {
		return err
	}
	pick := func(allowDeleted bool) *Record {
		var w *Record
		for i := range recs {
			r := &recs[i]
			if !allowDeleted && r.Official.Status == StatusDeleted {
				continue
			}
			if w == nil || CompareVersions(r.Version, w.Version, r.Official.PublishedAt, w.Official.PublishedAt) > 0 {
				w = r
			}
		}
		return w
	}
	w := pick(false)
	if w == nil {
		w = pick(true)
	}
	for i := range recs {
		r := &recs[i]
		want := w != nil && r.Version == w.Version
		if r.Official.IsLatest != want {
			if _, err := tx.ExecContext(ctx, s.rebind("UPDATE registry_servers SET is_latest = ? WHERE name = ? AND version = ?"), boolInt(want), name, r.Version); err != nil {
				return err
			}
		}
	}
	return nil
}

// Put implements [Store].
func (s *SQLStore) Put(ctx context.Context, recs []Record, st *SyncState) error {
	return s.tx(ctx, "", func(tx *sql.Tx) error {
		for i := range recs {
			r := &recs[i]
			if _, err := tx.ExecContext(ctx, s.rebind("DELETE FROM registry_servers WHERE name = ? AND version = ?"), r.Name, r.Version); err != nil {
				return err
			}
			if err := s.insert(ctx, tx, r); err != nil {
				return err
			}
			// The official registry does not touch updatedAt when a
			// version stops being the latest, so a mirror never hears of
			// it: the newest latest wins.
			if r.Official.IsLatest {
				if _, err := tx.ExecContext(ctx, s.rebind("UPDATE registry_servers SET is_latest = 0 WHERE name = ? AND version <> ? AND is_latest = 1"), r.Name, r.Version); err != nil {
					return err
				}
			}
		}
		if st != nil {
			return s.saveSync(ctx, tx, st)
		}
		return nil
	})
}

func (s *SQLStore) saveSync(ctx context.Context, q querier, st *SyncState) error {
	if _, err := q.ExecContext(ctx, s.rebind("DELETE FROM registry_sync WHERE source = ?"), st.Source); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, s.rebind("INSERT INTO registry_sync (source, since, run_since, cursor, max_seen, count, run_started, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
		st.Source, micros(st.Since), micros(st.RunSince), st.Cursor, micros(st.MaxSeen), st.Count, micros(st.RunStarted), micros(st.CompletedAt))
	return err
}

// SyncState implements [Store].
func (s *SQLStore) SyncState(ctx context.Context, source string) (*SyncState, error) {
	st := &SyncState{Source: source}
	var since, runSince, maxSeen, started, completed int64
	err := s.db.QueryRowContext(ctx, s.rebind("SELECT since, run_since, cursor, max_seen, count, run_started, completed_at FROM registry_sync WHERE source = ?"), source).
		Scan(&since, &runSince, &st.Cursor, &maxSeen, &st.Count, &started, &completed)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	conv := func(us int64) time.Time {
		if us == 0 || us == (time.Time{}).UnixMicro() {
			return time.Time{}
		}
		return fromMicros(us)
	}
	st.Since, st.RunSince, st.MaxSeen, st.RunStarted, st.CompletedAt = conv(since), conv(runSince), conv(maxSeen), conv(started), conv(completed)
	return st, nil
}

// SetApproval implements [Store].
func (s *SQLStore) SetApproval(ctx context.Context, a Approval) error {
	return s.tx(ctx, "", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.rebind("DELETE FROM registry_curation WHERE name = ?"), a.Name); err != nil {
			return err
		}
		if a.State == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, s.rebind("INSERT INTO registry_curation (name, state, note, updated_at) VALUES (?, ?, ?, ?)"),
			a.Name, a.State, a.Note, micros(a.UpdatedAt))
		return err
	})
}

// Approval implements [Store].
func (s *SQLStore) Approval(ctx context.Context, name string) (*Approval, error) {
	a := &Approval{Name: name}
	var at int64
	err := s.db.QueryRowContext(ctx, s.rebind("SELECT state, note, updated_at FROM registry_curation WHERE name = ?"), name).Scan(&a.State, &a.Note, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a.UpdatedAt = fromMicros(at)
	return a, nil
}

// Approvals implements [Store].
func (s *SQLStore) Approvals(ctx context.Context) ([]Approval, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, state, note, updated_at FROM registry_curation ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Approval
	for rows.Next() {
		var a Approval
		var at int64
		if err := rows.Scan(&a.Name, &a.State, &a.Note, &at); err != nil {
			return nil, err
		}
		a.UpdatedAt = fromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Count implements [Store].
func (s *SQLStore) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM registry_servers").Scan(&n)
	return n, err
}

// Analyze refreshes the query planner's statistics (after a bulk load).
func (s *SQLStore) Analyze(ctx context.Context) error {
	if s.dialect == DialectPostgres {
		_, err := s.db.ExecContext(ctx, "ANALYZE registry_servers")
		return err
	}
	if _, err := s.db.ExecContext(ctx, "ANALYZE registry_servers"); err != nil {
		return err
	}
	// SQLite built with STAT4 (modernc's is) recompiles a prepared
	// statement whenever a bound value changes once sqlite_stat4 holds
	// samples of an index it uses: every lookup by name paid a compile,
	// most of its CPU (80 -> 17 us). Lookups by name and cursors need only
	// the counts of sqlite_stat1, and the search plan is chosen by
	// selectiveSearch; updated_since keeps its samples, which tell a
	// recent timestamp (few rows: read them by updated_at) from an old one
	// (walk the list order). The statistics are then reloaded.
	if _, err := s.db.ExecContext(ctx, "DELETE FROM sqlite_stat4 WHERE tbl = 'registry_servers' AND idx <> 'registry_servers_updated'"); err != nil && !strings.Contains(err.Error(), "no such table") {
		return err
	}
	_, err := s.db.ExecContext(ctx, "ANALYZE sqlite_schema")
	return err
}
