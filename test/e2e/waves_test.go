package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

func waveCM(name, wave string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  annotations:\n    argocd.argoproj.io/sync-wave: \"" + wave + "\"\ndata: {a: b}\n"
}

func hookJob(name, hook, policy string, fail bool) string {
	tmplAnn := ""
	if fail {
		tmplAnn = "\n      annotations: {tether.dev/kwok-fail: \"true\"}"
	}
	pol := ""
	if policy != "" {
		pol = "\n    argocd.argoproj.io/hook-delete-policy: " + policy
	}
	return `apiVersion: batch/v1
kind: Job
metadata:
  name: ` + name + `
  annotations:
    argocd.argoproj.io/hook: ` + hook + pol + `
spec:
  backoffLimit: 0
  template:
    metadata:
      labels: {hook: ` + name + `}` + tmplAnn + `
    spec:
      restartPolicy: Never
      containers: [{name: run, image: example.invalid/hook:1}]
`
}

func rv(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func job(t *testing.T, ns, name string) *batchv1.Job {
	j, err := kube(t).BatchV1().Jobs(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestWavesWaitForHealthAndHooksRunAroundThem(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	deploy := strings.Replace(deploymentYAML, "  name: api\n", "  name: api\n  annotations: {argocd.argoproj.io/sync-wave: \"0\"}\n", 1)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"app/early.yaml":    waveCM("early", "-1"),
		"app/deploy.yaml":   deploy,
		"app/late.yaml":     waveCM("late", "1"),
		"app/presync.yaml":  hookJob("presync", "PreSync", "", false),
		"app/postsync.yaml": hookJob("postsync", "PostSync", "", false),
		"app/cleanup.yaml":  hookJob("cleanup", "PostSync", "HookSucceeded", false),
	})
	e.createApp(t, named("waves"), repo.HTTPURL(), dest)
	a := e.waitApp(t, "waves", "synced and healthy", syncedHealthy(""))
	if a.Status.OperationState.Phase != v1alpha1.PhaseSucceeded {
		t.Fatalf("operation: %s", describeStatus(a))
	}
	early, late := configMap(t, dest, "early"), configMap(t, dest, "late")
	d := deployment(t, dest, "api")
	pre, post := job(t, dest, "presync"), job(t, dest, "postsync")
	if pre == nil || post == nil {
		t.Fatalf("hook jobs: presync %v postsync %v", pre != nil, post != nil)
	}
	// Creation order, by the resourceVersion each object had when created
	// (the managedFields entry of the creating apply keeps its time only to
	// the second, so resourceVersions are compared instead).
	if !(rv(t, pre.ResourceVersion) < rv(t, early.ResourceVersion)) {
		t.Errorf("the PreSync job must run before wave -1 (rv %s vs %s)", pre.ResourceVersion, early.ResourceVersion)
	}
	if !(rv(t, early.ResourceVersion) < rv(t, d.ResourceVersion)) {
		t.Errorf("wave -1 must come before wave 0")
	}
	// The Deployment's last status update (Available) happened before wave 1 was applied.
	if !(rv(t, d.ResourceVersion) < rv(t, late.ResourceVersion)) {
		t.Errorf("wave 1 was applied before wave 0 was healthy (deployment rv %s, late rv %s)", d.ResourceVersion, late.ResourceVersion)
	}
	if !(rv(t, late.ResourceVersion) < rv(t, post.ResourceVersion)) {
		t.Errorf("the PostSync job must run after the last wave")
	}
	if j := job(t, dest, "cleanup"); j != nil && j.DeletionTimestamp == nil {
		t.Error("a hook with HookSucceeded must be deleted after it succeeded")
	}

	// A second sync recreates the hooks (BeforeHookCreation is the default).
	firstUID := pre.UID
	if err := e.c.Patch(context.Background(), e.app(t, "waves"), clientMergePatch(
		`{"operation":{"sync":{"prune":true},"initiatedBy":{"username":"e2e"}}}`)); err != nil {
		t.Fatal(err)
	}
	e.waitApp(t, "waves", "the second sync finished", func(a *v1alpha1.Application) bool {
		return a.Operation == nil && a.Status.OperationState.Operation.InitiatedBy.Username == "e2e" && a.Status.OperationState.Phase == v1alpha1.PhaseSucceeded
	})
	if again := job(t, dest, "presync"); again == nil || again.UID == firstUID {
		t.Error("the PreSync hook was not recreated by the second sync")
	}
	var hooks int
	for _, r := range a.Status.OperationState.SyncResult.Resources {
		if r.HookType != "" {
			hooks++
		}
	}
	if hooks != 3 {
		t.Errorf("operation reports %d hooks, want 3: %+v", hooks, a.Status.OperationState.SyncResult.Resources)
	}
}

func TestAFailingPreSyncHookStopsTheSyncAndRunsSyncFail(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"app/cm.yaml":       cmYAML("never", "x"),
		"app/presync.yaml":  hookJob("migrate", "PreSync", "HookFailed", true),
		"app/syncfail.yaml": hookJob("notify", "SyncFail", "", false),
	})
	e.createApp(t, named("failing"), repo.HTTPURL(), dest)
	a := e.waitApp(t, "failing", "failed sync", func(a *v1alpha1.Application) bool {
		return a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseFailed
	})
	if !strings.Contains(a.Status.OperationState.Message, "migrate") {
		t.Errorf("message must name the failed hook: %s", a.Status.OperationState.Message)
	}
	if configMap(t, dest, "never") != nil {
		t.Error("objects were applied after a failed PreSync hook")
	}
	if j := job(t, dest, "notify"); j == nil {
		t.Error("the SyncFail hook did not run")
	}
	if j := job(t, dest, "migrate"); j != nil && j.DeletionTimestamp == nil {
		t.Error("a failed hook with HookFailed must be deleted")
	}
}

