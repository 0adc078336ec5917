package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

const simpleApp = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: NAME}
spec:
  source: {repoURL: REPO, targetRevision: main, path: app}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {prune: true}}
`

func named(name string) string { return strings.Replace(simpleApp, "NAME", name, 1) }

func TestSourceProblemsKeepTheLastSyncedState(t *testing.T) {
	e := startTether(t)
	srv := git(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.BasicAuth, map[string]string{"app/cm.yaml": cmYAML("kept", "v1")})
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds", Labels: map[string]string{"argocd.argoproj.io/secret-type": "repository"}},
		StringData: map[string]string{"url": repo.HTTPURL(), "username": srv.Username(), "password": srv.Password()},
	}
	if _, err := kube(t).CoreV1().Secrets(e.ns).Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.createApp(t, named("app"), repo.HTTPURL(), dest)
	e.waitApp(t, "app", "synced", synced(""))

	t.Run("wrong credentials name the repository and never show the password", func(t *testing.T) {
		s, err := kube(t).CoreV1().Secrets(e.ns).Get(context.Background(), "creds", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Data["password"] = []byte("Wr0ng-Pa55word")
		if _, err := kube(t).CoreV1().Secrets(e.ns).Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		a := e.waitAppRefreshing(t, "app", "comparison error naming the repo", hasCondition(v1alpha1.ConditionComparisonError, repo.HTTPURL()))
		for _, c := range a.Status.Conditions {
			if strings.Contains(c.Message, "Wr0ng-Pa55word") || strings.Contains(c.Message, srv.Password()) {
				t.Fatalf("condition shows a password: %s", c.Message)
			}
		}
		if configMap(t, dest, "kept") == nil {
			t.Fatal("the last synced state was removed")
		}
	})

	t.Run("a branch that does not exist is named", func(t *testing.T) {
		s, err := kube(t).CoreV1().Secrets(e.ns).Get(context.Background(), "creds", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Data["password"] = []byte(srv.Password())
		if _, err := kube(t).CoreV1().Secrets(e.ns).Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"source":{"targetRevision":"no-such-branch"}}}`))
		if err := e.c.Patch(context.Background(), e.app(t, "app"), patch); err != nil {
			t.Fatal(err)
		}
		e.waitAppRefreshing(t, "app", "missing branch condition", hasCondition(v1alpha1.ConditionComparisonError, `"no-such-branch" not found`))
		if configMap(t, dest, "kept") == nil {
			t.Fatal("the last synced state was removed")
		}
	})

	t.Run("an unreachable repository is named", func(t *testing.T) {
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"source":{"repoURL":"http://127.0.0.1:1/gone.git","targetRevision":"main"}}}`))
		if err := e.c.Patch(context.Background(), e.app(t, "app"), patch); err != nil {
			t.Fatal(err)
		}
		e.waitApp(t, "app", "unreachable condition", hasCondition(v1alpha1.ConditionComparisonError, "http://127.0.0.1:1/gone.git"))
		if configMap(t, dest, "kept") == nil {
			t.Fatal("the last synced state was removed")
		}
	})
}

func TestRenderErrorsNameTheFileAndApplyNothing(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	cases := map[string]struct {
		files map[string]string
		want  string
	}{
		"bad-yaml":      {map[string]string{"app/good.yaml": cmYAML("good-1", "x"), "app/broken.yaml": "kind: ConfigMap\nmetadata: [unclosed\n"}, "app/broken.yaml"},
		"no-kind":       {map[string]string{"app/good.yaml": cmYAML("good-2", "x"), "app/nokind.yaml": "apiVersion: v1\nmetadata: {name: x}\n"}, "app/nokind.yaml"},
		"duplicate":     {map[string]string{"app/a.yaml": cmYAML("dup", "1"), "app/b.yaml": cmYAML("dup", "2")}, "app/b.yaml"},
		"bad-kustomize": {map[string]string{"app/kustomization.yaml": "resources: [missing.yaml]\n"}, "kustomization.yaml"},
		"escape":        {map[string]string{"app/kustomization.yaml": "resources: [../../../etc]\n"}, "escapes the repository"},
		// Read from Git objects: refused from the blob's size, unread.
		"too-large":  {map[string]string{"app/good.yaml": cmYAML("good-3", "x"), "app/big.yaml": cmYAML("big", strings.Repeat("x", 5<<20))}, "app/big.yaml: file is larger than the 4194304-byte limit"},
		"alias-bomb": {map[string]string{"app/good.yaml": cmYAML("good-4", "x"), "app/bomb.yaml": testenv.AliasBomb()}, "app/bomb.yaml: document 1: YAML aliases expand it"},
		// Argo CD would render it: leaving it out would prune its objects.
		"jsonnet": {map[string]string{"app/good.yaml": cmYAML("good-5", "x"), "app/main.jsonnet": `{apiVersion: "v1", kind: "ConfigMap", metadata: {name: "j"}}`}, "app/main.jsonnet: a Jsonnet file, and Jsonnet is not supported"},
	}
	for name, tc := range cases {
		repo := newRepo(t, gitserver.Anonymous, tc.files)
		e.createApp(t, named(name), repo.HTTPURL(), dest)
		t.Run(name, func(t *testing.T) {
			e.waitApp(t, name, "render error naming "+tc.want, hasCondition(v1alpha1.ConditionComparisonError, tc.want))
		})
	}
	for _, n := range []string{"good-1", "good-2", "dup", "good-3", "good-4", "good-5"} {
		if configMap(t, dest, n) != nil {
			t.Errorf("ConfigMap %s was applied although its render failed", n)
		}
	}
}

func TestRejectedObjects(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)

	t.Run("an object that fails validation stops the sync before any write", func(t *testing.T) {
		bad := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {\"not a valid key!\": x}\n"
		repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("valid", "x"), "app/bad.yaml": bad})
		e.createApp(t, named("invalid"), repo.HTTPURL(), dest)
		a := e.waitApp(t, "invalid", "sync error naming the ConfigMap", hasCondition(v1alpha1.ConditionSyncError, "ConfigMap/"+dest+"/bad"))
		if !strings.Contains(a.Status.OperationState.Message, "nothing applied") {
			t.Errorf("operation message: %s", a.Status.OperationState.Message)
		}
		if configMap(t, dest, "valid") != nil {
			t.Fatal("a valid object of a refused sync was applied")
		}
	})

	t.Run("a refused sync names every object the API server rejects", func(t *testing.T) {
		// The first object of the sync is checked by its apply unless another
		// one is refused first: both must be named either way.
		bad := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {\"not a valid key!\": x}\n"
		repo := newRepo(t, gitserver.Anonymous, map[string]string{
			"app/a.yaml": fmt.Sprintf(bad, "a-bad"), "app/m.yaml": cmYAML("m-valid", "x"), "app/z.yaml": fmt.Sprintf(bad, "z-bad"),
		})
		e.createApp(t, named("invalid2"), repo.HTTPURL(), dest)
		a := e.waitApp(t, "invalid2", "sync error naming both ConfigMaps", func(a *v1alpha1.Application) bool {
			return hasCondition(v1alpha1.ConditionSyncError, "ConfigMap/"+dest+"/a-bad")(a) && hasCondition(v1alpha1.ConditionSyncError, "ConfigMap/"+dest+"/z-bad")(a)
		})
		if !strings.Contains(a.Status.OperationState.Message, "nothing applied") {
			t.Errorf("operation message: %s", a.Status.OperationState.Message)
		}
		if configMap(t, dest, "m-valid") != nil {
			t.Fatal("a valid object of a refused sync was applied")
		}
	})

	t.Run("an object rejected while applying fails the sync, reports the rest and skips prune", func(t *testing.T) {
		repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/old.yaml": cmYAML("old", "x")})
		e.createApp(t, named("midsync"), repo.HTTPURL(), dest)
		e.waitApp(t, "midsync", "synced", synced(""))
		// A NodePort outside the range passes validation and is refused by
		// the port allocator only when the Service is really created.
		bad := "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec:\n  type: NodePort\n  ports: [{port: 80, nodePort: 1}]\n"
		rev, err := repo.Commit("main", map[string]string{"app/new.yaml": cmYAML("new", "x"), "app/svc.yaml": bad}, []string{"app/old.yaml"}, "replace old")
		if err != nil {
			t.Fatal(err)
		}
		e.refresh(t, "midsync")
		a := e.waitApp(t, "midsync", "sync error naming the Service", func(a *v1alpha1.Application) bool {
			return a.Status.Sync.Revision == rev && hasCondition(v1alpha1.ConditionSyncError, "Service/"+dest+"/bad")(a)
		})
		st := a.Status.OperationState
		var reported bool
		for _, r := range st.SyncResult.Resources {
			if r.Name == "new" && r.Status == "Synced" {
				reported = true
			}
		}
		if !reported || !strings.Contains(st.Message, "prune skipped") {
			t.Errorf("operation: %s %+v", st.Message, st.SyncResult.Resources)
		}
		if configMap(t, dest, "old") == nil {
			t.Fatal("prune ran although the sync failed")
		}
	})
}

func TestAnObjectOwnedByAnotherAppIsNotTakenOver(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("shared", "first"), "other/cm.yaml": cmYAML("shared", "second")})
	e.createApp(t, named("first"), repo.HTTPURL(), dest)
	e.waitApp(t, "first", "synced", synced(""))
	e.createApp(t, strings.Replace(named("second"), "path: app", "path: other", 1), repo.HTTPURL(), dest)
	e.waitApp(t, "second", "shared resource condition", hasCondition(v1alpha1.ConditionSharedResource, e.ns+"/first"))
	if cm := configMap(t, dest, "shared"); cm.Data["value"] != "first" {
		t.Fatalf("the object was taken over: %v", cm.Data)
	}
}

func TestUnsupportedFieldsAreNamed(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("x", "x")})
	e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: plugin}
spec:
  source: {repoURL: REPO, targetRevision: main, path: app, plugin: {name: cmp}}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {}}
`, repo.HTTPURL(), dest)
	e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: unknown}
