package controller

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestStatusPatchCarriesOnlyStatusChanges(t *testing.T) {
	now := metav1.Now()
	a := &v1alpha1.ApplicationStatus{
		Sync:       v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusOutOfSync, Revision: "aaa"},
		Conditions: []v1alpha1.ApplicationCondition{{Type: v1alpha1.ConditionComparisonError, Message: "boom"}},
	}
	b := a.DeepCopy()
	b.Sync.Status, b.Sync.Revision = v1alpha1.SyncStatusSynced, "bbb"
	b.Conditions = nil
	b.ReconciledAt = &now
	p, err := statusPatch(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]any
	if err := json.Unmarshal(p, &got); err != nil {
		t.Fatalf("patch %s: %v", p, err)
	}
	if len(got) != 1 || got["status"] == nil {
		t.Fatalf("patch %s: want only a status key", p)
	}
	st := got["status"]
	if v, ok := st["conditions"]; !ok || v != nil {
		t.Fatalf("patch %s: cleared conditions must be sent as null", p)
	}
	sync, _ := st["sync"].(map[string]any)
	if sync["status"] != "Synced" || sync["revision"] != "bbb" {
		t.Fatalf("patch %s: sync changes missing", p)
	}
	if _, ok := st["health"]; ok {
		t.Fatalf("patch %s: unchanged health must not be sent", p)
	}
}
