package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/switchboard-mcp/switchboard/audit"
)

// auditFilters are the flags that select records.
type auditFilters struct {
	since, until, identity, tenant, client, upstream, tool, outcome, kind, method, stream string
	limit                                                                                 int
}

func (f *auditFilters) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.since, "since", "", "records from this time: a duration before now (24h, 7d), an RFC 3339 time or a date")
	fs.StringVar(&f.until, "until", "", "records before this time (same forms as --since)")
	fs.StringVar(&f.identity, "identity", "", "records of this subject (person or machine)")
	fs.StringVar(&f.tenant, "tenant", "", "records of this tenant")
	fs.StringVar(&f.client, "client", "", "records of this OAuth client id")
	fs.StringVar(&f.upstream, "upstream", "", "records of this upstream")
	fs.StringVar(&f.tool, "tool", "", "records of this tool, prompt or resource (the client's name or the upstream's)")
	fs.StringVar(&f.outcome, "outcome", "", "records with this outcome: ok, tool_error, error, denied, cancelled (budget records: warning, exhausted)")
	fs.StringVar(&f.kind, "kind", "", "records of this kind: request, upstream-request, budget, audit")
	fs.StringVar(&f.method, "method", "", "records of this JSON-RPC method (tools/call, elicitation/create, ...)")
	fs.StringVar(&f.stream, "stream", "", "records of this stream (one per gateway)")
}

func (f *auditFilters) query(now time.Time) (*audit.Query, error) {
	vals := map[string]string{"since": f.since, "until": f.until, "identity": f.identity, "tenant": f.tenant, "client": f.client,
		"upstream": f.upstream, "tool": f.tool, "outcome": f.outcome, "kind": f.kind, "method": f.method, "stream": f.stream}
	q, err := auditQuery(func(k string) string { return vals[k] }, now)
	if err != nil {
		return nil, err
	}
	q.Limit = f.limit
	return q, nil
}

// newAuditCmd is "switchboard audit".
func newAuditCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify, follow, search and export the gateway's audit trail",
		Long: `The audit trail of "switchboard serve": one record per request and
decision, hash-chained per stream with signed checkpoints, in the data
directory's database (or PostgreSQL with $SWITCHBOARD_DATABASE_URL). See
docs/audit.md.`,
		Example: `  switchboard audit verify
  switchboard audit tail -f
  switchboard audit export -o trail.jsonl && switchboard audit key > trail.pub
  switchboard audit verify --file trail.jsonl --public-key "$(cat trail.pub)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	dataDirFlag(cmd.PersistentFlags(), &dataDir)
	cmd.AddCommand(newAuditVerifyCmd(&dataDir), newAuditTailCmd(&dataDir), newAuditSearchCmd(&dataDir), newAuditExportCmd(&dataDir), newAuditKeyCmd(&dataDir))
	return cmd
}

func newAuditVerifyCmd(dataDir *string) *cobra.Command {
	var stream, file, pubKey string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check every record's hash, the chain and the signed checkpoints",
		Long: `Check the whole trail: each record's hash, the chain of hashes of each
stream, the sequence numbers, the indexed columns against the hashed
content, and the checkpoints' signatures. It names the first record of
each stream that was edited, deleted, reordered or cut off the end, and
exits 1 then.

