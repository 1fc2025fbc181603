package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/pins"
	"github.com/switchboard-mcp/switchboard/policy"
)

// governanceCommands are the commands of the governance sections:
// "policy test", "tools diff" and "tools approve".
func governanceCommands() []*cobra.Command {
	return []*cobra.Command{newPolicyCmd(), newToolsCmd()}
}

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Work with the gateway's policy (CEL rules; docs/policy.md)"}
	var configPath string
	test := &cobra.Command{
		Use:   "test FILE",
		Short: "Decide fixture requests with the policy and print each decision",
		Long: `Decide each fixture request of FILE (YAML or JSON) with the policy and print
the decision: allow or deny, and the rule that decided. FILE holds "cases"
and, optionally, the "policy" to test; without one, the policy section of
--config is tested. A case with "expect" (allow or deny) or "expectRule"
passes or fails; the command exits 1 when one fails.`,
		Example: `  switchboard policy test fixtures.yaml
  switchboard policy test --config gateway.yaml fixtures.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPolicyTest(cmd.OutOrStdout(), args[0], configPath)
		},
	}
	test.Flags().StringVarP(&configPath, "config", "c", "", "configuration file whose policy section to test (when FILE has none)")
	cmd.AddCommand(test)
	return cmd
}

// errTestsFailed makes the command exit 1 after printing the results.
var errTestsFailed = errors.New("some cases did not get the decision they expect")

func runPolicyTest(w io.Writer, file, configPath string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	fx, err := policy.ParseFixtures(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	cfg := fx.Policy
	if cfg == nil {
		if configPath == "" {
			return fmt.Errorf("%s has no policy: give one in the file or name a configuration with --config", file)
		}
		c, err := loadConfig(configPath)
		if err != nil {
			return err
		}
		if c.Policy == nil {
			return fmt.Errorf("%s has no policy section", configPath)
		}
		pc := policyConfig(c.Policy)
		cfg = &pc
	}
	p, err := policy.New(*cfg, nil)
	if err != nil {
		return err
	}
	failed, unchecked := 0, 0
	for i, r := range p.Test(fx) {
		mark := "    "
		switch {
		case !r.Pass:
			mark, failed = "FAIL", failed+1
		case r.Case.Expect != "" || r.Case.ExpectRule != "":
			mark = "PASS"
		default:
			unchecked++
		}
		name := r.Case.Name
		if name == "" {
			name = fmt.Sprintf("case %d", i+1)
		}
		line := fmt.Sprintf("%s  %s: %s", mark, name, r.Decision)
		if !r.Pass {
			want := r.Case.Expect
			if r.Case.ExpectRule != "" {
				want = strings.TrimSpace(want + " by rule " + fmt.Sprintf("%q", r.Case.ExpectRule))
			}
			line += " (want " + want + ")"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "%d passed, %d failed", len(fx.Cases)-failed-unchecked, failed)
	if unchecked > 0 {
		fmt.Fprintf(w, " (%d without an expectation)", unchecked)
	}
	fmt.Fprintln(w)
	if failed > 0 {
		return errTestsFailed
	}
	return nil
}

func newToolsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tools", Short: "Review and approve upstream tool definitions (tool pinning; docs/policy.md)"}
	var dataDir string
	diff := &cobra.Command{
		Use:   "diff",
		Short: "Show the tool definitions waiting for approval, with their changes and findings",
		Example: `  switchboard tools diff
  switchboard tools diff --data-dir /var/lib/switchboard`,
		Long: `Show each tool definition the gateway withholds until it is approved — new
tools (pinning mode approval), tools flagged by the poisoning checks, and
tools whose definition changed since it was approved — with a line diff
against the approved definition and the findings of the checks.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := openStore(cmd.Context(), dataDir, io.Discard, "tools")
			if err != nil {
				return err
			}
			defer db.Close()
			changes, err := pins.Changes(cmd.Context(), db.Pins())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(changes) == 0 {
				fmt.Fprintln(w, "No tool definition is waiting for approval.")
				return nil
			}
			for _, c := range changes {
				what := "new tool"
				if c.Pinned != nil {
					what = fmt.Sprintf("changed since approved by %s on %s", c.Pinned.ApprovedBy, c.Pinned.ApprovedAt.Format("2006-01-02 15:04"))
				}
				fmt.Fprintf(w, "%s (%s)\n  hash %s, first seen %s\n", c.Pending.Key, what, c.Pending.Hash[:16], c.Pending.FirstSeen.Format("2006-01-02 15:04:05"))
				for _, f := range c.Pending.Findings {
					fmt.Fprintf(w, "  finding: %s\n", f)
				}
				for _, line := range strings.Split(strings.TrimRight(c.Diff, "\n"), "\n") {
					fmt.Fprintf(w, "    %s\n", line)
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "Approve with: switchboard tools approve UPSTREAM/TOOL (or --all)\n")
			return nil
		},
	}
	var all, accept bool
	var by string
	approve := &cobra.Command{
		Use:   "approve [UPSTREAM/TOOL...]",
		Short: "Approve tool definitions waiting for approval; a running gateway serves them within its poll interval",
		Example: `  switchboard tools approve github/create_issue
  switchboard tools approve --all --by alice`,
		Long: `Pin the definitions waiting for approval of the named tools (or, with --all,
of every tool "tools diff" shows). A definition with findings of the
poisoning checks is refused unless --accept-findings is given.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !all && len(args) == 0 {
				return errors.New("name the tools to approve (UPSTREAM/TOOL) or give --all")
			}
			db, err := openStore(cmd.Context(), dataDir, io.Discard, "tools")
			if err != nil {
				return err
			}
			defer db.Close()
			var keys []pins.Key
			if all {
				changes, err := pins.Changes(cmd.Context(), db.Pins())
				if err != nil {
					return err
				}
				for _, c := range changes {
					keys = append(keys, c.Pending.Key)
				}
			}
			for _, a := range args {
				k, err := pins.ParseKey(a)
				if err != nil {
					return err
				}
				keys = append(keys, k)
			}
			var errs []error
			for _, k := range keys {
				p, err := pins.Approve(cmd.Context(), db.Pins(), k, by, true, accept)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "approved %s (hash %s)\n", k, p.Hash[:16])
			}
			return errors.Join(errs...)
		},
	}
	approve.Flags().BoolVar(&all, "all", false, "approve every definition waiting for approval")
	approve.Flags().BoolVar(&accept, "accept-findings", false, "approve definitions despite findings of the poisoning checks")
	approve.Flags().StringVar(&by, "by", os.Getenv("USER"), "who approves (recorded with the pin)")
	for _, c := range []*cobra.Command{diff, approve} {
		dataDirFlag(c.Flags(), &dataDir)
		cmd.AddCommand(c)
	}
	return cmd
}
