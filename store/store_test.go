package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/authserver/storagetest"
	"github.com/switchboard-mcp/switchboard/internal/pgtest"
)

func openTest(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAuthServerStorageContract(t *testing.T) {
	t.Setenv(MasterKeyEnv, "")
	os.Unsetenv(MasterKeyEnv)
	storagetest.Run(t, func(t *testing.T) authserver.Storage { return openTest(t, t.TempDir()).AuthServer() })
}

func TestOpen(t *testing.T) {
	t.Setenv(MasterKeyEnv, "")
	os.Unsetenv(MasterKeyEnv)
	dir := filepath.Join(t.TempDir(), "data")
	db := openTest(t, dir)
	ctx := context.Background()
	if v, err := db.SchemaVersion(ctx); err != nil || v != newestMigration(t) {
		t.Fatalf("schema version %d %v, want %d", v, err, newestMigration(t))
	}
	var mode string
	if err := db.sql.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v", mode, err)
	}
	var timeout int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != int(busyTimeout.Milliseconds()) {
		t.Fatalf("busy_timeout %d %v", timeout, err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, MasterKeyFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %v", path, fi.Mode(), err, want)
		}
	}
	// Reopening migrates nothing and keeps the data.
	if _, err := db.AuthServer().CreateSigningKey(ctx, []byte("pem")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openTest(t, dir)
	if k, err := db.AuthServer().SigningKey(ctx); err != nil || string(k) != "pem" {
		t.Fatalf("after reopen: %q %v", k, err)
	}
}

// TestSigningKeyEncryptedAtRest: the database file never holds the
// signing key in the clear, and another master key cannot read it.
func TestSigningKeyEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	key1 := bytes.Repeat([]byte{1}, 32)
	t.Setenv(MasterKeyEnv, base64.StdEncoding.EncodeToString(key1))
	db := openTest(t, dir)
	ctx := context.Background()
	signer, _ := authserver.GenerateSigningKey("ES256")
	pemKey, _ := authserver.MarshalSigningKey(signer)
	if _, err := db.AuthServer().CreateSigningKey(ctx, pemKey); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(filepath.Join(dir, MasterKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was written although the key came from $%s", MasterKeyEnv)
	}
	body := strings.TrimSuffix(strings.TrimPrefix(string(pemKey), "-----BEGIN PRIVATE KEY-----\n"), "\n-----END PRIVATE KEY-----\n")
	for _, name := range []string{FileName, FileName + "-wal"} {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		if bytes.Contains(data, []byte("PRIVATE KEY")) || bytes.Contains(data, []byte(body[:40])) {
			t.Fatalf("%s holds the signing key in the clear", name)
		}
	}
	t.Setenv(MasterKeyEnv, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32)))
	db = openTest(t, dir)
	if _, err := db.AuthServer().SigningKey(ctx); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("read with another master key: %v", err)
	}
	t.Setenv(MasterKeyEnv, base64.StdEncoding.EncodeToString(key1))
	db = openTest(t, dir)
	if got, err := db.AuthServer().SigningKey(ctx); err != nil || !bytes.Equal(got, pemKey) {
		t.Fatalf("read with the right key: %v", err)
	}
}

func TestMasterKey(t *testing.T) {
	os.Unsetenv(MasterKeyEnv)
	dir := t.TempDir()
	k1, err := LoadMasterKey(dir)
	if err != nil || len(k1) != 32 {
		t.Fatalf("%d %v", len(k1), err)
	}
	k2, err := LoadMasterKey(dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: %v", err)
	}
	path := filepath.Join(dir, MasterKeyFile)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMasterKey(dir); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
	for _, v := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		t.Setenv(MasterKeyEnv, v)
		if _, err := LoadMasterKey(dir); err == nil {
			t.Errorf("$%s=%q accepted", MasterKeyEnv, v)
		}
	}
}

// TestServerRestart: an authorization server on a store keeps its key,
// its clients, a person's grant and its revocations when the process
// (here: the DB and the Server) is replaced.
func TestServerRestart(t *testing.T) {
	os.Unsetenv(MasterKeyEnv)
	dir := t.TempDir()
	const resource = "http://127.0.0.1:1/mcp"
	var cur *authserver.Server
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cur.ServeHTTP(w, r) }))
	defer ts.Close()
	start := func() (*DB, *authserver.Server) {
		db, err := Open(context.Background(), dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		as, err := authserver.New(authserver.Options{Issuer: ts.URL, Resources: []string{resource}, Storage: db.AuthServer(),
			Clients: []authserver.Client{{ID: "rs", Secret: "rs-secret"}}})
		if err != nil {
			t.Fatal(err)
		}
		cur = as
		return db, as
	}
	post := func(form url.Values, user, pass string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", ts.URL+"/token", strings.NewReader(form.Encode()))
		if form.Has("token") {
			req.URL.Path = "/introspect"
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = jsonDecode(resp.Body, &out)
		return resp.StatusCode, out
	}
	db, as := start()
	id, secret, err := authserver.ProvisionMachineClient(context.Background(), db.AuthServer(), authserver.MachineClient{Name: "ci", Scopes: []string{"mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	status, tok := post(url.Values{"grant_type": {"client_credentials"}, "resource": {resource}}, id, secret)
	if status != 200 || tok["scope"] != "mcp" {
		t.Fatalf("%d %v", status, tok)
	}
	at := tok["access_token"].(string)
	kid1, _ := as.PublicKey()
	db.Close()

	db, as = start()
	defer db.Close()
	if kid2, _ := as.PublicKey(); kid2 != kid1 {
		t.Fatal("the signing key changed across a restart")
	}
	v, _ := as.Verifier(resource)
	if _, err := v.Verify(context.Background(), at); err != nil {
		t.Fatalf("token from before the restart: %v", err)
	}
	if _, in := post(url.Values{"token": {at}}, "rs", "rs-secret"); in["active"] != true {
		t.Fatalf("introspection: %v", in)
	}
	// Removing the client revokes its tokens, in a running server too.
	if err := db.AuthServer().DeleteClient(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), at); err == nil {
		t.Fatal("token of a removed client accepted")
	}
	if status, _ := post(url.Values{"grant_type": {"client_credentials"}, "resource": {resource}}, id, secret); status != 401 {
		t.Fatalf("removed client got %d", status)
	}
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// The authorization server's storage contract against a real PostgreSQL.
func TestAuthServerStorageContractPostgres(t *testing.T) {
	t.Setenv(MasterKeyEnv, "")
	os.Unsetenv(MasterKeyEnv)
	storagetest.Run(t, func(t *testing.T) authserver.Storage {
		db, err := Open(context.Background(), t.TempDir(), &Options{URL: pgtest.DSN(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if db.Backend() != "postgres" {
			t.Fatalf("backend %q", db.Backend())
		}
		return db.AuthServer()
	})
}

func TestRebindDollar(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"VALUES (?, ?, ?)", "VALUES ($1, $2, $3)"},
	} {
		if got := rebindDollar(c.in); got != c.want {
			t.Errorf("rebindDollar(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"postgres://u:secret@h/db", "postgres://u:xxxxx@h/db"},
		{"host=/tmp password=secret dbname=x", "host=/tmp password=xxxxx dbname=x"},
	} {
		if got := redactURL(c.in); got != c.want {
			t.Errorf("redactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// newestMigration is the number of the newest SQLite migration.
func newestMigration(t *testing.T) int64 {
	t.Helper()
	entries, err := migrations.ReadDir("migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var newest int64
	for _, e := range entries {
		n, _, _ := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseInt(n, 10, 64); err == nil && v > newest {
			newest = v
		}
	}
	return newest
}
