package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	"github.com/tether-gitops/tether/internal/testenv"
)

func eventually(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not reached within %s (last error: %v)", what, timeout, last)
	}
}

func TestControlPlaneRunsWorkloads(t *testing.T) {
	cs := testenv.Shared(t).Default().Clientset()
	ns := testenv.Namespace(t)
	ctx := context.Background()

	t.Run("a Deployment becomes Available on the kwok node", func(t *testing.T) {
		labels := map[string]string{"app": "web"}
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](2),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example.invalid/web:1"}}},
				},
			},
		}
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*time.Second, "Deployment Available", func(ctx context.Context) (bool, error) {
			got, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range got.Status.Conditions {
				if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue && got.Status.ReadyReplicas == 2 {
					return true, nil
				}
			}
			return false, fmt.Errorf("status %+v", got.Status)
		})
	})

	t.Run("a Job completes", func(t *testing.T) {
		j := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "once", Namespace: ns},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "run", Image: "example.invalid/job:1"}},
			}}},
		}
		if _, err := cs.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*time.Second, "Job Complete", func(ctx context.Context) (bool, error) {
			got, err := cs.BatchV1().Jobs(ns).Get(ctx, "once", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range got.Status.Conditions {
				if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
					return true, nil
				}
			}
			return false, fmt.Errorf("status %+v", got.Status)
		})
	})
}

func TestNamespaceDeletionFinishes(t *testing.T) {
	cs := testenv.Shared(t).Default().Clientset()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed-" + fmt.Sprint(time.Now().UnixNano()%100000)}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps(ns.Name).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "namespace gone", func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

func TestCustomResourceDefinitionIsServed(t *testing.T) {
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t)
	ctx := context.Background()
	ext := apiextclient.NewForConfigOrDie(cfg)
	crd := &apiextv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.test.tether.dev"},
		Spec: apiextv1.CustomResourceDefinitionSpec{
			Group: "test.tether.dev",
			Names: apiextv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Scope: apiextv1.NamespaceScoped,
			Versions: []apiextv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextv1.CustomResourceValidation{OpenAPIV3Schema: &apiextv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextv1.JSONSchemaProps{
						"spec": {Type: "object", Properties: map[string]apiextv1.JSONSchemaProps{
							"size": {Type: "integer", Default: &apiextv1.JSON{Raw: []byte("3")}},
						}},
					},
				}},
			}},
		},
	}
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "test.tether.dev", Version: "v1", Resource: "widgets"}
	dyn := dynamic.NewForConfigOrDie(cfg)
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "test.tether.dev/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w1"}, "spec": map[string]any{},
	}}
	eventually(t, 30*time.Second, "custom resource created", func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(gvr).Namespace(ns).Create(ctx, w, metav1.CreateOptions{})
		return err == nil || apierrors.IsAlreadyExists(err), err
	})
	got, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	size, _, _ := unstructured.NestedInt64(got.Object, "spec", "size")
	if size != 3 {
		t.Errorf("spec.size = %d, want the schema default 3", size)
	}
}

func TestTwoClustersHoldDifferentObjectsUnderOneName(t *testing.T) {
	cp := testenv.Shared(t)
	ctx := context.Background()
	second := cp.Cluster("second")
	if second == nil {
		var err error
		if second, err = cp.AddCluster(ctx, "second"); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []*testenv.Cluster{cp.Default(), second} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "same-name", Namespace: "default"}, Data: map[string]string{"cluster": c.Name()}}
		if _, err := c.Clientset().CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatalf("cluster %d: %v", i, err)
		}
		t.Cleanup(func() {
			_ = c.Clientset().CoreV1().ConfigMaps("default").Delete(context.Background(), "same-name", metav1.DeleteOptions{})
		})
	}
	for _, c := range []*testenv.Cluster{cp.Default(), second} {
		got, err := c.Clientset().CoreV1().ConfigMaps("default").Get(ctx, "same-name", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Data["cluster"] != c.Name() {
			t.Errorf("cluster %s holds %q", c.Name(), got.Data["cluster"])
		}
	}
	if cp.Default().URL() == second.URL() {
		t.Fatal("both clusters share one apiserver")
	}
}
