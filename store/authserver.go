package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-mcp/switchboard/authserver"
)

// signingKeyLabel is the additional data sealed with the signing key.
const signingKeyLabel = "switchboard/authserver/signing-key"

// AuthServerStorage is the [authserver.Storage] of a [DB]: the embedded
// authorization server's state in the authserver_* tables. The signing
// key is sealed with the master key; client secrets and refresh tokens
// arrive as digests and are stored as such.
type AuthServerStorage struct{ db *DB }

var _ authserver.Storage = (*AuthServerStorage)(nil)

// AuthServer returns the DB's authorization server storage.
func (db *DB) AuthServer() *AuthServerStorage { return &AuthServerStorage{db: db} }

// millis converts a time to the stored form: Unix milliseconds, 0 for the
// zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// list encodes a string list as JSON; a nil list is NULL when nullable.
func list(v []string, nullable bool) any {
	if v == nil {
		if nullable {
			return nil
		}
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func unlist(s sql.NullString) ([]string, error) {
	if !s.Valid {
		return nil, nil
	}
	var v []string
	if err := json.Unmarshal([]byte(s.String), &v); err != nil {
		return nil, fmt.Errorf("store: malformed list: %w", err)
	}
	return v, nil
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return authserver.ErrNotFound
	}
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SigningKey implements [authserver.Storage].
func (s *AuthServerStorage) SigningKey(ctx context.Context) ([]byte, error) {
	var sealed []byte
	err := s.db.queryRow(ctx, `SELECT sealed FROM authserver_keys WHERE id = 'signing'`).Scan(&sealed)
	if err != nil {
		return nil, notFound(err)
	}
	return s.db.sealer.open(sealed, signingKeyLabel)
}

// CreateSigningKey implements [authserver.Storage].
func (s *AuthServerStorage) CreateSigningKey(ctx context.Context, pem []byte) ([]byte, error) {
	_, err := s.db.exec(ctx, `INSERT INTO authserver_keys (id, sealed, created_at) VALUES ('signing', ?, ?)
		ON CONFLICT (id) DO NOTHING`, s.db.sealer.seal(pem, signingKeyLabel), time.Now().UnixMilli())
	if err != nil {
		return nil, err
	}
	return s.SigningKey(ctx)
}

// CreateClient implements [authserver.Storage].
func (s *AuthServerStorage) CreateClient(ctx context.Context, c *authserver.StoredClient) error {
	res, err := s.db.exec(ctx, `INSERT INTO authserver_clients
		(id, kind, secret_hash, auth_method, name, uri, redirect_uris, grant_types, scopes, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		c.ID, string(c.Kind), c.SecretHash, c.AuthMethod, c.Name, c.URI,
		list(c.RedirectURIs, false), list(c.GrantTypes, false), list(c.Scopes, true),
		millis(c.CreatedAt), millis(c.ExpiresAt))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return authserver.ErrExists
	}
	return err
}

const clientColumns = `id, kind, secret_hash, auth_method, name, uri, redirect_uris, grant_types, scopes, created_at, expires_at`

func scanClient(row interface{ Scan(...any) error }) (*authserver.StoredClient, error) {
	var c authserver.StoredClient
	var kind string
	var redirects, grants, scopes sql.NullString
	var created, expires int64
	if err := row.Scan(&c.ID, &kind, &c.SecretHash, &c.AuthMethod, &c.Name, &c.URI, &redirects, &grants, &scopes, &created, &expires); err != nil {
		return nil, notFound(err)
	}
	c.Kind = authserver.ClientKind(kind)
	c.CreatedAt, c.ExpiresAt = fromMillis(created), fromMillis(expires)
	var err error
	if c.RedirectURIs, err = unlist(redirects); err != nil {
		return nil, err
	}
	if c.GrantTypes, err = unlist(grants); err != nil {
		return nil, err
	}
	if c.Scopes, err = unlist(scopes); err != nil {
		return nil, err
	}
	if len(c.SecretHash) == 0 {
		c.SecretHash = nil
	}
	return &c, nil
}

// Client implements [authserver.Storage].
func (s *AuthServerStorage) Client(ctx context.Context, id string) (*authserver.StoredClient, error) {
	return scanClient(s.db.queryRow(ctx, `SELECT `+clientColumns+` FROM authserver_clients WHERE id = ?`, id))
}

// Clients implements [authserver.Storage].
func (s *AuthServerStorage) Clients(ctx context.Context) ([]*authserver.StoredClient, error) {
	rows, err := s.db.query(ctx, `SELECT `+clientColumns+` FROM authserver_clients ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*authserver.StoredClient
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CountClients implements [authserver.Storage].
func (s *AuthServerStorage) CountClients(ctx context.Context, kind authserver.ClientKind) (int, error) {
	var n int
	err := s.db.queryRow(ctx, `SELECT count(*) FROM authserver_clients WHERE kind = ?`, string(kind)).Scan(&n)
	return n, err
}

// ExtendClient implements [authserver.Storage].
func (s *AuthServerStorage) ExtendClient(ctx context.Context, id string, until time.Time) error {
	res, err := s.db.exec(ctx, `UPDATE authserver_clients SET expires_at = ?
		WHERE id = ? AND expires_at <> 0 AND expires_at < ?`, millis(until), id, millis(until))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var one int
	return notFound(s.db.queryRow(ctx, `SELECT 1 FROM authserver_clients WHERE id = ?`, id).Scan(&one))
}

// DeleteClient implements [authserver.Storage].
func (s *AuthServerStorage) DeleteClient(ctx context.Context, id string) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.dialect.rebind(`DELETE FROM authserver_clients WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return authserver.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, s.db.dialect.rebind(`UPDATE authserver_grants SET revoked = 1, refresh_hash = NULL WHERE client_id = ?`), id)
		return err
	})
}

// PutGrant implements [authserver.Storage].
func (s *AuthServerStorage) PutGrant(ctx context.Context, g *authserver.StoredGrant) error {
	_, err := s.db.exec(ctx, `INSERT INTO authserver_grants
		(id, client_id, subject, grant_type, scopes, resource, binding, revoked, refresh_hash, expires_at, claims)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id, subject = excluded.subject,
			grant_type = excluded.grant_type, scopes = excluded.scopes, resource = excluded.resource,
			binding = excluded.binding, revoked = excluded.revoked, refresh_hash = excluded.refresh_hash,
			expires_at = excluded.expires_at, claims = excluded.claims`,
		g.ID, g.ClientID, g.Subject, g.GrantType, list(g.Scopes, false), g.Resource, g.Binding,
		boolInt(g.Revoked), g.RefreshHash, millis(g.ExpiresAt), claimsJSON(g.Claims))
	return err
}

// Grant implements [authserver.Storage].
func (s *AuthServerStorage) Grant(ctx context.Context, id string) (*authserver.StoredGrant, error) {
	var g authserver.StoredGrant
	var scopes sql.NullString
	var revoked int
	var expires int64
	var claims sql.NullString
	err := s.db.queryRow(ctx, `SELECT id, client_id, subject, grant_type, scopes, resource, binding, revoked, refresh_hash, expires_at, claims
		FROM authserver_grants WHERE id = ?`, id).
		Scan(&g.ID, &g.ClientID, &g.Subject, &g.GrantType, &scopes, &g.Resource, &g.Binding, &revoked, &g.RefreshHash, &expires, &claims)
	if err != nil {
		return nil, notFound(err)
	}
	if claims.Valid && claims.String != "" {
		if err := json.Unmarshal([]byte(claims.String), &g.Claims); err != nil {
			return nil, fmt.Errorf("store: malformed grant claims: %w", err)
		}
	}
	if g.Scopes, err = unlist(scopes); err != nil {
		return nil, err
	}
	if len(g.Scopes) == 0 {
		g.Scopes = nil
	}
	if len(g.RefreshHash) == 0 {
		g.RefreshHash = nil
	}
	g.Revoked, g.ExpiresAt = revoked != 0, fromMillis(expires)
	return &g, nil
}

// PutRefreshToken implements [authserver.Storage].
func (s *AuthServerStorage) PutRefreshToken(ctx context.Context, t *authserver.StoredRefreshToken) error {
	_, err := s.db.exec(ctx, `INSERT INTO authserver_refresh_tokens (hash, grant_id, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET grant_id = excluded.grant_id, expires_at = excluded.expires_at`,
		t.Hash, t.GrantID, millis(t.ExpiresAt))
	return err
}

// RefreshToken implements [authserver.Storage].
func (s *AuthServerStorage) RefreshToken(ctx context.Context, hash []byte) (*authserver.StoredRefreshToken, error) {
	t := authserver.StoredRefreshToken{}
	var expires int64
	err := s.db.queryRow(ctx, `SELECT hash, grant_id, expires_at FROM authserver_refresh_tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &t.GrantID, &expires)
	if err != nil {
		return nil, notFound(err)
	}
	t.ExpiresAt = fromMillis(expires)
	return &t, nil
}

// PutAccessToken implements [authserver.Storage].
func (s *AuthServerStorage) PutAccessToken(ctx context.Context, t *authserver.StoredAccessToken) error {
	_, err := s.db.exec(ctx, `INSERT INTO authserver_access_tokens (jti, grant_id, revoked, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (jti) DO UPDATE SET grant_id = excluded.grant_id, revoked = excluded.revoked, expires_at = excluded.expires_at`,
		t.JTI, t.GrantID, boolInt(t.Revoked), millis(t.ExpiresAt))
	return err
}

// AccessToken implements [authserver.Storage].
func (s *AuthServerStorage) AccessToken(ctx context.Context, jti string) (*authserver.StoredAccessToken, error) {
	t := authserver.StoredAccessToken{}
	var revoked int
	var expires int64
	err := s.db.queryRow(ctx, `SELECT jti, grant_id, revoked, expires_at FROM authserver_access_tokens WHERE jti = ?`, jti).
		Scan(&t.JTI, &t.GrantID, &revoked, &expires)
	if err != nil {
		return nil, notFound(err)
	}
	t.Revoked, t.ExpiresAt = revoked != 0, fromMillis(expires)
	return &t, nil
}

// RevokeBinding implements [authserver.Storage].
func (s *AuthServerStorage) RevokeBinding(ctx context.Context, binding string, expiresAt time.Time) (int, error) {
	var n int64
	err := s.db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.dialect.rebind(`INSERT INTO authserver_revoked_bindings (binding, expires_at) VALUES (?, ?)
			ON CONFLICT (binding) DO UPDATE SET expires_at = excluded.expires_at`), binding, millis(expiresAt)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.db.dialect.rebind(`UPDATE authserver_grants SET revoked = 1, refresh_hash = NULL
			WHERE binding = ? AND revoked = 0`), binding)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// BindingRevoked implements [authserver.Storage].
func (s *AuthServerStorage) BindingRevoked(ctx context.Context, binding string) (bool, error) {
	var one int
	err := s.db.queryRow(ctx, `SELECT 1 FROM authserver_revoked_bindings WHERE binding = ?`, binding).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// DeleteExpired implements [authserver.Storage].
func (s *AuthServerStorage) DeleteExpired(ctx context.Context, now time.Time) error {
	ms := millis(now)
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM authserver_clients WHERE expires_at <> 0 AND expires_at <= ?`,
			`DELETE FROM authserver_grants WHERE expires_at <= ?`,
			`DELETE FROM authserver_refresh_tokens WHERE expires_at <= ?`,
			`DELETE FROM authserver_access_tokens WHERE expires_at <= ?`,
			`DELETE FROM authserver_revoked_bindings WHERE expires_at <= ?`,
		} {
			if _, err := tx.ExecContext(ctx, s.db.dialect.rebind(q), ms); err != nil {
				return err
			}
		}
		return nil
	})
}

// claimsJSON encodes a grant's extra claims; nil is NULL.
func claimsJSON(c map[string]any) any {
	if len(c) == 0 {
		return nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil
	}
	return string(b)
}
