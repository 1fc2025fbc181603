package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
)

// Sink receives the records once they are stored, for streaming to a
// SIEM. Send must not block: sinks made by this package queue what they
// get (bounded, counting what they drop) and deliver it from their own
// goroutine.
type Sink interface {
	Send(records []*Stored, checkpoints []*Checkpoint)
	// Close delivers what is queued (bounded in time) and stops.
	Close() error
}

// deliverer is what an asynchronous sink does with a batch of lines.
type deliverer interface {
	deliver(ctx context.Context, lines [][]byte, recs []*Record) error
	close() error
}

// asyncSink queues batches for a deliverer.
type asyncSink struct {
	name    string
	d       deliverer
	queue   chan sinkBatch
	done    chan struct{}
	dropped atomic.Int64
	log     *slog.Logger
	once    sync.Once
	stop    context.CancelFunc
	ctx     context.Context
	wantRec bool
}

type sinkBatch struct {
	lines [][]byte
	recs  []*Record
}

// SinkQueue bounds the batches a sink holds while its destination lags.
const SinkQueue = 256

func newAsync(name string, d deliverer, log *slog.Logger, wantRec bool) *asyncSink {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &asyncSink{name: name, d: d, queue: make(chan sinkBatch, SinkQueue), done: make(chan struct{}), log: log, stop: cancel, ctx: ctx, wantRec: wantRec}
	go s.run()
	return s
}

func (s *asyncSink) Send(records []*Stored, checkpoints []*Checkpoint) {
	var b sinkBatch
	for _, r := range records {
		line, err := exportLine(r)
		if err != nil {
			continue
		}
		b.lines = append(b.lines, line)
		if s.wantRec {
			if rec, err := r.Record(); err == nil {
				b.recs = append(b.recs, rec)
			}
		}
	}
	for _, cp := range checkpoints {
		if line, err := json.Marshal(cp); err == nil {
			b.lines = append(b.lines, line)
		}
	}
	if len(b.lines) == 0 {
		return
	}
	select {
	case s.queue <- b:
	default:
		if n := s.dropped.Add(int64(len(b.lines))); n == int64(len(b.lines)) || n%1000 < int64(len(b.lines)) {
			s.log.Error("audit: the export sink lags; records not exported", "sink", s.name, "dropped", n)
		}
	}
}

// Dropped counts the lines the sink could not deliver.
func (s *asyncSink) Dropped() int64 { return s.dropped.Load() }

func (s *asyncSink) run() {
	defer close(s.done)
	for b := range s.queue {
		backoff := 100 * time.Millisecond
		for attempt := 0; ; attempt++ {
			err := s.d.deliver(s.ctx, b.lines, b.recs)
			if err == nil {
				break
			}
			if attempt == 0 {
				s.log.Warn("audit: exporting records failed; retrying", "sink", s.name, "err", err)
			}
			if s.ctx.Err() != nil || attempt >= 8 {
				s.dropped.Add(int64(len(b.lines)))
				s.log.Error("audit: records not exported", "sink", s.name, "records", len(b.lines), "err", err)
				break
			}
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
			}
			backoff = min(backoff*2, 10*time.Second)
		}
	}
}

func (s *asyncSink) Close() error {
	var err error
	s.once.Do(func() {
		close(s.queue)
		t := time.AfterFunc(10*time.Second, s.stop)
		<-s.done
		t.Stop()
		s.stop()
		err = s.d.close()
	})
	return err
}

// FileSinkOptions configure NewFileSink.
type FileSinkOptions struct {
	// Path is the file the records are appended to as JSON lines.
	Path string
	// MaxBytes rotates the file when it would grow past this size
	// (default 100 MiB): it is renamed PATH.1 (PATH.1 to PATH.2, ...).
	MaxBytes int64
	// MaxFiles is how many rotated files are kept (default 5).
	MaxFiles int
	Logger   *slog.Logger
}

// NewFileSink appends records as JSON lines to a file, rotating it by
// size.
func NewFileSink(o FileSinkOptions) (Sink, error) {
	if o.Path == "" {
		return nil, fmt.Errorf("audit: file sink: no path")
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 100 << 20
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = 5
	}
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: file sink: %w", err)
	}
	f := &fileDeliverer{o: o}
	if err := f.open(); err != nil {
		return nil, err
	}
	return newAsync("file "+o.Path, f, o.Logger, false), nil
}

type fileDeliverer struct {
	o    FileSinkOptions
	f    *os.File
	size int64
}

func (f *fileDeliverer) open() error {
	file, err := os.OpenFile(f.o.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: file sink: %w", err)
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return err
	}
	f.f, f.size = file, fi.Size()
	return nil
}

func (f *fileDeliverer) rotate() error {
	f.f.Close()
	for i := f.o.MaxFiles - 1; i >= 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", f.o.Path, i), fmt.Sprintf("%s.%d", f.o.Path, i+1))
	}
	_ = os.Remove(fmt.Sprintf("%s.%d", f.o.Path, f.o.MaxFiles+1))
	if err := os.Rename(f.o.Path, f.o.Path+".1"); err != nil && !os.IsNotExist(err) {
		return err
	}
	return f.open()
}

func (f *fileDeliverer) deliver(_ context.Context, lines [][]byte, _ []*Record) error {
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	if f.size > 0 && f.size+int64(buf.Len()) > f.o.MaxBytes {
		if err := f.rotate(); err != nil {
			return err
		}
	}
	n, err := f.f.Write(buf.Bytes())
	f.size += int64(n)
	return err
}

func (f *fileDeliverer) close() error { return f.f.Close() }

// RotatedFiles lists a file sink's files, newest first (for tests and
// tools).
func RotatedFiles(path string) []string {
	matches, _ := filepath.Glob(path + ".*")
	sort.Slice(matches, func(i, j int) bool {
		return len(matches[i]) < len(matches[j]) || len(matches[i]) == len(matches[j]) && matches[i] < matches[j]
	})
	return append([]string{path}, matches...)
}

// HTTPSinkOptions configure NewHTTPSink.
type HTTPSinkOptions struct {
	// URL receives POST requests whose body is JSON lines
	// (Content-Type: application/x-ndjson), one per batch.
	URL string
	// Header is sent with every request (Authorization, ...).
	Header http.Header
	// Client sends the requests (default: a client with a 10s timeout).
	Client *http.Client
	Logger *slog.Logger
}

// NewHTTPSink posts records as JSON lines to a collector over HTTP,
// retrying with backoff.
func NewHTTPSink(o HTTPSinkOptions) (Sink, error) {
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		return nil, fmt.Errorf("audit: HTTP sink: want an http:// or https:// URL")
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return newAsync("http", &httpDeliverer{o: o}, o.Logger, false), nil
}

type httpDeliverer struct{ o HTTPSinkOptions }

func (h *httpDeliverer) deliver(ctx context.Context, lines [][]byte, _ []*Record) error {
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.o.URL, &buf)
	if err != nil {
		return err
	}
	for k, v := range h.o.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := h.o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the collector answered %s", resp.Status)
	}
	return nil
}

func (h *httpDeliverer) close() error { return nil }
