package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/cli"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

func TestAppWait(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	bad := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {\"not a valid key!\": x}\n"
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"good/cm.yaml":     cmYAML("good", "1"),
		"good/deploy.yaml": deploymentYAML,
		"bad/cm.yaml":      bad,
		"manual/cm.yaml":   cmYAML("manual", "1"),
	})
	for _, name := range []string{"good", "bad"} {
		e.createApp(t, strings.Replace(strings.Replace(simpleApp, "NAME", name, 1), "path: app", "path: "+name, 1), repo.HTTPURL(), dest)
	}
	manual := strings.NewReplacer("NAME", "manual", "path: app", "path: manual", "syncPolicy: {automated: {prune: true}}", "syncPolicy: {}").Replace(simpleApp)
	e.createApp(t, manual, repo.HTTPURL(), dest)

	// Synced and Healthy (the Deployment becomes Available through kwok).
	out, err := runCLI(t, "app", "wait", "good", "-n", e.ns, "--timeout", "60s")
	if err != nil {
		t.Fatalf("wait for a healthy app: %v\n%s", err, out)
	}
	if a := e.app(t, "good"); a.Status.Sync.Status != v1alpha1.SyncStatusSynced || a.Status.Health.Status != v1alpha1.HealthHealthy {
		t.Errorf("wait returned before the app got there: %s", describeStatus(a))
	}

	// A failed sync ends the wait at once, naming the failure.
	out, err = runCLI(t, "app", "wait", "bad", "-n", e.ns, "--timeout", "60s")
	var exit *cli.ExitError
	if !errors.As(err, &exit) || exit.Code != 1 || !strings.Contains(err.Error(), "the last sync failed") || !strings.Contains(err.Error(), "ConfigMap/"+dest+"/bad") {
		t.Errorf("wait for an app whose sync failed: %v\n%s", err, out)
	}

	// An app that stays OutOfSync: the timeout, exit 1.
	out, err = runCLI(t, "app", "wait", "manual", "-n", e.ns, "--sync", "--timeout", "2s")
	if !errors.As(err, &exit) || exit.Code != 1 || !strings.Contains(err.Error(), "not there within 2s") {
		t.Errorf("wait for a manual app to sync: %v\n%s", err, out)
	}
}

func TestAppDelete(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"cascade/cm.yaml": cmYAML("cascaded", "1"), "orphan/cm.yaml": cmYAML("orphaned", "1")})
	for _, name := range []string{"cascade", "orphan"} {
		// Neither has the resources finalizer: the command decides.
		e.createApp(t, strings.NewReplacer("NAME", name, "path: app", "path: "+name).Replace(simpleApp), repo.HTTPURL(), dest)
		e.waitApp(t, name, "synced", synced(""))
	}
	out, err := runCLI(t, "app", "delete", "cascade", "-n", e.ns, "--propagation-policy", "background")
	if err != nil || !strings.Contains(out, "its objects are deleted with it") {
		t.Fatalf("delete --cascade: %v\n%s", err, out)
	}
	if configMap(t, dest, "cascaded") != nil {
		t.Error("a cascading delete left the app's objects")
	}
	out, err = runCLI(t, "app", "delete", "orphan", "-n", e.ns, "--cascade=false")
	if err != nil || !strings.Contains(out, "its objects stay") {
		t.Fatalf("delete --cascade=false: %v\n%s", err, out)
	}
	e.appGone(t, "orphan")
	if configMap(t, dest, "orphaned") == nil {
		t.Error("a delete without cascade removed the app's objects")
	}
	if out, err := runCLI(t, "app", "delete", "orphan", "-n", e.ns, "--propagation-policy", "sideways"); err == nil || !strings.Contains(err.Error(), "--propagation-policy") {
		t.Errorf("a bad propagation policy: %v\n%s", err, out)
	}
}

func TestAnOperationWithUnknownFieldsFailsNamingThem(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"manual/cm.yaml": cmYAML("forced", "1")})
	e.createApp(t, strings.NewReplacer("NAME", "manual", "path: app", "path: manual", "syncPolicy: {automated: {prune: true}}", "syncPolicy: {}").Replace(simpleApp), repo.HTTPURL(), dest)
	e.waitApp(t, "manual", "compared", func(a *v1alpha1.Application) bool { return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync })
	// What an Argo CD client sets for `argocd app sync --force`.
	patch := clientMergePatch(`{"operation":{"sync":{"syncStrategy":{"hook":{"force":true}}},"initiatedBy":{"username":"ann"}}}`)
	if err := e.c.Patch(context.Background(), e.app(t, "manual"), patch); err != nil {
		t.Fatal(err)
	}
	a := e.waitApp(t, "manual", "the operation failed, naming the field", func(a *v1alpha1.Application) bool {
		st := a.Status.OperationState
		return a.Operation == nil && st != nil && st.Phase == v1alpha1.PhaseError && strings.Contains(st.Message, `"operation.sync.syncStrategy"`)
	})
	if configMap(t, dest, "forced") != nil {
		t.Errorf("an operation with a field tether does not know was run: %s", describeStatus(a))
	}
}
