package health

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// apiServiceHealth follows the Available condition of an aggregated API.
func apiServiceHealth(obj *unstructured.Unstructured) Status {
	c, ok := findCondition(conditionsOf(obj), "Available")
	switch {
	case !ok:
		return progressing("Waiting for APIService to become available")
	case c.Status == "True":
		return healthy("")
	case c.Status == "False":
		return degraded("%s", c.describe())
	default:
		return progressing("%s", c.describe())
	}
}

// crdHealth waits for a CustomResourceDefinition to be served; names that
// clash with another CRD will never be accepted.
func crdHealth(obj *unstructured.Unstructured) Status {
	conds := conditionsOf(obj)
	if c, ok := findCondition(conds, "NamesAccepted"); ok && c.Status == "False" {
		return degraded("%s", c.describe())
	}
	if hasCondition(conds, "Established", "True") {
		return healthy("")
	}
	return progressing("Waiting for CustomResourceDefinition to be established")
}
