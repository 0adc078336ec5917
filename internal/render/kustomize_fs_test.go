package render

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// The scan before the build refuses what it can see; the filesystem kustomize
// runs on refuses everything else that leaves the root.
func TestConfinedFSRefusesPathsOutsideTheRoot(t *testing.T) {
	root := copyTree(t, "testdata/kustomize")
	symlink(t, "/etc/hostname", filepath.Join(root, "apps/api/base/link.yaml"))
	s, err := newSnapshot(root, nil, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	fsys := newConfinedFS(context.Background(), s)
	for _, p := range []string{
		filepath.Join(s.root, "apps/api/base/link.yaml"),
		filepath.Join(s.root, "../outside.yaml"),
		"/etc/hostname",
	} {
		if _, err := fsys.ReadFile(p); !errors.Is(err, ErrPathEscapes) {
			t.Errorf("ReadFile(%s) = %v, want ErrPathEscapes", p, err)
		}
		if fsys.Exists(p) {
			t.Errorf("Exists(%s) = true", p)
		}
	}
	if fsys.violation == nil {
		t.Error("no violation recorded")
	}
	if _, err := fsys.ReadFile(filepath.Join(s.root, "apps/api/base/service.yaml")); err != nil {
		t.Errorf("ReadFile inside the root: %v", err)
	}
	if err := fsys.WriteFile(filepath.Join(s.root, "apps/api/base/new.yaml"), nil); err == nil {
		t.Error("WriteFile succeeded on the read-only snapshot")
	}
}
