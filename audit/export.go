package audit

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"iter"
	"sort"

	"github.com/go-json-experiment/json"
)

// WriteExport writes the records q selects as JSON lines (each record with
// its hash), followed, when withCheckpoints, by the checkpoints of the
// streams written (lines with "kind":"checkpoint"): an export of whole
// streams can be verified with VerifyExport.
func WriteExport(ctx context.Context, st Storage, q *Query, w io.Writer, withCheckpoints bool) (int64, error) {
	bw := bufio.NewWriter(w)
	var n int64
	streams := map[string]bool{}
	for s, err := range st.Records(ctx, q) {
		if err != nil {
			return n, err
		}
		line, err := exportLine(s)
		if err != nil {
			return n, err
		}
		bw.Write(line)
		bw.WriteByte('\n')
		streams[s.Stream] = true
		n++
	}
	if withCheckpoints {
		names := make([]string, 0, len(streams))
		for s := range streams {
			names = append(names, s)
		}
		sort.Strings(names)
		for _, s := range names {
			cps, err := st.Checkpoints(ctx, s)
			if err != nil {
				return n, err
			}
			for _, cp := range cps {
				b, err := json.Marshal(cp)
				if err != nil {
					return n, err
				}
				bw.Write(b)
				bw.WriteByte('\n')
			}
		}
	}
	return n, bw.Flush()
}

// exportLine is a stored record as an export line: its body with its
// hash.
func exportLine(s *Stored) ([]byte, error) {
	r, err := s.Record()
	if err != nil {
		// An edited body is exported as it is stored, for verification
		// to find.
		return s.Body, nil
	}
	return json.Marshal(r, json.Deterministic(true))
}

// MaxExportLine bounds one line of an export read by ReadExport.
const MaxExportLine = 16 << 20

// Export is a parsed export: its records and checkpoints by stream.
type Export struct {
	Records     map[string][]*Stored
	Checkpoints map[string][]*Checkpoint
}

// ReadExport parses an export written by WriteExport (JSON lines; blank
// lines are skipped). A line that is not a record or a checkpoint is an
// error naming its line number.
func ReadExport(r io.Reader) (*Export, error) {
	ex := &Export{Records: map[string][]*Stored{}, Checkpoints: map[string][]*Checkpoint{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxExportLine)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(trimSpace(b)) == 0 {
			continue
		}
		var probe struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(b, &probe); err != nil {
			return nil, fmt.Errorf("audit: export line %d: %v", line, err)
		}
		if probe.Kind == KindCheckpoint {
			var cp Checkpoint
			if err := json.Unmarshal(b, &cp, json.RejectUnknownMembers(true)); err != nil {
				return nil, fmt.Errorf("audit: export line %d: %v", line, err)
			}
			ex.Checkpoints[cp.Stream] = append(ex.Checkpoints[cp.Stream], &cp)
			continue
		}
		rec, err := ParseRecord(b)
		if err != nil {
			return nil, fmt.Errorf("audit: export line %d: %v", line, err)
		}
		hash := rec.Hash
		body, err := rec.Body()
		if err != nil {
			return nil, fmt.Errorf("audit: export line %d: %v", line, err)
		}
		s := &Stored{Stream: rec.Stream, Seq: rec.Seq, Time: rec.Time, Kind: rec.Kind, Method: rec.Method,
			Subject: rec.Subject, Tenant: rec.Tenant, ClientID: rec.ClientID, Upstream: rec.Upstream,
			Name: rec.Name, Original: rec.Original, Outcome: rec.Outcome, Hash: hash, Body: body}
		ex.Records[rec.Stream] = append(ex.Records[rec.Stream], s)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("audit: export line %d is longer than %d bytes", line+1, MaxExportLine)
		}
		return nil, err
	}
	for _, cps := range ex.Checkpoints {
		sort.SliceStable(cps, func(i, j int) bool { return cps[i].Seq < cps[j].Seq })
	}
	return ex, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

type exportSource struct{ ex *Export }

func (s exportSource) streams(context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for k := range s.ex.Records {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for k := range s.ex.Checkpoints {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

func (s exportSource) checkpoints(_ context.Context, stream string) ([]*Checkpoint, error) {
	return s.ex.Checkpoints[stream], nil
}

// records yields a stream's records in file order, each at its place in
// the file: an export is verified as it was written, so that reordered
// lines are found as well as missing ones.
func (s exportSource) records(_ context.Context, stream string) iter.Seq2[*Stored, error] {
	return func(yield func(*Stored, error) bool) {
		recs := s.ex.Records[stream]
		if len(recs) == 0 {
			return
		}
		present := make(map[int64]int, len(recs))
		for i, r := range recs {
			if _, dup := present[r.Seq]; !dup {
				present[r.Seq] = i
			}
		}
		expect := recs[0].Seq
		for i, r := range recs {
			c := *r
			c.Seq = r.Seq
			if j, later := present[expect]; r.Seq != expect && later && j > i {
				c.Seq = expect // this line stands where another record belongs
			}
			expect = c.Seq + 1
			if !yield(&c, nil) {
				return
			}
		}
	}
}

// VerifyExport verifies an export read from r with the trail's public
// key (see Verify).
func VerifyExport(r io.Reader, pub ed25519.PublicKey) (*Report, error) {
	ex, err := ReadExport(r)
	if err != nil {
		return nil, err
	}
	return verify(context.Background(), exportSource{ex}, pub, "")
}
