package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// examplesRepo pushes the repository's examples/ directory to a new repo.
func examplesRepo(t *testing.T, access gitserver.Access) *gitserver.Repo {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	r := newRepo(t, access, nil)
	if _, err := r.CommitDir("main", filepath.Join(root, "examples"), "", "examples"); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestKustomizeOverlayAndHelmChartFromTheExamples(t *testing.T) {
	e := startTether(t)
	repo := examplesRepo(t, gitserver.Anonymous)
	prod, staging, dev := destNamespace(t), destNamespace(t), destNamespace(t)

	e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: api-prod}
spec:
  source: {repoURL: REPO, targetRevision: main, path: apps/api/prod}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {prune: true}}
`, repo.HTTPURL(), prod)
	e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: api-helm}
spec:
  source:
    repoURL: REPO
    targetRevision: HEAD
    path: charts/api
    helm:
      valueFiles: [values-prod.yaml]
      parameters: [{name: service.port, value: "8081"}]
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {}}
`, repo.HTTPURL(), staging)
	e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: api-dev}
spec:
  source:
    repoURL: REPO
    targetRevision: main
    path: apps/api/dev
    kustomize:
      replicas: [{name: api, count: "2"}]
      patches:
      - target: {kind: Deployment, name: api}
        patch: '[{"op": "add", "path": "/spec/template/spec/containers/0/env", "value": [{"name": "DEBUG", "value": "1"}]}]'
      commonLabels: {team: core}
      labelWithoutSelector: true
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {}}
`, repo.HTTPURL(), dev)

	t.Run("the prod overlay of the Kustomize app is applied", func(t *testing.T) {
		a := e.waitApp(t, "api-prod", "synced and healthy", syncedHealthy(""))
		if a.Status.SourceType != "Kustomize" {
			t.Errorf("sourceType %q", a.Status.SourceType)
		}
		d, err := kube(t).AppsV1().Deployments(prod).Get(context.Background(), "api", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *d.Spec.Replicas != 3 || d.Labels["env"] != "prod" {
			t.Errorf("deployment replicas %d labels %v", *d.Spec.Replicas, d.Labels)
		}
	})

	t.Run("the Application's kustomize replicas, patches and labels are applied", func(t *testing.T) {
		e.waitApp(t, "api-dev", "synced and healthy", syncedHealthy(""))
		d, err := kube(t).AppsV1().Deployments(dev).Get(context.Background(), "api", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		env := d.Spec.Template.Spec.Containers[0].Env
		if *d.Spec.Replicas != 2 || len(env) != 1 || env[0].Name != "DEBUG" || d.Labels["team"] != "core" || d.Spec.Selector.MatchLabels["team"] != "" {
			t.Errorf("deployment replicas %d env %v labels %v selector %v", *d.Spec.Replicas, env, d.Labels, d.Spec.Selector.MatchLabels)
		}
	})

	t.Run("the Helm chart is rendered with values-prod.yaml and parameters", func(t *testing.T) {
		a := e.waitApp(t, "api-helm", "synced and healthy", syncedHealthy(""))
		if a.Status.SourceType != "Helm" {
			t.Errorf("sourceType %q", a.Status.SourceType)
		}
		// The release name defaults to the app's name.
		d, err := kube(t).AppsV1().Deployments(staging).Get(context.Background(), "api-helm", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if *d.Spec.Replicas != 5 || c.Image != "registry.example.com/api:v1.2.3" || c.Resources.Limits.Memory().String() != "1Gi" {
			t.Errorf("deployment: replicas %d image %s limits %v", *d.Spec.Replicas, c.Image, c.Resources.Limits)
		}
		svc, err := kube(t).CoreV1().Services(staging).Get(context.Background(), "api-helm", metav1.GetOptions{})
		if err != nil || svc.Spec.Ports[0].Port != 8081 {
			t.Errorf("service port from parameters: %v %v", svc, err)
		}
	})
}

func TestManualAppShowsDiffAndSyncsOnRequest(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("manual", "v1")})
	e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: manual}
spec:
  source: {repoURL: REPO, targetRevision: main, path: app}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
`, repo.HTTPURL(), dest)
	e.waitApp(t, "manual", "OutOfSync", func(a *v1alpha1.Application) bool { return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync })
	if configMap(t, dest, "manual") != nil {
		t.Fatal("a manual app must not be synced automatically")
	}

	out, err := runCLI(t, "app", "diff", "manual", "-n", e.ns)
	if err == nil || !strings.Contains(out, "ConfigMap/"+dest+"/manual (Create)") || !strings.Contains(out, `+  value: v1`) {
		t.Fatalf("diff (err %v):\n%s", err, out)
	}

	out, err = runCLI(t, "app", "sync", "manual", "-n", e.ns, "--dry-run")
	if err != nil || !strings.Contains(out, "dry run") || configMap(t, dest, "manual") != nil {
		t.Fatalf("dry-run sync changed the cluster or failed (err %v):\n%s", err, out)
	}

	out, err = runCLI(t, "app", "sync", "manual", "-n", e.ns)
	if err != nil || !strings.Contains(out, "Succeeded") {
		t.Fatalf("sync (err %v):\n%s", err, out)
	}
	if cm := configMap(t, dest, "manual"); cm == nil || cm.Data["value"] != "v1" {
		t.Fatalf("configmap after sync: %v", cm)
	}
	a := e.waitApp(t, "manual", "Synced", synced(""))
	if h := a.Status.History; len(h) != 1 || h[0].InitiatedBy.Username == "" || h[0].InitiatedBy.Trigger != "user" {
		t.Errorf("history must name the user: %+v", h)
	}
	out, err = runCLI(t, "app", "diff", "manual", "-n", e.ns)
	if err != nil || !strings.Contains(out, "no differences") {
		t.Fatalf("diff after sync (err %v):\n%s", err, out)
	}
	out, err = runCLI(t, "app", "list", "-n", e.ns)
	if err != nil || !strings.Contains(out, "manual") || !strings.Contains(out, "Synced") {
		t.Fatalf("list (err %v):\n%s", err, out)
	}
	out, err = runCLI(t, "app", "get", "manual", "-n", e.ns, "-o", "json")
	if err != nil || !strings.Contains(out, `"status"`) {
		t.Fatalf("get -o json (err %v):\n%s", err, out)
	}
}

