package plan

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

// fromYAML parses a YAML manifest for a test table.
func fromYAML(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatalf("parse test manifest: %v", err)
	}
	// Through JSON, as from the API server: integers are int64.
	data, err := u.MarshalJSON()
	if err != nil {
		t.Fatalf("marshal test manifest: %v", err)
	}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatalf("unmarshal test manifest: %v", err)
	}
	return u
}

const deploymentYAML = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: prod
  annotations:
    example.com/x: "1"
    keep: "1"
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: app
        image: app:1
        ports:
        - containerPort: 80
          protocol: TCP
      - name: sidecar
        image: sidecar:1
`

// deploymentWithout returns deploymentYAML with the lines holding any of cut removed.
func deploymentWithout(t *testing.T, cut ...string) *unstructured.Unstructured {
	t.Helper()
	var keep []string
outer:
	for _, l := range strings.Split(deploymentYAML, "\n") {
		for _, c := range cut {
			if strings.TrimSpace(l) == c {
				continue outer
			}
		}
		keep = append(keep, l)
	}
	return fromYAML(t, strings.Join(keep, "\n"))
}

func TestNormalize(t *testing.T) {
	liveWithManagers := fromYAML(t, deploymentYAML)
	liveWithManagers.Object["metadata"].(map[string]any)["managedFields"] = []any{
		map[string]any{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
			"fieldsV1": map[string]any{"f:spec": map[string]any{"f:replicas": map[string]any{}}}},
		map[string]any{"manager": "other", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
			"fieldsV1": map[string]any{"f:spec": map[string]any{"f:template": map[string]any{"f:spec": map[string]any{"f:containers": map[string]any{
				`k:{"name":"app"}`: map[string]any{".": map[string]any{}, "f:image": map[string]any{}, "f:name": map[string]any{},
					"f:ports": map[string]any{`k:{"containerPort":80,"protocol":"TCP"}`: map[string]any{".": map[string]any{}, "f:protocol": map[string]any{}}}},
			}}}}}},
		map[string]any{"manager": "tether", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
			"fieldsV1": map[string]any{"f:metadata": map[string]any{"f:annotations": map[string]any{".": map[string]any{}, "f:keep": map[string]any{}}}}},
	}

	tests := []struct {
		name  string
		rules []v1alpha1.ResourceIgnoreDifferences
		live  *unstructured.Unstructured
		want  *unstructured.Unstructured
	}{{
		name:  "a json pointer removes spec.replicas",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", JSONPointers: []string{"/spec/replicas"}}},
		want:  deploymentWithout(t, "replicas: 3"),
	}, {
		name:  "an escaped pointer removes an annotation whose key holds a slash",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", JSONPointers: []string{"/metadata/annotations/example.com~1x"}}},
		want:  deploymentWithout(t, `example.com/x: "1"`),
	}, {
		name:  "a pointer with an array index removes that element",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", JSONPointers: []string{"/spec/template/spec/containers/1"}}},
		want:  deploymentWithout(t, "- name: sidecar", "image: sidecar:1"),
	}, {
		name: "a pointer to a missing field or index leaves the object as it is",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", JSONPointers: []string{
			"/spec/paused", "/status/x/y", "/spec/template/spec/containers/5", "/spec/template/spec/containers/-", "/spec/template/spec/containers/01", "/spec/replicas/x",
		}}},
		want: fromYAML(t, deploymentYAML),
	}, {
		name:  "a jq expression removes the image of the selected container",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", JQPathExpressions: []string{`.spec.template.spec.containers[] | select(.name == "app") | .image`}}},
		want:  deploymentWithout(t, "image: app:1"),
	}, {
		name:  "a jq expression on a missing field leaves the object as it is",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", JQPathExpressions: []string{`.spec.paused`}}},
		want:  fromYAML(t, deploymentYAML),
	}, {
		name:  "managed fields of kube-controller-manager remove spec.replicas",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", ManagedFieldsManagers: []string{"kube-controller-manager"}}},
		live:  liveWithManagers,
		want:  deploymentWithout(t, "replicas: 3"),
	}, {
		name:  "managed fields in keyed list elements remove the owned leaves, key fields included",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", ManagedFieldsManagers: []string{"other"}}},
		live:  liveWithManagers,
		want: fromYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: prod
  annotations:
    example.com/x: "1"
    keep: "1"
spec:
  replicas: 3
  template:
    spec:
      containers:
      - ports:
        - containerPort: 80
      - name: sidecar
        image: sidecar:1
`),
	}, {
		name:  "a managed map member is kept while its listed children go",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", ManagedFieldsManagers: []string{"tether"}}},
		live:  liveWithManagers,
		want:  deploymentWithout(t, `keep: "1"`),
	}, {
		name:  "managers without live leave the object as it is",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", ManagedFieldsManagers: []string{"kube-controller-manager"}}},
		want:  fromYAML(t, deploymentYAML),
	}, {
		name:  "a rule for another kind leaves the object as it is",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "StatefulSet", JSONPointers: []string{"/spec/replicas"}}},
		want:  fromYAML(t, deploymentYAML),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := CompileIgnoreRules(tt.rules)
			if err != nil {
				t.Fatalf("CompileIgnoreRules: %v", err)
			}
			got := fromYAML(t, deploymentYAML)
			if err := Normalize(got, tt.live, rules); err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Normalize (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileIgnoreRulesErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules []v1alpha1.ResourceIgnoreDifferences
		want  string
	}{{
		name: "an invalid jq expression is named by its index",
		rules: []v1alpha1.ResourceIgnoreDifferences{
			{Kind: "ConfigMap"},
			{Kind: "Deployment", JQPathExpressions: []string{".spec["}},
		},
		want: `ignoreDifferences[1].jqPathExpressions[0]: parse ".spec[": `,
	}, {
		name:  "a jq expression cannot close the del it is wrapped in",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Kind: "Deployment", JQPathExpressions: []string{".a, .b", ".a) | (.b"}}},
		want:  `ignoreDifferences[0].jqPathExpressions[1]: parse ".a) | (.b": `,
	}, {
		name:  "a jq expression calling an unknown function does not compile",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Kind: "Deployment", JQPathExpressions: []string{"nosuch(.a)"}}},
		want:  `ignoreDifferences[0].jqPathExpressions[0]: compile "nosuch(.a)": `,
	}, {
		name:  "a pointer without a leading slash is named by its index",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Kind: "ConfigMap"}, {Kind: "Deployment", JSONPointers: []string{"/spec", "spec/replicas"}}},
		want:  `ignoreDifferences[1].jsonPointers[1]: parse "spec/replicas": must start with "/"`,
	}, {
		name:  "a pointer with a bad escape is an error",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Kind: "Deployment", JSONPointers: []string{"/a~2b"}}},
		want:  `ignoreDifferences[0].jsonPointers[0]: parse "/a~2b": bad escape`,
	}, {
		name:  "a bad name glob is an error",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Kind: "Deployment", Name: "api-["}},
		want:  `ignoreDifferences[0].name: parse "api-[": `,
	}, {
		name:  "a rule without kind is an error",
		rules: []v1alpha1.ResourceIgnoreDifferences{{Group: "apps"}},
		want:  `ignoreDifferences[0].kind: must not be empty`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileIgnoreRules(tt.rules)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("CompileIgnoreRules error = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestNormalizeJQErrorNamesObjectAndRule(t *testing.T) {
	rules, err := CompileIgnoreRules([]v1alpha1.ResourceIgnoreDifferences{{Kind: "ConfigMap"}, {Kind: "*", JQPathExpressions: []string{`error("boom")`}}})
	if err != nil {
		t.Fatalf("CompileIgnoreRules: %v", err)
	}
	cm := testConfigMap("a", "x")
	err = Normalize(cm, nil, rules)
	want := `ConfigMap/prod/cfg: ignoreDifferences[1].jqPathExpressions[0]: "error(\"boom\")": `
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Normalize error = %v, want prefix %q", err, want)
	}
	if diff := cmp.Diff(testConfigMap("a", "x"), cm); diff != "" {
		t.Errorf("object changed on error (-want +got):\n%s", diff)
	}
}

