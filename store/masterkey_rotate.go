package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/switchboard-mcp/switchboard/identity"
)

// masterKeyNext is where a master key rotation writes the new key before
// it re-seals anything, and which it renames to master.key when done.
const masterKeyNext = MasterKeyFile + ".next"

// masterKeysInDir reads master.key and, when a rotation is under way or
// was interrupted, master.key.next: the current key first.
func masterKeysInDir(dir string) ([][]byte, error) {
	var keys [][]byte
	for _, name := range []string{MasterKeyFile, masterKeyNext} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) && name == masterKeyNext {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := checkPrivate(path); err != nil {
			return nil, err
		}
		k, err := decodeKey(string(data))
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", path, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// MasterKeyRotation says what [DB.RotateMasterKey] did.
type MasterKeyRotation struct {
	// Resealed counts the values sealed again under the new key (the
	// authorization server's signing key, the identity data keys).
	Resealed int
	// FileUpdated reports that the data directory's master.key now holds
	// the new key. When it is false the key came from
	// $SWITCHBOARD_MASTER_KEY (or Options): set the new one there before
	// the next start.
	FileUpdated bool
}

// NewMasterKey returns 32 random bytes, base64-encoded as the master key
// file and $SWITCHBOARD_MASTER_KEY hold them.
func NewMasterKey() string {
	k := make([]byte, masterKeySize)
	_, _ = rand.Read(k) // never fails (crypto/rand)
	return base64.StdEncoding.EncodeToString(k)
}

// RotateMasterKey seals every value sealed under the master key (the
// authorization server's signing key, the identity data keys, which in
// turn seal the vault's secrets) again under newKey (base64 of 32 bytes),
// in one transaction. With the key in the data directory's master.key,
// the new key is first written to master.key.next (so an interrupted
// rotation loses nothing: both files are read at the next start) and then
// replaces master.key; running servers on the same directory read the
// file again when they meet a value sealed under a key they do not hold,
// so they need no restart.
func (db *DB) RotateMasterKey(ctx context.Context, newKey string) (*MasterKeyRotation, error) {
	key, err := decodeKey(newKey)
	if err != nil {
		return nil, fmt.Errorf("store: the new master key: %w", err)
	}
	ns, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	next := filepath.Join(db.dir, masterKeyNext)
	if db.keyFromFile {
		if err := writeKeyFile(next, newKey); err != nil {
			return nil, err
		}
	}
	if err := db.sealer.add(key, false); err != nil {
		return nil, err
	}
	rep := &MasterKeyRotation{}
	err = db.tx(ctx, func(tx *sql.Tx) error {
		type row struct {
			table, id, label string
			sealed           []byte
		}
		var rows []row
		for _, q := range []struct{ table, label string }{{"authserver_keys", ""}, {"identity_data_keys", "data"}} {
			rs, err := tx.QueryContext(ctx, db.dialect.rebind(`SELECT id, sealed FROM `+q.table))
			if err != nil {
				return err
			}
			for rs.Next() {
				r := row{table: q.table}
				if err := rs.Scan(&r.id, &r.sealed); err != nil {
					rs.Close()
					return err
				}
				r.label = signingKeyLabel
				if q.label == "data" {
					r.label = identity.DataKeyLabel(r.id)
				} else if r.id != "signing" {
					r.label = ""
				}
				rows = append(rows, r)
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return err
			}
		}
		for _, r := range rows {
			if r.label == "" {
				continue
			}
			pt, err := db.sealer.open(r.sealed, r.label)
			if err != nil {
				return fmt.Errorf("store: %s %s: %w", r.table, r.id, err)
			}
			if _, err := tx.ExecContext(ctx, db.dialect.rebind(`UPDATE `+r.table+` SET sealed = ? WHERE id = ?`), ns.seal(pt, r.label), r.id); err != nil {
				return err
			}
			rep.Resealed++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := db.sealer.add(key, true); err != nil {
		return nil, err
	}
	if db.keyFromFile {
		if err := os.Rename(next, filepath.Join(db.dir, MasterKeyFile)); err != nil {
			return rep, fmt.Errorf("store: installing the new master key (it is in %s): %w", next, err)
		}
		rep.FileUpdated = true
	}
	return rep, nil
}

// writeKeyFile writes a key file with mode 0600, replacing one there.
func writeKeyFile(path, b64 string) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("store: writing the new master key: %w", err)
	}
	_, err = f.WriteString(b64 + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: writing the new master key: %w", err)
	}
	return nil
}
