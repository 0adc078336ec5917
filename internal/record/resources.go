package record

import (
	"sort"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/apply"
	"github.com/tether-gitops/tether/internal/health"
	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/plan"
)

// Resources lists the app's objects with their sync and health status,
// and returns the app's health (the worst of its objects).
func Resources(p *plan.Plan, live func(inventory.Key) *health.Status) ([]v1alpha1.ResourceStatus, v1alpha1.HealthStatus) {
	out := make([]v1alpha1.ResourceStatus, 0, len(p.Items))
	var hs []health.Status
	for _, it := range p.Items {
		version := ""
		if it.Desired != nil {
			version = it.Desired.GroupVersionKind().Version
		} else if it.Live != nil {
			version = it.Live.GroupVersionKind().Version
		}
		rs := v1alpha1.ResourceStatus{
			Group: it.Key.Group, Version: version, Kind: it.Key.Kind,
			Namespace: it.Key.Namespace, Name: it.Key.Name, SyncWave: int64(it.Wave),
			Status: v1alpha1.SyncStatusSynced,
		}
		switch it.Action {
		case plan.ActionCreate, plan.ActionUpdate:
			rs.Status = v1alpha1.SyncStatusOutOfSync
		case plan.ActionPrune, plan.ActionPruneSkipped:
			rs.Status = v1alpha1.SyncStatusOutOfSync
			rs.RequiresPruning = true
		case plan.ActionHook:
			rs.Status, rs.Hook = "", true
			out = append(out, rs)
			continue
		}
		if it.Desired != nil {
			if h := live(it.Key); h != nil {
				rs.Health = &v1alpha1.HealthStatus{Status: h.Status, Message: h.Message}
				hs = append(hs, *h)
			}
		}
		out = append(out, rs)
	}
	sort.SliceStable(out, func(i, j int) bool { return less(out[i], out[j]) })
	w := health.Worst(hs...)
	return out, v1alpha1.HealthStatus{Status: w.Status, Message: w.Message}
}

func less(a, b v1alpha1.ResourceStatus) bool {
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// Results converts a sync's object results to the status shape.
func Results(r *apply.Result) []v1alpha1.ResourceResult {
	if r == nil {
		return nil
	}
	out := make([]v1alpha1.ResourceResult, 0, len(r.Objects))
	for _, o := range r.Objects {
		out = append(out, v1alpha1.ResourceResult{
			Group: o.Key.Group, Version: o.Version, Kind: o.Key.Kind, Namespace: o.Key.Namespace, Name: o.Key.Name,
			Status: o.Status, Message: o.Message, SyncPhase: orSync(o.HookType), SyncWave: int64(o.Wave),
			HookType: o.HookType, HookPhase: o.HookPhase,
		})
	}
	return out
}

// Inventory returns the keys of the objects listed in a status, the set a
// later sync may prune.
func Inventory(resources []v1alpha1.ResourceStatus) []inventory.Key {
	out := make([]inventory.Key, 0, len(resources))
	for _, r := range resources {
		if r.Hook {
			continue
		}
		out = append(out, inventory.Key{Group: r.Group, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name})
	}
	return out
}

func orSync(phase string) string {
	if phase == "" {
		return "Sync"
	}
	return phase
}
