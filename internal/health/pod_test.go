package health

import "testing"

func TestComputePod(t *testing.T) {
	runCompute(t, []computeCase{
		{
			name: "a succeeded pod is healthy",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
status: {phase: Succeeded}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a failed pod is degraded with the pod message",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
status: {phase: Failed, message: "Pod was evicted: low on memory"}
`,
			want: Status{Status: degradedS, Message: "Pod was evicted: low on memory"},
		},
		{
			name: "a failed pod without message is degraded with its container exit",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Never}
status:
  phase: Failed
  containerStatuses:
  - {name: main, state: {terminated: {exitCode: 2, reason: Error}}}
`,
			want: Status{Status: degradedS, Message: `container "main" exited with code 2: Error`},
		},
		{
			name: "a running ready pod is healthy",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Always}
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a running pod that is not ready is progressing",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
status:
  phase: Running
  conditions: [{type: Ready, status: "False", reason: ContainersNotReady, message: "containers with unready status: [app]"}]
`,
			want: Status{Status: progressingS, Message: "containers with unready status: [app]"},
		},
		{
			name: "a crashlooping pod is degraded",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: Always}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - {name: app, restartCount: 5, state: {waiting: {reason: CrashLoopBackOff, message: "back-off 5m0s restarting failed container"}}}
`,
			want: Status{Status: degradedS, Message: `container "app": CrashLoopBackOff: back-off 5m0s restarting failed container`},
		},
		{
			name: "a running pod that runs to completion is progressing",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {restartPolicy: OnFailure}
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
`,
			want: Status{Status: progressingS, Message: "Pod is running"},
		},
		{
			name: "a pending pod is progressing",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
status:
  phase: Pending
  containerStatuses:
  - {name: app, state: {waiting: {reason: ContainerCreating}}}
`,
			want: Status{Status: progressingS, Message: "Pod is pending"},
		},
		{
			name: "a pending pod that cannot pull its image is degraded",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
status:
  phase: Pending
  containerStatuses:
  - {name: app, state: {waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image "nope:1"'}}}
`,
			want: Status{Status: degradedS, Message: `container "app": ImagePullBackOff: Back-off pulling image "nope:1"`},
		},
		{
			name: "a pending pod with a bad init container and a bad image name is degraded",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
status:
  phase: Pending
  initContainerStatuses:
  - {name: init, state: {waiting: {reason: CreateContainerConfigError, message: 'secret "s" not found'}}}
  containerStatuses:
  - {name: app, state: {waiting: {reason: InvalidImageName}}}
`,
			want: Status{Status: degradedS, Message: `container "init": CreateContainerConfigError: secret "s" not found; container "app": InvalidImageName`},
		},
		{
			name: "a pod in an unknown phase is unknown",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p}
status: {phase: Unknown}
`,
			want: Status{Status: unknownS, Message: "Pod phase is unknown"},
		},
	})
}
