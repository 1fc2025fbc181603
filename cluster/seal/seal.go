// Package seal seals small records (such as a gateway's session state) into
// opaque tokens that any instance holding the key set can open: AES-256-GCM
// with a per-token random nonce, keys derived with HKDF-SHA256 from
// operator secrets, each key named by a key id carried in the token so that
// keys can rotate while tokens sealed with older keys stay valid.
//
// HKDF, not a password KDF: the secrets are random (at least 32 bytes), so
// a slow KDF (PBKDF2 at 100k rounds, as some gateways use per session)
// would only add tens of milliseconds to every new session for no gain.
//
// A token is KEYID "." base64url(nonce || ciphertext), visible ASCII only,
// so it can be an HTTP header value (an Mcp-Session-Id). The purpose given
// to Seal and Open is authenticated as additional data: a token sealed for
// one purpose does not open for another.
//
// Rotation is two-phase: first every instance learns the new key as a
// secondary key (it opens tokens but seals none), then the new key becomes
// the primary one everywhere; the old key is dropped once no live token
// can carry it (after the longest session lifetime).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
)

// MinSecretBytes is the least secret length accepted: secrets are key
// material, not passwords.
const MinSecretBytes = 32

// MaxKeyIDLen bounds the length of a key id.
const MaxKeyIDLen = 16

// MaxTokenLen bounds the tokens Open accepts, before decoding anything.
const MaxTokenLen = 4096

// hkdfInfo separates the keys of this package from other uses of the same
// secrets.
const hkdfInfo = "switchboard/seal/v1 aes-256-gcm "

// Errors of Open. Callers should treat every error as "not a valid token"
// and not tell the client which one it was.
var (
	ErrMalformed  = errors.New("seal: malformed token")
	ErrUnknownKey = errors.New("seal: token sealed with an unknown key")
	ErrOpen       = errors.New("seal: token does not authenticate")
)

// Key is one named secret of a key set.
type Key struct {
	// ID names the key in tokens: 1 to MaxKeyIDLen characters of
	// [A-Za-z0-9_-].
	ID string `json:"id"`
	// Secret is the key material, at least MinSecretBytes random bytes
	// (base64 in the JSON form).
	Secret []byte `json:"secret"`
}

// KeySet is the JSON form of a key set, as an operator writes it in a
// file (a Kubernetes Secret):
//
//	{"primary": "2026-12", "keys": [{"id": "2026-12", "secret": "base64..."}, {"id": "2026-11", "secret": "base64..."}]}
//
// Primary names the key that seals; every listed key opens.
type KeySet struct {
	// Primary is the id of the key that seals.
	Primary string `json:"primary"`
	// Keys are the keys that open, the primary one included.
	Keys []Key `json:"keys"`
}

// Keyring seals with its primary key and opens with any of its keys. It is
// immutable and safe for concurrent use; Sealer swaps keyrings.
type Keyring struct {
	primary string
	secret  []byte // the primary key's, for DeriveKey
	aeads   map[string]cipher.AEAD
}

