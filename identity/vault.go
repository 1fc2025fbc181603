package identity

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"
)

// dataKeyLabel binds a sealed data key to its id.
const dataKeyLabel = "switchboard/identity/data-key/"

// DataKeyLabel is the label a data key is sealed with under the master
// key (for Storage implementations that re-seal data keys when the master
// key is rotated).
func DataKeyLabel(id string) string { return dataKeyLabel + id }

// Vault keeps secrets sealed at rest: each secret is AES-256-GCM
// encrypted under the current data key with its name as additional data
// (a sealed value cannot be moved to another name), and the data keys
// are sealed under the master key. It is safe for concurrent use, and
// several processes may share one Storage: a secret sealed under a data
// key this process has not loaded yet makes it load the data keys again,
// so "switchboard keys rotate" needs no restart of running servers.
type Vault struct {
	// KeepRetired is how long a retired data key is kept at least, even
	// when no secret uses it, so that a server that has not yet noticed a
	// rotation can still seal with it safely (default a minute; it must
	// exceed the second after which servers look for a newer key).
	KeepRetired time.Duration

	st  Storage
	now func() time.Time

	mu      sync.Mutex
	keys    map[string]cipher.AEAD
	current string
	checked time.Time // when current was last read from the Storage
}

// currentTTL bounds how long a Vault trusts its idea of the current data
// key before asking the Storage again (another process may have rotated).
const currentTTL = time.Second

