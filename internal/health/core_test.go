package health

import "testing"

func TestComputeCoreKinds(t *testing.T) {
	runCompute(t, []computeCase{
		{
			name: "a ClusterIP service is healthy",
			yaml: `
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: ClusterIP, ports: [{port: 80}]}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a load balancer service without an address is progressing",
			yaml: `
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: LoadBalancer, ports: [{port: 80}]}
status: {loadBalancer: {}}
`,
			want: Status{Status: progressingS, Message: "Waiting for load balancer to get an address"},
		},
		{
			name: "a load balancer service with an address is healthy",
			yaml: `
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: LoadBalancer, ports: [{port: 80}]}
status: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "an ingress without an address is progressing",
			yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec: {rules: [{host: a.example}]}
`,
			want: Status{Status: progressingS, Message: "Waiting for ingress to get an address"},
		},
		{
			name: "an ingress with an address is healthy",
			yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
status: {loadBalancer: {ingress: [{hostname: lb.example}]}}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a bound claim is healthy",
			yaml: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
status: {phase: Bound}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a pending claim is progressing",
			yaml: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
status: {phase: Pending}
`,
			want: Status{Status: progressingS, Message: "Waiting for volume to be bound"},
		},
		{
			name: "a lost claim is degraded",
			yaml: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
status: {phase: Lost}
`,
			want: Status{Status: degradedS, Message: "PersistentVolumeClaim lost its volume"},
		},
		{
			name: "an active namespace is healthy",
			yaml: `
apiVersion: v1
kind: Namespace
metadata: {name: prod}
status: {phase: Active}
`,
			want: Status{Status: healthyS},
		},
		{
			name: "a terminating namespace is progressing",
			yaml: `
apiVersion: v1
kind: Namespace
metadata: {name: prod}
status: {phase: Terminating}
`,
			want: Status{Status: progressingS, Message: "Namespace is terminating"},
		},
	})
}
