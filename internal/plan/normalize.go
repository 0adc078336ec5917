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
			obj.Object = removePointer(obj.Object, toks).(map[string]any)
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
		if err := s.FromJSON(bytes.NewReader(mf.FieldsV1.GetRawBytes())); err != nil {
			return fmt.Errorf("managedFields[%d] (manager %q): parse fieldsV1: %w", i, mf.Manager, err)
		}
		owned = owned.Union(s)
	}
	obj.Object = removeSet(obj.Object, owned.Leaves()).(map[string]any)
	return nil
}

// removeSet deletes the members of set from node and recurses into its
// children. Every element of a list is located before anything under it is
// removed, since removing a key field would stop its element matching.
// It returns node, or a new slice when list elements were cut.
func removeSet(node any, set *fieldpath.Set) any {
	switch n := node.(type) {
	case map[string]any:
		for pe := range set.Children.All() {
			if pe.FieldName == nil {
				continue
			}
			if v, ok := n[*pe.FieldName]; ok {
				sub, _ := set.Children.Get(pe)
				n[*pe.FieldName] = removeSet(v, sub)
			}
		}
		for pe := range set.Members.All() {
			if pe.FieldName != nil {
				delete(n, *pe.FieldName)
			}
		}
	case []any:
		type found struct {
			i   int
			set *fieldpath.Set
		}
		var children []found
		for pe := range set.Children.All() {
			if i := elementIndex(n, pe); i >= 0 {
				child, _ := set.Children.Get(pe)
				children = append(children, found{i, child})
			}
		}
		var cut []int
		for pe := range set.Members.All() {
			if i := elementIndex(n, pe); i >= 0 {
				cut = append(cut, i)
			}
		}
		for _, c := range children {
			n[c.i] = removeSet(n[c.i], c.set)
		}
		if len(cut) == 0 {
			return n
		}
		kept := make([]any, 0, len(n))
		for i, e := range n {
			if !slices.Contains(cut, i) {
				kept = append(kept, e)
			}
		}
		return kept
	}
	return node
}

// elementIndex returns the position in list of the element pe selects
// (k:, v: or i:), or -1.
func elementIndex(list []any, pe fieldpath.PathElement) int {
	switch {
	case pe.Key != nil:
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
	case pe.Value != nil:
		return slices.IndexFunc(list, func(e any) bool {
			return value.Equals(value.NewValueInterface(e), *pe.Value)
		})
	case pe.Index != nil && *pe.Index < len(list):
		return *pe.Index
	}
	return -1
}

// removePointer deletes the node at the pointer's tokens below node and
// returns node, or a new slice when an element was cut from a list. A
// missing path is a no-op.
func removePointer(node any, toks []string) any {
	if len(toks) == 0 {
		return node
	}
	tok, last := toks[0], len(toks) == 1
	switch n := node.(type) {
	case map[string]any:
		child, ok := n[tok]
		switch {
		case !ok:
		case last:
			delete(n, tok)
		default:
			n[tok] = removePointer(child, toks[1:])
		}
	case []any:
		// RFC 6901: decimal without leading zeros; "-" is past the end.
		if tok == "" || (len(tok) > 1 && tok[0] == '0') || strings.Trim(tok, "0123456789") != "" {
			return node
		}
		i, err := strconv.Atoi(tok)
		if err != nil || i >= len(n) {
			return node
		}
		if last {
			return slices.Delete(slices.Clone(n), i, i+1)
		}
		n[i] = removePointer(n[i], toks[1:])
	}
	return node
}
