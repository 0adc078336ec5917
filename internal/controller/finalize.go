package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/apply"
	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/plan"
	"github.com/tether-gitops/tether/internal/record"
)

// finalize handles a deleted Application: with the resources finalizer,
// its objects are deleted (foreground by default, background with the
// "/background" variant; none while one marked Delete=confirm waits for
// approval) and the finalizer removed once they are gone; without it, the
// objects stay. Then the PostDelete hooks run (postDelete).
func (r *Reconciler) finalize(ctx context.Context, app *v1alpha1.Application) (ctrl.Result, error) {
	key := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	var ours []string
	for _, f := range app.Finalizers {
		if isResourcesFinalizer(f) {
			ours = append(ours, f)
		}
	}
	if len(ours) == 0 {
		if hasPostDeleteFinalizer(app.Finalizers) {
			return r.postDelete(ctx, app)
		}
		r.forget(key)
		return ctrl.Result{}, nil
	}
	policy := "foreground"
	if strings.HasSuffix(ours[0], "/background") {
		policy = "background"
	}
	remaining := 0
	t, err := r.resolve(ctx, app.Spec.Destination)
	if err == nil {
		err = t.reachable(ctx)
	}
	if err != nil {
		// The objects cannot be deleted now; the finalizer stays until
		// they can (or a person removes it).
		r.event(app, "Warning", "DeletionError", fmt.Sprintf("cannot delete the app's objects: %v", err))
		return ctrl.Result{RequeueAfter: comparisonRetry}, nil
	}
	var appOpts plan.SyncOptions
	if app.Spec.SyncPolicy != nil {
		// Validated when the app was compared; an invalid list keeps no option.
		appOpts, _ = plan.ParseSyncOptions(app.Spec.SyncPolicy.SyncOptions...)
	}
	approved, approvalNote := approval(app, app.DeletionTimestamp.Time, "the app's deletion")
	var doomed []*unstructured.Unstructured
	var unapproved []string
	for _, k := range record.Inventory(app.Status.Resources) {
		live, err := t.applier.Get(ctx, k, "")
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("%s: read before delete: %w", k, err)
		}
		if live == nil || !inventory.BelongsTo(live, key) {
			continue
		}
		objOpts, _ := plan.ParseSyncOptions(live.GetAnnotations()[v1alpha1.SyncOptionsAnnotation]) // invalid: none
		switch opts := appOpts.Merge(objOpts); {
		case opts.IsFalse("Delete"):
			continue // Delete=false: kept when the app is deleted
		case opts["Delete"] == "confirm" && !approved:
			unapproved = append(unapproved, k.String())
		}
		doomed = append(doomed, live)
	}
	if len(unapproved) > 0 {
		// Nothing is deleted until a person approves (as Argo CD does).
		return r.awaitDeletionApproval(ctx, app, unapproved, approvalNote)
	}
	deleter := t.applier
	if len(doomed) > 0 && r.opts.SyncImpersonation {
		proj, perr := r.loadProject(ctx, app)
		if perr == nil {
			deleter, perr = r.applierFor(t, proj, app)
		}
		if perr != nil {
			r.event(app, "Warning", "DeletionError", fmt.Sprintf("cannot delete the app's objects: %v", perr))
			return ctrl.Result{RequeueAfter: comparisonRetry}, nil
		}
	}
	for _, live := range doomed {
		k := inventory.KeyOf(live)
		remaining++
		if live.GetDeletionTimestamp() != nil {
			continue
		}
		if err := deleter.Delete(ctx, live, policy); err != nil {
			r.event(app, "Warning", "DeletionError", fmt.Sprintf("%s: delete: %v", k, err))
			return ctrl.Result{}, fmt.Errorf("%s: delete: %w", k, err)
		}
	}
	if remaining > 0 {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	// With PostDelete hooks, the removal of this finalizer brings the app
	// back for them.
	if err := r.removeFinalizers(ctx, app, ours); err != nil {
		return ctrl.Result{}, err
	}
	r.forget(key)
	return ctrl.Result{}, nil
}

// removeFinalizers removes the given finalizers of the app (and only them,
// at the version read: a conflict brings the app back).
func (r *Reconciler) removeFinalizers(ctx context.Context, app *v1alpha1.Application, drop []string) error {
	keep := make([]string, 0, len(app.Finalizers))
	for _, f := range app.Finalizers {
		if !slices.Contains(drop, f) {
			keep = append(keep, f)
		}
	}
	return r.patchFinalizers(ctx, app, keep)
}

func (r *Reconciler) patchFinalizers(ctx context.Context, app *v1alpha1.Application, finalizers []string) error {
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": finalizers, "resourceVersion": app.ResourceVersion}})
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind))
	u.SetNamespace(app.Namespace)
	u.SetName(app.Name)
	if err := r.client.Patch(ctx, u, client.RawPatch(types.MergePatchType, b)); err != nil {
		return fmt.Errorf("application %s/%s: set finalizers: %w", app.Namespace, app.Name, err)
	}
	return nil
}

