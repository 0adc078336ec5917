package health

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// genericHealth judges kinds without rules of their own by the kstatus
// conventions most controllers follow. An object with no status to speak
// of (ConfigMap, Secret, RBAC, ServiceAccount) is Healthy.
func genericHealth(obj *unstructured.Unstructured) Status {
	if observed, ok := nestedInt(obj.Object, "status", "observedGeneration"); ok && observed < obj.GetGeneration() {
		return progressing("Waiting for spec update to be observed: generation %d, observed %d",
			obj.GetGeneration(), observed)
	}
	conds := conditionsOf(obj)
	if c, ok := findCondition(conds, "Stalled"); ok && c.Status == "True" {
		return degraded("%s", c.describe())
	}
	reconciling, isReconciling := findCondition(conds, "Reconciling")
	isReconciling = isReconciling && reconciling.Status == "True"
	if c, ok := findCondition(conds, "Ready"); ok {
		switch {
		case c.Status == "True":
			return healthy("%s", c.Message)
		case c.Status == "False" && !isReconciling:
			return degraded("%s", c.describe())
		case isReconciling:
			return progressing("%s", firstNonEmpty(reconciling.Message, c.describe()))
		default:
			// Ready is Unknown: the controller has not decided yet.
			return progressing("%s", c.describe())
		}
	}
	if isReconciling {
		return progressing("%s", reconciling.describe())
	}
	if c, ok := findCondition(conds, "Available"); ok && c.Status == "False" {
		return degraded("%s", c.describe())
	}
	return healthy("")
}
