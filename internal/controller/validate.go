package controller

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/plan"
)

// unsupportedFields returns one message per field of the Application that
// tether does not support or does not know, naming the field.
func unsupportedFields(app *v1alpha1.Application, raw *unstructured.Unstructured) []string {
	var msgs []string
	for _, f := range appSources(app) {
		if f.src.Plugin != nil {
			msgs = append(msgs, fmt.Sprintf("field %s.plugin (config management plugins) is not supported", f.field))
		}
		if f.src.Directory != nil && f.src.Directory.Jsonnet != nil {
			msgs = append(msgs, fmt.Sprintf("field %s.directory.jsonnet (Jsonnet) is not supported", f.field))
		}
	}
	msgs = append(msgs, unknownFields[v1alpha1.ApplicationSpec](raw.Object, "spec", "tether does not support this field")...)
	sort.Strings(msgs)
	return msgs
}

// fieldSource is one source of an app with the field that holds it.
type fieldSource struct {
	field string // "spec.source" or "spec.sources[i]"
	src   *v1alpha1.ApplicationSource
}

// appSources returns the sources the app is rendered from: spec.sources
// when set (spec.source is then ignored, as in Argo CD), else spec.source.
func appSources(app *v1alpha1.Application) []fieldSource {
	if app.Spec.HasMultipleSources() {
		out := make([]fieldSource, len(app.Spec.Sources))
		for i := range app.Spec.Sources {
			out[i] = fieldSource{fmt.Sprintf("spec.sources[%d]", i), &app.Spec.Sources[i]}
		}
		return out
	}
	if app.Spec.Source == nil {
		return nil
	}
	return []fieldSource{{"spec.source", app.Spec.Source}}
}

// refName is what a source's ref may be: it is written after "$" at the
// start of a value file path.
var refName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// sourceProblems checks the app's source or sources: each needs a
// repoURL; a chart goes without path, directory and kustomize; refs are
// unique, valid, on Git sources, and every "$ref/..." value file names one.
func sourceProblems(app *v1alpha1.Application) []string {
	srcs := appSources(app)
	if len(srcs) == 0 {
		return []string{"spec.source: required (or spec.sources)"}
	}
	var msgs []string
	refs := map[string]int{}
	rendered := 0
	for i, f := range srcs {
		if f.src.RepoURL == "" {
			msgs = append(msgs, f.field+".repoURL: required")
		}
		msgs = append(msgs, chartSourceProblems(f.field, f.src)...)
		if !app.Spec.HasMultipleSources() {
			if f.src.Ref != "" {
				msgs = append(msgs, fmt.Sprintf("%s.ref: %q names a source for the value files of other sources; it needs spec.sources", f.field, f.src.Ref))
			}
			rendered++
			continue
		}
		if !f.src.RefOnly() {
			rendered++
		}
		if f.src.Ref == "" {
			continue
		}
		switch {
		case !refName.MatchString(f.src.Ref):
			msgs = append(msgs, fmt.Sprintf("%s.ref: %q may hold only letters, digits, '-' and '_'", f.field, f.src.Ref))
		case f.src.Chart != "":
			msgs = append(msgs, fmt.Sprintf("%s.ref: a chart from a Helm repository cannot lend its files; a ref source is a Git repository", f.field))
		default:
			if j, dup := refs[f.src.Ref]; dup {
				msgs = append(msgs, fmt.Sprintf("%s.ref: %q is also the ref of spec.sources[%d]", f.field, f.src.Ref, j))
			}
			refs[f.src.Ref] = i
		}
	}
	if rendered == 0 {
		msgs = append(msgs, "spec.sources: every source only lends its files (a ref without path or chart), so nothing would be rendered")
	}
	for _, f := range srcs {
		if f.src.Helm == nil {
			continue
		}
		for n, vf := range f.src.Helm.ValueFiles {
			if !strings.HasPrefix(vf, "$") {
				continue
			}
			ref, _, _ := strings.Cut(vf[1:], "/")
			field := fmt.Sprintf("%s.helm.valueFiles[%d]", f.field, n)
			switch _, ok := refs[ref]; {
			case !app.Spec.HasMultipleSources():
				msgs = append(msgs, fmt.Sprintf("%s: %q reads a file of another source, which needs spec.sources with a source whose ref is %q", field, vf, ref))
			case !ok:
				msgs = append(msgs, fmt.Sprintf("%s: %q names ref %q, which no source of spec.sources has", field, vf, ref))
			}
		}
	}
	return msgs
}

