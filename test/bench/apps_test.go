package bench

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// waitApp waits up to timeout until cond holds for the Application name
// and returns it; it fails b with the app's last status otherwise.
func (e *env) waitApp(name, what string, timeout time.Duration, cond func(*v1alpha1.Application) bool) *v1alpha1.Application {
	e.b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	u, err := waitObject(ctx, e.apps, name, func(u *unstructured.Unstructured) bool {
		e.ctl.alive(e.b)
		return cond(asApp(u))
	})
	if err != nil {
		var last *v1alpha1.Application
		if u != nil {
			last = asApp(u)
		}
		e.b.Fatalf("app %s: %s not reached within %s (%v); last status:\n  %s", name, what, timeout, err, describeApp(last))
	}
	return asApp(u)
}

// refresh asks for an immediate refresh of an app, as `kubectl annotate`
// (or a Git webhook) would.
func (e *env) refresh(ctx context.Context, name string) error {
	patch := []byte(`{"metadata":{"annotations":{"` + v1alpha1.RefreshAnnotation + `":"normal"}}}`)
	_, err := e.apps.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// noRefreshPending reports whether tether has handled (removed) the
// refresh annotation.
func noRefreshPending(a *v1alpha1.Application) bool {
	_, ok := a.Annotations[v1alpha1.RefreshAnnotation]
	return !ok
}

// w1Setup is the W1 app, synced and healthy.
type w1Setup struct {
	*env
	repo *gitserver.Repo
	dir  string // work tree of the W1 content
	head string
}

// setupW1 starts everything, commits the W1 workload and creates its app
// (destination namespace w1, CreateNamespace=true, automated sync with
// prune and self-heal), and waits until it is synced and healthy.
func setupW1(e *env) *w1Setup {
	e.b.Helper()
	s := &w1Setup{env: e, dir: e.b.TempDir()}
	if err := WriteFiles(s.dir, W1Files()); err != nil {
		e.b.Fatal(err)
	}
	var err error
	if s.repo, err = e.git.CreateRepo("w1", gitserver.Anonymous); err != nil {
		e.b.Fatal(err)
	}
	if s.head, err = s.repo.CommitDir("main", s.dir, "", "W1 workload"); err != nil {
		e.b.Fatal(err)
	}
	start := time.Now()
	app := application("w1", s.repo.HTTPURL(), "w1", "w1", "CreateNamespace=true")
	if _, err := e.apps.Create(context.Background(), app, metav1.CreateOptions{}); err != nil {
		e.b.Fatal(err)
	}
	e.waitApp("w1", "Synced and Healthy", 3*time.Minute, func(a *v1alpha1.Application) bool { return syncedHealthy(a, s.head) })
	note(e.b, "W1 app (20 objects) synced and healthy %s after its creation", time.Since(start).Round(time.Millisecond))
	return s
}
