package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/health"

	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/plan"
)

// Result statuses of one object, as Argo CD names them.
const (
	StatusSynced       = "Synced"
	StatusSyncFailed   = "SyncFailed"
	StatusPruned       = "Pruned"
	StatusPruneSkipped = "PruneSkipped"
)

// SyncOptions configure one sync.
type SyncOptions struct {
	App types.NamespacedName
	// DryRun validates everything and reports what would change.
	DryRun bool
	// CreateNamespace, when not empty, is created first if missing.
	CreateNamespace string
	// NamespaceMetadata, when set, is applied to CreateNamespace (created
	// or not) as the field manager NamespaceFieldManager.
	NamespaceMetadata *v1alpha1.ManagedNamespaceMetadata
	// CRDTimeout bounds the wait for a CRD to become Established.
	CRDTimeout time.Duration
	// Timeout bounds each wait of the operation: a wave turning healthy, a
	// hook finishing.
	Timeout time.Duration
	// Stop, when set, is asked before each wave and hook phase whether to
	// stop the sync there (tether app terminate-op).
	Stop func(context.Context) bool
	// PruneConfirmed approves pruning the objects marked Prune=confirm;
	// without it, a sync that would prune one stops before prune with an
	// *AwaitingConfirmation error.
	PruneConfirmed bool
	// Progress, when set, is told after each step (hooks of a phase run, a
	// wave applied, a wave healthy, prune done) with the results so far.
	Progress func(ctx context.Context, step string, res *Result)
}

// withDefaults fills in the timeouts left zero.
func (o SyncOptions) withDefaults() SyncOptions {
	if o.CRDTimeout == 0 {
		o.CRDTimeout = time.Minute
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	return o
}

func (o SyncOptions) progress(ctx context.Context, step string, res *Result) {
	if o.Progress != nil && !o.DryRun {
		o.Progress(ctx, step, res)
	}
}

// AwaitingConfirmation stops a sync before prune: some of the objects to
// prune are marked Prune=confirm and the prune was not approved. Every
// wave is applied; nothing is pruned and no PostSync hook runs until a
// sync with PruneConfirmed set.
type AwaitingConfirmation struct {
	Objects []inventory.Key
}

func (e *AwaitingConfirmation) Error() string {
	names := make([]string, len(e.Objects))
	for i, k := range e.Objects {
		names[i] = k.String()
	}
	return v1alpha1.PruneApprovalPending + strings.Join(names, ", ")
}

// ErrTerminated is returned when a sync was stopped on request.
var ErrTerminated = errors.New("terminated on request")

func (o SyncOptions) stopped(ctx context.Context) bool { return o.Stop != nil && o.Stop(ctx) }

// ObjectResult is what the sync did to one object.
type ObjectResult struct {
	Key     inventory.Key
	Version string
	Status  string
	Message string
	Wave    int
	// HookType is the hook phase the object ran in, for hooks.
	HookType  string
	HookPhase string
	// Object is the object as the API server returned it after apply, or
	// for a pruned object the one that was deleted.
	Object *unstructured.Unstructured
}

// Result is the outcome of a sync, also when it failed part-way.
type Result struct {
	Objects []ObjectResult
}

// Sync runs p: PreSync hooks, then each wave (its objects and Sync hooks)
// waiting for the wave to be healthy before the next, then prune, then
// PostSync hooks once everything is healthy. When any step fails, later
// steps do not run, the SyncFail hooks run, and the results so far are
// returned with the error.
func (a *Applier) Sync(ctx context.Context, p *plan.Plan, opts SyncOptions) (*Result, error) {
	opts = opts.withDefaults()
	res := &Result{}
	first := firstWrite(p, opts)
	if err := a.validate(ctx, p, opts, first); err != nil {
		return res, err
	}
	if opts.CreateNamespace != "" && !opts.DryRun {
		if err := a.ensureNamespace(ctx, opts.CreateNamespace, opts.NamespaceMetadata); err != nil {
			return res, err
		}
	}
	err := a.runPhases(ctx, p, opts, res, first)
	if errors.Is(err, errRefused) {
		return res, err // the first write was rejected: nothing was applied
	}
	var waiting *AwaitingConfirmation
	if err != nil && !opts.DryRun && !errors.Is(err, ErrTerminated) && !errors.As(err, &waiting) {
		if fail := hooksOf(p, plan.HookSyncFail, nil); len(fail) > 0 {
			out, ferr := a.runHooks(ctx, fail, plan.HookSyncFail, opts)
			res.Objects = append(res.Objects, out...)
			if ferr != nil {
				err = errors.Join(err, ferr)
			}
		}
	}
	return res, err
}

// errRefused starts the error of a sync refused before anything was
// written.
var errRefused = errors.New("sync refused, nothing applied")

// firstWrite returns the index in p.Items of the object the sync writes
// first, or -1. Nothing is written before it (no PreSync hook, no namespace
// to create), so its pre-sync dry run tells nothing its apply does not: if
// the API server rejects the apply, the sync stops right there with nothing
// applied, as the dry run would have refused it. Objects applied with
// Replace=true or Force=true are not written by a plain apply and keep their
// dry run; so does every object of a dry-run sync.
func firstWrite(p *plan.Plan, opts SyncOptions) int {
	if opts.DryRun || opts.CreateNamespace != "" || len(hooksOf(p, plan.HookPreSync, nil)) > 0 {
		return -1
	}
	waves := syncWaves(p)
	if len(waves) == 0 {
		return -1
	}
	for i, it := range p.Items {
		if it.Wave != waves[0] || (it.Action != plan.ActionCreate && it.Action != plan.ActionUpdate) {
			continue
		}
		if it.Options.Bool("Replace") || it.Options.Bool("Force") {
			return -1
		}
		return i
	}
	return -1
}

// rejected reports an error with which the API server refused a write
// outright, as a dry run of it would have: a client error other than a
// conflict (a dry run forces conflicts), throttling, a timeout or a missing
// namespace (which a dry run does not count against the sync).
func rejected(err error) bool {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return false
	}
	switch code := st.Status().Code; {
	case code < 400 || code >= 500:
		return false
	case code == http.StatusConflict, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
		return false
	}
	return !IsMissingNamespace(err)
}

