package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
)

// newAuthClientsCmd is "switchboard auth-server clients": the
// administrator's view of the clients in the data directory.
func newAuthClientsCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "Provision, list and remove the authorization server's clients",
		Long: `Manage the clients kept in the data directory of "switchboard auth-server"
and "switchboard serve --auth" (the same --data-dir). A running server sees
the changes at once.

Machine clients (client_credentials: a program obtaining tokens on its own
behalf, with no person and no consent page) exist only when an
administrator adds them here; open registration never creates one.`,
		Example: `  switchboard auth-server clients add --name ci --scope mcp
  switchboard auth-server clients list
  switchboard auth-server clients remove sb-XXXXXXXX`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	dataDirFlag(cmd.PersistentFlags(), &dataDir)

	var name, method string
	var scopes []string
	add := &cobra.Command{
		Use:   "add",
		Short: "Provision a machine client (client_credentials) and print its secret once",
		Long: `Provision a confidential client for the client_credentials grant. Its id
and secret are printed once on standard output (id first, then secret);
only a digest of the secret is stored, so a lost secret means removing
the client and adding a new one. Tokens it obtains are marked
mcp_grant=client_credentials, with the client id as subject, and carry
only the scopes given here (all of them when the request names none).`,
		Example: `  switchboard auth-server clients add --name ci --scope mcp
  switchboard auth-server clients add --name nightly --scope mcp --scope files:read --data-dir /var/lib/switchboard`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(scopes) == 0 {
				return errors.New("--scope is required: the scopes the client may obtain")
			}
			db, err := openStore(cmd.Context(), dataDir, cmd.ErrOrStderr(), "auth-server clients")
			if err != nil {
				return err
			}
			defer db.Close()
			id, secret, err := authserver.ProvisionMachineClient(cmd.Context(), db.AuthServer(),
				authserver.MachineClient{Name: name, Scopes: scopes, AuthMethod: method})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "client_id: %s\nclient_secret: %s\n", id, secret)
			fmt.Fprintln(cmd.ErrOrStderr(), "The secret is shown only now; store it where the client can read it.")
			return nil
		},
	}
	add.Flags().StringVar(&name, "name", "", "what the client is (required)")
	add.Flags().StringArrayVar(&scopes, "scope", nil, "scope the client may obtain; repeatable (at least one)")
	add.Flags().StringVar(&method, "auth-method", "client_secret_basic", "token endpoint authentication: client_secret_basic or client_secret_post")
	_ = add.MarkFlagRequired("name")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the stored clients (machine clients and registrations)",
		Example: `  switchboard auth-server clients list
  switchboard auth-server clients list --json --data-dir /var/lib/switchboard`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := openStore(cmd.Context(), dataDir, cmd.ErrOrStderr(), "auth-server clients")
			if err != nil {
				return err
			}
			defer db.Close()
			clients, err := db.AuthServer().Clients(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				type row struct {
					ID        string    `json:"client_id"`
					Kind      string    `json:"kind"`
					Name      string    `json:"name,omitempty"`
					Grants    []string  `json:"grant_types"`
					Scopes    []string  `json:"scopes,omitempty"`
					Redirects []string  `json:"redirect_uris,omitempty"`
					Created   time.Time `json:"created_at"`
					Expires   time.Time `json:"expires_at,omitzero"`
				}
				rows := make([]row, 0, len(clients))
				for _, c := range clients {
					rows = append(rows, row{c.ID, string(c.Kind), c.Name, c.GrantTypes, c.Scopes, c.RedirectURIs, c.CreatedAt, c.ExpiresAt})
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT ID\tKIND\tNAME\tSCOPES\tCREATED\tEXPIRES")
			for _, c := range clients {
				sc := "(any)"
				if c.Scopes != nil {
					sc = auth.FormatScope(c.Scopes)
				}
				exp := "never"
				if !c.ExpiresAt.IsZero() {
					exp = c.ExpiresAt.UTC().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Kind, strings.ReplaceAll(c.Name, "\t", " "), sc,
					c.CreatedAt.UTC().Format(time.DateTime), exp)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "machine-readable output")

	remove := &cobra.Command{
		Use:   "remove CLIENT_ID...",
		Short: "Remove clients; their tokens stop working at once",
		Example: `  switchboard auth-server clients remove sb-XXXXXXXX
  switchboard auth-server clients list --json   # to find the ids`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openStore(cmd.Context(), dataDir, cmd.ErrOrStderr(), "auth-server clients")
			if err != nil {
				return err
			}
			defer db.Close()
			for _, id := range args {
				if err := db.AuthServer().DeleteClient(cmd.Context(), id); errors.Is(err, authserver.ErrNotFound) {
					return fmt.Errorf("no client %q", id)
				} else if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "removed %s\n", id)
			}
			return nil
		},
	}
	cmd.AddCommand(add, list, remove)
	return cmd
}
