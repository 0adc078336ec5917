package controller

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/inventory"
)

func echoReconciler() *Reconciler {
	return &Reconciler{
		stirs:      map[types.NamespacedName]uint64{},
		pending:    map[types.NamespacedName][]objEvent{},
		looks:      map[types.NamespacedName]lastLook{},
		appliedRVs: map[types.NamespacedName]map[inventory.Key]string{},
	}
}

func configMap(name, rv string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace("ns")
	u.SetName(name)
	u.SetResourceVersion(rv)
	return u
}

func TestEchoesOfOwnWritesCostNoReconcile(t *testing.T) {
	app := types.NamespacedName{Namespace: "argocd", Name: "a"}
	cm := configMap("cfg", "11")
	// A full reconcile applied cm (the API server returned version 11) and
	// wrote status (the Application is now at 20).
	setup := func() *Reconciler {
		r := echoReconciler()
		stirs, _ := r.beginReconcile(app)
		r.appliedRVs[app] = map[inventory.Key]string{inventory.KeyOf(cm): "11"}
		r.endReconcile(app, "20", stirs, 3*time.Minute)
		return r
	}
	next := func(r *Reconciler, rv string) echoKind {
		stirs, evs := r.beginReconcile(app)
		return r.classify(app, rv, stirs, evs)
	}

	r := setup()
	r.noteObjectEvent(app, cm, false)
	if k := next(r, "20"); k != echoOnly {
		t.Fatalf("echo of the apply and of the status write: %v, want echoOnly", k)
	}
	if k := next(r, "20"); k != echoOnly {
		t.Fatalf("a second echo within the window: %v, want echoOnly", k)
	}

	r = setup()
	r.noteObjectEvent(app, cm, false)
	if k := next(r, "19"); k != staleApp {
		t.Fatalf("Application cache behind the status write: %v, want staleApp", k)
	}
	if len(r.pending[app]) != 1 {
		t.Fatalf("a stale reconcile must keep the events for the next one: %v", r.pending[app])
	}

	cases := map[string]func(r *Reconciler) string{
		"someone else changed the object": func(r *Reconciler) string {
			r.noteObjectEvent(app, configMap("cfg", "12"), false)
			return "20"
		},
		"the object was deleted": func(r *Reconciler) string {
			r.noteObjectEvent(app, cm, true)
			return "20"
		},
		"an object tether did not apply": func(r *Reconciler) string {
			r.noteObjectEvent(app, configMap("other", "11"), false)
			return "20"
		},
		"the Application changed":     func(r *Reconciler) string { return "21" },
		"a project change or wake-up": func(r *Reconciler) string { r.stir(app); return "20" },
		"the window passed": func(r *Reconciler) string {
			l := r.looks[app]
			l.at = time.Now().Add(-echoWindow)
			r.looks[app] = l
			return "20"
		},
	}
	for name, change := range cases {
		r := setup()
		if k := next(r, change(r)); k != notEcho {
			t.Errorf("%s: %v, want notEcho", name, k)
		}
	}

	r = echoReconciler()
	stirs, _ := r.beginReconcile(app)
	r.endReconcile(app, "20", stirs, 5*time.Second)
	if k := next(r, "20"); k != notEcho {
		t.Fatalf("after a reconcile that asked to run again in 5 s: %v, want notEcho (the timer could merge with the echo)", k)
	}
	r = echoReconciler()
	r.noteObjectEvent(app, cm, false)
	if k := next(r, "20"); k != notEcho {
		t.Fatalf("no full reconcile yet: %v, want notEcho", k)
	}
}

func TestChangedMeanwhile(t *testing.T) {
	read := &v1alpha1.Application{}
	read.Generation = 2
	read.Annotations = map[string]string{"a": "1", v1alpha1.RefreshAnnotation: "normal"}
	read.Finalizers = []string{v1alpha1.ResourcesFinalizer}
	op := &v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: "main"}}
	cases := []struct {
		name               string
		change             func(a *v1alpha1.Application)
		refreshed, cleared bool
		want               bool
	}{
		{"only the status", func(a *v1alpha1.Application) { a.Status.Sync.Status = "Synced" }, false, false, false},
		{"the refresh annotation tether removed", func(a *v1alpha1.Application) { delete(a.Annotations, v1alpha1.RefreshAnnotation) }, true, false, false},
		{"an operation requested meanwhile", func(a *v1alpha1.Application) { a.Operation = op }, false, false, true},
		{"the spec", func(a *v1alpha1.Application) { a.Generation++ }, false, false, true},
		{"an annotation", func(a *v1alpha1.Application) {
			a.Annotations[v1alpha1.DeletionApprovedAnnotation] = "2026-11-26T08:00:00Z"
		}, false, false, true},
		{"a label", func(a *v1alpha1.Application) { a.Labels = map[string]string{"team": "x"} }, false, false, true},
		{"the finalizers", func(a *v1alpha1.Application) { a.Finalizers = nil }, false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := read.DeepCopy()
			tc.change(now)
			if got := changedMeanwhile(read, now, tc.refreshed, tc.cleared); got != tc.want {
				t.Errorf("changedMeanwhile = %v, want %v", got, tc.want)
			}
		})
	}
	withOp := read.DeepCopy()
	withOp.Operation = op
	if changedMeanwhile(withOp, read, false, true) {
		t.Error("the operation tether cleared is its own change")
	}
}

func TestASkippedEchoKeepsTheRequeue(t *testing.T) {
	app := types.NamespacedName{Namespace: "argocd", Name: "a"}
	r := echoReconciler()
	if d := r.requeueLeft(app); d != 0 {
		t.Errorf("no reconcile yet: requeue %v, want 0", d)
	}
	stirs, _ := r.beginReconcile(app)
	r.endReconcile(app, "20", stirs, 3*time.Minute)
	if d := r.requeueLeft(app); d <= 2*time.Minute || d > 3*time.Minute {
		t.Errorf("requeue left %v, want just under 3m", d)
	}
	stirs, _ = r.beginReconcile(app)
	r.endReconcile(app, "21", stirs, 0)
	if d := r.requeueLeft(app); d != 0 {
		t.Errorf("a reconcile that asked for no requeue: %v, want 0", d)
	}
}
