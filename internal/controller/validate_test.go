package controller

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestNamespaceMetadataProblems(t *testing.T) {
	meta := func(labels, annotations map[string]string) *v1alpha1.ManagedNamespaceMetadata {
		return &v1alpha1.ManagedNamespaceMetadata{Labels: labels, Annotations: annotations}
	}
	cases := []struct {
		name string
		sp   *v1alpha1.SyncPolicy
		want []string
	}{
		{"none", nil, nil},
		{"valid", &v1alpha1.SyncPolicy{SyncOptions: []string{"CreateNamespace=true"}, ManagedNamespaceMetadata: meta(map[string]string{"team": "a", "example.com/tier": ""}, map[string]string{"Owner": "anything at all: ok"})}, nil},
		{"without CreateNamespace", &v1alpha1.SyncPolicy{ManagedNamespaceMetadata: meta(nil, nil)}, []string{"needs the sync option CreateNamespace=true"}},
		{"CreateNamespace=false", &v1alpha1.SyncPolicy{SyncOptions: []string{"CreateNamespace=false"}, ManagedNamespaceMetadata: meta(nil, nil)}, []string{"needs the sync option CreateNamespace=true"}},
		{"bad keys and values", &v1alpha1.SyncPolicy{SyncOptions: []string{"CreateNamespace=true"}, ManagedNamespaceMetadata: meta(
			map[string]string{"-bad": "x", "ok": strings.Repeat("v", 64)}, map[string]string{"a/b/c": "x"})},
			[]string{`labels: key "-bad"`, `labels[ok]: value "` + strings.Repeat("v", 64), `annotations: key "a/b/c"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := namespaceMetadataProblems(tc.sp)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d naming %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) || !strings.HasPrefix(got[i], "spec.syncPolicy.managedNamespaceMetadata") {
					t.Errorf("problem %q, want one naming the field and containing %q", got[i], w)
				}
			}
		})
	}
}

func TestOperationProblems(t *testing.T) {
	raw := &unstructured.Unstructured{Object: map[string]any{
		"operation": map[string]any{
			"sync":        map[string]any{"revision": "main", "syncStrategy": map[string]any{"hook": map[string]any{"force": true}}, "resources": []any{map[string]any{"kind": "ConfigMap", "name": "a", "version": "v1"}}},
			"initiatedBy": map[string]any{"username": "ann"},
		},
	}}
	got := operationProblems(raw)
	want := []string{`unknown field "operation.sync.resources[0].version"`, `unknown field "operation.sync.syncStrategy"`}
	if len(got) != len(want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) || !strings.Contains(got[i], "tether does not support this field") {
			t.Errorf("problem %q, want %q", got[i], w)
		}
	}
	ok := &unstructured.Unstructured{Object: map[string]any{"operation": map[string]any{"sync": map[string]any{"prune": true, "resources": []any{map[string]any{"kind": "ConfigMap", "name": "a"}}}}}}
	if p := operationProblems(ok); len(p) != 0 {
		t.Errorf("a known operation: %q", p)
	}
	if p := operationProblems(&unstructured.Unstructured{Object: map[string]any{}}); p != nil {
		t.Errorf("no operation: %q", p)
	}
}

func TestSourceProblems(t *testing.T) {
	git := func(repo, path, ref string, valueFiles ...string) v1alpha1.ApplicationSource {
		s := v1alpha1.ApplicationSource{RepoURL: repo, Path: path, Ref: ref}
		if len(valueFiles) > 0 {
			s.Helm = &v1alpha1.ApplicationSourceHelm{ValueFiles: valueFiles}
		}
		return s
	}
	chart := v1alpha1.ApplicationSource{RepoURL: "https://charts.example", Chart: "api", TargetRevision: "1.*",
		Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values.yaml", "$values/envs/prod.yaml"}}}
	cases := []struct {
		name    string
		source  *v1alpha1.ApplicationSource
		sources []v1alpha1.ApplicationSource
		want    []string
	}{
		{name: "neither", want: []string{"spec.source: required (or spec.sources)"}},
		{name: "one source", source: &v1alpha1.ApplicationSource{RepoURL: "r", Path: "app"}},
		{name: "chart with values from a ref", sources: []v1alpha1.ApplicationSource{chart, git("https://git.example/config", "", "values")}},
		{name: "spec.source is ignored next to spec.sources", source: &v1alpha1.ApplicationSource{}, sources: []v1alpha1.ApplicationSource{git("r", "app", "")}},
		{name: "a ref that also renders", sources: []v1alpha1.ApplicationSource{git("r", "app", "values"), git("r2", "chart", "", "$values/x.yaml")}},
		{name: "missing repoURL, chart with path", sources: []v1alpha1.ApplicationSource{git("", "app", ""), {RepoURL: "c", Chart: "x", Path: "p"}},
			want: []string{"spec.sources[0].repoURL: required", `spec.sources[1].path: "p" cannot be used with spec.sources[1].chart`}},
		{name: "unknown ref", sources: []v1alpha1.ApplicationSource{chart, git("r", "", "config")},
			want: []string{`spec.sources[0].helm.valueFiles[1]: "$values/envs/prod.yaml" names ref "values", which no source of spec.sources has`}},
		{name: "duplicate and invalid refs", sources: []v1alpha1.ApplicationSource{git("a", "app", "x"), git("b", "", "x"), git("c", "", "bad/ref")},
			want: []string{`spec.sources[1].ref: "x" is also the ref of spec.sources[0]`, `spec.sources[2].ref: "bad/ref" may hold only letters`}},
		{name: "a chart cannot be a ref", sources: []v1alpha1.ApplicationSource{git("a", "app", ""), {RepoURL: "c", Chart: "x", Ref: "values"}},
			want: []string{"spec.sources[1].ref: a chart from a Helm repository cannot lend its files"}},
		{name: "only refs", sources: []v1alpha1.ApplicationSource{git("a", "", "x"), git("b", "", "y")},
			want: []string{"spec.sources: every source only lends its files"}},
		{name: "a ref in a single source", source: &v1alpha1.ApplicationSource{RepoURL: "r", Path: "app", Ref: "values", Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"$values/a.yaml"}}},
			want: []string{`spec.source.ref: "values" names a source for the value files of other sources; it needs spec.sources`,
				`spec.source.helm.valueFiles[0]: "$values/a.yaml" reads a file of another source, which needs spec.sources`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := &v1alpha1.Application{Spec: v1alpha1.ApplicationSpec{Source: tc.source, Sources: tc.sources}}
			got := sourceProblems(app)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %q", got, tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("problem %q, want one starting %q", got[i], w)
				}
			}
		})
	}
}

func TestUnsupportedFieldsOfSources(t *testing.T) {
	raw := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{
		"sources": []any{
			map[string]any{"repoURL": "a", "path": "p", "plugin": map[string]any{"name": "cmp"}},
			map[string]any{"repoURL": "b", "directory": map[string]any{"jsonnet": map[string]any{}}, "frobnicate": true},
		},
		"destination": map[string]any{},
	}}}
	app := &v1alpha1.Application{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw.Object, app); err != nil {
		t.Fatal(err)
	}
	got := unsupportedFields(app, raw)
	want := []string{
		"field spec.sources[0].plugin (config management plugins) is not supported",
		"field spec.sources[1].directory.jsonnet (Jsonnet) is not supported",
		`unknown field "spec.sources[1].frobnicate"`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("got %q, want %q", got[i], w)
		}
	}
}

func TestComparedSources(t *testing.T) {
	multi := &v1alpha1.Application{Spec: v1alpha1.ApplicationSpec{Sources: []v1alpha1.ApplicationSource{
		{RepoURL: "a", TargetRevision: "main"}, {RepoURL: "b", TargetRevision: "1.0.0", Chart: "c"}, {RepoURL: "v", Ref: "values"},
	}}}
	sync := func(s v1alpha1.SyncOperation) *v1alpha1.Operation { return &v1alpha1.Operation{Sync: &s} }
	revs := func(srcs []v1alpha1.ApplicationSource) []string {
		out := []string{}
		for _, s := range srcs {
			out = append(out, s.RepoURL+"@"+s.TargetRevision)
		}
		return out
	}
	got, err := comparedSources(multi, sync(v1alpha1.SyncOperation{Revisions: []string{"", "2.0.0"}}))
	if err != nil || strings.Join(revs(got), " ") != "a@main b@2.0.0 v@" {
		t.Errorf("revisions by position: %q, %v", revs(got), err)
	}
	if multi.Spec.Sources[1].TargetRevision != "1.0.0" {
		t.Error("the app's spec was changed")
	}
	got, err = comparedSources(multi, sync(v1alpha1.SyncOperation{Sources: []v1alpha1.ApplicationSource{{RepoURL: "x", TargetRevision: "abc"}}}))
	if err != nil || strings.Join(revs(got), " ") != "x@abc" {
		t.Errorf("sources of a rollback: %q, %v", revs(got), err)
	}
	for _, bad := range []v1alpha1.SyncOperation{{Revision: "main"}, {Revisions: []string{"1", "2", "3", "4"}}} {
		if _, err := comparedSources(multi, sync(bad)); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	single := &v1alpha1.Application{Spec: v1alpha1.ApplicationSpec{Source: &v1alpha1.ApplicationSource{RepoURL: "a", TargetRevision: "main"}}}
	got, err = comparedSources(single, sync(v1alpha1.SyncOperation{Revision: "v2"}))
	if err != nil || strings.Join(revs(got), " ") != "a@v2" {
		t.Errorf("single source: %q, %v", revs(got), err)
	}
	if _, err := comparedSources(single, sync(v1alpha1.SyncOperation{Revisions: []string{"v2"}})); err == nil {
		t.Error("revisions on a single-source app: no error")
	}
}

func TestExternalURLs(t *testing.T) {
	objs := []*unstructured.Unstructured{
		{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": map[string]any{"name": "web"},
			"spec": map[string]any{
				"tls": []any{map[string]any{"hosts": []any{"shop.example.com"}}},
				"rules": []any{
					map[string]any{"host": "shop.example.com", "http": map[string]any{"paths": []any{map[string]any{"path": "/"}, map[string]any{"path": "/api"}}}},
					map[string]any{"host": "plain.example.com"},
					map[string]any{"host": "*.wild.example.com"},
					map[string]any{"http": map[string]any{}},
				}}}},
		{Object: map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "svc",
			"annotations": map[string]any{"link.argocd.argoproj.io/dashboard": "https://grafana.example.com/d/1", "link.argocd.argoproj.io/bad": "javascript:alert(1)"}}}},
	}
	got := externalURLs(objs)
	want := []string{"http://plain.example.com/", "https://grafana.example.com/d/1", "https://shop.example.com/", "https://shop.example.com/api"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
	if externalURLs(objs[1:1]) != nil {
		t.Error("no objects, no URLs")
	}
}
