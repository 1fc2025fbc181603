package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
)

// APIKeyPrefix starts every API key: "sbk_<id>_<secret>".
const APIKeyPrefix = "sbk_"

// pepperName is the vault name of the API keys' pepper.
const pepperName = "identity/api-key-pepper"

// ClaimAPIKey is the claim that names the API key a request used.
const ClaimAPIKey = "api_key_id"

// Keys manages API keys for machines. Only a peppered HMAC-SHA-256 of a
// key's secret is stored; the pepper is a vault secret, so a copy of the
// database without the master key cannot test guesses.
type Keys struct {
	st    Storage
	vault *Vault
	now   func() time.Time

	mu       sync.Mutex
	pepper   []byte
	lastUsed map[string]time.Time // throttles TouchAPIKey
}

// NewKeys returns the API keys of st, whose pepper the vault keeps.
func NewKeys(st Storage, v *Vault) *Keys {
	return &Keys{st: st, vault: v, now: time.Now, lastUsed: map[string]time.Time{}}
}

// APIKeySpec describes a key to create.
type APIKeySpec struct {
	// Name is unique among keys (required): what the key is for.
	Name string
	// Subject is who the key acts as (default "key:<name>").
	Subject string
	// Tenant and Groups go into the caller's identity.
	Tenant string
	Groups []string // see Tenant
	// Scopes are the scopes the key grants, as an OAuth token's would.
	Scopes []string
	// TTL is the key's lifetime; zero means it does not expire.
	TTL time.Duration
}

func (k *Keys) getPepper(ctx context.Context) ([]byte, error) {
	k.mu.Lock()
	p := k.pepper
	k.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := k.vault.GetOrCreate(ctx, pepperName, func() []byte {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	})
	if err != nil {
		return nil, fmt.Errorf("identity: the API key pepper: %w", err)
	}
	k.mu.Lock()
	k.pepper = p
	k.mu.Unlock()
	return p, nil
}

