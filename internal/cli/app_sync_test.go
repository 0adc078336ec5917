package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestParseResources(t *testing.T) {
	got, err := parseResources([]string{"apps:Deployment:web", ":ConfigMap:prod/cfg", "rbac.authorization.k8s.io:ClusterRole:reader"})
	if err != nil {
		t.Fatal(err)
	}
	want := []v1alpha1.SyncOperationResource{
		{Group: "apps", Kind: "Deployment", Name: "web"},
		{Kind: "ConfigMap", Namespace: "prod", Name: "cfg"},
		{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "reader"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"web", "Deployment:web", "apps:Deployment:", "::web", ":ConfigMap:/cfg", ":ConfigMap:prod/", ":ConfigMap:a/b/c", "a:b:c:d"} {
		if _, err := parseResources([]string{bad}); err == nil || !strings.Contains(err.Error(), "--resource") || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: error %v, want one naming the flag and the value", bad, err)
		}
	}
}
