package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// guardedCM is a ConfigMap carrying the given sync options.
func guardedCM(name, options string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  annotations: {argocd.argoproj.io/sync-options: \"" + options + "\"}\ndata: {a: b}\n"
}

// approve sets the app's deletion-approved annotation to value.
func (e *tetherEnv) approve(t *testing.T, name, value string) {
	t.Helper()
	patch := clientMergePatch(`{"metadata":{"annotations":{"` + v1alpha1.DeletionApprovedAnnotation + `":"` + value + `"}}}`)
	if err := e.c.Patch(context.Background(), e.app(t, name), patch); err != nil {
		t.Fatal(err)
	}
}

func waitingFor(substr string) func(*v1alpha1.Application) bool {
	return func(a *v1alpha1.Application) bool {
		return a.Status.OperationState.WaitsForApproval() && strings.Contains(a.Status.OperationState.Message, substr)
	}
}

func TestPruneConfirmWaitsForApproval(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"apps/api/plain.yaml":   cmYAML("plain", "1"),
		"apps/api/guarded.yaml": guardedCM("guarded", "Prune=confirm"),
		"apps/api/kept.yaml":    cmYAML("kept", "1"),
	})
	e.createApp(t, autoApp, repo.HTTPURL(), dest)
	first := e.waitApp(t, "api-production", "synced", synced(""))

	rev, err := repo.Commit("main", map[string]string{"apps/api/kept.yaml": cmYAML("kept", "2")},
		[]string{"apps/api/plain.yaml", "apps/api/guarded.yaml"}, "drop plain and guarded")
	if err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "api-production")
	a := e.waitApp(t, "api-production", "the sync waiting for pruning confirmation", waitingFor("ConfigMap/"+dest+"/guarded"))
	st := a.Status.OperationState
	if strings.Contains(st.Message, "/plain") {
		t.Errorf("only the object marked Prune=confirm waits for approval: %s", st.Message)
	}
	if !strings.Contains(st.Message, "tether app confirm-deletion api-production") {
		t.Errorf("the message must say how to approve: %s", st.Message)
	}
	if cm := configMap(t, dest, "kept"); cm == nil || cm.Data["value"] != "2" {
		t.Errorf("the waves are applied before the prune waits: kept = %v", cm)
	}
	if configMap(t, dest, "plain") == nil || configMap(t, dest, "guarded") == nil {
		t.Fatal("nothing may be pruned before the approval")
	}
	if a.Status.Sync.Status != v1alpha1.SyncStatusOutOfSync || len(a.Status.History) != len(first.Status.History) {
		t.Errorf("a waiting sync is OutOfSync and not in the history yet: %s, %d history entries", a.Status.Sync.Status, len(a.Status.History))
	}
	if hasCondition(v1alpha1.ConditionSyncError, "")(a) {
		t.Errorf("waiting is not a sync error: %s", describeStatus(a))
	}

	// An approval given before the sync started does not approve it; a
	// malformed one is named.
	e.approve(t, "api-production", "soon")
	e.waitApp(t, "api-production", "a malformed approval named", waitingFor(`"soon" is not an RFC 3339 time`))
	stale := st.StartedAt.Add(-time.Minute).UTC().Format(time.RFC3339)
	e.approve(t, "api-production", stale)
	e.waitApp(t, "api-production", "a stale approval named", waitingFor("("+stale+") is older than this sync"))
	if configMap(t, dest, "guarded") == nil || configMap(t, dest, "plain") == nil {
		t.Fatal("a stale or malformed approval pruned")
	}

	out, err := runCLI(t, "app", "confirm-deletion", "api-production", "-n", e.ns)
	if err != nil || !strings.Contains(out, "it was waiting for pruning confirmation of ConfigMap/"+dest+"/guarded") {
		t.Fatalf("confirm-deletion: %v\n%s", err, out)
	}
	a = e.waitApp(t, "api-production", "synced after the approval", func(a *v1alpha1.Application) bool {
		return synced(rev)(a) && a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseSucceeded
	})
	if configMap(t, dest, "plain") != nil || configMap(t, dest, "guarded") != nil {
		t.Error("the approved prune did not delete both objects")
	}
	if !a.Status.OperationState.StartedAt.Equal(&st.StartedAt) {
		t.Errorf("the approved sync is the one that waited: started %v, want %v", a.Status.OperationState.StartedAt, st.StartedAt)
	}
	h := a.Status.History[len(a.Status.History)-1]
	if h.Revision != rev || len(a.Status.History) != len(first.Status.History)+1 {
		t.Errorf("history after the approval: %+v", a.Status.History)
	}
}

