package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/gateway/upstreamauth"
	"github.com/switchboard-mcp/switchboard/identity"
	"github.com/switchboard-mcp/switchboard/store"
)

// newKeysCmd is "switchboard keys": API keys for machines and the
// rotation of the keys that seal secrets at rest.
func newKeysCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list and revoke API keys; rotate the keys that seal secrets",
		Example: `  switchboard keys create ci --scope mcp
  switchboard keys list
  switchboard keys revoke ci
  switchboard keys rotate`,
		Long: `API keys let machines call the gateway without OAuth: "Authorization:
Bearer sbk_…". Each key has a name, a subject, a tenant, groups, scopes and
an optional expiry; only a peppered HMAC of its secret is stored, so the
key is printed once, at creation. A running gateway on the same data
directory (--data-dir) sees new and revoked keys at once.

"keys rotate" makes a new data key and seals every secret at rest again
under it (upstream tokens of the vault, client secrets, the API keys'
pepper) while gateways keep running.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	dataDirFlag(cmd.PersistentFlags(), &dataDir)
	var lastDB *store.DB
	open := func(cmd *cobra.Command) (*identity.Keys, *identity.Vault, func(), error) {
		db, err := openStore(cmd.Context(), dataDir, cmd.ErrOrStderr(), "keys")
		if err != nil {
			return nil, nil, nil, err
		}
		v, err := identity.NewVault(cmd.Context(), db.Identity())
		if err != nil {
			db.Close()
			return nil, nil, nil, err
		}
		lastDB = db
		return identity.NewKeys(db.Identity(), v), v, func() { db.Close() }, nil
	}

	var rotateMaster bool
	var masterOut string
	var spec identity.APIKeySpec
	var asJSON bool
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API key and print it once",
		Example: `  switchboard keys create ci --scope mcp --tenant acme --group builders --ttl 720h
  TOKEN=$(switchboard keys create nightly --scope mcp 2>/dev/null)`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, _, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			spec.Name = args[0]
			rec, tok, err := keys.Create(cmd.Context(), spec)
			if errors.Is(err, identity.ErrExists) {
				return fmt.Errorf("a key named %q exists; revoke it or choose another name", args[0])
			} else if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"id": rec.ID, "name": rec.Name, "key": tok, "subject": rec.Subject, "expiresAt": rec.ExpiresAt})
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "switchboard keys: created %s (id %s, subject %s); the key is shown once:\n", rec.Name, rec.ID, rec.Subject)
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	create.Flags().StringVar(&spec.Subject, "subject", "", `who the key acts as (default "key:NAME")`)
	create.Flags().StringVar(&spec.Tenant, "tenant", "", "the tenant the key acts for")
	create.Flags().StringSliceVar(&spec.Groups, "group", nil, "a group of the key's identity (repeat)")
	create.Flags().StringSliceVar(&spec.Scopes, "scope", nil, "a scope the key grants (repeat)")
	create.Flags().DurationVar(&spec.TTL, "ttl", 0, "lifetime (default: no expiry)")
	create.Flags().BoolVar(&asJSON, "json", false, "print the key and its record as JSON")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the API keys (never their secrets)",
		Example: `  switchboard keys list
  switchboard keys list --data-dir /var/lib/switchboard`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keys, _, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			ks, err := keys.List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]map[string]any, 0, len(ks))
				for _, k := range ks {
					out = append(out, map[string]any{"id": k.ID, "name": k.Name, "subject": k.Subject, "tenant": k.Tenant,
						"groups": k.Groups, "scopes": k.Scopes, "createdAt": k.CreatedAt, "expiresAt": k.ExpiresAt,
						"revokedAt": k.RevokedAt, "lastUsed": k.LastUsed, "state": keyState(k)})
				}
				return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tID\tSUBJECT\tTENANT\tSCOPES\tSTATE\tEXPIRES\tLAST USED")
			for _, k := range ks {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\t%s\t%s\n", k.Name, k.ID, k.Subject, orText(k.Tenant, "-"), k.Scopes, keyState(k), when(k.ExpiresAt), when(k.LastUsed))
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	revoke := &cobra.Command{
		Use:   "revoke ID|NAME",
		Short: "Revoke an API key: the next request with it fails",
		Example: `  switchboard keys revoke ci
  switchboard keys revoke 7f3k2m9q`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, _, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := keys.Revoke(cmd.Context(), args[0]); errors.Is(err, identity.ErrNotFound) {
				return fmt.Errorf("no key %q", args[0])
			} else if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "switchboard keys: revoked %s\n", args[0])
			return nil
		},
	}

	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Seal every secret at rest under a new data key, without downtime",
		Long: `Make a new data key (sealed under the master key from $SWITCHBOARD_MASTER_KEY
or master.key), make it the key that seals new secrets, and seal every
stored secret again under it. Running gateways keep serving: each secret
is swapped atomically and a gateway meeting the new key loads it. The
previous data keys are retired, kept readable for a minute, and deleted
by a later rotation once no secret uses them.

