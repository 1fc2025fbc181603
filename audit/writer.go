package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Defaults of zero Options fields.
const (
	DefaultQueueSize          = 8192
	DefaultBatchSize          = 256
	DefaultFlushInterval      = 200 * time.Millisecond
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = time.Minute
	DefaultRetentionInterval  = time.Hour
	// DefaultBlockTimeout is how long a fail-closed writer makes a request
	// wait for room in the queue before the event is counted as dropped.
	DefaultBlockTimeout = 5 * time.Second
)

// Options configure a Writer.
type Options struct {
	// Storage keeps the records (required).
	Storage Storage
	// Stream names this writer's hash chain; default the host name. Two
	// processes writing to one database need different streams.
	Stream string
	// Capture is what is kept of arguments and answers (default
	// CaptureShape); Redactor hides values under CaptureValues.
	Capture  Capture
	Redactor *Redactor
	// QueueSize bounds the events waiting to be written; BatchSize the
	// records per transaction; FlushInterval how long an event may wait
	// for its batch to fill.
	QueueSize     int
	BatchSize     int
	FlushInterval time.Duration
	// CheckpointEvery and CheckpointInterval say when a signed checkpoint
	// is written: after this many records, or this long after the last
	// one, whichever comes first (and when the writer closes).
	CheckpointEvery    int
	CheckpointInterval time.Duration
	// FailClosed refuses calls (Authorize) while records cannot be
	// written: the queue is full or the database fails. Otherwise the
	// gateway keeps serving and counts the records it could not keep.
	FailClosed bool
	// BlockTimeout bounds the wait for room in a full queue when
	// FailClosed (default DefaultBlockTimeout).
	BlockTimeout time.Duration
	// Retention deletes old records.
	Retention Retention
	// Sinks receive every record once it is stored.
	Sinks []Sink
	// Cost returns the cost units of a call, for its record.
	Cost func(ctx context.Context, e *gateway.Event) float64
	// Logger receives the writer's own problems.
	Logger *slog.Logger
}

// Retention bounds the trail. Records are deleted up to a checkpoint,
// which stays as the anchor of the remaining chain.
type Retention struct {
	// MaxAge deletes records older than this (0: keep).
	MaxAge time.Duration
	// MaxBytes bounds the total size of a stream's record bodies (0: no
	// bound).
	MaxBytes int64
	// Interval is how often retention runs (default hourly).
	Interval time.Duration
}

// Stats reports a writer's counters.
type Stats struct {
	// Written counts the records stored; Dropped the events that could not
	// be recorded (queue full); Queued the events waiting.
	Written, Dropped int64
	Queued           int
	// Failures counts failed writes (each retried); Healthy is false
	// while the last write failed or the queue is full.
	Failures int64
	Healthy  bool
	// LastError is the last write error ("" when the last write worked).
	LastError string
}

// Writer appends records to the trail off the hot path. Its methods are
// safe for concurrent use.
type Writer struct {
	opts     Options
	st       Storage
	stream   string
	capture  Capture
	redactor *Redactor
	log      *slog.Logger
	key      ed25519.PrivateKey

	queue chan *pending
	kick  chan struct{} // a batch is waiting
	flush chan chan struct{}
	done  chan struct{}
	stop  context.CancelFunc

	written, dropped, failures atomic.Int64
	unhealthy                  atomic.Bool
	lastErr                    atomic.Pointer[string]
	closeOnce                  sync.Once

	// writer goroutine state
	seq       int64
	prev      string
	sinceCP   int
	lastCPSeq int64
	lastCP    time.Time
	reported  int64 // drops already recorded in the trail
}

