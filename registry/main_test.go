package registry_test

import (
	"testing"

	"github.com/switchboard-mcp/switchboard/internal/pgtest"
)

// TestMain stops the PostgreSQL cluster that the Postgres tests start.
func TestMain(m *testing.M) { pgtest.Main(m) }
