package project

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestOrphanedResourcesSettings(t *testing.T) {
	off := false
	for _, tc := range []struct {
		s    *v1alpha1.OrphanedResourcesMonitorSettings
		warn bool
	}{
		{nil, false},
		{&v1alpha1.OrphanedResourcesMonitorSettings{}, true},
		{&v1alpha1.OrphanedResourcesMonitorSettings{Warn: &off}, false},
	} {
		p := mustNew(t, v1alpha1.AppProjectSpec{OrphanedResources: tc.s})
		if p.WarnsOfOrphans() != tc.warn {
			t.Errorf("%+v: WarnsOfOrphans() = %v, want %v", tc.s, p.WarnsOfOrphans(), tc.warn)
		}
	}
	p := mustNew(t, v1alpha1.AppProjectSpec{
		OrphanedResources:          &v1alpha1.OrphanedResourcesMonitorSettings{Ignore: []v1alpha1.OrphanedResourceKey{{Kind: "Secret", Name: "tls-*"}, {Group: "apps"}}},
		NamespaceResourceBlacklist: []v1alpha1.GroupKind{{Group: "", Kind: "ResourceQuota"}},
	})
	for _, tc := range []struct {
		group, kind, name string
		ignored           bool
	}{
		{"", "Secret", "tls-web", true},
		{"", "Secret", "db", false},
		{"apps", "Deployment", "any", true},
		{"", "ResourceQuota", "q", true},
		{"", "ConfigMap", "tls-web", false},
	} {
		if got := p.IsOrphanIgnored(tc.group, tc.kind, tc.name); got != tc.ignored {
			t.Errorf("IsOrphanIgnored(%q, %q, %q) = %v, want %v", tc.group, tc.kind, tc.name, got, tc.ignored)
		}
	}
	_, err := New(&v1alpha1.AppProject{
		ObjectMeta: metav1.ObjectMeta{Namespace: "argocd", Name: "bad"},
		Spec:       v1alpha1.AppProjectSpec{OrphanedResources: &v1alpha1.OrphanedResourcesMonitorSettings{Ignore: []v1alpha1.OrphanedResourceKey{{Name: "{a,b"}}}},
	})
	if err == nil || !strings.Contains(err.Error(), `spec.orphanedResources.ignore[0].name "{a,b"`) {
		t.Errorf("a bad ignore glob: %v", err)
	}
}
