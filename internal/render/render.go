package render

import (
	"context"
	"io/fs"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// Request is one source to render from one repository snapshot.
type Request struct {
	// Root is the repository checkout, a read-only snapshot; nothing outside
	// it is ever read.
	Root string
	// FS, when set, holds the repository instead of Root (a Git tree read
	// in place). Symlinks in it are followed by the render, which keeps them
	// inside the repository; FS must implement fs.ReadLinkFS.
	FS fs.FS
	// Source is the Application's source; its Path is relative to Root.
	Source v1alpha1.ApplicationSource
	// AppName is the default Helm release name.
	AppName string
	// Namespace is the destination namespace, Helm's .Release.Namespace.
	Namespace string
	// Refs are the repositories of the app's other sources that have a
	// ref, by ref name: a Helm value file written "$name/path" is read
	// from Refs[name], confined to it as the source's own files are to
	// the source's repository. They must implement fs.ReadLinkFS.
	Refs map[string]fs.FS
}

// Result is what a source renders to.
type Result struct {
	// Type is "Directory", "Kustomize" or "Helm".
	Type string
	// Objects in a stable order: file order then document order for
	// directories, kustomize's output order, helm template's order (CRDs,
	// manifests, hooks) for charts. Namespaces are left as the source wrote
	// them.
	Objects []*unstructured.Unstructured
	// Inputs are the repository-relative paths (slash-separated, no
	// leading "./"; "." only when the app path is the repository root)
	// whose content the render depended on: directories (everything under
	// them counts) and single files. A later render of another commit
	// gives the same objects whenever every input has the same content, so
	// callers may skip rendering when the Git tree hashes of all Inputs are
	// unchanged.
	//
	// They are every path the render looked at: the app path, each
	// directory listed (kustomization directories, the chart), each file
	// read outside those (patches, value files), each path probed and found
	// missing, and for a symlink both the link and its target. Sorted,
	// without duplicates, and without entries inside another entry's
	// directory.
	Inputs []string
}

// Render renders req.Source from the snapshot at req.Root. Errors about a
// file are *Error, naming the file relative to Root.
func Render(ctx context.Context, req Request, opts Options) (*Result, error) {
	s, err := newSnapshot(req.Root, req.FS, opts)
	if err != nil {
		return nil, err
	}
	s.refs = req.Refs
	appAbs, appRel, err := s.appDir(req.Source.Path)
	if err != nil {
		return nil, err
	}
	typ, err := s.detectType(appAbs, req.Source)
	if err != nil {
		return nil, err
	}
	res := &Result{Type: typ}
	switch typ {
	case TypeHelm:
		res.Objects, err = s.renderHelm(ctx, appAbs, appRel, req)
	case TypeKustomize:
		res.Objects, err = s.renderKustomize(ctx, appAbs, appRel, req.Source.Kustomize)
	default:
		res.Objects, err = s.renderDirectory(ctx, appAbs, appRel, req.Source.Directory)
	}
	if err != nil {
		// No partial result: a caller that applied and pruned half a
		// render would delete what the other half holds.
		return nil, err
	}
	res.Inputs = s.inputList()
	return res, nil
}
