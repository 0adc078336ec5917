package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// tracker follows every Application of a namespace with a list and a watch
// and tells when want of them are Synced and Healthy at once.
type tracker struct {
	want int

	mu       sync.Mutex
	apps     map[string]*v1alpha1.Application
	ready    map[string]bool
	events   int       // changes seen (adds and updates)
	lastEv   time.Time // when the last one arrived
	readyAt  time.Time // when all were ready
	firstAt  time.Time // when the first was
	allReady chan struct{}
}

func newTracker(want int) *tracker {
	return &tracker{want: want, apps: map[string]*v1alpha1.Application{}, ready: map[string]bool{}, allReady: make(chan struct{})}
}

// run lists and watches until ctx ends, relisting when a watch expires.
func (t *tracker) run(ctx context.Context, ri dynamic.ResourceInterface) {
	for ctx.Err() == nil {
		list, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		now := time.Now()
		for i := range list.Items {
			t.observe(now, &list.Items[i])
		}
		rv := list.GetResourceVersion()
		for rv != "" && ctx.Err() == nil {
			w, err := ri.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
			if err != nil {
				break
			}
			_, rv, _ = drain(ctx, w, rv, func(at time.Time, u *unstructured.Unstructured) bool {
				t.observe(at, u)
				return false
			})
			w.Stop()
		}
	}
}

func (t *tracker) observe(at time.Time, u *unstructured.Unstructured) {
	a := asApp(u)
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.apps[a.Name]; ok && old.ResourceVersion == a.ResourceVersion {
		return // a relist
	}
	t.apps[a.Name] = a
	t.events++
	t.lastEv = at
	if syncedHealthy(a, "") {
		t.ready[a.Name] = true
		if t.firstAt.IsZero() {
			t.firstAt = at
		}
	} else {
		delete(t.ready, a.Name)
	}
	if len(t.ready) >= t.want && t.readyAt.IsZero() {
		t.readyAt = at
		close(t.allReady)
	}
}

// counts returns the number of apps ready, the changes seen and the time
// of the last one.
func (t *tracker) counts() (ready, events int, last time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.ready), t.events, t.lastEv
}

// quiet waits until no change has arrived for d, at most max; it returns
// how long it waited and whether it got quiet.
func (t *tracker) quiet(d, max time.Duration) (time.Duration, bool) {
	start := time.Now()
	for {
		_, _, last := t.counts()
		if since := time.Since(last); since >= d {
			return time.Since(start), true
		} else if time.Since(start) >= max {
			return time.Since(start), false
		} else {
			time.Sleep(d - since)
		}
	}
}

// report describes the apps that are not ready: how many share each
// (sync, health, conditions) state, and the full status of a few.
func (t *tracker) report(detailed int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	groups := map[string][]string{}
	var names []string
	for name, a := range t.apps {
		if t.ready[name] {
			continue
		}
		names = append(names, name)
		key := fmt.Sprintf("sync=%q health=%q", a.Status.Sync.Status, a.Status.Health.Status)
		for _, c := range a.Status.Conditions {
			key += fmt.Sprintf(" condition %s: %s", c.Type, firstLine(c.Message))
		}
		if op := a.Status.OperationState; op != nil {
			key += fmt.Sprintf(" operation %s: %s", op.Phase, firstLine(op.Message))
		}
		groups[key] = append(groups[key], name)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d apps seen, %d ready, %d not ready", len(t.apps), t.want, len(t.ready), len(names))
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(groups[keys[i]]) > len(groups[keys[j]]) })
	for _, k := range keys {
		g := groups[k]
		sort.Strings(g)
		fmt.Fprintf(&b, "\n  %d apps (e.g. %s): %s", len(g), strings.Join(g[:min(len(g), 5)], ", "), k)
	}
	for _, name := range names[:min(len(names), detailed)] {
		fmt.Fprintf(&b, "\n  %s", describeApp(t.apps[name]))
	}
	return b.String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
