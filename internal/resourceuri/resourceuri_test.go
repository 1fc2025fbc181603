package resourceuri_test

import (
	"testing"

	"github.com/switchboard-mcp/switchboard/internal/resourceuri"
	"github.com/switchboard-mcp/switchboard/internal/resourceuri/resourceuritest"
)

func TestCanonical(t *testing.T) {
	for _, tt := range resourceuritest.Cases {
		got, err := resourceuri.Canonical(tt.In)
		if tt.Want == "" {
			if err == nil {
				t.Errorf("%q: accepted as %q", tt.In, got)
			}
			continue
		}
		if err != nil || got != tt.Want {
			t.Errorf("%q = %q, %v; want %q", tt.In, got, err, tt.Want)
		}
	}
}