// validKeyID reports whether id may name a key.
func validKeyID(id string) bool {
	if id == "" || len(id) > MaxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// NewKeyring derives the keys of set. The primary key must be one of the
// keys; ids must be valid and distinct; secrets at least MinSecretBytes.
func NewKeyring(set KeySet) (*Keyring, error) {
	if len(set.Keys) == 0 {
		return nil, errors.New("seal: the key set has no key")
	}
	k := &Keyring{primary: set.Primary, aeads: make(map[string]cipher.AEAD, len(set.Keys))}
	for _, key := range set.Keys {
		if !validKeyID(key.ID) {
			return nil, fmt.Errorf("seal: invalid key id %q (1 to %d of A-Z a-z 0-9 _ -)", key.ID, MaxKeyIDLen)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("seal: key id %q listed twice", key.ID)
		}
		if len(key.Secret) < MinSecretBytes {
			return nil, fmt.Errorf("seal: key %q: secret of %d bytes, at least %d needed", key.ID, len(key.Secret), MinSecretBytes)
		}
		raw, err := hkdf.Key(sha256.New, key.Secret, nil, hkdfInfo+key.ID, 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.aeads[key.ID] = aead
		if key.ID == set.Primary {
			k.secret = slices.Clone(key.Secret)
		}
	}
	if _, ok := k.aeads[set.Primary]; !ok {
		return nil, fmt.Errorf("seal: the primary key %q is not in the key set", set.Primary)
	}
	return k, nil
}

// ParseKeySet decodes the JSON form of a key set strictly (unknown fields
// are errors) and derives its keys.
func ParseKeySet(data []byte) (*Keyring, error) {
	var set KeySet
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&set); err != nil {
		return nil, fmt.Errorf("seal: key set: %w", err)
	}
	if dec.More() {
		return nil, errors.New("seal: key set: trailing data")
	}
	return NewKeyring(set)
}

// LoadKeySet reads a key set file (see KeySet).
func LoadKeySet(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseKeySet(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// GenerateKey returns a new random key named id.
func GenerateKey(id string) Key {
	b := make([]byte, MinSecretBytes)
	rand.Read(b)
	return Key{ID: id, Secret: b}
}

// DeriveKey derives a 32-byte key for another use (info names it) from
// the primary key's secret with HKDF-SHA256, such as the HMAC key of
// 2026-07-28 requestState that every instance must share. It changes when
// the primary key does.
func (k *Keyring) DeriveKey(info string) []byte {
	b, err := hkdf.Key(sha256.New, k.secret, nil, "switchboard/seal/v1 derive "+info+" "+k.primary, 32)
	if err != nil {
		panic(err) // only for lengths HKDF cannot produce
	}
	return b
}

// Primary returns the id of the key that seals.
func (k *Keyring) Primary() string { return k.primary }

// KeyIDs returns the ids of the keys that open, sorted.
func (k *Keyring) KeyIDs() []string {
	ids := make([]string, 0, len(k.aeads))
	for id := range k.aeads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

var b64 = base64.RawURLEncoding

// Seal encrypts and authenticates plaintext for purpose with the primary
// key and returns the token.
func (k *Keyring) Seal(purpose string, plaintext []byte) string {
	aead := k.aeads[k.primary]
	ns := aead.NonceSize()
	buf := make([]byte, ns, ns+len(plaintext)+aead.Overhead())
	rand.Read(buf)
	buf = aead.Seal(buf, buf[:ns], plaintext, aad(purpose, k.primary))
	out := make([]byte, 0, len(k.primary)+1+b64.EncodedLen(len(buf)))
	out = append(out, k.primary...)
	out = append(out, '.')
	out = b64.AppendEncode(out, buf)
	return string(out)
}

// Open checks and decrypts a token sealed for purpose with any key of the
// keyring. It returns ErrMalformed, ErrUnknownKey or ErrOpen otherwise.
func (k *Keyring) Open(purpose, token string) ([]byte, error) {
	if len(token) > MaxTokenLen {
		return nil, ErrMalformed
	}
	id, body, ok := strings.Cut(token, ".")
	if !ok || !validKeyID(id) {
		return nil, ErrMalformed
	}
	aead := k.aeads[id]
	if aead == nil {
		return nil, ErrUnknownKey
	}
	raw, err := b64.DecodeString(body)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrMalformed
	}
	ns := aead.NonceSize()
	pt, err := aead.Open(nil, raw[:ns], raw[ns:], aad(purpose, id))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// aad binds a token to its purpose and key id.
func aad(purpose, id string) []byte {
	return []byte("switchboard/seal/v1\x00" + purpose + "\x00" + id)
}

// Sealer holds the current keyring and lets it be replaced while tokens
// are sealed and opened (key rotation without a restart). It is safe for
// concurrent use.
type Sealer struct {
	k atomic.Pointer[Keyring]
}

// NewSealer returns a Sealer using k.
func NewSealer(k *Keyring) *Sealer {
	s := &Sealer{}
	s.k.Store(k)
	return s
}

// SetKeyring replaces the keyring: later Seal calls use its primary key,
// later Open calls its keys.
func (s *Sealer) SetKeyring(k *Keyring) { s.k.Store(k) }

// Keyring returns the current keyring.
func (s *Sealer) Keyring() *Keyring { return s.k.Load() }

// Seal seals with the current keyring (see Keyring.Seal).
func (s *Sealer) Seal(purpose string, plaintext []byte) string {
	return s.k.Load().Seal(purpose, plaintext)
}

// Open opens with the current keyring (see Keyring.Open).
func (s *Sealer) Open(purpose, token string) ([]byte, error) {
	return s.k.Load().Open(purpose, token)
}
