package render

import (
	"context"
	"errors"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// renderKustomize builds the kustomization at the application path with
// the Application's overrides applied to an in-memory copy of it. Remote
// references are refused before kustomize runs, and kustomize itself only
// sees the snapshot through confinedFS.
func (s *snapshot) renderKustomize(ctx context.Context, appAbs, appRel string, spec *v1alpha1.ApplicationSourceKustomize) ([]*unstructured.Unstructured, error) {
	kfile, err := s.findKustomization(appAbs)
	if err != nil {
		return nil, err
	}
	if kfile == "" {
		return nil, &Error{File: appRel, Err: errors.New("no kustomization.yaml, kustomization.yml or Kustomization in the directory")}
	}
	kname := s.rel(kfile)
	fsys := newConfinedFS(ctx, s)
	if hasKustomizeOverrides(spec) {
		data, err := fsys.load(kfile, kname)
		if err != nil {
			return nil, err
		}
		exists := func(rel string) (bool, error) {
			return s.exists(filepath.Join(appAbs, filepath.FromSlash(rel)))
		}
		edited, err := applyKustomizeOverrides(data, spec, exists)
		if err != nil {
			return nil, &Error{File: kname, Err: err}
		}
		real, err := s.resolve(kfile)
		if err != nil {
			return nil, &Error{File: kname, Err: err}
		}
		// The edited file is what kustomize reads and what the scan below
		// checks (components the Application adds, say).
		fsys.overlay[real] = edited
		fsys.cache[real] = edited
	}
	if err := fsys.scanKustomization(appAbs, map[string]bool{}); err != nil {
		return nil, err
	}

	opts := krusty.MakeDefaultOptions()
	// Like the kustomize CLI: the kustomization's sortOptions, else the
	// legacy kind order.
	opts.Reorder = krusty.ReorderOptionUnspecified
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	opts.PluginConfig = types.DisabledPluginConfig()
	resources, err := krusty.MakeKustomizer(opts).Run(fsys, appAbs)
	if fsys.violation != nil {
		return nil, fsys.violation
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &Error{File: kname, Err: s.scrub(err)}
	}
	out := make([]*unstructured.Unstructured, 0, resources.Size())
	for _, r := range resources.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, &Error{File: kname, Err: err}
		}
		objs, err := decodeJSON(kname, data)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
		if err := s.countObjects(len(objs)); err != nil {
			return nil, &Error{File: kname, Err: err}
		}
	}
	return out, nil
}

// scrub removes the snapshot's location from a message, so errors name
// files relative to the repository.
func (s *snapshot) scrub(err error) error {
	msg := strings.ReplaceAll(err.Error(), s.root+string(filepath.Separator), "")
	return errors.New(strings.ReplaceAll(msg, s.root, "."))
}
