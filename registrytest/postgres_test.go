package registrytest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRegistryPackageOnPostgres runs the registry package's own tests
// (the API contract, statuses, curation, logins, ...) with the store on
// PostgreSQL: the same tests pass on both databases.
func TestRegistryPackageOnPostgres(t *testing.T) {
	newDB := startPostgres(t)
	dsn := newDB("unit")
	cmd := exec.Command("go", "test", "-count=1", "-p", "1", "./registry/")
	cmd.Dir = ".."
	cmd.Env = append(cmd.Environ(), "SWITCHBOARD_TEST_POSTGRES="+dsn)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("%s", out)
}
