package plan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/itchyny/gojq"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// jqTimeout bounds the evaluation of one jq expression on one object.
const jqTimeout = time.Second

// IgnoreRule is a compiled ResourceIgnoreDifferences.
type IgnoreRule struct {
	// Index is the rule's position in spec.ignoreDifferences, for errors.
	Index int
	// Source is the rule as written.
	Source v1alpha1.ResourceIgnoreDifferences

	pointers [][]string
	jq       []*gojq.Code
}

// CompileIgnoreRules validates and compiles rules. A bad JSON pointer, jq
// expression or name/namespace glob is an error naming its index and the
// expression, e.g. `ignoreDifferences[1].jqPathExpressions[0]: parse
// ".spec[": ...`.
func CompileIgnoreRules(rules []v1alpha1.ResourceIgnoreDifferences) ([]IgnoreRule, error) {
	out := make([]IgnoreRule, 0, len(rules))
	for i, src := range rules {
		r := IgnoreRule{Index: i, Source: src}
		at := fmt.Sprintf("ignoreDifferences[%d]", i)
		if src.Kind == "" {
			return nil, fmt.Errorf("%s.kind: must not be empty", at)
		}
		for _, g := range [][2]string{{"name", src.Name}, {"namespace", src.Namespace}} {
			if _, err := path.Match(g[1], ""); err != nil {
				return nil, fmt.Errorf("%s.%s: parse %q: %w", at, g[0], g[1], err)
			}
		}
		for j, p := range src.JSONPointers {
			toks, err := parsePointer(p)
			if err != nil {
				return nil, fmt.Errorf("%s.jsonPointers[%d]: parse %q: %w", at, j, p, err)
			}
			r.pointers = append(r.pointers, toks)
		}
		for j, expr := range src.JQPathExpressions {
			code, err := compileJQ(expr)
			if err != nil {
				return nil, fmt.Errorf("%s.jqPathExpressions[%d]: %w", at, j, err)
			}
			r.jq = append(r.jq, code)
		}
		out = append(out, r)
	}
	return out, nil
}

// Matches reports whether the rule applies to obj: group (empty = core),
// kind (exact, or "*"), name and namespace (empty = any, else a path.Match
// glob). A group of "*" matches any group.
func (r IgnoreRule) Matches(obj *unstructured.Unstructured) bool {
	if obj == nil {
		return false
	}
	gvk := obj.GroupVersionKind()
	if r.Source.Group != "*" && r.Source.Group != gvk.Group {
		return false
	}
	if r.Source.Kind != "*" && r.Source.Kind != gvk.Kind {
		return false
	}
	return globMatch(r.Source.Name, obj.GetName()) && globMatch(r.Source.Namespace, obj.GetNamespace())
}

// IgnoreRulesFor returns the rules that apply to obj, in order.
func IgnoreRulesFor(obj *unstructured.Unstructured, rules []IgnoreRule) []IgnoreRule {
	var out []IgnoreRule
	for _, r := range rules {
		if r.Matches(obj) {
			out = append(out, r)
		}
	}
	return out
}

// Normalize removes from obj, in place, the fields the rules that match it
// ignore: JSON pointers (a missing field is fine), jq path expressions
// (evaluated as `del(EXPR)`, at most 1s each), and every leaf field that
// live's managedFields attributes to one of managedFieldsManagers (live is
// passed separately because a desired object has no managedFields; it may
// be nil, or obj itself). Apply it to both sides before comparing them.
func Normalize(obj, live *unstructured.Unstructured, rules []IgnoreRule) error {
	if obj == nil {
		return nil
	}
	for _, r := range IgnoreRulesFor(obj, rules) {
		at := fmt.Sprintf("%s: ignoreDifferences[%d]", objectRef(obj), r.Index)
		for _, toks := range r.pointers {
			steps := make([]step, len(toks))
			for i, t := range toks {
				steps[i] = pointerStep(t)
			}
			obj.Object = removePath(obj.Object, steps).(map[string]any)
		}
		for j, code := range r.jq {
			if err := applyJQ(obj, code); err != nil {
				return fmt.Errorf("%s.jqPathExpressions[%d]: %q: %w", at, j, r.Source.JQPathExpressions[j], err)
			}
		}
		if len(r.Source.ManagedFieldsManagers) > 0 && live != nil {
			if err := removeManaged(obj, live, r.Source.ManagedFieldsManagers); err != nil {
				return fmt.Errorf("%s.managedFieldsManagers: %w", at, err)
			}
		}
	}
	return nil
}

func globMatch(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

// objectRef names obj as Kind/namespace/name (Kind/name when cluster-scoped).
func objectRef(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return obj.GetKind() + "/" + ns + "/" + obj.GetName()
	}
	return obj.GetKind() + "/" + obj.GetName()
}

// parsePointer splits an RFC 6901 pointer into unescaped reference tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, errors.New("pointer to the whole object")
	}
	if !strings.HasPrefix(p, "/") {
		return nil, errors.New(`must start with "/"`)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		for k := 0; k < len(t); k++ {
			if t[k] == '~' && (k+1 == len(t) || (t[k+1] != '0' && t[k+1] != '1')) {
				return nil, fmt.Errorf("bad escape in %q: only ~0 and ~1 are allowed", t)
			}
		}
		// ~1 first, so that "~01" stays the literal "~1".
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func compileJQ(expr string) (*gojq.Code, error) {
	// Parse the expression alone first, so that it cannot close the del(
	// it is wrapped in, and so that errors quote what the user wrote.
	if _, err := gojq.Parse(expr); err != nil {
		return nil, fmt.Errorf("parse %q: %w", expr, err)
	}
	q, err := gojq.Parse("del(" + expr + ")")
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", expr, err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("compile %q: %w", expr, err)
	}
	return code, nil
}

