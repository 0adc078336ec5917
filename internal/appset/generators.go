package appset

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/clusters"
)

// node is one generator of any level, with its field path.
type node struct {
	field     string // spec.generators[0] or ...matrix.generators[1]
	list      *v1alpha1.ListGenerator
	clusters  *v1alpha1.ClusterGenerator
	git       *v1alpha1.GitGenerator
	matrix    []*node
	merge     []*node
	mergeKeys []string
	selector  *metav1.LabelSelector
	// template is the generator's override of spec.template; only
	// top-level generators have one that counts.
	template *v1alpha1.ApplicationSetTemplate
	// ignoredTemplate is set when a child generator carries a template,
	// which Argo CD ignores too.
	ignoredTemplate bool
}

// kind names the generator for messages.
func (n *node) kind() string {
	switch {
	case n.list != nil:
		return "list"
	case n.clusters != nil:
		return "clusters"
	case n.git != nil:
		return "git"
	case n.matrix != nil:
		return "matrix"
	case n.merge != nil:
		return "merge"
	}
	return ""
}

// generators is what one generator entry may set.
type generators struct {
	list     *v1alpha1.ListGenerator
	clusters *v1alpha1.ClusterGenerator
	git      *v1alpha1.GitGenerator
	matrix   any
	merge    any
	selector *metav1.LabelSelector
	v1alpha1.UnsupportedGenerators
}

// newNode checks that exactly one generator is set and fills the node,
// except matrix and merge children, which the caller adds.
func newNode(field string, g generators) (*node, error) {
	var set []string
	add := func(name string, ok bool) {
		if ok {
			set = append(set, name)
		}
	}
	add("list", g.list != nil)
	add("clusters", g.clusters != nil)
	add("git", g.git != nil)
	add("matrix", g.matrix != nil)
	add("merge", g.merge != nil)
	var unsupported []string
	for name, ok := range map[string]bool{
		"scmProvider":             g.SCMProvider != nil,
		"clusterDecisionResource": g.ClusterDecisionResource != nil,
		"pullRequest":             g.PullRequest != nil,
		"plugin":                  g.Plugin != nil,
	} {
		if ok {
			unsupported = append(unsupported, name)
		}
	}
	if len(unsupported) > 0 {
		return nil, fmt.Errorf("%s: the %s generator is not supported (tether runs list, clusters, git, matrix and merge)", field, strings.Join(unsupported, ", "))
	}
	switch len(set) {
	case 0:
		return nil, fmt.Errorf("%s: no generator set (want one of list, clusters, git, matrix, merge)", field)
	case 1:
	default:
		return nil, fmt.Errorf("%s: %s are set; each entry holds exactly one generator", field, strings.Join(set, " and "))
	}
	n := &node{field: field, list: g.list, clusters: g.clusters, git: g.git, selector: g.selector}
	switch {
	case g.list != nil:
		n.template = g.list.Template
	case g.clusters != nil:
		n.template = g.clusters.Template
	case g.git != nil:
		n.template = g.git.Template
	}
	return n, nil
}

// orNil keeps a nil pointer nil when stored in an interface, so the
// "which generator is set" check sees it as unset.
func orNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

// buildTop turns spec.generators[i] into a node tree.
func buildTop(field string, g *v1alpha1.ApplicationSetGenerator) (*node, error) {
	n, err := newNode(field, generators{g.List, g.Clusters, g.Git, orNil(g.Matrix), orNil(g.Merge), g.Selector, g.UnsupportedGenerators})
	if err != nil {
		return nil, err
	}
	switch {
	case g.Matrix != nil:
		n.template = g.Matrix.Template
		if n.matrix, err = buildChildren(field+".matrix", len(g.Matrix.Generators), func(f string, i int) (*node, error) {
			return buildNested(f, &g.Matrix.Generators[i])
		}); err != nil {
			return nil, err
		}
		return n, checkMatrix(n)
	case g.Merge != nil:
		n.template = g.Merge.Template
		n.mergeKeys = g.Merge.MergeKeys
		if n.merge, err = buildChildren(field+".merge", len(g.Merge.Generators), func(f string, i int) (*node, error) {
			return buildNested(f, &g.Merge.Generators[i])
		}); err != nil {
			return nil, err
		}
		return n, checkMerge(n)
	}
	return n, nil
}