func (a *Applier) runPhases(ctx context.Context, p *plan.Plan, opts SyncOptions, res *Result, first int) error {
	out, err := a.runHooks(ctx, hooksOf(p, plan.HookPreSync, nil), plan.HookPreSync, opts)
	res.Objects = append(res.Objects, out...)
	if err != nil {
		return fmt.Errorf("sync stopped before applying anything: %w", err)
	}
	if len(out) > 0 {
		opts.progress(ctx, "PreSync hooks succeeded", res)
	}
	postSync := hooksOf(p, plan.HookPostSync, nil)
	waves := syncWaves(p)
	for i, w := range waves {
		if opts.stopped(ctx) {
			return fmt.Errorf("%w before wave %d; earlier waves stay applied, prune skipped", ErrTerminated, w)
		}
		var failed []error
		var applied []ObjectResult
		for idx, it := range p.Items {
			if it.Wave != w || it.Action == plan.ActionHook || it.Action == plan.ActionPrune || it.Action == plan.ActionPruneSkipped {
				continue
			}
			r, werr := a.syncObject(ctx, it, opts)
			if idx == first && rejected(werr) {
				// Its apply was its validation (see firstWrite).
				return fmt.Errorf("%w: %s: rejected by the API server: %w", errRefused, it.Key, werr)
			}
			res.Objects = append(res.Objects, r)
			if r.Status == StatusSyncFailed {
				failed = append(failed, errors.New(r.Message))
			} else {
				applied = append(applied, r)
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("sync failed, prune skipped: %w", errors.Join(failed...))
		}
		wave := w
		out, err := a.runHooks(ctx, hooksOf(p, plan.HookSync, &wave), plan.HookSync, opts)
		res.Objects = append(res.Objects, out...)
		if err != nil {
			return fmt.Errorf("sync failed, prune skipped: %w", err)
		}
		last := i == len(waves)-1
		if !opts.DryRun && (!last || len(postSync) > 0) {
			opts.progress(ctx, fmt.Sprintf("wave %d applied, waiting for it to turn healthy", w), res)
			if err := a.waitHealthy(ctx, applied, opts); err != nil {
				return fmt.Errorf("wave %d: %w; later waves not applied, prune skipped", w, err)
			}
			opts.progress(ctx, fmt.Sprintf("wave %d healthy", w), res)
		}
	}
	if opts.stopped(ctx) {
		return fmt.Errorf("%w before prune; all waves applied, prune skipped", ErrTerminated)
	}
	if waiting := unconfirmed(p); len(waiting) > 0 && !opts.PruneConfirmed && !opts.DryRun {
		return &AwaitingConfirmation{Objects: waiting}
	}
	pruned := a.prune(ctx, p, opts)
	res.Objects = append(res.Objects, pruned...)
	var failed []error
	for _, r := range pruned {
		if r.Status == StatusSyncFailed {
			failed = append(failed, errors.New(r.Message))
		}
	}
	if len(failed) > 0 {
		return errors.Join(failed...)
	}
	if len(postSync) > 0 {
		opts.progress(ctx, "running PostSync hooks", res)
	}
	out, err = a.runHooks(ctx, postSync, plan.HookPostSync, opts)
	res.Objects = append(res.Objects, out...)
	return err
}

// unconfirmed lists the objects whose prune waits for approval.
func unconfirmed(p *plan.Plan) []inventory.Key {
	var keys []inventory.Key
	for _, it := range p.Items {
		if it.NeedsConfirmation() {
			keys = append(keys, it.Key)
		}
	}
	return keys
}

// syncWaves lists the waves that hold regular objects or Sync hooks.
func syncWaves(p *plan.Plan) []int {
	seen := map[int]bool{}
	var waves []int
	for _, it := range p.Items {
		isSyncHook := it.Action == plan.ActionHook && slices.Contains(it.Hook.Phases, plan.HookSync)
		regular := it.Action == plan.ActionCreate || it.Action == plan.ActionUpdate || it.Action == plan.ActionUnchanged
		if (regular || isSyncHook) && !seen[it.Wave] {
			seen[it.Wave] = true
			waves = append(waves, it.Wave)
		}
	}
	sort.Ints(waves)
	return waves
}

// waitHealthy waits until every object is Healthy (or Suspended); a
// Degraded object, or the timeout, fails naming the objects.
func (a *Applier) waitHealthy(ctx context.Context, objs []ObjectResult, opts SyncOptions) error {
	timeout := opts.Timeout
	pending := map[inventory.Key]string{}
	for _, o := range objs {
		pending[o.Key] = o.Version
	}
	var last []string
	err := a.poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		if opts.stopped(ctx) {
			return false, fmt.Errorf("%w while waiting for the wave to turn healthy; later waves not applied", ErrTerminated)
		}
		last = last[:0]
		for k, v := range pending {
			live, err := a.Get(ctx, k, v)
			if err != nil {
				// A failed read (the API server busy, the deadline near) is
				// retried; the timeout names what is still pending.
				last = append(last, fmt.Sprintf("%s: %v", k, err))
				continue
			}
			h := health.Compute(live)
			switch h.Status {
			case v1alpha1.HealthHealthy, v1alpha1.HealthSuspended:
				delete(pending, k)
			case v1alpha1.HealthDegraded:
				return false, fmt.Errorf("%s is Degraded: %s", k, h.Message)
			default:
				last = append(last, fmt.Sprintf("%s is %s: %s", k, h.Status, h.Message))
			}
		}
		return len(pending) == 0, nil
	})
	if wait.Interrupted(err) {
		sort.Strings(last)
		return fmt.Errorf("not healthy within %s: %s", timeout, strings.Join(last, "; "))
	}
	return err
}

