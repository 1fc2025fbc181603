package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/audit"
)

// BenchmarkAuditAppend measures storing audit records in SQLite in
// batches of 256, per record.
func BenchmarkAuditAppend(b *testing.B) {
	db, err := Open(context.Background(), b.TempDir(), &Options{MasterKey: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := db.Audit()
	prev := ""
	seq := int64(0)
	batch := make([]*audit.Stored, 0, 256)
	flush := func() {
		if err := st.Append(context.Background(), batch, nil); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		seq++
		r := &audit.Record{Stream: "bench", Seq: seq, Prev: prev, Time: time.Now(), Kind: audit.KindRequest, Method: "tools/call",
			Upstream: "demo", Name: fmt.Sprintf("demo_echo"), Original: "echo", Subject: "alice", Tenant: "acme", Client: "bench/1",
			Session: "0123456789abcdef0123456789abcdef", Revision: "2025-11-25", RequestID: "42", Arguments: []byte(`{"text":"string"}`),
			Capture: "shape", Outcome: "ok", LatencyUs: 250, Cost: 1}
		s, err := audit.NewStored(r)
		if err != nil {
			b.Fatal(err)
		}
		prev = s.Hash
		batch = append(batch, s)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}
