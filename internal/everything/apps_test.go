package everything_test

import (
	"testing"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/apps/appstest"
	"github.com/switchboard-mcp/switchboard/internal/everything"
)

// The demo's apps pass the validator's rules, and their tools say what
// they did in text.
func TestDemoApps(t *testing.T) {
	rep := appstest.Check(t, everything.NewServer(nil), &apps.Options{Calls: map[string]map[string]any{
		"show_counter": {}, "counter_increment": {"by": 2}, "show_host_context": {},
	}})
	want := []string{"counter_increment", "show_counter", "show_host_context"}
	if len(rep.Tools) != len(want) || len(rep.Resources) != 2 || len(rep.Findings) != 0 {
		t.Errorf("report: %+v", rep)
	}
	for i, n := range want {
		if rep.Tools[i] != n {
			t.Errorf("tools: %v", rep.Tools)
		}
	}
}
