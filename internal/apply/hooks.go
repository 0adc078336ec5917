package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/health"
	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/plan"
)

// hooksOf returns the hook items of a phase (and, for the Sync phase, of one
// wave), in plan order.
func hooksOf(p *plan.Plan, phase string, wave *int) []plan.Item {
	var out []plan.Item
	for _, it := range p.Items {
		if it.Action != plan.ActionHook || (wave != nil && it.Wave != *wave) {
			continue
		}
		for _, ph := range it.Hook.Phases {
			if ph == phase {
				out = append(out, it)
			}
		}
	}
	return out
}

// runHooks runs the hooks one after another; the first that fails stops
// the rest.
func (a *Applier) runHooks(ctx context.Context, hooks []plan.Item, phase string, opts SyncOptions) ([]ObjectResult, error) {
	var out []ObjectResult
	for _, h := range hooks {
		r := a.runHook(ctx, h, phase, opts)
		out = append(out, r)
		if r.Status == StatusSyncFailed {
			return out, fmt.Errorf("%s hook %s", phase, r.Message)
		}
	}
	return out, nil
}

// runHook creates one hook object (deleting the previous one first with
// BeforeHookCreation), waits until it finished, and applies its delete
// policy.
func (a *Applier) runHook(ctx context.Context, it plan.Item, phase string, opts SyncOptions) ObjectResult {
	obj := it.Desired.DeepCopy()
	r := ObjectResult{Key: it.Key, Version: obj.GroupVersionKind().Version, Wave: it.Wave, HookType: phase, Status: StatusSynced}
	if opts.DryRun {
		r.Message, r.HookPhase = "would run (dry run)", "Skipped"
		return r
	}
	m, err := a.Client.Map(obj.GroupVersionKind())
	if err != nil {
		return hookFailed(r, err)
	}
	res := a.Client.Resource(m, obj.GetNamespace())
	if obj.GetName() != "" && it.Hook.HasPolicy(plan.DeleteBeforeHookCreation) {
		if err := a.deleteAndWait(ctx, obj, opts.Timeout); err != nil {
			return hookFailed(r, err)
		}
	}
	created, err := res.Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager})
	if apierrors.IsAlreadyExists(err) {
		created, err = a.Apply(ctx, obj, opts.App, obj)
	}
	if err != nil {
		return hookFailed(r, err)
	}
	r.Key = inventory.KeyOf(created)
	done, failMsg, err := a.waitHook(ctx, created, opts.Timeout)
	switch {
	case err != nil:
		r = hookFailed(r, err)
	case !done:
		r = hookFailed(r, fmt.Errorf("%s", failMsg))
	default:
		r.Message, r.HookPhase = "hook succeeded", v1alpha1.PhaseSucceeded
	}
	succeeded := r.Status != StatusSyncFailed
	if (succeeded && it.Hook.HasPolicy(plan.DeleteHookSucceeded)) || (!succeeded && it.Hook.HasPolicy(plan.DeleteHookFailed)) {
		if err := a.Delete(ctx, created, "background"); err != nil && succeeded {
			r.Message += fmt.Sprintf(" (delete after success failed: %v)", err)
		}
	}
	return r
}

// RunPostDeleteHooks runs an app's PostDelete hooks one after another,
// each to its end (opts.Timeout bounds each wait), once the app is deleted.
// Every hook runs even when one fails; the error names those that failed.
func (a *Applier) RunPostDeleteHooks(ctx context.Context, hooks []plan.Item, opts SyncOptions) ([]ObjectResult, error) {
	opts = opts.withDefaults()
	var out []ObjectResult
	var errs []error
	for _, h := range hooks {
		r := a.runHook(ctx, h, plan.HookPostDelete, opts)
		out = append(out, r)
		if r.Status == StatusSyncFailed {
			errs = append(errs, errors.New(r.Message))
		}
	}
	return out, errors.Join(errs...)
}

func hookFailed(r ObjectResult, err error) ObjectResult {
	r.Status, r.HookPhase = StatusSyncFailed, v1alpha1.PhaseFailed
	r.Message = fmt.Sprintf("%s: %v", r.Key, err)
	return r
}

// waitHook waits until a hook finished: a Job completes or fails, a Pod
// succeeds or fails, anything else turns Healthy or Degraded.
func (a *Applier) waitHook(ctx context.Context, obj *unstructured.Unstructured, timeout time.Duration) (bool, string, error) {
	key := inventory.KeyOf(obj)
	var ok bool
	var msg string
	err := a.poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		live, err := a.Get(ctx, key, obj.GroupVersionKind().Version)
		if err != nil || live == nil {
			return false, nil // retried until the timeout
		}
		h := health.Compute(live)
		switch h.Status {
		case v1alpha1.HealthHealthy:
			ok = true
			return true, nil
		case v1alpha1.HealthDegraded:
			msg = "failed: " + h.Message
			return true, nil
		}
		msg = "did not finish: " + h.Message
		return false, nil
	})
	if wait.Interrupted(err) {
		return false, fmt.Sprintf("did not finish within %s (%s)", timeout, msg), nil
	}
	return ok, msg, err
}

// deleteAndWait deletes an object and waits until it is gone.
func (a *Applier) deleteAndWait(ctx context.Context, obj *unstructured.Unstructured, timeout time.Duration) error {
	key := inventory.KeyOf(obj)
	live, err := a.Get(ctx, key, obj.GroupVersionKind().Version)
	if err != nil || live == nil {
		return err
	}
	if err := a.Delete(ctx, live, "foreground"); err != nil {
		return err
	}
	return a.poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		l, err := a.Get(ctx, key, obj.GroupVersionKind().Version)
		return l == nil, err
	})
}

// poll checks cond every 200 ms until it is done, fails or timeout passes.
func (a *Applier) poll(ctx context.Context, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, cond)
}
