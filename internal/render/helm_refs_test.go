package render

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// refRepo writes a repository of value files that another source of the
// app can name as "$values/...", and returns its directory.
func refRepo(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "config")
	writeFile(t, filepath.Join(root, "envs/prod/api.yaml"), "replicas: 7\nimage:\n  tag: v9.9.9\n")
	writeFile(t, filepath.Join(root, "envs/prod/more.yaml"), "replicas: 8\n")
	return root
}

func deploymentLine(t *testing.T, res *Result) string {
	t.Helper()
	for _, d := range describe(res.Objects) {
		if len(d) > 10 && d[:10] == "Deployment" {
			return d
		}
	}
	t.Fatalf("no Deployment in %q", describe(res.Objects))
	return ""
}

func TestHelmValueFilesFromRefSource(t *testing.T) {
	ctx := context.Background()
	refs := map[string]fs.FS{"values": loadMapFS(t, refRepo(t))}
	req := Request{Root: "testdata/helm", AppName: "shop", Refs: refs, Source: v1alpha1.ApplicationSource{
		Path: "charts/api",
		Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values-prod.yaml", "$values/envs/prod/api.yaml"}},
	}}
	res, err := renderBoth(t, ctx, req, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// values-prod.yaml says 5 replicas and v1.2.3; the ref file comes later
	// and wins.
	if got, want := deploymentLine(t, res), "Deployment /shop replicas=7 image=registry.example.com/api:v9.9.9"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Files of the ref source are not inputs of this repository.
	for _, in := range res.Inputs {
		if in == "envs" || filepath.Dir(in) == "envs/prod" {
			t.Errorf("input %q belongs to the ref source", in)
		}
	}

	// Order decides: a later ref file overrides an earlier one.
	req.Source.Helm.ValueFiles = []string{"$values/envs/prod/api.yaml", "$values/envs/prod/more.yaml"}
	res, err = renderBoth(t, ctx, req, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := deploymentLine(t, res), "Deployment /shop replicas=8 image=registry.example.com/api:v9.9.9"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	// A missing ref file is skipped with ignoreMissingValueFiles.
	req.Source.Helm.ValueFiles = []string{"$values/envs/dev/api.yaml"}
	req.Source.Helm.IgnoreMissingValueFiles = true
	res, err = renderBoth(t, ctx, req, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := deploymentLine(t, res), "Deployment /shop replicas=1 image=registry.example.com/api:v1.0.0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHelmRefValueFileErrors(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		setup func(t *testing.T, ref string)
		opts  func(*Options)
		want  wantErr
	}{
		{
			name: "an unknown ref is named",
			file: "$config/envs/prod/api.yaml",
			want: wantErr{file: "$config/envs/prod/api.yaml", contains: `no source of the app has ref "config"`},
		},
		{
			name: "a ref without a path is refused",
			file: "$values",
			want: wantErr{file: "$values", contains: `written "$<ref>/<path in its repository>"`},
		},
		{
			name: "a ref with an empty path is refused",
			file: "$values/",
			want: wantErr{file: "$values/", contains: `written "$<ref>/<path in its repository>"`},
		},
		{
			name: "climbing out of the ref repository is refused",
			file: "$values/../../../etc/passwd",
			want: wantErr{file: "$values/../../../etc/passwd", is: ErrPathEscapes, contains: "stay inside"},
		},
		{
			name: "a symlink out of the ref repository is refused",
			file: "$values/envs/prod/leak.yaml",
			setup: func(t *testing.T, ref string) {
				symlink(t, "/etc/passwd", filepath.Join(ref, "envs/prod/leak.yaml"))
			},
			want: wantErr{file: "$values/envs/prod/leak.yaml", is: ErrPathEscapes, contains: "path escapes the repository"},
		},
		{
			name: "a missing ref file is an error",
			file: "$values/envs/dev/api.yaml",
			want: wantErr{file: "$values/envs/dev/api.yaml", is: os.ErrNotExist, contains: "value file does not exist"},
		},
		{
			name: "an invalid ref file names it",
			file: "$values/bad.yaml",
			setup: func(t *testing.T, ref string) {
				writeFile(t, filepath.Join(ref, "bad.yaml"), "a: [unclosed\n")
			},
			want: wantErr{file: "$values/bad.yaml", contains: "invalid values"},
		},
		{
			name: "a ref file counts against the render's byte budget",
			file: "$values/envs/prod/api.yaml",
			opts: func(o *Options) { o.MaxTotalBytes = 3000 },
			setup: func(t *testing.T, ref string) {
				writeFile(t, filepath.Join(ref, "envs/prod/api.yaml"), "pad: \""+string(slices.Repeat([]byte("x"), 2900))+"\"\n")
			},
			want: wantErr{file: "$values/envs/prod/api.yaml", contains: "byte limit for one render"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := refRepo(t)
			if tt.setup != nil {
				tt.setup(t, ref)
			}
			opts := DefaultOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			req := Request{Root: "testdata/helm", AppName: "shop", Refs: map[string]fs.FS{"values": loadMapFS(t, ref)}, Source: v1alpha1.ApplicationSource{
				Path: "charts/api",
				Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{tt.file}},
			}}
			_, err := renderBoth(t, context.Background(), req, opts)
			checkErr(t, err, tt.want)
		})
	}
}

func TestHelmFileParametersAndOptions(t *testing.T) {
	root := copyTree(t, "testdata/helm")
	writeFile(t, filepath.Join(root, "charts/api/files/motd.txt"), "hello, world\nline two")
	writeFile(t, filepath.Join(root, "charts/api/values.schema.json"), `{"type": "object", "properties": {"replicas": {"type": "integer"}}}`)
	render := func(h *v1alpha1.ApplicationSourceHelm) (*Result, error) {
		req := Request{Root: root, AppName: "shop", Source: v1alpha1.ApplicationSource{Path: "charts/api", Helm: h}}
		return renderBoth(t, context.Background(), req, DefaultOptions())
	}
	res, err := render(&v1alpha1.ApplicationSourceHelm{
		FileParameters: []v1alpha1.HelmFileParameter{{Name: "extra.motd", Path: "files/motd.txt"}},
		SkipTests:      true, Version: "v3",
	})
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedString(find(t, res.Objects, "ConfigMap").Object, "data", "extra")
	if want := `{"motd":"hello, world\nline two"}`; data != want {
		t.Errorf("extra = %s, want %s", data, want)
	}

	// The schema says replicas is an integer.
	bad := &v1alpha1.ApplicationSourceHelm{Parameters: []v1alpha1.HelmParameter{{Name: "replicas", Value: "many", ForceString: true}}}
	_, err = render(bad)
	checkErr(t, err, wantErr{file: "charts/api/values.schema.json", contains: "replicas"})
	bad.SkipSchemaValidation = true
	if _, err := render(bad); err != nil {
		t.Errorf("skipSchemaValidation: %v", err)
	}

	for _, tc := range []struct {
		h    *v1alpha1.ApplicationSourceHelm
		want wantErr
	}{
		{&v1alpha1.ApplicationSourceHelm{FileParameters: []v1alpha1.HelmFileParameter{{Name: "x", Path: "../../../../etc/passwd"}}}, wantErr{is: ErrPathEscapes, contains: "path escapes the repository"}},
		{&v1alpha1.ApplicationSourceHelm{FileParameters: []v1alpha1.HelmFileParameter{{Name: "x", Path: "files/none.txt"}}}, wantErr{file: "charts/api/files/none.txt", is: os.ErrNotExist}},
		{&v1alpha1.ApplicationSourceHelm{FileParameters: []v1alpha1.HelmFileParameter{{Name: "x", Path: "/etc/passwd"}}}, wantErr{file: "/etc/passwd", contains: "relative to the chart"}},
		{&v1alpha1.ApplicationSourceHelm{FileParameters: []v1alpha1.HelmFileParameter{{Name: "x"}}}, wantErr{contains: "fileParameters[0]: name and path are required"}},
		{&v1alpha1.ApplicationSourceHelm{Version: "v2"}, wantErr{contains: `helm version "v2": only v3 is supported`}},
	} {
		_, err := render(tc.h)
		checkErr(t, err, tc.want)
	}
}