func applyJQ(obj *unstructured.Unstructured, code *gojq.Code) error {
	ctx, cancel := context.WithTimeout(context.Background(), jqTimeout)
	defer cancel()
	it := code.RunWithContext(ctx, toJQ(obj.Object))
	v, ok := it.Next()
	if !ok {
		return errors.New("no result")
	}
	if err, isErr := v.(error); isErr {
		return err
	}
	m, isMap := fromJQ(v).(map[string]any)
	if !isMap {
		return fmt.Errorf("result is %T, not an object", v)
	}
	obj.Object = m
	return nil
}

// toJQ converts unstructured content to the types gojq accepts (int, not
// int64). It copies maps and slices so obj is untouched on error.
func toJQ(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = toJQ(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = toJQ(e)
		}
		return s
	case int64:
		return int(t)
	case int32:
		return int(t)
	}
	return v
}

// fromJQ converts gojq results back to unstructured content (int64).
func fromJQ(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = fromJQ(e)
		}
	case []any:
		for i, e := range t {
			t[i] = fromJQ(e)
		}
	case int:
		return int64(t)
	case *big.Int:
		// Only arithmetic makes these, which del() does not do.
		if t.IsInt64() {
			return t.Int64()
		}
		f, _ := new(big.Float).SetInt(t).Float64()
		return f
	}
	return v
}

// removeManaged deletes from obj every leaf field that live's managedFields
// attribute to one of managers.
func removeManaged(obj, live *unstructured.Unstructured, managers []string) error {
	owned := &fieldpath.Set{}
	for i, mf := range live.GetManagedFields() {
		if !slices.Contains(managers, mf.Manager) || mf.FieldsV1 == nil {
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(bytes.NewReader(mf.FieldsV1.Raw)); err != nil {
			return fmt.Errorf("managedFields[%d] (manager %q): parse fieldsV1: %w", i, mf.Manager, err)
		}
		owned = owned.Union(s)
	}
	var paths []fieldpath.Path
	owned.Leaves().Iterate(func(p fieldpath.Path) { paths = append(paths, p.Copy()) })
	// Reversed, so that removing i:N elements leaves lower indices valid.
	for _, p := range slices.Backward(paths) {
		steps := make([]step, len(p))
		for i, pe := range p {
			steps[i] = managedStep(pe)
		}
		obj.Object = removePath(obj.Object, steps).(map[string]any)
	}
	return nil
}

// step selects one child of a map (by key) or of a list (by index).
type step struct {
	key   string
	isKey bool
	// index returns the position of the selected element, or -1.
	index func(list []any) int
}

func pointerStep(tok string) step {
	return step{key: tok, isKey: true, index: func(list []any) int {
		// RFC 6901: decimal, no leading zeros; "-" is past the end.
		if tok == "" || (len(tok) > 1 && tok[0] == '0') || strings.Trim(tok, "0123456789") != "" {
			return -1
		}
		i, err := strconv.Atoi(tok)
		if err != nil || i >= len(list) {
			return -1
		}
		return i
	}}
}

func managedStep(pe fieldpath.PathElement) step {
	switch {
	case pe.FieldName != nil:
		return step{key: *pe.FieldName, isKey: true}
	case pe.Key != nil:
		return step{index: func(list []any) int {
			return slices.IndexFunc(list, func(e any) bool {
				m, ok := e.(map[string]any)
				if !ok {
					return false
				}
				for _, f := range *pe.Key {
					v, ok := m[f.Name]
					if !ok || !value.Equals(value.NewValueInterface(v), f.Value) {
						return false
					}
				}
				return true
			})
		}}
	case pe.Value != nil:
		return step{index: func(list []any) int {
			return slices.IndexFunc(list, func(e any) bool {
				return value.Equals(value.NewValueInterface(e), *pe.Value)
			})
		}}
	case pe.Index != nil:
		return step{index: func(list []any) int {
			if *pe.Index < len(list) {
				return *pe.Index
			}
			return -1
		}}
	}
	return step{}
}

// removePath deletes the node at steps below node and returns node, which
// is a new slice when an element was cut from a list. A missing path is a
// no-op.
func removePath(node any, steps []step) any {
	if len(steps) == 0 {
		return node
	}
	s, last := steps[0], len(steps) == 1
	switch n := node.(type) {
	case map[string]any:
		if !s.isKey {
			return node
		}
		child, ok := n[s.key]
		if !ok {
			return node
		}
		if last {
			delete(n, s.key)
		} else {
			n[s.key] = removePath(child, steps[1:])
		}
	case []any:
		i := -1
		if s.index != nil {
			i = s.index(n)
		}
		if i < 0 {
			return node
		}
		if last {
			return slices.Delete(slices.Clone(n), i, i+1)
		}
		n[i] = removePath(n[i], steps[1:])
	}
	return node
}
