package render

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestRenderHelmErrors(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		helm  *v1alpha1.ApplicationSourceHelm
		setup func(t *testing.T, root string) // on a copy of testdata/helm
		want  wantErr
	}{
		{
			name: "a value file climbing out of the repository is refused",
			path: "charts/api",
			helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"../../../etc/passwd"}},
			want: wantErr{file: "../../../etc/passwd", is: ErrPathEscapes, contains: "path escapes the repository"},
		},
		{
			name: "a value file symlinked outside is refused",
			path: "charts/api",
			helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values-link.yaml"}},
			setup: func(t *testing.T, root string) {
				symlink(t, "/etc/passwd", filepath.Join(root, "charts/api/values-link.yaml"))
			},
			want: wantErr{file: "charts/api/values-link.yaml", is: ErrPathEscapes, contains: "path escapes the repository"},
		},
		{
			name: "an absolute value file path is refused",
			path: "charts/api",
			helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"/etc/passwd"}},
			want: wantErr{file: "/etc/passwd", contains: "absolute value file paths are not supported"},
		},
		{
			name: "a remote value file is refused",
			path: "charts/api",
			helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"https://example.com/values.yaml"}},
			want: wantErr{file: "https://example.com/values.yaml", contains: "remote value files are not supported"},
		},
		{
			name: "a missing value file is an error",
			path: "charts/api",
			helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values-nope.yaml"}},
			want: wantErr{file: "charts/api/values-nope.yaml", is: os.ErrNotExist, contains: "value file does not exist"},
		},
		{
			name: "an invalid value file names it",
			path: "charts/api",
			helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"bad.yaml"}},
			setup: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "charts/api/bad.yaml"), "a: [unclosed\n")
			},
			want: wantErr{file: "charts/api/bad.yaml", contains: "invalid values"},
		},
		{
			name: "a template symlinked outside is refused",
			path: "charts/api",
			setup: func(t *testing.T, root string) {
				symlink(t, "/etc/hostname", filepath.Join(root, "charts/api/templates/leak.yaml"))
			},
			want: wantErr{file: "charts/api/templates/leak.yaml", is: ErrPathEscapes, contains: "path escapes the repository"},
		},
		{
			name: "a template error names the template",
			path: "charts/broken",
			want: wantErr{file: "charts/broken/templates/needs-value.yaml", contains: "databaseHost is required"},
		},
		{
			name: "a template rendering an invalid manifest names the template",
			path: "charts/broken",
			helm: &v1alpha1.ApplicationSourceHelm{Values: "databaseHost: 'a: b: c'"},
			want: wantErr{file: "charts/broken/templates/needs-value.yaml", contains: "YAML"},
		},
		{
			name: "a dependency missing from charts/ is named",
			path: "charts/missingdep",
			want: wantErr{file: "charts/missingdep/Chart.yaml", contains: "missing from charts/: redis"},
		},
		{
			name: "a bad parameter is reported",
			path: "charts/api",
			helm: &v1alpha1.ApplicationSourceHelm{Parameters: []v1alpha1.HelmParameter{{Name: "a[x]", Value: "1"}}},
			want: wantErr{contains: `helm parameter "a[x]"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := "testdata/helm"
			if tt.setup != nil {
				root = copyTree(t, root)
				tt.setup(t, root)
			}
			req := Request{Root: root, Source: v1alpha1.ApplicationSource{Path: tt.path, Helm: tt.helm}, AppName: "shop"}
			_, err := renderBoth(t, context.Background(), req, DefaultOptions())
			checkErr(t, err, tt.want)
		})
	}
}
