package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

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

// Ensure with several resources starts them together and returns only
// once every existing object has reached the handlers and the cache.
func TestEnsureWaitsForEveryResourceListing(t *testing.T) {
	cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	object := func(kind, name string) *unstructured.Unstructured {
		o := &unstructured.Unstructured{}
		o.SetAPIVersion("v1")
		o.SetKind(kind)
		o.SetNamespace("ns")
		o.SetName(name)
		o.SetLabels(map[string]string{inventory.AppLabel: "x"})
		return o
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{cms: "ConfigMapList", secrets: "SecretList"},
		object("ConfigMap", "a"), object("ConfigMap", "b"), object("Secret", "s"))
	var mu sync.Mutex
	seen := map[string]bool{}
	w := NewWatcher(&Client{Dynamic: dyn}, func(_ string, obj *unstructured.Unstructured, _ bool) {
		mu.Lock()
		defer mu.Unlock()
		seen[obj.GetKind()+"/"+obj.GetName()] = true
	})
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Ensure(ctx, cms, secrets, cms); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := len(seen)
	mu.Unlock()
	if got != 3 {
		t.Fatalf("after Ensure the handlers saw %d objects (%v), want all 3", got, seen)
	}
	for _, c := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{cms, "a"}, {cms, "b"}, {secrets, "s"}} {
		if w.Get(c.gvr, "ns", c.name) == nil {
			t.Errorf("%s ns/%s missing from the cache after Ensure", c.gvr.Resource, c.name)
		}
	}
	// A second Ensure of watched resources returns at once.
	done := make(chan error, 1)
	go func() { done <- w.Ensure(ctx, secrets, cms) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("Ensure of resources already synced did not return at once")
	}
}

// Ensure gives up with an error naming the resource when its listing
// never completes.
func TestEnsureNamesAResourceThatNeverSyncs(t *testing.T) {
	cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{cms: "ConfigMapList"})
	dyn.PrependReactor("list", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("configmaps is forbidden")
	})
	w := NewWatcher(&Client{Dynamic: dyn}, nil)
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := w.Ensure(ctx, cms)
	if err == nil || !strings.Contains(err.Error(), "configmaps") {
		t.Fatalf("Ensure = %v, want an error naming configmaps", err)
	}
}