// NewWriter opens the trail's stream (continuing its chain) and starts
// the writer. Close it to flush and checkpoint.
func NewWriter(ctx context.Context, opts Options) (*Writer, error) {
	if opts.Storage == nil {
		return nil, errors.New("audit: no storage")
	}
	if opts.Stream == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "gateway"
		}
		opts.Stream = h
	}
	if opts.Capture == "" {
		opts.Capture = CaptureShape
	}
	switch opts.Capture {
	case CaptureShape, CaptureValues, CaptureNone:
	default:
		return nil, fmt.Errorf("audit: unknown capture mode %q (shape, values or none)", opts.Capture)
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.BlockTimeout <= 0 {
		opts.BlockTimeout = DefaultBlockTimeout
	}
	if opts.Retention.Interval <= 0 {
		opts.Retention.Interval = DefaultRetentionInterval
	}
	if opts.Redactor == nil && opts.Capture == CaptureValues {
		opts.Redactor, _ = NewRedactor(nil, nil, 0)
	}
	w := &Writer{
		opts: opts, st: opts.Storage, stream: opts.Stream, capture: opts.Capture, redactor: opts.Redactor, log: opts.Logger,
		queue: make(chan *pending, opts.QueueSize), kick: make(chan struct{}, 1), flush: make(chan chan struct{}), done: make(chan struct{}),
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	key, err := w.st.SigningKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: the checkpoint key: %w", err)
	}
	w.key = key
	if w.seq, w.prev, err = w.st.Head(ctx, w.stream); err != nil {
		return nil, fmt.Errorf("audit: reading stream %q: %w", w.stream, err)
	}
	cps, err := w.st.Checkpoints(ctx, w.stream)
	if err != nil {
		return nil, fmt.Errorf("audit: reading stream %q: %w", w.stream, err)
	}
	if len(cps) > 0 {
		w.lastCPSeq = cps[len(cps)-1].Seq
	}
	w.sinceCP = int(w.seq - w.lastCPSeq)
	w.lastCP = time.Now()
	runCtx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	go w.run(runCtx)
	if opts.Retention.MaxAge > 0 || opts.Retention.MaxBytes > 0 {
		go w.retain(runCtx)
	}
	return w, nil
}

// Stream returns the writer's stream.
func (w *Writer) Stream() string { return w.stream }

// PublicKey returns the key that verifies the writer's checkpoints.
func (w *Writer) PublicKey() ed25519.PublicKey { return w.key.Public().(ed25519.PublicKey) }

// Observe records a gateway event: use it as a gateway.Hooks.Observe
// function. It only queues the event.
func (w *Writer) Observe(ctx context.Context, e *gateway.Event) {
	p := &pending{ev: e}
	p.traceID, p.spanID = spanOf(ctx)
	if w.opts.Cost != nil && e.Method == protocol.MethodToolsCall {
		p.cost = w.opts.Cost(ctx, e)
	}
	w.enqueue(p)
}

// Record appends a record the program makes itself (a budget warning,
// ...): Kind and Outcome set, Time defaulting to now. Stream, Seq and the
// hashes are set by the writer.
func (w *Writer) Record(r *Record) {
	if r.Time.IsZero() {
		r.Time = now()
	}
	w.enqueue(&pending{rec: r})
}

func (w *Writer) enqueue(p *pending) {
	select {
	case w.queue <- p:
		if len(w.queue) >= w.opts.BatchSize {
			select {
			case w.kick <- struct{}{}:
			default:
			}
		}
		return
	default:
	}
	select { // full: the writer must run now
	case w.kick <- struct{}{}:
	default:
	}
	if w.opts.FailClosed {
		t := time.NewTimer(w.opts.BlockTimeout)
		defer t.Stop()
		select {
		case w.queue <- p:
			return
		case <-t.C:
		case <-w.done:
		}
	}
	if n := w.dropped.Add(1); n == 1 || n%1000 == 0 {
		w.log.Error("audit: the queue is full; events are not being recorded", "dropped", n, "queue", cap(w.queue), "failClosed", w.opts.FailClosed)
	}
}

// Authorize refuses requests while a fail-closed trail cannot record
// them: use it in gateway.Hooks.Authorize. Lists are never filtered.
func (w *Writer) Authorize(_ context.Context, a *gateway.Access) error {
	if !w.opts.FailClosed || a.Listing {
		return nil
	}
	if w.Healthy() {
		return nil
	}
	reason := "the audit trail cannot record requests right now"
	if e := w.lastErr.Load(); e != nil && *e != "" {
		reason += " (" + *e + ")"
	} else {
		reason += " (its queue is full)"
	}
	return &gateway.Denial{Rule: "audit-fail-closed", Reason: reason + "; try again later"}
}

