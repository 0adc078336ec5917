package render

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestRenderDirectory(t *testing.T) {
	flat := []string{
		"ConfigMap /a1", "ConfigMap other/a2", // a.yaml, empty documents skipped
		"Service /b",                      // b.json
		"ConfigMap /l1", "Deployment /l2", // list.yml, flattened
	}
	tests := []struct {
		name string
		path string
		dir  *v1alpha1.ApplicationSourceDirectory
		want []string
	}{
		{
			name: "a flat directory reads its YAML, YML and JSON files in name order",
			path: "flat",
			want: flat,
		},
		{
			name: "recurse reads subdirectories but skips dot-directories",
			path: "flat",
			dir:  &v1alpha1.ApplicationSourceDirectory{Recurse: true},
			want: append(append([]string{}, flat...), "ConfigMap /c-*"),
		},
		{
			name: "without recurse subdirectories are ignored",
			path: "glob",
			want: []string{"ConfigMap /app", "ConfigMap /db", "ConfigMap /extra", "ConfigMap /skip-me"},
		},
		{
			name: "include matches the path relative to the application path",
			path: "glob",
			dir:  &v1alpha1.ApplicationSourceDirectory{Recurse: true, Include: "sub/*.yaml"},
			want: []string{"ConfigMap /nested"},
		},
		{
			name: "include matches the base name in any directory",
			path: "glob",
			dir:  &v1alpha1.ApplicationSourceDirectory{Recurse: true, Include: "n*.yaml"},
			want: []string{"ConfigMap /nested"},
		},
		{
			name: "include takes a brace list of files",
			path: "glob",
			dir:  &v1alpha1.ApplicationSourceDirectory{Include: "{app.yaml,db.yaml}"},
			want: []string{"ConfigMap /app", "ConfigMap /db"},
		},
		{
			name: "exclude takes a brace list of globs",
			path: "glob",
			dir:  &v1alpha1.ApplicationSourceDirectory{Recurse: true, Exclude: "{skip-*,sub/*}"},
			want: []string{"ConfigMap /app", "ConfigMap /db", "ConfigMap /extra"},
		},
		{
			name: "include and exclude combine",
			path: "glob",
			dir:  &v1alpha1.ApplicationSourceDirectory{Recurse: true, Include: "*.yaml", Exclude: "db.yaml"},
			want: []string{"ConfigMap /app", "ConfigMap /skip-me", "ConfigMap /nested"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Root: "testdata/dir", Source: v1alpha1.ApplicationSource{Path: tt.path, Directory: tt.dir}}
			res, err := renderBoth(t, context.Background(), req, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if res.Type != TypeDirectory {
				t.Errorf("Type = %q, want %q", res.Type, TypeDirectory)
			}
			if diff := cmp.Diff(tt.want, describe(res.Objects)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderDirectoryKeepsValuesTyped(t *testing.T) {
	req := Request{Root: "testdata/dir", Source: v1alpha1.ApplicationSource{Path: "flat"}}
	res, err := renderBoth(t, context.Background(), req, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"apiVersion": "v1",
		"kind":       "Service",
		"metadata":   map[string]any{"name": "b"},
		"spec":       map[string]any{"ports": []any{map[string]any{"port": int64(80)}}},
	}
	if diff := cmp.Diff(want, res.Objects[2].Object); diff != "" {
		t.Errorf("b.json (-want +got):\n%s", diff)
	}
}

func TestRenderDirectoryErrors(t *testing.T) {
	small := DefaultOptions()
	small.MaxFileBytes = 64
	few := DefaultOptions()
	few.MaxObjects = 3
	total := DefaultOptions()
	total.MaxTotalBytes = 350 // a.yaml and b.json fit, list.yml does not
	tests := []struct {
		name string
		path string
		opts Options
		want wantErr
	}{
		{
			name: "invalid YAML names the file and document",
			path: "bad/invalid",
			want: wantErr{file: "bad/invalid/x.yaml", contains: "document 2: invalid YAML"},
		},
		{
			name: "an object without kind is refused",
			path: "bad/nokind",
			want: wantErr{file: "bad/nokind/x.yaml", contains: "document 1: object has no kind"},
		},
		{
			name: "an object without a name is refused",
			path: "bad/noname",
			want: wantErr{file: "bad/noname/x.yaml", contains: "document 1: ConfigMap has no metadata.name"},
		},
		{
			name: "a document that is not an object is refused",
			path: "bad/notobject",
			want: wantErr{file: "bad/notobject/x.yaml", contains: "not a Kubernetes object"},
		},
		{
			name: "a duplicate object names both files",
			path: "bad/dup",
			want: wantErr{file: "bad/dup/b.yaml", contains: "Deployment.apps/prod/api is already defined in bad/dup/a.yaml"},
		},
		{
			name: "a file over the size limit is refused",
			path: "bad/big",
			opts: small,
			want: wantErr{file: "bad/big/big.yaml", contains: "larger than the 64-byte limit"},
		},
		{
			name: "input over the total limit is refused",
			path: "flat",
			opts: total,
			want: wantErr{file: "flat/list.yml", contains: "exceed the 350-byte limit for one render"},
		},
		{
			name: "too many objects are refused",
			path: "flat",
			opts: few,
			want: wantErr{file: "flat/list.yml", contains: "more than 3 objects"},
		},
		{
			name: "a path leaving the repository is refused",
			path: "../",
			want: wantErr{file: "../", is: ErrPathEscapes, contains: "path escapes the repository"},
		},
		{
			name: "a path leaving the repository through a subdirectory is refused",
			path: "flat/../../kustomize",
			want: wantErr{is: ErrPathEscapes, contains: "path escapes the repository"},
		},
		{
			name: "a Jsonnet file is refused, not left out",
			path: "jsonnet",
			want: wantErr{file: "jsonnet/main.jsonnet", contains: "Jsonnet is not supported"},
		},
		{
			name: "a missing path is reported",
			path: "apps/x",
			want: wantErr{contains: "path apps/x does not exist in the repository"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Root: "testdata/dir", Source: v1alpha1.ApplicationSource{Path: tt.path, Directory: &v1alpha1.ApplicationSourceDirectory{Recurse: true}}}
			opts := tt.opts
			if opts.MaxFileBytes == 0 {
				opts = DefaultOptions()
			}
			res, err := renderBoth(t, context.Background(), req, opts)
			if res != nil {
				t.Errorf("Render returned a result with its error: %v", describe(res.Objects))
			}
			checkErr(t, err, tt.want)
		})
	}
}

// A Jsonnet file excluded by the directory's globs is no longer an error;
// .libsonnet files are libraries and never one.
func TestRenderDirectoryExcludedJsonnet(t *testing.T) {
	req := Request{Root: "testdata/dir", Source: v1alpha1.ApplicationSource{Path: "jsonnet", Directory: &v1alpha1.ApplicationSourceDirectory{Exclude: "*.jsonnet"}}}
	res, err := renderBoth(t, context.Background(), req, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(res.Objects); len(res.Objects) != 1 || res.Objects[0].GetName() != "plain" {
		t.Fatalf("objects: %v, want only ConfigMap plain", got)
	}
}

func TestRenderDirectorySymlinks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		link   string // relative to the app path
		target func(root string) string
		want   []string
		err    *wantErr
	}{
		{
			name:   "a symlinked file inside the repository is read",
			link:   "z.yaml",
			target: func(string) string { return "../flat/sub/c.yaml" },
			want:   []string{"ConfigMap /app", "ConfigMap /db", "ConfigMap /extra", "ConfigMap /skip-me", "ConfigMap /nested", "ConfigMap /c-*"},
		},
		{
			name:   "a symlinked file pointing outside the repository is refused",
			link:   "z.yaml",
			target: func(string) string { return outside },
			err:    &wantErr{file: "glob/z.yaml", is: ErrPathEscapes, contains: "glob/z.yaml: path escapes the repository"},
		},
		{
			name:   "a relative symlink climbing out of the repository is refused",
			link:   "z.yaml",
			target: func(root string) string { r, _ := filepath.Rel(filepath.Join(root, "glob"), outside); return r },
			err:    &wantErr{file: "glob/z.yaml", is: ErrPathEscapes, contains: "path escapes the repository"},
		},
		{
			name:   "a dangling symlink to a missing file outside is refused, not reported missing",
			link:   "z.yaml",
			target: func(string) string { return "/nonexistent/secret.yaml" },
			err:    &wantErr{file: "glob/z.yaml", is: ErrPathEscapes, contains: "path escapes the repository"},
		},
		{
			name:   "a symlinked directory pointing outside is refused when recursing",
			link:   "zdir",
			target: func(string) string { return filepath.Dir(outside) },
			err:    &wantErr{file: "glob/zdir", is: ErrPathEscapes, contains: "path escapes the repository"},
		},
		{
			name:   "a symlink loop ends",
			link:   "zdir",
			target: func(string) string { return "." },
			want:   []string{"ConfigMap /app", "ConfigMap /db", "ConfigMap /extra", "ConfigMap /skip-me", "ConfigMap /nested"},
		},
		{
			// Where it points is not looked at, so it is refused even
			// when it would not be read (as Argo CD refuses out-of-bounds
			// symlinks).
			name:   "a symlink that is not a manifest but leaves the repository is refused",
			link:   "README",
			target: func(string) string { return outside },
			err:    &wantErr{file: "glob/README", is: ErrPathEscapes, contains: "glob/README: path escapes the repository"},
		},
		{
			name:   "a dangling symlink inside the repository that is not a manifest is ignored",
			link:   "README",
			target: func(string) string { return "missing.txt" },
			want:   []string{"ConfigMap /app", "ConfigMap /db", "ConfigMap /extra", "ConfigMap /skip-me", "ConfigMap /nested"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyTree(t, "testdata/dir")
			symlink(t, tt.target(root), filepath.Join(root, "glob", tt.link))
			req := Request{Root: root, Source: v1alpha1.ApplicationSource{Path: "glob", Directory: &v1alpha1.ApplicationSourceDirectory{Recurse: true}}}
			res, err := renderBoth(t, context.Background(), req, DefaultOptions())
			if tt.err != nil {
				checkErr(t, err, *tt.err)
				if err != nil && strings.Contains(err.Error(), root) {
					t.Errorf("error %q shows the snapshot's location", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, describe(res.Objects)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderDirectorySymlinkedAppPathOutsideIsRefused(t *testing.T) {
	root := copyTree(t, "testdata/dir")
	symlink(t, t.TempDir(), filepath.Join(root, "elsewhere"))
	req := Request{Root: root, Source: v1alpha1.ApplicationSource{Path: "elsewhere"}}
	_, err := renderBoth(t, context.Background(), req, DefaultOptions())
	checkErr(t, err, wantErr{file: "elsewhere", is: ErrPathEscapes, contains: "path escapes the repository"})
}
