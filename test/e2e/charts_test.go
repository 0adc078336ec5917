package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv/chartrepo"
)

// webChart is a chart whose ConfigMap shows the values and chart version
// it was rendered with.
func webChart(t *testing.T, version string) []byte {
	t.Helper()
	b, err := chartrepo.Chart("web", version, map[string]string{
		"values.yaml":      "color: blue\nsize: small\n",
		"values-prod.yaml": "color: red\n",
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-cfg
data:
  color: {{ .Values.color | quote }}
  size: {{ .Values.size | quote }}
  chart: {{ .Chart.Version | quote }}
  namespace: {{ .Release.Namespace | quote }}
`,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// helmRepoSecret is an Argo CD repository Secret of type helm.
func (e *tetherEnv) helmRepoSecret(t *testing.T, name string, data map[string]string) {
	t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"argocd.argoproj.io/secret-type": "repository"}},
		StringData: data,
	}
	if _, err := kube(t).CoreV1().Secrets(e.ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

const chartApp = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: NAME}
spec:
  project: default
  source:
    repoURL: REPO
    chart: web
    targetRevision: "REV"
    helm:
      releaseName: NAME
      valueFiles: [values-prod.yaml]
      valuesObject: {size: large}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy: {automated: {prune: true, selfHeal: true}}
`

func chartAppYAML(name, rev string) string {
	return strings.NewReplacer("NAME", name, "REV", rev).Replace(chartApp)
}

// chartServer starts a chart repository that needs user and password,
// with webChart published at versions.
func chartServer(t *testing.T, user, password string, versions ...string) *chartrepo.Server {
	t.Helper()
	repo := chartrepo.NewServer(user, password)
	t.Cleanup(repo.Close)
	for _, v := range versions {
		repo.Publish("web", v, webChart(t, v))
	}
	return repo
}

func TestChartFromAHelmRepository(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := chartServer(t, "reader", "chart-pass-1", "1.0.0", "1.1.0", "2.0.0")
	e.helmRepoSecret(t, "charts", map[string]string{"type": "helm", "name": "charts", "url": repo.URL(), "username": "reader", "password": "chart-pass-1"})
	e.createApp(t, chartAppYAML("web", "1.*"), repo.URL(), dest)

	t.Run("the highest version matching the constraint is synced with the app's values", func(t *testing.T) {
		a := e.waitApp(t, "web", "synced 1.1.0", syncedHealthy("1.1.0"))
		if a.Status.SourceType != "Helm" {
			t.Errorf("sourceType %q", a.Status.SourceType)
		}
		if n := len(a.Status.History); n != 1 || a.Status.History[0].Revision != "1.1.0" || a.Status.History[0].Source.Chart != "web" {
			t.Errorf("history %+v", a.Status.History)
		}
		cm := configMap(t, dest, "web-cfg")
		if cm == nil {
			t.Fatal("ConfigMap web-cfg missing")
		}
		want := map[string]string{"color": "red", "size": "large", "chart": "1.1.0", "namespace": dest}
		for k, v := range want {
			if cm.Data[k] != v {
				t.Errorf("data.%s = %q; want %q (data %v)", k, cm.Data[k], v, cm.Data)
			}
		}
	})

	t.Run("a new version matching the constraint is synced after a refresh", func(t *testing.T) {
		repo.Publish("web", "1.2.0", webChart(t, "1.2.0"))
		e.refresh(t, "web")
		e.waitApp(t, "web", "synced 1.2.0", syncedHealthy("1.2.0"))
		if cm := configMap(t, dest, "web-cfg"); cm == nil || cm.Data["chart"] != "1.2.0" {
			t.Errorf("ConfigMap not updated: %v", cm)
		}
	})

	t.Run("a version that does not exist is named, and the last sync stays", func(t *testing.T) {
		a := e.app(t, "web")
		a.Spec.Source.TargetRevision = "9.9.9"
		if err := e.c.Update(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		e.waitApp(t, "web", "condition naming the version", hasCondition(v1alpha1.ConditionComparisonError, `chart web has no version matching "9.9.9"`))
		if cm := configMap(t, dest, "web-cfg"); cm == nil || cm.Data["chart"] != "1.2.0" {
			t.Errorf("the last synced state changed: %v", cm)
		}
	})
}

func TestChartRepositoryBadInput(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	repo := chartServer(t, "reader", "right-pass", "1.0.0")
	e.helmRepoSecret(t, "charts", map[string]string{"type": "helm", "url": repo.URL(), "username": "reader", "password": "wrong-pass-42"})

	e.createApp(t, chartAppYAML("denied", "1.0.0"), repo.URL(), dest)
	a := e.waitApp(t, "denied", "authentication condition", hasCondition(v1alpha1.ConditionComparisonError, "chart repository "+repo.URL()+": get index.yaml: authentication failed (HTTP 401)"))
	for _, c := range a.Status.Conditions {
		if strings.Contains(c.Message, "wrong-pass-42") {
			t.Errorf("condition shows the password: %s", c.Message)
		}
	}

	e.createApp(t, strings.Replace(chartAppYAML("with-path", "1.0.0"), "chart: web", "chart: web\n    path: charts/web", 1), repo.URL(), dest)
	e.waitApp(t, "with-path", "invalid spec naming the path", hasCondition(v1alpha1.ConditionInvalidSpecError, `spec.source.path: "charts/web" cannot be used with spec.source.chart`))

	e.createApp(t, chartAppYAML("unreachable", "1.0.0"), "http://127.0.0.1:1/charts", dest)
	e.waitApp(t, "unreachable", "unreachable condition", hasCondition(v1alpha1.ConditionComparisonError, "chart repository http://127.0.0.1:1/charts: get index.yaml"))
}

func TestChartFromAnOCIRegistry(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	reg := chartrepo.NewRegistry("pusher", "oci-pass-7")
	t.Cleanup(reg.Close)
	for _, v := range []string{"0.1.0", "0.2.0", "1.0.0-rc.1"} {
		if err := reg.Push(context.Background(), "charts/web", v, webChart(t, v)); err != nil {
			t.Fatal(err)
		}
	}
	// Argo CD writes OCI chart repositories without a scheme and marks
	// their Secret with enableOCI; oci:// works too.
	e.helmRepoSecret(t, "registry", map[string]string{"type": "helm", "url": reg.Host() + "/charts", "enableOCI": "true", "username": "pusher", "password": "oci-pass-7"})
	e.createApp(t, chartAppYAML("bare", "0.*"), reg.Host()+"/charts", dest)
	e.createApp(t, chartAppYAML("scheme", "1.0.0-rc.1"), "oci://"+reg.Host()+"/charts", dest)

	e.waitApp(t, "bare", "synced 0.2.0", syncedHealthy("0.2.0"))
	e.waitApp(t, "scheme", "synced 1.0.0-rc.1", syncedHealthy("1.0.0-rc.1"))
	for name, version := range map[string]string{"bare-cfg": "0.2.0", "scheme-cfg": "1.0.0-rc.1"} {
		if cm := configMap(t, dest, name); cm == nil || cm.Data["chart"] != version || cm.Data["color"] != "red" {
			t.Errorf("%s: %v", name, cm)
		}
	}

	e.createApp(t, chartAppYAML("missing", "3.0.0"), "oci://"+reg.Host()+"/charts", dest)
	e.waitApp(t, "missing", "condition naming the version", hasCondition(v1alpha1.ConditionComparisonError, `chart web has no version matching "3.0.0"`))
}
