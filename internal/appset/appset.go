package appset

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/clusters"
)

// Inputs are what the generators read from outside the ApplicationSet.
type Inputs struct {
	// Clusters are the destinations the clusters generator chooses
	// from: every registered cluster, the in-cluster one included (as
	// clusters.List returns them). A cluster without a Secret has no
	// labels, so a selector asking for a label leaves it out.
	Clusters []*clusters.Cluster
	// Repos reads the repositories of git generators; nil makes any git
	// generator fail.
	Repos Repos
}

// Generate renders the Applications of set, in generator order. It is
// all or nothing: a template error, an invalid Application, or two
// parameter sets rendering the same Application name return an error
// naming the field and the parameter sets, and no Applications.
//
// Each Application has apiVersion and kind set and the set's namespace
// when the template names none; owner references and the like are the
// caller's business.
func Generate(ctx context.Context, set *v1alpha1.ApplicationSet, in Inputs) ([]*v1alpha1.Application, error) {
	eng, err := newEngine(set.Spec.GoTemplate, set.Spec.GoTemplateOptions)
	if err != nil {
		return nil, err
	}
	r := &run{ctx: ctx, in: in, flat: !set.Spec.GoTemplate, eng: eng, repos: map[[2]string]*repoTree{}}
	nodes, err := buildAll(set)
	if err != nil {
		return nil, err
	}
	var apps []*v1alpha1.Application
	origins := map[string]string{} // namespace/name -> origin
	for _, n := range nodes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sets, err := r.generate(n, nil)
		if err != nil {
			return nil, err
		}
		tmpl, err := templateTree(set, n)
		if err != nil {
			return nil, err
		}
		for _, ps := range sets {
			app, err := r.renderApp(set, tmpl, ps)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ps.Origin, err)
			}
			if err := Validate(app); err != nil {
				return nil, fmt.Errorf("%s: %w", ps.Origin, err)
			}
			key := app.Namespace + "/" + app.Name
			if prev, dup := origins[key]; dup {
				return nil, fmt.Errorf("%s and %s both render Application %s; make metadata.name tell them apart", prev, ps.Origin, key)
			}
			origins[key] = ps.Origin
			apps = append(apps, app)
		}
	}
	return apps, nil
}

// Warnings lists what Generate accepts but ignores, as Argo CD does:
// templates on the children of matrix and merge generators.
func Warnings(set *v1alpha1.ApplicationSet) []string {
	nodes, err := buildAll(set)
	if err != nil {
		return nil
	}
	var out []string
	var walk func(n *node)
	walk = func(n *node) {
		if n.ignoredTemplate {
			out = append(out, fmt.Sprintf("%s.%s.template: ignored; templates of matrix and merge children do not apply (set it on the matrix or merge)", n.field, n.kind()))
		}
		for _, c := range append(append([]*node{}, n.matrix...), n.merge...) {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return out
}

func buildAll(set *v1alpha1.ApplicationSet) ([]*node, error) {
	var nodes []*node
	for i := range set.Spec.Generators {
		n, err := buildTop(fmt.Sprintf("spec.generators[%d]", i), &set.Spec.Generators[i])
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// templateTree is spec.template with the generator's template merged
// over it: the generator's non-empty fields win.
func templateTree(set *v1alpha1.ApplicationSet, n *node) (map[string]any, error) {
	base, err := toTree(set.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("spec.template: %w", err)
	}
	m, _ := base.(map[string]any)
	if n.template == nil {
		return m, nil
	}
	over, err := toTree(n.template)
	if err != nil {
		return nil, fmt.Errorf("%s.%s.template: %w", n.field, n.kind(), err)
	}
	o, _ := over.(map[string]any)
	return mergeOverride(m, o), nil
}

// renderApp substitutes one parameter set into the template and applies
// the template patch.
func (r *run) renderApp(set *v1alpha1.ApplicationSet, tmpl map[string]any, ps paramSet) (*v1alpha1.Application, error) {
	rendered, err := renderTree(r.eng, "spec.template", tmpl, ps.Params)
	if err != nil {
		return nil, err
	}
	t, _ := rendered.(map[string]any)
	obj := map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       v1alpha1.ApplicationKind,
		"metadata":   t["metadata"],
		"spec":       t["spec"],
	}
	if obj["metadata"] == nil {
		obj["metadata"] = map[string]any{}
	}
	if strings.TrimSpace(set.Spec.TemplatePatch) != "" {
		text, err := r.eng.render("spec.templatePatch", set.Spec.TemplatePatch, ps.Params)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(text) != "" {
			j, err := yaml.YAMLToJSON([]byte(text))
			if err != nil {
				return nil, fmt.Errorf("spec.templatePatch: the rendered patch is not valid YAML or JSON: %w", err)
			}
			var patch any
			if err := json.Unmarshal(j, &patch); err != nil {
				return nil, fmt.Errorf("spec.templatePatch: the rendered patch is not valid YAML or JSON: %w", err)
			}
			pm, ok := patch.(map[string]any)
			if !ok && patch != nil {
				return nil, fmt.Errorf("spec.templatePatch: the rendered patch is %s, not an object", describe(patch))
			}
			if spec, ok := pm["spec"].(map[string]any); ok {
				if _, ok := spec["project"]; ok {
					return nil, fmt.Errorf("spec.templatePatch: spec.project cannot be patched; set it in spec.template")
				}
			}
			for _, k := range []string{"apiVersion", "kind"} {
				delete(pm, k)
			}
			obj = mergePatch(obj, pm).(map[string]any)
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	app := &v1alpha1.Application{}
	strict, err := sigsjson.UnmarshalStrict(b, app)
	if err != nil {
		return nil, fmt.Errorf("the rendered Application: %w", err)
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		sort.Strings(msgs)
		return nil, fmt.Errorf("the rendered Application: %s", strings.Join(msgs, "; "))
	}
	if app.Namespace == "" {
		app.Namespace = set.Namespace
	}
	return app, nil
}

// Validate checks what the API server and the controller would refuse in
// a generated Application; the error names the field.
func Validate(app *v1alpha1.Application) error {
	if app.Name == "" {
		return fmt.Errorf("metadata.name is empty")
	}
	if errs := validation.IsDNS1123Subdomain(app.Name); len(errs) > 0 {
		return fmt.Errorf("metadata.name %q is not a valid Application name: %s", app.Name, strings.Join(errs, "; "))
	}
	if app.Namespace != "" {
		if errs := validation.IsDNS1123Label(app.Namespace); len(errs) > 0 {
			return fmt.Errorf("metadata.namespace %q is not a valid namespace: %s", app.Namespace, strings.Join(errs, "; "))
		}
	}
	for _, k := range sortedKeys(app.Labels) {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fmt.Errorf("metadata.labels: key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(app.Labels[k]); len(errs) > 0 {
			return fmt.Errorf("metadata.labels[%s]: value %q: %s", k, app.Labels[k], strings.Join(errs, "; "))
		}
	}
	for _, k := range sortedKeys(app.Annotations) {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fmt.Errorf("metadata.annotations: key %q: %s", k, strings.Join(errs, "; "))
		}
	}
	if d := app.Spec.Destination; d.Server != "" && d.Name != "" {
		return fmt.Errorf("spec.destination: set server or name, not both (server %q, name %q)", d.Server, d.Name)
	}
	return nil
}
