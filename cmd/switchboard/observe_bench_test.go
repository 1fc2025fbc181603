package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/store"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// BenchmarkGatewayObservability measures the gateway's tool-call
// throughput over Streamable HTTP (8 concurrent client sessions, an
// in-process upstream) with serve's wiring: "off" has the audit trail
// disabled and no telemetry; "on" records every request in the audit
// trail (SQLite, argument shapes), samples 10% of traces exported over
// OTLP/HTTP to a local collector, and records the metrics for
// Prometheus. It reports calls/s, and for "on" the audit records written
// and dropped and the heap in use after the run (the writer must keep up
// with a bounded queue). Run each variant in a process of its own (a
// variant inherits the garbage and global providers of those before it),
// as docs/observability.md ("Overhead") shows:
//
//	go test -c -o /tmp/obs.test ./cmd/switchboard
//	/tmp/obs.test -test.run '^$' -test.bench 'GatewayObservability/^on$' -test.benchtime 6000x
func BenchmarkGatewayObservability(b *testing.B) {
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer col.Close()
	for _, c := range []struct{ name, yaml string }{
		{"off", "audit: {enabled: false}\n"},
		{"audit", "audit: {stream: bench}\n"},
		{"traces", "audit: {enabled: false}\ntelemetry: {sampleRatio: 0.1, otlp: {endpoint: \"" + col.URL + "\"}}\n"},
		{"metrics", "audit: {enabled: false}\ntelemetry: {metrics: true}\n"},
		{"audit+traces", "audit: {stream: bench}\ntelemetry: {sampleRatio: 0.1, otlp: {endpoint: \"" + col.URL + "\"}}\n"},
		{"costs", "audit: {enabled: false}\ncosts: {default: 1}\n"},
		{"on", "audit: {stream: bench}\ntelemetry: {metrics: true, sampleRatio: 0.1, otlp: {endpoint: \"" + col.URL + "\"}}\ncosts: {default: 1}\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			cfg, err := config.Parse([]byte(c.yaml), config.FormatYAML, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			db, err := store.Open(ctx, dir, &store.Options{MasterKey: []byte("0123456789abcdef0123456789abcdef")})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			opts := gateway.Options{Upstreams: []gateway.Upstream{{Name: "demo", Server: everything.NewServer(nil)}}}
			obs, err := setupObservability(ctx, cfg, &opts, db, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			g, err := gateway.New(opts)
			if err != nil {
				b.Fatal(err)
			}
			obs.attach(g)
			ts := httptest.NewServer(g.Handler())
			defer ts.Close()
			defer g.Close()
			const clients = 8
			pool := make(chan *mcp.ClientSession, clients)
			for range clients {
				cs, err := mcp.NewClient(protocol.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, streamable.NewDialer(ts.URL+gateway.PathMCP, nil))
				if err != nil {
					b.Fatal(err)
				}
				defer cs.Close()
				pool <- cs
			}
			args := map[string]any{"text": "hello"}
			var calls atomic.Int64
			b.SetParallelism(clients / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				cs := <-pool
				defer func() { pool <- cs }()
				for pb.Next() {
					if _, err := cs.CallToolArgs(ctx, "echo", args); err != nil {
						b.Error(err)
						return
					}
					calls.Add(1)
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(calls.Load())/elapsed.Seconds(), "calls/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(max(calls.Load(), 1)), "cpu-µs/call")
			if obs.writer != nil {
				fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := obs.writer.Flush(fctx)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				st := obs.writer.Stats()
				b.ReportMetric(float64(st.Dropped), "dropped")
				b.ReportMetric(float64(st.Written), "records")
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
				if st.Dropped > 0 {
					b.Errorf("the audit writer dropped %d events at full load", st.Dropped)
				}
			}
			obs.Close()
		})
	}
}

// cpuTime is the process's user and system CPU time: on a shared
// machine, CPU per call is a steadier measure than calls per second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
