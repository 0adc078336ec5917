package health

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// hpaConditionsAnnotation is where autoscaling/v1 keeps the conditions that
// autoscaling/v2 has in status.conditions.
const hpaConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions"

// hpaHealth reads the HorizontalPodAutoscaler conditions: a target it cannot
// scale or metrics it cannot read make it Degraded; a target scaled to zero
// turns autoscaling off, which is Suspended.
func hpaHealth(obj *unstructured.Unstructured) Status {
	if observed, ok := nestedInt(obj.Object, "status", "observedGeneration"); ok && observed < obj.GetGeneration() {
		return progressing("Waiting for autoscaler spec update to be observed...")
	}
	conds := conditionsOf(obj)
	if len(conds) == 0 {
		conds = conditionsFromJSON(obj.GetAnnotations()[hpaConditionsAnnotation])
	}
	if c, ok := findCondition(conds, "AbleToScale"); ok && c.Status == "False" {
		return degraded("%s", c.describe())
	}
	if c, ok := findCondition(conds, "ScalingActive"); ok && c.Status == "False" {
		if c.Reason == "ScalingDisabled" {
			return suspended("%s", c.describe())
		}
		return degraded("%s", c.describe())
	}
	if len(conds) == 0 {
		return progressing("Waiting to autoscale")
	}
	return healthy("")
}
