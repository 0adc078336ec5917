package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/apply"
	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/plan"
	"github.com/tether-gitops/tether/internal/project"
	"github.com/tether-gitops/tether/internal/record"
)

// ConditionSelfHealBackoff says self-heal is backing off from another
// controller that keeps changing the same fields.
const ConditionSelfHealBackoff = "SelfHealBackoff"

// Triggers recorded in history and events.
const (
	TriggerAuto  = "auto"
	TriggerDrift = "drift"
	TriggerUser  = "user"
)

// decideSync returns the sync to run now, if any, and why.
func (r *Reconciler) decideSync(app *v1alpha1.Application, c *comparison, op *v1alpha1.Operation) (string, *v1alpha1.Operation) {
	if op != nil && op.Sync != nil {
		trigger := op.InitiatedBy.Trigger
		if trigger == "" {
			trigger = TriggerUser
		}
		return trigger, op
	}
	if c == nil || c.plan == nil {
		return "", nil
	}
	key := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	input := c.revisionKey() + "|" + c.specHash
	r.mu.Lock()
	last, awaiting := r.lastAuto[key], r.awaiting[key]
	r.mu.Unlock()
	if resumed := runningAuto(app, c); resumed != nil && (last != input || awaiting == input) {
		// Waiting for pruning confirmation, or interrupted by a restart
		// (this process did not finish it: a Running state read after it
		// did is only a cache lagging behind the final write).
		return resumed.InitiatedBy.Trigger, resumed
	}
	if app.Spec.SyncPolicy == nil || !app.Spec.SyncPolicy.Automated.IsEnabled() || !c.plan.OutOfSync() {
		return "", nil
	}
	auto := app.Spec.SyncPolicy.Automated
	if len(c.desired) == 0 && !auto.AllowEmpty {
		return "", nil
	}
	if last == "" && app.Status.OperationState != nil && app.Status.OperationState.SyncResult != nil {
		// After a restart: the status says what was synced last.
		if sr := app.Status.OperationState.SyncResult; revisionKeyOf(sr.Revision, sr.Revisions) == c.revisionKey() {
			last = input
		}
	}
	trigger := TriggerAuto
	if last == input {
		if !auto.SelfHeal || !onlyDrift(c.plan, auto.Prune) {
			return "", nil
		}
		trigger = TriggerDrift
	}
	sync := &v1alpha1.SyncOperation{Prune: auto.Prune}
	c.syncRevision(sync)
	return trigger, &v1alpha1.Operation{
		Sync:        sync,
		InitiatedBy: v1alpha1.OperationInitiator{Automated: true, Trigger: trigger},
	}
}

// runningAuto returns the automated sync the status records as still
// running at the commit compared now (one waiting for pruning confirmation,
// or one a restart interrupted), to run it on; nil when there is none. An
// automated sync of an older commit is not resumed: a new one starts.
func runningAuto(app *v1alpha1.Application, c *comparison) *v1alpha1.Operation {
	st := app.Status.OperationState
	if st == nil || st.Phase != v1alpha1.PhaseRunning || st.Operation.Sync == nil || !st.Operation.InitiatedBy.Automated {
		return nil
	}
	if c == nil || len(c.runs) == 0 || revisionKeyOf(st.Operation.Sync.Revision, st.Operation.Sync.Revisions) != c.revisionKey() {
		return nil
	}
	return st.Operation.DeepCopy()
}

// approval reports whether the app's deletion-approved annotation covers
// what waits since the given time, and when the annotation is there but
// does not, why (for the message the person reads).
func approval(app *v1alpha1.Application, since time.Time, what string) (bool, string) {
	ok, err := app.DeletionApproved(since)
	if err != nil {
		return false, err.Error()
	}
	if v, has := app.Annotations[v1alpha1.DeletionApprovedAnnotation]; has && !ok {
		return false, fmt.Sprintf("the approval in annotation %s (%s) is older than %s at %s", v1alpha1.DeletionApprovedAnnotation, v, what, since.UTC().Format(time.RFC3339))
	}
	return ok, ""
}

// startedAt is when op started: the start the status records when op is
// the sync it shows running (resumed after waiting or a restart), else now.
// A pruning approval counts from it.
func startedAt(app *v1alpha1.Application, op *v1alpha1.Operation, now metav1.Time) metav1.Time {
	st := app.Status.OperationState
	if st != nil && st.Phase == v1alpha1.PhaseRunning && !st.StartedAt.IsZero() &&
		st.Operation.InitiatedBy.Automated == op.InitiatedBy.Automated && equality.Semantic.DeepEqual(st.Operation.Sync, op.Sync) {
		return st.StartedAt
	}
	return now
}

// onlyDrift reports whether there is something self-heal can act on: a
// create or update (a skipped prune alone is not a reason to sync again).
func onlyDrift(p *plan.Plan, prune bool) bool {
	for _, it := range p.Items {
		switch it.Action {
		case plan.ActionCreate, plan.ActionUpdate:
			return true
		case plan.ActionPrune:
			if prune {
				return true
			}
		}
	}
	return false
}

