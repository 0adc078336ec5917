package controller

import (
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/internal/inventory"
)

// Every write tether makes comes back to it through a watch: its apply of
// an object as that object's change, its status write as the Application's.
// A reconcile started by such echoes alone would compare what the reconcile
// before it just compared and find nothing new. These helpers recognise
// them so that they cost no reconcile; anything else in between (an object
// changed by someone else or deleted, a project change, a wake-up, a change
// of the Application) makes the next reconcile run in full.

// echoWindow bounds how long after a reconcile echoes of its writes may be
// skipped, and echoMinRequeue is the shortest requeue that lets them be: a
// timer due sooner could be merged with an echo in the work queue and lost.
const (
	echoWindow     = 10 * time.Second
	echoMinRequeue = 30 * time.Second
	// maxPending bounds the object events remembered per app between two
	// reconciles; past it the next reconcile runs in full.
	maxPending = 64
)

// lastLook is what the last full reconcile of an app left behind.
type lastLook struct {
	rv    string    // the Application's resourceVersion after its writes
	at    time.Time // when it ended
	due   time.Time // when it asked to run again (zero: never)
	stirs uint64    // the app's stir count when it started
}

// objEvent is one watch event of an app's object.
type objEvent struct {
	key     inventory.Key
	rv      string
	deleted bool
}

// stir records that something other than tether's own writes asks for a
// reconcile of app.
func (r *Reconciler) stir(app types.NamespacedName) {
	r.mu.Lock()
	r.stirs[app]++
	r.mu.Unlock()
}

// noteObjectEvent remembers a watch event of one of app's objects until
// the next reconcile decides whether it was an echo.
func (r *Reconciler) noteObjectEvent(app types.NamespacedName, obj *unstructured.Unstructured, deleted bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending[app]) >= maxPending {
		r.stirs[app]++
		return
	}
	r.pending[app] = append(r.pending[app], objEvent{key: inventory.KeyOf(obj), rv: obj.GetResourceVersion(), deleted: deleted})
}

// beginReconcile is called when a reconcile of app starts, before it reads
// anything: it returns the app's stir count and the object events since
// the last reconcile, which it forgets.
func (r *Reconciler) beginReconcile(app types.NamespacedName) (uint64, []objEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.pending[app]
	delete(r.pending, app)
	return r.stirs[app], evs
}

// endReconcile records a full reconcile that asked to run again after
// requeue (0: not at all) and left the Application at resourceVersion rv.
func (r *Reconciler) endReconcile(app types.NamespacedName, rv string, stirs uint64, requeue time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rv == "" || (requeue > 0 && requeue < echoMinRequeue) {
		delete(r.looks, app)
		return
	}
	now := time.Now()
	l := lastLook{rv: rv, at: now, stirs: stirs}
	if requeue > 0 {
		l.due = now.Add(requeue)
	}
	r.looks[app] = l
}

// requeueLeft is how long until the last full reconcile of app asked to
// run again (0: it did not). A reconcile skipped as an echo asks for it
// again: the work queue merges a pending timer with the echo that brought
// the skipped reconcile, and the timer would be lost.
func (r *Reconciler) requeueLeft(app types.NamespacedName) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.looks[app]
	if !ok || l.due.IsZero() {
		return 0
	}
	return max(time.Until(l.due), time.Millisecond)
}

// echoKind is what a reconcile is asked for.
type echoKind int

const (
	notEcho echoKind = iota
	// echoOnly: only echoes of the last full reconcile's writes.
	echoOnly
	// staleApp: the cached Application is older than the last full
	// reconcile's status write: its echo is on the way and will ask again.
	staleApp
)

// classify tells whether a reconcile of app, whose cached Application has
// resourceVersion rv, was asked for only by echoes of the writes of the
// last full reconcile: nothing stirred the app since, every object event
// since is an object exactly as tether's last apply returned it, and the
// Application is as that reconcile left it (echoOnly) or older (staleApp).
func (r *Reconciler) classify(app types.NamespacedName, rv string, stirs uint64, evs []objEvent) echoKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.looks[app]
	if !ok || l.stirs != stirs || time.Since(l.at) >= echoWindow {
		return notEcho
	}
	applied := r.appliedRVs[app]
	for _, e := range evs {
		if e.deleted || applied[e.key] != e.rv {
			return notEcho
		}
	}
	if l.rv == rv {
		return echoOnly
	}
	cached, err1 := strconv.ParseUint(rv, 10, 64)
	last, err2 := strconv.ParseUint(l.rv, 10, 64)
	if err1 == nil && err2 == nil && cached < last {
		// Keep the events for the reconcile the echo brings.
		r.pending[app] = append(evs, r.pending[app]...)
		return staleApp
	}
	return notEcho
}
