package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
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

// The filesystem kustomize sees answers the same from disk and from an
// fs.FS (a Git snapshot), and as kustomize's own disk filesystem does.
func TestConfinedFSMatchesTheDisk(t *testing.T) {
	root := copyTree(t, "testdata/kustomize")
	symlink(t, "base", filepath.Join(root, "apps/api/linked"))
	root, _ = filepath.EvalSymlinks(root)
	disk, err := newSnapshot(root, nil, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	mem, err := newSnapshot("", loadMapFS(t, root), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	kustomizeDisk := filesys.MakeFsOnDisk()
	for name, s := range map[string]*snapshot{"disk": disk, "fs.FS": mem} {
		t.Run(name, func(t *testing.T) {
			c := newConfinedFS(context.Background(), s)
			at := func(rel string) string { return filepath.Join(s.root, rel) }
			onDisk := func(p string) string { return strings.Replace(p, root, s.root, 1) }

			for rel, want := range map[string]bool{"apps/api/base": true, "apps/api/linked": true, "apps/api/base/service.yaml": false, "apps/api/none": false} {
				if got := c.IsDir(at(rel)); got != want {
					t.Errorf("IsDir(%s) = %v, want %v", rel, got, want)
				}
			}
			for _, rel := range []string{"apps/api/base", "apps/api/linked"} {
				got, err := c.ReadDir(at(rel))
				want, _ := kustomizeDisk.ReadDir(filepath.Join(root, rel))
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("ReadDir(%s) = %q, %v; want %q", rel, got, err, want)
				}
			}
			for _, rel := range []string{"apps/api/base", "apps/api/base/service.yaml", "apps/api/linked", "apps/api/linked/service.yaml"} {
				dir, file, err := c.CleanedAbs(at(rel))
				wantDir, wantFile, _ := kustomizeDisk.CleanedAbs(filepath.Join(root, rel))
				if err != nil || string(dir) != onDisk(string(wantDir)) || file != wantFile {
					t.Errorf("CleanedAbs(%s) = %q %q %v; want %q %q", rel, dir, file, err, onDisk(string(wantDir)), wantFile)
				}
			}
			got, err := c.Glob(at("apps/api/*/k*.yaml"))
			want, _ := kustomizeDisk.Glob(filepath.Join(root, "apps/api/*/k*.yaml"))
			for i := range want {
				want[i] = onDisk(want[i])
			}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("Glob = %q, %v; want %q", got, err, want)
			}
			walked := func(fsys filesys.FileSystem, dir string) []string {
				var out []string
				err := fsys.Walk(dir, func(p string, info fs.FileInfo, err error) error {
					if err != nil {
						return err
					}
					rel, _ := filepath.Rel(dir, p)
					out = append(out, fmt.Sprintf("%s dir=%v link=%v", rel, info.IsDir(), info.Mode()&fs.ModeSymlink != 0))
					return nil
				})
				if err != nil {
					t.Errorf("Walk(%s): %v", dir, err)
				}
				return out
			}
			for _, rel := range []string{"apps/api", "."} {
				if got, want := walked(c, at(rel)), walked(kustomizeDisk, filepath.Join(root, rel)); !reflect.DeepEqual(got, want) {
					t.Errorf("Walk(%s) = %q\nwant %q", rel, got, want)
				}
			}
		})
	}
}
