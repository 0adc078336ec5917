package plan

import (
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// RespectIgnored makes desired carry the live values of the fields the
// matching rules ignore (the sync option RespectIgnoreDifferences=true), so
// a sync leaves them as they are in the cluster: JSON-pointer fields take
// the live value (or are dropped when live has none); fields selected by jq
// expressions or owned by the listed managers are dropped from desired, so
// tether does not claim them.
func RespectIgnored(desired, live *unstructured.Unstructured, rules []IgnoreRule) error {
	if live == nil {
		return nil
	}
	for _, r := range IgnoreRulesFor(desired, rules) {
		for _, toks := range r.pointers {
			if v, ok := getPointer(live.Object, toks); ok {
				setPointer(desired.Object, toks, v)
			} else {
				desired.Object = removePointer(desired.Object, toks).(map[string]any)
			}
		}
		rest := r
		rest.pointers = nil
		if err := Normalize(desired, live, []IgnoreRule{rest}); err != nil {
			return err
		}
	}
	return nil
}

func getPointer(node any, toks []string) (any, bool) {
	for _, t := range toks {
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[t]
			if !ok {
				return nil, false
			}
			node = v
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(n) {
				return nil, false
			}
			node = n[i]
		default:
			return nil, false
		}
	}
	return runtime.DeepCopyJSONValue(node), true
}

// setPointer sets a value, creating maps on the way; list elements must
// exist already (a pointer into a list desired does not have is left).
func setPointer(node any, toks []string, v any) {
	for i, t := range toks {
		last := i == len(toks)-1
		switch n := node.(type) {
		case map[string]any:
			if last {
				n[t] = v
				return
			}
			next, ok := n[t]
			if !ok {
				next = map[string]any{}
				n[t] = next
			}
			node = next
		case []any:
			idx, err := strconv.Atoi(t)
			if err != nil || idx < 0 || idx >= len(n) {
				return
			}
			if last {
				n[idx] = v
				return
			}
			node = n[idx]
		default:
			return
		}
	}
}
