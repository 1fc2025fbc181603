package main

import (
	"testing"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/apps/appstest"
)

// The example's app passes the validator, and its tools answer in text.
func TestCounterApp(t *testing.T) {
	appstest.Check(t, newServer(), &apps.Options{Calls: map[string]map[string]any{"show_counter": {}, "counter_increment": {"by": 2}}})
}