// syncObject writes one object; the error is the write's, also reported in
// the result.
func (a *Applier) syncObject(ctx context.Context, it plan.Item, opts SyncOptions) (ObjectResult, error) {
	r := ObjectResult{Key: it.Key, Version: it.Desired.GroupVersionKind().Version, Wave: it.Wave, Status: StatusSynced}
	switch {
	case it.Action == plan.ActionUnchanged:
		r.Message, r.Object = "unchanged", it.Live
		return r, nil
	case opts.DryRun:
		r.Message = "would be " + map[plan.Action]string{plan.ActionCreate: "created", plan.ActionUpdate: "configured"}[it.Action] + " (dry run)"
		return r, nil
	}
	out, err := a.write(ctx, it, opts)
	if err != nil {
		r.Status, r.Message = StatusSyncFailed, fmt.Sprintf("%s: apply failed: %v", it.Key, err)
		return r, err
	}
	r.Object = out
	r.Message = "configured"
	if it.Action == plan.ActionCreate {
		r.Message = "created"
	}
	slog.Default().DebugContext(ctx, "applied", "app", opts.App.String(), "object", it.Key.String(), "action", string(it.Action))
	if it.Key.Kind == "CustomResourceDefinition" && it.Key.Group == "apiextensions.k8s.io" {
		if err := a.WaitEstablished(ctx, out, opts.CRDTimeout); err != nil {
			r.Status, r.Message = StatusSyncFailed, err.Error()
		}
	}
	return r, nil
}

// prune deletes what the plan marks for pruning, in reverse order (last
// wave first), honouring PrunePropagationPolicy.
func (a *Applier) prune(ctx context.Context, p *plan.Plan, opts SyncOptions) []ObjectResult {
	var out []ObjectResult
	for i := len(p.Items) - 1; i >= 0; i-- {
		it := p.Items[i]
		if it.Action != plan.ActionPrune && it.Action != plan.ActionPruneSkipped {
			continue
		}
		r := ObjectResult{Key: it.Key, Version: it.Live.GroupVersionKind().Version, Wave: it.Wave}
		switch {
		case it.Action == plan.ActionPruneSkipped:
			r.Status, r.Message = StatusPruneSkipped, "ignored (requires pruning)"
		case opts.DryRun && it.NeedsConfirmation() && !opts.PruneConfirmed:
			r.Status, r.Message = StatusPruned, "would be pruned once approved (Prune=confirm; dry run)"
		case opts.DryRun:
			r.Status, r.Message = StatusPruned, "would be pruned (dry run)"
		default:
			if err := a.Delete(ctx, it.Live, it.Options["PrunePropagationPolicy"]); err != nil {
				r.Status, r.Message = StatusSyncFailed, fmt.Sprintf("%s: prune failed: %v", it.Key, err)
			} else {
				r.Status, r.Message, r.Object = StatusPruned, "pruned", it.Live
			}
		}
		out = append(out, r)
	}
	return out
}

