package authserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"encoding/json"
	"github.com/go-jose/go-jose/v4"
)

// GenerateSigningKey returns a new key for alg: "ES256" (P-256) or
// "RS256" (2048-bit RSA).
func GenerateSigningKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "", "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("authserver: unsupported signing algorithm %q (ES256 or RS256)", alg)
}

// LoadSigningKey reads a PEM private key from path: PKCS #8 ("PRIVATE
// KEY"), PKCS #1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY").
func LoadSigningKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSigningKey(data)
}

// ParseSigningKey parses a PEM private key (see [LoadSigningKey]).
func ParseSigningKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("authserver: no PEM block in signing key")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("authserver: unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("authserver: parsing signing key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("authserver: unsupported key type %T", key)
	}
	return signer, nil
}

// MarshalSigningKey encodes key as a PKCS #8 PEM block, the format
// [LoadSigningKey] reads.
func MarshalSigningKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// storageKeyTimeout bounds reading or creating the stored signing key at
// start.
const storageKeyTimeout = 30 * time.Second

// storedSigningKey returns the signing key kept in the Storage, generating
// and storing one for alg on first use.
func (s *Server) storedSigningKey(alg string) (crypto.Signer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), storageKeyTimeout)
	defer cancel()
	pemKey, err := s.store.SigningKey(ctx)
	if errors.Is(err, ErrNotFound) {
		key, err := GenerateSigningKey(alg)
		if err != nil {
			return nil, err
		}
		fresh, err := MarshalSigningKey(key)
		if err != nil {
			return nil, err
		}
		if pemKey, err = s.store.CreateSigningKey(ctx, fresh); err != nil {
			return nil, fmt.Errorf("authserver: storing the signing key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("authserver: reading the stored signing key: %w", err)
	}
	return ParseSigningKey(pemKey)
}

// initKeys sets up the signer and the published JWKS.
func (s *Server) initKeys() error {
	key := s.opts.SigningKey
	alg := s.opts.Algorithm
	if key == nil {
		var err error
		if key, err = s.storedSigningKey(alg); err != nil {
			return err
		}
		alg = "" // Algorithm chose the stored key's type when it was made; the key decides now
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if alg != "" && alg != "ES256" {
			return fmt.Errorf("authserver: an EC key signs ES256, not %s", alg)
		}
		if k.Curve != elliptic.P256() {
			return errors.New("authserver: ES256 needs a P-256 key")
		}
		s.alg = jose.ES256
	case *rsa.PrivateKey:
		if alg != "" && alg != "RS256" {
			return fmt.Errorf("authserver: an RSA key signs RS256, not %s", alg)
		}
		if k.N.BitLen() < 2048 {
			return errors.New("authserver: RSA signing keys must have 2048 bits or more")
		}
		s.alg = jose.RS256
	default:
		return fmt.Errorf("authserver: unsupported signing key type %T (RSA or P-256 ECDSA)", key)
	}
	pub := jose.JSONWebKey{Key: key.Public(), Algorithm: string(s.alg), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("authserver: key thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	s.pub = pub
	s.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: key},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader(jose.HeaderKey("kid"), pub.KeyID))
	if err != nil {
		return fmt.Errorf("authserver: %w", err)
	}
	s.jwksDoc, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	return err
}

// PublicKey returns the key id and public key that verify the server's
// access tokens.
func (s *Server) PublicKey() (kid string, key crypto.PublicKey) {
	return s.pub.KeyID, s.pub.Key
}
