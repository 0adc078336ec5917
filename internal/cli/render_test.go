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
	writeTree(t, chart, files)
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

// writeTree writes files under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, d := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRenderOneSourceOfSeveral(t *testing.T) {
	dir := t.TempDir()
	chart, config := filepath.Join(dir, "web"), filepath.Join(dir, "config")
	writeTree(t, chart, map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
		"values.yaml":       "color: blue\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-cfg}\ndata: {color: {{ .Values.color }}}\n",
	})
	writeTree(t, config, map[string]string{"envs/prod.yaml": "color: green\n"})
	app := filepath.Join(dir, "app.yaml")
	writeTree(t, dir, map[string]string{"app.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  sources:
  - {repoURL: "https://charts.example.test", chart: web, targetRevision: 1.0.0, helm: {valueFiles: [$config/envs/prod.yaml]}}
  - {repoURL: "https://git.example.test/config", targetRevision: main, ref: config}
  destination: {server: https://kubernetes.default.svc, namespace: prod}
`})
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := Execute(context.Background(), append([]string{"render"}, args...), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	// Only the chart renders: no position needed; the ref's checkout is given.
	out, err := run(chart, "--app", app, "--ref", "config="+config)
	if err != nil || !strings.Contains(out, "name: shop-cfg") || !strings.Contains(out, "color: green") {
		t.Errorf("render: %v\n%s", err, out)
	}
	if _, err := run(chart, "--app", app); err == nil || !strings.Contains(err.Error(), `no source of the app has ref "config"`) {
		t.Errorf("without --ref: %v", err)
	}
	for args, want := range map[string]string{
		"--source-position=2":    `only lends its files (ref "config"); give its checkout with --ref config=DIR`,
		"--source-position=3":    "has 2 sources (spec.sources), numbered 1 to 2",
		"--ref=config":           `--ref "config": want NAME=DIR`,
		"--ref=config=/nonexist": "--ref config: /nonexist is not a directory",
	} {
		if _, err := run(chart, "--app", app, args); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", args, err, want)
		}
	}
}
