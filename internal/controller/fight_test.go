package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestByPersonLooksAtTheLatestManager(t *testing.T) {
	at := func(s int) *metav1.Time { v := metav1.NewTime(time.Unix(int64(1000+s), 0)); return &v }
	entry := func(m, sub string, tm *metav1.Time) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: m, Subresource: sub, Time: tm}
	}
	for name, tc := range map[string]struct {
		entries []metav1.ManagedFieldsEntry
		want    bool
	}{
		"kubectl scale (no time) after tether": {[]metav1.ManagedFieldsEntry{entry("tether", "", at(5)), entry("kubectl", "scale", nil), entry("kube-controller-manager", "status", at(9))}, true},
		"kubectl edit is the latest":           {[]metav1.ManagedFieldsEntry{entry("hpa", "", at(1)), entry("kubectl-edit", "", at(3))}, true},
		"another controller is the latest":     {[]metav1.ManagedFieldsEntry{entry("kubectl-edit", "", at(1)), entry("hpa-controller", "", at(3))}, false},
		"both scale through the subresource":   {[]metav1.ManagedFieldsEntry{entry("kubectl", "scale", nil), entry("horizontal-pod-autoscaler", "scale", nil)}, false},
		"only tether and status writers":       {[]metav1.ManagedFieldsEntry{entry("tether", "", at(1)), entry("kube-controller-manager", "status", at(2))}, false},
	} {
		t.Run(name, func(t *testing.T) {
			u := &unstructured.Unstructured{Object: map[string]any{}}
			u.SetManagedFields(tc.entries)
			if got := byPerson(u); got != tc.want {
				t.Errorf("byPerson = %v, want %v", got, tc.want)
			}
		})
	}
}
