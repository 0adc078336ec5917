package health

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// condition is the part of a status condition the rules read. Kinds
// without typed structs here (CRDs, APIServices, custom resources) all
// follow the metav1.Condition shape closely enough.
type condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// conditionsOf returns status.conditions of obj, skipping entries that are
// not objects.
func conditionsOf(obj *unstructured.Unstructured) []condition {
	raw, found, err := unstructured.NestedSlice(obj.Object, "status", "conditions")
	if !found || err != nil {
		return nil
	}
	conds := make([]condition, 0, len(raw))
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		conds = append(conds, condition{
			Type:    str(m["type"]),
			Status:  str(m["status"]),
			Reason:  str(m["reason"]),
			Message: str(m["message"]),
		})
	}
	return conds
}

// conditionsFromJSON reads conditions kept as a JSON string, as
// autoscaling/v1 HorizontalPodAutoscalers keep theirs in an annotation.
func conditionsFromJSON(s string) []condition {
	var conds []condition
	if err := json.Unmarshal([]byte(s), &conds); err != nil {
		return nil
	}
	return conds
}

// findCondition returns the condition of type t, if present.
func findCondition(conds []condition, t string) (condition, bool) {
	for _, c := range conds {
		if c.Type == t {
			return c, true
		}
	}
	return condition{}, false
}

// hasCondition reports whether the condition of type t has the status.
func hasCondition(conds []condition, t, status string) bool {
	c, ok := findCondition(conds, t)
	return ok && c.Status == status
}

// describe returns the most useful text of a condition: its message, else
// its reason, else its type and status.
func (c condition) describe() string {
	switch {
	case c.Message != "" && c.Reason != "":
		return c.Reason + ": " + c.Message
	case c.Message != "":
		return c.Message
	case c.Reason != "":
		return c.Reason
	default:
		return c.Type + " is " + c.Status
	}
}

func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// nestedInt reads an integer field of a generic object, whether it was
// decoded as int64 (client-go) or float64 (plain encoding/json).
func nestedInt(obj map[string]any, fields ...string) (int64, bool) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, fields...)
	if !found || err != nil {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), true
	default:
		return 0, false
	}
}
