package e2e

import (
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
