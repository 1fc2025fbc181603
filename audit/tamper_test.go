package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/audit"
	"github.com/switchboard-mcp/switchboard/store"
)

// writeTrail writes n records through a Writer (with a checkpoint every
// 5 records and one at the close) and returns the storage.
func writeTrail(t *testing.T, db *store.DB, n int) *store.AuditStorage {
	t.Helper()
	st := db.Audit()
	w, err := audit.NewWriter(context.Background(), audit.Options{Storage: st, Stream: "gw1", CheckpointEvery: 5, BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		w.Record(&audit.Record{Time: base.Add(time.Duration(i) * time.Second), Kind: audit.KindRequest, Method: "tools/call",
			Upstream: "files", Name: fmt.Sprintf("files_read_%d", i), Original: "read", Subject: "alice", Tenant: "acme", Outcome: "ok"})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return st
}

// The tamper tests: each change an attacker with access to the database
// could make is found, and the first affected record is named.
func TestTamper(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(t *testing.T, b backend, raw *sql.DB)
		seq     int64
		kind    string
		message string
	}{
		{"untouched", func(*testing.T, backend, *sql.DB) {}, 0, "", ""},
		{"edit the hashed content", func(t *testing.T, b backend, raw *sql.DB) {
			tamper(t, b, raw, `UPDATE audit_records SET body = REPLACE(body, '"subject":"alice"', '"subject":"mallory"') WHERE seq = 7`)
		}, 7, audit.ProblemEdited, "record 7 of stream \"gw1\""},
		{"edit content and hash", func(t *testing.T, b backend, raw *sql.DB) {
			var body string
			if err := raw.QueryRow(`SELECT body FROM audit_records WHERE seq = 7`).Scan(&body); err != nil {
				t.Fatal(err)
			}
			body = strings.Replace(body, `"outcome":"ok"`, `"outcome":"denied"`, 1)
			tamper(t, b, raw, `UPDATE audit_records SET body = ?, hash = ?, outcome = 'denied' WHERE seq = 7`, body, audit.HashBody([]byte(body)))
		}, 8, audit.ProblemEdited, "record 8 of stream \"gw1\" (2026-12-07T10:00:08.000Z tools/call files_read_8) does not follow record 7"},
		{"edit an indexed column", func(t *testing.T, b backend, raw *sql.DB) {
			tamper(t, b, raw, `UPDATE audit_records SET subject = 'bob' WHERE seq = 4`)
		}, 4, audit.ProblemEdited, "subject column"},
		{"delete a record", func(t *testing.T, b backend, raw *sql.DB) {
			tamper(t, b, raw, `DELETE FROM audit_records WHERE seq = 9`)
		}, 9, audit.ProblemDeleted, "record 9 of stream \"gw1\" was deleted"},
		{"swap two records", func(t *testing.T, b backend, raw *sql.DB) {
			tamper(t, b, raw, `UPDATE audit_records SET seq = -3 WHERE seq = 3`)
			tamper(t, b, raw, `UPDATE audit_records SET seq = 3 WHERE seq = 4`)
			tamper(t, b, raw, `UPDATE audit_records SET seq = 4 WHERE seq = -3`)
		}, 3, audit.ProblemReordered, "holds record 4"},
		{"truncate the tail", func(t *testing.T, b backend, raw *sql.DB) {
			tamper(t, b, raw, `DELETE FROM audit_records WHERE seq > 9`)
		}, 10, audit.ProblemTruncated, "records 10 to 12"},
		{"delete the head", func(t *testing.T, b backend, raw *sql.DB) {
			tamper(t, b, raw, `DELETE FROM audit_records WHERE seq <= 2`)
		}, 2, audit.ProblemDeleted, "records 1 to 2"},
		{"forge a checkpoint", func(t *testing.T, b backend, raw *sql.DB) {
			tamper(t, b, raw, `UPDATE audit_checkpoints SET hash = 'ff' WHERE seq = 12`)
		}, 12, audit.ProblemCheckpoint, "not valid"},
	}
	// Another right answer: where the writer's batches put a checkpoint
	// (timing decides), a record edited together with its hash differs
	// from that checkpoint, which verify finds before the next record's
	// link.
	alts := map[string]struct {
		seq     int64
		message string
	}{
		"edit content and hash": {7, "record 7 of stream \"gw1\" (2026-12-07T10:00:07.000Z tools/call files_read_7) was edited: it differs from the signed checkpoint"},
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				db, raw := b.open(t)
				st := writeTrail(t, db, 12)
				c.tamper(t, b, raw)
				rep, err := audit.Verify(context.Background(), st, nil)
				if err != nil {
					t.Fatal(err)
				}
				if c.kind == "" {
					if !rep.OK() || len(rep.Streams) != 1 || rep.Streams[0].Records != 12 || rep.Streams[0].Checkpoints < 2 {
						t.Fatalf("an untouched trail: %+v %+v", rep.Streams[0], rep.Problems())
					}
					return
				}
				if rep.OK() {
					t.Fatalf("verify passed a tampered trail")
				}
				p := rep.Problems()[0]
				a, hasAlt := alts[c.name]
				alt := hasAlt && p.Seq == a.seq && p.Kind == c.kind && strings.Contains(p.Message, a.message)
				if !alt && (p.Seq != c.seq || p.Kind != c.kind || !strings.Contains(p.Message, c.message)) {
					t.Errorf("problem %+v; want seq %d kind %s message containing %q", p, c.seq, c.kind, c.message)
				}
				// The same trail exported and verified offline finds the
				// same record (the database's columns are not exported).
				if c.name == "edit an indexed column" {
					return
				}
				var buf bytes.Buffer
				if _, err := audit.WriteExport(context.Background(), st, &audit.Query{BySeq: true}, &buf, true); err != nil {
					t.Fatal(err)
				}
				key, _ := st.SigningKey(context.Background())
				xrep, err := audit.VerifyExport(&buf, key.Public().(ed25519.PublicKey))
				if err != nil {
					t.Fatal(err)
				}
				if xrep.OK() {
					t.Fatalf("verify passed a tampered export")
				}
				if xp := xrep.Problems()[0]; xp.Seq != c.seq && (!hasAlt || xp.Seq != a.seq) {
					t.Errorf("export: problem %+v; want seq %d", xp, c.seq)
				}
			})
		}
	})
}

