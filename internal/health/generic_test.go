package health

import "testing"

func TestComputeGeneric(t *testing.T) {
	runCompute(t, []computeCase{
		{
			name: "a ConfigMap is healthy",
			yaml: `
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {a: b}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a ClusterRole is healthy",
			yaml: `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules: []
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a custom resource with Ready true is healthy with its message",
			yaml: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: repo, generation: 2}
status:
  observedGeneration: 2
  conditions: [{type: Ready, status: "True", reason: Succeeded, message: "stored artifact for revision 'main@sha1:abc'"}]
`,
			want: Status{Status: healthyS, Message: "stored artifact for revision 'main@sha1:abc'"},
		},
		{
			name: "a custom resource with Ready false is degraded",
			yaml: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
status:
  conditions: [{type: Ready, status: "False", reason: AuthFailed, message: bad credentials}]
`,
			want: Status{Status: degradedS, Message: "AuthFailed: bad credentials"},
		},
		{
			name: "a custom resource with Ready false while reconciling is progressing",
			yaml: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
status:
  conditions:
  - {type: Ready, status: "False", reason: Progressing, message: building}
  - {type: Reconciling, status: "True", reason: Progressing, message: "reconciliation in progress"}
`,
			want: Status{Status: progressingS, Message: "reconciliation in progress"},
		},
		{
			name: "a custom resource with Ready unknown is progressing",
			yaml: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
status:
  conditions: [{type: Ready, status: "Unknown", reason: Progressing, message: starting}]
`,
			want: Status{Status: progressingS, Message: "Progressing: starting"},
		},
		{
			name: "a stalled custom resource is degraded",
			yaml: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
status:
  conditions:
  - {type: Stalled, status: "True", reason: InvalidSpec, message: spec.size must be positive}
  - {type: Ready, status: "False"}
`,
			want: Status{Status: degradedS, Message: "InvalidSpec: spec.size must be positive"},
		},
		{
			name: "a reconciling custom resource without Ready is progressing",
			yaml: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
status:
  conditions: [{type: Reconciling, status: "True", reason: Scaling}]
`,
			want: Status{Status: progressingS, Message: "Scaling"},
		},
		{
			name: "a custom resource with Available false is degraded",
			yaml: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
status:
  conditions: [{type: Available, status: "False", message: no backends}]
`,
			want: Status{Status: degradedS, Message: "no backends"},
		},
		{
			name: "a custom resource with Available true is healthy",
			yaml: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
status:
  conditions: [{type: Available, status: "True"}]
`,
			want: Status{Status: healthyS},
		},
		{
			name: "an observed generation behind the generation is progressing",
			yaml: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, generation: 5}
status:
  observedGeneration: 4
  conditions: [{type: Ready, status: "True"}]
`,
			want: Status{Status: progressingS, Message: "Waiting for spec update to be observed: generation 5, observed 4"},
		},
		{
			name: "a status without observedGeneration or conditions is healthy",
			yaml: `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, generation: 5}
status: {phase: Whatever}
`,
			want: Status{Status: healthyS},
		},
	})
}

func TestComputeGenericFloatGeneration(t *testing.T) {
	t.Run("an observed generation decoded as a float still counts", func(t *testing.T) {
		obj := parse(t, `
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, generation: 2}
`)
		// Plain encoding/json decodes numbers as float64.
		obj.Object["status"] = map[string]any{"observedGeneration": float64(1)}
		want := Status{Status: progressingS, Message: "Waiting for spec update to be observed: generation 2, observed 1"}
		if got := Compute(obj); got != want {
			t.Errorf("Compute() = %+v, want %+v", got, want)
		}
	})
}
