package controller

import (
	"context"
	"maps"
	"slices"
	"strings"

	"fmt"
	"log/slog"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/record"
)

// Reconcile runs the pipeline for one Application.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	raw := &unstructured.Unstructured{}
	raw.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.ApplicationKind))
	stirs, evs := r.beginReconcile(req.NamespacedName)
	if err := r.client.Get(ctx, req.NamespacedName, raw); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if r.classify(req.NamespacedName, raw.GetResourceVersion(), stirs, evs) != notEcho {
		return ctrl.Result{RequeueAfter: r.requeueLeft(req.NamespacedName)}, nil
	}
	app := &v1alpha1.Application{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw.Object, app); err != nil {
		return ctrl.Result{}, r.writeInvalid(ctx, app, raw, []string{fmt.Sprintf("spec: %v", err)})
	}
	log := slog.Default().With("app", req.NamespacedName.String())
	ctx = withLogger(ctx, log)
	r.remember(req.NamespacedName)
	defer func(start time.Time) { r.metrics.reconciled(app, time.Since(start)) }(time.Now())

	if app.DeletionTimestamp != nil {
		return r.finalize(ctx, app)
	}
	if msgs := r.validate(ctx, app, raw); len(msgs) > 0 {
		return ctrl.Result{}, r.writeInvalid(ctx, app, raw, msgs)
	}
	return r.reconcileApp(ctx, app, stirs, operationProblems(raw))
}

