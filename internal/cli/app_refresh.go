package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// refreshGrace is how long refreshApp waits, after the controller removed
// the refresh annotation, for the status write that follows it.
const refreshGrace = 3 * time.Second

// refreshApp asks the controller to compare the app again now ("normal"),
// or to read Git and render again without its caches ("hard"), through the
// argocd.argoproj.io/refresh annotation, and returns the app once the
// controller has done it. The controller removes the annotation and then
// writes the status; the app is returned as that status write left it, or
// as it is refreshGrace after the removal when no write follows.
func refreshApp(ctx context.Context, c client.WithWatch, a *v1alpha1.Application, mode string, timeout time.Duration) (*v1alpha1.Application, error) {
	key := client.ObjectKeyFromObject(a)
	before := a.DeepCopy()
	if a.Annotations == nil {
		a.Annotations = map[string]string{}
	}
	a.Annotations[v1alpha1.RefreshAnnotation] = mode
	if err := c.Patch(ctx, a, client.MergeFrom(before)); err != nil {
		return nil, fmt.Errorf("application %s: ask for a refresh: %w", key, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rv := a.ResourceVersion // the watch starts at the request: every later write is seen, in order
	var removed *v1alpha1.Application
	var grace <-chan time.Time
	for {
		var list v1alpha1.ApplicationList
		w, err := c.Watch(ctx, &list, client.InNamespace(key.Namespace),
			client.MatchingFields{"metadata.name": key.Name}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
		if err != nil {
			return nil, refreshError(key, err, timeout)
		}
	events:
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					break events
				}
				next, ok := ev.Object.(*v1alpha1.Application)
				if !ok {
					continue
				}
				if removed != nil {
					w.Stop()
					return next, nil // the status write after the removal
				}
				if _, pending := next.Annotations[v1alpha1.RefreshAnnotation]; !pending {
					removed, grace = next, time.After(refreshGrace)
				}
			case <-grace:
				w.Stop()
				return removed, nil
			case <-ctx.Done():
				w.Stop()
				return nil, refreshError(key, ctx.Err(), timeout)
			}
		}
		w.Stop()
		// The watch ended (a server timeout, or its start is too old): read
		// the app as it is now.
		var now v1alpha1.Application
		if err := c.Get(ctx, key, &now); err != nil {
			return nil, refreshError(key, err, timeout)
		}
		if _, pending := now.Annotations[v1alpha1.RefreshAnnotation]; !pending {
			return &now, nil
		}
		rv = now.ResourceVersion
	}
}

func refreshError(key client.ObjectKey, err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &ExitError{Code: 1, Err: fmt.Errorf("application %s: the refresh was not done within %s (is `tether controller` running and watching namespace %s?)", key, timeout, key.Namespace)}
	}
	return fmt.Errorf("application %s: wait for the refresh: %w", key, err)
}

// refreshMode is the annotation value the --refresh and --hard-refresh
// flags ask for ("" for none).
func refreshMode(refresh, hard bool) (string, error) {
	switch {
	case refresh && hard:
		return "", errors.New("--refresh and --hard-refresh: choose one")
	case hard:
		return "hard", nil
	case refresh:
		return "normal", nil
	}
	return "", nil
}
