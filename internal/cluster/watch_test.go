package cluster

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/tether-gitops/tether/internal/inventory"
)

// The watch counts as caught up only by changes that reached its event
// handlers (and so its cache), whatever version its own stream is at.
func TestBehindFollowsWhatReachedTheHandlers(t *testing.T) {
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: "ConfigMapList"})
	seen := make(chan string, 4)
	w := NewWatcher(&Client{Dynamic: dyn}, func(_ string, obj *unstructured.Unstructured, deleted bool) {
		seen <- obj.GetResourceVersion()
	})
	defer w.Stop()
	if w.Behind(gvr, "5") {
		t.Fatal("Behind before the resource is watched: want false (cannot tell)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Ensure(ctx, gvr); err != nil {
		t.Fatal(err)
	}
	if !w.Behind(gvr, "5") {
		t.Fatal("nothing reached the handlers yet: Behind(5) must be true")
	}
	cm := &unstructured.Unstructured{}
	cm.SetAPIVersion("v1")
	cm.SetKind("ConfigMap")
	cm.SetNamespace("ns")
	cm.SetName("cfg")
	cm.SetResourceVersion("7")
	cm.SetLabels(map[string]string{inventory.AppLabel: "x"})
	if _, err := dyn.Resource(gvr).Namespace("ns").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case rv := <-seen:
		if rv != "7" {
			t.Fatalf("handler saw version %s, want 7", rv)
		}
	case <-ctx.Done():
		t.Fatal("the change never reached the handler")
	}
	if w.Behind(gvr, "5") || w.Behind(gvr, "7") {
		t.Fatal("after version 7 reached the handlers, versions up to 7 are not behind")
	}
	if !w.Behind(gvr, "9") {
		t.Fatal("version 9 has not reached the handlers: Behind(9) must be true")
	}
	if got := w.Get(gvr, "ns", "cfg"); got == nil || got.GetResourceVersion() != "7" {
		t.Fatalf("cache holds %v, want the object at version 7", got)
	}
}