// Healthy reports whether records are being written: the last write
// worked and the queue has room.
func (w *Writer) Healthy() bool {
	return !w.unhealthy.Load() && len(w.queue) < cap(w.queue)
}

// Stats returns the writer's counters.
func (w *Writer) Stats() Stats {
	s := Stats{Written: w.written.Load(), Dropped: w.dropped.Load(), Queued: len(w.queue), Failures: w.failures.Load(), Healthy: w.Healthy()}
	if e := w.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// Flush waits until the events queued before the call are stored, or ctx
// ends.
func (w *Writer) Flush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case w.flush <- ack:
	case <-w.done:
		return errors.New("audit: writer closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stores what is queued and a final checkpoint (within a few
// seconds: a dead database loses them, logged and counted, rather than
// hold the process), then stops the writer and its sinks.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = w.Flush(ctx)
		w.stop()
		<-w.done
		for _, s := range w.opts.Sinks {
			if err := s.Close(); err != nil {
				w.log.Warn("audit: closing a sink", "err", err)
			}
		}
	})
	return nil
}

// run is the writer goroutine: it drains the queue in batches, every
// FlushInterval or as soon as a batch is waiting (enqueue kicks it), so
// that it does not wake for every event.
func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	batch := make([]*pending, 0, w.opts.BatchSize)
	tick := time.NewTicker(w.opts.FlushInterval)
	defer tick.Stop()
	drain := func(ctx context.Context, final bool) {
		for {
			n := len(w.queue)
			if n == 0 {
				break
			}
			for range min(n, w.opts.BatchSize-len(batch)) {
				batch = append(batch, <-w.queue)
			}
			if len(batch) >= w.opts.BatchSize {
				w.write(ctx, batch, false)
				batch = batch[:0]
			}
		}
		if len(batch) > 0 || final {
			w.write(ctx, batch, final)
			batch = batch[:0]
		}
	}
	for {
		select {
		case <-w.kick:
			drain(ctx, false)
		case ack := <-w.flush:
			// Everything queued before the flush is in the queue now.
			drain(ctx, false)
			close(ack)
		case <-tick.C:
			drain(ctx, false)
			if time.Since(w.lastCP) >= w.opts.CheckpointInterval && w.seq > w.lastCPSeq {
				w.write(ctx, nil, true)
			}
		case <-ctx.Done():
			// The last records and checkpoint, within a bound: a dead
			// database must not hold the process.
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			drain(fctx, true)
			cancel()
			return
		}
	}
}