// NewVault returns a Vault on st, creating the first data key if there
// is none.
func NewVault(ctx context.Context, st Storage) (*Vault, error) {
	v := &Vault{st: st, now: time.Now, keys: map[string]cipher.AEAD{}, KeepRetired: time.Minute}
	if err := v.load(ctx); err != nil {
		return nil, err
	}
	if v.current == "" {
		if _, err := v.newDataKey(ctx); err != nil {
			return nil, err
		}
		if err := v.load(ctx); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// load reads every data key from the Storage.
func (v *Vault) load(ctx context.Context) error {
	ks, err := v.st.DataKeys(ctx)
	if err != nil {
		return fmt.Errorf("identity: reading data keys: %w", err)
	}
	keys := map[string]cipher.AEAD{}
	current := ""
	for _, k := range ks {
		raw, err := v.st.OpenWithMaster(k.Sealed, dataKeyLabel+k.ID)
		if err != nil {
			return fmt.Errorf("identity: data key %s: %w", k.ID, err)
		}
		a, err := newAEAD(raw)
		if err != nil {
			return err
		}
		keys[k.ID] = a
		if k.RetiredAt.IsZero() {
			current = k.ID // the newest live key
		}
	}
	v.mu.Lock()
	v.keys, v.current, v.checked = keys, current, v.now()
	v.mu.Unlock()
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("identity: a data key must be 32 bytes")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// newDataKey creates and stores a data key; it returns its id.
func (v *Vault) newDataKey(ctx context.Context) (string, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	idb := make([]byte, 9)
	_, _ = rand.Read(idb)
	id := "dk_" + base64.RawURLEncoding.EncodeToString(idb)
	k := &StoredDataKey{ID: id, Sealed: v.st.SealWithMaster(raw, dataKeyLabel+id), CreatedAt: v.now()}
	if err := v.st.CreateDataKey(ctx, k); err != nil {
		return "", fmt.Errorf("identity: storing a data key: %w", err)
	}
	return id, nil
}

// key returns the AEAD of data key id, loading the keys again when it is
// unknown (another process created it).
func (v *Vault) key(ctx context.Context, id string) (cipher.AEAD, error) {
	v.mu.Lock()
	a := v.keys[id]
	v.mu.Unlock()
	if a != nil {
		return a, nil
	}
	if err := v.load(ctx); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if a = v.keys[id]; a == nil {
		return nil, fmt.Errorf("identity: unknown data key %s", id)
	}
	return a, nil
}

// currentKey returns the data key to seal with.
func (v *Vault) currentKey(ctx context.Context) (string, cipher.AEAD, error) {
	v.mu.Lock()
	stale := v.now().Sub(v.checked) > currentTTL || v.current == ""
	v.mu.Unlock()
	if stale {
		if err := v.load(ctx); err != nil {
			return "", nil, err
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.current == "" {
		return "", nil, errors.New("identity: no live data key")
	}
	return v.current, v.keys[v.current], nil
}

func seal(a cipher.AEAD, plaintext []byte, name string) []byte {
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	_, _ = rand.Read(out)
	return a.Seal(out, out, plaintext, []byte(name))
}

func open(a cipher.AEAD, sealed []byte, name string) ([]byte, error) {
	n := a.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("identity: malformed sealed secret")
	}
	pt, err := a.Open(nil, sealed[:n], sealed[n:], []byte(name))
	if err != nil {
		return nil, errors.New("identity: a sealed secret does not open (wrong key or tampered)")
	}
	return pt, nil
}

// Put seals value and stores it under name.
func (v *Vault) Put(ctx context.Context, name string, value []byte) error {
	id, a, err := v.currentKey(ctx)
	if err != nil {
		return err
	}
	return v.st.PutSecret(ctx, &StoredSecret{Name: name, KeyID: id, Sealed: seal(a, value, name), UpdatedAt: v.now()})
}

// Get returns the secret stored under name (an error wrapping ErrNotFound
// when there is none).
func (v *Vault) Get(ctx context.Context, name string) ([]byte, error) {
	s, err := v.st.Secret(ctx, name)
	if err != nil {
		return nil, err
	}
	a, err := v.key(ctx, s.KeyID)
	if err != nil {
		return nil, err
	}
	return open(a, s.Sealed, name)
}

// Delete removes the secret stored under name.
func (v *Vault) Delete(ctx context.Context, name string) error { return v.st.DeleteSecret(ctx, name) }

// Names lists the secrets whose names start with prefix.
func (v *Vault) Names(ctx context.Context, prefix string) ([]string, error) {
	return v.st.SecretNames(ctx, prefix)
}

// GetOrCreate returns the secret under name, creating it with mk when
// there is none (two processes racing agree on the first stored).
func (v *Vault) GetOrCreate(ctx context.Context, name string, mk func() []byte) ([]byte, error) {
	b, err := v.Get(ctx, name)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	id, a, err := v.currentKey(ctx)
	if err != nil {
		return nil, err
	}
	val := mk()
	ok, err := v.st.SwapSecret(ctx, nil, &StoredSecret{Name: name, KeyID: id, Sealed: seal(a, val, name), UpdatedAt: v.now()})
	if err != nil {
		return nil, err
	}
	if !ok {
		return v.Get(ctx, name)
	}
	return val, nil
}

// RotationReport says what [Vault.Rotate] did.
type RotationReport struct {
	// NewKey is the data key that now seals secrets.
	NewKey string
	// Resealed counts the secrets sealed again under it.
	Resealed int
	// Retired lists the data keys retired by this rotation; Deleted those
	// of earlier rotations that no secret used any more.
	Retired, Deleted []string
}

// Rotate creates a new data key, makes it the one that seals, seals every
// secret again under it, and retires the previous keys (they stay
// readable: a process that sealed with one a moment before the rotation
// is not lost; a later rotation deletes those that no secret uses, once
// they have been retired for KeepRetired).
// Running servers carry on: each value is swapped atomically, and a
// server meeting a value under the new key loads it.
func (v *Vault) Rotate(ctx context.Context) (*RotationReport, error) {
	before, err := v.st.DataKeys(ctx)
	if err != nil {
		return nil, err
	}
	id, err := v.newDataKey(ctx)
	if err != nil {
		return nil, err
	}
	rep := &RotationReport{NewKey: id}
	now := v.now()
	for _, k := range before {
		if !k.RetiredAt.IsZero() {
			continue
		}
		if err := v.st.RetireDataKey(ctx, k.ID, now); err != nil {
			return rep, err
		}
		rep.Retired = append(rep.Retired, k.ID)
	}
	if err := v.load(ctx); err != nil {
		return rep, err
	}
	names, err := v.st.SecretNames(ctx, "")
	if err != nil {
		return rep, err
	}
	newKey, err := v.key(ctx, id)
	if err != nil {
		return rep, err
	}
	for _, name := range names {
		for range 5 { // retry when a server wrote the secret meanwhile
			s, err := v.st.Secret(ctx, name)
			if errors.Is(err, ErrNotFound) {
				break
			} else if err != nil {
				return rep, err
			}
			if s.KeyID == id {
				break
			}
			a, err := v.key(ctx, s.KeyID)
			if err != nil {
				return rep, err
			}
			pt, err := open(a, s.Sealed, name)
			if err != nil {
				return rep, fmt.Errorf("identity: secret %q: %w", name, err)
			}
			ok, err := v.st.SwapSecret(ctx, s, &StoredSecret{Name: name, KeyID: id, Sealed: seal(newKey, pt, name), UpdatedAt: v.now()})
			if err != nil {
				return rep, err
			}
			if ok {
				rep.Resealed++
				break
			}
		}
	}
	// Keys retired by an earlier rotation, long enough ago, that nothing
	// uses any more.
	for _, k := range before {
		if k.RetiredAt.IsZero() || v.now().Sub(k.RetiredAt) < v.KeepRetired {
			continue
		}
		n, err := v.st.CountSecretsSealedWith(ctx, k.ID)
		if err != nil {
			return rep, err
		}
		if n == 0 {
			if err := v.st.DeleteDataKey(ctx, k.ID); err != nil {
				return rep, err
			}
			rep.Deleted = append(rep.Deleted, k.ID)
		}
	}
	return rep, nil
}