func hashSecret(pepper []byte, secret string) []byte {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Create makes a new key and returns it with the token to hand to its
// user: the only time the token exists outside the caller.
func (k *Keys) Create(ctx context.Context, spec APIKeySpec) (*StoredAPIKey, string, error) {
	if spec.Name == "" || len(spec.Name) > 128 {
		return nil, "", errors.New("identity: an API key needs a name of 1 to 128 characters")
	}
	for _, s := range spec.Scopes {
		if !auth.ValidScopeToken(s) {
			return nil, "", fmt.Errorf("identity: invalid scope %q", s)
		}
	}
	pepper, err := k.getPepper(ctx)
	if err != nil {
		return nil, "", err
	}
	idb := make([]byte, 10)
	_, _ = rand.Read(idb)
	sb := make([]byte, 32)
	_, _ = rand.Read(sb)
	id := idEncoding.EncodeToString(idb)
	secret := base64.RawURLEncoding.EncodeToString(sb)
	now := k.now()
	rec := &StoredAPIKey{
		ID: id, Name: spec.Name, Hash: hashSecret(pepper, secret),
		Subject: spec.Subject, Tenant: spec.Tenant, Groups: slices.Clone(spec.Groups), Scopes: slices.Clone(spec.Scopes),
		CreatedAt: now,
	}
	if rec.Subject == "" {
		rec.Subject = "key:" + spec.Name
	}
	if spec.TTL > 0 {
		rec.ExpiresAt = now.Add(spec.TTL)
	}
	if err := k.st.CreateAPIKey(ctx, rec); err != nil {
		return nil, "", err
	}
	return rec, APIKeyPrefix + id + "_" + secret, nil
}

// List returns every key (never their secrets, which are not stored).
func (k *Keys) List(ctx context.Context) ([]*StoredAPIKey, error) { return k.st.APIKeys(ctx) }

// Revoke revokes the key with that id or name: the next request with it
// fails.
func (k *Keys) Revoke(ctx context.Context, idOrName string) error {
	return k.st.RevokeAPIKey(ctx, idOrName, k.now())
}

// ParseAPIKey splits an API key into its id and secret. It checks only
// the shape.
func ParseAPIKey(tok string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(tok, APIKeyPrefix)
	if !ok {
		return "", "", errors.New("not an API key")
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 43 {
		return "", "", errors.New("malformed API key")
	}
	if _, err := idEncoding.DecodeString(id); err != nil {
		return "", "", errors.New("malformed API key id")
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", "", errors.New("malformed API key secret")
	}
	return id, secret, nil
}

// IsAPIKey reports whether tok looks like an API key.
func IsAPIKey(tok string) bool { return strings.HasPrefix(tok, APIKeyPrefix) }

// Check verifies an API key and returns its record: the secret must
// match, and the key must be neither revoked nor expired.
func (k *Keys) Check(ctx context.Context, tok string) (*StoredAPIKey, error) {
	id, secret, err := ParseAPIKey(tok)
	if err != nil {
		return nil, &auth.InvalidTokenError{Reason: err.Error()}
	}
	pepper, err := k.getPepper(ctx)
	if err != nil {
		return nil, err
	}
	rec, err := k.st.APIKey(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, &auth.InvalidTokenError{Reason: "unknown API key"}
	} else if err != nil {
		return nil, err
	}
	if !hmac.Equal(rec.Hash, hashSecret(pepper, secret)) {
		return nil, &auth.InvalidTokenError{Reason: "unknown API key"}
	}
	now := k.now()
	switch {
	case !rec.RevokedAt.IsZero():
		return nil, &auth.InvalidTokenError{Reason: "the API key was revoked"}
	case !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt):
		return nil, &auth.InvalidTokenError{Reason: "the API key expired"}
	}
	k.mu.Lock()
	touch := now.Sub(k.lastUsed[id]) > time.Minute
	if touch {
		k.lastUsed[id] = now
	}
	k.mu.Unlock()
	if touch {
		_ = k.st.TouchAPIKey(ctx, id, now)
	}
	return rec, nil
}

// Verifier returns an auth.Verifier that accepts API keys and hands any
// other token to next (nil: API keys only). An API key becomes a
// TokenInfo with the key's subject and scopes, client id "api-key:<id>",
// Grant [auth.GrantAPIKey], and tenant and groups claims.
func (k *Keys) Verifier(next auth.Verifier) auth.Verifier {
	return auth.VerifierFunc(func(ctx context.Context, tok string) (*auth.TokenInfo, error) {
		if !IsAPIKey(tok) {
			if next == nil {
				return nil, &auth.InvalidTokenError{Reason: "not an API key"}
			}
			return next.Verify(ctx, tok)
		}
		rec, err := k.Check(ctx, tok)
		if err != nil {
			return nil, err
		}
		return rec.TokenInfo(), nil
	})
}

// TokenInfo describes the key as the auth middleware describes tokens.
func (rec *StoredAPIKey) TokenInfo() *auth.TokenInfo {
	claims := map[string]any{ClaimAPIKey: rec.ID, "name": rec.Name, auth.GrantClaim: auth.GrantAPIKey}
	if rec.Tenant != "" {
		claims["tenant"] = rec.Tenant
	}
	if len(rec.Groups) > 0 {
		g := make([]any, len(rec.Groups))
		for i, s := range rec.Groups {
			g[i] = s
		}
		claims["groups"] = g
	}
	return &auth.TokenInfo{
		Subject:  rec.Subject,
		ClientID: "api-key:" + rec.ID,
		Scopes:   slices.Clone(rec.Scopes),
		Expiry:   rec.ExpiresAt,
		Grant:    auth.GrantAPIKey,
		Claims:   claims,
	}
}

// RequireAPIKey protects next with API keys alone (a gateway without an
// authorization server): every request needs "Authorization: Bearer
// sbk_…" of a live key, whose description reaches handlers through
// auth.TokenInfoFrom; the header itself does not.
func (k *Keys) RequireAPIKey(next http.Handler) http.Handler {
	v := k.Verifier(nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
			http.Error(w, "this endpoint needs an API key (Authorization: Bearer sbk_…)", http.StatusUnauthorized)
			return
		}
		info, err := v.Verify(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			if errors.Is(err, auth.ErrInvalidToken) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard", error="invalid_token"`)
				http.Error(w, "invalid API key", http.StatusUnauthorized)
				return
			}
			w.Header().Set("Retry-After", "5")
			http.Error(w, "API keys cannot be checked now", http.StatusServiceUnavailable)
			return
		}
		r = r.WithContext(auth.WithTokenInfo(r.Context(), info))
		r.Header = r.Header.Clone()
		r.Header.Del("Authorization")
		next.ServeHTTP(w, r)
	})
}
