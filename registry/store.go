package registry

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Errors of a Store.
var (
	// ErrNotFound: no such server or version.
	ErrNotFound = errors.New("record not found")
	// ErrDuplicateVersion: the version is already published.
	ErrDuplicateVersion = errors.New("invalid version: cannot publish duplicate version")
	// ErrTooManyVersions: the server has MaxVersionsPerServer versions.
	ErrTooManyVersions = errors.New("maximum number of versions for this server reached")
)

// MaxVersionsPerServer bounds the versions of one server (the official
// registry's limit).
const MaxVersionsPerServer = 10000

// Record is one stored server version.
type Record struct {
	// Name and Version identify the version.
	Name, Version string
	// Description is the server.json's description (searched).
	Description string
	// Server is the server.json document (compact JSON).
	Server json.RawMessage
	// Official is the registry-managed metadata.
	Official Official
	// Origin is "" for a version published here, or the URL of the
	// registry it was mirrored from.
	Origin string
	// Approval is the server's curation state ("" for none), as Get,
	// Latest and Versions return it.
	Approval string
}

// Response returns the record as the API shows it.
func (r *Record) Response() ServerResponse {
	o := r.Official
	return ServerResponse{Server: r.Server, Meta: ResponseMeta{Official: &o}}
}

// ListQuery selects a page of server versions, ordered by name then
// version (as text, ascending).
type ListQuery struct {
	// After is the key the page starts after: the name and version of
	// the previous page's last entry (Version "" means after every
	// version of Name).
	AfterName, AfterVersion string
	// Limit is the page size.
	Limit int
	// Search matches a substring of the name or the description, case
	// insensitively ("" for none).
	Search string
	// UpdatedSince keeps versions updated after it.
	UpdatedSince *time.Time
	// Version keeps one exact version.
	Version string
	// Latest keeps the latest version of each server.
	Latest bool
	// IncludeDeleted keeps deleted versions.
	IncludeDeleted bool
	// Approval is the curation filter: "" (none), "not-denied" (hide
	// servers whose approval state is denied) or "approved" (only
	// approved servers).
	Approval string
}

// StatusChange is a change of status for [Store.SetStatus].
type StatusChange struct {
	// Status is the new status.
	Status Status
	// Message is the status message (nil for none).
	Message *string
}

// Approval states of a server (curation).
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalDenied   = "denied"
)

// Approval is a server's curation state.
type Approval struct {
	// Name is the server name.
	Name string `json:"name"`
	// State is ApprovalPending, ApprovalApproved or ApprovalDenied ("" removes the state in SetApproval).
	State string `json:"state"`
	// Note is a free-form note kept with the state.
	Note string `json:"note,omitempty"`
	// UpdatedAt is when the state was set.
	UpdatedAt time.Time `json:"updatedAt"`
}

// SyncState is the progress of mirroring one source registry: the
// updated_since of the next incremental run, and, while a run is under
// way, the run's own since, its page cursor and the newest updatedAt seen.
type SyncState struct {
	// Source is the source registry's base URL.
	Source string
	// Since is where the next run starts (zero: a full sync).
	Since time.Time
	// RunSince, Cursor and MaxSeen describe an unfinished run; Cursor ""
	// means no run is under way.
	RunSince time.Time
	// Cursor is the next page of the run under way ("" when none is).
	Cursor string
	// MaxSeen is the newest updatedAt received by the run.
	MaxSeen time.Time
	// Count is the number of versions received by the last or current
	// run.
	Count int64
	// RunStarted is when the current (or last) run started, by the local
	// clock.
	RunStarted time.Time
	// CompletedAt is when the last run finished.
	CompletedAt time.Time
}

// Store keeps a registry's server versions, curation states and mirror
// progress. [OpenSQL] implements it on SQLite and PostgreSQL.
type Store interface {
	// Publish adds a new version, published at now: it is the latest when
	// its version is above the current latest ([CompareVersions]).
	Publish(ctx context.Context, s *ServerJSON, doc json.RawMessage, now time.Time) (*Record, error)
	// Edit replaces the server.json of an existing version (same name and
	// version), keeping its status, and sets its updatedAt to now.
	Edit(ctx context.Context, s *ServerJSON, doc json.RawMessage, now time.Time) (*Record, error)
	// Get returns one version, deleted or not, with the server's
	// approval state.
	Get(ctx context.Context, name, version string) (*Record, error)
	// Latest returns the version marked latest, with the server's
	// approval state.
	Latest(ctx context.Context, name string, includeDeleted bool) (*Record, error)
	// Versions returns every version of a server, newest publication
	// first, with the server's approval state.
	Versions(ctx context.Context, name string, includeDeleted bool) ([]Record, error)
	// List returns a page of versions.
	List(ctx context.Context, q *ListQuery) ([]Record, error)
	// SetStatus changes the status of one version, or of every version
	// when version is "", recomputes the latest version, and returns the
	// changed versions (all versions for "").
	SetStatus(ctx context.Context, name, version string, c StatusChange, now time.Time) ([]Record, error)
	// Put stores mirrored versions as they are (metadata included) and
	// saves the sync state, in one transaction.
	Put(ctx context.Context, recs []Record, st *SyncState) error
	// SyncState returns the state of a source ("" Cursor and zero Since
	// when it was never synced).
	SyncState(ctx context.Context, source string) (*SyncState, error)
	// SetApproval records a server's curation state.
	SetApproval(ctx context.Context, a Approval) error
	// Approval returns a server's curation state (nil when none).
	Approval(ctx context.Context, name string) (*Approval, error)
	// Approvals lists the curation states, by name.
	Approvals(ctx context.Context) ([]Approval, error)
	// Count returns the number of stored versions.
	Count(ctx context.Context) (int64, error)
	// Close releases the store (not the database handle it was given).
	Close() error
}

// parseCursor reads a list cursor: "name:version" (the official form), or
// a bare name, which continues after every version of that name.
func parseCursor(c string) (name, version string) {
	name, version, _ = strings.Cut(c, ":")
	return name, version
}

// makeCursor is the inverse of parseCursor.
func makeCursor(name, version string) string { return name + ":" + version }
