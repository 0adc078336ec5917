package health

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// badWaitingReasons are the container waiting reasons that will not clear
// by themselves. Reasons starting with "Err" or ending in "Error" or
// "BackOff" count too (see isBadWaiting).
var badWaitingReasons = map[string]bool{
	"CrashLoopBackOff":           true,
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
	"CreateContainerConfigError": true,
	"InvalidImageName":           true,
}

func isBadWaiting(reason string) bool {
	return badWaitingReasons[reason] ||
		strings.HasPrefix(reason, "Err") ||
		strings.HasSuffix(reason, "Error") ||
		strings.HasSuffix(reason, "BackOff")
}

// podHealth follows the pod phase; a running pod that restarts forever is
// Healthy only when Ready.
func podHealth(p *corev1.Pod) Status {
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return healthy("%s", p.Status.Message)
	case corev1.PodFailed:
		return degraded("%s", firstNonEmpty(p.Status.Message, terminatedMessage(p), "Pod failed"))
	case corev1.PodPending, corev1.PodRunning:
		if msg := stuckContainers(p); msg != "" {
			return degraded("%s", msg)
		}
		if p.Status.Phase == corev1.PodPending {
			return progressing("%s", firstNonEmpty(p.Status.Message, "Pod is pending"))
		}
		policy := p.Spec.RestartPolicy
		if policy != "" && policy != corev1.RestartPolicyAlways {
			// The pod runs to completion; it is progressing until it does.
			return progressing("Pod is running")
		}
		for _, c := range p.Status.Conditions {
			if c.Type != corev1.PodReady {
				continue
			}
			if c.Status == corev1.ConditionTrue {
				return healthy("")
			}
			return progressing("%s", firstNonEmpty(c.Message, "Waiting for pod to be ready"))
		}
		return progressing("Waiting for pod to be ready")
	default:
		return unknown("%s", firstNonEmpty(p.Status.Message, "Pod phase is unknown"))
	}
}

// stuckContainers describes the containers waiting for a reason that will
// not clear by itself, or returns "" when there are none.
func stuckContainers(p *corev1.Pod) string {
	var msgs []string
	for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range statuses {
			w := cs.State.Waiting
			if w == nil || !isBadWaiting(w.Reason) {
				continue
			}
			msg := fmt.Sprintf("container %q: %s", cs.Name, w.Reason)
			if w.Message != "" {
				msg += ": " + w.Message
			}
			msgs = append(msgs, msg)
		}
	}
	return strings.Join(msgs, "; ")
}

// terminatedMessage describes the containers that exited with an error.
func terminatedMessage(p *corev1.Pod) string {
	var msgs []string
	for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range statuses {
			t := cs.State.Terminated
			if t == nil || t.ExitCode == 0 {
				continue
			}
			msg := fmt.Sprintf("container %q exited with code %d", cs.Name, t.ExitCode)
			if detail := firstNonEmpty(t.Message, t.Reason); detail != "" {
				msg += ": " + detail
			}
			msgs = append(msgs, msg)
		}
	}
	return strings.Join(msgs, "; ")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
