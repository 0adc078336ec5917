package e2e

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

func deployment(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	d, err := kube(t).AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func waitDeployment(t *testing.T, ns, name, what string, cond func(*appsv1.Deployment) bool) {
	t.Helper()
	eventually(t, 30*time.Second, what, func(ctx context.Context) (bool, error) {
		d, err := kube(t).AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return cond(d), nil
	})
}

func TestSelfHealRevertsDriftAtOnce(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/deploy.yaml": deploymentYAML, "app/cm.yaml": cmYAML("settings", "v1")})
	e.createApp(t, named("healing"), repo.HTTPURL(), dest)
	patch := func(t *testing.T, body string) {
		t.Helper()
		a := e.app(t, "healing")
		if err := e.c.Patch(context.Background(), a, clientMergePatch(body)); err != nil {
			t.Fatal(err)
		}
	}
	patch(t, `{"spec":{"syncPolicy":{"automated":{"selfHeal":true,"prune":true}}}}`)
	e.waitApp(t, "healing", "synced and healthy", syncedHealthy(""))
	ctx := context.Background()
	two := func(d *appsv1.Deployment) bool { return *d.Spec.Replicas == 2 }

	t.Run("a manual scale is reverted", func(t *testing.T) {
		_, err := kube(t).AppsV1().Deployments(dest).Patch(ctx, "api", types.MergePatchType, []byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{FieldManager: "kubectl-scale"})
		if err != nil {
			t.Fatal(err)
		}
		waitDeployment(t, dest, "api", "replicas back to 2", two)
	})

	t.Run("an edited image is reverted", func(t *testing.T) {
		_, err := kube(t).AppsV1().Deployments(dest).Patch(ctx, "api", types.StrategicMergePatchType,
			[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"api","image":"evil:latest"}]}}}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"})
		if err != nil {
			t.Fatal(err)
		}
		waitDeployment(t, dest, "api", "image restored", func(d *appsv1.Deployment) bool {
			return d.Spec.Template.Spec.Containers[0].Image == "registry.example.com/api:v1.2.3"
		})
	})

	t.Run("a deleted object is recreated", func(t *testing.T) {
		if err := kube(t).CoreV1().ConfigMaps(dest).Delete(ctx, "settings", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "settings recreated", func(ctx context.Context) (bool, error) {
			return configMap(t, dest, "settings") != nil, nil
		})
	})

	t.Run("a removed label is restored", func(t *testing.T) {
		_, err := kube(t).CoreV1().ConfigMaps(dest).Patch(ctx, "settings", types.JSONPatchType,
			[]byte(`[{"op":"remove","path":"/metadata/labels/tether.dev~1app"}]`), metav1.PatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "label restored", func(ctx context.Context) (bool, error) {
			cm := configMap(t, dest, "settings")
			return cm != nil && cm.Labels["tether.dev/app"] != "", nil
		})
	})

	t.Run("each revert is recorded with drift as the trigger", func(t *testing.T) {
		a := e.waitApp(t, "healing", "synced", synced(""))
		var drift int
		for _, h := range a.Status.History {
			if h.InitiatedBy.Trigger == "drift" {
				drift++
			}
		}
		if drift == 0 {
			t.Fatalf("no drift entry in the history: %+v", a.Status.History)
		}
	})
}

