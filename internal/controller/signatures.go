package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/internal/project"
	"github.com/tether-gitops/tether/internal/source"
)

// GPGKeysConfigMap holds the OpenPGP public keys projects' signatureKeys
// name: one entry per key, its ID (16 hex digits) the key, the armored
// public key the value, as Argo CD keeps them.
const GPGKeysConfigMap = "argocd-gpg-keys-cm"

// verifySignature refuses a snapshot whose commit is not signed by one of
// the project's signatureKeys; a project without them accepts anything.
func (r *Reconciler) verifySignature(ctx context.Context, proj *project.Project, snap *source.Snapshot) error {
	if proj == nil || len(proj.SignatureKeys()) == 0 {
		return nil
	}
	wanted := proj.SignatureKeys()
	list := strings.Join(wanted, ", ")
	if !snap.IsGitCommit() {
		return fmt.Errorf("%s: project %s allows only Git commits signed by one of its signatureKeys (%s), and a Helm chart carries no commit signature", snap.Describe(), proj.Name(), list)
	}
	keys, err := r.gpgKeys(ctx)
	if err != nil {
		return err
	}
	var armored, missing []string
	for _, id := range wanted {
		k, ok := keys[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		ids, err := source.ArmoredKeyIDs(k)
		if err != nil {
			return fmt.Errorf("ConfigMap %s/%s: entry %s: not an armored OpenPGP public key: %v", r.opts.Namespace, GPGKeysConfigMap, id, err)
		}
		if !slices.Contains(ids, id) {
			return fmt.Errorf("ConfigMap %s/%s: entry %s holds the key %s, not key %s", r.opts.Namespace, GPGKeysConfigMap, id, strings.Join(ids, ", "), id)
		}
		armored = append(armored, k)
	}
	if len(armored) == 0 {
		return fmt.Errorf("project %s: none of its signatureKeys (%s) is in ConfigMap %s/%s: add each public key there under its key ID", proj.Name(), list, r.opts.Namespace, GPGKeysConfigMap)
	}
	commit := fmt.Sprintf("revision %s of %s", snap.Commit, source.RedactURL(snap.RepoURL))
	signer, err := snap.VerifySignature(armored)
	notAllowed := func(key string) error {
		return fmt.Errorf("%s is signed with key %s, which is not one of project %s's signatureKeys (%s)", commit, key, proj.Name(), list)
	}
	var se *source.SignatureError
	switch {
	case errors.Is(err, source.ErrUnsigned):
		return fmt.Errorf("%s is not signed; project %s allows only commits signed by one of its signatureKeys (%s)", commit, proj.Name(), list)
	case errors.As(err, &se) && se.KeyID != "" && !slices.Contains(wanted, se.KeyID):
		return notAllowed(se.KeyID)
	case errors.As(err, &se) && se.KeyID != "" && slices.Contains(missing, se.KeyID):
		return fmt.Errorf("%s is signed with key %s of project %s's signatureKeys, but that key is not in ConfigMap %s/%s", commit, se.KeyID, proj.Name(), r.opts.Namespace, GPGKeysConfigMap)
	case err != nil:
		return fmt.Errorf("%s: signature check for project %s: %w", commit, proj.Name(), err)
	case !slices.Contains(wanted, signer):
		// An entry's block holding other keys besides the one it names.
		return notAllowed(signer)
	}
	return nil
}

// gpgKeys reads the public keys, by upper-case key ID.
func (r *Reconciler) gpgKeys(ctx context.Context) (map[string]string, error) {
	var cm corev1.ConfigMap
	err := r.apiReader.Get(ctx, client.ObjectKey{Namespace: r.opts.Namespace, Name: GPGKeysConfigMap}, &cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ConfigMap %s/%s: %w", r.opts.Namespace, GPGKeysConfigMap, err)
	}
	keys := make(map[string]string, len(cm.Data))
	for id, k := range cm.Data {
		keys[strings.ToUpper(id)] = k
	}
	return keys, nil
}
