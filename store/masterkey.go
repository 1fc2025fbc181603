package store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// MasterKeyEnv is the environment variable that holds the master key:
// the standard base64 encoding of 32 random bytes (for example the
// output of "openssl rand -base64 32").
const MasterKeyEnv = "SWITCHBOARD_MASTER_KEY"

// MasterKeyFile is the name of the master key file in the data directory.
const MasterKeyFile = "master.key"

// masterKeySize is the size of an AES-256 key.
const masterKeySize = 32

// LoadMasterKey returns the key that encrypts secrets at rest in the
// data directory dir: $SWITCHBOARD_MASTER_KEY when set, else the key in
// dir/master.key, which is created (32 random bytes, base64, mode 0600)
// when it does not exist. A key file that group or others may read is
// refused. Keep the key apart from the database backups: whoever has
// both has the secrets.
func LoadMasterKey(dir string) ([]byte, error) {
	if v, ok := os.LookupEnv(MasterKeyEnv); ok {
		key, err := decodeKey(v)
		if err != nil {
			return nil, fmt.Errorf("store: $%s: %w", MasterKeyEnv, err)
		}
		return key, nil
	}
	path := filepath.Join(dir, MasterKeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading the master key: %w", err)
	}
	if err := checkPrivate(path); err != nil {
		return nil, err
	}
	key, err := decodeKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return key, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != masterKeySize {
				return nil, fmt.Errorf("the master key must be %d bytes, not %d", masterKeySize, len(key))
			}
			return key, nil
		}
	}
	return nil, errors.New("the master key is not base64")
}

// createKeyFile writes a new random key to path, failing if the file
// appeared meanwhile (another process won: its key is read instead).
func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, masterKeySize)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadMasterKey(filepath.Dir(path))
	}
	if err != nil {
		return nil, fmt.Errorf("store: creating the master key: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("store: writing the master key: %w", err)
	}
	return key, nil
}

// checkPrivate refuses a key file that group or others may access.
func checkPrivate(path string) error {
	if runtime.GOOS == "windows" {
		return nil // permissions are ACLs there
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("store: %s is accessible to group or others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	return nil
}

// sealer encrypts secrets with AES-256-GCM. A sealed value is a version
// byte, a random 96-bit nonce and the ciphertext with its tag; the label
// (what the secret is) is authenticated as additional data, so a sealed
// value cannot be moved to another use.
//
// It seals with its current key and opens with any key it holds (the
// current one, and the previous one during a master key rotation); when a
// value opens with none of them and the master key comes from a file,
// the file is read again, so that a rotation made by another process
// ("switchboard keys rotate --master") needs no restart.
type sealer struct {
	mu     sync.RWMutex
	aeads  []cipher.AEAD // current first
	keys   [][]byte
	reload func() ([][]byte, error) // nil when the key cannot change under us
}

const sealVersion = 1

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != masterKeySize {
		return nil, fmt.Errorf("store: the master key must be %d bytes", masterKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func newSealer(key []byte) (*sealer, error) {
	s := &sealer{}
	if err := s.add(key, true); err != nil {
		return nil, err
	}
	return s, nil
}

// add makes key known (current: the one that seals).
func (s *sealer) add(key []byte, current bool) error {
	a, err := newAEAD(key)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, k := range s.keys {
		if bytes.Equal(k, key) {
			if current && i != 0 {
				s.keys = append([][]byte{k}, append(s.keys[:i:i], s.keys[i+1:]...)...)
				s.aeads = append([]cipher.AEAD{s.aeads[i]}, append(s.aeads[:i:i], s.aeads[i+1:]...)...)
			}
			return nil
		}
	}
	if current {
		s.keys = append([][]byte{bytes.Clone(key)}, s.keys...)
		s.aeads = append([]cipher.AEAD{a}, s.aeads...)
	} else {
		s.keys = append(s.keys, bytes.Clone(key))
		s.aeads = append(s.aeads, a)
	}
	return nil
}

func (s *sealer) seal(plaintext []byte, label string) []byte {
	s.mu.RLock()
	aead := s.aeads[0]
	s.mu.RUnlock()
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = sealVersion
	_, _ = rand.Read(out[1:])
	return aead.Seal(out, out[1:], plaintext, []byte(label))
}

// errWrongKey is returned for sealed values the master key cannot open.
var errWrongKey = errors.New("store: cannot decrypt a stored secret: is this the master key the data directory was created with?")

func (s *sealer) open(sealed []byte, label string) ([]byte, error) {
	pt, err := s.tryOpen(sealed, label)
	if !errors.Is(err, errWrongKey) || s.reload == nil {
		return pt, err
	}
	// Perhaps the master key was rotated by another process.
	keys, rerr := s.reload()
	if rerr != nil {
		return nil, err
	}
	for i, k := range keys {
		if aerr := s.add(k, i == 0); aerr != nil {
			return nil, err
		}
	}
	return s.tryOpen(sealed, label)
}

func (s *sealer) tryOpen(sealed []byte, label string) ([]byte, error) {
	s.mu.RLock()
	aeads := slices.Clone(s.aeads)
	s.mu.RUnlock()
	n := aeads[0].NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errors.New("store: malformed sealed value")
	}
	for _, a := range aeads {
		if pt, err := a.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(label)); err == nil {
			return pt, nil
		}
	}
	return nil, errWrongKey
}
