package controller

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/project"
)

// ConditionSyncWindow says a sync waits for a sync window of the project.
const ConditionSyncWindow = "SyncWindowBlocked"

// projectEntry caches a compiled project per resourceVersion.
type projectEntry struct {
	version string
	project *project.Project
	err     error
	// anyNamespace: the default project without sourceNamespaces serves
	// every namespace tether watches.
	anyNamespace bool
}

// loadProject returns the app's AppProject from tether's namespace,
// compiled. A missing "default" is the built-in project that allows
// everything.
func (r *Reconciler) loadProject(ctx context.Context, app *v1alpha1.Application) (*project.Project, error) {
	e, err := r.projectOf(ctx, app)
	return e.project, err
}

func (r *Reconciler) projectOf(ctx context.Context, app *v1alpha1.Application) (projectEntry, error) {
	name := app.Spec.Project
	if name == "" {
		name = v1alpha1.DefaultProject
	}
	p := &v1alpha1.AppProject{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: r.opts.Namespace, Name: name}, p)
	switch {
	case apierrors.IsNotFound(err) && name == v1alpha1.DefaultProject:
		p = project.Default(r.opts.Namespace)
	case apierrors.IsNotFound(err):
		return projectEntry{}, fmt.Errorf("spec.project: AppProject %q not found in namespace %s", name, r.opts.Namespace)
	case err != nil:
		return projectEntry{}, fmt.Errorf("spec.project: read AppProject %s: %w", name, err)
	}
	key := p.Namespace + "/" + p.Name
	r.mu.Lock()
	e, ok := r.projects[key]
	r.mu.Unlock()
	if !ok || e.version != p.ResourceVersion || p.ResourceVersion == "" {
		proj, err := project.New(p)
		e = projectEntry{version: p.ResourceVersion, project: proj, err: err,
			anyNamespace: p.Name == v1alpha1.DefaultProject && len(p.Spec.SourceNamespaces) == 0}
		r.mu.Lock()
		r.projects[key] = e
		r.mu.Unlock()
	}
	if e.err != nil {
		return projectEntry{}, fmt.Errorf("spec.project: %w", e.err)
	}
	return e, nil
}

// checkProject applies the rules that need no cluster: the app's
// namespace and its repository.
func (r *Reconciler) checkProject(ctx context.Context, app *v1alpha1.Application) error {
	e, err := r.projectOf(ctx, app)
	if err != nil {
		return err
	}
	if !e.anyNamespace {
		if err := e.project.PermitSourceNamespace(app.Namespace, r.opts.Namespace); err != nil {
			return err
		}
	}
	for _, f := range appSources(app) {
		if err := e.project.PermitSource(f.src.RepoURL); err != nil {
			if app.Spec.HasMultipleSources() {
				return fmt.Errorf("%s: %w", f.field, err)
			}
			return err
		}
	}
	return nil
}

// windowCheck decides whether a sync may run now. It returns a non-empty
// reason when the project's sync windows block it.
func (r *Reconciler) windowCheck(c *comparison, app *v1alpha1.Application, op *v1alpha1.Operation, now time.Time) string {
	if c == nil || c.project == nil || !c.project.HasWindows() || op == nil {
		return ""
	}
	info := c.target.info()
	manual := !op.InitiatedBy.Automated
	ok, reason := c.project.SyncAllowed(now, app.Name, app.Spec.Destination.Namespace, info.Name, info.Server, manual)
	if ok {
		return ""
	}
	return reason
}

// untilNextMinute is when windows may open or close next: they follow
// cron schedules of minute resolution.
func untilNextMinute(now time.Time) time.Duration {
	return now.Truncate(time.Minute).Add(time.Minute + time.Second).Sub(now)
}

// appsOfProject lists the apps a change of an AppProject concerns, so new
// rules and windows act at once.
func (r *Reconciler) appsOfProject(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() != r.opts.Namespace {
		return nil
	}
	var out []reconcile.Request
	for _, ns := range append([]string{r.opts.Namespace}, r.opts.AppNamespaces...) {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind + "List"))
		if err := r.client.List(ctx, list, client.InNamespace(ns)); err != nil {
			continue
		}
		for _, a := range list.Items {
			p, _, _ := unstructured.NestedString(a.Object, "spec", "project")
			if p == o.GetName() || (p == "" && o.GetName() == v1alpha1.DefaultProject) {
				key := types.NamespacedName{Namespace: a.GetNamespace(), Name: a.GetName()}
				r.stir(key)
				out = append(out, reconcile.Request{NamespacedName: key})
			}
		}
	}
	return out
}