func TestAWaveThatNeverTurnsHealthyFailsAfterTheTimeout(t *testing.T) {
	e := startTether(t, func(o *controller.Options) { o.OperationTimeout = 3 * time.Second })
	dest := destNamespace(t)
	stuck := strings.Replace(deploymentYAML, "    spec:\n      containers:", "    spec:\n      nodeSelector: {no-such-node: \"true\"}\n      containers:", 1)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/deploy.yaml": stuck, "app/late.yaml": waveCM("late", "1")})
	e.createApp(t, named("stuck"), repo.HTTPURL(), dest)
	a := e.waitApp(t, "stuck", "failed sync", func(a *v1alpha1.Application) bool {
		return a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseFailed
	})
	if msg := a.Status.OperationState.Message; !strings.Contains(msg, "Deployment.apps/"+dest+"/api") || !strings.Contains(msg, "not healthy within 3s") {
		t.Errorf("message must name the unhealthy object: %s", msg)
	}
	if configMap(t, dest, "late") != nil {
		t.Error("a later wave was applied")
	}
}

func TestBadHookAndWaveAnnotationsApplyNothing(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	for name, bad := range map[string]string{
		"badwave": waveCM("w", "first"),
		"badhook": strings.Replace(hookJob("h", "PreSync", "", false), "hook: PreSync", "hook: BeforeEverything", 1),
		"badpol":  hookJob("p", "PostSync", "WhenItRains", false),
		"badopt":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: o\n  annotations: {argocd.argoproj.io/sync-options: Frobnicate=true}\n",
	} {
		repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/ok.yaml": cmYAML("ok-"+name, "x"), "app/bad.yaml": bad})
		e.createApp(t, named(name), repo.HTTPURL(), dest)
	}
	for name, want := range map[string]string{
		"badwave": "argocd.argoproj.io/sync-wave",
		"badhook": "BeforeEverything",
		"badpol":  "WhenItRains",
		"badopt":  "Frobnicate",
	} {
		e.waitApp(t, name, "condition naming "+want, hasCondition(v1alpha1.ConditionComparisonError, want))
		if configMap(t, dest, "ok-"+name) != nil {
			t.Errorf("%s: objects were applied despite a bad annotation", name)
		}
	}
}

func TestRetryRecoversFromATransientError(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	later := "later-" + strings.TrimPrefix(e.ns, "t-")
	if len(later) > 63 {
		later = later[:63]
	}
	t.Cleanup(func() { _ = kube(t).CoreV1().Namespaces().Delete(context.Background(), later, metav1.DeleteOptions{}) })
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: elsewhere, namespace: " + later + "}\ndata: {a: b}\n"
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cm})
	e.createApp(t, strings.Replace(named("retrying"), "syncPolicy: {automated: {prune: true}}",
		"syncPolicy: {automated: {prune: true}, retry: {limit: 10, backoff: {duration: 1s, factor: 1}}}", 1), repo.HTTPURL(), dest)
	e.waitApp(t, "retrying", "a failed attempt", func(a *v1alpha1.Application) bool {
		return a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseFailed && strings.Contains(a.Status.OperationState.Message, "retrying in")
	})
	// The problem goes away: the namespace appears.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: later}}
	if _, err := kube(t).CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a := e.waitApp(t, "retrying", "synced after a retry", synced(""))
	if a.Status.OperationState.Phase != v1alpha1.PhaseSucceeded || a.Status.OperationState.RetryCount < 1 {
		t.Fatalf("operation: phase %s retries %d", a.Status.OperationState.Phase, a.Status.OperationState.RetryCount)
	}
	if configMap(t, later, "elsewhere") == nil {
		t.Fatal("object not applied after the retry")
	}
}

