package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/switchboard-mcp/switchboard/audit"
)

// auditKeyLabel is the additional data sealed with the audit signing key.
const auditKeyLabel = "switchboard/audit/signing-key"

// AuditStorage is the [audit.Storage] of a [DB]: the audit trail in the
// audit_* tables. The checkpoint signing key is sealed with the master
// key.
type AuditStorage struct{ db *DB }

var _ audit.Storage = (*AuditStorage)(nil)

// Audit returns the DB's audit trail storage.
func (db *DB) Audit() *AuditStorage { return &AuditStorage{db: db} }

// Head implements [audit.Storage].
func (s *AuditStorage) Head(ctx context.Context, stream string) (int64, string, error) {
	var (
		seq  int64
		hash string
	)
	err := s.db.queryRow(ctx, `SELECT seq, hash FROM audit_records WHERE stream = ? ORDER BY seq DESC LIMIT 1`, stream).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// An emptied stream continues after its last checkpoint.
		err = s.db.queryRow(ctx, `SELECT seq, hash FROM audit_checkpoints WHERE stream = ? ORDER BY seq DESC LIMIT 1`, stream).Scan(&seq, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, "", nil
		}
	}
	return seq, hash, err
}

// Append implements [audit.Storage].
func (s *AuditStorage) Append(ctx context.Context, recs []*audit.Stored, cps []*audit.Checkpoint) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		// Multi-row inserts of 64, 32, ... 1 rows: few statement shapes,
		// each prepared once, and under the placeholder limits.
		args := make([]any, 0, auditCols*min(len(recs), maxAuditRows))
		for start := 0; start < len(recs); {
			n := maxAuditRows
			for n > len(recs)-start {
				n /= 2
			}
			args = args[:0]
			for _, r := range recs[start : start+n] {
				args = append(args, r.Stream, r.Seq, r.Time.UnixMilli(), r.Kind, r.Method, r.Subject, r.Tenant, r.ClientID,
					r.Upstream, r.Name, r.Original, r.Outcome, r.Hash, string(r.Body))
			}
			if _, err := s.db.txExec(ctx, tx, s.insertSQL(n), args...); err != nil {
				return err
			}
			start += n
		}
		for _, cp := range cps {
			if _, err := s.db.txExec(ctx, tx, s.db.dialect.rebind(`INSERT INTO audit_checkpoints (stream, seq, hash, time_ms, time_text, key_id, signature)
				VALUES (?, ?, ?, ?, ?, ?, ?)`), cp.Stream, cp.Seq, cp.Hash, cp.Time.UnixMilli(), cp.Time.UTC().Format(time.RFC3339Nano), cp.KeyID, cp.Signature); err != nil {
				return err
			}
		}
		return nil
	})
}

// The columns of an audit record, and the most rows one INSERT writes
// (a power of two).
const (
	auditCols    = 14
	maxAuditRows = 64
)