spec:
  source: {repoURL: REPO, targetRevision: main, path: app, frobnicate: true}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {}}
`, repo.HTTPURL(), dest)
	// Unknown fields deeper down are kept by the CRD and named too (a field
	// of a newer Argo CD, a typo), never pruned away in silence.
	e.createApp(t, `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: nested}
spec:
  source: {repoURL: REPO, targetRevision: main, path: app, helm: {parameters: [{name: a, value: b, forcestring: true}]}}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS, clusterName: x}
  syncPolicy: {automated: {selfheal: true}, retry: {limit: 2, refresh: true, retries: 3, backoff: {duration: 5s, jitter: 0.1}}}
`, repo.HTTPURL(), dest)
	e.waitApp(t, "plugin", "unsupported field condition", hasCondition(v1alpha1.ConditionUnsupportedField, "spec.source.plugin"))
	e.waitApp(t, "unknown", "unknown field condition", hasCondition(v1alpha1.ConditionUnsupportedField, "spec.source.frobnicate"))
	nested := e.waitApp(t, "nested", "nested unknown fields named", hasCondition(v1alpha1.ConditionUnsupportedField, "spec.syncPolicy.retry.retries"))
	if hasCondition(v1alpha1.ConditionUnsupportedField, "refresh")(nested) {
		t.Errorf("retry.refresh is supported: %s", describeStatus(nested))
	}
	for _, field := range []string{"spec.source.helm.parameters[0].forcestring", "spec.destination.clusterName", "spec.syncPolicy.automated.selfheal", "spec.syncPolicy.retry.backoff.jitter"} {
		if !hasCondition(v1alpha1.ConditionUnsupportedField, field)(nested) {
			t.Errorf("unknown field %s not named: %s", field, describeStatus(nested))
		}
	}
	if configMap(t, dest, "x") != nil {
		t.Fatal("an app with an unsupported field was synced")
	}
}

// TestSymlinksInGit: the repository is read from Git, not from a checkout;
// a symlink inside it is followed, one leaving it refuses the render.
func TestSymlinksInGit(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	commit := func(entries ...gitserver.Entry) *gitserver.Repo {
		repo := newRepo(t, gitserver.Anonymous, nil)
		if _, err := repo.CommitEntries("main", entries, nil, "layout with links"); err != nil {
			t.Fatal(err)
		}
		return repo
	}
	inside := commit(
		gitserver.Entry{Path: "shared/cm.yaml", Data: cmYAML("linked", "v1")},
		gitserver.Entry{Path: "shared/more/cm2.yaml", Data: cmYAML("linked-dir", "v1")},
		gitserver.Entry{Path: "app/cm.yaml", Data: "../shared/cm.yaml", Mode: os.ModeSymlink},
		gitserver.Entry{Path: "app/more", Data: "../shared/more", Mode: os.ModeSymlink},
	)
	escaping := commit(
		gitserver.Entry{Path: "app/good.yaml", Data: cmYAML("not-applied", "v1")},
		gitserver.Entry{Path: "app/passwd.yaml", Data: "/etc/passwd", Mode: os.ModeSymlink},
	)
	climbing := commit(
		gitserver.Entry{Path: "app/good.yaml", Data: cmYAML("not-applied-2", "v1")},
		gitserver.Entry{Path: "app/up", Data: "../../..", Mode: os.ModeSymlink},
	)
	e.createApp(t, strings.Replace(named("links"), "path: app}", "path: app, directory: {recurse: true}}", 1), inside.HTTPURL(), dest)
	e.createApp(t, named("abs-link"), escaping.HTTPURL(), dest)
	e.createApp(t, named("climbing-link"), climbing.HTTPURL(), dest)

	t.Run("links inside the repository are followed", func(t *testing.T) {
		e.waitApp(t, "links", "Synced and Healthy", syncedHealthy(""))
		for _, n := range []string{"linked", "linked-dir"} {
			if configMap(t, dest, n) == nil {
				t.Errorf("ConfigMap %s behind a symlink was not applied", n)
			}
		}
	})
	for name, file := range map[string]string{"abs-link": "app/passwd.yaml", "climbing-link": "app/up"} {
		t.Run(name+" is refused, naming the link", func(t *testing.T) {
			e.waitApp(t, name, "render error naming "+file, hasCondition(v1alpha1.ConditionComparisonError, file+": path escapes the repository"))
		})
	}
	for _, n := range []string{"not-applied", "not-applied-2"} {
		if configMap(t, dest, n) != nil {
			t.Errorf("ConfigMap %s was applied although its render failed", n)
		}
	}
}