// runSync applies the comparison's plan and records the operation.
// orig is the status base of the final write; it is moved on when the
// running state is recorded.
func (r *Reconciler) runSync(ctx context.Context, orig, app *v1alpha1.Application, c *comparison, op *v1alpha1.Operation, trigger string, now metav1.Time) *apply.Result {
	key := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	op = op.DeepCopy()
	op.InitiatedBy.Trigger = trigger
	start := startedAt(app, op, now)
	prev := app.Status.OperationState
	state := &v1alpha1.OperationState{Operation: *op, Phase: v1alpha1.PhaseRunning, StartedAt: start}
	approved, approvalNote := approval(app, start.Time, "this sync, which started")
	createNS := ""
	if c.options.Bool("CreateNamespace") {
		createNS = app.Spec.Destination.Namespace
	}
	p, selectErr := c.plan, error(nil)
	selective := len(op.Sync.Resources) > 0
	if selective {
		p, selectErr = c.plan.Selected(op.Sync.Resources)
	}
	long := selectErr == nil && r.markRunning(ctx, orig, app, state, p)
	opts := apply.SyncOptions{App: key, DryRun: op.Sync.DryRun, CreateNamespace: createNS, Timeout: r.opts.OperationTimeout, PruneConfirmed: approved}
	if createNS != "" && app.Spec.SyncPolicy != nil {
		opts.NamespaceMetadata = app.Spec.SyncPolicy.ManagedNamespaceMetadata
	}
	if long {
		// Only a sync others can see running can be asked to stop.
		opts.Stop = func(ctx context.Context) bool { return r.terminating(ctx, key) }
		opts.Progress = func(ctx context.Context, step string, res *apply.Result) {
			progress := state.DeepCopy()
			progress.Message = step
			progress.SyncResult = c.syncResult(record.Results(res))
			r.writeRunning(ctx, orig, app, progress)
		}
	}
	res, err := &apply.Result{}, selectErr
	if selectErr == nil {
		var applier *apply.Applier
		if applier, err = r.applierFor(c.target, c.project, app); err == nil {
			res, err = applier.Sync(ctx, p, opts)
		}
	}
	desired := map[inventory.Key]*unstructured.Unstructured{}
	for _, it := range c.plan.Items {
		if it.Desired != nil && it.Action != plan.ActionHook {
			desired[it.Key] = it.Desired
		}
	}
	rvs := map[inventory.Key]string{}
	r.mu.Lock()
	for _, o := range res.Objects {
		if o.Object == nil || o.HookType != "" {
			continue
		}
		if o.Status != apply.StatusPruned {
			rvs[o.Key] = o.Object.GetResourceVersion()
		}
		k := objKey(key, o.Key)
		if o.Status == apply.StatusPruned {
			// Deleted, though the watch cache may still hold it for a moment.
			r.pruned[k] = o.Object.GetUID()
			continue
		}
		r.applied[k] = o.Object
		if d := desired[o.Key]; d != nil {
			// What the API server returned from applying d is what a dry run
			// of d against it would predict: the next comparison needs no
			// request for this object.
			r.dryRuns[k] = dryRun{input: hashOf(d.Object) + "|" + liveFingerprint(o.Object), result: prediction(o.Object), applied: o.Object}
		}
	}
	var waiting *apply.AwaitingConfirmation
	isWaiting := errors.As(err, &waiting)
	if op.InitiatedBy.Automated {
		r.lastAuto[key] = c.revisionKey() + "|" + c.specHash
		if isWaiting {
			r.awaiting[key] = r.lastAuto[key]
		} else {
			delete(r.awaiting, key)
		}
	}
	r.appliedRVs[key] = rvs
	r.mu.Unlock()
	state.SyncResult = c.syncResult(record.Results(res))
	who := op.InitiatedBy.String()
	if isWaiting {
		// Every wave is applied; the sync stays Running until a person
		// approves the prune (or terminates the sync).
		state.Message = fmt.Sprintf("%v; approve with `tether app confirm-deletion %s -n %s` (annotation %s)", waiting, app.Name, app.Namespace, v1alpha1.DeletionApprovedAnnotation)
		if approvalNote != "" {
			state.Message += "; " + approvalNote
		}
		if prev == nil || prev.Phase != v1alpha1.PhaseRunning || prev.Message != state.Message {
			r.event(app, "Normal", "PruneConfirmationRequired", fmt.Sprintf("sync of %s by %s %s", c.describe(), who, state.Message))
		}
		app.Status.OperationState = state
		fromCtx(ctx).InfoContext(ctx, "sync waiting for pruning confirmation", "revision", c.revisionKey(), "trigger", trigger, "objects", len(waiting.Objects))
		return res
	}
	finished := metav1.Now()
	state.FinishedAt = &finished
	if err != nil {
		c.target.markDown(err) // an unreachable cluster fails its next comparisons at once
		state.Phase, state.Message = v1alpha1.PhaseFailed, err.Error()
		r.event(app, "Warning", "OperationFailed", fmt.Sprintf("sync of %s by %s failed: %v", c.describe(), who, err))
	} else {
		state.Phase = v1alpha1.PhaseSucceeded
		state.Message = fmt.Sprintf("successfully synced (%s)", summarize(res))
		switch {
		case op.Sync.DryRun:
			state.Message = "dry run: " + summarize(res)
		case selective:
			// A partial sync is not a deployment of the revision: no
			// history entry, so no rollback to it (as in Argo CD).
			state.Message = fmt.Sprintf("successfully synced %d selected objects (%s); not recorded in the history", len(op.Sync.Resources), summarize(res))
		default:
			h := c.deployment()
			h.DeployedAt, h.DeployStartedAt, h.InitiatedBy = finished, &start, op.InitiatedBy
			record.AppendHistory(app, h)
		}
		r.event(app, "Normal", "OperationCompleted", fmt.Sprintf("synced %s by %s: %s", c.describe(), who, summarize(res)))
	}
	app.Status.OperationState = state
	r.metrics.sync(app, state.Phase)
	fromCtx(ctx).InfoContext(ctx, "sync finished", "revision", c.revisionKey(), "trigger", trigger, "phase", state.Phase, "result", summarize(res))
	return res
}

