package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
