package identity

import (
	"context"
	"errors"
	"time"
)

// Storage keeps what package identity needs to outlive a process. Package
// store implements it in SQLite. Implementations must be safe for
// concurrent use; absent records are errors wrapping [ErrNotFound].
type Storage interface {
	// SealWithMaster encrypts plaintext under the master key, binding
	// label; OpenWithMaster reverses it.
	SealWithMaster(plaintext []byte, label string) []byte
	OpenWithMaster(sealed []byte, label string) ([]byte, error)

	// DataKeys returns every stored data key, oldest first.
	DataKeys(ctx context.Context) ([]*StoredDataKey, error)
	// CreateDataKey stores a new data key.
	CreateDataKey(ctx context.Context, k *StoredDataKey) error
	// RetireDataKey marks a data key retired: no longer used to seal.
	RetireDataKey(ctx context.Context, id string, at time.Time) error
	// DeleteDataKey removes a data key no secret uses any more.
	DeleteDataKey(ctx context.Context, id string) error

	// PutSecret stores a sealed secret, replacing the one of that name.
	PutSecret(ctx context.Context, s *StoredSecret) error
	// Secret returns the sealed secret of that name.
	Secret(ctx context.Context, name string) (*StoredSecret, error)
	// SecretNames lists the names of secrets that start with prefix
	// ("" for all), sorted.
	SecretNames(ctx context.Context, prefix string) ([]string, error)
	// CountSecretsSealedWith counts the secrets sealed with a data key.
	CountSecretsSealedWith(ctx context.Context, keyID string) (int, error)
	// SwapSecret replaces a secret only if it is still sealed as old says
	// (same key id and ciphertext), and reports whether it did.
	SwapSecret(ctx context.Context, old, new *StoredSecret) (bool, error)
	// DeleteSecret removes a secret (no error when absent).
	DeleteSecret(ctx context.Context, name string) error

	// CreateAPIKey stores a new API key; a name already used is an error
	// wrapping ErrExists.
	CreateAPIKey(ctx context.Context, k *StoredAPIKey) error
	// APIKey returns the API key with that id.
	APIKey(ctx context.Context, id string) (*StoredAPIKey, error)
	// APIKeys returns every API key, by name.
	APIKeys(ctx context.Context) ([]*StoredAPIKey, error)
	// RevokeAPIKey revokes the key with that id or name.
	RevokeAPIKey(ctx context.Context, idOrName string, at time.Time) error
	// TouchAPIKey records a use of a key.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// Errors of Storage implementations.
var (
	ErrNotFound = errors.New("identity: not found")
	ErrExists   = errors.New("identity: already exists")
)

// StoredDataKey is a data key sealed under the master key.
type StoredDataKey struct {
	// ID names the key in sealed secrets ("dk_…").
	ID string
	// Sealed is the key sealed under the master key.
	Sealed []byte
	// CreatedAt is when the key was made.
	CreatedAt time.Time
	// RetiredAt is when the key stopped sealing new secrets (zero while it
	// is in use).
	RetiredAt time.Time
}

// StoredSecret is a secret sealed under a data key.
type StoredSecret struct {
	// Name is the secret's name, bound to its ciphertext.
	Name string
	// KeyID is the data key it is sealed under.
	KeyID string
	// Sealed is the nonce and the AES-256-GCM ciphertext.
	Sealed []byte
	// UpdatedAt is when it was last written.
	UpdatedAt time.Time
}

// StoredAPIKey is an API key as stored: its secret only as a peppered
// HMAC.
type StoredAPIKey struct {
	// ID is the key's public id (the part after "sbk_").
	ID string
	// Name is the unique name it was created with.
	Name string
	// Hash is the HMAC-SHA-256 of the key's secret under the pepper.
	Hash []byte
	// Subject, Tenant and Groups are the identity the key acts as.
	Subject string
	Tenant  string // see Subject
	Groups  []string
	// Scopes are the scopes it grants.
	Scopes []string
	// CreatedAt, ExpiresAt (zero: never), RevokedAt (zero: live) and
	// LastUsed.
	CreatedAt, ExpiresAt, RevokedAt, LastUsed time.Time
}
