package health

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

const (
	healthyS     = v1alpha1.HealthHealthy
	suspendedS   = v1alpha1.HealthSuspended
	progressingS = v1alpha1.HealthProgressing
	missingS     = v1alpha1.HealthMissing
	unknownS     = v1alpha1.HealthUnknown
	degradedS    = v1alpha1.HealthDegraded
)

func TestWorst(t *testing.T) {
	tests := []struct {
		name string
		in   []Status
		want Status
	}{
		{
			name: "no statuses are healthy",
			want: Status{Status: healthyS},
		},
		{
			name: "one status is returned with its message",
			in:   []Status{{Status: healthyS, Message: "fine"}},
			want: Status{Status: healthyS, Message: "fine"},
		},
		{
			name: "suspended is worse than healthy",
			in:   []Status{{Status: healthyS}, {Status: suspendedS, Message: "paused"}},
			want: Status{Status: suspendedS, Message: "paused"},
		},
		{
			name: "progressing is worse than suspended",
			in:   []Status{{Status: progressingS, Message: "rolling"}, {Status: suspendedS}},
			want: Status{Status: progressingS, Message: "rolling"},
		},
		{
			name: "missing is worse than progressing",
			in:   []Status{{Status: progressingS}, {Status: missingS, Message: "gone"}},
			want: Status{Status: missingS, Message: "gone"},
		},
		{
			name: "unknown is worse than missing",
			in:   []Status{{Status: unknownS, Message: "?"}, {Status: missingS}},
			want: Status{Status: unknownS, Message: "?"},
		},
		{
			name: "degraded is the worst of all",
			in: []Status{
				{Status: healthyS}, {Status: degradedS, Message: "broken"}, {Status: unknownS},
				{Status: missingS}, {Status: progressingS}, {Status: suspendedS},
			},
			want: Status{Status: degradedS, Message: "broken"},
		},
		{
			name: "the first of equally bad statuses wins",
			in:   []Status{{Status: progressingS, Message: "first"}, {Status: progressingS, Message: "second"}},
			want: Status{Status: progressingS, Message: "first"},
		},
		{
			name: "an unrecognised status counts as unknown",
			in:   []Status{{Status: "Bogus"}, {Status: missingS}},
			want: Status{Status: "Bogus"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Worst(tt.in...)); diff != "" {
				t.Errorf("Worst() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLess(t *testing.T) {
	order := []string{healthyS, suspendedS, progressingS, missingS, unknownS, degradedS}
	for i, a := range order {
		for j, b := range order {
			want := i < j
			if got := Less(a, b); got != want {
				t.Errorf("Less(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
	t.Run("an unrecognised status sits with unknown", func(t *testing.T) {
		if !Less(missingS, "Bogus") || !Less("Bogus", degradedS) || Less("Bogus", unknownS) {
			t.Error("Bogus is not ranked as Unknown")
		}
	})
}

func TestComputeMissingAndDeleted(t *testing.T) {
	t.Run("a nil object is missing", func(t *testing.T) {
		want := Status{Status: missingS, Message: "Resource does not exist"}
		if diff := cmp.Diff(want, Compute(nil)); diff != "" {
			t.Errorf("Compute(nil) mismatch (-want +got):\n%s", diff)
		}
	})
	runCompute(t, []computeCase{
		{
			name: "an object being deleted is progressing",
			yaml: `
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: d, deletionTimestamp: "2026-01-01T00:00:00Z"}
`,
			want: Status{Status: progressingS, Message: "Pending deletion"},
		},
		{
			name: "a healthy deployment being deleted is progressing",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 1, deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: [x]}
spec: {replicas: 1}
status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1}
`,
			want: Status{Status: progressingS, Message: "Pending deletion"},
		},
		{
			name: "a malformed object of a known kind is unknown",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec: {replicas: "three"}
`,
			want: Status{Status: unknownS, Message: "Cannot read Deployment status: unrecognized type: int32"},
		},
	})
}
