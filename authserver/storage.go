package authserver

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"
)

// Storage keeps the state of a [Server] that must outlive a request:
// its signing key, the clients that registered or were provisioned, the
// grants people approved, refresh tokens (as digests), issued access
// tokens and revocations. Authorization codes and pending consent pages
// live a minute or ten and stay in the Server's memory.
//
// [NewMemoryStorage] keeps everything in memory (the default: state ends
// with the process); package store keeps it in a SQLite database so that
// a restart logs nobody out.
//
// Implementations must be safe for concurrent use. A Storage serves one
// Server at a time (several processes may share one for administration,
// such as provisioning clients, while a server runs). Lookups of absent
// records return an error wrapping [ErrNotFound]. Secrets are never
// handed to a Storage: clients come with the SHA-256 digest of their
// secret, refresh tokens as SHA-256 digests, and the signing key is the
// only secret, which durable implementations must encrypt at rest.
type Storage interface {
	// SigningKey returns the stored signing key, a PKCS #8 PEM block
	// (see [MarshalSigningKey]).
	SigningKey(ctx context.Context) ([]byte, error)
	// CreateSigningKey stores pem as the signing key unless one is
	// stored already, and returns the stored key (so that two processes
	// starting at once agree on one key).
	CreateSigningKey(ctx context.Context, pem []byte) ([]byte, error)

	// CreateClient stores a new client. It returns an error wrapping
	// [ErrExists] if a client with that ID is stored.
	CreateClient(ctx context.Context, c *StoredClient) error
	// Client returns the client with that ID.
	Client(ctx context.Context, id string) (*StoredClient, error)
	// Clients returns every stored client, in the order of their IDs.
	Clients(ctx context.Context) ([]*StoredClient, error)
	// CountClients returns how many clients of that kind are stored.
	CountClients(ctx context.Context, kind ClientKind) (int, error)
	// ExtendClient moves the ExpiresAt of a client that expires to until,
	// if that is later. Clients that never expire are left alone.
	ExtendClient(ctx context.Context, id string, until time.Time) error
	// DeleteClient removes a client and revokes every grant issued to it.
	DeleteClient(ctx context.Context, id string) error

	// PutGrant stores g, replacing the grant with the same ID.
	PutGrant(ctx context.Context, g *StoredGrant) error
	// Grant returns the grant with that ID.
	Grant(ctx context.Context, id string) (*StoredGrant, error)

	// PutRefreshToken stores the digest of an issued refresh token.
	PutRefreshToken(ctx context.Context, t *StoredRefreshToken) error
	// RefreshToken returns the refresh token with that SHA-256 digest.
	RefreshToken(ctx context.Context, hash []byte) (*StoredRefreshToken, error)

	// PutAccessToken stores an issued access token's record, replacing
	// the one with the same JTI.
	PutAccessToken(ctx context.Context, t *StoredAccessToken) error
	// AccessToken returns the record of the access token with that JTI.
	AccessToken(ctx context.Context, jti string) (*StoredAccessToken, error)

	// RevokeBinding records that binding (an mcp_binding value) has ended,
	// to be remembered until expiresAt, and revokes the grants bound to
	// it. It returns how many grants it revoked.
	RevokeBinding(ctx context.Context, binding string, expiresAt time.Time) (int, error)
	// BindingRevoked reports whether binding has ended.
	BindingRevoked(ctx context.Context, binding string) (bool, error)

	// DeleteExpired forgets clients, grants, tokens and ended bindings
	// whose ExpiresAt is not after now.
	DeleteExpired(ctx context.Context, now time.Time) error
}

// Errors of [Storage] implementations.
var (
	ErrNotFound = errors.New("authserver: not found")
	ErrExists   = errors.New("authserver: already exists")
)

// ClientKind tells how a stored client came to be.
type ClientKind string

// Kinds of stored clients.
const (
	// ClientRegistered is a client that registered itself with Dynamic
	// Client Registration. It always needs a person's approval, and it
	// is forgotten when unused (Options.UnusedClientTTL).
	ClientRegistered ClientKind = "registered"
	// ClientMachine is a confidential client an administrator
	// provisioned for the client_credentials grant (see
	// [ProvisionMachineClient]). It never expires.
	ClientMachine ClientKind = "machine"
)

