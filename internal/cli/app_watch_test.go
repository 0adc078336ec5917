package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func watchedApp(phase, msg string, results ...v1alpha1.ResourceResult) *v1alpha1.Application {
	a := &v1alpha1.Application{}
	a.Status.Sync.Status = v1alpha1.SyncStatusOutOfSync
	a.Status.OperationState = &v1alpha1.OperationState{Phase: phase, Message: msg, SyncResult: &v1alpha1.SyncOperationResult{Resources: results}}
	return a
}

func TestWatcherPrintsEachChangeOnce(t *testing.T) {
	var out bytes.Buffer
	wt := &watcher{w: &out, seen: map[string]bool{}}
	cm := v1alpha1.ResourceResult{Kind: "ConfigMap", Namespace: "prod", Name: "a", Status: "Synced", Message: "created", SyncPhase: "Sync"}
	wt.show(watchedApp(v1alpha1.PhaseRunning, "wave 0 applied"), "")
	wt.show(watchedApp(v1alpha1.PhaseRunning, "wave 0 applied", cm), "")
	wt.show(watchedApp(v1alpha1.PhaseRunning, "wave 0 applied", cm), "")
	wt.show(watchedApp(v1alpha1.PhaseSucceeded, "done", cm), "")
	got := out.String()
	for want, n := range map[string]int{"operation  Running: wave 0 applied": 1, "ConfigMap/prod/a  Synced  created": 1, "operation  Succeeded: done": 1, "app        OutOfSync": 1} {
		if c := strings.Count(got, want); c != n {
			t.Errorf("%q printed %d times, want %d:\n%s", want, c, n, got)
		}
	}
	if strings.Contains(got, "\r") {
		t.Error("plain output must not redraw lines")
	}
}

func TestWatcherAtATerminalKeepsTheStepAsAStatusLine(t *testing.T) {
	var out bytes.Buffer
	wt := &watcher{w: &out, tty: true, seen: map[string]bool{}}
	cm := v1alpha1.ResourceResult{Kind: "ConfigMap", Namespace: "prod", Name: "a", Status: "Synced", Message: "created", SyncPhase: "Sync"}
	wt.show(watchedApp(v1alpha1.PhaseRunning, "wave 0 applied, waiting for it to turn healthy"), "")
	wt.show(watchedApp(v1alpha1.PhaseRunning, "wave 0 applied, waiting for it to turn healthy", cm), "")
	got := out.String()
	if !strings.Contains(got, "\r\033[K  Running: wave 0 applied, waiting for it to turn healthy (") {
		t.Errorf("no status line:\n%q", got)
	}
	if strings.Contains(got, "operation  Running") {
		t.Errorf("a running step must be the status line, not a permanent line:\n%q", got)
	}
	// The object line is printed above the status line, which is redrawn.
	i := strings.Index(got, "ConfigMap/prod/a")
	if i < 0 || !strings.Contains(got[i:], "\r\033[K  Running") {
		t.Errorf("status line not redrawn after an object line:\n%q", got)
	}
}
