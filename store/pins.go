package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/pins"
)

// PinStorage is the [pins.Store] of a [DB]: approved tool definitions and
// those waiting for approval, in the tool_pins and tool_pending tables.
// "switchboard tools approve" writes it while a gateway runs; the
// gateway's Guard reads it again (pins.Guard.Watch).
type PinStorage struct{ db *DB }

var _ pins.Store = (*PinStorage)(nil)

// Pins returns the DB's tool-pin storage.
func (db *DB) Pins() *PinStorage { return &PinStorage{db: db} }

func findingsJSON(f []pins.Finding) string {
	if f == nil {
		f = []pins.Finding{}
	}
	b, _ := json.Marshal(f)
	return string(b)
}

func unfindings(s string) ([]pins.Finding, error) {
	var f []pins.Finding
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return nil, fmt.Errorf("store: malformed findings: %w", err)
	}
	if len(f) == 0 {
		return nil, nil
	}
	return f, nil
}

// Pins implements pins.Store.
func (s *PinStorage) Pins(ctx context.Context) ([]pins.Pin, error) {
	rows, err := s.db.query(ctx, `SELECT upstream, tool, hash, definition, approved_at, approved_by, findings FROM tool_pins ORDER BY upstream, tool`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pins.Pin
	for rows.Next() {
		var p pins.Pin
		var def, findings string
		var at int64
		if err := rows.Scan(&p.Upstream, &p.Tool, &p.Hash, &def, &at, &p.ApprovedBy, &findings); err != nil {
			return nil, err
		}
		p.Definition, p.ApprovedAt = jsontext.Value(def), fromMillis(at)
		if p.Findings, err = unfindings(findings); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SavePin implements pins.Store.
func (s *PinStorage) SavePin(ctx context.Context, p pins.Pin) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.dialect.rebind(`INSERT INTO tool_pins (upstream, tool, hash, definition, approved_at, approved_by, findings) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (upstream, tool) DO UPDATE SET hash = excluded.hash, definition = excluded.definition, approved_at = excluded.approved_at, approved_by = excluded.approved_by, findings = excluded.findings`),
			p.Upstream, p.Tool, p.Hash, string(p.Definition), millis(p.ApprovedAt), p.ApprovedBy, findingsJSON(p.Findings)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.db.dialect.rebind(`DELETE FROM tool_pending WHERE upstream = ? AND tool = ?`), p.Upstream, p.Tool)
		return err
	})
}

// Pending implements pins.Store.
func (s *PinStorage) Pending(ctx context.Context) ([]pins.Pending, error) {
	rows, err := s.db.query(ctx, `SELECT upstream, tool, hash, definition, pinned_hash, first_seen, last_seen, findings FROM tool_pending ORDER BY upstream, tool`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pins.Pending
	for rows.Next() {
		var p pins.Pending
		var def, findings string
		var first, last int64
		if err := rows.Scan(&p.Upstream, &p.Tool, &p.Hash, &def, &p.PinnedHash, &first, &last, &findings); err != nil {
			return nil, err
		}
		p.Definition, p.FirstSeen, p.LastSeen = jsontext.Value(def), fromMillis(first), fromMillis(last)
		if p.Findings, err = unfindings(findings); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SavePending implements pins.Store.
func (s *PinStorage) SavePending(ctx context.Context, p pins.Pending) error {
	_, err := s.db.exec(ctx, `INSERT INTO tool_pending (upstream, tool, hash, definition, pinned_hash, first_seen, last_seen, findings) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (upstream, tool) DO UPDATE SET
			first_seen = CASE WHEN tool_pending.hash = excluded.hash THEN tool_pending.first_seen ELSE excluded.first_seen END,
			hash = excluded.hash, definition = excluded.definition, pinned_hash = excluded.pinned_hash, last_seen = excluded.last_seen, findings = excluded.findings`,
		p.Upstream, p.Tool, p.Hash, string(p.Definition), p.PinnedHash, millis(p.FirstSeen), millis(p.LastSeen), findingsJSON(p.Findings))
	return err
}

// DeletePin implements pins.Store.
func (s *PinStorage) DeletePin(ctx context.Context, k pins.Key) error {
	_, err := s.db.exec(ctx, `DELETE FROM tool_pins WHERE upstream = ? AND tool = ?`, k.Upstream, k.Tool)
	return err
}
