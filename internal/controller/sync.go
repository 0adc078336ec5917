package controller

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/apply"
	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/plan"
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
	if c == nil || c.plan == nil || app.Spec.SyncPolicy == nil || !app.Spec.SyncPolicy.Automated.IsEnabled() || !c.plan.OutOfSync() {
		return "", nil
	}
	auto := app.Spec.SyncPolicy.Automated
	if len(c.desired) == 0 && !auto.AllowEmpty {
		return "", nil
	}
	key := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	input := c.snapshot.Commit + "|" + c.specHash
	r.mu.Lock()
	last := r.lastAuto[key]
	r.mu.Unlock()
	if last == "" && app.Status.OperationState != nil && app.Status.OperationState.SyncResult != nil {
		// After a restart: the status says what was synced last.
		if app.Status.OperationState.SyncResult.Revision == c.snapshot.Commit {
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
	return trigger, &v1alpha1.Operation{
		Sync:        &v1alpha1.SyncOperation{Revision: c.snapshot.Commit, Prune: auto.Prune},
		InitiatedBy: v1alpha1.OperationInitiator{Automated: true, Trigger: trigger},
	}
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
	state := &v1alpha1.OperationState{Operation: *op, Phase: v1alpha1.PhaseRunning, StartedAt: now}
	createNS := ""
	if c.options.Bool("CreateNamespace") {
		createNS = app.Spec.Destination.Namespace
	}
	long := r.markRunning(ctx, orig, app, state, c.plan)
	opts := apply.SyncOptions{App: key, DryRun: op.Sync.DryRun, CreateNamespace: createNS, Timeout: r.opts.OperationTimeout}
	if long {
		// Only a sync others can see running can be asked to stop.
		opts.Stop = func(ctx context.Context) bool { return r.terminating(ctx, key) }
		opts.Progress = func(ctx context.Context, step string, res *apply.Result) {
			progress := state.DeepCopy()
			progress.Message = step
			progress.SyncResult = &v1alpha1.SyncOperationResult{Resources: record.Results(res), Revision: c.snapshot.Commit, Source: c.source}
			r.writeRunning(ctx, orig, app, progress)
		}
	}
	res, err := c.target.applier.Sync(ctx, c.plan, opts)
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
	if op.InitiatedBy.Automated {
		r.lastAuto[key] = c.snapshot.Commit + "|" + c.specHash
	}
	r.appliedRVs[key] = rvs
	r.mu.Unlock()
	finished := metav1.Now()
	state.FinishedAt = &finished
	state.SyncResult = &v1alpha1.SyncOperationResult{Resources: record.Results(res), Revision: c.snapshot.Commit, Source: c.source}
	who := op.InitiatedBy.String()
	if err != nil {
		c.target.markDown(err) // an unreachable cluster fails its next comparisons at once
		state.Phase, state.Message = v1alpha1.PhaseFailed, err.Error()
		r.event(app, "Warning", "OperationFailed", fmt.Sprintf("sync of %s (%s, %s) by %s failed: %v", short(c.snapshot.Commit), c.snapshot.Author, c.snapshot.Subject(), who, err))
	} else {
		state.Phase = v1alpha1.PhaseSucceeded
		state.Message = fmt.Sprintf("successfully synced (%s)", summarize(res))
		if op.Sync.DryRun {
			state.Message = "dry run: " + summarize(res)
		} else {
			start := now
			record.AppendHistory(app, v1alpha1.RevisionHistory{
				Revision: c.snapshot.Commit, DeployedAt: finished, DeployStartedAt: &start, Source: c.source,
				InitiatedBy: op.InitiatedBy, Author: c.snapshot.Author, Message: c.snapshot.Subject(),
			})
		}
		r.event(app, "Normal", "OperationCompleted", fmt.Sprintf("synced %s (%s, %s) by %s: %s", short(c.snapshot.Commit), c.snapshot.Author, c.snapshot.Subject(), who, summarize(res)))
	}
	app.Status.OperationState = state
	fromCtx(ctx).InfoContext(ctx, "sync finished", "revision", c.snapshot.Commit, "trigger", trigger, "phase", state.Phase, "result", summarize(res))
	return res
}

// failOperation records an operation that could not start.
func (r *Reconciler) failOperation(app *v1alpha1.Application, op *v1alpha1.Operation, err error, now metav1.Time) {
	if op == nil {
		return
	}
	app.Status.OperationState = &v1alpha1.OperationState{Operation: *op, Phase: v1alpha1.PhaseError, Message: err.Error(), StartedAt: now, FinishedAt: &now}
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
		if it.Action == plan.ActionHook {
			return true
		}
		waves[it.Wave] = true
	}
	return len(waves) > 1
}