With --file it verifies an export ("switchboard audit export") instead,
with the public key of "switchboard audit key" (--public-key), or the data
directory's.`,
		Example: `  switchboard audit verify
  switchboard audit export > trail.jsonl && switchboard audit verify --file trail.jsonl --public-key "$(switchboard audit key)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var (
				rep *audit.Report
				pub ed25519.PublicKey
				err error
			)
			if pubKey != "" {
				b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(pubKey))
				if err != nil || len(b) != ed25519.PublicKeySize {
					return fmt.Errorf("--public-key: want the base64 Ed25519 key that \"switchboard audit key\" prints")
				}
				pub = b
			}
			if file != "" {
				if pub == nil {
					if pub, err = localKey(ctx, *dataDir, cmd.ErrOrStderr()); err != nil {
						return err
					}
				}
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				if rep, err = audit.VerifyExport(bufio.NewReader(f), pub); err != nil {
					return err
				}
			} else {
				db, err := openStore(ctx, *dataDir, cmd.ErrOrStderr(), "audit verify")
				if err != nil {
					return err
				}
				defer db.Close()
				if rep, err = audit.VerifyStream(ctx, db.Audit(), pub, stream); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				_ = json.MarshalWrite(out, rep, json.Deterministic(true))
				fmt.Fprintln(out)
			} else {
				if len(rep.Streams) == 0 {
					fmt.Fprintln(out, "the audit trail is empty")
				}
				for _, s := range rep.Streams {
					if s.Problem != nil {
						fmt.Fprintf(out, "stream %q: FAILED at record %d: %s\n", s.Stream, s.Problem.Seq, s.Problem.Message)
						continue
					}
					fmt.Fprintf(out, "stream %q: ok, records %d to %d (%d), %d signed checkpoints\n", s.Stream, s.First, s.Last, s.Records, s.Checkpoints)
				}
			}
			if !rep.OK() {
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&stream, "stream", "", "verify only this stream")
	cmd.Flags().StringVar(&file, "file", "", "verify an export (JSON lines) instead of the database")
	cmd.Flags().StringVar(&pubKey, "public-key", "", "the trail's public key (base64), for --file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// localKey returns the public key of the data directory's trail.
func localKey(ctx context.Context, dataDir string, w io.Writer) (ed25519.PublicKey, error) {
	db, err := openStore(ctx, dataDir, w, "audit")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	key, err := db.Audit().SigningKey(ctx)
	if err != nil {
		return nil, err
	}
	return key.Public().(ed25519.PublicKey), nil
}

func newAuditKeyCmd(dataDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "key",
		Short: "Print the public key that verifies the trail's checkpoints (base64)",
		Example: `  switchboard audit key
  switchboard audit key --data-dir /var/lib/switchboard > trail.pub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, err := localKey(cmd.Context(), *dataDir, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(pub))
			return nil
		},
	}
}

