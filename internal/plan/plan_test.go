package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/inventory"
)

var testApp = types.NamespacedName{Namespace: "argocd", Name: "api"}

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func marked(t *testing.T, y string) *unstructured.Unstructured {
	u := obj(t, y)
	inventory.Mark(u, testApp)
	return u
}

func live(t *testing.T, objs ...*unstructured.Unstructured) map[inventory.Key]*unstructured.Unstructured {
	m := map[inventory.Key]*unstructured.Unstructured{}
	for _, o := range objs {
		m[inventory.KeyOf(o)] = o
	}
	return m
}

func actions(p *Plan) map[string]Action {
	m := map[string]Action{}
	for _, it := range p.Items {
		m[it.Key.String()] = it.Action
	}
	return m
}

const deploy = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod}
spec:
  replicas: 2
  template:
    spec:
      containers: [{name: web, image: "web:1", ports: [{containerPort: 80}]}]
`

// liveDeploy is deploy as the API server returns it: defaults filled in.
const liveDeploy = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod, resourceVersion: "7", generation: 3, uid: abc,
  managedFields: [{manager: tether}]}
spec:
  replicas: 2
  strategy: {type: RollingUpdate}
  template:
    spec:
      containers: [{name: web, image: "web:1", imagePullPolicy: IfNotPresent, ports: [{containerPort: 80, protocol: TCP}]}]
status: {readyReplicas: 2}
`

