package plan

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Hook annotations, Argo CD's and Helm's.
const (
	HookAnnotation             = "argocd.argoproj.io/hook"
	HookDeletePolicyAnnotation = "argocd.argoproj.io/hook-delete-policy"
	helmHookAnnotation         = "helm.sh/hook"
	helmHookWeightAnnotation   = "helm.sh/hook-weight"
	helmHookDeleteAnnotation   = "helm.sh/hook-delete-policy"
)

// Hook phases.
const (
	HookPreSync  = "PreSync"
	HookSync     = "Sync"
	HookPostSync = "PostSync"
	HookSyncFail = "SyncFail"
	HookSkip     = "Skip"
	// HookPostDelete hooks run once the app is deleted and its objects are
	// gone, never in a sync.
	HookPostDelete = "PostDelete"
)

// Hook delete policies.
const (
	DeleteBeforeHookCreation = "BeforeHookCreation"
	DeleteHookSucceeded      = "HookSucceeded"
	DeleteHookFailed         = "HookFailed"
)

// HookInfo is what an object's hook annotations say.
type HookInfo struct {
	// Phases the hook runs in; empty for a regular object.
	Phases []string
	// Skip means the object is not applied at all.
	Skip bool
	// DeletePolicies; BeforeHookCreation when none is given.
	DeletePolicies []string
	// Wave from helm.sh/hook-weight, when the object has no sync-wave.
	Wave *int
}

// IsHook reports whether the object runs as a hook.
func (h HookInfo) IsHook() bool { return len(h.Phases) > 0 }

// OnlyPostDelete reports whether the hook runs only after the app's
// deletion, never in a sync.
func (h HookInfo) OnlyPostDelete() bool {
	return len(h.Phases) > 0 && !slices.ContainsFunc(h.Phases, func(p string) bool { return p != HookPostDelete })
}

// PostDeleteHooks returns the plan's PostDelete hooks, in plan order.
func (p *Plan) PostDeleteHooks() []Item {
	var out []Item
	for _, it := range p.Items {
		if it.Action == ActionHook && slices.Contains(it.Hook.Phases, HookPostDelete) {
			out = append(out, it)
		}
	}
	return out
}

// HasPolicy reports whether p is among the delete policies.
func (h HookInfo) HasPolicy(p string) bool { return slices.Contains(h.DeletePolicies, p) }

// Hook reads an object's hook annotations. Helm hooks are mapped as Argo CD
// maps them: pre-install/pre-upgrade -> PreSync, post-install/post-upgrade
// -> PostSync, hook-weight -> wave, delete policies to theirs; test hooks
// and hooks of other Helm events are skipped. An unknown hook type or delete
// policy is an error naming the object and the annotation.
func Hook(obj *unstructured.Unstructured) (HookInfo, error) {
	ann := obj.GetAnnotations()
	var h HookInfo
	if v, ok := ann[HookAnnotation]; ok {
		for _, p := range splitComma(v) {
			switch p {
			case HookPreSync, HookSync, HookPostSync, HookSyncFail, HookPostDelete:
				h.Phases = append(h.Phases, p)
			case HookSkip:
				h.Skip = true
			default:
				return h, fmt.Errorf("%s: annotation %s: unknown hook type %q (want PreSync, Sync, PostSync, SyncFail, PostDelete or Skip)", describe(obj), HookAnnotation, p)
			}
		}
	} else if v, ok := ann[helmHookAnnotation]; ok {
		for _, p := range splitComma(v) {
			switch p {
			case "pre-install", "pre-upgrade":
				h.Phases = appendOnce(h.Phases, HookPreSync)
			case "post-install", "post-upgrade":
				h.Phases = appendOnce(h.Phases, HookPostSync)
			case "post-delete":
				h.Phases = appendOnce(h.Phases, HookPostDelete)
			}
		}
		if len(h.Phases) == 0 {
			h.Skip = true // test, pre-delete and rollback hooks have no sync phase
		}
		if w, ok := ann[helmHookWeightAnnotation]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(w))
			if err != nil {
				return h, fmt.Errorf("%s: annotation %s: %q is not an integer", describe(obj), helmHookWeightAnnotation, w)
			}
			h.Wave = &n
		}
	}
	if v, ok := ann[HookDeletePolicyAnnotation]; ok {
		for _, p := range splitComma(v) {
			switch p {
			case DeleteBeforeHookCreation, DeleteHookSucceeded, DeleteHookFailed:
				h.DeletePolicies = appendOnce(h.DeletePolicies, p)
			default:
				return h, fmt.Errorf("%s: annotation %s: unknown delete policy %q (want HookSucceeded, HookFailed or BeforeHookCreation)", describe(obj), HookDeletePolicyAnnotation, p)
			}
		}
	} else if v, ok := ann[helmHookDeleteAnnotation]; ok {
		for _, p := range splitComma(v) {
			switch p {
			case "before-hook-creation":
				h.DeletePolicies = appendOnce(h.DeletePolicies, DeleteBeforeHookCreation)
			case "hook-succeeded":
				h.DeletePolicies = appendOnce(h.DeletePolicies, DeleteHookSucceeded)
			case "hook-failed":
				h.DeletePolicies = appendOnce(h.DeletePolicies, DeleteHookFailed)
			}
		}
	}
	if h.IsHook() && len(h.DeletePolicies) == 0 {
		h.DeletePolicies = []string{DeleteBeforeHookCreation}
	}
	sort.Strings(h.Phases)
	return h, nil
}

func splitComma(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