With --master, the master key is rotated first: a new one is generated,
everything sealed under the master key (the data keys, the authorization
server's signing key) is sealed again under it in one transaction, and,
when the key is the data directory's master.key, the file is replaced
(running gateways read it again when they need to). When the key comes
from $SWITCHBOARD_MASTER_KEY, --master-key-out FILE receives the new key:
set it in the environment of every gateway before their next start.`,
		Example: `  switchboard keys rotate
  switchboard keys rotate --master
  SWITCHBOARD_MASTER_KEY=… switchboard keys rotate --master --master-key-out /run/secrets/new-master-key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, inEnv := os.LookupEnv(store.MasterKeyEnv); rotateMaster && inEnv && masterOut == "" {
				return fmt.Errorf("the master key comes from $%s: give --master-key-out FILE to receive the new one", store.MasterKeyEnv)
			}
			_, v, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			if rotateMaster {
				key := store.NewMasterKey()
				if masterOut != "" {
					if err := os.WriteFile(masterOut, []byte(key+"\n"), 0o600); err != nil {
						return err
					}
				}
				mr, err := lastDB.RotateMasterKey(cmd.Context(), key)
				if err != nil {
					return err
				}
				where := masterOut
				if mr.FileUpdated {
					where = filepath.Join(lastDB.Dir(), store.MasterKeyFile)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "switchboard keys: new master key in %s; %d values sealed again under it\n", where, mr.Resealed)
			}
			rep, err := v.Rotate(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new data key %s; %d secrets sealed again; retired %v; deleted %v\n", rep.NewKey, rep.Resealed, rep.Retired, rep.Deleted)
			return nil
		},
	}
	rotate.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rotate.Flags().BoolVar(&rotateMaster, "master", false, "rotate the master key too")
	rotate.Flags().StringVar(&masterOut, "master-key-out", "", "with --master and a master key from the environment: the file that receives the new key (mode 0600)")

	secret := &cobra.Command{
		Use:   "secret set|list|delete [NAME]",
		Short: `Keep configuration secrets sealed in the vault ("clientSecret": "vault:NAME")`,
		Long: `Client secrets of the upstreams' credential modes and of SSO can be kept in
the vault instead of the environment: "switchboard keys secret set NAME"
reads the value from standard input and seals it; the configuration names
it as "vault:NAME" (for example "clientSecret": "vault:jira"). Such
secrets are sealed again by "keys rotate" like every other.`,
		Example: `  printf %s "$JIRA_SECRET" | switchboard keys secret set jira
  switchboard keys secret list
  switchboard keys secret delete jira`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, v, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			ctx := cmd.Context()
			switch {
			case args[0] == "list" && len(args) == 1:
				names, err := v.Names(ctx, upstreamauth.VaultConfigName(""))
				if err != nil {
					return err
				}
				for _, n := range names {
					fmt.Fprintln(cmd.OutOrStdout(), upstreamauth.VaultRefPrefix+strings.TrimPrefix(n, upstreamauth.VaultConfigName("")))
				}
				return nil
			case args[0] == "set" && len(args) == 2:
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 64<<10))
				if err != nil {
					return err
				}
				val := strings.TrimRight(string(b), "\r\n")
				if val == "" {
					return errors.New("no value on standard input")
				}
				if err := v.Put(ctx, upstreamauth.VaultConfigName(args[1]), []byte(val)); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "switchboard keys: sealed %s%s\n", upstreamauth.VaultRefPrefix, args[1])
				return nil
			case args[0] == "delete" && len(args) == 2:
				return v.Delete(ctx, upstreamauth.VaultConfigName(args[1]))
			}
			return fmt.Errorf("usage: %s", cmd.Use)
		},
	}
	cmd.AddCommand(create, list, revoke, rotate, secret)
	return cmd
}

func keyState(k *identity.StoredAPIKey) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case !k.ExpiresAt.IsZero() && !time.Now().Before(k.ExpiresAt):
		return "expired"
	}
	return "active"
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
