package e2e

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// TestAppSetKeepsIgnoredFieldsAndPreservedKeys: fields named by
// ignoreApplicationDifferences and labels named by preservedFields that
// someone changed on a generated Application stay as they are when the
// set updates it for another reason; other Applications, and other
// fields, follow the template.
func TestAppSetKeepsIgnoredFieldsAndPreservedKeys(t *testing.T) {
	e := startTether(t)
	ctx := context.Background()
	e.createAppSet(t, `
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: keep}
spec:
  generators:
  - list: {elements: [{env: one}, {env: two}]}
  ignoreApplicationDifferences:
  - name: keep-one
    jsonPointers: [/spec/source/targetRevision]
  preservedFields: {labels: [team]}
  template:
    metadata:
      name: 'keep-{{env}}'
      labels: {generation: first}
    spec:
      source: {repoURL: https://git.invalid/none, targetRevision: main, path: '{{env}}'}
      destination: {namespace: '{{env}}'}
`)
	apps := e.waitSetApps(t, "keep", 30*time.Second, "keep-one", "keep-two")
	for _, name := range []string{"keep-one", "keep-two"} {
		a := apps[name]
		patch := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"team":"blue"}},"spec":{"source":{"targetRevision":"v1.0.0"}}}`))
		if err := e.c.Patch(ctx, a, patch); err != nil {
			t.Fatal(err)
		}
	}
	// An update for another reason: a new template label.
	e.patchAppSet(t, "keep", `{"spec":{"template":{"metadata":{"labels":{"generation":"second"}}}}}`)
	eventually(t, 30*time.Second, "both Applications updated from the template", func(ctx context.Context) (bool, error) {
		for _, name := range []string{"keep-one", "keep-two"} {
			if e.app(t, name).Labels["generation"] != "second" {
				return false, nil
			}
		}
		return true, nil
	})
	one, two := e.app(t, "keep-one"), e.app(t, "keep-two")
	if one.Spec.Source.TargetRevision != "v1.0.0" {
		t.Errorf("keep-one: targetRevision %q, want the ignored field kept at v1.0.0", one.Spec.Source.TargetRevision)
	}
	if two.Spec.Source.TargetRevision != "main" {
		t.Errorf("keep-two (no rule for it): targetRevision %q, want the template's main", two.Spec.Source.TargetRevision)
	}
	for _, a := range []*v1alpha1.Application{one, two} {
		if a.Labels["team"] != "blue" {
			t.Errorf("%s: label team %q, want the preserved blue", a.Name, a.Labels["team"])
		}
	}

	// A rule the set cannot apply is named on the set.
	e.patchAppSet(t, "keep", `{"spec":{"ignoreApplicationDifferences":[{"jsonPointers":["/metadata/labels"]}],"template":{"metadata":{"labels":{"generation":"third"}}}}}`)
	e.waitAppSet(t, "keep", "the bad pointer named", setError(`spec.ignoreApplicationDifferences[0].jsonPointers[0] "/metadata/labels": must be under /spec`))
}
