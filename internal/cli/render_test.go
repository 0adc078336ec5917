package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderTakesTheCheckoutAsTheChartOfAHelmRepositoryApp(t *testing.T) {
	dir := t.TempDir()
	chart := filepath.Join(dir, "web")
	files := map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"values.yaml":       "color: blue\n",
		"values-prod.yaml":  "color: red\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-cfg}\ndata: {color: {{ .Values.color }}}\n",
	}
	for p, d := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(chart, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(chart, p), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	app := filepath.Join(dir, "app.yaml")
	manifest := `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  source: {repoURL: "https://charts.example.test", chart: web, targetRevision: 1.0.0, helm: {valueFiles: [values-prod.yaml]}}
  destination: {server: https://kubernetes.default.svc, namespace: prod}
`
	if err := os.WriteFile(app, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := Execute(context.Background(), []string{"render", chart, "--app", app}, &out, &errOut); err != nil {
		t.Fatalf("render: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "name: shop-cfg") || !strings.Contains(out.String(), "color: red") {
		t.Errorf("output:\n%s", out.String())
	}
}
