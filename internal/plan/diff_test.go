package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func testDeployment(replicas int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": "api", "namespace": "prod"},
		"spec": map[string]any{
			"replicas": replicas,
			"template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"name": "app", "image": "app:1"}},
			}},
		},
	}}
}

func withNoise(obj *unstructured.Unstructured) *unstructured.Unstructured {
	obj = obj.DeepCopy()
	md := obj.Object["metadata"].(map[string]any)
	md["managedFields"] = []any{map[string]any{"manager": "kubectl", "operation": "Apply"}}
	md["resourceVersion"] = "4711"
	md["uid"] = "0b1c"
	md["generation"] = int64(7)
	md["creationTimestamp"] = "2026-01-01T00:00:00Z"
	md["selfLink"] = "/apis/apps/v1/x"
	md["annotations"] = map[string]any{lastAppliedAnnotation: `{"spec":{}}`}
	obj.Object["status"] = map[string]any{"readyReplicas": int64(1)}
	return obj
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name    string
		live    *unstructured.Unstructured
		desired *unstructured.Unstructured
		want    string
	}{{
		name:    "equal objects give no diff",
		live:    testDeployment(2),
		desired: testDeployment(2),
		want:    "",
	}, {
		name:    "noise fields alone give no diff",
		live:    withNoise(testDeployment(2)),
		desired: testDeployment(2),
		want:    "",
	}, {
		name: "both sides nil give no diff",
		want: "",
	}, {
		name:    "a changed replica count shows one line removed and one added",
		live:    withNoise(testDeployment(2)),
		desired: testDeployment(3),
		want: `--- live/Deployment/prod/api
+++ desired/Deployment/prod/api
@@ -4,7 +4,7 @@
   name: api
   namespace: prod
 spec:
-  replicas: 2
+  replicas: 3
   template:
     spec:
       containers:
`,
	}, {
		name:    "a creation shows every line added",
		desired: testConfigMap("a", "x"),
		want: `--- live/ConfigMap/prod/cfg
+++ desired/ConfigMap/prod/cfg
@@ -0,0 +1,7 @@
+apiVersion: v1
+data:
+  a: x
+kind: ConfigMap
+metadata:
+  name: cfg
+  namespace: prod
`,
	}, {
		name: "a deletion shows every line removed",
		live: testConfigMap("a", "x"),
		want: `--- live/ConfigMap/prod/cfg
+++ desired/ConfigMap/prod/cfg
@@ -1,7 +0,0 @@
-apiVersion: v1
-data:
-  a: x
-kind: ConfigMap
-metadata:
-  name: cfg
-  namespace: prod
`,
	}, {
		name:    "a cluster-scoped object is named without namespace",
		live:    &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "prod"}}},
		desired: &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "prod", "labels": map[string]any{"a": "b"}}}},
		want: `--- live/Namespace/prod
+++ desired/Namespace/prod
@@ -1,4 +1,6 @@
 apiVersion: v1
 kind: Namespace
 metadata:
+  labels:
+    a: b
   name: prod
`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.live, tt.desired)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffNeverShowsSecretValues(t *testing.T) {
	const (
		oldPlain = "hunter2-old-password"
		oldB64   = "aHVudGVyMi1vbGQtcGFzc3dvcmQ="
		newPlain = "s3cr3t-new-password"
		newB64   = "czNjcjN0LW5ldy1wYXNzd29yZA=="
	)
	live := testSecret(map[string]any{"data": map[string]any{"password": oldB64, "user": "YWRtaW4="}})
	live.SetAnnotations(map[string]string{lastAppliedAnnotation: `{"data":{"password":"` + oldB64 + `"}}`})
	tests := []struct {
		name    string
		live    *unstructured.Unstructured
		desired *unstructured.Unstructured
	}{
		{name: "a changed data value", live: live, desired: testSecret(map[string]any{"data": map[string]any{"password": newB64, "user": "YWRtaW4="}})},
		{name: "a changed stringData value", live: live, desired: testSecret(map[string]any{"stringData": map[string]any{"password": newPlain, "user": "admin"}})},
		{name: "a creation", desired: testSecret(map[string]any{"stringData": map[string]any{"password": newPlain}, "data": map[string]any{"x": newB64}})},
		{name: "a deletion", live: live},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.live, tt.desired)
			if got == "" {
				t.Fatal("Diff is empty, want a diff")
			}
			for _, v := range []string{oldPlain, oldB64, newPlain, newB64, "admin", "YWRtaW4="} {
				if strings.Contains(got, v) {
					t.Errorf("Diff contains the secret value %q:\n%s", v, got)
				}
			}
		})
	}
}

