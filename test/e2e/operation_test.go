package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// gatedApp is a manual app whose wave 0 Deployment only schedules once the
// kwok node carries the label gate, and whose wave 1 ConfigMap shows whether
// the sync went on.
func gatedApp(t *testing.T, e *tetherEnv, name, gate string) string {
	dest := destNamespace(t)
	deploy := strings.Replace(deploymentYAML, "    spec:\n      containers:", "    spec:\n      nodeSelector: {"+gate+": \"open\"}\n      containers:", 1)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/deploy.yaml": deploy, "app/late.yaml": waveCM("late", "1")})
	e.createApp(t, strings.Replace(strings.Replace(named(name), "syncPolicy: {automated: {prune: true}}", "", 1), "NAME", name, 1), repo.HTTPURL(), dest)
	e.waitApp(t, name, "OutOfSync", func(a *v1alpha1.Application) bool { return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync })
	return dest
}

func running(a *v1alpha1.Application) bool {
	return a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseRunning
}

func setNodeLabel(t *testing.T, key, value string) {
	t.Helper()
	var body string
	if value == "" {
		body = `{"metadata":{"labels":{"` + key + `":null}}}`
	} else {
		body = `{"metadata":{"labels":{"` + key + `":"` + value + `"}}}`
	}
	if _, err := kube(t).CoreV1().Nodes().Patch(context.Background(), testenv.NodeName, types.MergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestTerminateOpStopsBetweenWaves(t *testing.T) {
	e := startTether(t, func(o *controller.Options) { o.OperationTimeout = time.Minute })
	dest := gatedApp(t, e, "stoppable", "gate-"+e.ns)
	if out, err := runCLI(t, "app", "sync", "stoppable", "-n", e.ns, "--async"); err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	e.waitApp(t, "stoppable", "a running sync", running)
	if out, err := runCLI(t, "app", "terminate-op", "stoppable", "-n", e.ns); err != nil {
		t.Fatalf("terminate-op: %v\n%s", err, out)
	}
	a := e.waitApp(t, "stoppable", "a terminated sync", func(a *v1alpha1.Application) bool {
		return a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseFailed
	})
	if !strings.Contains(a.Status.OperationState.Message, "terminated on request") {
		t.Errorf("message: %s", a.Status.OperationState.Message)
	}
	if configMap(t, dest, "late") != nil {
		t.Error("a wave after the termination was applied")
	}
	if out, err := runCLI(t, "app", "terminate-op", "stoppable", "-n", e.ns); err == nil || !strings.Contains(err.Error(), "no sync is running") {
		t.Errorf("terminate-op without a running sync: %v\n%s", err, out)
	}
}

func TestASyncInterruptedByARestartIsResumed(t *testing.T) {
	e := startTether(t, func(o *controller.Options) { o.OperationTimeout = time.Minute })
	gate := "gate-" + e.ns
	t.Cleanup(func() { setNodeLabel(t, gate, "") })
	dest := gatedApp(t, e, "resumed", gate)
	if out, err := runCLI(t, "app", "sync", "resumed", "-n", e.ns, "--async"); err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	e.waitApp(t, "resumed", "a running sync", running)
	e.stop()
	setNodeLabel(t, gate, "open")
	e.start(t)
	a := e.waitApp(t, "resumed", "the resumed sync finished", func(a *v1alpha1.Application) bool {
		return a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseSucceeded && a.Operation == nil
	})
	if configMap(t, dest, "late") == nil {
		t.Fatalf("wave 1 not applied after the restart: %s", describeStatus(a))
	}
	if d := deployment(t, dest, "api"); *d.Spec.Replicas != 2 || d.Generation != 1 {
		t.Errorf("the Deployment was changed by the second run: replicas %d generation %d", *d.Spec.Replicas, d.Generation)
	}
}

func TestSyncWatchShowsEachWaveAndHook(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"app/first.yaml": waveCM("first", "0"),
		"app/later.yaml": waveCM("later", "1"),
		"app/post.yaml":  hookJob("post", "PostSync", "", false),
	})
	e.createApp(t, strings.Replace(named("watched"), "syncPolicy: {automated: {prune: true}}", "", 1), repo.HTTPURL(), dest)
	e.waitApp(t, "watched", "OutOfSync", func(a *v1alpha1.Application) bool { return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync })
	out, err := runCLI(t, "app", "sync", "watched", "-n", e.ns, "--watch")
	if err != nil {
		t.Fatalf("sync --watch: %v\n%s", err, out)
	}
	for _, want := range []string{
		"wave 0 applied, waiting for it to turn healthy",
		"wave 0  ConfigMap/" + dest + "/first  Synced  created",
		"ConfigMap/" + dest + "/later  Synced  created",
		"PostSync",
		"Job/" + dest + "/post",
		"Phase:    Succeeded",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--watch output lacks %q:\n%s", want, out)
		}
	}
}
