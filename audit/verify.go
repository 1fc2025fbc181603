package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"iter"
	"sort"
	"strings"
)

// Problem kinds found by Verify.
const (
	ProblemEdited     = "edited"
	ProblemDeleted    = "deleted"
	ProblemReordered  = "reordered"
	ProblemTruncated  = "truncated"
	ProblemCheckpoint = "checkpoint"
)

// Problem is the first break Verify found in a stream: which record and
// what happened to it.
type Problem struct {
	Stream string `json:"stream"`
	// Seq is the record named (for a deletion, the first missing one).
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func (p *Problem) Error() string { return p.Message }

// StreamReport is what Verify found in one stream.
type StreamReport struct {
	Stream string `json:"stream"`
	// Records counts the records checked; First and Last are their
	// sequence numbers; Checkpoints counts the valid checkpoints.
	Records     int64 `json:"records"`
	First       int64 `json:"first"`
	Last        int64 `json:"last"`
	Checkpoints int   `json:"checkpoints"`
	// Problem is the first break, nil when the stream verifies.
	Problem *Problem `json:"problem,omitzero"`
}

// Report is the result of Verify.
type Report struct {
	Streams []*StreamReport `json:"streams"`
}

// OK reports whether every stream verified.
func (r *Report) OK() bool {
	for _, s := range r.Streams {
		if s.Problem != nil {
			return false
		}
	}
	return true
}

// Problems returns the first problem of each stream that has one.
func (r *Report) Problems() []*Problem {
	var out []*Problem
	for _, s := range r.Streams {
		if s.Problem != nil {
			out = append(out, s.Problem)
		}
	}
	return out
}

// source is what Verify reads: the stored trail or an export.
type source interface {
	streams(ctx context.Context) ([]string, error)
	checkpoints(ctx context.Context, stream string) ([]*Checkpoint, error)
	records(ctx context.Context, stream string) iter.Seq2[*Stored, error]
}

type storageSource struct{ st Storage }

func (s storageSource) streams(ctx context.Context) ([]string, error) { return s.st.Streams(ctx) }
func (s storageSource) checkpoints(ctx context.Context, stream string) ([]*Checkpoint, error) {
	return s.st.Checkpoints(ctx, stream)
}
func (s storageSource) records(ctx context.Context, stream string) iter.Seq2[*Stored, error] {
	return s.st.Records(ctx, &Query{Stream: stream, BySeq: true})
}

// Verify checks every stream of the trail: each record's hash, the chain
// of hashes, the sequence numbers, the indexed columns against the hashed
// content, and the checkpoints' signatures (with pub; nil means the
// storage's own key). It names the first record of each stream that was
// edited, deleted, reordered or cut off the end. The error is for a
// failure to read, not for a broken chain: see Report.OK.
func Verify(ctx context.Context, st Storage, pub ed25519.PublicKey) (*Report, error) {
	if pub == nil {
		key, err := st.SigningKey(ctx)
		if err != nil {
			return nil, err
		}
		pub = key.Public().(ed25519.PublicKey)
	}
	return verify(ctx, storageSource{st}, pub, "")
}

// VerifyStream is Verify for one stream.
func VerifyStream(ctx context.Context, st Storage, pub ed25519.PublicKey, stream string) (*Report, error) {
	if pub == nil {
		key, err := st.SigningKey(ctx)
		if err != nil {
			return nil, err
		}
		pub = key.Public().(ed25519.PublicKey)
	}
	return verify(ctx, storageSource{st}, pub, stream)
}

func verify(ctx context.Context, src source, pub ed25519.PublicKey, only string) (*Report, error) {
	streams, err := src.streams(ctx)
	if err != nil {
		return nil, err
	}
	sort.Strings(streams)
	rep := &Report{}
	for _, s := range streams {
		if only != "" && s != only {
			continue
		}
		sr, err := verifyStream(ctx, src, pub, s)
		if err != nil {
			return nil, err
		}
		rep.Streams = append(rep.Streams, sr)
	}
	return rep, nil
}

// describe names a record for messages.
func describe(s *Stored) string {
	var b strings.Builder
	fmt.Fprintf(&b, "record %d of stream %q", s.Seq, s.Stream)
	var what []string
	if !s.Time.IsZero() {
		what = append(what, s.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	if s.Method != "" {
		what = append(what, s.Method)
	}
	if s.Name != "" {
		what = append(what, s.Name)
	}
	if len(what) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(what, " "))
	}
	return b.String()
}

func verifyStream(ctx context.Context, src source, pub ed25519.PublicKey, stream string) (*StreamReport, error) {
	sr := &StreamReport{Stream: stream}
	fail := func(seq int64, kind, format string, args ...any) {
		if sr.Problem == nil {
			sr.Problem = &Problem{Stream: stream, Seq: seq, Kind: kind, Message: fmt.Sprintf(format, args...)}
		}
	}
	cps, err := src.checkpoints(ctx, stream)
	if err != nil {
		return nil, err
	}
	bySeq := map[int64]*Checkpoint{}
	var lastCP *Checkpoint
	for _, cp := range cps {
		if err := cp.Check(pub); err != nil {
			fail(cp.Seq, ProblemCheckpoint, "the checkpoint of record %d of stream %q (%s) is not valid: %v", cp.Seq, stream, cp.Time.UTC().Format("2006-01-02T15:04:05Z"), err)
			continue
		}
		sr.Checkpoints++
		bySeq[cp.Seq] = cp
		if lastCP == nil || cp.Seq > lastCP.Seq {
			lastCP = cp
		}
	}
	var (
		expect int64 = 1
		prev   string
		first  = true
		last   *Stored
	)
	for s, err := range src.records(ctx, stream) {
		if err != nil {
			return nil, err
		}
		if sr.Problem != nil {
			continue // keep counting nothing more; drain
		}
		if first {
			first = false
			sr.First = s.Seq
			if s.Seq != 1 {
				anchor := bySeq[s.Seq-1]
				if anchor == nil {
					fail(s.Seq-1, ProblemDeleted, "records 1 to %d of stream %q were deleted: the chain starts at %s and no checkpoint anchors it (retention keeps one)", s.Seq-1, stream, describe(s))
					continue
				}
				expect, prev = s.Seq, anchor.Hash
			}
		}
		sr.Records++
		r, perr := ParseRecord(s.Body)
		switch {
		case perr != nil:
			fail(s.Seq, ProblemEdited, "%s was edited: its content is not a valid record (%v)", describe(s), perr)
		case s.Seq > expect && r.Seq == s.Seq:
			if expect == s.Seq-1 {
				fail(expect, ProblemDeleted, "record %d of stream %q was deleted: %s follows record %d", expect, stream, describe(s), expect-1)
			} else {
				fail(expect, ProblemDeleted, "records %d to %d of stream %q were deleted: %s follows record %d", expect, s.Seq-1, stream, describe(s), expect-1)
			}
		case r.Seq != s.Seq || r.Stream != stream:
			fail(s.Seq, ProblemReordered, "%s was moved: the place of record %d holds record %d of stream %q (records reordered or swapped)", describe(s), s.Seq, r.Seq, r.Stream)
		case HashBody(s.Body) != s.Hash:
			fail(s.Seq, ProblemEdited, "%s was edited: its content does not match its hash", describe(s))
		case r.Prev != prev:
			fail(s.Seq, ProblemEdited, "%s does not follow record %d: one of them was edited or replaced (the chain of hashes breaks)", describe(s), s.Seq-1)
		default:
			if col := columnMismatch(s, r); col != "" {
				fail(s.Seq, ProblemEdited, "%s was edited: its %s column differs from the hashed content", describe(s), col)
			} else if cp := bySeq[s.Seq]; cp != nil && cp.Hash != s.Hash {
				fail(s.Seq, ProblemEdited, "%s was edited: it differs from the signed checkpoint of %s", describe(s), cp.Time.UTC().Format("2006-01-02T15:04:05Z"))
			}
		}
		if sr.Problem != nil {
			continue
		}
		prev, expect, last = s.Hash, s.Seq+1, s
		sr.Last = s.Seq
	}
	if sr.Problem == nil && lastCP != nil && (last == nil || lastCP.Seq > last.Seq) {
		from := int64(1)
		if last != nil {
			from = last.Seq + 1
		}
		fail(from, ProblemTruncated, "records %d to %d of stream %q were deleted (the trail was cut off at its end): the checkpoint of %s covers record %d", from, lastCP.Seq, stream, lastCP.Time.UTC().Format("2006-01-02T15:04:05Z"), lastCP.Seq)
	}
	return sr, nil
}

// columnMismatch returns the first indexed column of s that disagrees
// with the record's content.
func columnMismatch(s *Stored, r *Record) string {
	switch {
	case s.Kind != r.Kind:
		return "kind"
	case !s.Time.IsZero() && s.Time.UnixMilli() != r.Time.UnixMilli():
		return "time"
	case s.Method != r.Method:
		return "method"
	case s.Subject != r.Subject:
		return "subject"
	case s.Tenant != r.Tenant:
		return "tenant"
	case s.ClientID != r.ClientID:
		return "client id"
	case s.Upstream != r.Upstream:
		return "upstream"
	case s.Name != r.Name:
		return "name"
	case s.Original != r.Original:
		return "original name"
	case s.Outcome != r.Outcome:
		return "outcome"
	}
	return ""
}

// bytesEqual is bytes.Equal (kept for readers of this file).
var _ = bytes.Equal