func TestDiffShowsWhichSecretKeyChanged(t *testing.T) {
	live := testSecret(map[string]any{"data": map[string]any{"password": "b2xk", "user": "YWRtaW4="}})
	desired := testSecret(map[string]any{"stringData": map[string]any{"password": "new", "user": "admin"}})
	want := `--- live/Secret/prod/creds
+++ desired/Secret/prod/creds
@@ -1,6 +1,6 @@
 apiVersion: v1
 data:
-  password: ++++++++
+  password: +++++++++
   user: ++++++++++
 kind: Secret
 metadata:
`
	if diff := cmp.Diff(want, Diff(live, desired)); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
}

func TestLineDiff(t *testing.T) {
	lines := func(n int, prefix string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d", prefix, i)
		}
		return out
	}
	tests := []struct {
		name          string
		a, b          []string
		wantRemoved   int
		wantAdded     int
		wantUnchanged int
	}{
		{name: "equal sides keep every line", a: lines(5, "x"), b: lines(5, "x"), wantUnchanged: 5},
		{name: "a line inserted in the middle is one addition", a: []string{"a", "b", "c"}, b: []string{"a", "x", "b", "c"}, wantAdded: 1, wantUnchanged: 3},
		{name: "interleaved changes find the shortest script", a: []string{"a", "b", "c", "a", "b", "b", "a"}, b: []string{"c", "b", "a", "b", "a", "c"}, wantRemoved: 3, wantAdded: 2, wantUnchanged: 4},
		{name: "huge unrelated sides fall back to a whole replace", a: lines(maxDiffLines+1, "a"), b: lines(maxDiffLines+1, "b"), wantRemoved: maxDiffLines + 1, wantAdded: maxDiffLines + 1},
		{name: "sides too far apart fall back to a whole replace", a: lines(maxEdits, "a"), b: lines(maxEdits, "b"), wantRemoved: maxEdits, wantAdded: maxEdits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := lineDiff(tt.a, tt.b)
			var gotA, gotB []string
			counts := map[byte]int{}
			for _, e := range script {
				counts[e.op]++
				if e.op != '+' {
					gotA = append(gotA, e.line)
				}
				if e.op != '-' {
					gotB = append(gotB, e.line)
				}
			}
			if diff := cmp.Diff(tt.a, gotA); diff != "" {
				t.Errorf("script does not replay a (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.b, gotB); diff != "" {
				t.Errorf("script does not replay b (-want +got):\n%s", diff)
			}
			want := map[byte]int{'-': tt.wantRemoved, '+': tt.wantAdded, ' ': tt.wantUnchanged}
			for op, n := range want {
				if counts[op] != n {
					t.Errorf("%q lines = %d, want %d", op, counts[op], n)
				}
			}
		})
	}
}

func TestDiffSplitsDistantChangesIntoHunks(t *testing.T) {
	a := make([]string, 20)
	for i := range a {
		a[i] = fmt.Sprint(i)
	}
	b := append([]string(nil), a...)
	b[1], b[18] = "one", "eighteen"
	want := `--- a
+++ b
@@ -1,5 +1,5 @@
 0
-1
+one
 2
 3
 4
@@ -16,5 +16,5 @@
 15
 16
 17
-18
+eighteen
 19
`
	if diff := cmp.Diff(want, unifiedDiff("a", "b", a, b)); diff != "" {
		t.Errorf("unifiedDiff (-want +got):\n%s", diff)
	}
}
