package appset

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/clusters"
)

// parseSet reads an ApplicationSet manifest.
func parseSet(t *testing.T, manifest string) *v1alpha1.ApplicationSet {
	t.Helper()
	set := &v1alpha1.ApplicationSet{}
	if err := yaml.UnmarshalStrict([]byte(manifest), set); err != nil {
		t.Fatalf("parse ApplicationSet: %v", err)
	}
	return set
}

func mustGenerate(t *testing.T, set *v1alpha1.ApplicationSet, in Inputs) []*v1alpha1.Application {
	t.Helper()
	apps, err := Generate(context.Background(), set, in)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return apps
}

// wantError runs Generate and checks that it fails with every fragment
// in its message and returns no Applications.
func wantError(t *testing.T, set *v1alpha1.ApplicationSet, in Inputs, fragments ...string) {
	t.Helper()
	apps, err := Generate(context.Background(), set, in)
	if err == nil {
		t.Fatalf("Generate succeeded with %d Applications, want an error", len(apps))
	}
	if apps != nil {
		t.Errorf("Generate returned %d Applications with its error, want none", len(apps))
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
}

func names(apps []*v1alpha1.Application) []string {
	var out []string
	for _, a := range apps {
		out = append(out, a.Name)
	}
	return out
}

func wantNames(t *testing.T, apps []*v1alpha1.Application, want ...string) {
	t.Helper()
	if got := names(apps); !reflect.DeepEqual(got, want) {
		t.Fatalf("Applications %q, want %q", got, want)
	}
}

const seed = `
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: api, namespace: argocd}
spec:
  generators:
  - list:
      elements: [{env: dev}, {env: staging}, {env: prod}]
  template:
    metadata: {name: 'api-{{env}}'}
    spec:
      project: default
      source: {repoURL: https://git.example/infra, targetRevision: main, path: 'apps/api/{{env}}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{env}}'}
`

func TestListFlat(t *testing.T) {
	apps := mustGenerate(t, parseSet(t, seed), Inputs{})
	wantNames(t, apps, "api-dev", "api-staging", "api-prod")
	for _, a := range apps {
		env := strings.TrimPrefix(a.Name, "api-")
		if a.Namespace != "argocd" {
			t.Errorf("%s: namespace %q, want the set's, argocd", a.Name, a.Namespace)
		}
		if a.APIVersion != "argoproj.io/v1alpha1" || a.Kind != "Application" {
			t.Errorf("%s: %s %s, want argoproj.io/v1alpha1 Application", a.Name, a.APIVersion, a.Kind)
		}
		if a.Spec.Source.Path != "apps/api/"+env || a.Spec.Destination.Namespace != env {
			t.Errorf("%s: path %q namespace %q", a.Name, a.Spec.Source.Path, a.Spec.Destination.Namespace)
		}
		if a.Spec.Source.RepoURL != "https://git.example/infra" || a.Spec.Project != "default" {
			t.Errorf("%s: untemplated fields changed: %+v", a.Name, a.Spec)
		}
	}
}

func TestListFlatFlattensAndKeepsUnknownTags(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - list:
      elements:
      - cluster: {name: east, url: 'https://east.example'}
        replicas: 3
        enabled: true
        zones: [a, b]
        values: {tier: gold}
  template:
    metadata:
      name: '{{ cluster.name }}-{{replicas}}'
      labels: {'{{cluster.name}}-tier': '{{values.tier}}'}
      annotations: {a: '{{enabled}} {{zones.1}} {{unknown}} {{ cluster.url }}'}
    spec:
      destination: {server: '{{cluster.url}}'}
`)
	apps := mustGenerate(t, set, Inputs{})
	wantNames(t, apps, "east-3")
	a := apps[0]
	if got := a.Annotations["a"]; got != "true b {{unknown}} https://east.example" {
		t.Errorf("annotation %q", got)
	}
	if got := a.Labels["east-tier"]; got != "gold" {
		t.Errorf("labels %v, want the key templated too", a.Labels)
	}
	if a.Spec.Destination.Server != "https://east.example" {
		t.Errorf("server %q", a.Spec.Destination.Server)
	}
}

func TestListGoTemplate(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - list:
      elements:
      - cluster: {name: East_1, url: 'https://east.example'}
        replicas: 3
        zones: [a, b]
  template:
    metadata:
      name: '{{ normalize .cluster.name }}-{{ .replicas }}'
      annotations:
        zone: '{{ index .zones 1 }}'
        upper: '{{ .cluster.name | upper }}'
        slug: '{{ slugify 10 "Hello World Again" }}'
        yaml: '{{ toYaml .zones }}'
        sum: '{{ add .replicas 1 }}'
    spec:
      destination: {server: '{{.cluster.url}}'}
`)
	apps := mustGenerate(t, set, Inputs{})
	wantNames(t, apps, "east-1-3")
	want := map[string]string{"zone": "b", "upper": "EAST_1", "slug": "hello", "yaml": "- a\n- b", "sum": "4"}
	if !reflect.DeepEqual(apps[0].Annotations, want) {
		t.Errorf("annotations %v, want %v", apps[0].Annotations, want)
	}
}

