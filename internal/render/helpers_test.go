package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// describe summarises objects as "Kind namespace/name", with the fields
// the tests care about for Deployments.
func describe(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		name := o.GetName()
		if name == "" {
			name = o.GetGenerateName() + "*"
		}
		s := fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), name)
		if o.GetKind() == "Deployment" {
			if r, ok, _ := unstructured.NestedInt64(o.Object, "spec", "replicas"); ok {
				s += fmt.Sprintf(" replicas=%d", r)
			}
			if cs, ok, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers"); ok && len(cs) > 0 {
				if img, ok := cs[0].(map[string]any)["image"].(string); ok {
					s += " image=" + img
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// wantErr describes an expected failure: the file an *Error names (empty
// when no *Error is expected), a sentinel it wraps, and text it contains.
type wantErr struct {
	file     string
	is       error
	contains string
}

func checkErr(t *testing.T, err error, want wantErr) {
	t.Helper()
	if err == nil {
		t.Fatalf("Render succeeded, want an error containing %q", want.contains)
	}
	if want.file != "" {
		var fe *Error
		if !errors.As(err, &fe) {
			t.Fatalf("error %q is not a *render.Error", err)
		}
		if fe.File != want.file {
			t.Errorf("error names file %q, want %q (error: %v)", fe.File, want.file, err)
		}
	}
	if want.is != nil && !errors.Is(err, want.is) {
		t.Errorf("error %q does not wrap %v", err, want.is)
	}
	if !strings.Contains(err.Error(), want.contains) {
		t.Errorf("error %q does not contain %q", err, want.contains)
	}
}

// copyTree copies the fixture directory src into a fresh temporary root,
// so a test can add symlinks or files to it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "repo")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// symlink replaces (or creates) link with a symlink to target.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	_ = os.Remove(link)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// renderBoth renders req from its directory on disk and again from the same
// files held in an fs.FS (as a Git snapshot is read), fails the test when
// the two renders disagree, and returns the first.
func renderBoth(t *testing.T, ctx context.Context, req Request, opts Options) (*Result, error) {
	t.Helper()
	res, err := Render(ctx, req, opts)
	inMem := req
	inMem.FS = loadMapFS(t, req.Root)
	res2, err2 := Render(ctx, inMem, opts)
	if (err == nil) != (err2 == nil) {
		t.Fatalf("from disk: %v; from an fs.FS: %v", err, err2)
	}
	if err != nil {
		var fe, fe2 *Error
		if errors.As(err, &fe) != errors.As(err2, &fe2) || (fe != nil && fe.File != fe2.File) {
			t.Errorf("errors name different files: from disk %q, from an fs.FS %q", err, err2)
		}
		for _, sentinel := range []error{ErrPathEscapes, fs.ErrNotExist} {
			if errors.Is(err, sentinel) != errors.Is(err2, sentinel) {
				t.Errorf("errors differ on %v: from disk %q, from an fs.FS %q", sentinel, err, err2)
			}
		}
		return res, err
	}
	if res.Type != res2.Type || !reflect.DeepEqual(res.Inputs, res2.Inputs) {
		t.Errorf("from disk %s %q, from an fs.FS %s %q", res.Type, res.Inputs, res2.Type, res2.Inputs)
	}
	if len(res.Objects) != len(res2.Objects) {
		t.Fatalf("from disk %q, from an fs.FS %q", describe(res.Objects), describe(res2.Objects))
	}
	for i := range res.Objects {
		if !reflect.DeepEqual(res.Objects[i].Object, res2.Objects[i].Object) {
			t.Errorf("object %d: from disk %v, from an fs.FS %v", i, res.Objects[i].Object, res2.Objects[i].Object)
		}
	}
	return res, err
}

// loadMapFS reads the tree at root, symlinks included, into memory. An
// absolute link into root points at the same place under fsRoot.
func loadMapFS(t *testing.T, root string) fstest.MapFS {
	t.Helper()
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	m := fstest.MapFS{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		name := filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if within(root, target) {
				target = fsRoot + strings.TrimPrefix(target, root)
			}
			m[name] = &fstest.MapFile{Data: []byte(filepath.ToSlash(target)), Mode: fs.ModeSymlink | 0o777}
		case d.IsDir():
			m[name] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			m[name] = &fstest.MapFile{Data: data, Mode: 0o644}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
