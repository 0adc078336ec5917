package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

const autoApp = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: api-production}
spec:
  project: default
  source: {repoURL: REPO, targetRevision: main, path: apps/api}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
`

func cmYAML(name, value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  value: \"" + value + "\"\n"
}

const deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: registry.example.com/api:v1.2.3
        ports: [{containerPort: 8080}]
`

const serviceYAML = `apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
`

func TestDirectoryAppSyncsUpdatesAndPrunes(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, 0, map[string]string{
		"apps/api/deployment.yaml": deploymentYAML,
		"apps/api/service.yaml":    serviceYAML,
		"apps/api/config.yaml":     cmYAML("settings", "one") + "---\n" + cmYAML("extra", "x"),
		"apps/other/ignored.yaml":  cmYAML("not-mine", "x"),
	})
	first, _ := repo.Head("main")
	e.createApp(t, autoApp, repo.HTTPURL(), dest)

	t.Run("the first sync applies every object and the Deployment turns Healthy", func(t *testing.T) {
		a := e.waitApp(t, "api-production", "synced and healthy", syncedHealthy(first))
		if len(a.Status.Resources) != 4 {
			t.Fatalf("resources: %s", describeStatus(a))
		}
		if configMap(t, dest, "settings") == nil || configMap(t, dest, "not-mine") != nil {
			t.Fatal("wrong set of objects applied")
		}
		if len(a.Status.History) != 1 || a.Status.History[0].Author != "Grace Hopper <grace@example.test>" || a.Status.History[0].Revision != first {
			t.Fatalf("history: %+v", a.Status.History)
		}
		if !a.Status.History[0].InitiatedBy.Automated || a.Status.History[0].InitiatedBy.Trigger != "auto" {
			t.Errorf("history initiator: %+v", a.Status.History[0].InitiatedBy)
		}
		if a.Status.SourceType != "Directory" || len(a.Status.Summary.Images) != 1 {
			t.Errorf("sourceType %q images %v", a.Status.SourceType, a.Status.Summary.Images)
		}
	})

	t.Run("an app in sync causes no writes over several reconciles", func(t *testing.T) {
		e.waitApp(t, "api-production", "synced and healthy", syncedHealthy(first))
		// Let the first sync settle: wait until a full second passes without
		// any write (late health updates of the Deployment may still land).
		settled := time.Now().Add(20 * time.Second)
		for last := e.writes.n.Load(); time.Now().Before(settled); {
			time.Sleep(time.Second)
			now := e.writes.n.Load()
			if now == last {
				break
			}
			last = now
		}
		before := e.writes.n.Load()
		for i := 0; i < 5; i++ {
			e.rec.Wake(e.ns, "api-production")
			time.Sleep(200 * time.Millisecond)
		}
		if got := e.writes.n.Load() - before; got != 0 {
			t.Fatalf("%d writes while in sync: %v", got, e.writes.writes())
		}
	})

	t.Run("a commit that changes one object updates only that object", func(t *testing.T) {
		settings := configMap(t, dest, "settings")
		extra := configMap(t, dest, "extra")
		second, err := repo.Commit("main", map[string]string{"apps/api/config.yaml": cmYAML("settings", "two") + "---\n" + cmYAML("extra", "x")}, nil, "bump settings")
		if err != nil {
			t.Fatal(err)
		}
		e.refresh(t, "api-production")
		e.waitApp(t, "api-production", "synced to the second commit", synced(second))
		if got := configMap(t, dest, "settings"); got.Data["value"] != "two" || got.ResourceVersion == settings.ResourceVersion {
			t.Fatalf("settings not updated: %v", got.Data)
		}
		if got := configMap(t, dest, "extra"); got.ResourceVersion != extra.ResourceVersion {
			t.Fatalf("an unchanged object was written: rv %s -> %s", extra.ResourceVersion, got.ResourceVersion)
		}
	})

	t.Run("a commit that removes an object prunes it", func(t *testing.T) {
		third, err := repo.Commit("main", map[string]string{"apps/api/config.yaml": cmYAML("settings", "two")}, nil, "drop extra")
		if err != nil {
			t.Fatal(err)
		}
		e.refresh(t, "api-production")
		a := e.waitApp(t, "api-production", "synced to the third commit", synced(third))
		if configMap(t, dest, "extra") != nil {
			t.Fatal("extra was not pruned")
		}
		if len(a.Status.History) != 3 {
			t.Errorf("history has %d entries, want 3", len(a.Status.History))
		}
		var pruned bool
		for _, r := range a.Status.OperationState.SyncResult.Resources {
			if r.Name == "extra" && r.Status == "Pruned" {
				pruned = true
			}
		}
		if !pruned {
			t.Errorf("operation result does not report the prune: %+v", a.Status.OperationState.SyncResult.Resources)
		}
	})
}

func TestPruneOffAndPruneFalseKeepObjects(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	keep := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n  annotations:\n    argocd.argoproj.io/sync-options: Prune=false\ndata: {a: b}\n"
	repo := newRepo(t, 0, map[string]string{"apps/api/a.yaml": cmYAML("a", "1"), "apps/api/keep.yaml": keep, "apps/noprune/b.yaml": cmYAML("b", "1"), "apps/noprune/c.yaml": cmYAML("c", "1")})
	e.createApp(t, autoApp, repo.HTTPURL(), dest)
	noPrune := strings.NewReplacer("prune: true", "prune: false", "api-production", "no-prune", "path: apps/api", "path: apps/noprune").Replace(autoApp)
	e.createApp(t, noPrune, repo.HTTPURL(), dest)
	e.waitApp(t, "api-production", "synced", synced(""))
	e.waitApp(t, "no-prune", "synced", func(a *v1alpha1.Application) bool {
		return synced("")(a) && a.Spec.Source.Path == "apps/noprune" && configMap(t, dest, "b") != nil
	})

	rev, err := repo.Commit("main", nil, []string{"apps/api/keep.yaml", "apps/noprune/b.yaml"}, "remove keep and b")
	if err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "api-production")
	e.refresh(t, "no-prune")
	e.waitApp(t, "api-production", "compared at the new commit", func(a *v1alpha1.Application) bool { return a.Status.Sync.Revision == rev })
	a := e.waitApp(t, "no-prune", "OutOfSync at the new commit", func(a *v1alpha1.Application) bool {
		return a.Status.Sync.Revision == rev && a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync
	})
	if configMap(t, dest, "keep") == nil {
		t.Error("an object annotated Prune=false was pruned")
	}
	if configMap(t, dest, "b") == nil {
		t.Error("an object was pruned with prune off")
	}
	var requires bool
	for _, r := range a.Status.Resources {
		if r.Name == "b" && r.RequiresPruning {
			requires = true
		}
	}
	if !requires {
		t.Errorf("b should be listed as requiring pruning: %s", describeStatus(a))
	}
}
