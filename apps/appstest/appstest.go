// Package appstest checks the MCP Apps a server declares, in tests: it
// runs apps.Validate (the official validator's static rules, APP-001 to
// APP-011) against an in-process server and fails the test on every
// error.
//
//	func TestApps(t *testing.T) {
//		appstest.Check(t, newServer(), &apps.Options{Calls: map[string]map[string]any{"show_counter": {}}})
//	}
package appstest

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/mcp"
)

// Check validates s and reports each finding: errors fail t, warnings
// are logged. It returns the report.
func Check(t testing.TB, s *mcp.Server, opts *apps.Options) *apps.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := apps.Validate(ctx, s, opts)
	if err != nil {
		t.Fatalf("validating the server's apps: %v", err)
	}
	for _, f := range rep.Findings {
		if f.Severity == apps.SeverityError {
			t.Errorf("MCP Apps: %s", f)
		} else {
			t.Logf("MCP Apps: %s", f)
		}
	}
	return rep
}
