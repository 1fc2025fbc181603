package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

func checks(statuses ...string) []check {
	var out []check
	for i, s := range statuses {
		out = append(out, check{ID: "c" + string(rune('a'+i)), Status: s})
	}
	return out
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		mode      string
		o         outcome
		want      result
		wantNotes []string // substrings, each must appear in some note
		noNotes   bool
	}{
		{name: "pass", mode: "server", o: outcome{checks: checks(statusSuccess, statusInfo)}, want: resultPass, noNotes: true},
		{name: "pass with skipped checks", mode: "server", o: outcome{checks: checks(statusSuccess, statusSkipped)}, want: resultPass},
		{name: "failure", mode: "server", o: outcome{checks: checks(statusSuccess, statusFailure), exitCode: 1}, want: resultFail, noNotes: true},
		{name: "server warning", mode: "server", o: outcome{checks: checks(statusSuccess, statusWarning)}, want: resultWarn},
		{name: "server warning only", mode: "server", o: outcome{checks: checks(statusWarning)}, want: resultWarn},
		{name: "client warning fails", mode: "client", o: outcome{checks: checks(statusSuccess, statusWarning), exitCode: 1},
			want: resultFail, wantNotes: []string{"WARNING fails a client scenario"}},
		{name: "no checks", mode: "server", o: outcome{}, want: resultSkip},
		{name: "only skipped and info", mode: "client", o: outcome{checks: checks(statusSkipped, statusInfo)}, want: resultSkip},
		{name: "failure beats warning", mode: "server", o: outcome{checks: checks(statusWarning, statusFailure), exitCode: 1}, want: resultFail},
		{name: "unexplained non-zero exit", mode: "server", o: outcome{checks: checks(statusSuccess), exitCode: 1},
			want: resultFail, wantNotes: []string{"suite exited with status 1"}},
		{name: "client exited with error", mode: "client",
			o:    outcome{checks: checks(statusSuccess), exitCode: 1, clientLog: "client exited with code 3"},
			want: resultFail, wantNotes: []string{"client exited with code 3"}},
		{name: "client error allowed by the scenario", mode: "client",
			o:    outcome{checks: checks(statusSuccess), clientLog: "client exited with code 1"},
			want: resultPass, noNotes: true},
		{name: "timeout", mode: "server", o: outcome{checks: nil, exitCode: -1, timedOut: true},
			want: resultFail, wantNotes: []string{"timed out"}},
		{name: "missing checks.json", mode: "server", o: outcome{checksErr: errors.New("the suite wrote no checks.json"), exitCode: 1},
			want: resultFail, wantNotes: []string{"no results", "suite exited with status 1"}},
		{name: "suite not started", mode: "server", o: outcome{runErr: errors.New("exec: no such file"), exitCode: -1},
			want: resultFail, wantNotes: []string{"suite did not run"}},
		{name: "unknown status", mode: "server", o: outcome{checks: checks(statusSuccess, "BOGUS")},
			want: resultPass, wantNotes: []string{"unknown status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, notes := classify(tt.mode, tt.o)
			if got != tt.want {
				t.Errorf("classify = %s, want %s (notes %q)", got, tt.want, notes)
			}
			if tt.noNotes && len(notes) > 0 {
				t.Errorf("notes = %q, want none", notes)
			}
			for _, w := range tt.wantNotes {
				if !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, w) }) {
					t.Errorf("notes %q lack %q", notes, w)
				}
			}
		})
	}
}

func TestCountChecks(t *testing.T) {
	got := countChecks(checks(statusSuccess, statusSuccess, statusFailure, statusWarning, statusSkipped, statusInfo, statusInfo, "X"))
	want := counts{Success: 2, Failure: 1, Warning: 1, Skipped: 1, Info: 2, Other: 1}
	if got != want {
		t.Errorf("countChecks = %+v, want %+v", got, want)
	}
}

func TestCheckMessage(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string
	}{
		{"errorMessage first", `{"id":"a","status":"FAILURE","errorMessage":"boom","details":{"message":"d"},"description":"desc"}`, "boom"},
		{"details.message", `{"id":"a","status":"FAILURE","details":{"message":"Tool was not called"},"description":"desc"}`, "Tool was not called"},
		{"details without message", `{"id":"a","status":"FAILURE","details":{"other":1},"description":"desc"}`, "desc"},
		{"details.message not a string", `{"id":"a","status":"FAILURE","details":{"message":{"x":1}},"description":"desc"}`, "desc"},
		{"details not an object", `{"id":"a","status":"FAILURE","details":"str","description":"desc"}`, "desc"},
		{"no details", `{"id":"a","status":"FAILURE","description":"desc"}`, "desc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c check
			if err := json.Unmarshal([]byte(tt.json), &c); err != nil {
				t.Fatal(err)
			}
			if got := c.message(); got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadChecks(t *testing.T) {
	const valid = `[{"id":"x","name":"X","description":"d","status":"SUCCESS","timestamp":"t","specReferences":[{"id":"r"}],"details":{"a":1}}]`
	tests := []struct {
		name    string
		files   map[string]string
		want    int
		wantErr string
	}{
		{name: "one file, nested", files: map[string]string{"server-ping-2026/checks.json": valid}, want: 1},
		{name: "auth scenario subdirectory", files: map[string]string{"auth/metadata-default-2026/checks.json": valid}, want: 1},
		{name: "other files ignored", files: map[string]string{"s/checks.json": valid, "s/stdout.txt": "x", "suite.log": "y"}, want: 1},
		{name: "none", files: map[string]string{"suite.log": "y"}, wantErr: "no checks.json"},
		{name: "two", files: map[string]string{"a/checks.json": valid, "b/checks.json": valid}, wantErr: "2 checks.json"},
		{name: "not JSON", files: map[string]string{"a/checks.json": "{"}, wantErr: "checks.json"},
		{name: "not an array", files: map[string]string{"a/checks.json": `{"id":"x"}`}, wantErr: "checks.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, path, err := readChecks(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want || filepath.Base(path) != "checks.json" {
				t.Errorf("readChecks = %d checks from %s, want %d", len(got), path, tt.want)
			}
		})
	}
}

