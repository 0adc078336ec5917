package inventory

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

func cm(ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func TestMarkAndOwner(t *testing.T) {
	app := types.NamespacedName{Namespace: "argocd", Name: "api"}
	obj := cm("prod", "settings")
	Mark(obj, app)
	if got := obj.GetLabels()[AppLabel]; got != "argocd.api" {
		t.Errorf("label = %q", got)
	}
	if got := obj.GetAnnotations()[TrackingAnnotation]; got != "argocd/api:/ConfigMap:prod/settings" {
		t.Errorf("tracking id = %q", got)
	}
	if !BelongsTo(obj, app) {
		t.Error("a marked object must belong to its app")
	}
	if BelongsTo(obj, types.NamespacedName{Namespace: "argocd", Name: "other"}) {
		t.Error("a marked object must not belong to another app")
	}
	copied := obj.DeepCopy()
	copied.SetName("settings-copy")
	if BelongsTo(copied, app) {
		t.Error("a copy under another name must not belong to the app")
	}
	if _, _, ok := Owner(cm("prod", "plain")); ok {
		t.Error("an unmarked object has no owner")
	}
}

func TestLabelValueFitsALabel(t *testing.T) {
	long := types.NamespacedName{Namespace: "argocd", Name: strings.Repeat("a", 80)}
	v := LabelValue(long)
	if len(v) > 63 || v != LabelValue(long) {
		t.Errorf("label value %q is too long or unstable", v)
	}
}

func TestKeyString(t *testing.T) {
	for want, k := range map[string]Key{
		"ConfigMap/prod/a":         {Kind: "ConfigMap", Namespace: "prod", Name: "a"},
		"Namespace/prod":           {Kind: "Namespace", Name: "prod"},
		"Deployment.apps/prod/api": {Group: "apps", Kind: "Deployment", Namespace: "prod", Name: "api"},
		"CustomResourceDefinition.apiextensions.k8s.io/w": {Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition", Name: "w"},
	} {
		if got := k.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
