package audit

import (
	"context"
	"crypto/ed25519"
	"iter"
	"time"
)

// Storage keeps records and checkpoints; store.DB.Audit implements it
// over SQLite and PostgreSQL.
type Storage interface {
	// Head returns the last record's sequence number and hash of a stream
	// (0 and "" for an empty stream).
	Head(ctx context.Context, stream string) (seq int64, hash string, err error)
	// Append writes records (sealed: Hash set, with their bodies) and
	// checkpoints in one transaction.
	Append(ctx context.Context, records []*Stored, checkpoints []*Checkpoint) error
	// Records iterates over the stored records that q selects.
	Records(ctx context.Context, q *Query) iter.Seq2[*Stored, error]
	// Checkpoints returns the checkpoints of a stream by sequence number.
	Checkpoints(ctx context.Context, stream string) ([]*Checkpoint, error)
	// Streams lists the streams that have records or checkpoints.
	Streams(ctx context.Context) ([]string, error)
	// SigningKey returns the checkpoint signing key, creating it (sealed
	// with the master key) on first use.
	SigningKey(ctx context.Context) (ed25519.PrivateKey, error)
	// Prune deletes the records of a stream up to seq and the checkpoints
	// before seq; the checkpoint at seq must exist and is kept as the
	// chain's anchor.
	Prune(ctx context.Context, stream string, seq int64) (int64, error)
	// Size returns the number of records of a stream, their total body
	// size, and the first sequence number.
	Size(ctx context.Context, stream string) (count, bytes, first int64, err error)
}

// Stored is a record as stored: the columns that index it and the body
// the hash covers. The columns are copies of body fields; Verify checks
// that they agree.
type Stored struct {
	// ID orders records across streams (insertion order), for following.
	ID                                                                         int64
	Stream                                                                     string
	Seq                                                                        int64
	Time                                                                       time.Time
	Kind, Method, Subject, Tenant, ClientID, Upstream, Name, Original, Outcome string
	Hash                                                                       string
	Body                                                                       []byte
}

// NewStored seals r and returns its stored form.
func NewStored(r *Record) (*Stored, error) {
	body, err := r.Seal()
	if err != nil {
		return nil, err
	}
	return &Stored{
		Stream: r.Stream, Seq: r.Seq, Time: r.Time, Kind: r.Kind, Method: r.Method,
		Subject: r.Subject, Tenant: r.Tenant, ClientID: r.ClientID, Upstream: r.Upstream,
		Name: r.Name, Original: r.Original, Outcome: r.Outcome, Hash: r.Hash, Body: body,
	}, nil
}

// Record decodes the stored body, with the stored hash.
func (s *Stored) Record() (*Record, error) {
	r, err := ParseRecord(s.Body)
	if err != nil {
		return nil, err
	}
	r.Hash = s.Hash
	return r, nil
}

// Query selects records. Zero fields select everything.
type Query struct {
	Stream string
	// Since and Until bound the record time (Since inclusive, Until
	// exclusive).
	Since, Until                        time.Time
	Subject, Tenant, ClientID, Upstream string
	// Tool matches the name the client used or the upstream's own.
	Tool    string
	Outcome string
	Kind    string
	Method  string
	// AfterID selects records inserted after the one with this ID
	// (following a trail).
	AfterID int64
	// Newest returns the last records first (with Limit: the newest N).
	Newest bool
	// Limit bounds the number of records (0: no bound).
	Limit int
	// BySeq orders by stream and sequence number (verification) instead
	// of insertion order.
	BySeq bool
}
