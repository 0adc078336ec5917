package v1alpha1

import (
	"strings"
	"testing"
	"time"
)

func TestDeletionApproved(t *testing.T) {
	since := time.Date(2026, 11, 26, 8, 0, 0, 700_000_000, time.UTC) // 08:00:00.7
	cases := []struct {
		name, value string // value "-" means no annotation
		want        bool
		err         string
	}{
		{"no annotation", "-", false, ""},
		{"the same second", "2026-11-26T08:00:00Z", true, ""},
		{"later", "2026-11-26T09:00:00+01:00", true, ""},
		{"a second earlier", "2026-11-26T07:59:59Z", false, ""},
		{"another zone, earlier", "2026-11-26T08:30:00+01:00", false, ""},
		{"not a time", "yes", false, `"yes" is not an RFC 3339 time`},
		{"a date only", "2026-11-26", false, "is not an RFC 3339 time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &Application{}
			if tc.value != "-" {
				a.Annotations = map[string]string{DeletionApprovedAnnotation: tc.value}
			}
			got, err := a.DeletionApproved(since)
			if got != tc.want {
				t.Errorf("approved = %v, want %v", got, tc.want)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), DeletionApprovedAnnotation)):
				t.Errorf("error = %v, want one naming the annotation and containing %q", err, tc.err)
			}
		})
	}
}

func TestWaitsForApproval(t *testing.T) {
	var none *OperationState
	if none.WaitsForApproval() {
		t.Error("no operation waits")
	}
	st := &OperationState{Phase: PhaseRunning, Message: PruneApprovalPending + "ConfigMap/prod/x"}
	if !st.WaitsForApproval() {
		t.Error("a running sync with the message waits")
	}
	st.Phase = PhaseFailed
	if st.WaitsForApproval() {
		t.Error("a failed sync does not wait")
	}
}
