package render

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// kustomizeRepo is testdata/kustomize with a component and a patch file
// added to the dev overlay's repository.
func kustomizeRepo(t *testing.T) string {
	t.Helper()
	root := copyTree(t, "testdata/kustomize")
	writeFile(t, filepath.Join(root, "apps/api/components/debug/kustomization.yaml"), `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- target: {kind: Deployment}
  patch: |-
    - op: add
      path: /metadata/annotations
      value: {debug: "on"}
`)
	writeFile(t, filepath.Join(root, "apps/api/dev/memory.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
      - name: api
        resources: {limits: {memory: 512Mi}}
`)
	return root
}

func renderDev(t *testing.T, root string, k *v1alpha1.ApplicationSourceKustomize) (*Result, error) {
	t.Helper()
	req := Request{Root: root, Source: v1alpha1.ApplicationSource{Path: "apps/api/dev", Kustomize: k}}
	return renderBoth(t, context.Background(), req, DefaultOptions())
}

func TestRenderKustomizeReplicasPatchesAndComponents(t *testing.T) {
	root := kustomizeRepo(t)
	res, err := renderDev(t, root, &v1alpha1.ApplicationSourceKustomize{
		Replicas: []v1alpha1.KustomizeReplica{{Name: "dev-api", Count: intstr.FromString("4")}},
		Patches: []v1alpha1.KustomizePatch{
			{Path: "memory.yaml"},
			{Target: &v1alpha1.KustomizeSelector{Kind: "Service"}, Patch: `[{"op": "add", "path": "/metadata/annotations", "value": {"exposed": "yes"}}]`},
		},
		Components:              []string{"../components/debug", "../components/absent"},
		IgnoreMissingComponents: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	d := find(t, res.Objects, "Deployment")
	if n, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); n != 4 {
		t.Errorf("replicas %d, want 4", n)
	}
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if mem, _, _ := unstructured.NestedString(cs[0].(map[string]any), "resources", "limits", "memory"); mem != "512Mi" {
		t.Errorf("memory %q, want 512Mi from the patch file", mem)
	}
	if d.GetAnnotations()["debug"] != "on" {
		t.Errorf("annotations %v: the component was not used", d.GetAnnotations())
	}
	if svc := find(t, res.Objects, "Service"); svc.GetAnnotations()["exposed"] != "yes" {
		t.Errorf("Service annotations %v: the inline patch was not used", svc.GetAnnotations())
	}
	// The patch file and the component are inputs of the render.
	for _, want := range []string{"apps/api/components/debug", "apps/api/dev"} {
		found := false
		for _, in := range res.Inputs {
			found = found || in == want
		}
		if !found {
			t.Errorf("inputs %q lack %q", res.Inputs, want)
		}
	}
}

func TestRenderKustomizeLabelWithoutSelector(t *testing.T) {
	root := kustomizeRepo(t)
	for _, includeTemplates := range []bool{false, true} {
		res, err := renderDev(t, root, &v1alpha1.ApplicationSourceKustomize{
			CommonLabels:          map[string]string{"team": "core"},
			LabelWithoutSelector:  true,
			LabelIncludeTemplates: includeTemplates,
		})
		if err != nil {
			t.Fatal(err)
		}
		d := find(t, res.Objects, "Deployment")
		if d.GetLabels()["team"] != "core" {
			t.Errorf("labels %v", d.GetLabels())
		}
		sel, _, _ := unstructured.NestedStringMap(d.Object, "spec", "selector", "matchLabels")
		if diff := cmp.Diff(map[string]string{"app": "api"}, sel); diff != "" {
			t.Errorf("selector changed (-want +got):\n%s", diff)
		}
		tmpl, _, _ := unstructured.NestedStringMap(d.Object, "spec", "template", "metadata", "labels")
		if got := tmpl["team"] == "core"; got != includeTemplates {
			t.Errorf("labelIncludeTemplates=%v: template labels %v", includeTemplates, tmpl)
		}
	}
}

func TestRenderKustomizeOverrideErrors(t *testing.T) {
	kname := "apps/api/dev/kustomization.yaml"
	tests := []struct {
		name string
		k    *v1alpha1.ApplicationSourceKustomize
		want wantErr
	}{
		{"a replica count that is no number", &v1alpha1.ApplicationSourceKustomize{Replicas: []v1alpha1.KustomizeReplica{{Name: "dev-api", Count: intstr.FromString("three")}}},
			wantErr{file: kname, contains: `kustomize.replicas[0].count: "three" is not a number`}},
		{"a replica without a name", &v1alpha1.ApplicationSourceKustomize{Replicas: []v1alpha1.KustomizeReplica{{Count: intstr.FromInt32(2)}}},
			wantErr{file: kname, contains: "kustomize.replicas[0].name: required"}},
		{"an empty patch", &v1alpha1.ApplicationSourceKustomize{Patches: []v1alpha1.KustomizePatch{{Target: &v1alpha1.KustomizeSelector{Kind: "Service"}}}},
			wantErr{file: kname, contains: "kustomize.patches[0]: needs a path or an inline patch"}},
		{"a remote patch", &v1alpha1.ApplicationSourceKustomize{Patches: []v1alpha1.KustomizePatch{{Path: "https://example.com/p.yaml"}}},
			wantErr{file: kname, contains: "remote patches are not supported"}},
		{"a patch file outside the repository", &v1alpha1.ApplicationSourceKustomize{Patches: []v1alpha1.KustomizePatch{{Path: "../../../../../etc/passwd"}}},
			wantErr{is: ErrPathEscapes, contains: "path escapes the repository"}},
		{"a missing component", &v1alpha1.ApplicationSourceKustomize{Components: []string{"../components/absent"}},
			wantErr{file: kname, contains: "absent"}},
		{"a remote component", &v1alpha1.ApplicationSourceKustomize{Components: []string{"github.com/example/repo//components/x?ref=v1"}, IgnoreMissingComponents: true},
			wantErr{file: kname, contains: "remote bases are not supported"}},
		{"a component outside the repository", &v1alpha1.ApplicationSourceKustomize{Components: []string{"../../../../../tmp"}, IgnoreMissingComponents: true},
			wantErr{file: kname, is: ErrPathEscapes, contains: "path escapes the repository"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderDev(t, kustomizeRepo(t), tt.k)
			checkErr(t, err, tt.want)
		})
	}
}
