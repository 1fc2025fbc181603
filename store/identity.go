package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/switchboard-mcp/switchboard/identity"
)

// IdentityStorage is the [identity.Storage] of a [DB]: API keys (as
// peppered digests), data keys (sealed under the master key) and the
// vault's sealed secrets, in the identity_* tables.
type IdentityStorage struct{ db *DB }

var _ identity.Storage = (*IdentityStorage)(nil)

// Identity returns the DB's identity storage.
func (db *DB) Identity() *IdentityStorage { return &IdentityStorage{db: db} }

func idNotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return identity.ErrNotFound
	}
	return err
}

// SealWithMaster implements [identity.Storage].
func (s *IdentityStorage) SealWithMaster(plaintext []byte, label string) []byte {
	return s.db.sealer.seal(plaintext, label)
}

// OpenWithMaster implements [identity.Storage].
func (s *IdentityStorage) OpenWithMaster(sealed []byte, label string) ([]byte, error) {
	return s.db.sealer.open(sealed, label)
}

// DataKeys implements [identity.Storage].
func (s *IdentityStorage) DataKeys(ctx context.Context) ([]*identity.StoredDataKey, error) {
	rows, err := s.db.query(ctx, `SELECT id, sealed, created_at, retired_at FROM identity_data_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*identity.StoredDataKey
	for rows.Next() {
		var k identity.StoredDataKey
		var c, r int64
		if err := rows.Scan(&k.ID, &k.Sealed, &c, &r); err != nil {
			return nil, err
		}
		k.CreatedAt, k.RetiredAt = fromMillis(c), fromMillis(r)
		out = append(out, &k)
	}
	return out, rows.Err()
}

// CreateDataKey implements [identity.Storage].
func (s *IdentityStorage) CreateDataKey(ctx context.Context, k *identity.StoredDataKey) error {
	_, err := s.db.exec(ctx, `INSERT INTO identity_data_keys (id, sealed, created_at, retired_at) VALUES (?, ?, ?, ?)`,
		k.ID, k.Sealed, max(millis(k.CreatedAt), 1), millis(k.RetiredAt))
	return err
}

// RetireDataKey implements [identity.Storage].
func (s *IdentityStorage) RetireDataKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.exec(ctx, `UPDATE identity_data_keys SET retired_at = ? WHERE id = ? AND retired_at = 0`, max(millis(at), 1), id)
	return err
}

// DeleteDataKey implements [identity.Storage].
func (s *IdentityStorage) DeleteDataKey(ctx context.Context, id string) error {
	_, err := s.db.exec(ctx, `DELETE FROM identity_data_keys WHERE id = ? AND NOT EXISTS (SELECT 1 FROM identity_secrets WHERE key_id = ?)`, id, id)
	return err
}

// PutSecret implements [identity.Storage].
func (s *IdentityStorage) PutSecret(ctx context.Context, sec *identity.StoredSecret) error {
	_, err := s.db.exec(ctx, `INSERT INTO identity_secrets (name, key_id, sealed, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, updated_at = excluded.updated_at`,
		sec.Name, sec.KeyID, sec.Sealed, millis(sec.UpdatedAt))
	return err
}

// Secret implements [identity.Storage].
func (s *IdentityStorage) Secret(ctx context.Context, name string) (*identity.StoredSecret, error) {
	var sec identity.StoredSecret
	var u int64
	err := s.db.queryRow(ctx, `SELECT name, key_id, sealed, updated_at FROM identity_secrets WHERE name = ?`, name).
		Scan(&sec.Name, &sec.KeyID, &sec.Sealed, &u)
	if err != nil {
		return nil, idNotFound(err)
	}
	sec.UpdatedAt = fromMillis(u)
	return &sec, nil
}

// SecretNames implements [identity.Storage].
func (s *IdentityStorage) SecretNames(ctx context.Context, prefix string) ([]string, error) {
	rows, err := s.db.query(ctx, `SELECT name FROM identity_secrets ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

// CountSecretsSealedWith implements [identity.Storage].
func (s *IdentityStorage) CountSecretsSealedWith(ctx context.Context, keyID string) (int, error) {
	var n int
	err := s.db.queryRow(ctx, `SELECT COUNT(*) FROM identity_secrets WHERE key_id = ?`, keyID).Scan(&n)
	return n, err
}

// SwapSecret implements [identity.Storage].
func (s *IdentityStorage) SwapSecret(ctx context.Context, old, sec *identity.StoredSecret) (bool, error) {
	swapped := false
	err := s.db.tx(ctx, func(tx *sql.Tx) error {
		var keyID string
		var sealed []byte
		err := tx.QueryRowContext(ctx, s.db.dialect.rebind(`SELECT key_id, sealed FROM identity_secrets WHERE name = ?`), sec.Name).Scan(&keyID, &sealed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if old != nil {
				return nil
			}
		case err != nil:
			return err
		case old == nil || old.KeyID != keyID || !bytes.Equal(old.Sealed, sealed):
			return nil
		}
		_, err = tx.ExecContext(ctx, s.db.dialect.rebind(`INSERT INTO identity_secrets (name, key_id, sealed, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, updated_at = excluded.updated_at`),
			sec.Name, sec.KeyID, sec.Sealed, millis(sec.UpdatedAt))
		swapped = err == nil
		return err
	})
	return swapped, err
}

// DeleteSecret implements [identity.Storage].
func (s *IdentityStorage) DeleteSecret(ctx context.Context, name string) error {
	_, err := s.db.exec(ctx, `DELETE FROM identity_secrets WHERE name = ?`, name)
	return err
}

const apiKeyColumns = `id, name, hash, subject, tenant, groups_json, scopes, created_at, expires_at, revoked_at, last_used`

func scanAPIKey(row interface{ Scan(...any) error }) (*identity.StoredAPIKey, error) {
	var k identity.StoredAPIKey
	var groups, scopes sql.NullString
	var c, e, r, l int64
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &k.Subject, &k.Tenant, &groups, &scopes, &c, &e, &r, &l); err != nil {
		return nil, idNotFound(err)
	}
	var err error
	if k.Groups, err = unlist(groups); err != nil {
		return nil, err
	}
	if k.Scopes, err = unlist(scopes); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsed = fromMillis(c), fromMillis(e), fromMillis(r), fromMillis(l)
	return &k, nil
}

// CreateAPIKey implements [identity.Storage].
func (s *IdentityStorage) CreateAPIKey(ctx context.Context, k *identity.StoredAPIKey) error {
	res, err := s.db.exec(ctx, `INSERT INTO identity_api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		k.ID, k.Name, k.Hash, k.Subject, k.Tenant, list(k.Groups, false), list(k.Scopes, false),
		millis(k.CreatedAt), millis(k.ExpiresAt), millis(k.RevokedAt), millis(k.LastUsed))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return identity.ErrExists
	}
	return err
}

// APIKey implements [identity.Storage].
func (s *IdentityStorage) APIKey(ctx context.Context, id string) (*identity.StoredAPIKey, error) {
	return scanAPIKey(s.db.queryRow(ctx, `SELECT `+apiKeyColumns+` FROM identity_api_keys WHERE id = ?`, id))
}

// APIKeys implements [identity.Storage].
func (s *IdentityStorage) APIKeys(ctx context.Context) ([]*identity.StoredAPIKey, error) {
	rows, err := s.db.query(ctx, `SELECT `+apiKeyColumns+` FROM identity_api_keys ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*identity.StoredAPIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey implements [identity.Storage].
func (s *IdentityStorage) RevokeAPIKey(ctx context.Context, idOrName string, at time.Time) error {
	res, err := s.db.exec(ctx, `UPDATE identity_api_keys SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at = 0`, max(millis(at), 1), idOrName, idOrName)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		if _, err := s.APIKey(ctx, idOrName); err == nil {
			return nil // already revoked
		}
		var id string
		if err := s.db.queryRow(ctx, `SELECT id FROM identity_api_keys WHERE name = ?`, idOrName).Scan(&id); err == nil {
			return nil
		}
		return identity.ErrNotFound
	}
	return err
}

// TouchAPIKey implements [identity.Storage].
func (s *IdentityStorage) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.exec(ctx, `UPDATE identity_api_keys SET last_used = ? WHERE id = ?`, millis(at), id)
	return err
}
