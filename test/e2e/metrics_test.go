package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// TestMetricsInArgoCDsNames: the metrics endpoint reports every app with
// its sync and health status, its conditions, and counts syncs, under the
// names dashboards made for Argo CD use.
func TestMetricsInArgoCDsNames(t *testing.T) {
	addr := freeAddr(t)
	e := startTether(t, func(o *controller.Options) { o.MetricsAddr = addr })
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("measured", "v1")})
	e.createApp(t, named("measured"), repo.HTTPURL(), dest)
	e.createApp(t, strings.Replace(named("broken"), "path: app", "path: app, plugin: {name: cmp}", 1), repo.HTTPURL(), dest)
	e.waitApp(t, "measured", "synced", syncedHealthy(""))
	e.waitApp(t, "broken", "unsupported", hasCondition(v1alpha1.ConditionUnsupportedField, "plugin"))

	want := []string{
		`argocd_app_info{autosync_enabled="true",dest_namespace="` + dest + `",dest_server="https://kubernetes.default.svc",health_status="Healthy",name="measured",namespace="` + e.ns + `",operation="",project="default",repo="` + repo.HTTPURL() + `",sync_status="Synced"} 1`,
		`argocd_app_info{autosync_enabled="true",dest_namespace="` + dest + `",dest_server="https://kubernetes.default.svc",health_status="Unknown",name="broken",namespace="` + e.ns + `",operation="",project="default",repo="` + repo.HTTPURL() + `",sync_status="Unknown"} 1`,
		`argocd_app_condition{condition="UnsupportedField",name="broken",namespace="` + e.ns + `",project="default"} 1`,
		`argocd_app_sync_total{dest_server="https://kubernetes.default.svc",name="measured",namespace="` + e.ns + `",phase="Succeeded",project="default"} 1`,
		`argocd_app_reconcile_count{dest_server="https://kubernetes.default.svc",namespace="` + e.ns + `"}`,
	}
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			missing := false
			for _, w := range want {
				missing = missing || !strings.Contains(body, w)
			}
			if !missing {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	var ours []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "argocd_") {
			ours = append(ours, l)
		}
	}
	t.Logf("argocd_ metrics:\n%s", strings.Join(ours, "\n"))
}

// TestExternalURLsOfIngresses: the app's Ingress hosts are listed in
// status.summary.externalURLs and by `tether app get`.
func TestExternalURLsOfIngresses(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/ing.yaml": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  tls: [{hosts: [shop.example.com]}]
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`})
	e.createApp(t, named("exposed"), repo.HTTPURL(), dest)
	a := e.waitApp(t, "exposed", "synced with its URL", func(a *v1alpha1.Application) bool {
		return synced("")(a) && len(a.Status.Summary.ExternalURLs) == 1
	})
	if got := a.Status.Summary.ExternalURLs[0]; got != "https://shop.example.com/" {
		t.Errorf("externalURLs %q", a.Status.Summary.ExternalURLs)
	}
	out, err := runCLI(t, "app", "get", "exposed", "-n", e.ns)
	if err != nil || !strings.Contains(out, "URL:           https://shop.example.com/") {
		t.Errorf("app get: %v\n%s", err, out)
	}
}

// TestAppManifests: `tether app manifests` prints what Git renders and
// what the cluster holds, with Secret values masked in both.
func TestAppManifests(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{
		"app/cm.yaml":     cmYAML("shown", "v1"),
		"app/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {password: hunter2-in-git}\n",
	})
	e.createApp(t, named("manifests"), repo.HTTPURL(), dest)
	e.waitApp(t, "manifests", "synced", syncedHealthy(""))

	out, err := runCLI(t, "app", "manifests", "manifests", "-n", e.ns)
	if err != nil || !strings.Contains(out, "name: shown") || !strings.Contains(out, "namespace: "+dest) || !strings.Contains(out, "password: ++++++++") {
		t.Errorf("git manifests: %v\n%s", err, out)
	}
	live, err := runCLI(t, "app", "manifests", "manifests", "-n", e.ns, "--source", "live")
	if err != nil || !strings.Contains(live, "uid: ") || !strings.Contains(live, "name: creds") || strings.Contains(live, "managedFields") {
		t.Errorf("live manifests: %v\n%s", err, live)
	}
	for _, o := range []string{out, live} {
		if strings.Contains(o, "hunter2") || strings.Contains(o, "aHVudGVyMi") { // the value, or its base64
			t.Errorf("a Secret value is shown:\n%s", o)
		}
	}
	if _, err := runCLI(t, "app", "manifests", "manifests", "-n", e.ns, "--source", "cluster"); err == nil || !strings.Contains(err.Error(), `--source "cluster": want git or live`) {
		t.Errorf("a bad --source: %v", err)
	}
}