func TestDriftWithoutSelfHealIsOnlyReported(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/deploy.yaml": deploymentYAML})
	e.createApp(t, named("reporting"), repo.HTTPURL(), dest)
	e.waitApp(t, "reporting", "synced and healthy", syncedHealthy(""))
	_, err := kube(t).AppsV1().Deployments(dest).Patch(context.Background(), "api", types.MergePatchType, []byte(`{"spec":{"replicas":4}}`), metav1.PatchOptions{FieldManager: "kubectl-scale"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitApp(t, "reporting", "OutOfSync", func(a *v1alpha1.Application) bool { return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync })
	time.Sleep(time.Second)
	if r := *deployment(t, dest, "api").Spec.Replicas; r != 4 {
		t.Fatalf("drift was reverted without selfHeal: replicas %d", r)
	}
	out, err := runCLI(t, "app", "diff", "reporting", "-n", e.ns)
	if err == nil || !strings.Contains(out, "-  replicas: 4") || !strings.Contains(out, "+  replicas: 2") {
		t.Fatalf("diff must show the drift (err %v):\n%s", err, out)
	}
}

func TestHistoryAndRollback(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"app/kustomization.yaml": "resources: [cm.yaml, old.yaml]\nnamePrefix: k-\n",
		"app/cm.yaml":            cmYAML("settings", "v1"),
		"app/old.yaml":           cmYAML("old", "x"),
	})
	e.createApp(t, named("rolling"), repo.HTTPURL(), dest)
	first := e.waitApp(t, "rolling", "synced", synced("")).Status.Sync.Revision
	second, err := repo.Commit("main", map[string]string{"app/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: k-\n", "app/cm.yaml": cmYAML("settings", "v2")}, []string{"app/old.yaml"}, "v2 without old")
	if err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "rolling")
	e.waitApp(t, "rolling", "synced to v2", synced(second))
	if configMap(t, dest, "k-old") != nil || configMap(t, dest, "k-settings").Data["value"] != "v2" {
		t.Fatal("v2 not applied")
	}

	out, err := runCLI(t, "app", "history", "rolling", "-n", e.ns)
	if err != nil || !strings.Contains(out, "v2 without old") || !strings.Contains(out, "Grace Hopper") || !strings.Contains(out, "tether (auto)") {
		t.Fatalf("history (err %v):\n%s", err, out)
	}

	t.Run("rollback refuses while automated sync is on", func(t *testing.T) {
		out, err := runCLI(t, "app", "rollback", "rolling", "0", "-n", e.ns)
		if err == nil || !strings.Contains(err.Error(), "automated sync is on") || !strings.Contains(err.Error(), "git revert") {
			t.Fatalf("want a refusal (err %v):\n%s", err, out)
		}
	})

	if err := e.c.Patch(context.Background(), e.app(t, "rolling"), clientMergePatch(`{"spec":{"syncPolicy":{"automated":null}}}`)); err != nil {
		t.Fatal(err)
	}

	t.Run("rollback to an ID that does not exist changes nothing", func(t *testing.T) {
		out, err := runCLI(t, "app", "rollback", "rolling", "42", "-n", e.ns)
		if err == nil || !strings.Contains(err.Error(), "no entry 42") {
			t.Fatalf("want an error naming the ID (err %v):\n%s", err, out)
		}
		if configMap(t, dest, "k-settings").Data["value"] != "v2" {
			t.Fatal("a refused rollback changed the cluster")
		}
	})

	t.Run("rollback to the first entry restores the old objects exactly", func(t *testing.T) {
		out, err := runCLI(t, "app", "rollback", "rolling", "0", "-n", e.ns)
		if err != nil {
			t.Fatalf("rollback (err %v):\n%s", err, out)
		}
		if cm := configMap(t, dest, "k-settings"); cm.Data["value"] != "v1" {
			t.Fatalf("settings = %v", cm.Data)
		}
		if configMap(t, dest, "k-old") == nil {
			t.Fatal("the old object is not back")
		}
		a := e.waitApp(t, "rolling", "OutOfSync against the branch head", func(a *v1alpha1.Application) bool {
			return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync
		})
		last := a.Status.History[len(a.Status.History)-1]
		if last.Revision != first || last.InitiatedBy.Trigger != "rollback" {
			t.Errorf("last history entry: %+v", last)
		}
	})
}

