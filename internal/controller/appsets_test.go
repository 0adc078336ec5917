package controller

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestGeneratedFinalizers(t *testing.T) {
	const rf = v1alpha1.ResourcesFinalizer
	for _, c := range []struct {
		name              string
		template, current []string
		preserve          bool
		want              []string
	}{
		{"the resources finalizer is added by default", nil, nil, false, []string{rf}},
		{"a variant in the template is kept, not doubled", []string{rf + "/background"}, nil, false, []string{rf + "/background"}},
		{"preserveResourcesOnDeletion drops every variant", []string{rf, rf + "/foreground"}, []string{rf}, true, []string{}},
		{"other finalizers on the app are kept once", []string{"a", "a"}, []string{"b", "a", rf}, false, []string{"a", rf, "b"}},
	} {
		got := generatedFinalizers(c.template, c.current, c.preserve)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestUsesGitFindsNestedGitGenerators(t *testing.T) {
	nested, _ := json.Marshal(map[string]any{"generators": []any{
		map[string]any{"list": map[string]any{"elements": []any{}}},
		map[string]any{"git": map[string]any{"repoURL": "https://x", "revision": "main"}},
	}})
	withGit := &v1alpha1.ApplicationSet{Spec: v1alpha1.ApplicationSetSpec{Generators: []v1alpha1.ApplicationSetGenerator{{
		Matrix: &v1alpha1.MatrixGenerator{Generators: []v1alpha1.ApplicationSetNestedGenerator{
			{List: &v1alpha1.ListGenerator{}},
			{Matrix: &apiextensionsv1.JSON{Raw: nested}},
		}},
	}}}}
	if !usesGit(withGit) {
		t.Error("a git generator inside a nested matrix was not found")
	}
	listOnly := &v1alpha1.ApplicationSet{Spec: v1alpha1.ApplicationSetSpec{Generators: []v1alpha1.ApplicationSetGenerator{{List: &v1alpha1.ListGenerator{}}}}}
	if usesGit(listOnly) {
		t.Error("a list-only set is polled as if it read Git")
	}
}

func TestGitGeneratorsOf(t *testing.T) {
	var set v1alpha1.ApplicationSet
	manifest := `{"spec": {"generators": [
	  {"list": {"elements": [{"env": "dev"}]}},
	  {"git": {"repoURL": "https://git.example/a", "revision": "main", "directories": [{"path": "apps/*"}]}},
	  {"matrix": {"generators": [
	    {"clusters": {}},
	    {"git": {"repoURL": "https://git.example/b", "files": [{"path": "c/*.json"}]}}]}}],
	  "template": {"metadata": {}, "spec": {"destination": {}}}}}`
	if err := json.Unmarshal([]byte(manifest), &set); err != nil {
		t.Fatal(err)
	}
	got := gitGeneratorsOf(&set)
	slices.SortFunc(got, func(a, b gitSource) int { return strings.Compare(a.repoURL, b.repoURL) })
	want := []gitSource{{"https://git.example/a", "main"}, {"https://git.example/b", ""}}
	if !slices.Equal(got, want) || !usesGit(&set) {
		t.Errorf("got %v, want %v", got, want)
	}
	set.Spec.Generators = set.Spec.Generators[:1]
	if usesGit(&set) {
		t.Error("a list generator alone reads Git")
	}
}