// StoredClient is a client as a [Storage] keeps it.
type StoredClient struct {
	ID   string
	Kind ClientKind
	// SecretHash is the SHA-256 digest of a confidential client's
	// secret; nil for a public client.
	SecretHash []byte
	// AuthMethod is the token endpoint authentication method: "none",
	// "client_secret_basic" or "client_secret_post".
	AuthMethod   string
	Name         string
	URI          string
	RedirectURIs []string
	GrantTypes   []string
	// Scopes restricts the scopes the client may obtain; nil means any
	// the server supports.
	Scopes    []string
	CreatedAt time.Time
	// ExpiresAt is when the client is forgotten unless used again; zero
	// means never.
	ExpiresAt time.Time
}

// StoredGrant is one authorization as a [Storage] keeps it: an approved
// authorization code and the refresh tokens that followed it, or one
// client_credentials request.
type StoredGrant struct {
	ID       string
	ClientID string
	// Subject is the person who approved, or the client itself for
	// client_credentials.
	Subject string
	// GrantType is auth.GrantAuthorizationCode or
	// auth.GrantClientCredentials.
	GrantType string
	Scopes    []string
	Resource  string
	Binding   string
	Revoked   bool
	// RefreshHash is the SHA-256 digest of the grant's current refresh
	// token; nil when it has none. Older refresh tokens of the grant are
	// stale: presenting one revokes the grant.
	RefreshHash []byte
	// ExpiresAt is when the grant can be forgotten: the expiry of its
	// refresh token, or of its last access token.
	ExpiresAt time.Time
	// Claims are extra claims of the grant's access tokens: who the
	// person is at an identity provider (groups, tenant, email, idp), the
	// DPoP key the grant is bound to (cnf), the assertion a grant came
	// from. Values are JSON values.
	Claims map[string]any
}

// StoredRefreshToken is an issued refresh token, known by its SHA-256
// digest only.
type StoredRefreshToken struct {
	Hash      []byte
	GrantID   string
	ExpiresAt time.Time
}

// StoredAccessToken is the record of an issued access token.
type StoredAccessToken struct {
	JTI       string
	GrantID   string
	Revoked   bool
	ExpiresAt time.Time
}

// MemoryStorage is a [Storage] in memory: its state ends with the
// process. It is the default of [Options].Storage.
type MemoryStorage struct {
	mu       sync.Mutex
	key      []byte
	clients  map[string]*StoredClient
	grants   map[string]*StoredGrant
	refresh  map[string]*StoredRefreshToken
	access   map[string]*StoredAccessToken
	bindings map[string]time.Time
}

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{
		clients:  make(map[string]*StoredClient),
		grants:   make(map[string]*StoredGrant),
		refresh:  make(map[string]*StoredRefreshToken),
		access:   make(map[string]*StoredAccessToken),
		bindings: make(map[string]time.Time),
	}
}

var _ Storage = (*MemoryStorage)(nil)

// SigningKey implements [Storage].
func (m *MemoryStorage) SigningKey(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.key == nil {
		return nil, ErrNotFound
	}
	return bytes.Clone(m.key), nil
}

// CreateSigningKey implements [Storage].
func (m *MemoryStorage) CreateSigningKey(_ context.Context, pem []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.key == nil {
		m.key = bytes.Clone(pem)
	}
	return bytes.Clone(m.key), nil
}

func cloneClient(c *StoredClient) *StoredClient {
	d := *c
	d.SecretHash = bytes.Clone(c.SecretHash)
	d.RedirectURIs = slices.Clone(c.RedirectURIs)
	d.GrantTypes = slices.Clone(c.GrantTypes)
	d.Scopes = slices.Clone(c.Scopes)
	return &d
}

// CreateClient implements [Storage].
func (m *MemoryStorage) CreateClient(_ context.Context, c *StoredClient) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clients[c.ID]; ok {
		return ErrExists
	}
	m.clients[c.ID] = cloneClient(c)
	return nil
}

// Client implements [Storage].
func (m *MemoryStorage) Client(_ context.Context, id string) (*StoredClient, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.clients[id]
	if c == nil {
		return nil, ErrNotFound
	}
	return cloneClient(c), nil
}