func TestAFightWithAnotherControllerIsDetectedAndBackedOff(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/deploy.yaml": deploymentYAML})
	e.createApp(t, strings.Replace(named("fight"), "automated: {prune: true}", "automated: {prune: true, selfHeal: true}", 1), repo.HTTPURL(), dest)
	e.waitApp(t, "fight", "synced and healthy", syncedHealthy(""))

	// An autoscaler-like controller that wants 5 replicas.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var scaled atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			d, err := kube(t).AppsV1().Deployments(dest).Get(ctx, "api", metav1.GetOptions{})
			if err == nil && *d.Spec.Replicas != 5 {
				if _, err := kube(t).AppsV1().Deployments(dest).Patch(ctx, "api", types.MergePatchType, []byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{FieldManager: "hpa-controller"}); err == nil {
					scaled.Add(1)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	a := e.waitApp(t, "fight", "a SelfHealBackoff condition naming the other manager", hasCondition("SelfHealBackoff", `"hpa-controller"`))
	t.Logf("condition after %d scale-ups: %s", scaled.Load(), a.Status.Conditions)

	// During the backoff tether leaves the Deployment alone.
	time.Sleep(2 * time.Second)
	reverts := func() int {
		n := 0
		for _, h := range e.app(t, "fight").Status.History {
			if h.InitiatedBy.Trigger == "drift" {
				n++
			}
		}
		return n
	}
	before := reverts()
	time.Sleep(3 * time.Second)
	if after := reverts(); after > before+1 {
		t.Errorf("tether kept reverting during the backoff: %d -> %d drift syncs in 3s", before, after)
	}

	// ignoreDifferences ends the fight: the field is the autoscaler's.
	if err := e.c.Patch(context.Background(), e.app(t, "fight"), clientMergePatch(
		`{"spec":{"ignoreDifferences":[{"group":"apps","kind":"Deployment","jsonPointers":["/spec/replicas"]}],"syncPolicy":{"syncOptions":["RespectIgnoreDifferences=true"]}}}`)); err != nil {
		t.Fatal(err)
	}
	e.waitApp(t, "fight", "Synced with replicas ignored", synced(""))
	stop()
	<-done
	time.Sleep(time.Second)
	if r := *deployment(t, dest, "api").Spec.Replicas; r != 5 {
		t.Errorf("replicas = %d after the fight ended, want the autoscaler's 5", r)
	}
}

func TestRollbackToACommitNoLongerInTheRepository(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("gone", "v1")})
	e.createApp(t, strings.Replace(named("orphaned"), "syncPolicy: {automated: {prune: true}}", "", 1), repo.HTTPURL(), dest)
	e.waitApp(t, "orphaned", "OutOfSync", func(a *v1alpha1.Application) bool { return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync })
	// Deploy a commit of a short-lived branch, then a commit of main.
	tmp, err := repo.Commit("tmp", map[string]string{"app/cm.yaml": cmYAML("gone", "from-tmp")}, nil, "experiment")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "app", "sync", "orphaned", "-n", e.ns, "--revision", "tmp"); err != nil {
		t.Fatalf("sync tmp: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "app", "sync", "orphaned", "-n", e.ns); err != nil {
		t.Fatalf("sync main: %v\n%s", err, out)
	}
	// The branch is deleted and its commit collected; a fresh controller
	// (empty cache) cannot find it any more.
	for _, args := range [][]string{{"branch", "-D", "tmp"}, {"reflog", "expire", "--expire=now", "--all"}, {"gc", "--prune=now", "--quiet"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo.Path()}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	e.stop()
	e.opts.CacheDir = t.TempDir()
	e.start(t)
	var id string
	for _, h := range e.app(t, "orphaned").Status.History {
		if h.Revision == tmp {
			id = strconv.FormatInt(h.ID, 10)
		}
	}
	out, err := runCLI(t, "app", "rollback", "orphaned", id, "-n", e.ns)
	if err == nil {
		t.Fatalf("rollback to a removed commit succeeded:\n%s", out)
	}
	a := e.app(t, "orphaned")
	if st := a.Status.OperationState; st == nil || !strings.Contains(st.Message, tmp) || !strings.Contains(st.Message, "not found") {
		t.Errorf("operation must name the missing commit: %s", describeStatus(a))
	}
	if cm := configMap(t, dest, "gone"); cm.Data["value"] != "v1" {
		t.Errorf("the cluster changed: %v", cm.Data)
	}
}