func hasPostDeleteFinalizer(fs []string) bool {
	return slices.Contains(fs, v1alpha1.PostDeleteFinalizer) || slices.Contains(fs, v1alpha1.PostDeleteCleanupFinalizer)
}

// ensurePostDeleteFinalizers adds the PostDelete finalizers to an app whose
// plan has PostDelete hooks, so that deleting it waits for them (as Argo CD
// does). It writes only when one is missing.
func (r *Reconciler) ensurePostDeleteFinalizers(ctx context.Context, app *v1alpha1.Application, p *plan.Plan) error {
	if app.DeletionTimestamp != nil || len(p.PostDeleteHooks()) == 0 {
		return nil
	}
	fs := slices.Clone(app.Finalizers)
	for _, f := range []string{v1alpha1.PostDeleteFinalizer, v1alpha1.PostDeleteCleanupFinalizer} {
		if !slices.Contains(fs, f) {
			fs = append(fs, f)
		}
	}
	if len(fs) == len(app.Finalizers) {
		return nil
	}
	return r.patchFinalizers(ctx, app, fs)
}

// postDelete runs the PostDelete hooks of a deleted app whose objects are
// gone (or stay, without the resources finalizer), rendered from its
// source, then removes the PostDelete finalizers. A hook that fails is
// reported in an event and does not hold the deletion (as in Argo CD); an
// app that cannot be rendered any more keeps its finalizers and says why.
func (r *Reconciler) postDelete(ctx context.Context, app *v1alpha1.Application) (ctrl.Result, error) {
	key := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	cmp, err := r.compare(ctx, app, nil, false)
	if err != nil && (cmp == nil || cmp.plan == nil) {
		msg := fmt.Sprintf("cannot run the PostDelete hooks: %v; the app stays until they can run (or until finalizer %s is removed)", err, v1alpha1.PostDeleteFinalizer)
		if werr := r.holdDeletion(ctx, app, v1alpha1.ConditionDeletionError, "Warning", msg); werr != nil {
			return ctrl.Result{}, werr
		}
		return ctrl.Result{RequeueAfter: comparisonRetry}, nil
	}
	hooks := cmp.plan.PostDeleteHooks()
	if len(hooks) > 0 {
		applier, herr := r.applierFor(cmp.target, cmp.project, app)
		var res []apply.ObjectResult
		if herr == nil {
			res, herr = applier.RunPostDeleteHooks(ctx, hooks, apply.SyncOptions{App: key, Timeout: r.opts.OperationTimeout})
		}
		if herr != nil {
			r.event(app, "Warning", "PostDeleteHookFailed", herr.Error())
		} else {
			r.event(app, "Normal", "PostDeleteHooksSucceeded", fmt.Sprintf("%d PostDelete hooks succeeded", len(res)))
		}
		fromCtx(ctx).InfoContext(ctx, "PostDelete hooks ran", "hooks", len(res), "failed", herr != nil)
	}
	if err := r.removeFinalizers(ctx, app, []string{v1alpha1.PostDeleteFinalizer, v1alpha1.PostDeleteCleanupFinalizer}); err != nil {
		return ctrl.Result{}, err
	}
	r.forget(key)
	return ctrl.Result{}, nil
}

// ConditionDeletionConfirmation says a deleted app waits for a person to
// approve deleting its objects marked Delete=confirm.
const ConditionDeletionConfirmation = "DeletionConfirmationRequired"

// awaitDeletionApproval records that the deleted app's objects wait for
// approval; the app's annotation changing brings it back.
func (r *Reconciler) awaitDeletionApproval(ctx context.Context, app *v1alpha1.Application, objects []string, note string) (ctrl.Result, error) {
	msg := fmt.Sprintf("waiting for deletion confirmation of %s (Delete=confirm); approve with `tether app confirm-deletion %s -n %s` (annotation %s); nothing is deleted until then",
		strings.Join(objects, ", "), app.Name, app.Namespace, v1alpha1.DeletionApprovedAnnotation)
	if note != "" {
		msg += "; " + note
	}
	return ctrl.Result{}, r.holdDeletion(ctx, app, ConditionDeletionConfirmation, "Normal", msg)
}

// holdDeletion records why a deleted app stays: the one condition of type
// typ with msg (and an event of that reason the first time it is said).
func (r *Reconciler) holdDeletion(ctx context.Context, app *v1alpha1.Application, typ, eventType, msg string) error {
	orig := app.DeepCopy()
	if !slices.ContainsFunc(app.Status.Conditions, func(c v1alpha1.ApplicationCondition) bool { return c.Type == typ && c.Message == msg }) {
		r.event(app, eventType, typ, msg)
	}
	record.SetConditions(&app.Status, []v1alpha1.ApplicationCondition{record.Condition(typ, msg)}, metav1.Now())
	return r.writeStatus(ctx, orig, app, "", false)
}
