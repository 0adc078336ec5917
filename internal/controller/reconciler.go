package controller

import (
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/tether-gitops/tether/internal/cluster"
	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/source"
)

// Reconciler runs the pipeline for Applications.
type Reconciler struct {
	opts Options
	// leading tells whether this replica reconciles (always, without
	// leader election, once the manager runs).
	leading func() bool
	// orphanage caches scans for orphaned objects.
	orphanage orphanCache
	client    client.Client
	// apiReader reads straight from the API server (no cache delay).
	apiReader client.Reader
	// targets are the destination clusters.
	targets  *targets
	sources  *source.Cache
	charts   *source.Charts
	renders  *renderCache
	recorder events.EventRecorder
	// diffs asks comparisons for readable diffs (tether app diff shows
	// them; the controller does not).
	diffs bool
	// wake carries apps to reconcile because a managed object changed.
	wake chan event.TypedGenericEvent[client.Object]
	// wakeSets carries ApplicationSets to reconcile (a push to a repository
	// their Git generators read).
	wakeSets chan event.TypedGenericEvent[client.Object]
	// metrics are updated as the controller works; nil without a metrics
	// endpoint (and in the CLI).
	metrics *metrics

	mu sync.Mutex
	// appsByLabel maps the tether.dev/app label value to the app.
	appsByLabel map[string]types.NamespacedName
	// dryRuns caches one prediction per object, valid while the desired
	// content and the live resourceVersion stay the same.
	dryRuns map[string]dryRun
	// applied keeps the object returned by tether's last apply, to see
	// through a watch cache that has not caught up yet.
	applied map[string]*unstructured.Unstructured
	// lastAuto remembers the commit+spec of the last automated sync per app,
	// so a failing sync is not retried in a loop for the same input.
	lastAuto map[types.NamespacedName]string
	// awaiting remembers, per app, the input (as in lastAuto) of an
	// automated sync waiting for pruning confirmation.
	awaiting map[types.NamespacedName]string
	// retries holds failed syncs waiting for their next attempt.
	retries map[types.NamespacedName]pendingRetry
	// pruned holds the UIDs of objects tether deleted, until the watch
	// cache has seen them go.
	pruned map[string]types.UID
	// projects caches compiled AppProjects.
	projects map[string]projectEntry
	// fights tracks self-heal reverts to back off from other controllers.
	fights map[types.NamespacedName]*fightState
	// Per app, for skipping reconciles asked for only by echoes of
	// tether's own writes (echo.go): stirs counts the other requests,
	// pending holds object events since the last reconcile, looks what the
	// last full reconcile left, appliedRVs what the last sync's applies
	// returned.
	stirs      map[types.NamespacedName]uint64
	pending    map[types.NamespacedName][]objEvent
	looks      map[types.NamespacedName]lastLook
	appliedRVs map[types.NamespacedName]map[inventory.Key]string
}

// Stats is what the reconciler has done, for tests and metrics.
type Stats struct {
	Renders, LsRemotes, Fetches int64
}

// Stats returns counters.
func (r *Reconciler) Stats() Stats {
	ls, f := r.sources.Stats()
	r.renders.mu.Lock()
	defer r.renders.mu.Unlock()
	return Stats{Renders: r.renders.renders, LsRemotes: ls, Fetches: f}
}

// onObjectChange is called by the watch cache for every change of a
// managed object: the owning app is reconciled at once.
// Whether it was only the echo of tether's own apply is decided when the
// reconcile starts (echo.go).
func (r *Reconciler) onObjectChange(label string, obj *unstructured.Unstructured, deleted bool) {
	r.mu.Lock()
	app, ok := r.appsByLabel[label]
	r.mu.Unlock()
	if !ok {
		return
	}
	r.noteObjectEvent(app, obj, deleted)
	u := &unstructured.Unstructured{}
	u.SetNamespace(app.Namespace)
	u.SetName(app.Name)
	select {
	case r.wake <- event.TypedGenericEvent[client.Object]{Object: u}:
	default:
		// The queue is full of wake-ups already; the periodic resync and the
		// pending ones cover this change.
		go func() { r.wake <- event.TypedGenericEvent[client.Object]{Object: u} }()
	}
}

func jitter(d time.Duration, seed string) time.Duration {
	var h uint32
	for i := 0; i < len(seed); i++ {
		h = h*31 + uint32(seed[i])
	}
	return d + time.Duration(int64(h%1000)*int64(d)/10000)
}

func objKey(app types.NamespacedName, k fmt.Stringer) string { return app.String() + "|" + k.String() }

type dryRun struct {
	input  string
	result *unstructured.Unstructured
	// applied is the apply response result was made from, until the
	// watch cache holds the same object (see freshest).
	applied *unstructured.Unstructured
}

// Wake asks for an immediate reconcile of one app, as a change of one of
// its objects would.
func (r *Reconciler) Wake(namespace, name string) {
	r.stir(types.NamespacedName{Namespace: namespace, Name: name})
	u := &unstructured.Unstructured{}
	u.SetNamespace(namespace)
	u.SetName(name)
	r.wake <- event.TypedGenericEvent[client.Object]{Object: u}
}

// newReconciler builds a reconciler; the controller adds its watch cache,
// event recorder and wake channel, the CLI's engine uses it as it is.
func newReconciler(opts Options, c client.Client, apiReader client.Reader, cc *cluster.Client, sources *source.Cache) *Reconciler {
	return &Reconciler{
		opts: opts, client: c, apiReader: apiReader, targets: newTargets(cc, nil),
		sources: sources, charts: newCharts(opts.CacheDir), renders: newRenderCache(),
		appsByLabel: map[string]types.NamespacedName{},
		dryRuns:     map[string]dryRun{},
		stirs:       map[types.NamespacedName]uint64{},
		pending:     map[types.NamespacedName][]objEvent{},
		looks:       map[types.NamespacedName]lastLook{},
		appliedRVs:  map[types.NamespacedName]map[inventory.Key]string{},
		applied:     map[string]*unstructured.Unstructured{},
		lastAuto:    map[types.NamespacedName]string{},
		awaiting:    map[types.NamespacedName]string{},
		retries:     map[types.NamespacedName]pendingRetry{},
		fights:      map[types.NamespacedName]*fightState{},
		pruned:      map[string]types.UID{},
		projects:    map[string]projectEntry{},
	}
}

// newCharts keeps chart archives under the cache directory, when there is one.
func newCharts(cacheDir string) *source.Charts {
	o := source.DefaultChartOptions()
	if cacheDir != "" {
		o.Dir = filepath.Join(cacheDir, "charts")
	}
	return source.NewCharts(o)
}
