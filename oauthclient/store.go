package oauthclient

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ErrNotFound is returned by TokenStore lookups that find nothing.
var ErrNotFound = errors.New("oauthclient: not found")

// A TokenStore keeps tokens, keyed by the issuing authorization server's
// issuer identifier and the MCP server's canonical URI, and client
// registrations, keyed by issuer (client credentials are bound to the
// authorization server that issued them). Implementations must be safe
// for concurrent use.
type TokenStore interface {
	// Token returns the token for resource issued by issuer. An empty
	// issuer matches any: the most recently saved token for resource is
	// returned. It returns ErrNotFound when there is none.
	Token(ctx context.Context, issuer, resource string) (*Token, error)
	// SaveToken stores t under (t.Issuer, t.Resource), replacing any
	// previous token there.
	SaveToken(ctx context.Context, t *Token) error
	// DeleteToken removes the token for (issuer, resource); deleting
	// nothing is not an error.
	DeleteToken(ctx context.Context, issuer, resource string) error
	// Client returns the registration stored for issuer, or ErrNotFound.
	Client(ctx context.Context, issuer string) (*ClientInfo, error)
	// SaveClient stores c under c.Issuer.
	SaveClient(ctx context.Context, c *ClientInfo) error
}

// storeData is the content of a store: tokens in the order they were
// saved (the last is the newest) and clients by issuer.
type storeData struct {
	Version int           `json:"version"`
	Tokens  []*Token      `json:"tokens,omitempty"`
	Clients []*ClientInfo `json:"clients,omitempty"`
}

func (d *storeData) token(issuer, resource string) (*Token, error) {
	for i := len(d.Tokens) - 1; i >= 0; i-- {
		t := d.Tokens[i]
		if t.Resource == resource && (issuer == "" || t.Issuer == issuer) {
			c := *t
			c.Scopes = append([]string(nil), t.Scopes...)
			return &c, nil
		}
	}
	return nil, ErrNotFound
}

func (d *storeData) saveToken(t *Token) {
	d.deleteToken(t.Issuer, t.Resource)
	c := *t
	c.Scopes = append([]string(nil), t.Scopes...)
	d.Tokens = append(d.Tokens, &c)
}

func (d *storeData) deleteToken(issuer, resource string) {
	d.Tokens = deleteFunc(d.Tokens, func(t *Token) bool { return t.Issuer == issuer && t.Resource == resource })
}

func (d *storeData) client(issuer string) (*ClientInfo, error) {
	for _, c := range d.Clients {
		if c.Issuer == issuer {
			cc := *c
			cc.RedirectURIs = append([]string(nil), c.RedirectURIs...)
			return &cc, nil
		}
	}
	return nil, ErrNotFound
}

func (d *storeData) saveClient(c *ClientInfo) {
	d.Clients = deleteFunc(d.Clients, func(x *ClientInfo) bool { return x.Issuer == c.Issuer })
	cc := *c
	cc.RedirectURIs = append([]string(nil), c.RedirectURIs...)
	d.Clients = append(d.Clients, &cc)
}

func deleteFunc[T any](s []T, del func(T) bool) []T {
	out := s[:0]
	for _, v := range s {
		if !del(v) {
			out = append(out, v)
		}
	}
	clear(s[len(out):])
	return out
}

