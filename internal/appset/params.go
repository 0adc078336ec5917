package appset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/selection"
)

// paramSet is one parameter set and the generator element it came from.
type paramSet struct {
	// Params are flat (dotted names, string values) without goTemplate,
	// nested with it.
	Params map[string]any
	// Origin names where the set came from, such as
	// spec.generators[0].list.elements[2]; errors quote it.
	Origin string
}

// flatString is the text of a flat parameter value.
func flatString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// flatten adds the leaves of v to out under dotted names: {"a": {"b": 1}}
// gives a.b=1 and {"a": [x, y]} gives a.0=x, a.1=y, as Argo CD does for
// generators without goTemplate.
func flatten(out map[string]any, prefix string, v any) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			flatten(out, join(k), x)
		}
	case []any:
		for i, x := range t {
			flatten(out, join(strconv.Itoa(i)), x)
		}
	default:
		if prefix != "" {
			out[prefix] = flatString(t)
		}
	}
}

// decodeObject decodes JSON; numbers stay as their text when flat is set
// (they become strings anyway) and are float64 otherwise, as Argo CD's
// Go templates see them.
func decodeJSON(b []byte, flat bool) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if flat {
		dec.UseNumber()
	}
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// paramsOf turns a decoded object into a parameter set of the mode.
func paramsOf(obj map[string]any, flat bool) map[string]any {
	if !flat {
		return obj
	}
	out := map[string]any{}
	flatten(out, "", obj)
	return out
}

// copyParams copies a parameter set deeply enough that merging into the
// copy leaves the original alone.
func copyParams(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		if m, ok := v.(map[string]any); ok {
			v = copyParams(m)
		}
		out[k] = v
	}
	return out
}

// deepMerge merges src into dst: nested maps merge, other values of src
// replace dst's. dst is changed.
func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dm = copyParams(dm)
				deepMerge(dm, sm)
				dst[k] = dm
				continue
			}
			v = copyParams(sm)
		}
		dst[k] = v
	}
}

// lookup finds a dotted name: the key itself first (flat sets), else a
// path through nested maps (Go template sets).
func lookup(params map[string]any, name string) (any, bool) {
	if v, ok := params[name]; ok {
		return v, true
	}
	parts := strings.Split(name, ".")
	var cur any = params
	for _, p := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// matchSelector tells whether a parameter set matches a label selector,
// reading each key as a dotted parameter name. Values are compared as
// text and need not be valid label values (servers are URLs).
func matchSelector(sel *metav1.LabelSelector, params map[string]any) (bool, error) {
	if sel == nil {
		return true, nil
	}
	get := func(k string) (string, bool) {
		v, ok := lookup(params, k)
		if !ok {
			return "", false
		}
		return flatString(v), true
	}
	return matchLabelSelector(sel, get)
}

// matchLabelSelector evaluates sel against the labels get returns.
func matchLabelSelector(sel *metav1.LabelSelector, get func(string) (string, bool)) (bool, error) {
	for k, want := range sel.MatchLabels {
		if v, ok := get(k); !ok || v != want {
			return false, nil
		}
	}
	for i, r := range sel.MatchExpressions {
		v, ok := get(r.Key)
		in := false
		for _, x := range r.Values {
			if x == v {
				in = true
			}
		}
		switch selection.Operator(strings.ToLower(string(r.Operator))) {
		case "in":
			if !ok || !in {
				return false, nil
			}
		case "notin":
			if ok && in {
				return false, nil
			}
		case "exists":
			if !ok {
				return false, nil
			}
		case "doesnotexist":
			if ok {
				return false, nil
			}
		default:
			return false, fmt.Errorf("matchExpressions[%d].operator: %q is not In, NotIn, Exists or DoesNotExist", i, r.Operator)
		}
	}
	return true, nil
}