func TestIgnoreRuleMatches(t *testing.T) {
	deploy := fromYAML(t, deploymentYAML)
	cm := testConfigMap("a", "x")
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "prod"}}}
	tests := []struct {
		name string
		rule v1alpha1.ResourceIgnoreDifferences
		obj  *unstructured.Unstructured
		want bool
	}{
		{name: "group and kind match exactly", rule: v1alpha1.ResourceIgnoreDifferences{Group: "apps", Kind: "Deployment"}, obj: deploy, want: true},
		{name: "an empty group is the core group", rule: v1alpha1.ResourceIgnoreDifferences{Kind: "ConfigMap"}, obj: cm, want: true},
		{name: "an empty group does not match apps", rule: v1alpha1.ResourceIgnoreDifferences{Kind: "Deployment"}, obj: deploy, want: false},
		{name: "another group does not match", rule: v1alpha1.ResourceIgnoreDifferences{Group: "batch", Kind: "Deployment"}, obj: deploy, want: false},
		{name: "a star kind matches any kind in the group", rule: v1alpha1.ResourceIgnoreDifferences{Group: "apps", Kind: "*"}, obj: deploy, want: true},
		{name: "a star kind keeps the group", rule: v1alpha1.ResourceIgnoreDifferences{Kind: "*"}, obj: deploy, want: false},
		{name: "a star group matches any group", rule: v1alpha1.ResourceIgnoreDifferences{Group: "*", Kind: "*"}, obj: deploy, want: true},
		{name: "another kind does not match", rule: v1alpha1.ResourceIgnoreDifferences{Group: "apps", Kind: "StatefulSet"}, obj: deploy, want: false},
		{name: "an exact name matches", rule: v1alpha1.ResourceIgnoreDifferences{Group: "apps", Kind: "Deployment", Name: "api"}, obj: deploy, want: true},
		{name: "a name glob matches", rule: v1alpha1.ResourceIgnoreDifferences{Group: "apps", Kind: "Deployment", Name: "a*"}, obj: deploy, want: true},
		{name: "another name does not match", rule: v1alpha1.ResourceIgnoreDifferences{Group: "apps", Kind: "Deployment", Name: "web"}, obj: deploy, want: false},
		{name: "a namespace glob matches", rule: v1alpha1.ResourceIgnoreDifferences{Group: "apps", Kind: "Deployment", Namespace: "pr?d"}, obj: deploy, want: true},
		{name: "another namespace does not match", rule: v1alpha1.ResourceIgnoreDifferences{Group: "apps", Kind: "Deployment", Namespace: "dev"}, obj: deploy, want: false},
		{name: "a namespace rule does not match a cluster-scoped object", rule: v1alpha1.ResourceIgnoreDifferences{Kind: "Namespace", Namespace: "prod"}, obj: ns, want: false},
		{name: "a nil object matches nothing", rule: v1alpha1.ResourceIgnoreDifferences{Group: "*", Kind: "*"}, obj: nil, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := CompileIgnoreRules([]v1alpha1.ResourceIgnoreDifferences{tt.rule})
			if err != nil {
				t.Fatalf("CompileIgnoreRules: %v", err)
			}
			if got := rules[0].Matches(tt.obj); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
			if got := len(IgnoreRulesFor(tt.obj, rules)) == 1; got != tt.want {
				t.Errorf("IgnoreRulesFor holds the rule = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParsePointer(t *testing.T) {
	tests := []struct {
		name    string
		pointer string
		want    []string
	}{
		{name: "plain tokens split on slashes", pointer: "/spec/replicas", want: []string{"spec", "replicas"}},
		{name: "tilde one is a slash", pointer: "/metadata/annotations/example.com~1x", want: []string{"metadata", "annotations", "example.com/x"}},
		{name: "tilde zero is a tilde and is unescaped last", pointer: "/a~01b~0", want: []string{"a~1b~"}},
		{name: "an empty token is an empty key", pointer: "/", want: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePointer(tt.pointer)
			if err != nil {
				t.Fatalf("parsePointer: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parsePointer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeManagedSetAndIndexElements(t *testing.T) {
	manifest := `
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: prod
  finalizers: [a.example.com/x, b.example.com/y]
spec:
  args: [one, two, three]
`
	live := fromYAML(t, manifest)
	live.Object["metadata"].(map[string]any)["managedFields"] = []any{map[string]any{
		"manager": "ops", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1",
		"fieldsV1": map[string]any{
			"f:metadata": map[string]any{"f:finalizers": map[string]any{`v:"a.example.com/x"`: map[string]any{}}},
			"f:spec":     map[string]any{"f:args": map[string]any{"i:0": map[string]any{}, "i:2": map[string]any{}}},
		},
	}}
	rules, err := CompileIgnoreRules([]v1alpha1.ResourceIgnoreDifferences{{Kind: "ConfigMap", ManagedFieldsManagers: []string{"ops"}}})
	if err != nil {
		t.Fatalf("CompileIgnoreRules: %v", err)
	}
	got := fromYAML(t, manifest)
	if err := Normalize(got, live, rules); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	want := fromYAML(t, `
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: prod
  finalizers: [b.example.com/y]
spec:
  args: [two]
`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Normalize (-want +got):\n%s", diff)
	}
}

func TestNormalizeBoundsJQTime(t *testing.T) {
	rules, err := CompileIgnoreRules([]v1alpha1.ResourceIgnoreDifferences{{Kind: "ConfigMap", JQPathExpressions: []string{`.data | repeat(.)`}}})
	if err != nil {
		t.Fatalf("CompileIgnoreRules: %v", err)
	}
	// The expression never ends: only the deadline stops it (a run that
	// ignored it would hang until the test binary's timeout).
	err = Normalize(testConfigMap("a", "x"), nil, rules)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Normalize error = %v, want a deadline exceeded", err)
	}
}
