package authserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
)

// MachineClient describes a client an administrator provisions for the
// client_credentials grant: a program that obtains tokens on its own
// behalf, with no person and no consent page. Open registration never
// creates such clients.
type MachineClient struct {
	// Name says what the client is (shown by "clients list").
	Name string
	// Scopes are the scopes the client may obtain (at least one); a
	// token request without a scope gets all of them.
	Scopes []string
	// AuthMethod is "client_secret_basic" (default) or
	// "client_secret_post".
	AuthMethod string
}

// ProvisionMachineClient stores a new confidential client for the
// client_credentials grant in st and returns its ID and secret. Only the
// secret's SHA-256 digest is stored: show the secret to the administrator
// once; a lost secret means removing the client and provisioning a new
// one.
func ProvisionMachineClient(ctx context.Context, st Storage, m MachineClient) (id, secret string, err error) {
	if m.Name == "" || len(m.Name) > maxMetadataString {
		return "", "", errors.New("authserver: a machine client needs a name (at most 2048 bytes)")
	}
	if len(m.Scopes) == 0 {
		return "", "", errors.New("authserver: a machine client needs at least one scope")
	}
	for _, sc := range m.Scopes {
		if !auth.ValidScopeToken(sc) {
			return "", "", fmt.Errorf("authserver: invalid scope %q", sc)
		}
	}
	switch m.AuthMethod {
	case "":
		m.AuthMethod = "client_secret_basic"
	case "client_secret_basic", "client_secret_post":
	default:
		return "", "", fmt.Errorf("authserver: unsupported auth method %q", m.AuthMethod)
	}
	id = "sb-m-" + randomToken(12)
	secret = randomToken(32)
	h := hashOf(secret)
	c := &StoredClient{
		ID:         id,
		Kind:       ClientMachine,
		SecretHash: h[:],
		AuthMethod: m.AuthMethod,
		Name:       m.Name,
		GrantTypes: []string{"client_credentials"},
		Scopes:     slices.Compact(slices.Clone(m.Scopes)),
		CreatedAt:  time.Now(),
	}
	if err := st.CreateClient(ctx, c); err != nil {
		return "", "", fmt.Errorf("authserver: storing the client: %w", err)
	}
	return id, secret, nil
}