// Retention deletes old records down to a checkpoint, which anchors the
// rest: the trail still verifies, and a deletion beyond the anchor is
// still found.
func TestRetention(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, raw := b.open(t)
		st := writeTrail(t, db, 12)
		ctx := context.Background()
		cps, err := st.Checkpoints(ctx, "gw1")
		if err != nil || len(cps) < 2 {
			t.Fatalf("checkpoints %v %v", cps, err)
		}
		// By age: everything checkpointed before the last checkpoint.
		anchor := cps[len(cps)-2]
		n, err := audit.ApplyRetention(ctx, st, audit.Retention{MaxAge: time.Hour}, cps[len(cps)-1].Time.Add(time.Hour).Add(-time.Nanosecond))
		if err != nil || n != anchor.Seq {
			t.Fatalf("retention deleted %d records (%v), want %d", n, err, anchor.Seq)
		}
		rep, err := audit.Verify(ctx, st, nil)
		if err != nil || !rep.OK() || rep.Streams[0].First != anchor.Seq+1 || rep.Streams[0].Last != 12 {
			t.Fatalf("after retention: %v %+v %+v", err, rep.Streams, rep.Problems())
		}
		// By size: the stream shrinks towards the bound, keeping the
		// records after the newest checkpoint before its head.
		w, err := audit.NewWriter(ctx, audit.Options{Storage: st, Stream: "gw1", CheckpointEvery: 2, BatchSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		for range 8 {
			w.Record(&audit.Record{Kind: audit.KindRequest, Method: "ping", Outcome: "ok"})
		}
		w.Close()
		before, _, _, _ := st.Size(ctx, "gw1")
		if _, err := audit.ApplyRetention(ctx, st, audit.Retention{MaxBytes: 1}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if count, _, first, _ := st.Size(ctx, "gw1"); count == 0 || count >= before || first+count-1 != 20 {
			t.Fatalf("%d of %d records left after retention by size (first %d)", count, before, first)
		}
		if rep, err := audit.Verify(ctx, st, nil); err != nil || !rep.OK() {
			t.Fatalf("after retention by size: %v %+v", err, rep.Problems())
		}
		// A writer continues the chain.
		w, err = audit.NewWriter(ctx, audit.Options{Storage: st, Stream: "gw1"})
		if err != nil {
			t.Fatal(err)
		}
		w.Record(&audit.Record{Kind: audit.KindRequest, Method: "ping", Outcome: "ok"})
		w.Close()
		if rep, err := audit.Verify(ctx, st, nil); err != nil || !rep.OK() || rep.Streams[0].Last != 21 {
			t.Fatalf("continued chain: %v %+v %+v", err, rep.Streams, rep.Problems())
		}
		_ = raw
	})
}

// Two writers given the same stream (two gateways on one database) make
// one valid chain.
func TestSharedStream(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db, _ := b.open(t)
		st := db.Audit()
		ctx := context.Background()
		var ws []*audit.Writer
		for range 2 {
			w, err := audit.NewWriter(ctx, audit.Options{Storage: st, Stream: "shared", BatchSize: 4, FlushInterval: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ws = append(ws, w)
		}
		for i := range 40 {
			ws[i%2].Record(&audit.Record{Kind: audit.KindRequest, Method: "ping", Outcome: "ok"})
			if i%5 == 0 {
				ws[i%2].Flush(ctx)
			}
		}
		for _, w := range ws {
			w.Close()
		}
		rep, err := audit.Verify(ctx, st, nil)
		if err != nil || !rep.OK() || rep.Streams[0].Records != 40 {
			t.Fatalf("verify: %v %+v %+v", err, rep.Streams, rep.Problems())
		}
	})
}
