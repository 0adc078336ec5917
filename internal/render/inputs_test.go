package render

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestRenderInputs(t *testing.T) {
	replicasPatch := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 3\n"
	tests := []struct {
		name    string
		root    string                          // fixture, copied when setup is set
		setup   func(t *testing.T, root string) // on the copy
		src     v1alpha1.ApplicationSource
		want    []string                             // Result.Inputs
		wantErr string                               // instead of want
		check   func(t *testing.T, objects []string) // optional, on describe(objects)
	}{
		{
			name: "a directory app without recurse is its directory",
			root: "testdata/dir",
			src:  v1alpha1.ApplicationSource{Path: "flat"},
			want: []string{"flat"},
		},
		{
			name: "a directory app with recurse is still its directory alone",
			root: "testdata/dir",
			src:  v1alpha1.ApplicationSource{Path: "flat", Directory: &v1alpha1.ApplicationSourceDirectory{Recurse: true}},
			want: []string{"flat"},
		},
		{
			name: "a directory app with include is its whole directory",
			root: "testdata/dir",
			src:  v1alpha1.ApplicationSource{Path: "glob/", Directory: &v1alpha1.ApplicationSourceDirectory{Recurse: true, Include: "sub/*.yaml"}},
			want: []string{"glob"},
		},
		{
			name: "the repository root as app path is .",
			root: "testdata/dir",
			src:  v1alpha1.ApplicationSource{Path: "./"},
			want: []string{"."},
		},
		{
			name: "a recursed symlinked subdirectory adds its target",
			root: "testdata/dir",
			src:  v1alpha1.ApplicationSource{Path: "flat", Directory: &v1alpha1.ApplicationSourceDirectory{Recurse: true}},
			setup: func(t *testing.T, root string) {
				symlink(t, "../glob/sub", filepath.Join(root, "flat/linked"))
			},
			want: []string{"flat", "glob/sub"},
		},
		{
			name: "a symlinked directory is followed for its kind even without recurse",
			root: "testdata/dir",
			src:  v1alpha1.ApplicationSource{Path: "flat"},
			setup: func(t *testing.T, root string) {
				// A directory named like a manifest is skipped; were the
				// target a file, it would be read.
				symlink(t, "../glob/sub", filepath.Join(root, "flat/linked.yaml"))
			},
			want: []string{"flat", "glob/sub"},
		},
		{
			name: "a symlinked app path gives the link and its target",
			root: "testdata/dir",
			src:  v1alpha1.ApplicationSource{Path: "apps/web"},
			setup: func(t *testing.T, root string) {
				if err := os.MkdirAll(filepath.Join(root, "apps"), 0o755); err != nil {
					t.Fatal(err)
				}
				symlink(t, "../glob", filepath.Join(root, "apps/web"))
			},
			want: []string{"apps/web", "glob"},
		},
		{
			name: "a kustomize base is its own directory",
			root: "testdata/kustomize",
			src:  v1alpha1.ApplicationSource{Path: "apps/api/base"},
			want: []string{"apps/api/base"},
		},
		{
			name: "a kustomize overlay gives the overlay and its ../base",
			root: "testdata/kustomize",
			src:  v1alpha1.ApplicationSource{Path: "apps/api/dev"},
			want: []string{"apps/api/base", "apps/api/dev"},
		},
		{
			name: "overrides from the Application do not change the inputs",
			root: "testdata/kustomize",
			src:  v1alpha1.ApplicationSource{Path: "apps/api/prod", Kustomize: &v1alpha1.ApplicationSourceKustomize{NamePrefix: "x-", Images: []string{"registry.example.com/api:v9"}}},
			want: []string{"apps/api/base", "apps/api/prod"},
		},
		{
			name: "a patch file inside the overlay is covered by the overlay",
			root: "testdata/kustomize",
			src:  v1alpha1.ApplicationSource{Path: "apps/api/staging"},
			want: []string{"apps/api/base", "apps/api/staging"},
		},
		{
			name: "a patch file outside the overlay, in a component, gives the component directory",
			root: "testdata/kustomize",
			src:  v1alpha1.ApplicationSource{Path: "apps/api/staging"},
			setup: func(t *testing.T, root string) {
				mkdir(t, filepath.Join(root, "components/ha"))
				writeFile(t, filepath.Join(root, "components/ha/kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- path: replicas.yaml\n")
				writeFile(t, filepath.Join(root, "components/ha/replicas.yaml"), replicasPatch)
				writeFile(t, filepath.Join(root, "apps/api/staging/kustomization.yaml"), "resources:\n- ../base\ncomponents:\n- ../../../components/ha\n")
			},
			want: []string{"apps/api/base", "apps/api/staging", "components/ha"},
			check: func(t *testing.T, objects []string) {
				if diff := cmp.Diff([]string{"Service /api", "Deployment /api replicas=3 image=registry.example.com/api:v1.0.0"}, objects); diff != "" {
					t.Errorf("objects (-want +got):\n%s", diff)
				}
			},
		},
		{
			// With LoadRestrictionsRootOnly kustomize reads no file outside
			// the kustomization directories, so such a render never
			// succeeds and has no inputs to miss.
			name: "a patch file outside the overlay directory is refused by kustomize",
			root: "testdata/kustomize",
			src:  v1alpha1.ApplicationSource{Path: "apps/api/staging"},
			setup: func(t *testing.T, root string) {
				mkdir(t, filepath.Join(root, "apps/api/patches"))
				writeFile(t, filepath.Join(root, "apps/api/patches/replicas.yaml"), replicasPatch)
				writeFile(t, filepath.Join(root, "apps/api/staging/kustomization.yaml"), "resources:\n- ../base\npatches:\n- path: ../patches/replicas.yaml\n")
			},
			wantErr: "is not in or below",
		},
		{
			name: "a base reached through a symlinked directory gives the link and the target",
			root: "testdata/kustomize",
			src:  v1alpha1.ApplicationSource{Path: "apps/api/dev"},
			setup: func(t *testing.T, root string) {
				if err := os.Rename(filepath.Join(root, "apps/api/base"), filepath.Join(root, "shared-base")); err != nil {
					t.Fatal(err)
				}
				symlink(t, "../../shared-base", filepath.Join(root, "apps/api/base"))
			},
			want: []string{"apps/api/base", "apps/api/dev", "shared-base"},
		},
		{
			name: "a helm chart with no value files is its directory",
			root: "testdata/helm",
			src:  v1alpha1.ApplicationSource{Path: "charts/api"},
			want: []string{"charts/api"},
		},
		{
			name: "a value file inside the chart is covered by the chart",
			root: "testdata/helm",
			src:  v1alpha1.ApplicationSource{Path: "charts/api", Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values-prod.yaml"}}},
			want: []string{"charts/api"},
		},
		{
			name: "a value file outside the chart is listed as a file",
			root: "testdata/helm",
			src:  v1alpha1.ApplicationSource{Path: "charts/api", Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values-prod.yaml", "../../envs/prod.yaml"}}},
			setup: func(t *testing.T, root string) {
				mkdir(t, filepath.Join(root, "envs"))
				writeFile(t, filepath.Join(root, "envs/prod.yaml"), "replicas: 7\n")
				writeFile(t, filepath.Join(root, "envs/other.yaml"), "replicas: 9\n")
			},
			want: []string{"charts/api", "envs/prod.yaml"},
			check: func(t *testing.T, objects []string) {
				want := "Deployment /shop replicas=7 image=registry.example.com/api:v1.2.3"
				if got := objects[3]; got != want {
					t.Errorf("objects[3] = %q, want %q", got, want)
				}
			},
		},
		{
			name: "a missing value file that is ignored is listed, so adding it counts",
			root: "testdata/helm",
			src:  v1alpha1.ApplicationSource{Path: "charts/api", Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"../../envs/prod.yaml"}, IgnoreMissingValueFiles: true}},
			setup: func(t *testing.T, root string) {
				mkdir(t, filepath.Join(root, "envs"))
			},
			want: []string{"charts/api", "envs/prod.yaml"},
		},
		{
			name: "a missing directory of an ignored value file is listed",
			root: "testdata/helm",
			src:  v1alpha1.ApplicationSource{Path: "charts/api", Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"../../envs/prod.yaml"}, IgnoreMissingValueFiles: true}},
			want: []string{"charts/api", "envs"},
		},
		{
			name: "a symlinked value file gives the link and its target",
			root: "testdata/helm",
			src:  v1alpha1.ApplicationSource{Path: "charts/api", Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"../../envs/prod.yaml"}}},
			setup: func(t *testing.T, root string) {
				mkdir(t, filepath.Join(root, "envs"))
				mkdir(t, filepath.Join(root, "shared"))
				writeFile(t, filepath.Join(root, "shared/prod.yaml"), "replicas: 7\n")
				symlink(t, "../shared/prod.yaml", filepath.Join(root, "envs/prod.yaml"))
			},
			want: []string{"charts/api", "envs/prod.yaml", "shared/prod.yaml"},
		},
		{
			// Git finds no entry below a symlink, so only the link itself
			// shows that it now points elsewhere.
			name: "a value file below a symlinked directory gives the link and the target",
			root: "testdata/helm",
			src:  v1alpha1.ApplicationSource{Path: "charts/api", Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"../../envs/prod.yaml"}}},
			setup: func(t *testing.T, root string) {
				mkdir(t, filepath.Join(root, "config/envs"))
				writeFile(t, filepath.Join(root, "config/envs/prod.yaml"), "replicas: 7\n")
				symlink(t, "config/envs", filepath.Join(root, "envs"))
			},
			want: []string{"charts/api", "config/envs/prod.yaml", "envs"},
		},
		{
			name: "a chart file symlinked out of the chart gives its target",
			root: "testdata/helm",
			src:  v1alpha1.ApplicationSource{Path: "charts/api"},
			setup: func(t *testing.T, root string) {
				mkdir(t, filepath.Join(root, "shared"))
				writeFile(t, filepath.Join(root, "shared/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n")
				symlink(t, "../../../shared/cm.yaml", filepath.Join(root, "charts/api/templates/shared.yaml"))
			},
			want: []string{"charts/api", "shared/cm.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tt.root
			if tt.setup != nil {
				root = copyTree(t, root)
				tt.setup(t, root)
			}
			req := Request{Root: root, Source: tt.src, AppName: "shop", Namespace: "prod"}
			res, err := renderBoth(t, context.Background(), req, DefaultOptions())
			if tt.wantErr != "" {
				checkErr(t, err, wantErr{contains: tt.wantErr})
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, res.Inputs); diff != "" {
				t.Errorf("Inputs (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, describe(res.Objects))
			}
		})
	}
}

func TestMinimizeInputs(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"empty", nil, []string{}},
		{"sorted and deduplicated", []string{"b", "a", "b"}, []string{"a", "b"}},
		{"entries below a directory entry are dropped", []string{"a/b/c.yaml", "a/b", "a/bc", "a-b/x"}, []string{"a-b/x", "a/b", "a/bc"}},
		{"a sibling with a common prefix is kept", []string{"apps/api", "apps/api-v2/x.yaml"}, []string{"apps/api", "apps/api-v2/x.yaml"}},
		{"the root covers everything", []string{"x", ".", "y/z"}, []string{"."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := map[string]bool{}
			for _, p := range tt.in {
				set[p] = true
			}
			if diff := cmp.Diff(tt.want, minimizeInputs(set)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}
