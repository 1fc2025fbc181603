package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/usage"
)

// newUsageCmd is "switchboard usage": the ledger of tool calls and cost.
func newUsageCmd() *cobra.Command {
	var dataDir, format string
	vals := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show calls and cost units per tenant, identity, client, upstream and tool",
		Long: `Show the usage ledger of "switchboard serve": tool calls, errors, denials
and cost units, summed per the dimensions of --by (tenant, identity,
client, upstream, tool; "none" for one total) and per --period (hour, day,
or total), as a table, CSV or JSON. The ledger is written every few
seconds; the admin API serves the same at GET /api/usage. See
docs/audit.md.`,
		Example: `  switchboard usage
  switchboard usage --since 7d --by tenant --period day
  switchboard usage --tenant acme --by identity,tool --format csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := usageQuery(func(k string) string {
				if p := vals[k]; p != nil {
					return *p
				}
				return ""
			}, time.Now())
			if err != nil {
				return err
			}
			db, err := openStore(cmd.Context(), dataDir, cmd.ErrOrStderr(), "usage")
			if err != nil {
				return err
			}
			defer db.Close()
			rows, err := db.Usage().Usage(cmd.Context(), q)
			if err != nil {
				return err
			}
			return printUsage(cmd.OutOrStdout(), q, rows, format)
		},
	}
	dataDirFlag(cmd.Flags(), &dataDir)
	for _, f := range []struct{ name, def, usage string }{
		{"since", "24h", "from this time: a duration before now (24h, 7d), an RFC 3339 time or a date"},
		{"until", "", "before this time (same forms)"},
		{"by", "tenant,identity,upstream,tool", "dimensions kept: tenant, identity, client, upstream, tool (comma-separated), or none"},
		{"period", "total", "hour, day or total"},
		{"tenant", "", "only this tenant"},
		{"identity", "", "only this identity (subject)"},
		{"client", "", "only this client"},
		{"upstream", "", "only this upstream"},
		{"tool", "", "only this tool (the upstream's name)"},
	} {
		p := new(string)
		vals[f.name] = p
		cmd.Flags().StringVar(p, f.name, f.def, f.usage)
	}
	cmd.Flags().StringVar(&format, "format", "table", "table, csv or json")
	return cmd
}

// printUsage writes the rows in format.
func printUsage(w io.Writer, q *usage.Query, rows []usage.Row, format string) error {
	cols := []string{}
	if q.Period != "" {
		cols = append(cols, q.Period)
	}
	cols = append(cols, q.GroupBy...)
	cols = append(cols, "calls", "errors", "denied", "cost")
	cell := func(r usage.Row, c string) string {
		switch c {
		case usage.Hour:
			return r.Period.Format("2006-01-02T15:04Z")
		case usage.Day:
			return r.Period.Format("2006-01-02")
		case usage.ByTenant:
			return r.Tenant
		case usage.ByIdentity:
			return r.Subject
		case usage.ByClient:
			return r.Client
		case usage.ByUpstream:
			return r.Upstream
		case usage.ByTool:
			return r.Tool
		case "calls":
			return strconv.FormatInt(r.Calls, 10)
		case "errors":
			return strconv.FormatInt(r.Errors, 10)
		case "denied":
			return strconv.FormatInt(r.Denied, 10)
		case "cost":
			return strconv.FormatFloat(r.Cost, 'f', -1, 64)
		}
		return ""
	}
	switch format {
	case "json":
		if rows == nil {
			rows = []usage.Row{}
		}
		if err := json.MarshalWrite(w, rows, json.Deterministic(true)); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w)
		return err
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(cols)
		for _, r := range rows {
			rec := make([]string, len(cols))
			for i, c := range cols {
				rec[i] = cell(r, c)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "table", "":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t"))+"\t")
		var total usage.Row
		for _, r := range rows {
			line := make([]string, len(cols))
			for i, c := range cols {
				line[i] = orText(cell(r, c), "-")
			}
			fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
			total.Calls += r.Calls
			total.Errors += r.Errors
			total.Denied += r.Denied
			total.Cost += r.Cost
		}
		if len(rows) > 1 {
			line := make([]string, len(cols))
			for i, c := range cols {
				line[i] = cell(total, c)
			}
			line[0] = "TOTAL"
			fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
		}
		return tw.Flush()
	}
	return fmt.Errorf("--format %q: want table, csv or json", format)
}
