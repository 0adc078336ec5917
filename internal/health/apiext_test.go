package health

import "testing"

func TestComputeAPIServiceAndCRD(t *testing.T) {
	runCompute(t, []computeCase{
		{
			name: "an available APIService is healthy",
			yaml: `
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
status: {conditions: [{type: Available, status: "True", reason: Passed}]}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "an unavailable APIService is degraded",
			yaml: `
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
status: {conditions: [{type: Available, status: "False", reason: MissingEndpoints, message: endpoints for service/metrics-server have no addresses}]}
`,
			want: Status{Status: degradedS, Message: "MissingEndpoints: endpoints for service/metrics-server have no addresses"},
		},
		{
			name: "an APIService without conditions is progressing",
			yaml: `
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
`,
			want: Status{Status: progressingS, Message: "Waiting for APIService to become available"},
		},
		{
			name: "an established CRD is healthy",
			yaml: `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
status:
  conditions:
  - {type: NamesAccepted, status: "True"}
  - {type: Established, status: "True"}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a CRD whose names clash is degraded",
			yaml: `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
status:
  conditions:
  - {type: NamesAccepted, status: "False", reason: MultipleNamesNotAllowed, message: '"widget" is already in use'}
  - {type: Established, status: "False", reason: NotAccepted}
`,
			want: Status{Status: degradedS, Message: `MultipleNamesNotAllowed: "widget" is already in use`},
		},
		{
			name: "a CRD not yet established is progressing",
			yaml: `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
status: {conditions: [{type: NamesAccepted, status: "True"}]}
`,
			want: Status{Status: progressingS, Message: "Waiting for CustomResourceDefinition to be established"},
		},
	})
}

func TestComputeHPA(t *testing.T) {
	runCompute(t, []computeCase{
		{
			name: "an autoscaler that can scale is healthy",
			yaml: `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, generation: 1}
status:
  observedGeneration: 1
  conditions:
  - {type: AbleToScale, status: "True", reason: ReadyForNewScale}
  - {type: ScalingActive, status: "True", reason: ValidMetricFound}
  - {type: ScalingLimited, status: "False", reason: DesiredWithinRange}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "an autoscaler without metrics is degraded",
			yaml: `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
status:
  conditions:
  - {type: AbleToScale, status: "True", reason: SucceededGetScale}
  - {type: ScalingActive, status: "False", reason: FailedGetResourceMetric, message: unable to get metrics}
`,
			want: Status{Status: degradedS, Message: "FailedGetResourceMetric: unable to get metrics"},
		},
		{
			name: "an autoscaler that cannot read its target is degraded",
			yaml: `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
status:
  conditions:
  - {type: AbleToScale, status: "False", reason: FailedGetScale, message: deployments/scale "api" not found}
`,
			want: Status{Status: degradedS, Message: `FailedGetScale: deployments/scale "api" not found`},
		},
		{
			name: "an autoscaler of a target scaled to zero is suspended",
			yaml: `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
status:
  conditions:
  - {type: AbleToScale, status: "True"}
  - {type: ScalingActive, status: "False", reason: ScalingDisabled, message: scaling is disabled since the replica count of the target is zero}
`,
			want: Status{Status: suspendedS, Message: "ScalingDisabled: scaling is disabled since the replica count of the target is zero"},
		},
		{
			name: "an autoscaling/v1 autoscaler is read from its annotation",
			yaml: `
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: api
  annotations:
    autoscaling.alpha.kubernetes.io/conditions: '[{"type":"AbleToScale","status":"True"},{"type":"ScalingActive","status":"False","reason":"FailedGetResourceMetric"}]'
`,
			want: Status{Status: degradedS, Message: "FailedGetResourceMetric"},
		},
		{
			name: "an autoscaler without conditions is progressing",
			yaml: `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
`,
			want: Status{Status: progressingS, Message: "Waiting to autoscale"},
		},
	})
}
