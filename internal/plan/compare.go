package plan

import (
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// compare tells whether live already matches what applying desired would
// give. With a dry-run prediction the comparison is exact: the API server
// has applied its defaulting, so defaulted fields never show as drift.
// Without one, only the fields desired sets are compared. The diff is
// rendered only when asked for.
func compare(desired, live, predicted *unstructured.Unstructured, rules []IgnoreRule, withDiff bool) (bool, string, error) {
	l := comparable(live)
	var want *unstructured.Unstructured
	if predicted != nil {
		want = comparable(predicted)
	} else {
		want = comparable(desired)
	}
	if err := Normalize(l, live, rules); err != nil {
		return false, "", err
	}
	if err := Normalize(want, live, rules); err != nil {
		return false, "", err
	}
	var same bool
	if predicted != nil {
		same = reflect.DeepEqual(l.Object, want.Object)
	} else {
		same = subset(want.Object, l.Object)
	}
	if same || !withDiff {
		return same, "", nil
	}
	if predicted == nil {
		// Show only the fields tether sets, so defaults do not clutter the diff.
		l = &unstructured.Unstructured{Object: project(l.Object, want.Object).(map[string]any)}
	}
	return false, Diff(l, want), nil
}

// comparable returns a copy without server-owned fields.
func comparable(obj *unstructured.Unstructured) *unstructured.Unstructured {
	c := obj.DeepCopy()
	for _, f := range [][]string{
		{"metadata", "managedFields"}, {"metadata", "resourceVersion"}, {"metadata", "generation"},
		{"metadata", "uid"}, {"metadata", "creationTimestamp"}, {"metadata", "selfLink"},
		{"metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"},
		{"metadata", "annotations", "deployment.kubernetes.io/revision"},
		{"status"},
	} {
		unstructured.RemoveNestedField(c.Object, f...)
	}
	if len(c.GetAnnotations()) == 0 {
		unstructured.RemoveNestedField(c.Object, "metadata", "annotations")
	}
	return c
}

// subset reports whether every field of want is present and equal in got.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				if isEmpty(wv) {
					continue
				}
				return false
			}
			if !subset(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	default:
		return scalarEqual(want, got)
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func scalarEqual(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			return fa == fb
		}
	}
	return reflect.DeepEqual(a, b)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// project keeps from got only the paths want has, for a focused diff.
func project(got, want any) any {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return got
		}
		out := map[string]any{}
		for k, wv := range w {
			if gv, ok := g[k]; ok {
				out[k] = project(gv, wv)
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return got
		}
		out := make([]any, len(g))
		for i := range g {
			if i < len(w) {
				out[i] = project(g[i], w[i])
			} else {
				out[i] = g[i]
			}
		}
		return out
	}
	return got
}
