package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// check is one entry of a checks.json file written by the suite.
type check struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Description  string         `json:"description"`
	Status       string         `json:"status"`
	ErrorMessage string         `json:"errorMessage"`
	Details      jsontext.Value `json:"details"`
}

// message is the best explanation a check offers: its errorMessage, else
// details.message, else its description.
func (c check) message() string {
	if c.ErrorMessage != "" {
		return c.ErrorMessage
	}
	if c.Details.Kind() == '{' {
		var details map[string]jsontext.Value
		var msg string
		if json.Unmarshal(c.Details, &details) == nil && details["message"].Kind() == '"' &&
			json.Unmarshal(details["message"], &msg) == nil && msg != "" {
			return msg
		}
	}
	return c.Description
}

// Check statuses used by the suite.
const (
	statusSuccess = "SUCCESS"
	statusFailure = "FAILURE"
	statusWarning = "WARNING"
	statusSkipped = "SKIPPED"
	statusInfo    = "INFO"
)

// counts tallies checks by status.
type counts struct {
	Success int `json:"success"`
	Failure int `json:"failure"`
	Warning int `json:"warning"`
	Skipped int `json:"skipped"`
	Info    int `json:"info"`
	Other   int `json:"other,omitzero"` // statuses the runner does not know
}

func countChecks(checks []check) counts {
	var c counts
	for _, ch := range checks {
		switch ch.Status {
		case statusSuccess:
			c.Success++
		case statusFailure:
			c.Failure++
		case statusWarning:
			c.Warning++
		case statusSkipped:
			c.Skipped++
		case statusInfo:
			c.Info++
		default:
			c.Other++
		}
	}
	return c
}

// result is the verdict on one scenario.
type result string

// Scenario verdicts.
const (
	resultPass result = "PASS" // no FAILURE, at least one SUCCESS, no WARNING
	resultWarn result = "WARN" // server mode: no FAILURE, some WARNING
	resultSkip result = "SKIP" // no SUCCESS, no FAILURE, no WARNING
	resultFail result = "FAIL"
)

// outcome is what running one scenario produced, before classification.
type outcome struct {
	checks    []check
	checksErr error // reading checks.json failed
	exitCode  int   // the suite's exit code (-1: killed by a signal)
	timedOut  bool  // the runner killed the suite after --timeout
	runErr    error // the suite could not be started
	clientLog string
}

// classify returns the verdict for a scenario and, when the checks alone do
// not explain it, a note. In client mode a WARNING fails the scenario, as it
// fails the suite's own client run. A client's non-zero exit in a scenario
// that passes is what the scenario expects (a client refusing a bad server
// exits with an error): it is not noted, so a passing run reads as one
// (scenarioReport.Client keeps it).
func classify(mode string, o outcome) (result, []string) {
	r, notes := classifyNoted(mode, o)
	if r == resultPass && o.clientLog != "" {
		notes = slices.DeleteFunc(notes, func(n string) bool { return n == o.clientLog })
	}
	return r, notes
}

func classifyNoted(mode string, o outcome) (result, []string) {
	c := countChecks(o.checks)
	var notes []string
	if o.runErr != nil {
		notes = append(notes, "suite did not run: "+o.runErr.Error())
	}
	if o.timedOut {
		notes = append(notes, "timed out; the suite's process group was killed")
	}
	if o.checksErr != nil {
		notes = append(notes, "no results: "+o.checksErr.Error())
	}
	if o.clientLog != "" {
		notes = append(notes, o.clientLog)
	}
	// The suite exits 1 for a FAILURE (and in client mode for a WARNING);
	// note any other reason for a non-zero status.
	explained := c.Failure > 0 || (mode == "client" && c.Warning > 0) || o.clientLog != ""
	if o.exitCode != 0 && o.runErr == nil && !o.timedOut && !explained {
		notes = append(notes, fmt.Sprintf("suite exited with status %d", o.exitCode))
	}
	if c.Other > 0 {
		notes = append(notes, fmt.Sprintf("%d checks with an unknown status", c.Other))
	}
	switch {
	case o.runErr != nil, o.timedOut, o.checksErr != nil, c.Failure > 0:
		return resultFail, notes
	case mode == "client" && c.Warning > 0:
		return resultFail, append(notes, "a WARNING fails a client scenario")
	case o.exitCode != 0:
		return resultFail, notes
	case c.Warning > 0:
		return resultWarn, notes
	case c.Success == 0:
		return resultSkip, notes
	}
	return resultPass, notes
}

// readChecks finds the single checks.json the suite wrote under dir and
// parses it.
func readChecks(dir string) ([]check, string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "checks.json" {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	switch len(found) {
	case 0:
		return nil, "", errors.New("the suite wrote no checks.json")
	case 1:
	default:
		return nil, "", fmt.Errorf("the suite wrote %d checks.json files under %s", len(found), dir)
	}
	data, err := os.ReadFile(found[0])
	if err != nil {
		return nil, found[0], err
	}
	var checks []check
	if err := json.Unmarshal(data, &checks); err != nil {
		return nil, found[0], fmt.Errorf("%s: %w", found[0], err)
	}
	return checks, found[0], nil
}

// checkRef names a failing or warning check in the report.
type checkRef struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitzero"`
	Message string `json:"message,omitzero"` // errorMessage, details.message or description
}

