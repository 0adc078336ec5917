package render

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

func TestRenderHelm(t *testing.T) {
	// crds/, then manifests in Helm's kind order, then hooks (test hooks
	// left out).
	defaults := []string{
		"CustomResourceDefinition /widgets.example.com",
		"ConfigMap /shop-settings",
		"Service /shop-cache",
		"Deployment /shop replicas=1 image=registry.example.com/api:v1.0.0",
		"Job /shop-migrate",
	}
	tests := []struct {
		name      string
		helm      *v1alpha1.ApplicationSourceHelm
		want      []string
		wantExtra string // the chart renders .Values.extra as JSON
		wantNS    string // .Release.Namespace as rendered
		wantMem   string // the Deployment's memory limit
	}{
		{
			name:      "the chart renders with its own values, the app name as release and the destination namespace",
			want:      defaults,
			wantExtra: `{}`,
			wantNS:    "prod",
			wantMem:   "256Mi",
		},
		{
			name: "a value file overrides the chart's values",
			helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values-prod.yaml"}},
			want: []string{
				"CustomResourceDefinition /widgets.example.com",
				"ConfigMap /shop-settings",
				"Service /shop-cache",
				"Deployment /shop replicas=5 image=registry.example.com/api:v1.2.3",
				"Job /shop-migrate",
			},
			wantExtra: `{}`,
			wantNS:    "prod",
			wantMem:   "1Gi",
		},
		{
			name:      "a missing value file is skipped with ignoreMissingValueFiles",
			helm:      &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values-nope.yaml"}, IgnoreMissingValueFiles: true},
			want:      defaults,
			wantExtra: `{}`,
			wantNS:    "prod",
			wantMem:   "256Mi",
		},
		{
			name:      "the values string applies after value files",
			helm:      &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values-prod.yaml"}, Values: "extra: {a: 1}\nresources: {limits: {memory: 2Gi}}\n"},
			want:      withDeployment(defaults, "Deployment /shop replicas=5 image=registry.example.com/api:v1.2.3"),
			wantExtra: `{"a":1}`,
			wantNS:    "prod",
			wantMem:   "2Gi",
		},
		{
			name: "valuesObject wins over the values string",
			helm: &v1alpha1.ApplicationSourceHelm{
				Values:       "extra: {a: 1}\n",
				ValuesObject: &runtime.RawExtension{Raw: []byte(`{"extra":{"b":"two"}}`)},
			},
			want:      defaults,
			wantExtra: `{"b":"two"}`,
			wantNS:    "prod",
			wantMem:   "256Mi",
		},
		{
			name: "parameters apply last; forceString keeps strings, commas stay in the value",
			helm: &v1alpha1.ApplicationSourceHelm{
				ValuesObject: &runtime.RawExtension{Raw: []byte(`{"extra":{"n":1},"replicas":2}`)},
				Parameters: []v1alpha1.HelmParameter{
					{Name: "extra.n", Value: "7"},
					{Name: "extra.s", Value: "7", ForceString: true},
					{Name: "extra.list", Value: "a,b"},
					{Name: "extra.b", Value: "true"},
					{Name: "replicas", Value: "3"},
				},
			},
			want:      withDeployment(defaults, "Deployment /shop replicas=3 image=registry.example.com/api:v1.0.0"),
			wantExtra: `{"b":true,"list":"a,b","n":7,"s":"7"}`,
			wantNS:    "prod",
			wantMem:   "256Mi",
		},
		{
			name: "releaseName and the helm namespace override the defaults",
			helm: &v1alpha1.ApplicationSourceHelm{ReleaseName: "api", Namespace: "payments"},
			want: []string{
				"CustomResourceDefinition /widgets.example.com",
				"ConfigMap /api-settings",
				"Service /api-cache",
				"Deployment /api replicas=1 image=registry.example.com/api:v1.0.0",
				"Job /api-migrate",
			},
			wantExtra: `{}`,
			wantNS:    "payments",
			wantMem:   "256Mi",
		},
		{
			name:      "empty documents are skipped",
			helm:      &v1alpha1.ApplicationSourceHelm{Values: "emptyDoc: true"},
			want:      defaults,
			wantExtra: `{}`,
			wantNS:    "prod",
			wantMem:   "256Mi",
		},
		{
			name:      "skipCrds leaves out crds/",
			helm:      &v1alpha1.ApplicationSourceHelm{SkipCrds: true},
			want:      defaults[1:],
			wantExtra: `{}`,
			wantNS:    "prod",
			wantMem:   "256Mi",
		},
		{
			name:      "a disabled dependency is not rendered",
			helm:      &v1alpha1.ApplicationSourceHelm{Parameters: []v1alpha1.HelmParameter{{Name: "cache.enabled", Value: "false"}}},
			want:      []string{defaults[0], defaults[1], defaults[3], defaults[4]},
			wantExtra: `{}`,
			wantNS:    "prod",
			wantMem:   "256Mi",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{
				Root:      "testdata/helm",
				Source:    v1alpha1.ApplicationSource{Path: "charts/api", Helm: tt.helm},
				AppName:   "shop",
				Namespace: "prod",
			}
			res, err := renderBoth(t, context.Background(), req, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if res.Type != TypeHelm {
				t.Errorf("Type = %q, want %q", res.Type, TypeHelm)
			}
			if diff := cmp.Diff(tt.want, describe(res.Objects)); diff != "" {
				t.Fatalf("objects (-want +got):\n%s", diff)
			}
			cm := find(t, res.Objects, "ConfigMap")
			got := map[string]string{
				"extra":     nested(cm, "data", "extra"),
				"namespace": nested(cm, "data", "namespace"),
				"memory":    memoryLimit(find(t, res.Objects, "Deployment")),
			}
			want := map[string]string{"extra": tt.wantExtra, "namespace": tt.wantNS, "memory": tt.wantMem}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rendered values (-want +got):\n%s", diff)
			}
			for _, o := range res.Objects {
				if o.GetNamespace() != "" {
					t.Errorf("%s %s got namespace %q; Helm objects keep none", o.GetKind(), o.GetName(), o.GetNamespace())
				}
			}
		})
	}
}

