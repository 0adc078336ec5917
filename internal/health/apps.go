package health

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// replicasOf returns the desired replica count; the API server defaults an
// unset count to 1.
func replicasOf(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// deploymentHealth follows `kubectl rollout status`, as Argo CD does.
func deploymentHealth(d *appsv1.Deployment) Status {
	if d.Spec.Paused {
		return suspended("Deployment is paused")
	}
	if d.Status.ObservedGeneration < d.Generation {
		return progressing("Waiting for rollout to be observed: generation %d, observed %d",
			d.Generation, d.Status.ObservedGeneration)
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return degraded("Deployment %q exceeded its progress deadline", d.Name)
		}
	}
	want := replicasOf(d.Spec.Replicas)
	st := d.Status
	switch {
	case st.UpdatedReplicas < want:
		return progressing("Waiting for rollout to finish: %d out of %d new replicas have been updated...",
			st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		return progressing("Waiting for rollout to finish: %d old replicas are pending termination...",
			st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < st.UpdatedReplicas:
		return progressing("Waiting for rollout to finish: %d of %d updated replicas are available...",
			st.AvailableReplicas, st.UpdatedReplicas)
	}
	return healthy("")
}

// statefulSetHealth follows `kubectl rollout status`, and calls OnDelete
// sets Healthy once their pods are ready, since no rollout is driven.
func statefulSetHealth(s *appsv1.StatefulSet) Status {
	st := s.Status
	if st.ObservedGeneration < s.Generation {
		return progressing("Waiting for statefulset spec update to be observed...")
	}
	want := replicasOf(s.Spec.Replicas)
	if st.ReadyReplicas < want {
		return progressing("Waiting for %d pods to be ready...", want-st.ReadyReplicas)
	}
	if s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return healthy("StatefulSet has %d ready pods", st.ReadyReplicas)
	}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil && *ru.Partition > 0 {
		// Pods below the partition keep the old revision on purpose.
		toUpdate := max(want-*ru.Partition, 0)
		if st.UpdatedReplicas < toUpdate {
			return progressing("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...",
				st.UpdatedReplicas, toUpdate)
		}
		return healthy("Partitioned roll out complete: %d new pods have been updated...", st.UpdatedReplicas)
	}
	if st.UpdateRevision != st.CurrentRevision {
		return progressing("Waiting for statefulset rolling update to complete %d pods at revision %s...",
			st.UpdatedReplicas, st.UpdateRevision)
	}
	return healthy("StatefulSet rolling update complete %d pods at revision %s...", st.CurrentReplicas, st.CurrentRevision)
}

// daemonSetHealth follows `kubectl rollout status`; an OnDelete set is
// Healthy once observed, since no rollout is driven.
func daemonSetHealth(d *appsv1.DaemonSet) Status {
	st := d.Status
	if st.ObservedGeneration < d.Generation {
		return progressing("Waiting for rollout to be observed: generation %d, observed %d",
			d.Generation, st.ObservedGeneration)
	}
	if d.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		return healthy("DaemonSet %d out of %d new pods have been updated",
			st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	}
	if st.UpdatedNumberScheduled < st.DesiredNumberScheduled {
		return progressing("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...",
			d.Name, st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	}
	if st.NumberAvailable < st.DesiredNumberScheduled || st.NumberUnavailable > 0 {
		return progressing("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...",
			d.Name, st.NumberAvailable, st.DesiredNumberScheduled)
	}
	return healthy("")
}

// replicaSetHealth reports a failure to create pods as Degraded, and
// waits for every desired pod to be available.
func replicaSetHealth(r *appsv1.ReplicaSet) Status {
	st := r.Status
	if st.ObservedGeneration < r.Generation {
		return progressing("Waiting for rollout to be observed: generation %d, observed %d",
			r.Generation, st.ObservedGeneration)
	}
	for _, c := range st.Conditions {
		if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
			return degraded("%s", firstNonEmpty(c.Message, c.Reason, "ReplicaSet cannot create pods"))
		}
	}
	if want := replicasOf(r.Spec.Replicas); st.AvailableReplicas < want {
		return progressing("Waiting for rollout to finish: %d out of %d new replicas are available...",
			st.AvailableReplicas, want)
	}
	return healthy("")
}
