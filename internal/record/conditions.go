package record

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// SetConditions replaces the app's conditions with conds, keeping the
// transition time of a condition whose type and message did not change, so
// an unchanged problem causes no status write.
func SetConditions(st *v1alpha1.ApplicationStatus, conds []v1alpha1.ApplicationCondition, now metav1.Time) {
	old := map[string]v1alpha1.ApplicationCondition{}
	for _, c := range st.Conditions {
		old[c.Type+"\x00"+c.Message] = c
	}
	out := make([]v1alpha1.ApplicationCondition, 0, len(conds))
	for _, c := range conds {
		if prev, ok := old[c.Type+"\x00"+c.Message]; ok && prev.LastTransitionTime != nil {
			c.LastTransitionTime = prev.LastTransitionTime
		} else {
			t := now
			c.LastTransitionTime = &t
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		out = nil
	}
	st.Conditions = out
}

// Condition builds a condition.
func Condition(typ, msg string) v1alpha1.ApplicationCondition {
	return v1alpha1.ApplicationCondition{Type: typ, Message: msg}
}