func TestRenderHelmKeepsHookAnnotations(t *testing.T) {
	req := Request{Root: "testdata/helm", Source: v1alpha1.ApplicationSource{Path: "charts/api"}, AppName: "shop"}
	res, err := renderBoth(t, context.Background(), req, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "-5"}
	if diff := cmp.Diff(want, find(t, res.Objects, "Job").GetAnnotations()); diff != "" {
		t.Errorf("hook annotations (-want +got):\n%s", diff)
	}
}

func TestRenderHelmCapabilities(t *testing.T) {
	tests := []struct {
		name string
		helm *v1alpha1.ApplicationSourceHelm
		opts func(*Options)
		want map[string]string
	}{
		{
			name: "the default Kubernetes version is seen by the chart",
			want: map[string]string{"kubeVersion": "v1.37.2", "hasWidgets": "false"},
		},
		{
			name: "options add API versions",
			opts: func(o *Options) { o.APIVersions = []string{"example.com/v1"} },
			want: map[string]string{"kubeVersion": "v1.37.2", "hasWidgets": "true"},
		},
		{
			name: "the source sets its own Kubernetes version and API versions",
			helm: &v1alpha1.ApplicationSourceHelm{KubeVersion: "1.36.1", APIVersions: []string{"example.com/v1"}},
			want: map[string]string{"kubeVersion": "v1.36.1", "hasWidgets": "true"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			req := Request{Root: "testdata/helm", Source: v1alpha1.ApplicationSource{Path: "charts/api", Helm: tt.helm}, AppName: "shop"}
			res, err := renderBoth(t, context.Background(), req, opts)
			if err != nil {
				t.Fatal(err)
			}
			cm := find(t, res.Objects, "ConfigMap")
			got := map[string]string{"kubeVersion": nested(cm, "data", "kubeVersion"), "hasWidgets": nested(cm, "data", "hasWidgets")}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("capabilities (-want +got):\n%s", diff)
			}
		})
	}
}

func withDeployment(objs []string, deployment string) []string {
	out := append([]string{}, objs...)
	out[3] = deployment
	return out
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	t.Fatalf("no %s rendered", kind)
	return nil
}

func nested(o *unstructured.Unstructured, fields ...string) string {
	s, _, _ := unstructured.NestedString(o.Object, fields...)
	return s
}

func memoryLimit(deploy *unstructured.Unstructured) string {
	cs, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	if len(cs) == 0 {
		return ""
	}
	s, _, _ := unstructured.NestedString(cs[0].(map[string]any), "resources", "limits", "memory")
	return s
}