func TestAWaitingSyncCanBeTerminatedAndRequestedAgain(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"app/a.yaml":       cmYAML("a", "1"),
		"app/guarded.yaml": guardedCM("guarded", "Prune=confirm"),
	})
	manual := strings.Replace(strings.Replace(simpleApp, "NAME", "manual", 1), "syncPolicy: {automated: {prune: true}}", "syncPolicy: {}", 1)
	e.createApp(t, manual, repo.HTTPURL(), dest)
	if out, err := runCLI(t, "app", "sync", "manual", "-n", e.ns); err != nil {
		t.Fatalf("first sync: %v\n%s", err, out)
	}
	if _, err := repo.Commit("main", nil, []string{"app/guarded.yaml"}, "drop guarded"); err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "manual")
	e.waitApp(t, "manual", "OutOfSync", func(a *v1alpha1.Application) bool { return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync })

	// A requested sync returns when it starts waiting, saying so.
	out, err := runCLI(t, "app", "sync", "manual", "-n", e.ns, "--prune")
	if err == nil || !strings.Contains(out, v1alpha1.PruneApprovalPending+"ConfigMap/"+dest+"/guarded") {
		t.Fatalf("sync of a prune that needs approval: %v\n%s", err, out)
	}
	a := e.app(t, "manual")
	if a.Operation == nil {
		t.Fatal("a waiting sync keeps its request, to run on once approved")
	}
	if out, err := runCLI(t, "app", "terminate-op", "manual", "-n", e.ns); err != nil {
		t.Fatalf("terminate-op: %v\n%s", err, out)
	}
	a = e.waitApp(t, "manual", "the waiting sync terminated", func(a *v1alpha1.Application) bool {
		return a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseFailed && a.Operation == nil
	})
	if !strings.Contains(a.Status.OperationState.Message, "terminated on request") || configMap(t, dest, "guarded") == nil {
		t.Fatalf("after terminate-op: %s; guarded present: %v", describeStatus(a), configMap(t, dest, "guarded") != nil)
	}

	// Approving in advance does not count for a sync started later.
	e.approve(t, "manual", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	if out, err := runCLI(t, "app", "sync", "manual", "-n", e.ns, "--prune", "--async"); err != nil {
		t.Fatalf("sync again: %v\n%s", err, out)
	}
	e.waitApp(t, "manual", "waiting again", waitingFor("is older than this sync"))
	if out, err := runCLI(t, "app", "confirm-deletion", "manual", "-n", e.ns); err != nil {
		t.Fatalf("confirm-deletion: %v\n%s", err, out)
	}
	e.waitApp(t, "manual", "synced after the approval", func(a *v1alpha1.Application) bool {
		return synced("")(a) && a.Operation == nil && a.Status.OperationState.Phase == v1alpha1.PhaseSucceeded
	})
	if configMap(t, dest, "guarded") != nil {
		t.Error("guarded not pruned after the approval")
	}
}

