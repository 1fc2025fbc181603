package audit_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	collogpb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	logpb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-mcp/switchboard/audit"
)

// The sinks get every stored record: JSON lines to a rotated file and
// over HTTP, OpenTelemetry log records over OTLP (decoded by a receiver
// in the test); the file's lines verify as an export.
func TestSinks(t *testing.T) {
	var (
		mu       sync.Mutex
		ndjson   []string
		otlpLogs []*logpb.LogRecord
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/ingest":
			if r.Header.Get("Content-Type") != "application/x-ndjson" || r.Header.Get("Authorization") != "Bearer t" {
				http.Error(w, "bad request", 400)
				return
			}
			sc := bufio.NewScanner(strings.NewReader(string(body)))
			for sc.Scan() {
				ndjson = append(ndjson, sc.Text())
			}
		case "/v1/logs":
			var req collogpb.ExportLogsServiceRequest
			if err := proto.Unmarshal(body, &req); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			for _, rl := range req.ResourceLogs {
				for _, sl := range rl.ScopeLogs {
					otlpLogs = append(otlpLogs, sl.LogRecords...)
				}
			}
			b, _ := proto.Marshal(&collogpb.ExportLogsServiceResponse{})
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.Write(b)
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	file, err := audit.NewFileSink(audit.FileSinkOptions{Path: path, MaxBytes: 2000, MaxFiles: 50})
	if err != nil {
		t.Fatal(err)
	}
	hs, err := audit.NewHTTPSink(audit.HTTPSinkOptions{URL: srv.URL + "/ingest", Header: http.Header{"Authorization": {"Bearer t"}}})
	if err != nil {
		t.Fatal(err)
	}
	ots, err := audit.NewOTLPSink(context.Background(), audit.OTLPSinkOptions{Endpoint: srv.URL + "/v1/logs"})
	if err != nil {
		t.Fatal(err)
	}
	db, _ := backends[0].open(t)
	w, err := audit.NewWriter(context.Background(), audit.Options{Storage: db.Audit(), Stream: "s", Sinks: []audit.Sink{file, hs, ots}, CheckpointEvery: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if i%3 == 0 {
			w.Flush(context.Background()) // several batches: the file rotates between them
		}
		w.Record(&audit.Record{Kind: audit.KindRequest, Method: "tools/call", Name: "x_echo", Upstream: "x", Subject: "alice", Outcome: "ok",
			TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Time: time.Now()})
	}
	w.Close() // closes the sinks, delivering what they hold

	// The file, rotated: every record once, in order, across the files.
	files := audit.RotatedFiles(path)
	if len(files) < 2 {
		t.Fatalf("the file was not rotated: %v", files)
	}
	var all strings.Builder
	for i := len(files) - 1; i >= 0; i-- {
		b, err := readFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		all.WriteString(b)
	}
	rep, err := audit.VerifyExport(strings.NewReader(all.String()), w.PublicKey())
	if err != nil || !rep.OK() || rep.Streams[0].Records != 20 || rep.Streams[0].Checkpoints < 2 {
		t.Fatalf("the file's lines as an export: %v %+v %+v", err, rep.Streams, rep.Problems())
	}
	mu.Lock()
	defer mu.Unlock()
	if n := countRecords(ndjson); n != 20 {
		t.Errorf("HTTP sink: %d records (%d lines)", n, len(ndjson))
	}
	records := 0
	for _, lr := range otlpLogs {
		attrs := map[string]string{}
		for _, kv := range lr.Attributes {
			attrs[kv.Key] = kv.Value.GetStringValue()
		}
		if attrs["switchboard.audit.kind"] != "request" {
			continue
		}
		records++
		if lr.EventName != audit.EventName || attrs["mcp.method.name"] != "tools/call" || attrs["gen_ai.tool.name"] != "x_echo" ||
			attrs["switchboard.audit.subject"] != "alice" || !strings.Contains(lr.Body.GetStringValue(), `"hash":`) ||
			len(lr.TraceId) != 16 || len(lr.SpanId) != 8 {
			t.Errorf("OTLP log record: %v", lr)
		}
	}
	if records != 20 {
		t.Errorf("OTLP sink: %d records of %d log records", records, len(otlpLogs))
	}
}

func readFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}

func countRecords(lines []string) int {
	n := 0
	for _, l := range lines {
		if !strings.Contains(l, `"kind":"checkpoint"`) {
			n++
		}
	}
	return n
}
