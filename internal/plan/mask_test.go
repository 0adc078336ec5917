package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func testSecret(fields map[string]any) *unstructured.Unstructured {
	obj := map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   map[string]any{"name": "creds", "namespace": "prod"},
	}
	for k, v := range fields {
		obj[k] = v
	}
	return &unstructured.Unstructured{Object: obj}
}

func TestMaskSecrets(t *testing.T) {
	tests := []struct {
		name        string
		live        *unstructured.Unstructured
		desired     *unstructured.Unstructured
		wantLive    *unstructured.Unstructured
		wantDesired *unstructured.Unstructured
	}{{
		name:        "equal values get the same mask",
		live:        testSecret(map[string]any{"data": map[string]any{"a": "eA=="}}),
		desired:     testSecret(map[string]any{"data": map[string]any{"a": "eA=="}}),
		wantLive:    testSecret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
		wantDesired: testSecret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
	}, {
		name:        "different values get different masks in key order",
		live:        testSecret(map[string]any{"data": map[string]any{"a": "eA==", "b": "eQ=="}}),
		desired:     testSecret(map[string]any{"data": map[string]any{"a": "eg==", "b": "eQ=="}}),
		wantLive:    testSecret(map[string]any{"data": map[string]any{"a": "++++++++", "b": "++++++++++"}}),
		wantDesired: testSecret(map[string]any{"data": map[string]any{"a": "+++++++++", "b": "++++++++++"}}),
	}, {
		name:        "a key added in desired gets its own mask",
		live:        testSecret(map[string]any{"data": map[string]any{"a": "eA=="}}),
		desired:     testSecret(map[string]any{"data": map[string]any{"a": "eA==", "b": "eA=="}}),
		wantLive:    testSecret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
		wantDesired: testSecret(map[string]any{"data": map[string]any{"a": "++++++++", "b": "+++++++++"}}),
	}, {
		name:        "a key removed from desired is masked on the live side only",
		live:        testSecret(map[string]any{"data": map[string]any{"a": "eA==", "b": "eA=="}}),
		desired:     testSecret(map[string]any{"data": map[string]any{"b": "eA=="}}),
		wantLive:    testSecret(map[string]any{"data": map[string]any{"a": "++++++++", "b": "+++++++++"}}),
		wantDesired: testSecret(map[string]any{"data": map[string]any{"b": "+++++++++"}}),
	}, {
		name:        "stringData equal to decoded data masks as equal and moves under data",
		live:        testSecret(map[string]any{"data": map[string]any{"a": "eA=="}}),
		desired:     testSecret(map[string]any{"stringData": map[string]any{"a": "x"}}),
		wantLive:    testSecret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
		wantDesired: testSecret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
	}, {
		name:        "stringData wins over data for the same key",
		live:        testSecret(map[string]any{"data": map[string]any{"a": "eA=="}}),
		desired:     testSecret(map[string]any{"data": map[string]any{"a": "eQ=="}, "stringData": map[string]any{"a": "x"}}),
		wantLive:    testSecret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
		wantDesired: testSecret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
	}, {
		name: "the last-applied annotation is dropped from secrets",
		live: func() *unstructured.Unstructured {
			s := testSecret(map[string]any{"data": map[string]any{"a": "eA=="}})
			s.SetAnnotations(map[string]string{lastAppliedAnnotation: `{"data":{"a":"eA=="}}`, "keep": "me"})
			return s
		}(),
		wantLive: func() *unstructured.Unstructured {
			s := testSecret(map[string]any{"data": map[string]any{"a": "++++++++"}})
			s.SetAnnotations(map[string]string{"keep": "me"})
			return s
		}(),
	}, {
		name:        "a secret without data stays without data",
		live:        testSecret(nil),
		desired:     testSecret(nil),
		wantLive:    testSecret(nil),
		wantDesired: testSecret(nil),
	}, {
		name:        "a non-secret is returned unchanged",
		live:        testConfigMap("a", "x"),
		desired:     testConfigMap("a", "y"),
		wantLive:    testConfigMap("a", "x"),
		wantDesired: testConfigMap("a", "y"),
	}, {
		name:        "nil live masks desired alone",
		desired:     testSecret(map[string]any{"stringData": map[string]any{"a": "x"}}),
		wantDesired: testSecret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
	}, {
		name: "both nil stay nil",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var liveBefore, desiredBefore *unstructured.Unstructured
			if tt.live != nil {
				liveBefore = tt.live.DeepCopy()
			}
			if tt.desired != nil {
				desiredBefore = tt.desired.DeepCopy()
			}
			gotLive, gotDesired := MaskSecrets(tt.live, tt.desired)
			if diff := cmp.Diff(tt.wantLive, gotLive); diff != "" {
				t.Errorf("live (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDesired, gotDesired); diff != "" {
				t.Errorf("desired (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(liveBefore, tt.live); diff != "" {
				t.Errorf("live input was modified (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(desiredBefore, tt.desired); diff != "" {
				t.Errorf("desired input was modified (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMaskSecretsReturnsCopies(t *testing.T) {
	in := testConfigMap("a", "x")
	out, _ := MaskSecrets(in, nil)
	out.Object["data"].(map[string]any)["a"] = "changed"
	if got := in.Object["data"].(map[string]any)["a"]; got != "x" {
		t.Errorf("input data.a = %q after changing the copy, want %q", got, "x")
	}
}

func testConfigMap(key, val string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": "cfg", "namespace": "prod"},
		"data":       map[string]any{key: val},
	}}
}
