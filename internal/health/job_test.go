package health

import "testing"

func TestComputeJob(t *testing.T) {
	runCompute(t, []computeCase{
		{
			name: "a complete job is healthy",
			yaml: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
status:
  succeeded: 1
  conditions:
  - {type: SuccessCriteriaMet, status: "True"}
  - {type: Complete, status: "True"}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a failed job is degraded with the condition message",
			yaml: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
status:
  failed: 7
  conditions:
  - {type: FailureTarget, status: "True", reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}
  - {type: Failed, status: "True", reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit}
`,
			want: Status{Status: degradedS, Message: "Job has reached the specified backoff limit"},
		},
		{
			name: "a job about to fail is degraded",
			yaml: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
status:
  active: 1
  conditions:
  - {type: FailureTarget, status: "True", reason: DeadlineExceeded, message: Job was active longer than specified deadline}
`,
			want: Status{Status: degradedS, Message: "Job was active longer than specified deadline"},
		},
		{
			name: "a suspended job is suspended",
			yaml: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec: {suspend: true}
`,
			want: Status{Status: suspendedS, Message: "Job is suspended"},
		},
		{
			name: "a job with the suspended condition is suspended",
			yaml: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
status:
  conditions: [{type: Suspended, status: "True", reason: JobSuspended}]
`,
			want: Status{Status: suspendedS, Message: "Job is suspended"},
		},
		{
			name: "a running job is progressing",
			yaml: `
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec: {suspend: false}
status: {active: 1, failed: 1}
`,
			want: Status{Status: progressingS, Message: "Waiting for job to complete: 1 active, 0 succeeded, 1 failed"},
		},
	})
}
