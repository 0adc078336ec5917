package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

const projectApp = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: NAME}
spec:
  project: team-a
  source: {repoURL: REPO, targetRevision: main, path: PATH}
  destination: {CLUSTERDEST, namespace: DESTNS}
  syncPolicy:
    automated: {prune: true}
`

func (e *tetherEnv) createProjectApp(t *testing.T, name, path, dest, repoURL, destNS string) {
	t.Helper()
	e.createApp(t, strings.NewReplacer("NAME", name, "PATH", path, "CLUSTERDEST", dest).Replace(projectApp), repoURL, destNS)
}

func (e *tetherEnv) createProject(t *testing.T, name string, spec v1alpha1.AppProjectSpec) *v1alpha1.AppProject {
	t.Helper()
	p := &v1alpha1.AppProject{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}, Spec: spec}
	if err := e.c.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// noConfigMap fails when the ConfigMap exists.
func noConfigMap(t *testing.T, ns, name string) {
	t.Helper()
	if cm := configMap(t, ns, name); cm != nil {
		t.Fatalf("ConfigMap %s/%s was applied although the project forbids the app", ns, name)
	}
}

func TestProjectRulesRefuseRepoDestinationClusterAndKinds(t *testing.T) {
	_, east, _ := threeClusters(t)
	e := startTether(t)
	registerCluster(t, e, "east", east, "")
	role := "tether-e2e-" + e.ns
	allowed := newRepo(t, gitserver.Anonymous, map[string]string{
		"ok/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\ndata: {v: one}\n",
		"admin/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: admin-cm}\ndata: {v: one}\n",
		"admin/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: " + role + "}\nrules: []\n",
		"secret/s.yaml":   "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n",
	})
	other := newRepo(t, gitserver.Anonymous, map[string]string{"ok/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {v: one}\n"})
	dest := destNamespace(t)
	e.createProject(t, "team-a", v1alpha1.AppProjectSpec{
		SourceRepos: []string{allowed.HTTPURL()},
		Destinations: []v1alpha1.ApplicationDestination{
			{Name: "in-cluster", Namespace: "t-*"},
			{Server: "*", Namespace: "!kube-system"},
		},
		NamespaceResourceBlacklist: []v1alpha1.GroupKind{{Group: "", Kind: "Secret"}},
	})

	e.createProjectApp(t, "fine", "ok", "name: in-cluster", allowed.HTTPURL(), dest)
	e.createProjectApp(t, "wrong-repo", "ok", "name: in-cluster", other.HTTPURL(), dest)
	e.createProjectApp(t, "wrong-ns", "ok", "name: in-cluster", allowed.HTTPURL(), "kube-system")
	e.createProjectApp(t, "wrong-cluster", "ok", "name: east", allowed.HTTPURL(), dest)
	e.createProjectApp(t, "cluster-kind", "admin", "name: in-cluster", allowed.HTTPURL(), dest)
	e.createProjectApp(t, "denied-kind", "secret", "name: in-cluster", allowed.HTTPURL(), dest)

	e.waitApp(t, "fine", "synced inside its project", syncedHealthy(""))
	e.waitApp(t, "wrong-repo", "the repository refused", hasCondition(v1alpha1.ConditionInvalidSpecError,
		"repository "+other.HTTPURL()+" is not permitted in project team-a"))
	e.waitApp(t, "wrong-ns", "the destination refused", hasCondition(v1alpha1.ConditionComparisonError,
		"destination in-cluster/kube-system is not permitted in project team-a"))
	e.waitApp(t, "wrong-cluster", "the cluster refused", hasCondition(v1alpha1.ConditionComparisonError,
		"destination east/"+dest+" is not permitted in project team-a"))
	e.waitApp(t, "cluster-kind", "the cluster-scoped kind refused", hasCondition(v1alpha1.ConditionComparisonError,
		"cluster-scoped kind rbac.authorization.k8s.io/ClusterRole is not permitted in project team-a"))
	e.waitApp(t, "denied-kind", "the blacklisted kind refused", hasCondition(v1alpha1.ConditionComparisonError,
		"namespaced kind Secret is not permitted in project team-a (spec.namespaceResourceBlacklist[0])"))

	// Nothing of the refused apps reached a cluster.
	noConfigMap(t, dest, "other")
	noConfigMap(t, dest, "admin-cm")
	if _, err := kube(t).RbacV1().ClusterRoles().Get(context.Background(), role, metav1.GetOptions{}); err == nil {
		t.Fatal("the forbidden ClusterRole was applied")
	}
	if cm := clusterConfigMap(t, east, dest, "ok"); cm != nil {
		t.Fatal("the app refused on east was applied there")
	}
	if s, err := kube(t).CoreV1().Secrets(dest).Get(context.Background(), "s", metav1.GetOptions{}); err == nil && s != nil {
		t.Fatal("the blacklisted Secret was applied")
	}

	// Allowing cluster-scoped roles lets the app sync, at once.
	p := &v1alpha1.AppProject{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: "team-a"}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.ClusterResourceWhitelist = []v1alpha1.GroupKind{{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}}
	if err := e.c.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kube(t).RbacV1().ClusterRoles().Delete(context.Background(), role, metav1.DeleteOptions{})
	})
	e.waitApp(t, "cluster-kind", "synced once the project allows ClusterRoles", syncedHealthy(""))

	// A project that does not exist, and an invalid one.
	e.createApp(t, strings.Replace(strings.NewReplacer("NAME", "no-project", "PATH", "ok", "CLUSTERDEST", "name: in-cluster").Replace(projectApp), "team-a", "team-z", 1), allowed.HTTPURL(), dest)
	e.waitApp(t, "no-project", "a missing project named", hasCondition(v1alpha1.ConditionInvalidSpecError, `spec.project: AppProject "team-z" not found in namespace `+e.ns))
	e.createProject(t, "broken", v1alpha1.AppProjectSpec{SourceRepos: []string{"*"}, SyncWindows: []v1alpha1.SyncWindow{{Kind: "deny", Schedule: "61 * * * *", Duration: "1h", Applications: []string{"*"}}}})
	e.createApp(t, strings.Replace(strings.NewReplacer("NAME", "broken-project", "PATH", "ok", "CLUSTERDEST", "name: in-cluster").Replace(projectApp), "team-a", "broken", 1), allowed.HTTPURL(), dest)
	e.waitApp(t, "broken-project", "the invalid project field named", hasCondition(v1alpha1.ConditionInvalidSpecError, "spec.syncWindows[0].schedule"))
}

func TestSyncWindowsBlockAutomatedAndManualSyncs(t *testing.T) {
	e := startTether(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"ok/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: win}\ndata: {v: one}\n"})
	dest := destNamespace(t)
	// A deny window that is open all the time.
	e.createProject(t, "team-a", v1alpha1.AppProjectSpec{
		SourceRepos:  []string{"*"},
		Destinations: []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}},
		SyncWindows:  []v1alpha1.SyncWindow{{Kind: "deny", Schedule: "* * * * *", Duration: "1h", Applications: []string{"*"}}},
	})
	e.createProjectApp(t, "windowed", "ok", "server: https://kubernetes.default.svc", repo.HTTPURL(), dest)
	e.waitApp(t, "windowed", "automated sync blocked by the window", func(a *v1alpha1.Application) bool {
		return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync && hasCondition(controller.ConditionSyncWindow, "deny window")(a)
	})
	time.Sleep(2 * time.Second)
	noConfigMap(t, dest, "win")

	// A person's sync is refused too: the window has no manualSync.
	out, err := runCLI(t, "app", "sync", "windowed", "-n", e.ns)
	if err != nil {
		t.Logf("app sync: %v\n%s", err, out)
	}
	a := e.waitApp(t, "windowed", "the manual sync refused", func(a *v1alpha1.Application) bool {
		return a.Operation == nil && a.Status.OperationState != nil && a.Status.OperationState.Phase != v1alpha1.PhaseRunning &&
			strings.Contains(a.Status.OperationState.Message, "deny window")
	})
	if a.Status.OperationState.Phase == v1alpha1.PhaseSucceeded {
		t.Fatalf("manual sync inside a deny window without manualSync succeeded: %s", a.Status.OperationState.Message)
	}
	noConfigMap(t, dest, "win")

	// With manualSync a person may sync; automated syncs stay blocked.
	p := &v1alpha1.AppProject{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: "team-a"}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.SyncWindows[0].ManualSync = true
	if err := e.c.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "app", "sync", "windowed", "-n", e.ns); err != nil {
		t.Fatalf("app sync with manualSync: %v\n%s", err, out)
	}
	e.waitApp(t, "windowed", "synced by hand inside the window", syncedHealthy(""))
	rev, err := repo.Commit("main", map[string]string{"ok/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: win}\ndata: {v: two}\n"}, nil, "two")
	if err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "windowed")
	e.waitApp(t, "windowed", "the new commit seen but not synced", func(a *v1alpha1.Application) bool {
		return a.Status.Sync.Revision == rev && a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync
	})
	if cm := configMap(t, dest, "win"); cm == nil || cm.Data["v"] != "one" {
		t.Fatalf("an automated sync ran inside the deny window: %v", cm)
	}

	// Removing the window lets the automated sync run at once.
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: "team-a"}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.SyncWindows = nil
	if err := e.c.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	e.waitApp(t, "windowed", "synced once the window is gone", func(a *v1alpha1.Application) bool {
		return synced(rev)(a) && !hasCondition(controller.ConditionSyncWindow, "")(a)
	})
}

func TestSourceNamespacesDecideWhichAppNamespacesMayUseAProject(t *testing.T) {
	other := testenv.Namespace(t)
	e := startTether(t, func(o *controller.Options) { o.AppNamespaces = append(o.AppNamespaces, other) })
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"ok/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-other}\ndata: {v: one}\n"})
	dest := destNamespace(t)
	e.createProject(t, "team-a", v1alpha1.AppProjectSpec{
		SourceRepos:  []string{"*"},
		Destinations: []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}},
	})
	// An Application in another watched namespace, naming team-a.
	y := strings.NewReplacer("NAME", "elsewhere", "PATH", "ok", "CLUSTERDEST", "name: in-cluster", "REPO", repo.HTTPURL(), "DESTNS", dest).Replace(projectApp)
	e.createYAML(t, other, y)
	get := func() *v1alpha1.Application {
		a := &v1alpha1.Application{}
		if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: other, Name: "elsewhere"}, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	eventually(t, 60*time.Second, "the app refused by spec.sourceNamespaces", func(context.Context) (bool, error) {
		return hasCondition(v1alpha1.ConditionInvalidSpecError, "Applications in namespace "+other+" may not use project team-a (spec.sourceNamespaces)")(get()), nil
	})
	noConfigMap(t, dest, "from-other")
	// Listing the namespace lets the app in at once.
	p := &v1alpha1.AppProject{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: "team-a"}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.SourceNamespaces = []string{other}
	if err := e.c.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the app synced once its namespace is listed", func(context.Context) (bool, error) {
		return syncedHealthy("")(get()), nil
	})
}
