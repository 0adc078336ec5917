package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// watchObject watches the object name from resource version rv and calls
// cond, with the moment the event arrived, for every new state of it,
// until cond returns true. onOpen, when not nil, runs once the first watch
// is established (to make the change being timed). A closed watch is
// resumed from the last version seen; an expired version ("410 Gone")
// falls back to a fresh read.
func watchObject(ctx context.Context, ri dynamic.ResourceInterface, name, rv string, onOpen func() error, cond func(at time.Time, u *unstructured.Unstructured) bool) error {
	for {
		w, err := ri.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("watch %s: %w", name, err)
		}
		if onOpen != nil {
			err, onOpen = onOpen(), nil
			if err != nil {
				w.Stop()
				return err
			}
		}
		done, next, err := drain(ctx, w, rv, cond)
		w.Stop()
		if done || err != nil {
			return err
		}
		if next == "" { // expired: read the object again
			u, err := ri.Get(ctx, name, metav1.GetOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			if err == nil && cond(time.Now(), u) {
				return nil
			}
			if err == nil {
				next = u.GetResourceVersion()
			} else {
				next = rv
			}
		}
		rv = next
	}
}

// drain reads one watch started at version rv until cond holds (done), the
// watch ends (the last version seen, "" when it expired) or ctx ends.
func drain(ctx context.Context, w watch.Interface, rv string, cond func(time.Time, *unstructured.Unstructured) bool) (done bool, last string, err error) {
	last = rv
	for {
		select {
		case <-ctx.Done():
			return false, "", ctx.Err()
		case ev, ok := <-w.ResultChan():
			at := time.Now()
			if !ok {
				return false, last, nil
			}
			switch ev.Type {
			case watch.Error:
				return false, "", nil
			case watch.Bookmark:
				if u, ok := ev.Object.(*unstructured.Unstructured); ok {
					last = u.GetResourceVersion()
				}
				continue
			}
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			last = u.GetResourceVersion()
			if ev.Type == watch.Deleted {
				continue
			}
			if cond(at, u) {
				return true, last, nil
			}
		}
	}
}

// waitObject waits until cond holds for the object, reading it first.
func waitObject(ctx context.Context, ri dynamic.ResourceInterface, name string, cond func(*unstructured.Unstructured) bool) (*unstructured.Unstructured, error) {
	var last *unstructured.Unstructured
	u, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	last = u
	if cond(u) {
		return u, nil
	}
	err = watchObject(ctx, ri, name, u.GetResourceVersion(), nil, func(_ time.Time, u *unstructured.Unstructured) bool {
		last = u
		return cond(u)
	})
	return last, err
}

func toUnstructured(o any) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// asApp converts an Application read with the dynamic client.
func asApp(u *unstructured.Unstructured) *v1alpha1.Application {
	a := &v1alpha1.Application{}
	_ = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, a)
	return a
}

// syncedHealthy reports whether an app is Synced (at rev, when given) and
// Healthy.
func syncedHealthy(a *v1alpha1.Application, rev string) bool {
	return a.Status.Sync.Status == v1alpha1.SyncStatusSynced && a.Status.Health.Status == v1alpha1.HealthHealthy &&
		(rev == "" || a.Status.Sync.Revision == rev)
}

// describeApp is an app's status in a few lines, for failure reports.
func describeApp(a *v1alpha1.Application) string {
	if a == nil {
		return "(none)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: sync=%q rev=%.12s health=%q", a.Name, a.Status.Sync.Status, a.Status.Sync.Revision, a.Status.Health.Status)
	if m := a.Status.Health.Message; m != "" {
		fmt.Fprintf(&b, " (%s)", m)
	}
	if v, ok := a.Annotations[v1alpha1.RefreshAnnotation]; ok {
		fmt.Fprintf(&b, " refresh-annotation=%q", v)
	}
	for _, c := range a.Status.Conditions {
		fmt.Fprintf(&b, "\n    condition %s: %s", c.Type, c.Message)
	}
	if op := a.Status.OperationState; op != nil {
		fmt.Fprintf(&b, "\n    operation %s: %s", op.Phase, op.Message)
	}
	for _, r := range a.Status.Resources {
		h := ""
		if r.Health != nil {
			h = r.Health.Status + " " + r.Health.Message
		}
		fmt.Fprintf(&b, "\n    %s %s/%s: %s %s", r.Kind, r.Namespace, r.Name, r.Status, h)
	}
	return b.String()
}