func TestReplaceAndForceSyncOptions(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	jobYAML := func(image, opts string) string {
		ann := ""
		if opts != "" {
			ann = "\n  annotations: {argocd.argoproj.io/sync-options: \"" + opts + "\"}"
		}
		return "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: once" + ann + "\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: run, image: " + image + "}]\n"
	}
	replaced := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: replaced\n  annotations: {argocd.argoproj.io/sync-options: Replace=true}\ndata: {v: \"1\"}\n"
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/job.yaml": jobYAML("example.invalid/a:1", ""), "app/cm.yaml": replaced})
	e.createApp(t, named("options"), repo.HTTPURL(), dest)
	e.waitApp(t, "options", "synced", synced(""))
	first := job(t, dest, "once")

	cm := configMap(t, dest, "replaced")
	for _, mf := range cm.ManagedFields {
		if mf.Manager == "tether" && mf.Operation != metav1.ManagedFieldsOperationUpdate {
			t.Errorf("Replace=true must write with a plain create/update, got %s", mf.Operation)
		}
	}

	t.Run("an immutable change fails without Force", func(t *testing.T) {
		rev, err := repo.Commit("main", map[string]string{"app/job.yaml": jobYAML("example.invalid/b:2", "")}, nil, "new job image")
		if err != nil {
			t.Fatal(err)
		}
		e.refresh(t, "options")
		a := e.waitApp(t, "options", "a failed sync", func(a *v1alpha1.Application) bool {
			return a.Status.OperationState != nil && a.Status.OperationState.SyncResult != nil &&
				a.Status.OperationState.SyncResult.Revision == rev && a.Status.OperationState.Phase == v1alpha1.PhaseFailed
		})
		if !strings.Contains(a.Status.OperationState.Message, "Job.batch/"+dest+"/once") || !strings.Contains(a.Status.OperationState.Message, "immutable") {
			t.Errorf("message: %s", a.Status.OperationState.Message)
		}
	})

	t.Run("Force=true deletes and recreates it", func(t *testing.T) {
		rev, err := repo.Commit("main", map[string]string{"app/job.yaml": jobYAML("example.invalid/b:2", "Force=true")}, nil, "force it")
		if err != nil {
			t.Fatal(err)
		}
		e.refresh(t, "options")
		e.waitApp(t, "options", "synced at the forced revision", func(a *v1alpha1.Application) bool {
			return a.Status.OperationState != nil && a.Status.OperationState.SyncResult != nil &&
				a.Status.OperationState.SyncResult.Revision == rev && a.Status.OperationState.Phase == v1alpha1.PhaseSucceeded
		})
		j := job(t, dest, "once")
		if j == nil || j.UID == first.UID || j.Spec.Template.Spec.Containers[0].Image != "example.invalid/b:2" {
			t.Fatalf("job not recreated: %+v", j)
		}
	})
}

func TestPruneRunsAfterTheLastWave(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"app/early.yaml": waveCM("early", "-1"),
		"app/late.yaml":  waveCM("late", "1"),
	})
	e.createApp(t, named("pruning"), repo.HTTPURL(), dest)
	e.waitApp(t, "pruning", "synced", synced(""))
	rev, err := repo.Commit("main", map[string]string{"app/late.yaml": strings.Replace(waveCM("late", "1"), "{a: b}", "{a: c}", 1)}, []string{"app/early.yaml"}, "drop early, change late")
	if err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "pruning")
	a := e.waitApp(t, "pruning", "synced at the new commit", synced(rev))
	order := map[string]int{}
	for i, r := range a.Status.OperationState.SyncResult.Resources {
		order[r.Name+"/"+r.Status] = i
	}
	pruned, okP := order["early/Pruned"]
	updated, okU := order["late/Synced"]
	if !okP || !okU || pruned < updated {
		t.Fatalf("prune must come after the last wave: %+v", a.Status.OperationState.SyncResult.Resources)
	}
	if configMap(t, dest, "early") != nil {
		t.Fatal("early was not pruned")
	}
}
