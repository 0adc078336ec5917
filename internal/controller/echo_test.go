package controller

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

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
