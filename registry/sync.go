package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SyncOptions configure [Sync].
type SyncOptions struct {
	// Source is the base URL of the registry to mirror (the URL to which
	// "/v0.1/servers" is appended), e.g. https://registry.modelcontextprotocol.io.
	Source string
	// Client makes the requests (default: a client with a 60s timeout).
	Client *http.Client
	// Token, if set, is sent as a bearer token (a private source).
	Token string
	// PageSize is the limit of each page (default 100, the API's maximum).
	PageSize int
	// Full ignores the saved progress and mirrors everything again.
	Full bool
	// Overlap is subtracted from the next run's updated_since, so that
	// versions changed while a run was under way are fetched again
	// (default: the run's duration plus two minutes).
	Overlap time.Duration
	// Progress, if set, is called after each page with the number of
	// versions received so far in this run.
	Progress func(received int64)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// SyncResult reports a [Sync] run.
type SyncResult struct {
	// Received is the number of versions received in this run (with an
	// interrupted run resumed, those before the interruption included).
	Received int64
	// Resumed is true when an interrupted run was continued.
	Resumed bool
	// Since is the updated_since the run asked from ("" for a full sync).
	Since time.Time
	// Next is the updated_since of the next run.
	Next time.Time
}

// Sync mirrors a registry into st: the versions updated since the last
// run (everything the first time), deleted ones and status changes
// included, page by page. Each page is stored with the progress in one
// transaction, so an interrupted run resumes where it stopped. Versions
// keep the source's metadata (status, timestamps, isLatest).
func Sync(ctx context.Context, st Store, opts SyncOptions) (*SyncResult, error) {
	src := strings.TrimRight(opts.Source, "/")
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("registry: the source must be an http(s) URL, not %q", opts.Source)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 60 * time.Second}
	}
	if opts.PageSize <= 0 || opts.PageSize > 100 {
		opts.PageSize = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	state, err := st.SyncState(ctx, src)
	if err != nil {
		return nil, err
	}
	if opts.Full {
		state = &SyncState{Source: src}
	}
	res := &SyncResult{}
	if state.Cursor != "" {
		res.Resumed = true
	} else {
		state.RunSince, state.MaxSeen, state.Count, state.RunStarted = state.Since, state.Since, 0, opts.Now()
	}
	res.Since = state.RunSince
	for {
		q := url.Values{"limit": {fmt.Sprint(opts.PageSize)}, "include_deleted": {"true"}}
		if !state.RunSince.IsZero() {
			q.Set("updated_since", state.RunSince.UTC().Format(time.RFC3339Nano))
		}
		if state.Cursor != "" {
			q.Set("cursor", state.Cursor)
		}
		list, err := fetchPage(ctx, opts, src+"/v0.1/servers?"+q.Encode())
		if err != nil {
			return res, err
		}
		recs := make([]Record, 0, len(list.Servers))
		for _, sr := range list.Servers {
			r, err := recordFrom(sr, src)
			if err != nil {
				return res, err
			}
			if r.Official.UpdatedAt.After(state.MaxSeen) {
				state.MaxSeen = r.Official.UpdatedAt
			}
			recs = append(recs, *r)
		}
		state.Count += int64(len(recs))
		next := list.Metadata.NextCursor
		if next == "" || len(recs) == 0 || next == state.Cursor {
			overlap := opts.Overlap
			if overlap == 0 {
				overlap = opts.Now().Sub(state.RunStarted) + 2*time.Minute
			}
			if !state.MaxSeen.IsZero() {
				state.Since = state.MaxSeen.Add(-overlap)
				if state.Since.Before(state.RunSince) {
					state.Since = state.RunSince
				}
			}
			state.Cursor, state.CompletedAt = "", opts.Now()
		} else {
			state.Cursor = next
		}
		if err := st.Put(ctx, recs, state); err != nil {
			return res, err
		}
		res.Received = state.Count
		if opts.Progress != nil {
			opts.Progress(state.Count)
		}
		if state.Cursor == "" {
			res.Next = state.Since
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
}

// recordFrom turns a mirrored ServerResponse into a record.
func recordFrom(sr ServerResponse, origin string) (*Record, error) {
	var sj ServerJSON
	if err := json.Unmarshal(sr.Server, &sj); err != nil {
		return nil, fmt.Errorf("registry: a mirrored server.json does not decode: %w", err)
	}
	if sj.Name == "" || sj.Version == "" {
		return nil, errors.New("registry: a mirrored server.json has no name or version")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, sr.Server); err != nil {
		return nil, err
	}
	r := &Record{Name: sj.Name, Version: sj.Version, Description: sj.Description, Server: compact.Bytes(), Origin: origin}
	if o := sr.Meta.Official; o != nil {
		r.Official = *o
	} else {
		r.Official = Official{Status: StatusActive, IsLatest: true}
	}
	if !r.Official.Status.Valid() {
		r.Official.Status = StatusActive
	}
	for _, t := range []*time.Time{&r.Official.PublishedAt, &r.Official.UpdatedAt, &r.Official.StatusChangedAt} {
		*t = t.UTC().Truncate(time.Microsecond)
	}
	return r, nil
}

func fetchPage(ctx context.Context, opts SyncOptions, u string) (*ServerList, error) {
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 500 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		if opts.Token != "" {
			req.Header.Set("Authorization", "Bearer "+opts.Token)
		}
		resp, err := opts.Client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = err
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			lastErr = fmt.Errorf("GET %s: %s", u, resp.Status)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(body))
		}
		var l ServerList
		if err := json.Unmarshal(body, &l); err != nil {
			return nil, fmt.Errorf("GET %s: the list does not decode: %w", u, err)
		}
		return &l, nil
	}
	return nil, lastErr
}

