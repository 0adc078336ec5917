package health

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// jobHealth follows the terminal conditions of a Job. FailureTarget is set
// before Failed, while the last pods terminate; the outcome is already
// known, so it counts as failed.
func jobHealth(j *batchv1.Job) Status {
	var failed, complete, isSuspended bool
	var failMsg string
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobFailed, batchv1.JobFailureTarget:
			if !failed {
				failMsg = firstNonEmpty(c.Message, c.Reason)
			}
			failed = true
		case batchv1.JobComplete:
			complete = true
		case batchv1.JobSuspended:
			isSuspended = true
		}
	}
	switch {
	case failed:
		return degraded("%s", firstNonEmpty(failMsg, "Job failed"))
	case complete:
		return healthy("")
	case isSuspended || (j.Spec.Suspend != nil && *j.Spec.Suspend):
		return suspended("Job is suspended")
	}
	return progressing("Waiting for job to complete: %d active, %d succeeded, %d failed",
		j.Status.Active, j.Status.Succeeded, j.Status.Failed)
}