// MemoryStore is a TokenStore in memory, for one process.
type MemoryStore struct {
	mu   sync.Mutex
	data storeData
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Token implements TokenStore.
func (s *MemoryStore) Token(_ context.Context, issuer, resource string) (*Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.token(issuer, resource)
}

// SaveToken implements TokenStore.
func (s *MemoryStore) SaveToken(_ context.Context, t *Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data.saveToken(t)
	return nil
}

// DeleteToken implements TokenStore.
func (s *MemoryStore) DeleteToken(_ context.Context, issuer, resource string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data.deleteToken(issuer, resource)
	return nil
}

// Client implements TokenStore.
func (s *MemoryStore) Client(_ context.Context, issuer string) (*ClientInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.client(issuer)
}

// SaveClient implements TokenStore.
func (s *MemoryStore) SaveClient(_ context.Context, c *ClientInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data.saveClient(c)
	return nil
}

// FileStore is a TokenStore in one file encrypted with AES-256-GCM. Every
// write re-encrypts the whole file with a fresh nonce and replaces it
// atomically (write to a temporary file, then rename); the file is
// created with mode 0600. Writes from several processes at once are not
// merged: the last one wins.
type FileStore struct {
	path string
	aead cipher.AEAD
	mu   sync.Mutex
}

// fileStoreAAD binds the ciphertext to its purpose and format version.
const fileStoreAAD = "switchboard oauthclient token store v1"

// fileEnvelope is the on-disk JSON form.
type fileEnvelope struct {
	Version    int    `json:"version"`
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

// NewFileStore returns a store in the file at path encrypted with key,
// which must be 32 bytes (AES-256). The file need not exist yet.
func NewFileStore(path string, key []byte) (*FileStore, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("oauthclient: token store key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &FileStore{path: path, aead: aead}, nil
}

// KeyEnv is the environment variable DefaultFileStore reads the store key
// from: 32 bytes in standard or URL-safe base64.
const KeyEnv = "SWITCHBOARD_TOKEN_KEY"

// DefaultFileStore opens the store of the switchboard command line:
// tokens.enc in the switchboard directory under os.UserConfigDir. The key
// comes from $SWITCHBOARD_TOKEN_KEY if set, else from token.key next to
// the store, created with 32 random bytes on first use.
func DefaultFileStore() (*FileStore, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return nil, fmt.Errorf("oauthclient: no user config directory: %w", err)
	}
	dir := filepath.Join(base, "switchboard")
	var key []byte
	if v := os.Getenv(KeyEnv); v != "" {
		key, err = decodeKey(v)
		if err != nil {
			return nil, fmt.Errorf("oauthclient: $%s: %w", KeyEnv, err)
		}
	} else {
		key, err = LoadOrCreateKeyFile(filepath.Join(dir, "token.key"))
		if err != nil {
			return nil, err
		}
	}
	return NewFileStore(filepath.Join(dir, "tokens.enc"), key)
}

func decodeKey(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(v); err == nil {
			if len(k) != 32 {
				return nil, fmt.Errorf("key must decode to 32 bytes, got %d", len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("key is not base64")
}

// LoadOrCreateKeyFile reads a 32-byte key stored base64-encoded in the
// file at path, creating the file (mode 0600, directory 0700) with a
// random key if it does not exist. It refuses a key file that group or
// others may read or write.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("oauthclient: key file %s has mode %v; it must be accessible by its owner only (chmod 600)", path, fi.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("oauthclient: key file: %w", err)
		}
		k, err := decodeKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("oauthclient: key file %s: %w", path, err)
		}
		return k, nil
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, fmt.Errorf("oauthclient: key file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("oauthclient: key directory: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKeyFile(path) // another process won the race
	}
	if err != nil {
		return nil, fmt.Errorf("oauthclient: key file: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("oauthclient: key file: %w", err)
	}
	return k, nil
}

// maxStoreFile bounds the store file we are willing to read.
const maxStoreFile = 16 << 20

func (s *FileStore) load() (*storeData, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &storeData{Version: 1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("oauthclient: token store: %w", err)
	}
	if len(b) > maxStoreFile {
		return nil, fmt.Errorf("oauthclient: token store %s is too large", s.path)
	}
	var env fileEnvelope
	if err := json.Unmarshal(b, &env); err != nil || env.Version != 1 {
		return nil, fmt.Errorf("oauthclient: token store %s is not a version 1 store", s.path)
	}
	nonce, err1 := base64.StdEncoding.DecodeString(env.Nonce)
	ct, err2 := base64.StdEncoding.DecodeString(env.Ciphertext)
	if err1 != nil || err2 != nil || len(nonce) != s.aead.NonceSize() {
		return nil, fmt.Errorf("oauthclient: token store %s is corrupt", s.path)
	}
	pt, err := s.aead.Open(nil, nonce, ct, []byte(fileStoreAAD))
	if err != nil {
		return nil, fmt.Errorf("oauthclient: token store %s cannot be decrypted with this key", s.path)
	}
	var d storeData
	if err := json.Unmarshal(pt, &d); err != nil {
		return nil, fmt.Errorf("oauthclient: token store %s: bad content", s.path)
	}
	return &d, nil
}

func (s *FileStore) save(d *storeData) error {
	d.Version = 1
	pt, err := json.Marshal(d)
	if err != nil {
		return err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	ct := s.aead.Seal(nil, nonce, pt, []byte(fileStoreAAD))
	clear(pt)
	out, err := json.Marshal(fileEnvelope{
		Version:    1,
		Nonce:      base64.StdEncoding.EncodeToString(nonce),
		Ciphertext: base64.StdEncoding.EncodeToString(ct),
	})
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("oauthclient: token store directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tokens-*.tmp")
	if err != nil {
		return fmt.Errorf("oauthclient: token store: %w", err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(out)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(name)
		return fmt.Errorf("oauthclient: token store: %w", err)
	}
	// CreateTemp makes the file 0600 already; be explicit for umask-free
	// platforms.
	if err := os.Chmod(name, 0o600); err != nil {
		os.Remove(name)
		return fmt.Errorf("oauthclient: token store: %w", err)
	}
	if err := os.Rename(name, s.path); err != nil {
		os.Remove(name)
		return fmt.Errorf("oauthclient: token store: %w", err)
	}
	return nil
}

func (s *FileStore) update(f func(*storeData)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load()
	if err != nil {
		return err
	}
	f(d)
	return s.save(d)
}

// Token implements TokenStore.
func (s *FileStore) Token(_ context.Context, issuer, resource string) (*Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load()
	if err != nil {
		return nil, err
	}
	return d.token(issuer, resource)
}

// SaveToken implements TokenStore.
func (s *FileStore) SaveToken(_ context.Context, t *Token) error {
	return s.update(func(d *storeData) { d.saveToken(t) })
}

// DeleteToken implements TokenStore.
func (s *FileStore) DeleteToken(_ context.Context, issuer, resource string) error {
	return s.update(func(d *storeData) { d.deleteToken(issuer, resource) })
}

// Client implements TokenStore.
func (s *FileStore) Client(_ context.Context, issuer string) (*ClientInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load()
	if err != nil {
		return nil, err
	}
	return d.client(issuer)
}

// SaveClient implements TokenStore.
func (s *FileStore) SaveClient(_ context.Context, c *ClientInfo) error {
	return s.update(func(d *storeData) { d.saveClient(c) })
}

// Path returns the file the store lives in.
func (s *FileStore) Path() string { return s.path }
