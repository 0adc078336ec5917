package health

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// computeCase is one object, as YAML, and the health it must get.
type computeCase struct {
	name string
	yaml string
	want Status
}

// runCompute runs Compute on every case as a subtest.
func runCompute(t *testing.T, tests []computeCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compute(parse(t, tt.yaml))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Compute() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// parse decodes a YAML object the way client-go decodes JSON, so numbers
// are int64 as on live objects.
func parse(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatalf("fixture is not YAML: %v", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatalf("fixture is not an object: %v", err)
	}
	return u
}