const crdApp = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.e2e.tether.dev}
spec:
  group: e2e.tether.dev
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, default: 1}
---
apiVersion: e2e.tether.dev/v1
kind: Gadget
metadata: {name: g1}
spec: {}
`

func TestCRDAndItsCustomResourceInOneAppWithCreateNamespace(t *testing.T) {
	e := startTether(t)
	dest := e.namespaceToCreate(t, "created-")
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/all.yaml": crdApp})
	e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: gadgets}
spec:
  source: {repoURL: REPO, targetRevision: main, path: app}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy:
    automated: {prune: true}
    syncOptions: [CreateNamespace=true]
`, repo.HTTPURL(), dest)
	a := e.waitApp(t, "gadgets", "synced and healthy", syncedHealthy(""))
	if len(a.Status.Resources) != 2 {
		t.Fatalf("resources: %s", describeStatus(a))
	}
	if _, err := kube(t).CoreV1().Namespaces().Get(context.Background(), dest, metav1.GetOptions{}); err != nil {
		t.Fatalf("namespace not created: %v", err)
	}
	// The custom resource exists in the new namespace with its schema default applied,
	// and the default does not make the app OutOfSync.
	out, err := runCLI(t, "app", "diff", "gadgets", "-n", e.ns)
	if err != nil {
		t.Fatalf("diff after sync (err %v):\n%s", err, out)
	}
}

func TestDeletionWithAndWithoutTheFinalizer(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	keep := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept-on-delete\n  annotations: {argocd.argoproj.io/sync-options: Delete=false}\n"
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"with/cm.yaml":    cmYAML("with-finalizer", "x"),
		"with/keep.yaml":  keep,
		"without/cm.yaml": cmYAML("without-finalizer", "x"),
	})
	for _, tc := range []struct{ name, path, finalizers string }{
		{"with", "with", "finalizers: [resources-finalizer.argocd.argoproj.io]"},
		{"without", "without", ""},
	} {
		e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: `+tc.name+`, `+tc.finalizers+`}
spec:
  source: {repoURL: REPO, targetRevision: main, path: `+tc.path+`}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {}}
`, repo.HTTPURL(), dest)
	}
	e.waitApp(t, "with", "synced", synced(""))
	e.waitApp(t, "without", "synced", synced(""))
	for _, name := range []string{"with", "without"} {
		if err := e.c.Delete(context.Background(), e.app(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30e9, "app with the finalizer gone with its objects", func(ctx context.Context) (bool, error) {
		var l v1alpha1.ApplicationList
		if err := e.c.List(ctx, &l); err != nil {
			return false, err
		}
		for _, a := range l.Items {
			if a.Namespace == e.ns {
				return false, nil
			}
		}
		return configMap(t, dest, "with-finalizer") == nil, nil
	})
	if configMap(t, dest, "without-finalizer") == nil {
		t.Fatal("deleting an app without the finalizer must leave its objects")
	}
	if configMap(t, dest, "kept-on-delete") == nil {
		t.Fatal("an object annotated Delete=false must survive the app's deletion")
	}
}

func TestPrivateRepositoriesOverHTTPSAndSSH(t *testing.T) {
	e := startTether(t)
	srv := git(t)
	dest := destNamespace(t)
	httpRepo := newRepo(t, gitserver.BasicAuth, map[string]string{"app/cm.yaml": cmYAML("over-http", "x")})
	sshRepo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("over-ssh", "x")})
	secrets := []*corev1.Secret{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "http-repo", Labels: map[string]string{"argocd.argoproj.io/secret-type": "repository"}},
			StringData: map[string]string{"url": httpRepo.HTTPURL(), "username": srv.Username(), "password": srv.Password()},
		},
		{
			// repo-creds match by URL prefix.
			ObjectMeta: metav1.ObjectMeta{Name: "ssh-creds", Labels: map[string]string{"argocd.argoproj.io/secret-type": "repo-creds"}},
			StringData: map[string]string{"url": "ssh://git@" + srv.SSHAddr() + "/", "sshPrivateKey": string(srv.ClientPrivateKey()), "sshKnownHosts": string(srv.KnownHosts())},
		},
	}
	for _, s := range secrets {
		if _, err := kube(t).CoreV1().Secrets(e.ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for name, url := range map[string]string{"over-http": httpRepo.HTTPURL(), "over-ssh": sshRepo.SSHURL()} {
		e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: `+name+`}
spec:
  source: {repoURL: REPO, targetRevision: main, path: app}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {}}
`, url, dest)
	}
	e.waitApp(t, "over-http", "synced", synced(""))
	e.waitApp(t, "over-ssh", "synced", synced(""))
	if configMap(t, dest, "over-http") == nil || configMap(t, dest, "over-ssh") == nil {
		t.Fatal("objects from private repositories missing")
	}
}