// ImportResult reports an [Import].
type ImportResult struct {
	// Stored is the number of versions stored; Skipped those already
	// present (seed files published again).
	Stored, Skipped int
}

// Import reads an export file — a list body ({"servers": [...]}, what
// "switchboard registry export" writes), an array of such entries, or an
// array of bare server.json documents (the official registry's seed
// format) — and stores it: entries with registry metadata as they are,
// bare documents as new publications (validated; existing versions
// skipped). origin labels the mirrored entries.
func Import(ctx context.Context, st Store, data []byte, origin string, progress func(done, total int)) (*ImportResult, error) {
	var entries []json.RawMessage
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var l struct {
			Servers []json.RawMessage `json:"servers"`
		}
		if err := json.Unmarshal(data, &l); err != nil {
			return nil, fmt.Errorf("registry: the export does not decode: %w", err)
		}
		entries = l.Servers
	} else if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("registry: the export does not decode: %w", err)
	}
	res := &ImportResult{}
	var batch []Record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := st.Put(ctx, batch, nil)
		batch = batch[:0]
		return err
	}
	for i, e := range entries {
		var probe struct {
			Server json.RawMessage `json:"server"`
		}
		_ = json.Unmarshal(e, &probe)
		if len(probe.Server) > 0 {
			var sr ServerResponse
			if err := json.Unmarshal(e, &sr); err != nil {
				return res, fmt.Errorf("registry: entry %d: %w", i, err)
			}
			r, err := recordFrom(sr, origin)
			if err != nil {
				return res, fmt.Errorf("registry: entry %d: %w", i, err)
			}
			batch = append(batch, *r)
			res.Stored++
			if len(batch) >= 500 {
				if err := flush(); err != nil {
					return res, err
				}
			}
		} else {
			if err := flush(); err != nil {
				return res, err
			}
			vr := Validate(e, nil)
			if err := vr.Err(); err != nil {
				return res, fmt.Errorf("registry: entry %d: %w", i, err)
			}
			var compact bytes.Buffer
			json.Compact(&compact, e)
			var sj ServerJSON
			json.Unmarshal(e, &sj)
			_, err := st.Publish(ctx, &sj, compact.Bytes(), time.Now())
			switch {
			case errors.Is(err, ErrDuplicateVersion):
				res.Skipped++
			case err != nil:
				return res, fmt.Errorf("registry: entry %d: %w", i, err)
			default:
				res.Stored++
			}
		}
		if progress != nil && (i%100 == 99 || i == len(entries)-1) {
			progress(i+1, len(entries))
		}
	}
	return res, flush()
}

// Export writes every stored version, deleted ones included, as one list
// body that [Import] reads.
func Export(ctx context.Context, st Store, w io.Writer) (int, error) {
	if _, err := io.WriteString(w, `{"servers":[`); err != nil {
		return 0, err
	}
	q := &ListQuery{IncludeDeleted: true, Limit: 500}
	n := 0
	for {
		recs, err := st.List(ctx, q)
		if err != nil {
			return n, err
		}
		for i := range recs {
			var b bytes.Buffer
			if n > 0 {
				b.WriteString(",\n")
			}
			writeRecord(&b, &recs[i])
			if _, err := w.Write(b.Bytes()); err != nil {
				return n, err
			}
			n++
		}
		if len(recs) < q.Limit {
			break
		}
		last := recs[len(recs)-1]
		q.AfterName, q.AfterVersion = last.Name, last.Version
	}
	_, err := fmt.Fprintf(w, `],"metadata":{"count":%d}}`+"\n", n)
	return n, err
}
