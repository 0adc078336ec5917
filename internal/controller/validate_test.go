package controller

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestNamespaceMetadataProblems(t *testing.T) {
	meta := func(labels, annotations map[string]string) *v1alpha1.ManagedNamespaceMetadata {
		return &v1alpha1.ManagedNamespaceMetadata{Labels: labels, Annotations: annotations}
	}
	cases := []struct {
		name string
		sp   *v1alpha1.SyncPolicy
		want []string
	}{
		{"none", nil, nil},
		{"valid", &v1alpha1.SyncPolicy{SyncOptions: []string{"CreateNamespace=true"}, ManagedNamespaceMetadata: meta(map[string]string{"team": "a", "example.com/tier": ""}, map[string]string{"Owner": "anything at all: ok"})}, nil},
		{"without CreateNamespace", &v1alpha1.SyncPolicy{ManagedNamespaceMetadata: meta(nil, nil)}, []string{"needs the sync option CreateNamespace=true"}},
		{"CreateNamespace=false", &v1alpha1.SyncPolicy{SyncOptions: []string{"CreateNamespace=false"}, ManagedNamespaceMetadata: meta(nil, nil)}, []string{"needs the sync option CreateNamespace=true"}},
		{"bad keys and values", &v1alpha1.SyncPolicy{SyncOptions: []string{"CreateNamespace=true"}, ManagedNamespaceMetadata: meta(
			map[string]string{"-bad": "x", "ok": strings.Repeat("v", 64)}, map[string]string{"a/b/c": "x"})},
			[]string{`labels: key "-bad"`, `labels[ok]: value "` + strings.Repeat("v", 64), `annotations: key "a/b/c"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := namespaceMetadataProblems(tc.sp)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d naming %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) || !strings.HasPrefix(got[i], "spec.syncPolicy.managedNamespaceMetadata") {
					t.Errorf("problem %q, want one naming the field and containing %q", got[i], w)
				}
			}
		})
	}
}

func TestOperationProblems(t *testing.T) {
	raw := &unstructured.Unstructured{Object: map[string]any{
		"operation": map[string]any{
			"sync":        map[string]any{"revision": "main", "syncStrategy": map[string]any{"hook": map[string]any{"force": true}}, "resources": []any{map[string]any{"kind": "ConfigMap", "name": "a", "version": "v1"}}},
			"initiatedBy": map[string]any{"username": "ann"},
		},
	}}
	got := operationProblems(raw)
	want := []string{`unknown field "operation.sync.resources[0].version"`, `unknown field "operation.sync.syncStrategy"`}
	if len(got) != len(want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) || !strings.Contains(got[i], "tether does not support this field") {
			t.Errorf("problem %q, want %q", got[i], w)
		}
	}
	ok := &unstructured.Unstructured{Object: map[string]any{"operation": map[string]any{"sync": map[string]any{"prune": true, "resources": []any{map[string]any{"kind": "ConfigMap", "name": "a"}}}}}}
	if p := operationProblems(ok); len(p) != 0 {
		t.Errorf("a known operation: %q", p)
	}
	if p := operationProblems(&unstructured.Unstructured{Object: map[string]any{}}); p != nil {
		t.Errorf("no operation: %q", p)
	}
}
