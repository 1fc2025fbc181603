package oauthclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testStores(t *testing.T) map[string]TokenStore {
	key := bytes.Repeat([]byte{7}, 32)
	fs, err := NewFileStore(filepath.Join(t.TempDir(), "sub", "tokens.enc"), key)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]TokenStore{"memory": NewMemoryStore(), "file": fs}
}

func TestTokenStores(t *testing.T) {
	ctx := context.Background()
	for name, s := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Token(ctx, "", "https://r"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("empty store: %v", err)
			}
			a := &Token{AccessToken: "a1", RefreshToken: "r1", Issuer: "https://as1", Resource: "https://r", Scopes: []string{"x"}, Expiry: time.Unix(1e9, 0)}
			b := &Token{AccessToken: "b1", Issuer: "https://as2", Resource: "https://r"}
			other := &Token{AccessToken: "o1", Issuer: "https://as1", Resource: "https://other"}
			for _, tok := range []*Token{a, b, other} {
				if err := s.SaveToken(ctx, tok); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Token(ctx, "https://as1", "https://r")
			if err != nil || got.AccessToken != "a1" || got.RefreshToken != "r1" || !got.Expiry.Equal(a.Expiry) || got.Scopes[0] != "x" {
				t.Fatalf("by issuer: %+v, %v", got, err)
			}
			got.Scopes[0] = "mutated"
			if again, _ := s.Token(ctx, "https://as1", "https://r"); again.Scopes[0] != "x" {
				t.Error("store shares memory with callers")
			}
			if got, _ := s.Token(ctx, "", "https://r"); got.AccessToken != "b1" {
				t.Errorf("newest for resource = %s, want b1", got.AccessToken)
			}
			// Saving again replaces and makes it the newest.
			a2 := *a
			a2.AccessToken = "a2"
			s.SaveToken(ctx, &a2)
			if got, _ := s.Token(ctx, "", "https://r"); got.AccessToken != "a2" {
				t.Errorf("newest after replace = %s, want a2", got.AccessToken)
			}
			if err := s.DeleteToken(ctx, "https://as1", "https://r"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Token(ctx, "https://as1", "https://r"); !errors.Is(err, ErrNotFound) {
				t.Errorf("after delete: %v", err)
			}
			if got, _ := s.Token(ctx, "https://as1", "https://other"); got.AccessToken != "o1" {
				t.Error("delete removed another resource's token")
			}

			if _, err := s.Client(ctx, "https://as1"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("no client: %v", err)
			}
			c := &ClientInfo{Issuer: "https://as1", ClientID: "c1", ClientSecret: "s1", RedirectURIs: []string{"http://127.0.0.1:1/cb"}}
			s.SaveClient(ctx, c)
			s.SaveClient(ctx, &ClientInfo{Issuer: "https://as2", ClientID: "c2"})
			got2, err := s.Client(ctx, "https://as1")
			if err != nil || got2.ClientID != "c1" || got2.ClientSecret != "s1" || got2.RedirectURIs[0] != "http://127.0.0.1:1/cb" {
				t.Errorf("client: %+v, %v", got2, err)
			}
		})
	}
}

func TestFileStoreEncryption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.enc")
	key := bytes.Repeat([]byte{1}, 32)
	s, _ := NewFileStore(path, key)
	if err := s.SaveToken(ctx, &Token{AccessToken: "super-secret-access", RefreshToken: "super-secret-refresh", Issuer: "https://as", Resource: "https://r"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("super-secret")) || bytes.Contains(raw, []byte("https://as")) {
		t.Fatal("the store file contains plaintext")
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("store file mode %v", fi.Mode().Perm())
	}
	// A second store with the same key reads it; a wrong key cannot.
	s2, _ := NewFileStore(path, key)
	if tok, err := s2.Token(ctx, "", "https://r"); err != nil || tok.AccessToken != "super-secret-access" {
		t.Fatalf("reopen: %v", err)
	}
	bad, _ := NewFileStore(path, bytes.Repeat([]byte{2}, 32))
	if _, err := bad.Token(ctx, "", "https://r"); err == nil || !strings.Contains(err.Error(), "cannot be decrypted") {
		t.Errorf("wrong key: %v", err)
	}
	// Tampering is detected.
	tampered := bytes.Replace(raw, []byte(`"ciphertext":"`), []byte(`"ciphertext":"AAAA`), 1)
	os.WriteFile(path, tampered, 0o600)
	if _, err := s2.Token(ctx, "", "https://r"); err == nil {
		t.Error("tampered store accepted")
	}
	if _, err := NewFileStore(path, []byte("short")); err == nil {
		t.Error("short key accepted")
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries", len(entries))
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d", "token.key")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil || len(k1) != 32 {
		t.Fatalf("create: %v", err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key accepted: %v", err)
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("not a key"), 0o600)
	if _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Error("garbage key accepted")
	}
}

func TestDefaultFileStoreKeyFromEnv(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	t.Setenv(KeyEnv, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	s, err := DefaultFileStore()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(s.Path()) != "tokens.enc" || filepath.Base(filepath.Dir(s.Path())) != "switchboard" {
		t.Errorf("path %s", s.Path())
	}
	if err := s.SaveToken(context.Background(), &Token{AccessToken: "x", Issuer: "i", Resource: "r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Path()), "token.key")); err == nil {
		t.Error("a key file was created although the key came from the environment")
	}
	t.Setenv(KeyEnv, "dG9vIHNob3J0")
	if _, err := DefaultFileStore(); err == nil {
		t.Error("short key from the environment accepted")
	}
}
