package e2e

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

func TestManagedNamespaceMetadata(t *testing.T) {
	e := startTether(t)
	dest := e.namespaceToCreate(t, "meta-")
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("a", "1")})
	app := func(name, options, metadata string) string {
		return `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ` + name + `}
spec:
  source: {repoURL: REPO, targetRevision: main, path: app}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  syncPolicy:
    syncOptions: [` + options + `]
    managedNamespaceMetadata: ` + metadata + `
`
	}
	e.createApp(t, app("labelled", "CreateNamespace=true", `{labels: {team: a, istio-injection: enabled}, annotations: {owner: "team-a@example.test"}}`), repo.HTTPURL(), dest)
	if out, err := runCLI(t, "app", "sync", "labelled", "-n", e.ns); err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	ns, err := kube(t).CoreV1().Namespaces().Get(context.Background(), dest, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("namespace not created: %v", err)
	}
	if ns.Labels["team"] != "a" || ns.Labels["istio-injection"] != "enabled" || ns.Annotations["owner"] != "team-a@example.test" {
		t.Fatalf("namespace metadata: labels %v annotations %v", ns.Labels, ns.Annotations)
	}

	// Someone else's label stays; a label removed from the spec goes.
	ns.Labels["other"] = "kept"
	if _, err := kube(t).CoreV1().Namespaces().Update(context.Background(), ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := clientMergePatch(`{"spec":{"syncPolicy":{"managedNamespaceMetadata":{"labels":{"team":"b","istio-injection":null}}}}}`)
	if err := e.c.Patch(context.Background(), e.app(t, "labelled"), patch); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "app", "sync", "labelled", "-n", e.ns); err != nil {
		t.Fatalf("sync after the change: %v\n%s", err, out)
	}
	ns, err = kube(t).CoreV1().Namespaces().Get(context.Background(), dest, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels["team"] != "b" || ns.Labels["other"] != "kept" || ns.Annotations["owner"] != "team-a@example.test" {
		t.Errorf("after the change: labels %v annotations %v", ns.Labels, ns.Annotations)
	}
	if _, ok := ns.Labels["istio-injection"]; ok {
		t.Errorf("a label removed from managedNamespaceMetadata stays on the namespace: %v", ns.Labels)
	}

	// Bad input is named on the app and nothing is synced.
	other := destNamespace(t)
	e.createApp(t, app("no-create", "", `{labels: {team: a}}`), repo.HTTPURL(), other)
	e.waitApp(t, "no-create", "the missing option named", hasCondition(v1alpha1.ConditionInvalidSpecError, "spec.syncPolicy.managedNamespaceMetadata: needs the sync option CreateNamespace=true"))
	e.createApp(t, app("bad-label", "CreateNamespace=true", `{labels: {"bad key!": a, team: "not valid!"}}`), repo.HTTPURL(), other)
	a := e.waitApp(t, "bad-label", "the bad label named", hasCondition(v1alpha1.ConditionInvalidSpecError, `spec.syncPolicy.managedNamespaceMetadata.labels: key "bad key!"`))
	if !hasCondition(v1alpha1.ConditionInvalidSpecError, `managedNamespaceMetadata.labels[team]: value "not valid!"`)(a) {
		t.Errorf("the bad label value is not named: %s", describeStatus(a))
	}
	e.createApp(t, app("unknown-field", "CreateNamespace=true", `{labels: {team: a}, finalizers: [x]}`), repo.HTTPURL(), other)
	e.waitApp(t, "unknown-field", "the unknown field named", hasCondition(v1alpha1.ConditionUnsupportedField, "finalizers"))
	if configMap(t, other, "a") != nil {
		t.Error("an app with bad managedNamespaceMetadata was synced")
	}
}
