package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-mcp/switchboard/usage"
)

// UsageStorage is the [usage.Storage] of a [DB]: the usage ledger in the
// usage_ledger table, one row per hour, tenant, subject, client, upstream
// and tool.
type UsageStorage struct{ db *DB }

var _ usage.Storage = (*UsageStorage)(nil)

// Usage returns the DB's usage ledger.
func (db *DB) Usage() *UsageStorage { return &UsageStorage{db: db} }

// AddUsage implements [usage.Storage].
func (s *UsageStorage) AddUsage(ctx context.Context, rows []usage.Row) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		q := s.db.dialect.rebind(`INSERT INTO usage_ledger (hour, tenant, subject, client, upstream, tool, calls, errors, denied, cost)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (hour, tenant, subject, client, upstream, tool) DO UPDATE SET
				calls = usage_ledger.calls + excluded.calls, errors = usage_ledger.errors + excluded.errors,
				denied = usage_ledger.denied + excluded.denied, cost = usage_ledger.cost + excluded.cost`)
		for _, r := range rows {
			hour := usage.PeriodStart(usage.Hour, r.Period).UnixMilli()
			if _, err := tx.ExecContext(ctx, q, hour, r.Tenant, r.Subject, r.Client, r.Upstream, r.Tool, r.Calls, r.Errors, r.Denied, r.Cost); err != nil {
				return err
			}
		}
		return nil
	})
}

// usageColumns maps the dimensions to their columns.
var usageColumns = map[string]string{
	usage.ByTenant: "tenant", usage.ByIdentity: "subject", usage.ByClient: "client",
	usage.ByUpstream: "upstream", usage.ByTool: "tool",
}

var allDims = []string{usage.ByTenant, usage.ByIdentity, usage.ByClient, usage.ByUpstream, usage.ByTool}

// Usage implements [usage.Storage].
func (s *UsageStorage) Usage(ctx context.Context, q *usage.Query) ([]usage.Row, error) {
	if err := usage.ValidGroupBy(q.GroupBy); err != nil {
		return nil, err
	}
	dims := q.GroupBy
	if dims == nil {
		dims = allDims
	}
	var sel, group []string
	switch q.Period {
	case usage.Hour:
		sel = append(sel, "hour")
	case usage.Day:
		sel = append(sel, "(hour / 86400000) * 86400000")
	case "":
		sel = append(sel, "0")
	default:
		return nil, fmt.Errorf("store: usage by %q: want hour, day or none", q.Period)
	}
	if q.Period != "" {
		group = append(group, sel[0])
	}
	for _, d := range dims {
		sel = append(sel, usageColumns[d])
		group = append(group, usageColumns[d])
	}
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if !q.Since.IsZero() {
		add("hour >= ?", usage.PeriodStart(usage.Hour, q.Since).UnixMilli())
	}
	if !q.Until.IsZero() {
		add("hour < ?", q.Until.UnixMilli())
	}
	for col, v := range map[string]string{"tenant": q.Tenant, "subject": q.Subject, "client": q.Client, "upstream": q.Upstream, "tool": q.Tool} {
		if v != "" {
			add(col+" = ?", v)
		}
	}
	sqlq := "SELECT " + strings.Join(sel, ", ") + ", CAST(SUM(calls) AS BIGINT), CAST(SUM(errors) AS BIGINT), CAST(SUM(denied) AS BIGINT), SUM(cost) FROM usage_ledger"
	if len(where) > 0 {
		sqlq += " WHERE " + strings.Join(where, " AND ")
	}
	if len(group) > 0 {
		sqlq += " GROUP BY " + strings.Join(group, ", ") + " ORDER BY " + strings.Join(group, ", ")
	}
	rows, err := s.db.query(ctx, sqlq, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []usage.Row
	for rows.Next() {
		var (
			r                   usage.Row
			period              int64
			calls, errs, denied sql.NullInt64
			cost                sql.NullFloat64
		)
		dest := []any{&period}
		for _, d := range dims {
			switch d {
			case usage.ByTenant:
				dest = append(dest, &r.Tenant)
			case usage.ByIdentity:
				dest = append(dest, &r.Subject)
			case usage.ByClient:
				dest = append(dest, &r.Client)
			case usage.ByUpstream:
				dest = append(dest, &r.Upstream)
			case usage.ByTool:
				dest = append(dest, &r.Tool)
			}
		}
		dest = append(dest, &calls, &errs, &denied, &cost)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if !calls.Valid {
			continue // SUM over no rows
		}
		if q.Period != "" {
			r.Period = time.UnixMilli(period).UTC()
		}
		r.Calls, r.Errors, r.Denied, r.Cost = calls.Int64, errs.Int64, denied.Int64, cost.Float64
		out = append(out, r)
	}
	return out, rows.Err()
}
