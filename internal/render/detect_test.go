package render

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestDetectType(t *testing.T) {
	root := t.TempDir()
	for dir, file := range map[string]string{
		"chart":     "Chart.yaml",
		"kust-yaml": "kustomization.yaml",
		"kust-yml":  "kustomization.yml",
		"kust-bare": "Kustomization",
		"plain":     "deployment.yaml",
	} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, dir, file), "")
	}
	tests := []struct {
		name string
		path string
		src  v1alpha1.ApplicationSource
		want string
	}{
		{name: "a Chart.yaml means Helm", path: "chart", want: TypeHelm},
		{name: "kustomization.yaml means Kustomize", path: "kust-yaml", want: TypeKustomize},
		{name: "kustomization.yml means Kustomize", path: "kust-yml", want: TypeKustomize},
		{name: "Kustomization means Kustomize", path: "kust-bare", want: TypeKustomize},
		{name: "anything else is a directory", path: "plain", want: TypeDirectory},
		{name: "a helm section wins over the files", path: "kust-yaml", src: v1alpha1.ApplicationSource{Helm: &v1alpha1.ApplicationSourceHelm{}}, want: TypeHelm},
		{name: "a kustomize section wins over the files", path: "plain", src: v1alpha1.ApplicationSource{Kustomize: &v1alpha1.ApplicationSourceKustomize{}}, want: TypeKustomize},
		{name: "a directory section wins over the files", path: "chart", src: v1alpha1.ApplicationSource{Directory: &v1alpha1.ApplicationSourceDirectory{}}, want: TypeDirectory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DetectType(root, tt.path, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DetectType = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDetectTypeRefusesTwoExplicitTypes(t *testing.T) {
	src := v1alpha1.ApplicationSource{Helm: &v1alpha1.ApplicationSourceHelm{}, Directory: &v1alpha1.ApplicationSourceDirectory{}}
	_, err := DetectType("testdata/dir", "flat", src)
	checkErr(t, err, wantErr{contains: "source sets more than one type: Helm, Directory"})
}

func TestDetectTypeRefusesEscapes(t *testing.T) {
	_, err := DetectType("testdata/dir", "../kustomize", v1alpha1.ApplicationSource{})
	checkErr(t, err, wantErr{file: "../kustomize", is: ErrPathEscapes, contains: "path escapes the repository"})
}
