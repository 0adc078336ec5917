package health

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// checkFunc computes the health of one live object of a known kind.
type checkFunc func(obj *unstructured.Unstructured) Status

// checks holds the kinds with rules of their own. Older groups that served
// the same kinds (extensions) are read with the current types: the status
// fields the rules look at kept their names.
var checks = map[schema.GroupKind]checkFunc{
	{Group: "apps", Kind: "Deployment"}:                               typed(deploymentHealth),
	{Group: "extensions", Kind: "Deployment"}:                         typed(deploymentHealth),
	{Group: "apps", Kind: "StatefulSet"}:                              typed(statefulSetHealth),
	{Group: "apps", Kind: "DaemonSet"}:                                typed(daemonSetHealth),
	{Group: "extensions", Kind: "DaemonSet"}:                          typed(daemonSetHealth),
	{Group: "apps", Kind: "ReplicaSet"}:                               typed(replicaSetHealth),
	{Group: "extensions", Kind: "ReplicaSet"}:                         typed(replicaSetHealth),
	{Group: "", Kind: "Pod"}:                                          typed(podHealth),
	{Group: "", Kind: "Service"}:                                      typed(serviceHealth),
	{Group: "", Kind: "PersistentVolumeClaim"}:                        typed(pvcHealth),
	{Group: "", Kind: "Namespace"}:                                    typed(namespaceHealth),
	{Group: "networking.k8s.io", Kind: "Ingress"}:                     typed(ingressHealth),
	{Group: "extensions", Kind: "Ingress"}:                            typed(ingressHealth),
	{Group: "batch", Kind: "Job"}:                                     typed(jobHealth),
	{Group: "apiregistration.k8s.io", Kind: "APIService"}:             apiServiceHealth,
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: crdHealth,
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}:           hpaHealth,
}

// Compute returns the health of one live object. A nil object is Missing:
// it is desired but does not exist. An object being deleted is Progressing
// whatever its kind.
func Compute(obj *unstructured.Unstructured) Status {
	if obj == nil {
		return Status{Status: v1alpha1.HealthMissing, Message: "Resource does not exist"}
	}
	if obj.GetDeletionTimestamp() != nil {
		return progressing("Pending deletion")
	}
	if check, ok := checks[obj.GroupVersionKind().GroupKind()]; ok {
		return check(obj)
	}
	return genericHealth(obj)
}

// typed adapts a rule written on a k8s.io/api struct to unstructured input.
// An object that does not fit the struct is Unknown: nothing can be said
// about its health.
func typed[T any](check func(*T) Status) checkFunc {
	return func(obj *unstructured.Unstructured) Status {
		var v T
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &v); err != nil {
			return unknown("Cannot read %s status: %v", obj.GetKind(), err)
		}
		return check(&v)
	}
}