// chartSourceProblems names the fields that cannot go with a chart from a
// Helm repository: it is rendered by Helm from the chart's own files.
func chartSourceProblems(field string, src *v1alpha1.ApplicationSource) []string {
	if src == nil || src.Chart == "" {
		return nil
	}
	var msgs []string
	if src.Path != "" && src.Path != "." {
		msgs = append(msgs, fmt.Sprintf("%s.path: %q cannot be used with %s.chart (a chart from a Helm repository is rendered from its own files; value files are relative to the chart)", field, src.Path, field))
	}
	if src.Directory != nil {
		msgs = append(msgs, fmt.Sprintf("%s.directory: cannot be used with %s.chart (a chart is rendered by Helm)", field, field))
	}
	if src.Kustomize != nil {
		msgs = append(msgs, fmt.Sprintf("%s.kustomize: cannot be used with %s.chart (a chart is rendered by Helm)", field, field))
	}
	return msgs
}

// unknownFields returns one message per field of obj[field] that T does not
// have, named by its path (`unknown field "spec.source.frobnicate"`) and
// followed by note; a value that does not decode at all is one message.
func unknownFields[T any](obj map[string]any, field, note string) []string {
	v, ok := obj[field]
	if !ok {
		return nil
	}
	b, err := json.Marshal(map[string]any{field: v})
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", field, err)}
	}
	var strict map[string]T // the key keeps the field's name in the paths
	errs, err := sigsjson.UnmarshalStrict(b, &strict)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", field, err)}
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%v: %s", e, note))
	}
	sort.Strings(out)
	return out
}

// namespaceMetadataProblems checks spec.syncPolicy.managedNamespaceMetadata:
// it needs CreateNamespace=true (tether labels only the namespace it would
// create), and its keys and values must be valid, so a bad one is named
// here rather than refused mid-sync.
func namespaceMetadataProblems(sp *v1alpha1.SyncPolicy) []string {
	if sp == nil || sp.ManagedNamespaceMetadata == nil {
		return nil
	}
	const field = "spec.syncPolicy.managedNamespaceMetadata"
	var msgs []string
	if opts, err := plan.ParseSyncOptions(sp.SyncOptions...); err == nil && !opts.Bool("CreateNamespace") {
		msgs = append(msgs, field+": needs the sync option CreateNamespace=true")
	}
	m := sp.ManagedNamespaceMetadata
	for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			msgs = append(msgs, fmt.Sprintf("%s.labels: key %q: %s", field, k, strings.Join(errs, "; ")))
		}
		if errs := validation.IsValidLabelValue(m.Labels[k]); len(errs) > 0 {
			msgs = append(msgs, fmt.Sprintf("%s.labels[%s]: value %q: %s", field, k, m.Labels[k], strings.Join(errs, "; ")))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m.Annotations)) {
		if errs := validation.IsQualifiedName(strings.ToLower(k)); len(errs) > 0 {
			msgs = append(msgs, fmt.Sprintf("%s.annotations: key %q: %s", field, k, strings.Join(errs, "; ")))
		}
	}
	return msgs
}

// operationProblems returns one message per field of the raw Application's
// operation that tether does not know (an Argo CD sync strategy, say), so
// the operation fails naming it instead of running without it.
func operationProblems(raw *unstructured.Unstructured) []string {
	return unknownFields[v1alpha1.Operation](raw.Object, "operation", "tether does not support this field")
}