func refs(checks []check, status string) []checkRef {
	var out []checkRef
	for _, c := range checks {
		if c.Status == status {
			out = append(out, checkRef{ID: c.ID, Name: c.Name, Message: c.message()})
		}
	}
	return out
}

// scenarioReport is one scenario in summary.json.
type scenarioReport struct {
	Name         string     `json:"name"`
	SpecVersions []string   `json:"specVersions,omitzero"`
	Result       result     `json:"result"`
	Counts       counts     `json:"counts"`
	ExitCode     int        `json:"exitCode"`
	TimedOut     bool       `json:"timedOut,omitzero"`
	DurationMS   int64      `json:"durationMs"`
	Failures     []checkRef `json:"failures,omitzero"`
	Warnings     []checkRef `json:"warnings,omitzero"`
	Notes        []string   `json:"notes,omitzero"`
	Client       string     `json:"client,omitzero"` // what the suite said of the client process (client mode)
	ChecksFile   string     `json:"checksFile,omitzero"`
	SuiteLog     string     `json:"suiteLog"`
}

// summary is summary.json.
type summary struct {
	Mode         string           `json:"mode"`
	Target       string           `json:"target"` // server URL or client command
	SuiteVersion string           `json:"suiteVersion"`
	NodeVersion  string           `json:"nodeVersion"`
	Expected     int              `json:"expected"`
	Total        int              `json:"total"`
	Passed       int              `json:"passed"`
	Failed       int              `json:"failed"`
	Warned       int              `json:"warned"`
	Skipped      int              `json:"skipped"`
	FailOnSkip   bool             `json:"failOnSkip,omitzero"` // a SKIP fails the run
	Interrupted  bool             `json:"interrupted,omitzero"`
	OK           bool             `json:"ok"`
	Problems     []string         `json:"problems,omitzero"`
	Scenarios    []scenarioReport `json:"scenarios"`
}

// tally fills in the totals and verdict of s from its scenarios.
func (s *summary) tally() {
	s.Total, s.Passed, s.Failed, s.Warned, s.Skipped = len(s.Scenarios), 0, 0, 0, 0
	s.Problems = nil
	for _, r := range s.Scenarios {
		switch r.Result {
		case resultPass:
			s.Passed++
		case resultFail:
			s.Failed++
		case resultWarn:
			s.Warned++
		case resultSkip:
			s.Skipped++
		}
	}
	if s.Failed > 0 {
		s.Problems = append(s.Problems, fmt.Sprintf("%d scenarios failed", s.Failed))
	}
	if s.FailOnSkip && s.Skipped > 0 {
		s.Problems = append(s.Problems, fmt.Sprintf("%d scenarios skipped (--fail-on-skip)", s.Skipped))
	}
	if s.Interrupted {
		s.Problems = append(s.Problems, "interrupted")
	}
	if s.Total != s.Expected {
		s.Problems = append(s.Problems, fmt.Sprintf("ran %d scenarios, expected %d (--expect)", s.Total, s.Expected))
	}
	s.OK = len(s.Problems) == 0
}

// writeJSON writes s to path, indented.
func (s *summary) writeJSON(path string) error {
	data, err := json.Marshal(s, jsontext.WithIndent("  "))
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// printTable writes the per-scenario table, the failing checks and the
// closing count line.
func (s *summary) printTable(w io.Writer) {
	width := len("SCENARIO")
	for _, r := range s.Scenarios {
		width = max(width, len(r.Name))
	}
	fmt.Fprintf(w, "%-*s  %-6s  %7s  %7s  %7s\n", width, "SCENARIO", "RESULT", "SUCCESS", "FAILURE", "WARNING")
	for _, r := range s.Scenarios {
		fmt.Fprintf(w, "%-*s  %-6s  %7d  %7d  %7d\n", width, r.Name, r.Result, r.Counts.Success, r.Counts.Failure, r.Counts.Warning)
	}
	for _, r := range s.Scenarios {
		if len(r.Failures) == 0 && len(r.Warnings) == 0 && len(r.Notes) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s: %s\n", r.Name, r.Result)
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  FAILURE %s: %s\n", f.ID, oneLine(f.Message))
		}
		for _, f := range r.Warnings {
			fmt.Fprintf(w, "  WARNING %s: %s\n", f.ID, oneLine(f.Message))
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
		fmt.Fprintf(w, "  log: %s\n", r.SuiteLog)
	}
	fmt.Fprintln(w)
	var skipped []string
	for _, r := range s.Scenarios {
		if r.Result == resultSkip {
			skipped = append(skipped, r.Name)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(w, "skipped (no SUCCESS, FAILURE or WARNING checks): %s\n", strings.Join(skipped, ", "))
	}
	for _, p := range s.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	fmt.Fprintf(w, "%s scenarios: %d passed, %d failed, %d with warnings (of %d)\n", s.Mode, s.Passed, s.Failed, s.Warned, s.Total)
}

// oneLine shortens a message to one line for the table.
func oneLine(s string) string {
	if s == "" {
		return "(no message)"
	}
	s = strings.Join(strings.Fields(s), " ")
	const limit = 300
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
