package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/cli"
	"github.com/tether-gitops/tether/internal/controller"
	"github.com/tether-gitops/tether/internal/testenv"
)

// TestControllerStartedBeforeItsCRDs starts tether against a cluster
// without tether's CRDs (as when the controller and the CRDs are applied
// together): it is alive but not ready; once the CRDs arrive, it turns
// ready, the default project is created and ApplicationSets are
// reconciled, without a restart.
func TestControllerStartedBeforeItsCRDs(t *testing.T) {
	cp := testenv.Shared(t)
	ctx := context.Background()
	fresh := cp.Cluster("fresh")
	if fresh == nil {
		var err error
		if fresh, err = cp.AddCluster(ctx, "fresh"); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(fresh.RESTConfig(), client.Options{Scheme: controller.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	ns := testenv.NamespaceIn(t, fresh)
	opts := controller.DefaultOptions()
	opts.AppNamespaces, opts.Namespace, opts.CacheDir = []string{ns}, ns, t.TempDir()
	opts.HealthAddr = freeAddr(t)
	mgr, _, err := controller.New(fresh.RESTConfig(), opts)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(runCtx); err != nil {
			t.Errorf("controller: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	var crdsServed bool
	if err := c.List(ctx, &v1alpha1.ApplicationList{}); err == nil {
		crdsServed = true // left by an earlier run of this test in this process
	}
	probe := func(path string) (int, string) { return httpGet("http://" + opts.HealthAddr + path + "?verbose") }
	eventually(t, 30*time.Second, "/healthz answering 200", func(context.Context) (bool, error) {
		code, _ := probe("/healthz")
		return code == http.StatusOK, nil
	})
	time.Sleep(time.Second) // the controller is up without the CRDs
	if code, body := probe("/readyz"); !crdsServed && (code != http.StatusInternalServerError || !strings.Contains(body, "[-]caches failed")) {
		t.Fatalf("/readyz without tether's CRDs: %d %q, want 500 failing the caches check", code, body)
	}

	var out bytes.Buffer
	if err := cli.Execute(ctx, []string{"install", "--crds"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewYAMLOrJSONDecoder(&out, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) > 0 {
			if err := c.Create(ctx, u); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
	}
	eventually(t, 60*time.Second, "/readyz answering 200 once the CRDs are served", func(context.Context) (bool, error) {
		code, _ := probe("/readyz")
		return code == http.StatusOK, nil
	})
	eventually(t, 60*time.Second, "the default AppProject created once its CRD is served", func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.DefaultProject}, &v1alpha1.AppProject{})
		return err == nil, nil
	})
	set := &unstructured.Unstructured{}
	if err := yaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(`
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: late}
spec:
  generators:
  - list: {elements: [{env: one}]}
  template:
    metadata: {name: 'late-{{env}}'}
    spec:
      source: {repoURL: https://git.invalid/none, path: x}
      destination: {namespace: '{{env}}'}
`), 4096).Decode(&set.Object); err != nil {
		t.Fatal(err)
	}
	set.SetNamespace(ns)
	eventually(t, 30*time.Second, "the ApplicationSet accepted once its CRD is served", func(ctx context.Context) (bool, error) {
		err := c.Create(ctx, set.DeepCopy())
		return err == nil || apierrors.IsAlreadyExists(err), nil
	})
	eventually(t, 60*time.Second, "the set's Application generated without a restart", func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "late-one"}, &v1alpha1.Application{})
		return err == nil, nil
	})
}
