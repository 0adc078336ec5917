package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/inventory"
)

// Action is what a sync does to one object.
type Action string

// Actions.
const (
	ActionCreate       Action = "Create"
	ActionUpdate       Action = "Update"
	ActionUnchanged    Action = "Unchanged"
	ActionPrune        Action = "Prune"
	ActionPruneSkipped Action = "PruneSkipped"
	// ActionHook objects are created anew by every sync in their phase and
	// never count as out of sync or pruned.
	ActionHook Action = "Hook"
)

// Item is the plan for one object.
type Item struct {
	Key    inventory.Key
	Action Action
	// Desired is the object as rendered and marked (nil for prune).
	Desired *unstructured.Unstructured
	// Live is the object in the cluster (nil when missing).
	Live *unstructured.Unstructured
	// Predicted is the live object as it would be after applying Desired
	// (a server-side dry run), when known.
	Predicted *unstructured.Unstructured
	// Diff is a readable diff, Secrets masked ("" when unchanged).
	Diff string
	Wave int
	// Options are the app's sync options with the object's on top.
	Options SyncOptions
	// Owner names another app that owns this object, when it does.
	Owner string
	// Hook says whether and when the object runs as a hook.
	Hook HookInfo
	// IgnoreExtraneous, for an object to prune, keeps it from making the
	// app OutOfSync (compare option IgnoreExtraneous on the live object).
	IgnoreExtraneous bool
}

// NeedsConfirmation reports whether pruning the item waits for a person's
// approval (sync option Prune=confirm, on the object or the app).
func (it Item) NeedsConfirmation() bool {
	return it.Action == ActionPrune && it.Options["Prune"] == "confirm"
}

// Selected returns the plan of a selective sync: the items of the named
// objects only, and no hooks. A name that matches no object of the app (to
// apply or to prune) is an error naming it.
func (p *Plan) Selected(rs []v1alpha1.SyncOperationResource) (*Plan, error) {
	out := &Plan{}
	var missing []string
	for _, r := range rs {
		found := false
		for _, it := range p.Items {
			k := it.Key
			if it.Action == ActionHook || k.Group != r.Group || k.Kind != r.Kind || k.Name != r.Name || (r.Namespace != "" && k.Namespace != r.Namespace) {
				continue
			}
			found = true
			if !slices.ContainsFunc(out.Items, func(o Item) bool { return o.Key == k }) {
				out.Items = append(out.Items, it)
			}
		}
		if !found {
			missing = append(missing, r.String())
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("selective sync: %s: not an object of the app", strings.Join(missing, ", "))
	}
	SortItems(out.Items)
	return out, nil
}

// Plan is the outcome of comparing an app's desired and live objects.
type Plan struct {
	Items []Item
}

// OutOfSync reports whether any object must be created, updated or pruned.
func (p *Plan) OutOfSync() bool {
	for _, it := range p.Items {
		switch it.Action {
		case ActionCreate, ActionUpdate:
			return true
		case ActionPrune, ActionPruneSkipped:
			if !it.IgnoreExtraneous {
				return true
			}
		}
	}
	return false
}

// Count returns how many items have action a.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, it := range p.Items {
		if it.Action == a {
			n++
		}
	}
	return n
}

// Input is everything Make compares.
type Input struct {
	App types.NamespacedName
	// Desired objects, already namespaced and marked.
	Desired []*unstructured.Unstructured
	// Live objects by key, for desired keys and inventory keys; missing
	// keys mean the object does not exist.
	Live map[inventory.Key]*unstructured.Unstructured
	// Predicted holds dry-run results by key (optional).
	Predicted map[inventory.Key]*unstructured.Unstructured
	// Inventory lists the objects the app applied before.
	Inventory []inventory.Key
	Ignore    []IgnoreRule
	// Options are the app's sync options.
	Options SyncOptions
	// Prune tells whether objects no longer desired are pruned (else they
	// are reported as PruneSkipped: the app stays OutOfSync).
	Prune bool
	// NoDiff leaves Item.Diff empty, for callers that show no diff:
	// rendering one costs more than the rest of the comparison.
	NoDiff bool
}