// validate refuses the whole sync, before anything is written, when an
// object belongs to another app or the API server would reject it. The
// object at index first (see firstWrite) is dry-run only when the sync is
// refused anyway, so the refusal names it too.
func (a *Applier) validate(ctx context.Context, p *plan.Plan, opts SyncOptions, first int) error {
	var errs []error
	creating := map[string]bool{} // namespaces this sync creates
	for _, it := range p.Items {
		if it.Action == plan.ActionCreate && it.Key.Kind == "Namespace" && it.Key.Group == "" {
			creating[it.Key.Name] = true
		}
	}
	deferred := -1 // where the first object's error goes among errs
	for i, it := range p.Items {
		if it.Desired == nil || it.Action == plan.ActionUnchanged || it.Action == plan.ActionHook {
			continue
		}
		if it.Action == plan.ActionCreate && creating[it.Key.Namespace] {
			continue // its namespace does not exist yet: checked when applied
		}
		if it.Owner != "" {
			errs = append(errs, fmt.Errorf("%s: already managed by app %s; not taken over", it.Key, it.Owner))
			continue
		}
		if it.Options.IsFalse("Validate") {
			continue
		}
		if i == first {
			deferred = len(errs)
			continue
		}
		if err := a.dryRunCheck(ctx, it); err != nil {
			errs = append(errs, err)
			if !isAPIStatus(err) {
				break // the API server cannot be reached: the same for every other object
			}
		}
	}
	if len(errs) > 0 && deferred >= 0 {
		if err := a.dryRunCheck(ctx, p.Items[first]); err != nil {
			errs = append(errs[:deferred], append([]error{err}, errs[deferred:]...)...)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", errRefused, errors.Join(errs...))
	}
	return nil
}

// dryRunCheck returns the API server's rejection of it, if any.
func (a *Applier) dryRunCheck(ctx context.Context, it plan.Item) error {
	_, err := a.DryRun(ctx, it.Desired)
	switch {
	case err == nil:
		return nil
	case IsMissingNamespace(err) || isUnknownKind(err):
		return nil // created by this sync: checked when applied
	case it.Options.Bool("Force") && it.Live != nil && apierrors.IsInvalid(err):
		return nil // Force=true: recreated when it cannot be changed in place
	case !isAPIStatus(err):
		return fmt.Errorf("%s: could not reach the API server: %w", it.Key, err)
	}
	return fmt.Errorf("%s: rejected by the API server: %w", it.Key, err)
}

// isAPIStatus tells an answer of the API server from a failure to reach it.
func isAPIStatus(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status)
}

// isUnknownKind reports a kind the cluster does not serve yet (its CRD is
// part of the same sync).
func isUnknownKind(err error) bool { return meta.IsNoMatchError(err) }

// NamespaceFieldManager owns the labels and annotations of
// managedNamespaceMetadata: apart from what the app's objects apply, so
// a Namespace that is also in Git keeps both.
const NamespaceFieldManager = "tether-namespace"

// ensureNamespace creates the namespace when missing; with metadata, it
// applies the namespace with those labels and annotations instead (what
// an earlier apply set and metadata no longer holds is removed, what
// others set stays).
func (a *Applier) ensureNamespace(ctx context.Context, name string, metadata *v1alpha1.ManagedNamespaceMetadata) error {
	m, err := a.Client.Map(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err != nil {
		return err
	}
	if metadata != nil {
		ns := &unstructured.Unstructured{}
		ns.SetAPIVersion("v1")
		ns.SetKind("Namespace")
		ns.SetName(name)
		ns.SetLabels(metadata.Labels)
		ns.SetAnnotations(metadata.Annotations)
		if _, err := a.Client.Resource(m, "").Apply(ctx, name, ns, metav1.ApplyOptions{FieldManager: NamespaceFieldManager, Force: true}); err != nil {
			return fmt.Errorf("namespace %s: apply managedNamespaceMetadata (CreateNamespace=true): %w", name, err)
		}
		return nil
	}
	if _, err := a.Client.Resource(m, "").Get(ctx, name, metav1.GetOptions{}); err == nil {
		return nil // exists: no write
	}
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(name)
	_, err = a.Client.Resource(m, "").Create(ctx, ns, metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: create (CreateNamespace=true): %w", name, err)
	}
	return nil
}
