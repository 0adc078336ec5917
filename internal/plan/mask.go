package plan

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// lastAppliedAnnotation holds a full copy of the object as last applied by
// kubectl; for a Secret that copy carries every value in clear.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// firstMaskLen is the length of the first mask handed out; each further
// distinct value gets a mask one '+' longer.
const firstMaskLen = 8

// MaskSecrets returns copies of live and desired in which, when they are
// core/v1 Secrets, every value under data and stringData is replaced by a
// mask of '+' characters. Equal values in live and desired get the same
// mask, different values get different masks (8, 9, 10... pluses, handed
// out in key order), so a diff still shows which keys changed without
// showing their values.
//
// Values are compared decoded: stringData is folded into data the way the
// API server does it (stringData wins), so that `stringData: {a: x}` and
// `data: {a: eA==}` mask as equal. The masked copies therefore hold every
// key under data and no stringData. The annotation
// kubectl.kubernetes.io/last-applied-configuration is removed from masked
// Secrets. Non-Secrets are returned unchanged (still deep-copied). Either
// argument may be nil.
func MaskSecrets(live, desired *unstructured.Unstructured) (*unstructured.Unstructured, *unstructured.Unstructured) {
	live, desired = deepCopy(live), deepCopy(desired)

	liveVals, liveOK := secretValues(live)
	desiredVals, desiredOK := secretValues(desired)
	if !liveOK && !desiredOK {
		return live, desired
	}

	keys := make(map[string]bool, len(liveVals)+len(desiredVals))
	for k := range liveVals {
		keys[k] = true
	}
	for k := range desiredVals {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)

	liveMasks := map[string]any{}
	desiredMasks := map[string]any{}
	n := firstMaskLen
	next := func() string {
		m := strings.Repeat("+", n)
		n++
		return m
	}
	for _, k := range sorted {
		lv, inLive := liveVals[k]
		dv, inDesired := desiredVals[k]
		switch {
		case inLive && inDesired && lv == dv:
			m := next()
			liveMasks[k], desiredMasks[k] = m, m
		default:
			if inLive {
				liveMasks[k] = next()
			}
			if inDesired {
				desiredMasks[k] = next()
			}
		}
	}

	if liveOK {
		replaceSecretValues(live, liveMasks)
	}
	if desiredOK {
		replaceSecretValues(desired, desiredMasks)
	}
	return live, desired
}

// isSecret reports whether obj is a core/v1 Secret.
func isSecret(obj *unstructured.Unstructured) bool {
	if obj == nil {
		return false
	}
	gvk := obj.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Secret"
}

// secretValues returns the decoded values of a Secret by key, with
// stringData folded over data. ok is false when obj is not a Secret.
func secretValues(obj *unstructured.Unstructured) (vals map[string]string, ok bool) {
	if !isSecret(obj) {
		return nil, false
	}
	vals = map[string]string{}
	if data, isMap := obj.Object["data"].(map[string]any); isMap {
		for k, v := range data {
			s := stringOf(v)
			// A value that is not valid base64 is compared as written; it
			// is masked all the same.
			if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
				s = string(dec)
			}
			vals[k] = s
		}
	}
	if sd, isMap := obj.Object["stringData"].(map[string]any); isMap {
		for k, v := range sd {
			vals[k] = stringOf(v)
		}
	}
	return vals, true
}

// replaceSecretValues puts masks under data, drops stringData and the
// last-applied annotation, which would otherwise leak every value.
func replaceSecretValues(obj *unstructured.Unstructured, masks map[string]any) {
	_, hadData := obj.Object["data"]
	_, hadStringData := obj.Object["stringData"]
	delete(obj.Object, "stringData")
	if len(masks) > 0 || hadData || hadStringData {
		obj.Object["data"] = masks
	}
	removeAnnotation(obj, lastAppliedAnnotation)
}

// removeAnnotation deletes one annotation, and the annotations map when it
// ends up empty.
func removeAnnotation(obj *unstructured.Unstructured, key string) {
	md, ok := obj.Object["metadata"].(map[string]any)
	if !ok {
		return
	}
	ann, ok := md["annotations"].(map[string]any)
	if !ok {
		return
	}
	delete(ann, key)
	if len(ann) == 0 {
		delete(md, "annotations")
	}
}

func stringOf(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case nil:
		return ""
	default:
		return fmt.Sprint(s)
	}
}

func deepCopy(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	return obj.DeepCopy()
}