func TestMakeDecidesEachObject(t *testing.T) {
	d := marked(t, deploy)
	l := marked(t, liveDeploy)

	t.Run("a missing object is created", func(t *testing.T) {
		p, err := Make(Input{App: testApp, Desired: []*unstructured.Unstructured{d}})
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(p)["Deployment.apps/prod/web"]; got != ActionCreate || !p.OutOfSync() {
			t.Fatalf("action = %s", got)
		}
	})

	t.Run("server defaults alone are not a difference", func(t *testing.T) {
		p, err := Make(Input{App: testApp, Desired: []*unstructured.Unstructured{d}, Live: live(t, l)})
		if err != nil {
			t.Fatal(err)
		}
		if p.OutOfSync() {
			t.Fatalf("plan is out of sync: %+v", p.Items[0].Diff)
		}
	})

	t.Run("a dry-run prediction equal to live is unchanged", func(t *testing.T) {
		pred := l.DeepCopy()
		pred.SetResourceVersion("7")
		pred.SetManagedFields(nil)
		p, err := Make(Input{App: testApp, Desired: []*unstructured.Unstructured{d}, Live: live(t, l), Predicted: live(t, pred)})
		if err != nil {
			t.Fatal(err)
		}
		if p.OutOfSync() {
			t.Fatalf("out of sync: %s", p.Items[0].Diff)
		}
	})

	t.Run("a changed field is an update with a diff", func(t *testing.T) {
		scaled := l.DeepCopy()
		_ = unstructured.SetNestedField(scaled.Object, int64(5), "spec", "replicas")
		p, err := Make(Input{App: testApp, Desired: []*unstructured.Unstructured{d}, Live: live(t, scaled)})
		if err != nil {
			t.Fatal(err)
		}
		it := p.Items[0]
		if it.Action != ActionUpdate || !strings.Contains(it.Diff, "-  replicas: 5") || !strings.Contains(it.Diff, "+  replicas: 2") {
			t.Fatalf("action %s, diff:\n%s", it.Action, it.Diff)
		}
	})

	t.Run("NoDiff plans the same actions without diffs", func(t *testing.T) {
		scaled := l.DeepCopy()
		_ = unstructured.SetNestedField(scaled.Object, int64(5), "spec", "replicas")
		gone := marked(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone, namespace: prod}\n")
		created := marked(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: prod}\n")
		in := Input{App: testApp, Desired: []*unstructured.Unstructured{d, created}, Live: live(t, scaled, gone), Inventory: []inventory.Key{inventory.KeyOf(gone)}, Prune: true}
		with, err := Make(in)
		if err != nil {
			t.Fatal(err)
		}
		in.NoDiff = true
		without, err := Make(in)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(actions(with), actions(without)); diff != "" {
			t.Errorf("actions differ (-with diffs +without):\n%s", diff)
		}
		for i, it := range without.Items {
			if it.Diff != "" || with.Items[i].Diff == "" {
				t.Errorf("%s: diff %q with NoDiff, %q without", it.Key, it.Diff, with.Items[i].Diff)
			}
		}
	})

	t.Run("ignoreDifferences hides an ignored field", func(t *testing.T) {
		scaled := l.DeepCopy()
		_ = unstructured.SetNestedField(scaled.Object, int64(5), "spec", "replicas")
		rules, err := CompileIgnoreRules([]v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", JSONPointers: []string{"/spec/replicas"}}})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Make(Input{App: testApp, Desired: []*unstructured.Unstructured{d}, Live: live(t, scaled), Ignore: rules})
		if err != nil {
			t.Fatal(err)
		}
		if p.OutOfSync() {
			t.Fatalf("ignored field made the app out of sync:\n%s", p.Items[0].Diff)
		}
	})

	t.Run("an object owned by another app names the owner", func(t *testing.T) {
		other := obj(t, liveDeploy)
		inventory.Mark(other, types.NamespacedName{Namespace: "argocd", Name: "other"})
		p, err := Make(Input{App: testApp, Desired: []*unstructured.Unstructured{d}, Live: live(t, other)})
		if err != nil {
			t.Fatal(err)
		}
		if p.Items[0].Owner != "argocd/other" {
			t.Fatalf("owner = %q", p.Items[0].Owner)
		}
	})
}

func TestMakePrunesOnlyWhatTheAppApplied(t *testing.T) {
	gone := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: old, namespace: prod}}`)
	keep := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: keep, namespace: prod, annotations: {argocd.argoproj.io/sync-options: Prune=false}}}`)
	copied := gone.DeepCopy()
	copied.SetName("copy")
	foreign := obj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: foreign, namespace: prod}}`)
	inv := []inventory.Key{inventory.KeyOf(gone), inventory.KeyOf(keep), inventory.KeyOf(copied), inventory.KeyOf(foreign),
		{Kind: "ConfigMap", Namespace: "prod", Name: "already-deleted"}}
	lv := live(t, gone, keep, copied, foreign)

	p, err := Make(Input{App: testApp, Live: lv, Inventory: inv, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"ConfigMap/prod/old": ActionPrune, "ConfigMap/prod/keep": ActionPruneSkipped}
	if diff := cmp.Diff(want, actions(p)); diff != "" {
		t.Errorf("with prune (-want +got):\n%s", diff)
	}
	p, err = Make(Input{App: testApp, Live: lv, Inventory: inv, Prune: false})
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]Action{"ConfigMap/prod/old": ActionPruneSkipped, "ConfigMap/prod/keep": ActionPruneSkipped}
	if diff := cmp.Diff(want, actions(p)); diff != "" {
		t.Errorf("without prune (-want +got):\n%s", diff)
	}
}

func TestMakeNamesBadAnnotations(t *testing.T) {
	bad := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: bad, namespace: prod, annotations: {argocd.argoproj.io/sync-wave: "one"}}}`)
	badOpt := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: opt, namespace: prod, annotations: {argocd.argoproj.io/sync-options: "Frobnicate=true"}}}`)
	badCmp := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: cmp, namespace: prod, annotations: {argocd.argoproj.io/compare-options: "IgnoreExtraneous=yes"}}}`)
	good := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: good, namespace: prod}}`)
	p, err := Make(Input{App: testApp, Desired: []*unstructured.Unstructured{bad, badOpt, badCmp, good}})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"ConfigMap/prod/bad", "argocd.argoproj.io/sync-wave", `"one"`, "ConfigMap/prod/opt", "Frobnicate",
		"ConfigMap/prod/cmp: annotation argocd.argoproj.io/compare-options", "IgnoreExtraneous takes no value"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if len(p.Items) != 1 || p.Items[0].Key.Name != "good" {
		t.Errorf("valid objects must still be planned: %+v", p.Items)
	}
}

func TestItemsAreOrderedByWaveThenKind(t *testing.T) {
	objs := []*unstructured.Unstructured{
		marked(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: a, namespace: prod}}`),
		marked(t, `{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: prod}}`),
		marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: late, namespace: prod, annotations: {argocd.argoproj.io/sync-wave: "2"}}}`),
		marked(t, `{apiVersion: v1, kind: Namespace, metadata: {name: prod}}`),
		marked(t, `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: widgets.example.com}}`),
		marked(t, `{apiVersion: v1, kind: Service, metadata: {name: early, namespace: prod, annotations: {argocd.argoproj.io/sync-wave: "-1"}}}`),
	}
	p, err := Make(Input{App: testApp, Desired: objs})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range p.Items {
		got = append(got, it.Key.Kind)
	}
	want := []string{"Service", "Namespace", "CustomResourceDefinition", "Deployment", "Widget", "ConfigMap"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestSecretDiffsAreMasked(t *testing.T) {
	d := marked(t, `{apiVersion: v1, kind: Secret, metadata: {name: db, namespace: prod}, stringData: {password: hunter2-new}}`)
	l := marked(t, `{apiVersion: v1, kind: Secret, metadata: {name: db, namespace: prod}, data: {password: aHVudGVyMi1vbGQ=}}`)
	p, err := Make(Input{App: testApp, Desired: []*unstructured.Unstructured{d}, Live: live(t, l)})
	if err != nil {
		t.Fatal(err)
	}
	diff := p.Items[0].Diff
	for _, secret := range []string{"hunter2", "aHVudGVyMi1vbGQ="} {
		if strings.Contains(diff, secret) {
			t.Fatalf("diff shows a secret value %q:\n%s", secret, diff)
		}
	}
	if p.Items[0].Action != ActionUpdate {
		t.Fatalf("action = %s", p.Items[0].Action)
	}
}

func TestParseSyncOptions(t *testing.T) {
	o, err := ParseSyncOptions("CreateNamespace=true", "Prune=false, PruneLast=true")
	if err != nil {
		t.Fatal(err)
	}
	if !o.Bool("CreateNamespace") || !o.IsFalse("Prune") || !o.Bool("PruneLast") {
		t.Errorf("parsed %v", o)
	}
	for _, bad := range []string{"Nope=true", "CreateNamespace", "PrunePropagationPolicy=sideways"} {
		if _, err := ParseSyncOptions(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseSyncOptions(%q) error = %v", bad, err)
		}
	}
}

func TestRespectIgnoredKeepsLiveValues(t *testing.T) {
	rules, err := CompileIgnoreRules([]v1alpha1.ResourceIgnoreDifferences{{Group: "apps", Kind: "Deployment", JSONPointers: []string{"/spec/replicas", "/spec/paused"}}})
	if err != nil {
		t.Fatal(err)
	}
	d := marked(t, deploy)
	l := marked(t, liveDeploy)
	_ = unstructured.SetNestedField(l.Object, int64(7), "spec", "replicas")
	if err := RespectIgnored(d, l, rules); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 7 {
		t.Errorf("replicas = %d, want the live 7", r)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "paused"); found {
		t.Error("a field live does not have must not be added")
	}
	if img, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers"); len(img) != 1 {
		t.Error("fields outside the rules must stay")
	}
}

func TestPruneConfirmWaitsOnlyWhereTheOptionsSaySo(t *testing.T) {
	plain := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: plain, namespace: prod}}`)
	confirm := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: confirm, namespace: prod, annotations: {argocd.argoproj.io/sync-options: Prune=confirm}}}`)
	never := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: never, namespace: prod, annotations: {argocd.argoproj.io/sync-options: Prune=false}}}`)
	always := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: always, namespace: prod, annotations: {argocd.argoproj.io/sync-options: Prune=true}}}`)
	inv := []inventory.Key{inventory.KeyOf(plain), inventory.KeyOf(confirm), inventory.KeyOf(never), inventory.KeyOf(always)}
	lv := live(t, plain, confirm, never, always)
	waiting := func(p *Plan) []string {
		var names []string
		for _, it := range p.Items {
			if it.NeedsConfirmation() {
				names = append(names, it.Key.Name)
			}
		}
		return names
	}
	cases := []struct {
		name    string
		appOpts string
		prune   bool
		want    []string
	}{
		{"the object's option", "", true, []string{"confirm"}},
		{"the app's option, unless the object says otherwise", "Prune=confirm", true, []string{"confirm", "plain"}},
		{"nothing pruned, nothing to confirm", "Prune=confirm", false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := ParseSyncOptions(tc.appOpts)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Make(Input{App: testApp, Live: lv, Inventory: inv, Prune: tc.prune, Options: opts})
			if err != nil {
				t.Fatal(err)
			}
			got := waiting(p)
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("objects waiting for confirmation (-want +got):\n%s", diff)
			}
			if a := actions(p)["ConfigMap/prod/never"]; a != ActionPruneSkipped {
				t.Errorf("Prune=false on the object: %s, want %s", a, ActionPruneSkipped)
			}
		})
	}
}

func TestIgnoreExtraneousKeepsAnAppInSync(t *testing.T) {
	extra := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: extra, namespace: prod, annotations: {argocd.argoproj.io/compare-options: IgnoreExtraneous}}}`)
	plain := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: plain, namespace: prod}}`)
	for _, prune := range []bool{true, false} {
		p, err := Make(Input{App: testApp, Live: live(t, extra), Inventory: []inventory.Key{inventory.KeyOf(extra)}, Prune: prune})
		if err != nil {
			t.Fatal(err)
		}
		if p.OutOfSync() {
			t.Errorf("prune=%v: an extraneous object marked IgnoreExtraneous made the app OutOfSync", prune)
		}
		if n := p.Count(ActionPrune) + p.Count(ActionPruneSkipped); n != 1 {
			t.Errorf("prune=%v: the object is still listed for pruning: %d items", prune, n)
		}
	}
	p, err := Make(Input{App: testApp, Live: live(t, extra, plain), Inventory: []inventory.Key{inventory.KeyOf(extra), inventory.KeyOf(plain)}, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if !p.OutOfSync() {
		t.Error("an extraneous object without the option makes the app OutOfSync")
	}
}

func TestParseCompareOptions(t *testing.T) {
	for _, ok := range []string{"", "IgnoreExtraneous", "ServerSideDiff=true, IncludeMutationWebhook=false", " IgnoreExtraneous ,ServerSideDiff=false"} {
		if _, err := ParseCompareOptions(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for bad, want := range map[string]string{"Frob": "unknown option Frob", "ServerSideDiff=maybe": "one of true, false", "IgnoreExtraneous=true": "takes no value"} {
		if _, err := ParseCompareOptions(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", bad, err, want)
		}
	}
}

func TestSelectedKeepsTheNamedObjectsOnly(t *testing.T) {
	a := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: prod}}`)
	b := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: prod}}`)
	d := marked(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: a, namespace: prod}}`)
	hook := marked(t, `{apiVersion: batch/v1, kind: Job, metadata: {name: h, namespace: prod, annotations: {argocd.argoproj.io/hook: PreSync}}}`)
	gone := marked(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: gone, namespace: prod}}`)
	p, err := Make(Input{App: testApp, Desired: []*unstructured.Unstructured{a, b, d, hook}, Live: live(t, gone), Inventory: []inventory.Key{inventory.KeyOf(gone)}, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := p.Selected([]v1alpha1.SyncOperationResource{{Kind: "ConfigMap", Name: "a"}, {Kind: "ConfigMap", Name: "gone", Namespace: "prod"}, {Kind: "ConfigMap", Name: "a", Namespace: "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"ConfigMap/prod/a": ActionCreate, "ConfigMap/prod/gone": ActionPrune}
	if diff := cmp.Diff(want, actions(sel)); diff != "" {
		t.Errorf("selected (-want +got):\n%s", diff)
	}
	_, err = p.Selected([]v1alpha1.SyncOperationResource{{Kind: "ConfigMap", Name: "a", Namespace: "dev"}, {Kind: "Job", Group: "batch", Name: "h"}})
	if err == nil || !strings.Contains(err.Error(), ":ConfigMap:dev/a") || !strings.Contains(err.Error(), "batch:Job:h") {
		t.Errorf("a name matching no object (or only a hook) must be named: %v", err)
	}
}
