package render

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv"
)

// maxBombAlloc bounds what refusing an alias bomb may allocate.
const maxBombAlloc = 16 << 20

func TestRenderRefusesAliasBombs(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		src   v1alpha1.ApplicationSource
		want  wantErr
	}{
		{
			name:  "in a directory manifest",
			files: map[string]string{"bomb.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n---\n" + testenv.AliasBomb()},
			want:  wantErr{file: "bomb.yaml", contains: "bomb.yaml: document 2: YAML aliases expand it"},
		},
		{
			name:  "in a kustomize resource",
			files: map[string]string{"kustomization.yaml": "resources:\n- bomb.yaml\n", "bomb.yaml": testenv.AliasBomb()},
			want:  wantErr{file: "bomb.yaml", contains: "YAML aliases expand it"},
		},
		{
			name:  "in a kustomization",
			files: map[string]string{"kustomization.yaml": "resources: []\n" + testenv.AliasBomb()[len("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\n"):]},
			want:  wantErr{file: "kustomization.yaml", contains: "YAML aliases expand it"},
		},
		{
			name:  "in a Helm value file",
			files: map[string]string{"Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n", "bomb.yaml": testenv.AliasBomb()},
			src:   v1alpha1.ApplicationSource{Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"bomb.yaml"}}},
			want:  wantErr{file: "bomb.yaml", contains: "excessive aliasing"},
		},
		{
			name:  "in Helm values",
			files: map[string]string{"Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n"},
			src:   v1alpha1.ApplicationSource{Helm: &v1alpha1.ApplicationSourceHelm{Values: testenv.AliasBomb()}},
			want:  wantErr{contains: "excessive aliasing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, filepath.Join(root, name), content)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := renderBoth(t, ctx, Request{Root: root, Source: tt.src, AppName: "app"}, DefaultOptions())
			runtime.ReadMemStats(&after)
			checkErr(t, err, tt.want)
			// Expanded, the bomb is gigabytes; refused, it costs a few
			// parses of a small file (twice: disk and in-memory FS).
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxBombAlloc {
				t.Errorf("refusing the alias bomb allocated %d MiB, want at most %d MiB", alloc>>20, maxBombAlloc>>20)
			}
		})
	}
}
