package source

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/go-git/go-git/v5/plumbing"
)

// ErrUnsigned is returned by VerifySignature for a commit without a
// signature.
var ErrUnsigned = errors.New("not signed")

// SignatureError is a signature that does not verify with the keys given.
type SignatureError struct {
	// KeyID is the signing key's ID (16 hex digits) as the signature
	// names it, or "" when it names none.
	KeyID string
	Err   error
}

func (e *SignatureError) Error() string {
	if e.KeyID == "" {
		return "signed, but the signature does not verify: " + e.Err.Error()
	}
	return fmt.Sprintf("signed with key %s, which does not verify it with the allowed keys: %v", e.KeyID, e.Err)
}

// VerifySignature checks the commit's OpenPGP signature against the
// armored public keys. It returns the ID (16 upper-case hex digits) of the
// primary key that signed it. A snapshot of a Helm chart has no commit to
// verify.
func (s *Snapshot) VerifySignature(armoredKeys []string) (string, error) {
	if s.commit == nil {
		return "", errors.New("not a Git commit: only Git commits carry signatures")
	}
	sig := s.commit.PGPSignature
	if strings.TrimSpace(sig) == "" {
		return "", ErrUnsigned
	}
	if strings.Count(sig, "-----BEGIN PGP SIGNATURE-----") > 1 {
		return "", &SignatureError{Err: errors.New("the commit carries several signatures")}
	}
	var keyring openpgp.EntityList
	for _, k := range armoredKeys {
		list, err := openpgp.ReadArmoredKeyRing(strings.NewReader(k))
		if err != nil {
			return "", fmt.Errorf("read a public key: %w", err)
		}
		keyring = append(keyring, list...)
	}
	encoded := &plumbing.MemoryObject{}
	if err := s.commit.EncodeWithoutSignature(encoded); err != nil {
		return "", err
	}
	body, err := encoded.Reader()
	if err != nil {
		return "", err
	}
	signer, err := openpgp.CheckArmoredDetachedSignature(keyring, body, strings.NewReader(sig), nil)
	if err != nil {
		return "", &SignatureError{KeyID: issuerKeyID(sig), Err: err}
	}
	return KeyID(signer.PrimaryKey.KeyId), nil
}

// IsGitCommit tells a Git commit's snapshot from a Helm chart's.
func (s *Snapshot) IsGitCommit() bool { return s.commit != nil }

// KeyID formats a key ID as 16 upper-case hex digits.
func KeyID(id uint64) string { return fmt.Sprintf("%016X", id) }

// issuerKeyID reads the signing key's ID from an armored signature.
func issuerKeyID(sig string) string {
	block, err := armor.Decode(strings.NewReader(sig))
	if err != nil {
		return ""
	}
	p, err := packet.Read(block.Body)
	if err != nil {
		return ""
	}
	if s, ok := p.(*packet.Signature); ok && s.IssuerKeyId != nil {
		return KeyID(*s.IssuerKeyId)
	}
	return ""
}

// ArmoredKeyIDs lists the IDs of the primary keys in an armored key block.
func ArmoredKeyIDs(armored string) ([]string, error) {
	list, err := openpgp.ReadArmoredKeyRing(bytes.NewReader([]byte(armored)))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range list {
		ids = append(ids, KeyID(e.PrimaryKey.KeyId))
	}
	return ids, nil
}
