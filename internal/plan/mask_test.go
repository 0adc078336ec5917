package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func secret(fields map[string]any) *unstructured.Unstructured {
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
		live:        secret(map[string]any{"data": map[string]any{"a": "eA=="}}),
		desired:     secret(map[string]any{"data": map[string]any{"a": "eA=="}}),
		wantLive:    secret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
		wantDesired: secret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
	}, {
		name:        "different values get different masks in key order",
		live:        secret(map[string]any{"data": map[string]any{"a": "eA==", "b": "eQ=="}}),
		desired:     secret(map[string]any{"data": map[string]any{"a": "eg==", "b": "eQ=="}}),
		wantLive:    secret(map[string]any{"data": map[string]any{"a": "++++++++", "b": "++++++++++"}}),
		wantDesired: secret(map[string]any{"data": map[string]any{"a": "+++++++++", "b": "++++++++++"}}),
	}, {
		name:        "a key added in desired gets its own mask",
		live:        secret(map[string]any{"data": map[string]any{"a": "eA=="}}),
		desired:     secret(map[string]any{"data": map[string]any{"a": "eA==", "b": "eA=="}}),
		wantLive:    secret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
		wantDesired: secret(map[string]any{"data": map[string]any{"a": "++++++++", "b": "+++++++++"}}),
	}, {
		name:        "a key removed from desired is masked on the live side only",
		live:        secret(map[string]any{"data": map[string]any{"a": "eA==", "b": "eA=="}}),
		desired:     secret(map[string]any{"data": map[string]any{"b": "eA=="}}),
		wantLive:    secret(map[string]any{"data": map[string]any{"a": "++++++++", "b": "+++++++++"}}),
		wantDesired: secret(map[string]any{"data": map[string]any{"b": "+++++++++"}}),
	}, {
		name:        "stringData equal to decoded data masks as equal and moves under data",
		live:        secret(map[string]any{"data": map[string]any{"a": "eA=="}}),
		desired:     secret(map[string]any{"stringData": map[string]any{"a": "x"}}),
		wantLive:    secret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
		wantDesired: secret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
	}, {
		name:        "stringData wins over data for the same key",
		live:        secret(map[string]any{"data": map[string]any{"a": "eA=="}}),
		desired:     secret(map[string]any{"data": map[string]any{"a": "eQ=="}, "stringData": map[string]any{"a": "x"}}),
		wantLive:    secret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
		wantDesired: secret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
	}, {
		name: "the last-applied annotation is dropped from secrets",
		live: func() *unstructured.Unstructured {
			s := secret(map[string]any{"data": map[string]any{"a": "eA=="}})
			s.SetAnnotations(map[string]string{lastAppliedAnnotation: `{"data":{"a":"eA=="}}`, "keep": "me"})
			return s
		}(),
		wantLive: func() *unstructured.Unstructured {
			s := secret(map[string]any{"data": map[string]any{"a": "++++++++"}})
			s.SetAnnotations(map[string]string{"keep": "me"})
			return s
		}(),
	}, {
		name:        "a secret without data stays without data",
		live:        secret(nil),
		desired:     secret(nil),
		wantLive:    secret(nil),
		wantDesired: secret(nil),
	}, {
		name:        "a non-secret is returned unchanged",
		live:        configMap("a", "x"),
		desired:     configMap("a", "y"),
		wantLive:    configMap("a", "x"),
		wantDesired: configMap("a", "y"),
	}, {
		name:        "nil live masks desired alone",
		desired:     secret(map[string]any{"stringData": map[string]any{"a": "x"}}),
		wantDesired: secret(map[string]any{"data": map[string]any{"a": "++++++++"}}),
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
	in := configMap("a", "x")
	out, _ := MaskSecrets(in, nil)
	out.Object["data"].(map[string]any)["a"] = "changed"
	if got := in.Object["data"].(map[string]any)["a"]; got != "x" {
		t.Errorf("input data.a = %q after changing the copy, want %q", got, "x")
	}
}

func configMap(key, val string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": "cfg", "namespace": "prod"},
		"data":       map[string]any{key: val},
	}}
}
