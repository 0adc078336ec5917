package v1alpha1

import (
	"reflect"
	"strings"
	"testing"
)

func TestPinRevision(t *testing.T) {
	single := &ApplicationSpec{Source: &ApplicationSource{RepoURL: "a"}}
	multi := &ApplicationSpec{Sources: []ApplicationSource{{RepoURL: "a"}, {RepoURL: "b"}, {RepoURL: "c"}}}
	cases := []struct {
		name     string
		spec     *ApplicationSpec
		rev      string
		position int
		want     SyncOperation
		err      string
	}{
		{name: "single", spec: single, rev: "v2", want: SyncOperation{Revision: "v2"}},
		{name: "single, position 1", spec: single, rev: "v2", position: 1, want: SyncOperation{Revision: "v2"}},
		{name: "single, position 2", spec: single, rev: "v2", position: 2, err: "the app has one source"},
		{name: "multi, nothing pinned", spec: multi},
		{name: "multi, second source", spec: multi, rev: "1.2.0", position: 2, want: SyncOperation{Revisions: []string{"", "1.2.0", ""}}},
		{name: "multi without a position", spec: multi, rev: "1.2.0", err: `say which one revision "1.2.0" is for with its position, 1 to 3`},
		{name: "multi, position out of range", spec: multi, rev: "x", position: 4, err: "the app has 3 sources (spec.sources), numbered 1 to 3"},
		{name: "multi, position without revision", spec: multi, position: 1, err: "give the revision for it too"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.spec.PinRevision(tc.rev, tc.position)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
