package health

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// serviceHealth waits for a LoadBalancer Service to get an address; other
// Service types are Healthy as soon as they exist.
func serviceHealth(s *corev1.Service) Status {
	if s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) == 0 {
		return progressing("Waiting for load balancer to get an address")
	}
	return healthy("")
}

// ingressHealth waits for an address, as Argo CD does; on a cluster without
// an ingress controller an Ingress stays Progressing.
func ingressHealth(i *networkingv1.Ingress) Status {
	if len(i.Status.LoadBalancer.Ingress) == 0 {
		return progressing("Waiting for ingress to get an address")
	}
	return healthy("")
}

// pvcHealth follows the claim phase.
func pvcHealth(c *corev1.PersistentVolumeClaim) Status {
	switch c.Status.Phase {
	case corev1.ClaimBound:
		return healthy("")
	case corev1.ClaimLost:
		return degraded("PersistentVolumeClaim lost its volume")
	case corev1.ClaimPending, "":
		return progressing("Waiting for volume to be bound")
	default:
		return unknown("Unknown phase %q", c.Status.Phase)
	}
}

// namespaceHealth follows the namespace phase.
func namespaceHealth(n *corev1.Namespace) Status {
	switch n.Status.Phase {
	case corev1.NamespaceActive, "":
		return healthy("")
	case corev1.NamespaceTerminating:
		return progressing("Namespace is terminating")
	default:
		return unknown("Unknown phase %q", n.Status.Phase)
	}
}
