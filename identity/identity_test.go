package identity_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/identity"
	"github.com/switchboard-mcp/switchboard/internal/pgtest"
	"github.com/switchboard-mcp/switchboard/store"
)

func openDB(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dir, &store.Options{MasterKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// The API keys on both backends of the store.
func TestAPIKeys(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testAPIKeys(t, openDB(t, t.TempDir())) })
	t.Run("postgres", func(t *testing.T) {
		db, err := store.Open(context.Background(), t.TempDir(), &store.Options{URL: pgtest.DSN(t), MasterKey: []byte("0123456789abcdef0123456789abcdef")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testAPIKeys(t, db)
	})
}

func testAPIKeys(t *testing.T, db *store.DB) {
	ctx := context.Background()
	v, err := identity.NewVault(ctx, db.Identity())
	if err != nil {
		t.Fatal(err)
	}
	keys := identity.NewKeys(db.Identity(), v)
	rec, tok, err := keys.Create(ctx, identity.APIKeySpec{Name: "ci", Tenant: "acme", Groups: []string{"builders"}, Scopes: []string{"mcp"}, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.Create(ctx, identity.APIKeySpec{Name: "ci"}); !errors.Is(err, identity.ErrExists) {
		t.Fatalf("a second key named ci: %v", err)
	}
	ver := keys.Verifier(nil)
	info, err := ver.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if info.Subject != "key:ci" || !info.IsMachine() || info.Claims["tenant"] != "acme" || !info.HasScope("mcp") {
		t.Fatalf("token info %+v", info)
	}
	id := identity.FromToken(info, identity.Claims{})
	if id.Method != "api-key" || id.Tenant != "acme" || len(id.Groups) != 1 || id.Groups[0] != "builders" {
		t.Fatalf("identity %+v", id)
	}
	// The store holds no secret: only the peppered digest.
	list, _ := keys.List(ctx)
	if len(list) != 1 || strings.Contains(string(list[0].Hash), strings.Split(tok, "_")[2]) {
		t.Fatal("listing")
	}
	bad := []struct{ name, tok string }{
		{"wrong secret", tok[:len(tok)-2] + "AA"},
		{"unknown id", identity.APIKeyPrefix + "aaaaaaaaaaaaaaaa_" + strings.Split(tok, "_")[2]},
		{"malformed", "sbk_x"},
		{"not a key", "hello"},
	}
	for _, b := range bad {
		if _, err := ver.Verify(ctx, b.tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: %v", b.name, err)
		}
	}
	if err := keys.Revoke(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := ver.Verify(ctx, tok); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("a revoked key: %v", err)
	}
	_ = rec
	// Expired.
	_, tok2, _ := keys.Create(ctx, identity.APIKeySpec{Name: "short", TTL: time.Millisecond})
	time.Sleep(5 * time.Millisecond)
	if _, err := ver.Verify(ctx, tok2); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired key: %v", err)
	}
}

// TestRotateWhileRunning rotates the data keys from a second process's
// view of the database while the first keeps reading and writing
// secrets and checking API keys: nothing fails, every secret ends under
// the new key.
func TestRotateWhileRunning(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	server := openDB(t, dir)
	v, err := identity.NewVault(ctx, server.Identity())
	if err != nil {
		t.Fatal(err)
	}
	keys := identity.NewKeys(server.Identity(), v)
	_, tok, err := keys.Create(ctx, identity.APIKeySpec{Name: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := v.Put(ctx, fmt.Sprintf("vault/u%d", i), []byte(fmt.Sprintf("token-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var failures atomic.Int64
	var calls atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := (w*7 + n) % 20
				name := fmt.Sprintf("vault/u%d", i)
				b, err := v.Get(ctx, name)
				if err != nil || string(b) != fmt.Sprintf("token-%d", i) {
					failures.Add(1)
					t.Errorf("get %s: %q %v", name, b, err)
				}
				if n%3 == 0 {
					if err := v.Put(ctx, name, []byte(fmt.Sprintf("token-%d", i))); err != nil {
						failures.Add(1)
						t.Errorf("put: %v", err)
					}
				}
				if _, err := keys.Check(ctx, tok); err != nil {
					failures.Add(1)
					t.Errorf("API key: %v", err)
				}
				calls.Add(1)
			}
		}()
	}
	// "switchboard keys rotate" in another process: its own DB handle
	// and vault.
	admin := openDB(t, dir)
	av, err := identity.NewVault(ctx, admin.Identity())
	if err != nil {
		t.Fatal(err)
	}
	var last *identity.RotationReport
	for range 3 {
		time.Sleep(50 * time.Millisecond)
		if last, err = av.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || calls.Load() == 0 {
		t.Fatalf("%d failures in %d calls", failures.Load(), calls.Load())
	}
	// A final rotation with the servers idle (and past the second after
	// which they notice a new key) leaves everything under one key and
	// deletes the keys of the earlier rotations.
	time.Sleep(1100 * time.Millisecond)
	av.KeepRetired = time.Second
	last, err = av.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := admin.Identity().CountSecretsSealedWith(ctx, last.NewKey)
	names, _ := admin.Identity().SecretNames(ctx, "")
	if n != len(names) || len(last.Deleted) == 0 {
		t.Fatalf("after rotation: %d of %d secrets under the new key; deleted %v", n, len(names), last.Deleted)
	}
	t.Logf("%d calls during 3 rotations, none failed; final rotation resealed %d", calls.Load(), last.Resealed)
}

func FuzzParseAPIKey(f *testing.F) {
	f.Add("sbk_aaaaaaaaaaaaaaaa_" + strings.Repeat("A", 43))
	f.Add("sbk_")
	f.Add("sbk__")
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, err := identity.ParseAPIKey(s)
		if err == nil && (len(id) != 16 || len(secret) != 43 || !strings.HasPrefix(s, identity.APIKeyPrefix)) {
			t.Fatalf("accepted %q", s)
		}
	})
}

// TestMasterKeyRotationWhileRunning rotates the master key kept in the
// data directory's master.key from another process's view while the
// first keeps working, then the data keys (the new data key is sealed
// under the new master key, which the running process reads from the
// file): no operation fails, and the old master key opens nothing any
// more.
func TestMasterKeyRotationWhileRunning(t *testing.T) {
	t.Setenv(store.MasterKeyEnv, "")
	os.Unsetenv(store.MasterKeyEnv)
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *store.DB {
		db, err := store.Open(ctx, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	server := open()
	v, err := identity.NewVault(ctx, server.Identity())
	if err != nil {
		t.Fatal(err)
	}
	keys := identity.NewKeys(server.Identity(), v)
	_, tok, err := keys.Create(ctx, identity.APIKeySpec{Name: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	oldKey, _ := os.ReadFile(filepath.Join(dir, store.MasterKeyFile))
	var failures, calls atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("vault/w%d", w)
				if err := v.Put(ctx, name, []byte("x")); err != nil {
					failures.Add(1)
					t.Errorf("put: %v", err)
				}
				if b, err := v.Get(ctx, name); err != nil || string(b) != "x" {
					failures.Add(1)
					t.Errorf("get: %q %v", b, err)
				}
				if _, err := keys.Check(ctx, tok); err != nil {
					failures.Add(1)
					t.Errorf("API key: %v", err)
				}
				calls.Add(1)
			}
		}()
	}
	admin := open()
	time.Sleep(50 * time.Millisecond)
	rep, err := admin.RotateMasterKey(ctx, store.NewMasterKey())
	if err != nil {
		t.Fatal(err)
	}
	av, err := identity.NewVault(ctx, admin.Identity())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := av.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past the servers' second before they seal with the new data key
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || calls.Load() == 0 || !rep.FileUpdated || rep.Resealed == 0 {
		t.Fatalf("%d failures in %d calls; rotation %+v", failures.Load(), calls.Load(), rep)
	}
	newKey, _ := os.ReadFile(filepath.Join(dir, store.MasterKeyFile))
	if string(newKey) == string(oldKey) {
		t.Fatal("master.key was not replaced")
	}
	// The old master key opens nothing any more.
	t.Setenv(store.MasterKeyEnv, strings.TrimSpace(string(oldKey)))
	db3, err := store.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	if _, err := identity.NewVault(ctx, db3.Identity()); err == nil {
		t.Fatal("the old master key still opens the data keys")
	}
}
