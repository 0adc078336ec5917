package cluster

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/tether-gitops/tether/internal/inventory"
)

// Watcher caches the managed objects of one cluster, one informer per
// resource, and reports every change with the app label of the object.
type Watcher struct {
	client   *Client
	onChange func(appLabel string, obj *unstructured.Unstructured, deleted bool)

	mu        sync.Mutex
	factory   dynamicinformer.DynamicSharedInformerFactory
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer
	// synced is, per resource, done once its first listing has reached
	// the event handlers.
	synced map[schema.GroupVersionResource]cache.DoneChecker
	// handled is, per resource, the highest resourceVersion of an object
	// whose change reached the event handlers, and so the cache.
	handled map[schema.GroupVersionResource]uint64
	stop    chan struct{}
}

// NewWatcher creates a watcher; onChange is called for every add, update
// and delete of a managed object (from informer goroutines: keep it cheap).
func NewWatcher(c *Client, onChange func(appLabel string, obj *unstructured.Unstructured, deleted bool)) *Watcher {
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(c.Dynamic, 0, metav1.NamespaceAll, func(o *metav1.ListOptions) {
		o.LabelSelector = inventory.AppLabel
	})
	return &Watcher{client: c, onChange: onChange, factory: factory, informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{}, synced: map[schema.GroupVersionResource]cache.DoneChecker{}, handled: map[schema.GroupVersionResource]uint64{}, stop: make(chan struct{})}
}

// Stop ends every informer.
func (w *Watcher) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
}

// Ensure starts watching every resource of gvrs not watched yet, all at
// once, and waits until each one's first listing has reached the event
// handlers (signalled, not polled: a new kind costs its list, not a poll
// interval).
func (w *Watcher) Ensure(ctx context.Context, gvrs ...schema.GroupVersionResource) error {
	var waits []cache.DoneChecker
	var names []schema.GroupVersionResource
	w.mu.Lock()
	for _, gvr := range gvrs {
		synced, ok := w.synced[gvr]
		if !ok {
			inf := w.factory.ForResource(gvr).Informer()
			_ = inf.SetTransform(stripManagedFieldsNoise)
			reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
				AddFunc:    func(o any) { w.notify(gvr, o, false) },
				UpdateFunc: func(_, o any) { w.notify(gvr, o, false) },
				DeleteFunc: func(o any) { w.notify(gvr, o, true) },
			})
			if err != nil {
				w.mu.Unlock()
				return fmt.Errorf("watch %s: %w", gvr, err)
			}
			synced = reg.HasSyncedChecker()
			w.informers[gvr], w.synced[gvr] = inf, synced
			go inf.Run(w.stop)
		}
		if !cache.IsDone(synced) {
			waits, names = append(waits, synced), append(names, gvr)
		}
	}
	w.mu.Unlock()
	if len(waits) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !cache.WaitFor(ctx, "", waits...) {
		for i, c := range waits {
			if !cache.IsDone(c) {
				return fmt.Errorf("watch %s: cache did not sync", names[i])
			}
		}
	}
	return nil
}

// Get returns the cached object, or nil when the cache holds none. Call
// Ensure for the resource first.
func (w *Watcher) Get(gvr schema.GroupVersionResource, namespace, name string) *unstructured.Unstructured {
	w.mu.Lock()
	inf, ok := w.informers[gvr]
	w.mu.Unlock()
	if !ok {
		return nil
	}
	key := name
	if namespace != "" {
		key = namespace + "/" + name
	}
	o, exists, err := inf.GetStore().GetByKey(key)
	if err != nil || !exists {
		return nil
	}
	return o.(*unstructured.Unstructured)
}

// Behind reports whether the cache of gvr is known not to hold the changes
// up to resourceVersion rv yet (an object written at rv may be missing from
// it only because of that). It goes by the changes that reached the event
// handlers: the watch's own last version runs ahead of the cache, which is
// filled from a queue. False when it cannot tell.
func (w *Watcher) Behind(gvr schema.GroupVersionResource, rv string) bool {
	want, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.informers[gvr]; !ok {
		return false
	}
	return w.handled[gvr] < want
}

func (w *Watcher) notify(gvr schema.GroupVersionResource, o any, deleted bool) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		return
	}
	if rv, err := strconv.ParseUint(u.GetResourceVersion(), 10, 64); err == nil {
		w.mu.Lock()
		if rv > w.handled[gvr] {
			w.handled[gvr] = rv
		}
		w.mu.Unlock()
	}
	if w.onChange == nil {
		return
	}
	w.onChange(u.GetLabels()[inventory.AppLabel], u, deleted)
}

// stripManagedFieldsNoise keeps managedFields (ignoreDifferences by manager
// needs them) but drops the last-applied annotation copy kubectl leaves,
// which can be as large as the object itself.
func stripManagedFieldsNoise(o any) (any, error) {
	if u, ok := o.(*unstructured.Unstructured); ok {
		unstructured.RemoveNestedField(u.Object, "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration")
	}
	return o, nil
}