// write stores a batch, retrying until it works or ctx ends; final adds
// a checkpoint whatever the counts.
func (w *Writer) write(ctx context.Context, batch []*pending, final bool) {
	var records []*Record
	gap := false
	if d := w.dropped.Load(); d > w.reported {
		detail, _ := json.Marshal(map[string]int64{"dropped": d - w.reported, "droppedTotal": d})
		records = append(records, &Record{Time: now(), Kind: KindAudit, Outcome: "dropped", Detail: detail,
			Reason: "events were not recorded: the audit queue was full"})
		gap = true
	}
	for _, p := range batch {
		r := p.rec
		if p.ev != nil {
			r = w.fromEvent(p)
		}
		records = append(records, r)
	}
	backoff := 50 * time.Millisecond
	for {
		recs, cps, seq, prev := w.chain(records, final)
		if len(recs) == 0 && len(cps) == 0 {
			return
		}
		err := w.st.Append(ctx, recs, cps)
		if err == nil {
			if w.unhealthy.Swap(false) {
				w.log.Info("audit: writing the trail again")
			}
			empty := ""
			w.lastErr.Store(&empty)
			if gap {
				w.reported = w.dropped.Load()
			}
			w.seq, w.prev = seq, prev
			w.sinceCP += len(recs)
			if len(cps) > 0 {
				w.lastCPSeq, w.lastCP, w.sinceCP = seq, time.Now(), 0
			}
			w.written.Add(int64(len(recs)))
			for _, s := range w.opts.Sinks {
				s.Send(recs, cps)
			}
			return
		}
		// Another writer may have appended to the stream (two gateways
		// given the same stream): continue after its records.
		if hs, hh, herr := w.st.Head(ctx, w.stream); herr == nil && hs > w.seq {
			w.log.Warn("audit: another writer appends to this stream; give each gateway its own (audit.stream)", "stream", w.stream)
			w.seq, w.prev = hs, hh
			continue
		}
		w.failures.Add(1)
		msg := err.Error()
		w.lastErr.Store(&msg)
		if !w.unhealthy.Swap(true) {
			w.log.Error("audit: cannot write the trail; retrying", "err", err, "failClosed", w.opts.FailClosed)
		}
		select {
		case <-ctx.Done():
			w.log.Error("audit: records not written", "records", len(recs), "err", err)
			w.dropped.Add(int64(len(batch)))
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// chain seals records after the stream's head (w.seq, w.prev) and adds a
// checkpoint when one is due. It returns the stored records, the
// checkpoints, and the new head.
func (w *Writer) chain(records []*Record, final bool) ([]*Stored, []*Checkpoint, int64, string) {
	recs := make([]*Stored, 0, len(records))
	seq, prev := w.seq, w.prev
	for _, r := range records {
		r.Stream, r.Seq, r.Prev, r.Hash = w.stream, seq+1, prev, ""
		s, err := NewStored(r)
		if err != nil {
			w.log.Error("audit: encoding a record", "err", err)
			continue
		}
		seq, prev = s.Seq, s.Hash
		recs = append(recs, s)
	}
	var cps []*Checkpoint
	if seq > w.lastCPSeq && (final || w.sinceCP+len(recs) >= w.opts.CheckpointEvery || time.Since(w.lastCP) >= w.opts.CheckpointInterval) {
		cp := &Checkpoint{Stream: w.stream, Seq: seq, Hash: prev, Time: now()}
		cp.Sign(w.key)
		cps = append(cps, cp)
	}
	return recs, cps, seq, prev
}

// retain applies the retention policy periodically.
func (w *Writer) retain(ctx context.Context) {
	t := time.NewTicker(w.opts.Retention.Interval)
	defer t.Stop()
	for {
		if n, err := ApplyRetention(ctx, w.st, w.opts.Retention, time.Now()); err != nil {
			w.log.Warn("audit: retention", "err", err)
		} else if n > 0 {
			w.log.Info("audit: retention deleted old records", "records", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ApplyRetention deletes, in every stream, the records older than
// r.MaxAge and the oldest records beyond r.MaxBytes, up to the newest
// checkpoint that allows (the chain stays verifiable from it; the newest
// record is always kept). It returns the number of records deleted.
func ApplyRetention(ctx context.Context, st Storage, r Retention, at time.Time) (int64, error) {
	streams, err := st.Streams(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, s := range streams {
		cps, err := st.Checkpoints(ctx, s)
		if err != nil {
			return total, err
		}
		head, _, err := st.Head(ctx, s)
		if err != nil {
			return total, err
		}
		// At least one record stays after the anchor: a stream of
		// checkpoints alone would read as cut off at its end.
		for len(cps) > 0 && cps[len(cps)-1].Seq >= head {
			cps = cps[:len(cps)-1]
		}
		if len(cps) == 0 {
			continue
		}
		var through int64
		if r.MaxAge > 0 {
			cut := at.Add(-r.MaxAge)
			for _, cp := range cps {
				// A checkpoint is signed after its records: a checkpoint
				// older than the cut covers only older records.
				if cp.Time.Before(cut) {
					through = max(through, cp.Seq)
				}
			}
		}
		if r.MaxBytes > 0 {
			count, size, first, err := st.Size(ctx, s)
			if err != nil {
				return total, err
			}
			if size > r.MaxBytes && count > 0 {
				avg := size / count
				target := first - 1 + (size-r.MaxBytes+avg-1)/max(avg, 1)
				pick := cps[len(cps)-1].Seq // as far as allowed
				for _, cp := range cps {
					if cp.Seq >= target {
						pick = cp.Seq
						break
					}
				}
				through = max(through, pick)
			}
		}
		if through == 0 {
			continue
		}
		n, err := st.Prune(ctx, s, through)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
