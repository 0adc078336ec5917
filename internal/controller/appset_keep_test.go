package controller

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func specJSON(t *testing.T, s string) []byte {
	t.Helper()
	var spec v1alpha1.ApplicationSpec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		t.Fatal(err)
	}
	b, err := canonicalSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeptSpec(t *testing.T) {
	desired := specJSON(t, `{"source":{"repoURL":"https://git.example/infra","targetRevision":"main","path":"a","helm":{"valuesObject":{"replicas":2}}},"destination":{"namespace":"a"}}`)
	var cur map[string]any
	_ = json.Unmarshal([]byte(`{"source":{"repoURL":"https://git.example/infra","targetRevision":"v1.2.3","path":"a"},"destination":{"namespace":"a"},"syncPolicy":{"automated":{"prune":true}}}`), &cur)
	set := &v1alpha1.ApplicationSet{Spec: v1alpha1.ApplicationSetSpec{IgnoreApplicationDifferences: []v1alpha1.ApplicationSetIgnoreDifferences{
		{JSONPointers: []string{"/spec/source/targetRevision"}},
		{Name: "other", JQPathExpressions: []string{".spec.destination"}},
		{Name: "app", JQPathExpressions: []string{".spec.source.helm", ".spec.syncPolicy"}},
	}}}
	got, err := keptSpec(set, "app", desired, cur)
	if err != nil {
		t.Fatal(err)
	}
	want := specJSON(t, `{"source":{"repoURL":"https://git.example/infra","targetRevision":"v1.2.3","path":"a"},"destination":{"namespace":"a"},"syncPolicy":{"automated":{"prune":true}}}`)
	if string(got) != string(want) {
		t.Errorf("kept spec\n got %s\nwant %s", got, want)
	}
	// No rule for this name: the desired spec as it is.
	none := &v1alpha1.ApplicationSet{Spec: v1alpha1.ApplicationSetSpec{IgnoreApplicationDifferences: []v1alpha1.ApplicationSetIgnoreDifferences{{Name: "x", JSONPointers: []string{"/spec/source"}}}}}
	if got, _ := keptSpec(none, "app", desired, cur); string(got) != string(desired) {
		t.Errorf("a rule for another app changed the spec: %s", got)
	}
	for _, tc := range []struct {
		rule v1alpha1.ApplicationSetIgnoreDifferences
		want string
	}{
		{v1alpha1.ApplicationSetIgnoreDifferences{JSONPointers: []string{"/metadata/labels"}}, `spec.ignoreApplicationDifferences[0].jsonPointers[0] "/metadata/labels": must be under /spec`},
		{v1alpha1.ApplicationSetIgnoreDifferences{JQPathExpressions: []string{".metadata"}}, `spec.ignoreApplicationDifferences[0].jqPathExpressions[0] ".metadata": must start with .spec`},
		{v1alpha1.ApplicationSetIgnoreDifferences{JQPathExpressions: []string{".spec["}}, `spec.ignoreApplicationDifferences[0].jqPathExpressions[0] ".spec[": parse`},
		{v1alpha1.ApplicationSetIgnoreDifferences{JQPathExpressions: []string{".spec | length"}}, `spec.ignoreApplicationDifferences[0].jqPathExpressions[0] ".spec | length"`},
	} {
		set := &v1alpha1.ApplicationSet{Spec: v1alpha1.ApplicationSetSpec{IgnoreApplicationDifferences: []v1alpha1.ApplicationSetIgnoreDifferences{tc.rule}}}
		if _, err := keptSpec(set, "app", desired, cur); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error containing %q", tc.rule, err, tc.want)
		}
	}
}

func TestPointerToJQ(t *testing.T) {
	for p, want := range map[string]string{
		"/spec/sources/0/targetRevision": `.["spec"]["sources"][0]["targetRevision"]`,
		"/spec/info/a~1b":                `.["spec"]["info"]["a/b"]`,
	} {
		if got, err := pointerToJQ(p); err != nil || got != want {
			t.Errorf("pointerToJQ(%q) = %q, %v; want %q", p, got, err, want)
		}
	}
}
