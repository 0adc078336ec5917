package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// watcher prints what changes in an Application, one plain line per
// change: the app's sync and health, the running operation's step, and
// each object result as it appears.
//
// At a terminal the running operation's step is a status line at the
// bottom, redrawn in place with the time it has taken; elsewhere every
// change is a plain line.
type watcher struct {
	w        io.Writer
	tty      bool
	status   string // the status line shown at a terminal
	lastApp  string
	lastStep string
	seen     map[string]bool
	started  time.Time
}

func newWatcher(w io.Writer) *watcher {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &watcher{w: w, tty: tty, seen: map[string]bool{}, started: time.Now()}
}

// line prints a permanent line (above the status line at a terminal).
func (wt *watcher) line(format string, args ...any) {
	if wt.tty && wt.status != "" {
		fmt.Fprint(wt.w, "\r\033[K")
	}
	fmt.Fprintf(wt.w, format, args...)
	wt.redraw()
}

// redraw shows the status line again at a terminal.
func (wt *watcher) redraw() {
	if wt.tty && wt.status != "" {
		fmt.Fprintf(wt.w, "\r\033[K%s (%s)", wt.status, time.Since(wt.started).Round(100*time.Millisecond))
	}
}

func (wt *watcher) show(a *v1alpha1.Application, requestID string) {
	now := time.Now().Format("15:04:05")
	if line := fmt.Sprintf("%s / %s at %s", orDash(a.Status.Sync.Status), orDash(a.Status.Health.Status), shortSHA(a.Status.Sync.Revision)); line != wt.lastApp {
		wt.line("%s  app        %s\n", now, line)
		wt.lastApp = line
	}
	st := a.Status.OperationState
	if st == nil || (requestID != "" && st.Operation.RequestID() != requestID) {
		return
	}
	if step := st.Phase + ": " + st.Message; step != wt.lastStep {
		wt.lastStep = step
		if wt.tty && st.Phase == v1alpha1.PhaseRunning {
			wt.status = "  " + step
			wt.redraw()
		} else {
			if st.Phase != v1alpha1.PhaseRunning {
				wt.status = ""
			}
			wt.line("%s  operation  %s\n", now, step)
		}
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
		wt.line("%s  %-9s  wave %d  %s/%s/%s  %s  %s\n", now, phase, r.SyncWave, r.Kind, orDash(r.Namespace), r.Name, r.Status, r.Message)
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
		tick := time.NewTicker(500 * time.Millisecond)
	events:
		for {
			select {
			case ev, ok := <-watch.ResultChan():
				if !ok {
					break events
				}
				if next, ok := ev.Object.(*v1alpha1.Application); ok {
					a = *next
					wt.show(&a, requestID)
					if done != nil && done(&a) {
						tick.Stop()
						watch.Stop()
						return &a, nil
					}
				}
			case <-tick.C:
				wt.redraw() // keep the elapsed time moving at a terminal
			}
		}
		tick.Stop()
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
