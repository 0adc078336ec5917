package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// watcher prints what changes in an Application, one plain line per
// change: the app's sync and health, the running operation's step, and
// each object result as it appears.
type watcher struct {
	w        io.Writer
	lastApp  string
	lastStep string
	seen     map[string]bool
}

func newWatcher(w io.Writer) *watcher { return &watcher{w: w, seen: map[string]bool{}} }

func (wt *watcher) show(a *v1alpha1.Application, requestID string) {
	now := time.Now().Format("15:04:05")
	if line := fmt.Sprintf("%s / %s at %s", orDash(a.Status.Sync.Status), orDash(a.Status.Health.Status), shortSHA(a.Status.Sync.Revision)); line != wt.lastApp {
		fmt.Fprintf(wt.w, "%s  app        %s\n", now, line)
		wt.lastApp = line
	}
	st := a.Status.OperationState
	if st == nil || (requestID != "" && st.Operation.RequestID() != requestID) {
		return
	}
	if step := st.Phase + ": " + st.Message; step != wt.lastStep {
		fmt.Fprintf(wt.w, "%s  operation  %s\n", now, step)
		wt.lastStep = step
	}
	if st.SyncResult == nil {
		return
	}
	for _, r := range st.SyncResult.Resources {
		key := fmt.Sprintf("%s|%s|%s/%s/%s|%s", r.SyncPhase, r.HookType, r.Kind, r.Namespace, r.Name, r.Status)
		if wt.seen[key] {
			continue
		}
		wt.seen[key] = true
		phase := r.SyncPhase
		if phase == "" {
			phase = "Sync"
		}
		fmt.Fprintf(wt.w, "%s  %-9s  wave %d  %s/%s/%s  %s  %s\n", now, phase, r.SyncWave, r.Kind, orDash(r.Namespace), r.Name, r.Status, r.Message)
	}
}

// watchApp prints every change of the app (through a watch, so no step is
// missed) until done says stop or ctx ends.
func watchApp(ctx context.Context, c client.WithWatch, key client.ObjectKey, w io.Writer, requestID string, done func(*v1alpha1.Application) bool) (*v1alpha1.Application, error) {
	wt := newWatcher(w)
	var a v1alpha1.Application
	if err := c.Get(ctx, key, &a); err != nil {
		return nil, err
	}
	for {
		wt.show(&a, requestID)
		if done != nil && done(&a) {
			return &a, nil
		}
		var list v1alpha1.ApplicationList
		watch, err := c.Watch(ctx, &list, client.InNamespace(key.Namespace),
			client.MatchingFields{"metadata.name": key.Name}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: a.ResourceVersion}})
		if err != nil {
			return nil, err
		}
		for ev := range watch.ResultChan() {
			if next, ok := ev.Object.(*v1alpha1.Application); ok {
				a = *next
				wt.show(&a, requestID)
				if done != nil && done(&a) {
					watch.Stop()
					return &a, nil
				}
			}
		}
		watch.Stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The watch ended (a server timeout): read again and watch on.
		if err := c.Get(ctx, key, &a); err != nil {
			return nil, err
		}
	}
}