// failOperation records an operation that could not start.
func (r *Reconciler) failOperation(app *v1alpha1.Application, op *v1alpha1.Operation, err error, now metav1.Time) {
	if op == nil {
		return
	}
	app.Status.OperationState = &v1alpha1.OperationState{Operation: *op, Phase: v1alpha1.PhaseError, Message: err.Error(), StartedAt: now, FinishedAt: &now}
	r.metrics.sync(app, v1alpha1.PhaseError)
	r.event(app, "Warning", "OperationFailed", err.Error())
}

func summarize(res *apply.Result) string {
	counts := map[string]int{}
	var order []string
	for _, o := range res.Objects {
		m := o.Message
		if i := strings.Index(m, " ("); i > 0 {
			m = m[:i]
		}
		if o.Status == apply.StatusSyncFailed {
			m = "failed"
		}
		if counts[m] == 0 {
			order = append(order, m)
		}
		counts[m]++
	}
	if len(order) == 0 {
		return "no objects"
	}
	parts := make([]string, 0, len(order))
	for _, m := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[m], m))
	}
	return strings.Join(parts, ", ")
}

// markRunning records that a sync started, so `tether app get` shows it,
// `tether app terminate-op` can stop it, and a restarted controller knows a
// sync was under way (it runs it again: applying is idempotent).
func (r *Reconciler) markRunning(ctx context.Context, orig, app *v1alpha1.Application, state *v1alpha1.OperationState, p *plan.Plan) bool {
	if state.Operation.Sync != nil && state.Operation.Sync.DryRun {
		return false
	}
	if state.Operation.InitiatedBy.Automated && !longSync(p) {
		// A one-wave automated sync without hooks takes milliseconds: no
		// one could watch or stop it, and a restart re-runs it anyway.
		return false
	}
	r.writeRunning(ctx, orig, app, state)
	return true
}

// writeRunning writes the state of a running sync (its step and results so
// far, for `tether app sync --watch`), and moves orig, the base of the
// final status write, to what the server now holds.
func (r *Reconciler) writeRunning(ctx context.Context, orig, app *v1alpha1.Application, state *v1alpha1.OperationState) {
	running := app.DeepCopy()
	base := running.Status.DeepCopy()
	base.OperationState = orig.Status.OperationState
	running.Status.OperationState = state.DeepCopy()
	patch, err := statusPatch(base, &running.Status)
	if err == nil {
		err = r.client.Status().Patch(ctx, running, client.RawPatch(types.MergePatchType, patch))
	}
	if err != nil {
		fromCtx(ctx).WarnContext(ctx, "record running sync", "error", err.Error())
		return
	}
	orig.Status.OperationState = state.DeepCopy()
}

// terminating reports whether someone asked to stop the app's running sync.
func (r *Reconciler) terminating(ctx context.Context, key types.NamespacedName) bool {
	var a v1alpha1.Application
	if err := r.apiReader.Get(ctx, key, &a); err != nil {
		return false
	}
	return a.Status.OperationState != nil && a.Status.OperationState.Phase == v1alpha1.PhaseTerminating
}

// longSync reports whether a sync may wait: several waves, or hooks.
func longSync(p *plan.Plan) bool {
	waves := map[int]bool{}
	for _, it := range p.Items {
		if it.Action == plan.ActionHook && !it.Hook.OnlyPostDelete() {
			return true
		}
		if it.Action != plan.ActionHook {
			waves[it.Wave] = true
		}
	}
	return len(waves) > 1
}

// applierFor is the applier an app's sync and deletion write with:
// tether's own, or with --sync-impersonation one acting as the service
// account the app's project names for its destination.
func (r *Reconciler) applierFor(t *target, proj *project.Project, app *v1alpha1.Application) (*apply.Applier, error) {
	if !r.opts.SyncImpersonation {
		return t.applier, nil
	}
	if proj == nil {
		return nil, errors.New("sync impersonation is on and the app's project could not be read")
	}
	user, err := proj.SyncUser(t.info().Server, app.Spec.Destination.Namespace)
	if err != nil {
		return nil, err
	}
	return t.applierAs(user)
}