func TestDeleteConfirmWaitsForApproval(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"confirm/plain.yaml":   cmYAML("confirm-plain", "x"),
		"confirm/guarded.yaml": guardedCM("confirm-guarded", "Delete=confirm"),
		"keep/cm.yaml":         cmYAML("kept-by-app-option", "x"),
	})
	app := func(name, path, options string) string {
		return `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ` + name + `, finalizers: [resources-finalizer.argocd.argoproj.io]}
spec:
  source: {repoURL: REPO, targetRevision: main, path: ` + path + `}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {}, syncOptions: [` + options + `]}
`
	}
	e.createApp(t, app("confirm", "confirm", ""), repo.HTTPURL(), dest)
	e.createApp(t, app("keep", "keep", "Delete=false"), repo.HTTPURL(), dest)
	e.waitApp(t, "confirm", "synced", synced(""))
	e.waitApp(t, "keep", "synced", synced(""))
	for _, name := range []string{"confirm", "keep"} {
		if err := e.c.Delete(context.Background(), e.app(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	e.appGone(t, "keep")
	if configMap(t, dest, "kept-by-app-option") == nil {
		t.Error("Delete=false in the app's syncOptions must keep its objects when it is deleted")
	}

	a := e.waitApp(t, "confirm", "waiting for deletion confirmation", hasCondition("DeletionConfirmationRequired", "ConfigMap/"+dest+"/confirm-guarded"))
	if !strings.Contains(describeStatus(a), "tether app confirm-deletion confirm") {
		t.Errorf("the condition must say how to approve: %s", describeStatus(a))
	}
	if configMap(t, dest, "confirm-plain") == nil || configMap(t, dest, "confirm-guarded") == nil {
		t.Fatal("nothing may be deleted before the approval")
	}
	out, err := runCLI(t, "app", "confirm-deletion", "confirm", "-n", e.ns)
	if err != nil || !strings.Contains(out, "waiting for deletion confirmation") {
		t.Fatalf("confirm-deletion: %v\n%s", err, out)
	}
	e.appGone(t, "confirm")
	if configMap(t, dest, "confirm-plain") != nil || configMap(t, dest, "confirm-guarded") != nil {
		t.Error("the approved deletion left objects behind")
	}
}

func TestIgnoreExtraneousKeepsTheAppSynced(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	extra := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  annotations:\n    argocd.argoproj.io/compare-options: IgnoreExtraneous\n    argocd.argoproj.io/sync-options: Prune=false\ndata: {a: b}\n"
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"apps/api/a.yaml": cmYAML("a", "1"), "apps/api/extra.yaml": extra})
	e.createApp(t, autoApp, repo.HTTPURL(), dest)
	e.waitApp(t, "api-production", "synced", synced(""))

	rev, err := repo.Commit("main", nil, []string{"apps/api/extra.yaml"}, "stop managing extra")
	if err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "api-production")
	a := e.waitApp(t, "api-production", "compared at the new commit", func(a *v1alpha1.Application) bool { return a.Status.Sync.Revision == rev })
	if a.Status.Sync.Status != v1alpha1.SyncStatusSynced {
		t.Errorf("an extraneous object marked IgnoreExtraneous must not make the app OutOfSync: %s", describeStatus(a))
	}
	listed := false
	for _, r := range a.Status.Resources {
		listed = listed || (r.Name == "extra" && r.RequiresPruning)
	}
	if !listed || configMap(t, dest, "extra") == nil {
		t.Errorf("extra stays, listed as requiring pruning: %s", describeStatus(a))
	}

	// A compare option tether does not know is an error naming the object.
	bad := strings.Replace(cmYAML("b", "1"), "metadata:\n", "metadata:\n  annotations: {argocd.argoproj.io/compare-options: IgnoreEverything}\n", 1)
	if _, err := repo.Commit("main", map[string]string{"apps/api/b.yaml": bad}, nil, "a bad compare option"); err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "api-production")
	e.waitApp(t, "api-production", "the bad option named", hasCondition(v1alpha1.ConditionComparisonError, "ConfigMap/"+dest+"/b: annotation argocd.argoproj.io/compare-options"))
	if configMap(t, dest, "b") != nil {
		t.Error("an object with an invalid compare option was applied")
	}
}