// printRecords writes records as a table or JSON lines.
func printRecords(w io.Writer, recs []*audit.Record, asJSON bool) {
	if asJSON {
		for _, r := range recs {
			_ = json.MarshalWrite(w, r, json.Deterministic(true))
			fmt.Fprintln(w)
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range recs {
		fmt.Fprintln(tw, recordLine(r))
	}
	tw.Flush()
}

// recordLine is a record as one line of a table.
func recordLine(r *audit.Record) string {
	who := r.Subject
	if r.Tenant != "" {
		who += "@" + r.Tenant
	}
	if who == "" {
		who = "-"
	}
	what := r.Method
	if r.Name != "" {
		what += " " + r.Name
	}
	if r.Upstream != "" {
		what += " (" + r.Upstream + ")"
	}
	detail := ""
	switch {
	case r.Rule != "" || r.Reason != "":
		detail = fmt.Sprintf("rule %s: %s", r.Rule, r.Reason)
	case r.Error != "":
		detail = r.Error
	case len(r.Answer) > 0:
		detail = "answer " + string(r.Answer)
	case len(r.Arguments) > 0:
		detail = "args " + string(r.Arguments)
	}
	if r.Cost != 0 {
		detail = fmt.Sprintf("cost %g  %s", r.Cost, detail)
	}
	return fmt.Sprintf("%s\t%s/%d\t%s\t%s\t%s\t%s\t%s", r.Time.Local().Format("2006-01-02 15:04:05.000"), r.Stream, r.Seq, r.Kind, who, what,
		orText(r.Outcome, "-"), detail)
}

func newAuditSearchCmd(dataDir *string) *cobra.Command {
	var f auditFilters
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Find records by time, identity, tenant, upstream, tool and outcome",
		Example: `  switchboard audit search --since 24h --outcome denied
  switchboard audit search --tenant acme --tool search_query --since 2026-12-01 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := f.query(time.Now())
			if err != nil {
				return err
			}
			db, err := openStore(cmd.Context(), *dataDir, cmd.ErrOrStderr(), "audit search")
			if err != nil {
				return err
			}
			defer db.Close()
			var recs []*audit.Record
			for s, err := range db.Audit().Records(cmd.Context(), q) {
				if err != nil {
					return err
				}
				r, err := s.Record()
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "record %d of stream %q does not decode (run audit verify): %v\n", s.Seq, s.Stream, err)
					continue
				}
				recs = append(recs, r)
			}
			printRecords(cmd.OutOrStdout(), recs, asJSON)
			return nil
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().IntVar(&f.limit, "limit", 1000, "at most this many records (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines")
	return cmd
}

func newAuditTailCmd(dataDir *string) *cobra.Command {
	var f auditFilters
	var asJSON, follow bool
	var n int
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print the last records, and with --follow the new ones as they come",
		Example: `  switchboard audit tail -n 50
  switchboard audit tail -f --outcome denied`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			q, err := f.query(time.Now())
			if err != nil {
				return err
			}
			db, err := openStore(ctx, *dataDir, cmd.ErrOrStderr(), "audit tail")
			if err != nil {
				return err
			}
			defer db.Close()
			last := *q
			last.Newest, last.Limit = true, n
			var recs []*audit.Record
			var lastID int64
			for s, err := range db.Audit().Records(ctx, &last) {
				if err != nil {
					return err
				}
				lastID = max(lastID, s.ID)
				if r, err := s.Record(); err == nil {
					recs = append(recs, r)
				}
			}
			for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
				recs[i], recs[j] = recs[j], recs[i]
			}
			out := cmd.OutOrStdout()
			printRecords(out, recs, asJSON)
			if !follow {
				return nil
			}
			if lastID == 0 { // nothing matched yet: follow from the newest record of any kind
				for s, err := range db.Audit().Records(ctx, &audit.Query{Newest: true, Limit: 1}) {
					if err == nil {
						lastID = s.ID
					}
				}
			}
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-t.C:
				}
				next := *q
				next.AfterID = lastID
				var batch []*audit.Record
				for s, err := range db.Audit().Records(ctx, &next) {
					if err != nil {
						if ctx.Err() != nil {
							return nil
						}
						return err
					}
					lastID = max(lastID, s.ID)
					if r, err := s.Record(); err == nil {
						batch = append(batch, r)
					}
				}
				printRecords(out, batch, asJSON)
			}
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().IntVarP(&n, "lines", "n", 20, "print the last N records")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new records")
	cmd.Flags().DurationVar(&every, "interval", 500*time.Millisecond, "how often --follow looks for new records")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines")
	return cmd
}

func newAuditExportCmd(dataDir *string) *cobra.Command {
	var f auditFilters
	var output string
	var noCheckpoints bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write records as JSON lines (with their hashes and the checkpoints)",
		Long: `Write the selected records as JSON lines, each with its hash, in the order
of their streams, followed by the streams' signed checkpoints: an export
of whole streams can be checked anywhere with "switchboard audit verify
--file" and the public key of "switchboard audit key".`,
		Example: `  switchboard audit export -o trail.jsonl
  switchboard audit export --since 7d --tenant acme > acme.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := f.query(time.Now())
			if err != nil {
				return err
			}
			q.BySeq = true
			db, err := openStore(cmd.Context(), *dataDir, cmd.ErrOrStderr(), "audit export")
			if err != nil {
				return err
			}
			defer db.Close()
			var w io.Writer = cmd.OutOrStdout()
			if output != "" && output != "-" {
				file, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return err
				}
				defer file.Close()
				w = file
			}
			n, err := audit.WriteExport(cmd.Context(), db.Audit(), q, w, !noCheckpoints)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "switchboard audit export: %d records\n", n)
			return nil
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (default standard output)")
	cmd.Flags().BoolVar(&noCheckpoints, "no-checkpoints", false, "leave the checkpoints out")
	return cmd
}
