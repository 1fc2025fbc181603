package oauthclient

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// ParsePrivateKeyPEM parses a PEM-encoded private key for private_key_jwt
// client authentication: PKCS #8 ("PRIVATE KEY"), SEC 1 ("EC PRIVATE
// KEY") or PKCS #1 ("RSA PRIVATE KEY"). RSA, ECDSA (P-256, P-384, P-521)
// and Ed25519 keys are supported.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("oauthclient: no PEM block in private key")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("oauthclient: unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("oauthclient: private key: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return k.(crypto.Signer), nil
	}
	return nil, fmt.Errorf("oauthclient: unsupported private key type %T", key)
}

// signingAlgs returns the JWS algorithms key can sign with, preferred
// first.
func signingAlgs(key crypto.Signer) []string {
	switch k := key.Public().(type) {
	case *rsa.PublicKey:
		return []string{"RS256", "PS256", "RS384", "RS512"}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}
		case elliptic.P384():
			return []string{"ES384"}
		case elliptic.P521():
			return []string{"ES512"}
		}
	case ed25519.PublicKey:
		return []string{"EdDSA"}
	}
	return nil
}

// chooseAlg picks the algorithm to sign with: want if set (it must suit
// the key), else the key's preferred algorithm among those the server
// supports (any, when the server lists none).
func chooseAlg(key crypto.Signer, want string, supported []string) (string, error) {
	algs := signingAlgs(key)
	if len(algs) == 0 {
		return "", fmt.Errorf("oauthclient: unsupported signing key %T", key.Public())
	}
	if want != "" {
		if !slices.Contains(algs, want) {
			return "", fmt.Errorf("oauthclient: signing algorithm %s does not suit the key", want)
		}
		return want, nil
	}
	if len(supported) == 0 {
		return algs[0], nil
	}
	for _, a := range algs {
		if slices.Contains(supported, a) {
			return a, nil
		}
	}
	return "", fmt.Errorf("oauthclient: the authorization server accepts none of the key's algorithms %v (it lists %v)", algs, supported)
}

// signJWT produces a compact JWS of claims.
func signJWT(key crypto.Signer, alg, kid, typ string, claims map[string]any) (string, error) {
	header := map[string]string{"alg": alg}
	if typ != "" {
		header["typ"] = typ
	}
	if kid != "" {
		header["kid"] = kid
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sig, err := jwsSign(key, alg, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func jwsSign(key crypto.Signer, alg string, input []byte) ([]byte, error) {
	var h crypto.Hash
	switch alg {
	case "RS256", "PS256", "ES256":
		h = crypto.SHA256
	case "RS384", "ES384":
		h = crypto.SHA384
	case "RS512", "ES512":
		h = crypto.SHA512
	case "EdDSA":
		return key.Sign(rand.Reader, input, crypto.Hash(0))
	default:
		return nil, fmt.Errorf("oauthclient: unsupported JWS algorithm %s", alg)
	}
	var digest []byte
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(input)
		digest = d[:]
	case crypto.SHA384:
		d := sha512.Sum384(input)
		digest = d[:]
	default:
		d := sha512.Sum512(input)
		digest = d[:]
	}
	switch alg {
	case "PS256":
		return key.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
	case "ES256", "ES384", "ES512":
		der, err := key.Sign(rand.Reader, digest, h)
		if err != nil {
			return nil, err
		}
		// JWS wants R||S, each the curve's size (RFC 7518 Section 3.4).
		var sig struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(der, &sig); err != nil {
			return nil, err
		}
		size := (key.Public().(*ecdsa.PublicKey).Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		sig.R.FillBytes(out[:size])
		sig.S.FillBytes(out[size:])
		return out, nil
	default:
		return key.Sign(rand.Reader, digest, h)
	}
}

// clientAssertion builds a private_key_jwt client assertion (RFC 7523
// Section 3; the audience is the authorization server's issuer
// identifier, as draft-ietf-oauth-rfc7523bis requires).
func clientAssertion(key crypto.Signer, alg, kid, clientID, audience string, now time.Time) (string, error) {
	jti, err := randomString(16)
	if err != nil {
		return "", err
	}
	return signJWT(key, alg, kid, "", map[string]any{
		"iss": clientID,
		"sub": clientID,
		"aud": audience,
		"jti": jti,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	})
}