func TestGoTemplateMissingKey(t *testing.T) {
	manifest := `
metadata: {name: s, namespace: ns}
spec:
  goTemplate: true
  goTemplateOptions: [OPTIONS]
  generators:
  - list:
      elements: [{env: dev}, {other: x}]
  template:
    metadata: {name: 'app-{{.env}}'}
    spec:
      destination: {server: https://kubernetes.default.svc}
`
	set := parseSet(t, strings.Replace(manifest, "OPTIONS", `"missingkey=error"`, 1))
	wantError(t, set, Inputs{}, "spec.generators[0].list.elements[1]", "spec.template.metadata.name", `"env"`)

	// Without the option a missing key renders "<no value>", which is
	// not a valid name.
	set = parseSet(t, strings.Replace(manifest, "OPTIONS", "", 1))
	wantError(t, set, Inputs{}, "spec.generators[0].list.elements[1]", "metadata.name", "<no value>")

	set = parseSet(t, strings.Replace(manifest, "OPTIONS", `"missingkey=maybe"`, 1))
	wantError(t, set, Inputs{}, "spec.goTemplateOptions[0]")
}

func TestTemplateSyntaxError(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  goTemplate: true
  generators:
  - list: {elements: [{env: dev}]}
  template:
    metadata: {name: 'app-{{.env'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	wantError(t, set, Inputs{}, "spec.generators[0].list.elements[0]", "spec.template.metadata.name")
}

func TestDuplicateNames(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - list: {elements: [{env: dev, n: "1"}, {env: prod, n: "2"}]}
  - list: {elements: [{env: dev, n: "3"}]}
  template:
    metadata: {name: 'app-{{env}}'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	wantError(t, set, Inputs{}, "spec.generators[0].list.elements[0] and spec.generators[1].list.elements[0]", "ns/app-dev")
}

func TestInvalidName(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - list: {elements: [{env: Dev_1}]}
  template:
    metadata: {name: 'app-{{env}}', labels: {env: '{{env}}!'}}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	wantError(t, set, Inputs{}, "spec.generators[0].list.elements[0]", `metadata.name "app-Dev_1"`)

	set.Spec.Template.Metadata.Name = "app"
	wantError(t, set, Inputs{}, "metadata.labels[env]")
}

func TestTemplateNamespaceWins(t *testing.T) {
	set := parseSet(t, seed)
	set.Spec.Template.Metadata.Namespace = "apps-{{env}}"
	apps := mustGenerate(t, set, Inputs{})
	if apps[0].Namespace != "apps-dev" {
		t.Errorf("namespace %q, want the template's", apps[0].Namespace)
	}
}

func TestGeneratorTemplateOverride(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - list:
      elements: [{env: dev}]
      template:
        metadata: {labels: {from: generator}}
        spec:
          source: {repoURL: '', path: 'override/{{env}}'}
          destination: {}
  - list:
      elements: [{env: prod}]
  template:
    metadata: {name: 'app-{{env}}', labels: {team: a}}
    spec:
      project: default
      source: {repoURL: https://git.example/r, path: 'default/{{env}}'}
      destination: {server: https://kubernetes.default.svc, namespace: '{{env}}'}
`)
	apps := mustGenerate(t, set, Inputs{})
	wantNames(t, apps, "app-dev", "app-prod")
	dev, prod := apps[0], apps[1]
	if dev.Spec.Source.Path != "override/dev" || dev.Spec.Source.RepoURL != "https://git.example/r" {
		t.Errorf("dev source %+v, want the generator's path over the set's source", dev.Spec.Source)
	}
	if !reflect.DeepEqual(dev.Labels, map[string]string{"team": "a", "from": "generator"}) {
		t.Errorf("dev labels %v", dev.Labels)
	}
	if dev.Spec.Destination.Namespace != "dev" || dev.Spec.Destination.Server == "" {
		t.Errorf("dev destination %+v, want the set's", dev.Spec.Destination)
	}
	if prod.Spec.Source.Path != "default/prod" || len(prod.Labels) != 1 {
		t.Errorf("prod %+v %v: the override leaked into another generator", prod.Spec.Source, prod.Labels)
	}
}

func TestTemplatePatch(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - list:
      elements:
      - {cluster: dev, autoSync: true, prune: true, valueFiles: [values.large.yaml, values.debug.yaml]}
      - {cluster: prod, autoSync: false, prune: false, valueFiles: []}
  template:
    metadata: {name: '{{.cluster}}-app', labels: {keep: me, drop: me}}
    spec:
      project: default
      source: {repoURL: https://git.example/r, path: 'guestbook/{{.cluster}}'}
      destination: {server: https://kubernetes.default.svc, namespace: guestbook}
  templatePatch: |
    metadata:
      labels:
        drop: null
    spec:
      source:
        helm:
          valueFiles:
          {{- range $f := .valueFiles }}
            - {{ $f }}
          {{- end }}
    {{- if .autoSync }}
      syncPolicy:
        automated:
          prune: {{ .prune }}
    {{- end }}
`)
	apps := mustGenerate(t, set, Inputs{})
	wantNames(t, apps, "dev-app", "prod-app")
	dev, prod := apps[0], apps[1]
	if dev.Spec.SyncPolicy == nil || !dev.Spec.SyncPolicy.Automated.Prune {
		t.Errorf("dev syncPolicy %+v, want automated prune", dev.Spec.SyncPolicy)
	}
	if got := dev.Spec.Source.Helm.ValueFiles; !reflect.DeepEqual(got, []string{"values.large.yaml", "values.debug.yaml"}) {
		t.Errorf("dev valueFiles %q", got)
	}
	if dev.Spec.Source.Path != "guestbook/dev" || dev.Spec.Source.RepoURL == "" {
		t.Errorf("dev source %+v: the patch must merge, not replace", dev.Spec.Source)
	}
	if !reflect.DeepEqual(dev.Labels, map[string]string{"keep": "me"}) {
		t.Errorf("dev labels %v: null deletes", dev.Labels)
	}
	if prod.Spec.SyncPolicy != nil {
		t.Errorf("prod syncPolicy %+v, want none", prod.Spec.SyncPolicy)
	}

	set.Spec.TemplatePatch = "spec:\n  project: other\n"
	wantError(t, set, Inputs{}, "spec.templatePatch", "spec.project")

	set.Spec.TemplatePatch = "spec:\n  syncPolicy: {automated: {prune: 'yes'}}\n"
	wantError(t, set, Inputs{}, "spec.generators[0].list.elements[0]", "prune")

	set.Spec.TemplatePatch = "spec:\n  source: [\n"
	wantError(t, set, Inputs{}, "spec.templatePatch", "not valid YAML")
}

func testClusters() []*clusters.Cluster {
	return []*clusters.Cluster{
		clusters.InCluster(nil),
		{Name: "staging_1", Server: "https://1.2.3.4", Project: "team",
			Labels:      map[string]string{clusters.SecretTypeLabel: "cluster", "env": "staging"},
			Annotations: map[string]string{"owner": "ops", "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
		{Name: "prod", Server: "https://2.4.6.8",
			Labels: map[string]string{clusters.SecretTypeLabel: "cluster", "env": "prod"}},
	}
}

func TestClustersFlat(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - clusters:
      values: {rev: 'rev-{{metadata.labels.env}}'}
  template:
    metadata:
      name: 'app-{{nameNormalized}}'
      annotations: {env: '{{metadata.labels.env}}', owner: '{{metadata.annotations.owner}}', rev: '{{values.rev}}', project: '{{project}}'}
    spec:
      destination: {server: '{{server}}'}
`)
	apps := mustGenerate(t, set, Inputs{Clusters: testClusters()})
	wantNames(t, apps, "app-in-cluster", "app-staging-1", "app-prod")
	st := apps[1]
	want := map[string]string{"env": "staging", "owner": "ops", "rev": "rev-staging", "project": "team"}
	if !reflect.DeepEqual(st.Annotations, want) || st.Spec.Destination.Server != "https://1.2.3.4" {
		t.Errorf("staging: %v %s, want %v", st.Annotations, st.Spec.Destination.Server, want)
	}
	if got := apps[0].Annotations["env"]; got != "{{metadata.labels.env}}" {
		t.Errorf("in-cluster env annotation %q: a missing label stays a tag", got)
	}
}

func TestClustersSelectorAndGoTemplate(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - clusters:
      selector:
        matchLabels: {argocd.argoproj.io/secret-type: cluster}
        matchExpressions: [{key: env, operator: In, values: [prod, staging]}]
      values: {name: '{{.name}}', env: '{{index .metadata.labels "env"}}'}
  template:
    metadata:
      name: '{{.nameNormalized}}-app'
      annotations: {v: '{{.values.name}}/{{.values.env}}'}
    spec:
      destination: {server: '{{.server}}'}
`)
	apps := mustGenerate(t, set, Inputs{Clusters: testClusters()})
	wantNames(t, apps, "staging-1-app", "prod-app")
	if got := apps[1].Annotations["v"]; got != "prod/prod" {
		t.Errorf("annotation %q", got)
	}

	// An empty selector takes the in-cluster destination too; one asking
	// for a label cannot match it.
	set.Spec.Generators[0].Clusters.Selector.MatchLabels = nil
	set.Spec.Generators[0].Clusters.Selector.MatchExpressions[0].Operator = "DoesNotExist"
	apps = mustGenerate(t, set, Inputs{Clusters: testClusters()})
	wantNames(t, apps, "in-cluster-app")

	set.Spec.Generators[0].Clusters.Selector.MatchExpressions[0].Operator = "Near"
	wantError(t, set, Inputs{Clusters: testClusters()}, "spec.generators[0].clusters.selector.matchExpressions[0].operator")
}

func TestPostSelector(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - list:
      elements:
      - {name: engineering-dev, url: https://kubernetes.default.svc, env: staging}
      - {name: engineering-prod, url: https://kubernetes.default.svc, env: prod}
    selector:
      matchLabels: {env: staging}
  - clusters: {}
    selector:
      matchExpressions: [{key: server, operator: In, values: [https://2.4.6.8]}]
  template:
    metadata: {name: '{{name}}'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	apps := mustGenerate(t, set, Inputs{Clusters: testClusters()})
	wantNames(t, apps, "engineering-dev", "prod")
}

func TestMatrixFlat(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - matrix:
      generators:
      - list: {elements: [{app: api}, {app: web}]}
      - clusters:
          selector: {matchLabels: {env: prod}}
  template:
    metadata: {name: '{{app}}-{{name}}'}
    spec: {destination: {server: '{{server}}'}}
`)
	apps := mustGenerate(t, set, Inputs{Clusters: testClusters()})
	wantNames(t, apps, "api-prod", "web-prod")
	if apps[0].Spec.Destination.Server != "https://2.4.6.8" {
		t.Errorf("server %q", apps[0].Spec.Destination.Server)
	}
}

func TestMatrixSecondUsesFirstParams(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - matrix:
      generators:
      - list: {elements: [{env: staging, app: api}, {env: prod, app: web}]}
      - clusters:
          selector: {matchLabels: {env: '{{.env}}'}}
          values: {target: '{{.app}}@{{.name}}'}
  template:
    metadata: {name: '{{.app}}-{{.nameNormalized}}', annotations: {t: '{{.values.target}}'}}
    spec: {destination: {server: '{{.server}}'}}
`)
	apps := mustGenerate(t, set, Inputs{Clusters: testClusters()})
	wantNames(t, apps, "api-staging-1", "web-prod")
	if got := apps[0].Annotations["t"]; got != "api@staging_1" {
		t.Errorf("values rendered with both sets: %q", got)
	}

	// The list child may use the first child's parameters in its elements.
	set = parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - matrix:
      generators:
      - list: {elements: [{env: dev}, {env: prod}]}
      - list: {elements: [{ns: '{{env}}-a'}, {ns: '{{env}}-b'}]}
  template:
    metadata: {name: '{{ns}}'}
    spec: {destination: {server: https://kubernetes.default.svc, namespace: '{{ns}}'}}
`)
	apps = mustGenerate(t, set, Inputs{})
	wantNames(t, apps, "dev-a", "dev-b", "prod-a", "prod-b")
}

func TestMatrixValuesUseFirstParams(t *testing.T) {
	// Only the values of the second child reference the first child.
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - matrix:
      generators:
      - list: {elements: [{app: api}, {app: web}]}
      - clusters:
          selector: {matchLabels: {env: prod}}
          values: {id: '{{app}}-{{name}}'}
  template:
    metadata: {name: '{{values.id}}'}
    spec: {destination: {server: '{{server}}'}}
`)
	wantNames(t, mustGenerate(t, set, Inputs{Clusters: testClusters()}), "api-prod", "web-prod")
}

func TestMatrixConflicts(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - matrix:
      generators:
      - list: {elements: [{env: dev, a: x}]}
      - list: {elements: [{env: dev, b: bb}, {env: prod, b: zz}]}
  template:
    metadata: {name: '{{env}}-{{b}}'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	wantError(t, set, Inputs{}, "spec.generators[0].matrix", `parameter "env"`, "spec.generators[0].matrix.generators[0].list.elements[0]", "spec.generators[0].matrix.generators[1].list.elements[1]")

	// With Go templates the first generator's values win.
	set.Spec.GoTemplate = true
	set.Spec.Template.Metadata.Name = "{{.env}}-{{.b}}"
	apps := mustGenerate(t, set, Inputs{})
	wantNames(t, apps, "dev-bb", "dev-zz")
}

func TestMatrixShape(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - matrix:
      generators:
      - list: {elements: [{a: "1"}]}
      - list: {elements: [{b: "2"}]}
      - list: {elements: [{c: "3"}]}
  template:
    metadata: {name: 'x'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	wantError(t, set, Inputs{}, "spec.generators[0].matrix.generators", "exactly two")
}

func TestNestedMatrixAndMerge(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - matrix:
      generators:
      - matrix:
          generators:
          - list: {elements: [{a: "1"}, {a: "2"}]}
          - list: {elements: [{b: x}]}
      - merge:
          mergeKeys: [c]
          generators:
          - list: {elements: [{c: p, d: base}, {c: q, d: base}]}
          - list: {elements: [{c: q, d: over}]}
  template:
    metadata: {name: 'n{{a}}-{{b}}-{{c}}-{{d}}'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	apps := mustGenerate(t, set, Inputs{})
	wantNames(t, apps, "n1-x-p-base", "n1-x-q-over", "n2-x-p-base", "n2-x-q-over")

	deep := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - matrix:
      generators:
      - matrix:
          generators:
          - matrix:
              generators: [{list: {elements: [{a: "1"}]}}, {list: {elements: [{b: "1"}]}}]
          - list: {elements: [{b: x}]}
      - list: {elements: [{c: x}]}
  template:
    metadata: {name: 'x'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	wantError(t, deep, Inputs{}, "spec.generators[0].matrix.generators[0].matrix", "one level deep")
}

func TestMerge(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - merge:
      mergeKeys: [server]
      generators:
      - clusters:
          values: {kafka: 'true', redis: 'false'}
      - clusters:
          selector: {matchLabels: {env: staging}}
          values: {kafka: 'false'}
      - list:
          elements:
          - {server: https://2.4.6.8, values.redis: 'true'}
          - {server: https://9.9.9.9, values.redis: 'true'}
  template:
    metadata:
      name: '{{nameNormalized}}'
      annotations: {kafka: '{{values.kafka}}', redis: '{{values.redis}}'}
    spec: {destination: {server: '{{server}}'}}
`)
	apps := mustGenerate(t, set, Inputs{Clusters: testClusters()})
	wantNames(t, apps, "in-cluster", "staging-1", "prod")
	got := map[string]string{}
	for _, a := range apps {
		got[a.Name] = a.Annotations["kafka"] + "/" + a.Annotations["redis"]
	}
	want := map[string]string{"in-cluster": "true/false", "staging-1": "false/false", "prod": "true/true"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kafka/redis %v, want %v", got, want)
	}
}

func TestMergeGoTemplateNestedKeys(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
  - merge:
      mergeKeys: [cluster.name]
      generators:
      - list: {elements: [{cluster: {name: a, size: s}, x: "1"}, {cluster: {name: b, size: s}, x: "1"}]}
      - list: {elements: [{cluster: {name: b, size: l}}]}
  template:
    metadata: {name: '{{.cluster.name}}-{{.cluster.size}}-{{.x}}'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	apps := mustGenerate(t, set, Inputs{})
	wantNames(t, apps, "a-s-1", "b-l-1")
}

func TestMergeErrors(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - merge:
      mergeKeys: [k]
      generators:
      - list: {elements: [{k: a}, {k: a}]}
      - list: {elements: [{k: a}]}
  template:
    metadata: {name: 'x'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	wantError(t, set, Inputs{}, "spec.generators[0].merge", "spec.generators[0].merge.generators[0].list.elements[0] and spec.generators[0].merge.generators[0].list.elements[1]", "same merge key")

	set.Spec.Generators[0].Merge.MergeKeys = nil
	wantError(t, set, Inputs{}, "spec.generators[0].merge.mergeKeys")

	set.Spec.Generators[0].Merge.MergeKeys = []string{"k"}
	set.Spec.Generators[0].Merge.Generators = set.Spec.Generators[0].Merge.Generators[:1]
	wantError(t, set, Inputs{}, "spec.generators[0].merge.generators", "at least two")
}

func TestGeneratorShapeErrors(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - list: {elements: [{a: "1"}]}
    clusters: {}
  template:
    metadata: {name: 'x'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	wantError(t, set, Inputs{}, "spec.generators[0]", "list and clusters")

	set.Spec.Generators[0] = v1alpha1.ApplicationSetGenerator{}
	wantError(t, set, Inputs{}, "spec.generators[0]", "no generator")

	raw := json.RawMessage(`{"github": {"owner": "x"}}`)
	set.Spec.Generators[0].SCMProvider = &apiextensionsv1.JSON{Raw: raw}
	wantError(t, set, Inputs{}, "spec.generators[0]", "scmProvider", "not supported")

	set = parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - list: {elements: ["just a string"]}
  template:
    metadata: {name: 'x'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	wantError(t, set, Inputs{}, "spec.generators[0].list.elements[0]", "object")
}

func TestElementsYaml(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  goTemplate: true
  generators:
  - matrix:
      generators:
      - list:
          elements:
          - components: [{name: c1, ns: one}, {name: c2, ns: two}]
      - list:
          elementsYaml: '{{ .components | toJson }}'
  template:
    metadata: {name: '{{.name}}'}
    spec: {destination: {server: https://kubernetes.default.svc, namespace: '{{.ns}}'}}
`)
	apps := mustGenerate(t, set, Inputs{})
	wantNames(t, apps, "c1", "c2")
	if apps[1].Spec.Destination.Namespace != "two" {
		t.Errorf("namespace %q", apps[1].Spec.Destination.Namespace)
	}
}

func TestWarnings(t *testing.T) {
	set := parseSet(t, `
metadata: {name: s, namespace: ns}
spec:
  generators:
  - matrix:
      generators:
      - list: {elements: [{a: "1"}], template: {metadata: {name: ignored}}}
      - list: {elements: [{b: "1"}]}
  template:
    metadata: {name: 'x{{a}}'}
    spec: {destination: {server: https://kubernetes.default.svc}}
`)
	w := Warnings(set)
	if len(w) != 1 || !strings.Contains(w[0], "spec.generators[0].matrix.generators[0].list.template") {
		t.Errorf("warnings %q", w)
	}
	wantNames(t, mustGenerate(t, set, Inputs{}), "x1")
}

func TestNormalizeAndSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Directory_2": "directory-2",
		"-a.b-":       "a.b",
		"in-cluster":  "in-cluster",
		"UPPER case":  "upper-case",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{"Feature/My Branch"}, "feature-my-branch"},
		{[]any{12, "feature-branch-name"}, "feature"},
		{[]any{12, false, "feature-branch-name"}, "feature-bran"},
		{[]any{50, strings.Repeat("ab-", 30)}, strings.TrimSuffix(strings.Repeat("ab-", 17), "-")},
		{[]any{49, strings.Repeat("ab-", 30)}, strings.TrimSuffix(strings.Repeat("ab-", 16), "-")},
	} {
		got, err := slugify(c.args...)
		if err != nil || got != c.want {
			t.Errorf("slugify(%v) = %q, %v; want %q", c.args, got, err, c.want)
		}
	}
}

func TestFlatEngine(t *testing.T) {
	p := map[string]any{"a": "1", "b.c": "2"}
	for in, want := range map[string]string{
		"{{a}}-{{ b.c }}":   "1-2",
		"{{x}} {{a":         "{{x}} {{a",
		"no tags":           "no tags",
		"{{a}}{{a}}}}":      "11}}",
		"{{ a }}/{{  a  }}": "1/1",
	} {
		got, err := flatEngine{}.render("f", in, p)
		if err != nil || got != want {
			t.Errorf("render(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSyncPolicy(t *testing.T) {
	var p *v1alpha1.ApplicationSetSyncPolicy
	if p.Policy() != "sync" || !p.AllowUpdate() || !p.AllowDelete() || p.PreservesResources() {
		t.Errorf("nil policy: want sync, updates and deletes")
	}
	p = &v1alpha1.ApplicationSetSyncPolicy{ApplicationsSync: "create-only", PreserveResourcesOnDeletion: true}
	if p.AllowUpdate() || p.AllowDelete() || !p.PreservesResources() {
		t.Errorf("create-only: want neither updates nor deletes")
	}
	p.ApplicationsSync = "create-update"
	if !p.AllowUpdate() || p.AllowDelete() {
		t.Errorf("create-update")
	}
	p.ApplicationsSync = "create-delete"
	if p.AllowUpdate() || !p.AllowDelete() {
		t.Errorf("create-delete")
	}
}

func TestTemplateWithSeveralSources(t *testing.T) {
	set := parseSet(t, `
metadata: {name: charts, namespace: argocd}
spec:
  generators:
  - list:
      elements: [{region: eu, version: "1.2.*"}, {region: us, version: "1.3.0"}]
  template:
    metadata: {name: 'api-{{region}}'}
    spec:
      sources:
      - repoURL: https://charts.example
        chart: api
        targetRevision: '{{version}}'
        helm: {valueFiles: ['$config/regions/{{region}}/api.yaml']}
      - {repoURL: https://git.example/config, targetRevision: main, ref: config}
      destination: {server: https://kubernetes.default.svc, namespace: 'api-{{region}}'}
`)
	apps := mustGenerate(t, set, Inputs{})
	wantNames(t, apps, "api-eu", "api-us")
	us := apps[1].Spec
	if len(us.Sources) != 2 || us.Sources[0].TargetRevision != "1.3.0" || us.Sources[0].Helm.ValueFiles[0] != "$config/regions/us/api.yaml" || us.Sources[1].Ref != "config" || us.Source != nil {
		t.Errorf("sources of api-us: %+v", us.Sources)
	}
}