// Make builds the plan. Errors name the object and the field; the plan
// returned with an error covers the objects that were valid.
func Make(in Input) (*Plan, error) {
	p := &Plan{}
	var errs []error
	seen := map[inventory.Key]bool{}
	for _, d := range in.Desired {
		k := inventory.KeyOf(d)
		hook, err := Hook(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if hook.Skip && !hook.IsHook() {
			continue
		}
		if hook.IsHook() {
			it := Item{Key: k, Desired: d, Action: ActionHook, Hook: hook}
			if w, err := Wave(d); err != nil {
				errs = append(errs, err)
				continue
			} else if _, has := d.GetAnnotations()[SyncWaveAnnotation]; !has && hook.Wave != nil {
				it.Wave = *hook.Wave
			} else {
				it.Wave = w
			}
			p.Items = append(p.Items, it)
			continue
		}
		seen[k] = true
		it, err := planObject(in, k, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.Items = append(p.Items, it)
	}
	for _, k := range in.Inventory {
		if seen[k] {
			continue
		}
		seen[k] = true
		live := in.Live[k]
		if live == nil || !inventory.BelongsTo(live, in.App) {
			continue // already gone, or not ours any more
		}
		it := Item{Key: k, Live: live, Action: ActionPrune}
		if !in.NoDiff {
			it.Diff = Diff(live, nil)
		}
		objOpts, err := ParseSyncOptions(live.GetAnnotations()["argocd.argoproj.io/sync-options"])
		if err != nil {
			objOpts = SyncOptions{}
		}
		it.Options = in.Options.Merge(objOpts)
		if cmpOpts, err := ParseCompareOptions(live.GetAnnotations()[v1alpha1.CompareOptionsAnnotation]); err == nil {
			it.IgnoreExtraneous = cmpOpts.Has("IgnoreExtraneous")
		}
		if w, err := Wave(live); err == nil {
			it.Wave = w
		}
		if !in.Prune || it.Options.IsFalse("Prune") {
			it.Action = ActionPruneSkipped
		}
		p.Items = append(p.Items, it)
	}
	SortItems(p.Items)
	return p, errors.Join(errs...)
}

func planObject(in Input, k inventory.Key, desired *unstructured.Unstructured) (Item, error) {
	it := Item{Key: k, Desired: desired, Live: in.Live[k], Predicted: in.Predicted[k]}
	w, err := Wave(desired)
	if err != nil {
		return it, err
	}
	it.Wave = w
	objOpts, err := ParseSyncOptions(desired.GetAnnotations()["argocd.argoproj.io/sync-options"])
	if err != nil {
		return it, fmt.Errorf("%s: annotation argocd.argoproj.io/sync-options: %w", k, err)
	}
	it.Options = in.Options.Merge(objOpts)
	if _, err := ParseCompareOptions(desired.GetAnnotations()[v1alpha1.CompareOptionsAnnotation]); err != nil {
		return it, fmt.Errorf("%s: annotation %s: %w", k, v1alpha1.CompareOptionsAnnotation, err)
	}
	if it.Live == nil {
		it.Action = ActionCreate
		if !in.NoDiff {
			it.Diff = Diff(nil, desired)
		}
		return it, nil
	}
	if owner, matches, ok := inventory.Owner(it.Live); ok && matches && owner != in.App {
		it.Owner = owner.String()
	}
	rules := IgnoreRulesFor(desired, in.Ignore)
	same, diff, err := compare(desired, it.Live, it.Predicted, rules, !in.NoDiff)
	if err != nil {
		return it, fmt.Errorf("%s: %w", k, err)
	}
	it.Diff = diff
	if same {
		it.Action = ActionUnchanged
	} else {
		it.Action = ActionUpdate
	}
	return it, nil
}