// buildChildren builds the count children of a matrix or merge at field.
func buildChildren(field string, count int, build func(field string, i int) (*node, error)) ([]*node, error) {
	out := make([]*node, 0, count)
	for i := 0; i < count; i++ {
		c, err := build(fmt.Sprintf("%s.generators[%d]", field, i), i)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// buildNested turns a child of a matrix or merge into a node; a matrix or
// merge child is raw JSON decoded here, strictly, one level deep.
func buildNested(field string, g *v1alpha1.ApplicationSetNestedGenerator) (*node, error) {
	n, err := newNode(field, generators{g.List, g.Clusters, g.Git, orNil(g.Matrix), orNil(g.Merge), g.Selector, g.UnsupportedGenerators})
	if err != nil {
		return nil, err
	}
	n.ignoredTemplate, n.template = n.template != nil, nil
	switch {
	case g.Matrix != nil:
		var m v1alpha1.NestedMatrixGenerator
		if err := decodeStrict(g.Matrix.Raw, &m); err != nil {
			return nil, fmt.Errorf("%s.matrix: %w", field, err)
		}
		if n.matrix, err = buildChildren(field+".matrix", len(m.Generators), func(f string, i int) (*node, error) {
			return buildTerminal(f, &m.Generators[i])
		}); err != nil {
			return nil, err
		}
		return n, checkMatrix(n)
	case g.Merge != nil:
		var m v1alpha1.NestedMergeGenerator
		if err := decodeStrict(g.Merge.Raw, &m); err != nil {
			return nil, fmt.Errorf("%s.merge: %w", field, err)
		}
		n.mergeKeys = m.MergeKeys
		if n.merge, err = buildChildren(field+".merge", len(m.Generators), func(f string, i int) (*node, error) {
			return buildTerminal(f, &m.Generators[i])
		}); err != nil {
			return nil, err
		}
		return n, checkMerge(n)
	}
	return n, nil
}

func buildTerminal(field string, g *v1alpha1.ApplicationSetTerminalGenerator) (*node, error) {
	n, err := newNode(field, generators{g.List, g.Clusters, g.Git, nil, nil, g.Selector, g.UnsupportedGenerators})
	if err != nil {
		return nil, err
	}
	n.ignoredTemplate, n.template = n.template != nil, nil
	return n, nil
}

// decodeStrict decodes JSON refusing unknown fields; a matrix or merge
// nested a second time shows up as one.
func decodeStrict(raw []byte, out any) error {
	strict, err := sigsjson.UnmarshalStrict(raw, out)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		msg := strict[0].Error()
		if strings.HasSuffix(msg, `matrix"`) || strings.HasSuffix(msg, `merge"`) {
			msg += " (matrix and merge nest only one level deep)"
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}

func checkMatrix(n *node) error {
	if len(n.matrix) != 2 {
		return fmt.Errorf("%s.matrix.generators: a matrix combines exactly two generators, not %d", n.field, len(n.matrix))
	}
	return nil
}

func checkMerge(n *node) error {
	if len(n.merge) < 2 {
		return fmt.Errorf("%s.merge.generators: a merge needs at least two generators, not %d", n.field, len(n.merge))
	}
	if len(n.mergeKeys) == 0 {
		return fmt.Errorf("%s.merge.mergeKeys: at least one merge key is required", n.field)
	}
	return nil
}

// run holds what one Generate call shares.
type run struct {
	ctx  context.Context
	in   Inputs
	flat bool // no goTemplate: flat parameters with dotted names
	eng  engine
	// repos caches the trees read during this call.
	repos map[[2]string]*repoTree
}

// generate returns the parameter sets of n. parent is the parameter set
// of the first matrix child when n is the second (nil otherwise); values
// may reference it.
func (r *run) generate(n *node, parent map[string]any) ([]paramSet, error) {
	var sets []paramSet
	var err error
	switch {
	case n.list != nil:
		sets, err = r.listParams(n)
	case n.clusters != nil:
		sets, err = r.clusterParams(n, parent)
	case n.git != nil:
		sets, err = r.gitParams(n, parent)
	case n.matrix != nil:
		sets, err = r.matrixParams(n, parent)
	case n.merge != nil:
		sets, err = r.mergeParams(n, parent)
	}
	if err != nil {
		return nil, err
	}
	if n.selector == nil {
		return sets, nil
	}
	kept := sets[:0]
	for _, s := range sets {
		ok, err := matchSelector(n.selector, s.Params)
		if err != nil {
			return nil, fmt.Errorf("%s.selector.%w", n.field, err)
		}
		if ok {
			kept = append(kept, s)
		}
	}
	return kept, nil
}

// listParams yields one set per element (and per item of elementsYaml).
func (r *run) listParams(n *node) ([]paramSet, error) {
	var sets []paramSet
	for i, el := range n.list.Elements {
		where := fmt.Sprintf("%s.list.elements[%d]", n.field, i)
		v, err := decodeJSON(el.Raw, r.flat)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: an element must be an object, not %s", where, describe(v))
		}
		sets = append(sets, paramSet{Params: paramsOf(obj, r.flat), Origin: where})
	}
	if strings.TrimSpace(n.list.ElementsYaml) != "" {
		where := n.field + ".list.elementsYaml"
		b, err := yaml.YAMLToJSON([]byte(n.list.ElementsYaml))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		v, err := decodeJSON(b, r.flat)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: want a list of objects, not %s", where, describe(v))
		}
		for i, it := range items {
			obj, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s[%d]: an element must be an object, not %s", where, i, describe(it))
			}
			sets = append(sets, paramSet{Params: paramsOf(obj, r.flat), Origin: fmt.Sprintf("%s[%d]", where, i)})
		}
	}
	return sets, nil
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// clusterParams yields one set per cluster whose labels match the
// selector. The in-cluster destination without a Secret has no labels,
// so only a selector that asks for nothing matches it.
func (r *run) clusterParams(n *node, parent map[string]any) ([]paramSet, error) {
	g := n.clusters
	var sets []paramSet
	for _, c := range r.in.Clusters {
		if c == nil {
			continue
		}
		ok, err := matchLabelSelector(&g.Selector, func(k string) (string, bool) {
			v, ok := c.Labels[k]
			return v, ok
		})
		if err != nil {
			return nil, fmt.Errorf("%s.clusters.selector.%w", n.field, err)
		}
		if !ok {
			continue
		}
		p := r.clusterParamSet(c)
		where := fmt.Sprintf("%s.clusters (cluster %s)", n.field, c.Name)
		if err := r.addValues(p, g.Values, parent, n.field+".clusters.values", where); err != nil {
			return nil, err
		}
		sets = append(sets, paramSet{Params: p, Origin: where})
	}
	return sets, nil
}

func (r *run) clusterParamSet(c *clusters.Cluster) map[string]any {
	labels := map[string]string{}
	for k, v := range c.Labels {
		labels[k] = v
	}
	annotations := map[string]string{}
	for k, v := range c.Annotations {
		if k != corev1.LastAppliedConfigAnnotation {
			annotations[k] = v
		}
	}
	if r.flat {
		p := map[string]any{
			"name":           c.Name,
			"nameNormalized": Normalize(c.Name),
			"server":         c.Server,
			"project":        c.Project,
		}
		for k, v := range labels {
			p["metadata.labels."+k] = v
		}
		for k, v := range annotations {
			p["metadata.annotations."+k] = v
		}
		return p
	}
	return map[string]any{
		"name":           c.Name,
		"nameNormalized": Normalize(c.Name),
		"server":         c.Server,
		"project":        c.Project,
		"metadata": map[string]any{
			"labels":      stringMap(labels),
			"annotations": stringMap(annotations),
		},
	}
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// addValues renders a generator's values with the set's own parameters
// (over the parent's, in a matrix) and adds them as values.<key>.
func (r *run) addValues(p map[string]any, values map[string]string, parent map[string]any, field, where string) error {
	if len(values) == 0 {
		return nil
	}
	ctx := r.over(parent, p)
	rendered := map[string]any{}
	for _, k := range sortedKeys(values) {
		v, err := r.eng.render(field+"."+k, values[k], ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		rendered[k] = v
	}
	if r.flat {
		for k, v := range rendered {
			p["values."+k] = v
		}
		return nil
	}
	if old, ok := p["values"].(map[string]any); ok {
		deepMerge(old, rendered)
		return nil
	}
	p["values"] = rendered
	return nil
}

// matrixParams combines every set of the first child with every set the
// second child yields for it; the second child's fields may use the
// first's parameters.
func (r *run) matrixParams(n *node, parent map[string]any) ([]paramSet, error) {
	first, second := n.matrix[0], n.matrix[1]
	left, err := r.generate(first, parent)
	if err != nil {
		return nil, err
	}
	templated := hasTags(interpolable(second)) || valuesHaveTags(second)
	var fixed []paramSet
	if !templated {
		if fixed, err = r.generate(second, parent); err != nil {
			return nil, err
		}
	}
	var out []paramSet
	for _, a := range left {
		right := fixed
		if templated {
			child, err := r.interpolate(second, a)
			if err != nil {
				return nil, err
			}
			if right, err = r.generate(child, r.over(parent, a.Params)); err != nil {
				return nil, err
			}
		}
		for _, b := range right {
			p, err := r.combine(a, b)
			if err != nil {
				return nil, fmt.Errorf("%s.matrix: %w", n.field, err)
			}
			out = append(out, paramSet{Params: p, Origin: a.Origin + " with " + b.Origin})
		}
	}
	return out, nil
}

// over returns the parameters of p over those of parent.
func (r *run) over(parent, p map[string]any) map[string]any {
	if parent == nil {
		return p
	}
	out := copyParams(parent)
	if r.flat {
		for k, v := range p {
			out[k] = v
		}
	} else {
		deepMerge(out, p)
	}
	return out
}

// valuesHaveTags tells whether a generator's values (or a child's) hold
// template tags, which may reference the first matrix child.
func valuesHaveTags(n *node) bool {
	switch {
	case n.git != nil:
		return hasTags(n.git.Values)
	case n.clusters != nil:
		return hasTags(n.clusters.Values)
	}
	for _, c := range append(append([]*node{}, n.matrix...), n.merge...) {
		if valuesHaveTags(c) {
			return true
		}
	}
	return false
}

// combine joins two matrix sets. Flat sets may repeat a parameter only
// with the same value; Go template sets merge deeply, the first
// generator's values winning, as in Argo CD.
func (r *run) combine(a, b paramSet) (map[string]any, error) {
	if !r.flat {
		p := copyParams(b.Params)
		deepMerge(p, a.Params)
		return p, nil
	}
	p := make(map[string]any, len(a.Params)+len(b.Params))
	for k, v := range a.Params {
		p[k] = v
	}
	for _, k := range sortedKeys(b.Params) {
		v := b.Params[k]
		if old, ok := p[k]; ok && flatString(old) != flatString(v) {
			return nil, fmt.Errorf("parameter %q is %q from %s but %q from %s (set pathParamPrefix or rename one)", k, flatString(old), a.Origin, flatString(v), b.Origin)
		}
		p[k] = v
	}
	return p, nil
}

// interpolable is what of a child generator the first matrix child's
// parameters are substituted into: everything but values (rendered
// later, with both sets) and templates.
func interpolable(n *node) any {
	parts := map[string]any{}
	if n.selector != nil {
		parts["selector"] = n.selector
	}
	switch {
	case n.list != nil:
		parts["elements"] = n.list.Elements
		parts["elementsYaml"] = n.list.ElementsYaml
	case n.clusters != nil:
		parts["selector"] = n.clusters.Selector
	case n.git != nil:
		g := *n.git
		g.Values, g.Template = nil, nil
		parts["git"] = g
	case n.matrix != nil:
		parts["matrix"] = childParts(n.matrix)
	case n.merge != nil:
		parts["merge"] = childParts(n.merge)
		parts["mergeKeys"] = n.mergeKeys
	}
	return parts
}

func childParts(children []*node) []any {
	var out []any
	for _, c := range children {
		out = append(out, interpolable(c))
	}
	return out
}

// interpolate returns a copy of n with the parameters of set substituted
// into its fields (see interpolable).
func (r *run) interpolate(n *node, set paramSet) (*node, error) {
	c := *n
	fail := func(err error) (*node, error) {
		return nil, fmt.Errorf("%s: with the parameters of %s: %w", n.field, set.Origin, err)
	}
	if n.selector != nil {
		c.selector = &metav1.LabelSelector{}
		if err := renderJSON(r.eng, n.field+".selector", n.selector, c.selector, set.Params); err != nil {
			return fail(err)
		}
	}
	switch {
	case n.list != nil:
		l := *n.list
		l.Elements = nil
		if err := renderJSON(r.eng, n.field+".list.elements", n.list.Elements, &l.Elements, set.Params); err != nil {
			return fail(err)
		}
		s, err := r.eng.render(n.field+".list.elementsYaml", n.list.ElementsYaml, set.Params)
		if err != nil {
			return fail(err)
		}
		l.ElementsYaml = s
		c.list = &l
	case n.clusters != nil:
		g := *n.clusters
		g.Selector = metav1.LabelSelector{}
		if err := renderJSON(r.eng, n.field+".clusters.selector", n.clusters.Selector, &g.Selector, set.Params); err != nil {
			return fail(err)
		}
		c.clusters = &g
	case n.git != nil:
		in := *n.git
		in.Values, in.Template = nil, nil
		var g v1alpha1.GitGenerator
		if err := renderJSON(r.eng, n.field+".git", in, &g, set.Params); err != nil {
			return fail(err)
		}
		g.Values, g.Template = n.git.Values, n.git.Template
		c.git = &g
	case n.matrix != nil:
		c.matrix = nil
		for _, ch := range n.matrix {
			x, err := r.interpolate(ch, set)
			if err != nil {
				return nil, err
			}
			c.matrix = append(c.matrix, x)
		}
	case n.merge != nil:
		c.merge = nil
		for _, ch := range n.merge {
			x, err := r.interpolate(ch, set)
			if err != nil {
				return nil, err
			}
			c.merge = append(c.merge, x)
		}
		c.mergeKeys = nil
		for i, k := range n.mergeKeys {
			s, err := r.eng.render(fmt.Sprintf("%s.merge.mergeKeys[%d]", n.field, i), k, set.Params)
			if err != nil {
				return fail(err)
			}
			c.mergeKeys = append(c.mergeKeys, s)
		}
	}
	return &c, nil
}

// mergeParams starts from the first child's sets and, for each later
// child in order, overrides the base sets whose merge keys have the same
// values as one of its sets. Sets of later children that match no base
// set are dropped.
func (r *run) mergeParams(n *node, parent map[string]any) ([]paramSet, error) {
	var base []paramSet
	var baseIdx map[string]int
	for i, ch := range n.merge {
		sets, err := r.generate(ch, parent)
		if err != nil {
			return nil, err
		}
		idx := map[string]int{}
		for j, s := range sets {
			key, err := mergeKey(n.mergeKeys, s.Params)
			if err != nil {
				return nil, fmt.Errorf("%s.merge: %w", n.field, err)
			}
			if prev, dup := idx[key]; dup {
				return nil, fmt.Errorf("%s.merge: %s and %s have the same merge key values %s; merge keys must identify one parameter set per generator", n.field, sets[prev].Origin, s.Origin, key)
			}
			idx[key] = j
		}
		if i == 0 {
			base, baseIdx = sets, idx
			continue
		}
		for key, bi := range baseIdx {
			j, ok := idx[key]
			if !ok {
				continue
			}
			over := sets[j]
			p := r.over(base[bi].Params, over.Params)
			base[bi] = paramSet{Params: p, Origin: base[bi].Origin + " merged with " + over.Origin}
		}
	}
	return base, nil
}

// mergeKey is the JSON of the merge keys' values in a set.
func mergeKey(keys []string, params map[string]any) (string, error) {
	vals := make([]any, len(keys))
	for i, k := range keys {
		v, _ := lookup(params, k)
		vals[i] = v
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(vals); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}