// insertSQL returns the INSERT of n audit records (rebound), made once
// per n.
func (s *AuditStorage) insertSQL(n int) string {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if q, ok := s.db.auditInsert[n]; ok {
		return q
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO audit_records (stream, seq, time_ms, kind, method, subject, tenant, client_id, upstream, name, original, outcome, hash, body) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	if s.db.auditInsert == nil {
		s.db.auditInsert = map[int]string{}
	}
	text := s.db.dialect.rebind(q.String())
	s.db.auditInsert[n] = text
	return text
}

// Records implements [audit.Storage].
func (s *AuditStorage) Records(ctx context.Context, q *audit.Query) iter.Seq2[*audit.Stored, error] {
	return func(yield func(*audit.Stored, error) bool) {
		var where []string
		var args []any
		add := func(cond string, v any) {
			where = append(where, cond)
			args = append(args, v)
		}
		if q.Stream != "" {
			add("stream = ?", q.Stream)
		}
		if !q.Since.IsZero() {
			add("time_ms >= ?", q.Since.UnixMilli())
		}
		if !q.Until.IsZero() {
			add("time_ms < ?", q.Until.UnixMilli())
		}
		if q.Subject != "" {
			add("subject = ?", q.Subject)
		}
		if q.Tenant != "" {
			add("tenant = ?", q.Tenant)
		}
		if q.ClientID != "" {
			add("client_id = ?", q.ClientID)
		}
		if q.Upstream != "" {
			add("upstream = ?", q.Upstream)
		}
		if q.Tool != "" {
			where = append(where, "(name = ? OR original = ?)")
			args = append(args, q.Tool, q.Tool)
		}
		if q.Outcome != "" {
			add("outcome = ?", q.Outcome)
		}
		if q.Kind != "" {
			add("kind = ?", q.Kind)
		}
		if q.Method != "" {
			add("method = ?", q.Method)
		}
		if q.AfterID > 0 {
			add("id > ?", q.AfterID)
		}
		sqlq := `SELECT id, stream, seq, time_ms, kind, method, subject, tenant, client_id, upstream, name, original, outcome, hash, body FROM audit_records`
		if len(where) > 0 {
			sqlq += " WHERE " + strings.Join(where, " AND ")
		}
		switch {
		case q.BySeq:
			sqlq += " ORDER BY stream, seq"
		case q.Newest:
			sqlq += " ORDER BY id DESC"
		default:
			sqlq += " ORDER BY id"
		}
		if q.Limit > 0 {
			sqlq += fmt.Sprintf(" LIMIT %d", q.Limit)
		}
		rows, err := s.db.query(ctx, sqlq, args...)
		if err != nil {
			yield(nil, err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r    audit.Stored
				ms   int64
				body string
			)
			if err := rows.Scan(&r.ID, &r.Stream, &r.Seq, &ms, &r.Kind, &r.Method, &r.Subject, &r.Tenant, &r.ClientID,
				&r.Upstream, &r.Name, &r.Original, &r.Outcome, &r.Hash, &body); err != nil {
				yield(nil, err)
				return
			}
			r.Time, r.Body = time.UnixMilli(ms).UTC(), []byte(body)
			if !yield(&r, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, err)
		}
	}
}

// Checkpoints implements [audit.Storage].
func (s *AuditStorage) Checkpoints(ctx context.Context, stream string) ([]*audit.Checkpoint, error) {
	rows, err := s.db.query(ctx, `SELECT stream, seq, hash, time_text, key_id, signature FROM audit_checkpoints WHERE stream = ? ORDER BY seq`, stream)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*audit.Checkpoint
	for rows.Next() {
		cp := &audit.Checkpoint{Kind: audit.KindCheckpoint}
		var ts string
		if err := rows.Scan(&cp.Stream, &cp.Seq, &cp.Hash, &ts, &cp.KeyID, &cp.Signature); err != nil {
			return nil, err
		}
		cp.Time, _ = time.Parse(time.RFC3339Nano, ts)
		out = append(out, cp)
	}
	return out, rows.Err()
}

// Streams implements [audit.Storage].
func (s *AuditStorage) Streams(ctx context.Context) ([]string, error) {
	rows, err := s.db.query(ctx, `SELECT DISTINCT stream FROM audit_records UNION SELECT DISTINCT stream FROM audit_checkpoints`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// SigningKey implements [audit.Storage]: the Ed25519 key, created on
// first use and kept sealed with the master key.
func (s *AuditStorage) SigningKey(ctx context.Context) (ed25519.PrivateKey, error) {
	var sealed []byte
	err := s.db.queryRow(ctx, `SELECT sealed FROM audit_keys WHERE id = 'checkpoint'`).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		if _, err := s.db.exec(ctx, `INSERT INTO audit_keys (id, sealed, created_at) VALUES ('checkpoint', ?, ?) ON CONFLICT (id) DO NOTHING`,
			s.db.sealer.seal(priv.Seed(), auditKeyLabel), time.Now().UnixMilli()); err != nil {
			return nil, err
		}
		// Another process may have won: read what is stored.
		err = s.db.queryRow(ctx, `SELECT sealed FROM audit_keys WHERE id = 'checkpoint'`).Scan(&sealed)
	}
	if err != nil {
		return nil, err
	}
	seed, err := s.db.sealer.open(sealed, auditKeyLabel)
	if err != nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, errors.New("store: the audit signing key is malformed")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// Prune implements [audit.Storage].
func (s *AuditStorage) Prune(ctx context.Context, stream string, seq int64) (int64, error) {
	var n int64
	err := s.db.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.db.dialect.rebind(`SELECT 1 FROM audit_checkpoints WHERE stream = ? AND seq = ?`), stream, seq).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("store: no checkpoint at record %d of stream %q to anchor the pruned chain", seq, stream)
			}
			return err
		}
		res, err := tx.ExecContext(ctx, s.db.dialect.rebind(`DELETE FROM audit_records WHERE stream = ? AND seq <= ?`), stream, seq)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, s.db.dialect.rebind(`DELETE FROM audit_checkpoints WHERE stream = ? AND seq < ?`), stream, seq)
		return err
	})
	return n, err
}

// Size implements [audit.Storage].
func (s *AuditStorage) Size(ctx context.Context, stream string) (count, size, first int64, err error) {
	var f sql.NullInt64
	err = s.db.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0), MIN(seq) FROM audit_records WHERE stream = ?`, stream).Scan(&count, &size, &f)
	return count, size, f.Int64, err
}
