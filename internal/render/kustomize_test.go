package render

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestRenderKustomize(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		kustomize *v1alpha1.ApplicationSourceKustomize
		want      []string
	}{
		{
			name: "the base renders as written, in kustomize's legacy kind order",
			path: "apps/api/base",
			want: []string{"Service /api", "Deployment /api replicas=1 image=registry.example.com/api:v1.0.0"},
		},
		{
			name: "the dev overlay prefixes names",
			path: "apps/api/dev",
			want: []string{"Service /dev-api", "Deployment /dev-api replicas=1 image=registry.example.com/api:v1.0.0"},
		},
		{
			name: "the staging overlay patches replicas",
			path: "apps/api/staging",
			want: []string{"Service /api", "Deployment /api replicas=2 image=registry.example.com/api:v1.0.0"},
		},
		{
			name: "the prod overlay sets replicas and the image tag",
			path: "apps/api/prod",
			want: []string{"Service /api", "Deployment /api replicas=5 image=registry.example.com/api:v1.2.3"},
		},
		{
			name: "namePrefix, nameSuffix and namespace from the Application apply on top of the overlay",
			path: "apps/api/dev",
			kustomize: &v1alpha1.ApplicationSourceKustomize{
				NamePrefix: "team-", NameSuffix: "-v2", Namespace: "shop",
			},
			want: []string{"Service shop/team-api-v2", "Deployment shop/team-api-v2 replicas=1 image=registry.example.com/api:v1.0.0"},
		},
		{
			name:      "an image override name=newName:tag renames and retags",
			path:      "apps/api/base",
			kustomize: &v1alpha1.ApplicationSourceKustomize{Images: []string{"registry.example.com/api=mirror.example.com:5000/api:v9"}},
			want:      []string{"Service /api", "Deployment /api replicas=1 image=mirror.example.com:5000/api:v9"},
		},
		{
			name:      "an image override name:tag retags",
			path:      "apps/api/base",
			kustomize: &v1alpha1.ApplicationSourceKustomize{Images: []string{"registry.example.com/api:v2"}},
			want:      []string{"Service /api", "Deployment /api replicas=1 image=registry.example.com/api:v2"},
		},
		{
			name:      "an image override name@digest replaces the overlay's tag",
			path:      "apps/api/prod",
			kustomize: &v1alpha1.ApplicationSourceKustomize{Images: []string{"registry.example.com/api@sha256:0123"}},
			want:      []string{"Service /api", "Deployment /api replicas=5 image=registry.example.com/api@sha256:0123"},
		},
		{
			name:      "an image override name=newName keeps the overlay's tag",
			path:      "apps/api/prod",
			kustomize: &v1alpha1.ApplicationSourceKustomize{Images: []string{"registry.example.com/api=mirror.example.com/api"}},
			want:      []string{"Service /api", "Deployment /api replicas=5 image=mirror.example.com/api:v1.2.3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Root: "testdata/kustomize", Source: v1alpha1.ApplicationSource{Path: tt.path, Kustomize: tt.kustomize}}
			res, err := renderBoth(t, context.Background(), req, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if res.Type != TypeKustomize {
				t.Errorf("Type = %q, want %q", res.Type, TypeKustomize)
			}
			if diff := cmp.Diff(tt.want, describe(res.Objects)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderKustomizeCommonLabelsAndAnnotations(t *testing.T) {
	kfile := "testdata/kustomize/apps/api/dev/kustomization.yaml"
	before, err := os.ReadFile(kfile)
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Root: "testdata/kustomize", Source: v1alpha1.ApplicationSource{
		Path: "apps/api/dev",
		Kustomize: &v1alpha1.ApplicationSourceKustomize{
			CommonLabels:      map[string]string{"team": "core", "tier": "true"},
			CommonAnnotations: map[string]string{"owner": "alice"},
		},
	}}
	res, err := renderBoth(t, context.Background(), req, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		if diff := cmp.Diff(map[string]string{"team": "core", "tier": "true"}, withoutKey(o.GetLabels(), "app")); diff != "" {
			t.Errorf("%s labels (-want +got):\n%s", o.GetKind(), diff)
		}
		if diff := cmp.Diff(map[string]string{"owner": "alice"}, o.GetAnnotations()); diff != "" {
			t.Errorf("%s annotations (-want +got):\n%s", o.GetKind(), diff)
		}
	}
	sel, _, _ := unstructured.NestedStringMap(find(t, res.Objects, "Deployment").Object, "spec", "selector", "matchLabels")
	if diff := cmp.Diff(map[string]string{"app": "api", "team": "core", "tier": "true"}, sel); diff != "" {
		t.Errorf("Deployment selector (-want +got):\n%s", diff)
	}
	after, err := os.ReadFile(kfile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("the snapshot's kustomization.yaml was modified:\n%s", after)
	}
}

func withoutKey(m map[string]string, key string) map[string]string {
	delete(m, key)
	return m
}

func TestRenderKustomizeErrors(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		setup func(t *testing.T, root string) // on a copy of testdata/kustomize
		want  wantErr
	}{
		{
			name: "a resource outside the repository is refused",
			path: "escape",
			want: wantErr{file: "escape/kustomization.yaml", is: ErrPathEscapes, contains: `resources "../../outside": path escapes the repository`},
		},
		{
			name: "a remote base is refused before any network access",
			path: "remote",
			want: wantErr{file: "remote/kustomization.yaml", contains: `"https://github.com/x/y//base": remote bases are not supported`},
		},
		{
			name: "a kustomize build error names the kustomization file",
			path: "missing",
			want: wantErr{file: "missing/kustomization.yaml", contains: "missing.yaml"},
		},
		{
			name: "a resource symlinked to a file outside is refused",
			path: "apps/api/base",
			setup: func(t *testing.T, root string) {
				symlink(t, "/etc/hostname", filepath.Join(root, "apps/api/base/service.yaml"))
			},
			want: wantErr{file: "apps/api/base/kustomization.yaml", is: ErrPathEscapes, contains: `resources "service.yaml": path escapes the repository`},
		},
		{
			name: "a patch symlinked outside is refused",
			path: "apps/api/staging",
			setup: func(t *testing.T, root string) {
				symlink(t, "/etc/hostname", filepath.Join(root, "apps/api/staging/replicas.yaml"))
			},
			want: wantErr{file: "apps/api/staging/kustomization.yaml", is: ErrPathEscapes, contains: `patches "replicas.yaml": path escapes the repository`},
		},
		{
			name: "a base directory symlinked outside is refused",
			path: "apps/api/dev",
			setup: func(t *testing.T, root string) {
				outside := copyTree(t, "testdata/kustomize/apps/api/base")
				if err := os.RemoveAll(filepath.Join(root, "apps/api/base")); err != nil {
					t.Fatal(err)
				}
				symlink(t, outside, filepath.Join(root, "apps/api/base"))
			},
			want: wantErr{file: "apps/api/dev/kustomization.yaml", is: ErrPathEscapes, contains: `resources "../base": path escapes the repository`},
		},
		{
			name: "a remote base in a local base is refused, naming that base",
			path: "apps/api/dev",
			setup: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "apps/api/base/kustomization.yaml"), "resources:\n- deployment.yaml\n- git@github.com:x/y.git//base\n")
			},
			want: wantErr{file: "apps/api/base/kustomization.yaml", contains: "remote bases are not supported"},
		},
		{
			name: "a remote patch file is refused",
			path: "apps/api/base",
			setup: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "apps/api/base/kustomization.yaml"), "resources:\n- deployment.yaml\npatches:\n- path: https://example.com/patch.yaml\n")
			},
			want: wantErr{file: "apps/api/base/kustomization.yaml", contains: `patches "https://example.com/patch.yaml": remote files are not supported`},
		},
		{
			name: "a configMapGenerator file outside is refused",
			path: "apps/api/base",
			setup: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "apps/api/base/kustomization.yaml"), "configMapGenerator:\n- name: x\n  files:\n  - key=../../../../x.txt\n")
			},
			want: wantErr{file: "apps/api/base/kustomization.yaml", is: ErrPathEscapes, contains: "path escapes the repository"},
		},
		{
			name: "an exec KRM function is not run",
			path: "apps/api/base",
			setup: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "apps/api/base/kustomization.yaml"), "resources:\n- deployment.yaml\ntransformers:\n- fn.yaml\n")
				writeFile(t, filepath.Join(root, "apps/api/base/fn.yaml"), "apiVersion: example.com/v1\nkind: Fn\nmetadata:\n  name: fn\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/touch\n")
			},
			want: wantErr{file: "apps/api/base/kustomization.yaml", contains: "external plugins disabled"},
		},
		{
			name: "a directory without kustomization is refused when kustomize is asked for",
			path: "apps/api",
			want: wantErr{file: "apps/api", contains: "no kustomization.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := "testdata/kustomize"
			if tt.setup != nil {
				root = copyTree(t, root)
				tt.setup(t, root)
			}
			req := Request{Root: root, Source: v1alpha1.ApplicationSource{Path: tt.path, Kustomize: &v1alpha1.ApplicationSourceKustomize{}}}
			_, err := renderBoth(t, context.Background(), req, DefaultOptions())
			checkErr(t, err, tt.want)
		})
	}
}

// writeFile writes p, creating its directory.
func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
