package health

import "testing"

func TestComputeStatefulSet(t *testing.T) {
	runCompute(t, []computeCase{
		{
			name: "a rolled out statefulset is healthy",
			yaml: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 1}
spec: {replicas: 2}
status: {observedGeneration: 1, replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, currentRevision: db-1, updateRevision: db-1}
`,
			want: Status{Status: healthyS, Message: "StatefulSet rolling update complete 2 pods at revision db-1..."},
		},
		{
			name: "a generation not yet observed is progressing",
			yaml: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 1, replicas: 2, readyReplicas: 2}
`,
			want: Status{Status: progressingS, Message: "Waiting for statefulset spec update to be observed..."},
		},
		{
			name: "pods not yet ready are progressing",
			yaml: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 1}
spec: {replicas: 3}
status: {observedGeneration: 1, replicas: 3, readyReplicas: 1}
`,
			want: Status{Status: progressingS, Message: "Waiting for 2 pods to be ready..."},
		},
		{
			name: "a rolling update between revisions is progressing",
			yaml: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 2}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 2, readyReplicas: 2, updatedReplicas: 1, currentRevision: db-1, updateRevision: db-2}
`,
			want: Status{Status: progressingS, Message: "Waiting for statefulset rolling update to complete 1 pods at revision db-2..."},
		},
		{
			name: "a partitioned roll out short of the partition is progressing",
			yaml: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 2}
spec: {replicas: 4, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}}
status: {observedGeneration: 2, replicas: 4, readyReplicas: 4, updatedReplicas: 1, currentRevision: db-1, updateRevision: db-2}
`,
			want: Status{Status: progressingS, Message: "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."},
		},
		{
			name: "a partitioned roll out that reached the partition is healthy",
			yaml: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 2}
spec: {replicas: 4, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}}
status: {observedGeneration: 2, replicas: 4, readyReplicas: 4, updatedReplicas: 2, currentRevision: db-1, updateRevision: db-2}
`,
			want: Status{Status: healthyS, Message: "Partitioned roll out complete: 2 new pods have been updated..."},
		},
		{
			name: "an OnDelete statefulset with ready pods is healthy despite old revisions",
			yaml: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, generation: 2}
spec: {replicas: 2, updateStrategy: {type: OnDelete}}
status: {observedGeneration: 2, replicas: 2, readyReplicas: 2, updatedReplicas: 0, currentRevision: db-1, updateRevision: db-2}
`,
			want: Status{Status: healthyS, Message: "StatefulSet has 2 ready pods"},
		},
	})
}

func TestComputeDaemonSet(t *testing.T) {
	runCompute(t, []computeCase{
		{
			name: "a rolled out daemonset is healthy",
			yaml: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, generation: 1}
status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a generation not yet observed is progressing",
			yaml: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, generation: 2}
status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3}
`,
			want: Status{Status: progressingS, Message: "Waiting for rollout to be observed: generation 2, observed 1"},
		},
		{
			name: "pods not yet updated are progressing",
			yaml: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, generation: 2}
status: {observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 1, numberAvailable: 3}
`,
			want: Status{Status: progressingS, Message: `Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...`},
		},
		{
			name: "unavailable pods are progressing",
			yaml: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, generation: 2}
status: {observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2, numberUnavailable: 1}
`,
			want: Status{Status: progressingS, Message: `Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...`},
		},
		{
			name: "an observed OnDelete daemonset is healthy with old pods",
			yaml: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, generation: 2}
spec: {updateStrategy: {type: OnDelete}}
status: {observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 0, numberAvailable: 3}
`,
			want: Status{Status: healthyS, Message: "DaemonSet 0 out of 3 new pods have been updated"},
		},
	})
}

func TestComputeReplicaSet(t *testing.T) {
	runCompute(t, []computeCase{
		{
			name: "a replicaset with all replicas available is healthy",
			yaml: `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: api-7d, generation: 1}
spec: {replicas: 2}
status: {observedGeneration: 1, replicas: 2, availableReplicas: 2}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "replicas not yet available are progressing",
			yaml: `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: api-7d, generation: 1}
spec: {replicas: 2}
status: {observedGeneration: 1, replicas: 2, availableReplicas: 1}
`,
			want: Status{Status: progressingS, Message: "Waiting for rollout to finish: 1 out of 2 new replicas are available..."},
		},
		{
			name: "a replica failure is degraded",
			yaml: `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: api-7d, generation: 1}
spec: {replicas: 2}
status:
  observedGeneration: 1
  replicas: 0
  conditions:
  - {type: ReplicaFailure, status: "True", reason: FailedCreate, message: 'pods "api-7d-x" is forbidden: exceeded quota'}
`,
			want: Status{Status: degradedS, Message: `pods "api-7d-x" is forbidden: exceeded quota`},
		},
	})
}
