package controller

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/plan"
)

// unsupported lists fields the CRD keeps so they can be reported.
var unsupported = map[string]string{
	"spec.sources":                  "several sources in one Application",
	"spec.source.plugin":            "config management plugins",
	"spec.source.directory.jsonnet": "Jsonnet",
}

// unsupportedFields returns one message per field of the raw Application
// that tether does not support or does not know, naming the field.
func unsupportedFields(raw *unstructured.Unstructured) []string {
	var msgs []string
	for path, what := range unsupported {
		if _, found, _ := unstructured.NestedFieldNoCopy(raw.Object, strings.Split(path, ".")...); found {
			msgs = append(msgs, fmt.Sprintf("field %s (%s) is not supported", path, what))
		}
	}
	msgs = append(msgs, unknownFields[v1alpha1.ApplicationSpec](raw.Object, "spec", "tether does not support this field")...)
	sort.Strings(msgs)
	return msgs
}

// chartSourceProblems names the fields that cannot go with a chart from a
// Helm repository: it is rendered by Helm from the chart's own files.
func chartSourceProblems(src *v1alpha1.ApplicationSource) []string {
	if src == nil || src.Chart == "" {
		return nil
	}
	var msgs []string
	if src.Path != "" && src.Path != "." {
		msgs = append(msgs, fmt.Sprintf("spec.source.path: %q cannot be used with spec.source.chart (a chart from a Helm repository is rendered from its own files; value files are relative to the chart)", src.Path))
	}
	if src.Directory != nil {
		msgs = append(msgs, "spec.source.directory: cannot be used with spec.source.chart (a chart is rendered by Helm)")
	}
	if src.Kustomize != nil {
		msgs = append(msgs, "spec.source.kustomize: cannot be used with spec.source.chart (a chart is rendered by Helm)")
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
