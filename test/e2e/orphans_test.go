package e2e

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// TestOrphanedResourcesWarning: with spec.orphanedResources, an app whose
// destination namespace holds top-level objects no app tracks gets an
// OrphanedResourceWarning naming them; objects with owners, the ignore
// list, kinds the project does not allow and what Kubernetes makes in
// every namespace do not count; the warning goes once they are gone.
func TestOrphanedResourcesWarning(t *testing.T) {
	e := startTether(t)
	ctx := context.Background()
	e.createProject(t, "team-a", v1alpha1.AppProjectSpec{
		SourceRepos:                []string{"*"},
		Destinations:               []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}},
		NamespaceResourceBlacklist: []v1alpha1.GroupKind{{Group: "", Kind: "ResourceQuota"}},
		OrphanedResources:          &v1alpha1.OrphanedResourcesMonitorSettings{Ignore: []v1alpha1.OrphanedResourceKey{{Kind: "Secret", Name: "keep-*"}}},
	})
	dest := destNamespace(t)
	repo := newRepo(t, gitserver.Anonymous, map[string]string{"app/cm.yaml": cmYAML("managed", "v1")})
	e.createProjectApp(t, "app", "app", "server: https://kubernetes.default.svc", repo.HTTPURL(), dest)
	a := e.waitApp(t, "app", "synced", syncedHealthy(""))
	for _, c := range a.Status.Conditions {
		if c.Type == v1alpha1.ConditionOrphanedResource {
			t.Fatalf("a namespace with only the app's objects has orphans: %s", c.Message)
		}
	}

	cs := kube(t)
	if _, err := cs.CoreV1().ConfigMaps(dest).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "stray"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets(dest).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "keep-me"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ResourceQuotas(dest).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "quota"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("50")}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "by-hand"}
	if _, err := cs.AppsV1().Deployments(dest).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "by-hand"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.invalid/x:1"}}},
			},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Its ReplicaSet (and Pod) have owners: only the Deployment counts.
	eventually(t, 30*time.Second, "the Deployment's ReplicaSet", func(ctx context.Context) (bool, error) {
		l, err := cs.AppsV1().ReplicaSets(dest).List(ctx, metav1.ListOptions{})
		return err == nil && len(l.Items) > 0, nil
	})
	want := "Application has 2 orphaned objects in namespace " + dest + " (no app tracks them): ConfigMap/stray, Deployment.apps/by-hand"
	e.waitAppRefreshing(t, "app", "the orphans named", hasCondition(v1alpha1.ConditionOrphanedResource, want))

	if err := cs.CoreV1().ConfigMaps(dest).Delete(ctx, "stray", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.AppsV1().Deployments(dest).Delete(ctx, "by-hand", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitAppRefreshing(t, "app", "the warning gone with the orphans", func(a *v1alpha1.Application) bool {
		for _, c := range a.Status.Conditions {
			if c.Type == v1alpha1.ConditionOrphanedResource {
				return false
			}
		}
		return true
	})
}
