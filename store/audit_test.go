package store

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/audit"
	"github.com/switchboard-mcp/switchboard/internal/pgtest"
)

// Append stores batches of any size (split into statements of 64, 32,
// ... rows) in order, on SQLite and on PostgreSQL.
func TestAuditAppendBatches(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			opts := &Options{MasterKey: make([]byte, 32)}
			if backend == "postgres" {
				opts.URL = pgtest.DSN(t)
			}
			db, err := Open(ctx, t.TempDir(), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			st := db.Audit()
			seq, prev := int64(0), ""
			for _, n := range []int{0, 1, 3, 64, 65, 100, 127, 130, 1} {
				batch := make([]*audit.Stored, 0, n)
				for range n {
					seq++
					s, err := audit.NewStored(&audit.Record{Stream: "s", Seq: seq, Prev: prev, Time: time.UnixMilli(1_700_000_000_000 + seq),
						Kind: audit.KindRequest, Method: "tools/call", Name: "echo", Outcome: "ok"})
					if err != nil {
						t.Fatal(err)
					}
					prev = s.Hash
					batch = append(batch, s)
				}
				if err := st.Append(ctx, batch, nil); err != nil {
					t.Fatalf("a batch of %d: %v", n, err)
				}
			}
			want := int64(1)
			for r, err := range st.Records(ctx, &audit.Query{Stream: "s", BySeq: true}) {
				if err != nil {
					t.Fatal(err)
				}
				if r.Seq != want {
					t.Fatalf("record %d where %d was expected", r.Seq, want)
				}
				want++
			}
			if want-1 != seq {
				t.Fatalf("%d records read back, %d appended", want-1, seq)
			}
			if head, hash, err := st.Head(ctx, "s"); err != nil || head != seq || hash != prev {
				t.Fatalf("head %d %q %v, want %d %q", head, hash, err, seq, prev)
			}
		})
	}
}
