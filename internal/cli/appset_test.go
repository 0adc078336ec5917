package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

const seedAppSet = `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: api, namespace: argocd}
spec:
  generators:
  - list:
      elements: [{env: dev}, {env: staging}, {env: prod}]
  template:
    metadata: {name: 'api-{{env}}'}
    spec:
      project: default
      source: {repoURL: https://git.example/infra, targetRevision: main, path: 'apps/api/{{env}}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{env}}'}
`

// runAppSet runs `tether appset generate` on manifest with extra args.
func runAppSet(t *testing.T, manifest string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "appset.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = Execute(context.Background(), append([]string{"appset", "generate", file}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

// parseApps reads a YAML stream of Applications.
func parseApps(t *testing.T, stream string) []v1alpha1.Application {
	t.Helper()
	var apps []v1alpha1.Application
	for _, doc := range strings.Split(stream, "---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var a v1alpha1.Application
		if err := yaml.UnmarshalStrict([]byte(doc), &a); err != nil {
			t.Fatalf("output document %q: %v", doc, err)
		}
		apps = append(apps, a)
	}
	return apps
}

func TestAppSetGenerateSeed(t *testing.T) {
	out, stderr, err := runAppSet(t, seedAppSet)
	if err != nil {
		t.Fatalf("appset generate: %v\n%s", err, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr %q, want nothing", stderr)
	}
	apps := parseApps(t, out)
	if len(apps) != 3 {
		t.Fatalf("%d Applications, want 3:\n%s", len(apps), out)
	}
	for i, env := range []string{"dev", "staging", "prod"} {
		a := apps[i]
		if a.APIVersion != "argoproj.io/v1alpha1" || a.Kind != "Application" {
			t.Errorf("%s: apiVersion %q kind %q", a.Name, a.APIVersion, a.Kind)
		}
		if a.Name != "api-"+env || a.Namespace != "argocd" {
			t.Errorf("Application %d is %s/%s, want argocd/api-%s", i, a.Namespace, a.Name, env)
		}
		if a.Spec.Source.Path != "apps/api/"+env || a.Spec.Destination.Namespace != env {
			t.Errorf("%s: path %q, destination namespace %q", a.Name, a.Spec.Source.Path, a.Spec.Destination.Namespace)
		}
		if a.Spec.Project != "default" || a.Spec.Source.RepoURL != "https://git.example/infra" || a.Spec.Source.TargetRevision != "main" ||
			a.Spec.Destination.Server != "https://kubernetes.default.svc" {
			t.Errorf("%s: spec %+v", a.Name, a.Spec)
		}
	}
	if strings.Contains(out, "status") || strings.Contains(out, "creationTimestamp") {
		t.Errorf("output carries empty status or creationTimestamp:\n%s", out)
	}

	out, _, err = runAppSet(t, seedAppSet, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Kind  string
		Items []v1alpha1.Application
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || list.Kind != "List" || len(list.Items) != 3 {
		t.Errorf("-o json: %v, %q with %d items:\n%s", err, list.Kind, len(list.Items), out)
	}
}

func TestAppSetGenerateErrors(t *testing.T) {
	dup := strings.Replace(seedAppSet, "'api-{{env}}'", "api", 1)
	out, _, err := runAppSet(t, dup)
	if err == nil || ExitCode(err) == 0 {
		t.Fatalf("duplicate names: err %v, want a failure", err)
	}
	for _, want := range []string{"ApplicationSet argocd/api", "spec.generators[0].list.elements[0] and spec.generators[0].list.elements[1]", "argocd/api"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if out != "" {
		t.Errorf("printed %q with an error, want nothing", out)
	}

	_, _, err = runAppSet(t, strings.Replace(seedAppSet, "kind: ApplicationSet", "kind: Application", 1))
	if err == nil || !strings.Contains(err.Error(), `kind is "Application"`) {
		t.Errorf("wrong kind: %v", err)
	}

	_, _, err = runAppSet(t, seedAppSet, "--cluster", "nope")
	if err == nil || !strings.Contains(err.Error(), "NAME=SERVER") {
		t.Errorf("bad --cluster: %v", err)
	}

	_, stderr, err := runAppSet(t, strings.Replace(seedAppSet, "spec:\n  generators:", "spec:\n  strategy: {type: RollingSync}\n  generators:", 1))
	if err != nil || !strings.Contains(stderr, `warning: ApplicationSet argocd/api: unknown field "spec.strategy"`) {
		t.Errorf("unknown field: err %v, stderr %q", err, stderr)
	}
}

func TestAppSetGenerateClusters(t *testing.T) {
	manifest := `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: guestbook, namespace: argocd}
spec:
  generators:
  - clusters: {SELECTOR}
  template:
    metadata: {name: 'guestbook-{{name}}'}
    spec:
      destination: {server: '{{server}}', namespace: '{{metadata.labels.env}}'}
`
	out, _, err := runAppSet(t, strings.Replace(manifest, "{SELECTOR}", "{}", 1))
	if err != nil {
		t.Fatal(err)
	}
	if apps := parseApps(t, out); len(apps) != 1 || apps[0].Name != "guestbook-in-cluster" {
		t.Errorf("without --cluster: %d Applications, want guestbook-in-cluster:\n%s", len(apps), out)
	}

	out, _, err = runAppSet(t, strings.Replace(manifest, "{SELECTOR}", "{selector: {matchLabels: {argocd.argoproj.io/secret-type: cluster}}}", 1),
		"--cluster", "prod=https://10.0.0.1,env=prod", "--cluster", "staging=https://10.0.0.2/,env=staging")
	if err != nil {
		t.Fatal(err)
	}
	apps := parseApps(t, out)
	if len(apps) != 2 || apps[0].Name != "guestbook-prod" || apps[1].Spec.Destination.Server != "https://10.0.0.2" ||
		apps[1].Spec.Destination.Namespace != "staging" {
		t.Errorf("with --cluster:\n%s", out)
	}
}

func TestAppSetGenerateGit(t *testing.T) {
	srv, err := gitserver.Start(gitserver.Options{})
	if err != nil {
		t.Skipf("git server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	repo, err := srv.CreateRepo("addons", gitserver.Anonymous)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit("main", map[string]string{
		"addons/metrics/kustomization.yaml": "resources: []\n",
		"addons/ingress/kustomization.yaml": "resources: []\n",
	}, nil, "addons"); err != nil {
		t.Fatal(err)
	}
	manifest := strings.ReplaceAll(`apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: addons, namespace: argocd}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - git:
      repoURL: REPO
      revision: main
      directories: [{path: 'addons/*'}]
  template:
    metadata: {name: '{{.path.basename}}'}
    spec:
      source: {repoURL: REPO, path: '{{.path.path}}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{.path.basename}}'}
`, "REPO", repo.HTTPURL())
	out, stderr, err := runAppSet(t, manifest)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	apps := parseApps(t, out)
	if len(apps) != 2 || apps[0].Name != "ingress" || apps[1].Spec.Source.Path != "addons/metrics" {
		t.Errorf("git directories:\n%s", out)
	}

	_, _, err = runAppSet(t, strings.Replace(manifest, "revision: main", "revision: gone", 1))
	if err == nil || !strings.Contains(err.Error(), "ApplicationSet argocd/addons: spec.generators[0].git") {
		t.Errorf("missing revision: %v", err)
	}
}
