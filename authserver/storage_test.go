package authserver_test

import (
	"testing"

	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/authserver/storagetest"
)

func TestMemoryStorage(t *testing.T) {
	storagetest.Run(t, func(*testing.T) authserver.Storage { return authserver.NewMemoryStorage() })
}
