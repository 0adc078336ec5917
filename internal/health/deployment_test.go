package health

import "testing"

func TestComputeDeployment(t *testing.T) {
	runCompute(t, []computeCase{
		{
			name: "a fully rolled out deployment is healthy",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 2}
spec: {replicas: 3}
status: {observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a deployment scaled to zero is healthy",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 1}
spec: {replicas: 0}
status: {observedGeneration: 1}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a generation not yet observed is progressing",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 3}
spec: {replicas: 3}
status: {observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3}
`,
			want: Status{Status: progressingS, Message: "Waiting for rollout to be observed: generation 3, observed 2"},
		},
		{
			name: "a new deployment without status is progressing",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 1}
spec: {replicas: 1}
`,
			want: Status{Status: progressingS, Message: "Waiting for rollout to be observed: generation 1, observed 0"},
		},
		{
			name: "a paused deployment is suspended",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 2}
spec: {replicas: 3, paused: true}
status: {observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 3}
`,
			want: Status{Status: suspendedS, Message: "Deployment is paused"},
		},
		{
			name: "an exceeded progress deadline is degraded",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 2}
spec: {replicas: 3}
status:
  observedGeneration: 2
  replicas: 3
  updatedReplicas: 1
  availableReplicas: 2
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
  - {type: Progressing, status: "False", reason: ProgressDeadlineExceeded, message: 'ReplicaSet "api-7d" has timed out progressing.'}
`,
			want: Status{Status: degradedS, Message: `Deployment "api" exceeded its progress deadline`},
		},
		{
			name: "replicas not yet updated are progressing",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 2}
spec: {replicas: 3}
status: {observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 3}
`,
			want: Status{Status: progressingS, Message: "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."},
		},
		{
			name: "old replicas pending termination are progressing",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 2}
spec: {replicas: 3}
status: {observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3}
`,
			want: Status{Status: progressingS, Message: "Waiting for rollout to finish: 1 old replicas are pending termination..."},
		},
		{
			name: "updated replicas not yet available are progressing",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 2}
spec: {replicas: 3}
status: {observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 1}
`,
			want: Status{Status: progressingS, Message: "Waiting for rollout to finish: 1 of 3 updated replicas are available..."},
		},
		{
			name: "an unset replica count means one",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 1}
status: {observedGeneration: 1}
`,
			want: Status{Status: progressingS, Message: "Waiting for rollout to finish: 0 out of 1 new replicas have been updated..."},
		},
	})
}