// Clients implements [Storage].
func (m *MemoryStorage) Clients(context.Context) ([]*StoredClient, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*StoredClient, 0, len(m.clients))
	for _, c := range m.clients {
		out = append(out, cloneClient(c))
	}
	slices.SortFunc(out, func(a, b *StoredClient) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out, nil
}

// CountClients implements [Storage].
func (m *MemoryStorage) CountClients(_ context.Context, kind ClientKind) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.clients {
		if c.Kind == kind {
			n++
		}
	}
	return n, nil
}

// ExtendClient implements [Storage].
func (m *MemoryStorage) ExtendClient(_ context.Context, id string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.clients[id]
	if c == nil {
		return ErrNotFound
	}
	if !c.ExpiresAt.IsZero() && until.After(c.ExpiresAt) {
		c.ExpiresAt = until
	}
	return nil
}

// DeleteClient implements [Storage].
func (m *MemoryStorage) DeleteClient(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clients[id]; !ok {
		return ErrNotFound
	}
	delete(m.clients, id)
	for _, g := range m.grants {
		if g.ClientID == id {
			g.Revoked, g.RefreshHash = true, nil
		}
	}
	return nil
}

func cloneGrant(g *StoredGrant) *StoredGrant {
	d := *g
	d.Scopes = slices.Clone(g.Scopes)
	d.RefreshHash = bytes.Clone(g.RefreshHash)
	d.Claims = maps.Clone(g.Claims)
	return &d
}

// PutGrant implements [Storage].
func (m *MemoryStorage) PutGrant(_ context.Context, g *StoredGrant) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.grants[g.ID] = cloneGrant(g)
	return nil
}

// Grant implements [Storage].
func (m *MemoryStorage) Grant(_ context.Context, id string) (*StoredGrant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.grants[id]
	if g == nil {
		return nil, ErrNotFound
	}
	return cloneGrant(g), nil
}

// PutRefreshToken implements [Storage].
func (m *MemoryStorage) PutRefreshToken(_ context.Context, t *StoredRefreshToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := *t
	d.Hash = bytes.Clone(t.Hash)
	m.refresh[string(t.Hash)] = &d
	return nil
}

// RefreshToken implements [Storage].
func (m *MemoryStorage) RefreshToken(_ context.Context, hash []byte) (*StoredRefreshToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.refresh[string(hash)]
	if t == nil {
		return nil, ErrNotFound
	}
	d := *t
	d.Hash = bytes.Clone(t.Hash)
	return &d, nil
}

// PutAccessToken implements [Storage].
func (m *MemoryStorage) PutAccessToken(_ context.Context, t *StoredAccessToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := *t
	m.access[t.JTI] = &d
	return nil
}

// AccessToken implements [Storage].
func (m *MemoryStorage) AccessToken(_ context.Context, jti string) (*StoredAccessToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.access[jti]
	if t == nil {
		return nil, ErrNotFound
	}
	d := *t
	return &d, nil
}

// RevokeBinding implements [Storage].
func (m *MemoryStorage) RevokeBinding(_ context.Context, binding string, expiresAt time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bindings[binding] = expiresAt
	n := 0
	for _, g := range m.grants {
		if g.Binding == binding && !g.Revoked {
			g.Revoked, g.RefreshHash = true, nil
			n++
		}
	}
	return n, nil
}

// BindingRevoked implements [Storage].
func (m *MemoryStorage) BindingRevoked(_ context.Context, binding string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.bindings[binding]
	return ok, nil
}

// DeleteExpired implements [Storage].
func (m *MemoryStorage) DeleteExpired(_ context.Context, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, c := range m.clients {
		if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
			delete(m.clients, id)
		}
	}
	for id, g := range m.grants {
		if !now.Before(g.ExpiresAt) {
			delete(m.grants, id)
		}
	}
	for h, t := range m.refresh {
		if !now.Before(t.ExpiresAt) {
			delete(m.refresh, h)
		}
	}
	for jti, t := range m.access {
		if !now.Before(t.ExpiresAt) {
			delete(m.access, jti)
		}
	}
	for b, exp := range m.bindings {
		if !now.Before(exp) {
			delete(m.bindings, b)
		}
	}
	return nil
}
