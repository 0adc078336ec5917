package controller

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigsjson "sigs.k8s.io/json"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// unsupported lists fields the CRD keeps so they can be reported.
var unsupported = map[string]string{
	"spec.sources":                             "several sources in one Application",
	"spec.source.plugin":                       "config management plugins",
	"spec.source.chart":                        "charts from a Helm repository (use a chart stored in Git)",
	"spec.source.directory.jsonnet":            "Jsonnet",
	"spec.syncPolicy.managedNamespaceMetadata": "managedNamespaceMetadata",
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
	spec, _ := raw.Object["spec"].(map[string]any)
	b, err := json.Marshal(map[string]any{"spec": spec})
	if err != nil {
		return append(msgs, err.Error())
	}
	var strict struct {
		Spec v1alpha1.ApplicationSpec `json:"spec"`
	}
	strictErrs, err := sigsjson.UnmarshalStrict(b, &strict)
	if err != nil {
		return append(msgs, fmt.Sprintf("spec: %v", err))
	}
	for _, e := range strictErrs {
		msgs = append(msgs, fmt.Sprintf("%v: tether does not support this field", e))
	}
	sort.Strings(msgs)
	return msgs
}
