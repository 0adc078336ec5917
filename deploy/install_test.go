package deploy

import (
	"bytes"
	"flag"
	"io"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
)

var update = flag.Bool("update", false, "write install.yaml from the code")

// TestInstallYAMLIsCurrent keeps the committed install.yaml (what users
// apply by URL) the same as `tether install` of a development build.
func TestInstallYAMLIsCurrent(t *testing.T) {
	want, err := Install(Options{Image: DefaultImage("dev")})
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("install.yaml", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("install.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("deploy/install.yaml is out of date: go test ./deploy -run TestInstallYAMLIsCurrent -update")
	}
}

func decodeAll(t *testing.T, b []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

func TestControllerInAnotherNamespace(t *testing.T) {
	b, err := Controller(Options{Namespace: "gitops", AppNamespaces: []string{"team-a", "team-b"}, Image: "registry.local/tether:v9", SyncImpersonation: true})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]*unstructured.Unstructured{}
	for _, u := range decodeAll(t, b) {
		kinds[u.GetKind()] = u
		switch u.GetKind() {
		case "Namespace":
			if u.GetName() != "gitops" {
				t.Errorf("Namespace %q, want gitops", u.GetName())
			}
		case "ClusterRole", "ClusterRoleBinding":
			if u.GetName() != "tether-gitops" || u.GetNamespace() != "" {
				t.Errorf("%s %s/%s, want cluster-scoped tether-gitops", u.GetKind(), u.GetNamespace(), u.GetName())
			}
		default:
			if u.GetNamespace() != "gitops" {
				t.Errorf("%s %s in namespace %q, want gitops", u.GetKind(), u.GetName(), u.GetNamespace())
			}
		}
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service"} {
		if kinds[k] == nil {
			t.Fatalf("no %s in the manifests", k)
		}
	}
	subjects, _, _ := unstructured.NestedSlice(kinds["ClusterRoleBinding"].Object, "subjects")
	if len(subjects) != 1 || subjects[0].(map[string]any)["namespace"] != "gitops" || subjects[0].(map[string]any)["name"] != "tether" {
		t.Errorf("binding subjects %v, want the tether service account of gitops", subjects)
	}
	containers, _, _ := unstructured.NestedSlice(kinds["Deployment"].Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	if c["image"] != "registry.local/tether:v9" {
		t.Errorf("image %v", c["image"])
	}
	args := strings.Join(toStrings(c["args"]), " ")
	for _, want := range []string{"--namespace=gitops", "--app-namespaces=team-a,team-b", "--health-addr=:8081", "--leader-elect", "--sync-impersonation"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func TestOptionsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		flag string
	}{
		{Options{Namespace: "Argo_CD", Image: "x"}, "--namespace"},
		{Options{Namespace: "argocd", AppNamespaces: []string{"ok", "not ok"}, Image: "x"}, "--app-namespaces"},
		{Options{Namespace: "argocd", Image: " "}, "--image"},
		{Options{Namespace: "argocd", Image: "a b"}, "--image"},
		{Options{Namespace: "argocd", Image: "x", Replicas: -1}, "--replicas"},
	} {
		_, err := Controller(tc.o)
		if err == nil || !strings.HasPrefix(err.Error(), tc.flag) {
			t.Errorf("Controller(%+v) = %v, want an error naming %s", tc.o, err, tc.flag)
		}
	}
}

func TestDefaultImage(t *testing.T) {
	for version, want := range map[string]string{
		"v1.4.0":            ImageRepository + ":v1.4.0",
		"dev":               ImageRepository + ":latest",
		"v1.4.0-dirty":      ImageRepository + ":latest",
		"3f2a9c1":           ImageRepository + ":latest",
		"v1.4.0-rc.1":       ImageRepository + ":v1.4.0-rc.1",
		"v1.4.0-3-gabcdef1": ImageRepository + ":latest",
	} {
		if got := DefaultImage(version); got != want {
			t.Errorf("DefaultImage(%q) = %q, want %q", version, got, want)
		}
	}
}
