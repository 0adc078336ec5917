package gitserver

import (
	"bytes"
	"fmt"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// SigningKey is an OpenPGP key for signing test commits.
type SigningKey struct {
	Entity *openpgp.Entity
	// ID is the primary key's ID, 16 upper-case hex digits.
	ID string
	// Public is the armored public key.
	Public string
}

// NewSigningKey makes an Ed25519 OpenPGP key for name.
func NewSigningKey(name, email string) (*SigningKey, error) {
	e, err := openpgp.NewEntity(name, "", email, &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.Serialize(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return &SigningKey{Entity: e, ID: fmt.Sprintf("%016X", e.PrimaryKey.KeyId), Public: buf.String()}, nil
}

// CommitSigned adds to branch a commit signed with key that keeps the
// branch's files as they are, and returns its SHA.
func (r *Repo) CommitSigned(key *SigningKey, branch, msg string) (string, error) {
	if !r.s.track() {
		return "", errClosed
	}
	defer r.s.active.Done()
	r.mu.Lock()
	defer r.mu.Unlock()
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("repo %q: signed commit to %q: %w", r.name, branch, err)
	}
	repo, err := git.PlainOpen(r.path)
	if err != nil {
		return fail(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return fail(err)
	}
	parent, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return fail(err)
	}
	sig := object.Signature{Name: key.Entity.PrimaryIdentity().UserId.Name, Email: key.Entity.PrimaryIdentity().UserId.Email, When: time.Now()}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: parent.TreeHash, ParentHashes: []plumbing.Hash{parent.Hash}}
	unsigned := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(unsigned); err != nil {
		return fail(err)
	}
	body, err := unsigned.Reader()
	if err != nil {
		return fail(err)
	}
	var armored bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&armored, key.Entity, body, nil); err != nil {
		return fail(err)
	}
	c.PGPSignature = armored.String()
	obj := repo.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return fail(err)
	}
	h, err := repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return fail(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(ref.Name(), h)); err != nil {
		return fail(err)
	}
	return h.String(), nil
}
