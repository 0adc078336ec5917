package controller

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// countingMapper counts the lookups that reach it.
type countingMapper struct {
	meta.RESTMapper
	calls int
}

func (c *countingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	c.calls++
	return c.RESTMapper.RESTMapping(gk, versions...)
}

func TestKeptMapperKeepsFoundMappingsOnly(t *testing.T) {
	base := meta.NewDefaultRESTMapper(nil)
	base.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	base.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	inner := &countingMapper{RESTMapper: base}
	m := &keptMapper{RESTMapper: inner, kept: map[string]*meta.RESTMapping{}}

	for i := 0; i < 3; i++ {
		mp, err := m.RESTMapping(schema.GroupKind{Kind: "ConfigMap"}, "v1")
		if err != nil || mp.Scope.Name() != meta.RESTScopeNameNamespace {
			t.Fatalf("ConfigMap: %v, %v", mp, err)
		}
	}
	mp, err := m.RESTMapping(schema.GroupKind{Kind: "Namespace"}, "v1")
	if err != nil || mp.Scope.Name() != meta.RESTScopeNameRoot {
		t.Fatalf("Namespace: %v, %v", mp, err)
	}
	if inner.calls != 2 {
		t.Fatalf("lookups reaching the discovery mapper: %d, want 2 (one per kind)", inner.calls)
	}
	for i := 0; i < 2; i++ {
		if _, err := m.RESTMapping(schema.GroupKind{Group: "example.com", Kind: "Widget"}, "v1"); !meta.IsNoMatchError(err) {
			t.Fatalf("unknown kind: %v, want a no-match error", err)
		}
	}
	if inner.calls != 4 {
		t.Fatalf("a failed lookup must not be kept: %d lookups, want 4", inner.calls)
	}
}