func TestPostDeleteHooksRunOnceTheAppIsDeleted(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"app/cm.yaml":      cmYAML("a", "1"),
		"app/cleanup.yaml": hookJob("cleanup", "PostDelete", "", false),
		"app/fails.yaml":   hookJob("fails", "PostDelete", "HookFailed", true),
		"kept/cm.yaml":     cmYAML("kept", "1"),
		"kept/hook.yaml":   hookJob("kept-hook", "PostDelete", "HookSucceeded", false),
	})
	mk := func(name, path, finalizers string) string {
		return `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ` + name + `, finalizers: [` + finalizers + `]}
spec:
  source: {repoURL: REPO, targetRevision: main, path: ` + path + `}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {prune: true}}
`
	}
	e.createApp(t, mk("cascade", "app", v1alpha1.ResourcesFinalizer), repo.HTTPURL(), dest)
	e.createApp(t, mk("orphan", "kept", ""), repo.HTTPURL(), dest)
	for _, name := range []string{"cascade", "orphan"} {
		a := e.waitApp(t, name, "synced with the PostDelete finalizers", func(a *v1alpha1.Application) bool {
			return synced("")(a) && slices.Contains(a.Finalizers, v1alpha1.PostDeleteFinalizer) && slices.Contains(a.Finalizers, v1alpha1.PostDeleteCleanupFinalizer)
		})
		if a.Status.OperationState == nil || a.Status.OperationState.Phase != v1alpha1.PhaseSucceeded {
			t.Fatalf("%s: %s", name, describeStatus(a))
		}
	}
	if job(t, dest, "cleanup") != nil || job(t, dest, "kept-hook") != nil {
		t.Fatal("a PostDelete hook ran in a sync")
	}

	for _, name := range []string{"cascade", "orphan"} {
		if err := e.c.Delete(context.Background(), e.app(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	e.appGone(t, "cascade")
	e.appGone(t, "orphan")
	if configMap(t, dest, "a") != nil {
		t.Error("the app's objects are deleted before its PostDelete hooks run")
	}
	if j := job(t, dest, "cleanup"); j == nil || j.Status.Succeeded != 1 {
		t.Errorf("the PostDelete hook did not run to its end: %+v", j)
	} else if j.Labels["tether.dev/app"] == "" {
		t.Errorf("a PostDelete hook is tracked like the app's other hooks: labels %v", j.Labels)
	}
	if job(t, dest, "fails") != nil {
		t.Error("a failed PostDelete hook with HookFailed must be deleted")
	}
	if configMap(t, dest, "kept") == nil {
		t.Error("without the resources finalizer the objects stay")
	}
	if job(t, dest, "kept-hook") != nil {
		t.Error("a succeeded PostDelete hook with HookSucceeded must be deleted")
	}
	evs, err := kube(t).CoreV1().Events(e.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var failed bool
	for _, ev := range evs.Items {
		failed = failed || (ev.Reason == "PostDeleteHookFailed" && strings.Contains(ev.Message, "fails"))
	}
	if !failed {
		t.Error("no PostDeleteHookFailed event names the failed hook")
	}
}

func TestSelectiveSync(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"app/a.yaml":    cmYAML("a", "1"),
		"app/b.yaml":    cmYAML("b", "1"),
		"app/old.yaml":  cmYAML("old", "1"),
		"app/hook.yaml": hookJob("pre", "PreSync", "", false),
	})
	manual := strings.Replace(strings.Replace(simpleApp, "NAME", "picky", 1), "syncPolicy: {automated: {prune: true}}", "syncPolicy: {}", 1)
	e.createApp(t, manual, repo.HTTPURL(), dest)
	e.waitApp(t, "picky", "compared", func(a *v1alpha1.Application) bool { return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync })
	if out, err := runCLI(t, "app", "sync", "picky", "-n", e.ns); err != nil {
		t.Fatalf("first sync: %v\n%s", err, out)
	}
	first := e.app(t, "picky")
	// The first sync's hook goes (at once: no orphaning finalizer for the
	// garbage collector to remove), so any Job named pre later is a new run.
	background := metav1.DeletePropagationBackground
	if err := kube(t).BatchV1().Jobs(dest).Delete(context.Background(), "pre", metav1.DeleteOptions{PropagationPolicy: &background}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the first sync's hook Job deleted", func(context.Context) (bool, error) { return job(t, dest, "pre") == nil, nil })

	rev, err := repo.Commit("main", map[string]string{"app/a.yaml": cmYAML("a", "2"), "app/b.yaml": cmYAML("b", "2")}, []string{"app/old.yaml"}, "change a and b, drop old")
	if err != nil {
		t.Fatal(err)
	}
	e.refresh(t, "picky")
	e.waitApp(t, "picky", "OutOfSync at the new commit", func(a *v1alpha1.Application) bool {
		return a.Status.Sync.Revision == rev && a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync
	})

	out, err := runCLI(t, "app", "sync", "picky", "-n", e.ns, "--prune", "--resource", ":ConfigMap:a", "--resource", ":ConfigMap:"+dest+"/old")
	if err != nil {
		t.Fatalf("selective sync: %v\n%s", err, out)
	}
	if cm := configMap(t, dest, "a"); cm == nil || cm.Data["value"] != "2" {
		t.Errorf("a selected object was not applied: %v", cm)
	}
	if configMap(t, dest, "old") != nil {
		t.Error("a selected object to prune was not pruned")
	}
	if cm := configMap(t, dest, "b"); cm == nil || cm.Data["value"] != "1" {
		t.Errorf("an object left out of a selective sync was changed: %v", cm)
	}
	if job(t, dest, "pre") != nil {
		t.Error("a selective sync ran a hook")
	}
	a := e.waitApp(t, "picky", "still OutOfSync for b", func(a *v1alpha1.Application) bool {
		return a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseSucceeded && a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync
	})
	if len(a.Status.History) != len(first.Status.History) || !strings.Contains(a.Status.OperationState.Message, "not recorded in the history") {
		t.Errorf("a selective sync is not a deployment: %d history entries (had %d); %s", len(a.Status.History), len(first.Status.History), a.Status.OperationState.Message)
	}

	// A name that is not an object of the app fails the sync, naming it, and
	// nothing is applied.
	out, err = runCLI(t, "app", "sync", "picky", "-n", e.ns, "--resource", ":ConfigMap:b", "--resource", "apps:Deployment:nope")
	if err == nil || !strings.Contains(out, "apps:Deployment:nope: not an object of the app") {
		t.Fatalf("selective sync of an unknown object: %v\n%s", err, out)
	}
	if cm := configMap(t, dest, "b"); cm == nil || cm.Data["value"] != "1" {
		t.Errorf("a refused selective sync applied b: %v", cm)
	}
	if out, err := runCLI(t, "app", "sync", "picky", "-n", e.ns, "--resource", "ConfigMap/b"); err == nil || !strings.Contains(err.Error(), "GROUP:KIND:NAME") {
		t.Errorf("a malformed --resource: %v\n%s", err, out)
	}
}