// reconcileApp compares, syncs when asked or automated, and records.
// stirs is the app's stir count when the reconcile started (echo.go).
func (r *Reconciler) reconcileApp(ctx context.Context, app *v1alpha1.Application, stirs uint64, opProblems []string) (ctrl.Result, error) {
	key := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	orig := app.DeepCopy()
	now := metav1.Now()
	refresh := app.Annotations[v1alpha1.RefreshAnnotation]
	op := app.Operation
	if refresh == "hard" {
		r.renders.forget(key.String()) // render again even at the same commit
	}

	cmp, err := r.compare(ctx, app, op, refresh != "")
	var conds []v1alpha1.ApplicationCondition
	if err != nil {
		conds = append(conds, record.Condition(v1alpha1.ConditionComparisonError, err.Error()))
		app.Status.Sync.Status = v1alpha1.SyncStatusUnknown
		if cmp == nil || cmp.plan == nil {
			record.SetConditions(&app.Status, conds, now)
			if op != nil {
				r.failOperation(app, op, err, now)
			}
			if werr := r.writeStatus(ctx, orig, app, refresh, op != nil); werr != nil {
				return ctrl.Result{}, werr
			}
			r.event(app, "Warning", "ComparisonError", err.Error())
			return ctrl.Result{RequeueAfter: comparisonRetry}, nil
		}
	}
	for _, msg := range cmp.repeated {
		conds = append(conds, record.Condition(v1alpha1.ConditionRepeatedResource, msg))
	}
	for _, it := range cmp.plan.Items {
		if it.Owner != "" {
			conds = append(conds, record.Condition(v1alpha1.ConditionSharedResource,
				fmt.Sprintf("%s is already managed by app %s; tether does not take it over", it.Key, it.Owner)))
		}
	}
	if ns := app.Spec.Destination.Namespace; ns != "" && cmp.project != nil && cmp.project.WarnsOfOrphans() {
		orphans, oerr := r.orphans(ctx, cmp.target, cmp.project, ns, refresh != "")
		switch {
		case oerr != nil:
			fromCtx(ctx).WarnContext(ctx, "orphaned objects: scan failed", "namespace", ns, "err", oerr.Error())
		case len(orphans) > 0:
			conds = append(conds, record.Condition(v1alpha1.ConditionOrphanedResource, orphanMessage(ns, orphans)))
		}
	}

	pending := op
	if op != nil && len(opProblems) > 0 {
		// Run without the fields it does not know, the sync could do what
		// was not asked: it fails, naming them, and is cleared.
		r.failOperation(app, op, fmt.Errorf("%s", strings.Join(opProblems, "; ")), now)
		pending = nil
	}
	if st := app.Status.OperationState; st != nil && st.Phase == v1alpha1.PhaseTerminating {
		// Reconciles of one app never overlap, so no sync of it runs now:
		// the one asked to stop was waiting for pruning confirmation (or a
		// restart interrupted it). It ends here and is not run again.
		r.endTerminated(app, now)
		pending = nil
	}
	if ferr := r.ensurePostDeleteFinalizers(ctx, app, cmp.plan); ferr != nil {
		return ctrl.Result{}, ferr
	}
	trigger, syncOp := r.decideSync(app, cmp, pending)
	var retryCount int64
	requeue := jitter(r.opts.PollInterval, key.String())
	if wait, msg := r.fightWait(key, now.Time); msg != "" {
		conds = append(conds, record.Condition(ConditionSelfHealBackoff, msg))
		if trigger == TriggerDrift && wait > 0 {
			syncOp, requeue = nil, wait // back off from the other controller
		}
	}
	if cmp.plan != nil && !cmp.plan.OutOfSync() && err == nil {
		r.calm(key, now.Time)
	}
	if syncOp == nil && err == nil {
		if p, wait := r.dueRetry(app); p != nil {
			syncOp, trigger, retryCount = p.op, p.op.InitiatedBy.Trigger, p.count
		} else if wait > 0 {
			requeue = min(requeue, wait)
		}
	} else if syncOp != nil {
		r.clearRetry(app) // a new request or new input replaces a pending retry
	}
	if syncOp != nil && err == nil {
		if reason := r.windowCheck(cmp, app, syncOp, now.Time); reason != "" {
			conds = append(conds, record.Condition(ConditionSyncWindow, reason))
			if op != nil && syncOp == op {
				r.failOperation(app, op, fmt.Errorf("%s", reason), now)
				r.clearRetry(app)
			}
			syncOp, requeue = nil, min(requeue, untilNextMinute(now.Time))
		}
	}
	if syncOp != nil && err == nil {
		res := r.runSync(ctx, orig, app, cmp, syncOp, trigger, now)
		if trigger == TriggerDrift && res != nil {
			if msg := r.recordReverts(key, cmp.plan, res, now.Time); msg != "" {
				conds = append(conds, record.Condition(ConditionSelfHealBackoff, msg))
				r.event(app, "Warning", "SelfHealBackoff", msg)
			}
		}
		st := app.Status.OperationState
		st.RetryCount = retryCount
		if st.Phase == v1alpha1.PhaseFailed && !syncOp.Sync.DryRun {
			if d := r.scheduleRetry(app, syncOp, retryCount); d > 0 {
				st.Message += fmt.Sprintf(" (attempt %d; retrying in %s)", retryCount+1, d)
				requeue = d
			}
		} else {
			r.clearRetry(app)
		}
		if st := app.Status.OperationState; st != nil && st.Phase != v1alpha1.PhaseSucceeded && !st.WaitsForApproval() {
			conds = append(conds, record.Condition(v1alpha1.ConditionSyncError, app.Status.OperationState.Message))
		}
		// Compare again so status shows the state after the sync.
		if after, cerr := r.compare(ctx, app, nil, false); cerr == nil {
			cmp = after
		} else if after == nil || after.plan == nil {
			// The cluster went away during the sync, say.
			conds = append(conds, record.Condition(v1alpha1.ConditionComparisonError, cerr.Error()))
			requeue = min(requeue, comparisonRetry)
		}
	} else if syncOp != nil && err != nil {
		r.failOperation(app, op, err, now)
	} else if st := app.Status.OperationState; st != nil && (st.Phase == v1alpha1.PhaseFailed || st.Phase == v1alpha1.PhaseError) &&
		st.SyncResult != nil && revisionKeyOf(st.SyncResult.Revision, st.SyncResult.Revisions) == cmp.revisionKey() && cmp.plan.OutOfSync() {
		// The last sync of this revision failed and nothing fixed it since.
		conds = append(conds, record.Condition(v1alpha1.ConditionSyncError, st.Message))
	}
	r.recordComparison(app, cmp)
	record.SetConditions(&app.Status, conds, now)
	// A requested sync waiting for pruning confirmation keeps its request,
	// so it runs on once approved (also after a restart).
	waiting := op != nil && app.Status.OperationState.WaitsForApproval()
	if err := r.writeStatus(ctx, orig, app, refresh, op != nil && !waiting); err != nil {
		return ctrl.Result{}, err
	}
	rv := app.ResourceVersion
	if changedMeanwhile(orig, app, refresh != "", op != nil && !waiting) {
		// The status write answered with someone else's change made since
		// the app was read: its echo must not pass for tether's own.
		rv = ""
	}
	r.endReconcile(key, rv, stirs, requeue)
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// changedMeanwhile reports whether app, as the API server returned it from
// the status write, holds a change to anything but the status that the
// reconcile did not make: the spec, the operation, the metadata. The
// reconcile itself only removes the refresh annotation and a handled
// operation (refreshed, clearedOp).
func changedMeanwhile(read, now *v1alpha1.Application, refreshed, clearedOp bool) bool {
	wantOp := read.Operation
	if clearedOp {
		wantOp = nil
	}
	wantAnn := maps.Clone(read.Annotations)
	if refreshed {
		delete(wantAnn, v1alpha1.RefreshAnnotation)
	}
	return now.Generation != read.Generation ||
		!equality.Semantic.DeepEqual(now.Operation, wantOp) ||
		!maps.Equal(now.Annotations, wantAnn) ||
		!maps.Equal(now.Labels, read.Labels) ||
		!slices.Equal(now.Finalizers, read.Finalizers) ||
		!now.DeletionTimestamp.Equal(read.DeletionTimestamp)
}

// endTerminated ends the sync the status shows as asked to stop.
func (r *Reconciler) endTerminated(app *v1alpha1.Application, now metav1.Time) {
	st := app.Status.OperationState
	was := st.Message
	st.Phase, st.FinishedAt = v1alpha1.PhaseFailed, &now
	st.Message = "terminated on request; nothing more applied or pruned"
	if was != "" {
		st.Message += " (it was: " + was + ")"
	}
	r.event(app, "Warning", "OperationFailed", st.Message)
}

// recordComparison puts a comparison's outcome into the status.
func (r *Reconciler) recordComparison(app *v1alpha1.Application, cmp *comparison) {
	resources, appHealth := record.Resources(cmp.plan, cmp.healthOf)
	app.Status.Resources = resources
	app.Status.Health = appHealth
	if cmp.multi {
		app.Status.SourceType, app.Status.Sync.Revision = "", ""
		app.Status.SourceTypes = make([]string, len(cmp.runs))
		for i, run := range cmp.runs {
			app.Status.SourceTypes[i] = run.sourceType
		}
		app.Status.Sync.Revisions = cmp.revisions()
		app.Status.Sync.ComparedTo = v1alpha1.ComparedTo{Sources: app.Spec.Sources, Destination: app.Spec.Destination}
	} else {
		app.Status.SourceType, app.Status.SourceTypes = cmp.sourceType, nil
		app.Status.Sync.Revision, app.Status.Sync.Revisions = cmp.snapshot.Commit, nil
		app.Status.Sync.ComparedTo = v1alpha1.ComparedTo{Source: *app.Spec.Source, Destination: app.Spec.Destination}
	}
	app.Status.Sync.Status = v1alpha1.SyncStatusSynced
	if cmp.plan.OutOfSync() || cmp.planErr != nil {
		app.Status.Sync.Status = v1alpha1.SyncStatusOutOfSync
	}
	app.Status.Summary.Images = images(cmp.desired)
	app.Status.Summary.ExternalURLs = externalURLs(cmp.desired)
}

// comparisonRetry is how soon an app whose comparison failed (an
// unreachable repository, a render error) is tried again.
const comparisonRetry = 10 * time.Second

func (r *Reconciler) remember(app types.NamespacedName) {
	r.mu.Lock()
	r.appsByLabel[inventory.LabelValue(app)] = app
	r.mu.Unlock()
}

func (r *Reconciler) forget(app types.NamespacedName) {
	r.mu.Lock()
	delete(r.appsByLabel, inventory.LabelValue(app))
	delete(r.lastAuto, app)
	delete(r.awaiting, app)
	delete(r.retries, app)
	delete(r.fights, app)
	delete(r.stirs, app)
	delete(r.pending, app)
	delete(r.looks, app)
	delete(r.appliedRVs, app)
	r.mu.Unlock()
	r.renders.forget(app.String())
}