func TestSummaryTally(t *testing.T) {
	reps := func(results ...result) []scenarioReport {
		var out []scenarioReport
		for i, r := range results {
			out = append(out, scenarioReport{Name: "s" + string(rune('a'+i)), Result: r})
		}
		return out
	}
	tests := []struct {
		name         string
		s            summary
		wantOK       bool
		wantCounts   [5]int // total, passed, failed, warned, skipped
		wantProblems []string
	}{
		{name: "all pass", s: summary{Expected: 2, Scenarios: reps(resultPass, resultPass)}, wantOK: true, wantCounts: [5]int{2, 2, 0, 0, 0}},
		{name: "warn and skip are ok", s: summary{Expected: 3, Scenarios: reps(resultPass, resultWarn, resultSkip)}, wantOK: true, wantCounts: [5]int{3, 1, 0, 1, 1}},
		{name: "skip fails with --fail-on-skip", s: summary{Expected: 2, FailOnSkip: true, Scenarios: reps(resultPass, resultSkip)},
			wantCounts: [5]int{2, 1, 0, 0, 1}, wantProblems: []string{"1 scenarios skipped"}},
		{name: "a failure", s: summary{Expected: 2, Scenarios: reps(resultPass, resultFail)}, wantCounts: [5]int{2, 1, 1, 0, 0},
			wantProblems: []string{"1 scenarios failed"}},
		{name: "count differs from --expect", s: summary{Expected: 3, Scenarios: reps(resultPass, resultPass)}, wantCounts: [5]int{2, 2, 0, 0, 0},
			wantProblems: []string{"ran 2 scenarios, expected 3"}},
		{name: "interrupted", s: summary{Expected: 1, Interrupted: true, Scenarios: reps(resultPass)}, wantCounts: [5]int{1, 1, 0, 0, 0},
			wantProblems: []string{"interrupted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			s.tally()
			if s.OK != tt.wantOK {
				t.Errorf("OK = %v, want %v (problems %q)", s.OK, tt.wantOK, s.Problems)
			}
			if got := [5]int{s.Total, s.Passed, s.Failed, s.Warned, s.Skipped}; got != tt.wantCounts {
				t.Errorf("counts = %v, want %v", got, tt.wantCounts)
			}
			for _, w := range tt.wantProblems {
				if !slices.ContainsFunc(s.Problems, func(p string) bool { return strings.Contains(p, w) }) {
					t.Errorf("problems %q lack %q", s.Problems, w)
				}
			}
		})
	}
}

func TestPrintTableAndJSON(t *testing.T) {
	s := summary{
		Mode: "server", Target: "http://127.0.0.1:1/mcp", Expected: 3,
		Scenarios: []scenarioReport{
			{Name: "ping", Result: resultPass, Counts: counts{Success: 1}, SuiteLog: "/x/ping/suite.log"},
			{Name: "tools-call-image", Result: resultFail, Counts: counts{Failure: 1}, ExitCode: 1,
				Failures: []checkRef{{ID: "tools-call-image", Message: "No image\ncontent found"}}, SuiteLog: "/x/img/suite.log"},
			{Name: "server-sse-polling", Result: resultWarn, Counts: counts{Success: 2, Warning: 1},
				Warnings: []checkRef{{ID: "server-sse-retry-field", Message: "no retry"}}, SuiteLog: "/x/sse/suite.log"},
		},
	}
	s.tally()
	var buf bytes.Buffer
	s.printTable(&buf)
	out := buf.String()
	for _, want := range []string{
		"SCENARIO            RESULT  SUCCESS  FAILURE  WARNING\n",
		"ping                PASS          1        0        0\n",
		"  FAILURE tools-call-image: No image content found\n",
		"  WARNING server-sse-retry-field: no retry\n",
		"  log: /x/img/suite.log\n",
		"problem: 1 scenarios failed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "\nserver scenarios: 1 passed, 1 failed, 1 with warnings (of 3)\n") {
		t.Errorf("table does not end with the count line:\n%s", out)
	}
	if strings.Contains(out, "ping: PASS") {
		t.Errorf("a clean PASS got a detail block:\n%s", out)
	}

	path := filepath.Join(t.TempDir(), "summary.json")
	if err := s.writeJSON(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back summary
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("summary.json does not parse: %v\n%s", err, data)
	}
	if back.Total != 3 || back.Failed != 1 || back.OK || len(back.Scenarios) != 3 ||
		back.Scenarios[1].Failures[0].ID != "tools-call-image" {
		t.Errorf("summary.json round trip lost data: %+v", back)
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine(""); got != "(no message)" {
		t.Errorf("oneLine(\"\") = %q", got)
	}
	if got := oneLine("a\n  b\tc"); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
	long := strings.Repeat("é", 400)
	got := oneLine(long)
	if n := len([]rune(got)); n != 301 || !strings.HasSuffix(got, "…") {
		t.Errorf("oneLine of 400 runes gave %d runes", n)
	}
}
