package cli

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestWaitForReached(t *testing.T) {
	now := metav1.Now()
	app := func(sync, health string, op *v1alpha1.Operation, st *v1alpha1.OperationState) *v1alpha1.Application {
		a := &v1alpha1.Application{Operation: op}
		a.Status.Sync.Status, a.Status.Health.Status, a.Status.OperationState = sync, health, st
		return a
	}
	done := &v1alpha1.OperationState{Phase: v1alpha1.PhaseSucceeded, FinishedAt: &now}
	running := &v1alpha1.OperationState{Phase: v1alpha1.PhaseRunning}
	failed := &v1alpha1.OperationState{Phase: v1alpha1.PhaseFailed, FinishedAt: &now, Message: "ConfigMap/x: rejected"}
	all := waitFor{sync: true, health: true, operation: true}
	cases := []struct {
		name string
		w    waitFor
		a    *v1alpha1.Application
		want bool
		err  string
	}{
		{"all there", all, app("Synced", "Healthy", nil, done), true, ""},
		{"never synced yet", all, app("Synced", "Healthy", nil, nil), true, ""},
		{"OutOfSync", all, app("OutOfSync", "Healthy", nil, done), false, ""},
		{"Progressing", all, app("Synced", "Progressing", nil, done), false, ""},
		{"a sync running", all, app("Synced", "Healthy", nil, running), false, ""},
		{"a sync requested", all, app("Synced", "Healthy", &v1alpha1.Operation{}, done), false, ""},
		{"health only, sync running", waitFor{health: true}, app("OutOfSync", "Healthy", nil, running), true, ""},
		{"the last sync failed", all, app("OutOfSync", "Healthy", nil, failed), false, "the last sync failed: ConfigMap/x: rejected"},
		{"a failed sync, a new one requested", all, app("OutOfSync", "Healthy", &v1alpha1.Operation{}, failed), false, ""},
		{"a failed sync, sync only", waitFor{sync: true}, app("OutOfSync", "Healthy", nil, failed), false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.w.reached(tc.a)
			if got != tc.want {
				t.Errorf("reached = %v, want %v", got, tc.want)
			}
			if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}
