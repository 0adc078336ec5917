package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/inventory"
	"github.com/tether-gitops/tether/internal/project"
)

var namespaceGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// floorWorkers is how many apps the replay works on at once: tether's
// default worker count.
const floorWorkers = 8

// runW3Floor is the control plane's share of W3: on a fresh environment and
// without tether, the benchmark creates the same n Applications and, for
// each one as soon as it exists, makes the writes a sync of it needs and
// nothing else: the server-side apply of its Namespace and ConfigMap (with
// tether's field manager, label and annotation), one status write with the
// status tether writes after the sync, and one Event. The time until the
// tracker sees every app Synced and Healthy is what W3 would take with an
// agent whose only work was making these requests (no watches, reads, Git
// or rendering; the requests themselves cost this client about 2.5 CPU s);
// W3 minus this is what tether adds. The machine's speed changes by up to a half from one minute
// to the next, so each W3 run is paired with a floor run next to it.
func runW3Floor(b *testing.B, n int, limit time.Duration, label string) time.Duration {
	e := newEnv(b)
	defer e.close()
	files := W3Files(n, true)
	repoURL := "http://127.0.0.1:1/w3.git" // never fetched: nothing reads Git here
	const revision = "1ddf6278382ccac666790e9bb4959f520a873dee"

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tr := newTracker(n)
	go tr.run(ctx, e.apps)

	created := make(chan *unstructured.Unstructured, n)
	var failOnce sync.Once
	var failure error
	fail := func(err error) {
		failOnce.Do(func() { failure = err })
		stop()
	}
	var wg sync.WaitGroup
	for w := 0; w < floorWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for app := range created {
				if err := floorSync(ctx, e, files, repoURL, revision, app); err != nil {
					fail(err)
					return
				}
			}
		}()
	}

	floorStart(b, e)
	reqBefore := e.apiRequestCounts()
	window := startCPUWindow()
	start := time.Now()
	var next atomic.Int64
	var cwg sync.WaitGroup
	for w := 0; w < 16; w++ {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				app, err := e.apps.Create(ctx, application(fmt.Sprintf("w3-%04d", i), repoURL, W3AppPath(i), W3Namespace(i)), metav1.CreateOptions{})
				if err != nil {
					fail(fmt.Errorf("create app %d: %w", i, err))
					return
				}
				created <- app
			}
		}()
	}
	cwg.Wait()
	creates := time.Since(start)
	close(created)
	wg.Wait()
	if failure != nil {
		b.Fatalf("W3 floor run %s: %v", label, failure)
	}
	select {
	case <-tr.allReady:
	case <-time.After(limit):
		b.Fatalf("W3 floor run %s: not every app Synced and Healthy within %s: %s", label, limit, tr.report(5))
	}
	took := tr.readyAt.Sub(start)
	note(b, "W3 floor run %s %s", label, window)
	note(b, "W3 floor run %s API requests: %s", label, e.apiRequestCounts().since(reqBefore, 10))
	result(b, "W3 floor run %s, %d apps, the control plane alone taking W3's writes: all Synced+Healthy %.2f s after the first create (creates took %.2f s, first app ready after %.2f s)",
		label, n, took.Seconds(), creates.Seconds(), tr.firstAt.Sub(start).Seconds())
	return took
}

// floorSync makes the writes one sync of the W3 app u needs.
func floorSync(ctx context.Context, e *env, files map[string]string, repoURL, revision string, u *unstructured.Unstructured) error {
	name := u.GetName()
	var i int
	if _, err := fmt.Sscanf(name, "w3-%d", &i); err != nil {
		return fmt.Errorf("app name %q: %w", name, err)
	}
	app := types.NamespacedName{Namespace: appNS, Name: name}
	dir := W3AppPath(i) + "/"
	for _, file := range []string{"namespace.yaml", "configmap.yaml"} {
		obj := &unstructured.Unstructured{}
		if err := yaml.NewYAMLOrJSONDecoder(strings.NewReader(files[dir+file]), 4096).Decode(&obj.Object); err != nil {
			return fmt.Errorf("%s%s: %w", dir, file, err)
		}
		inventory.Mark(obj, app)
		body, err := json.Marshal(obj.Object)
		if err != nil {
			return err
		}
		var ri dynamic.ResourceInterface = e.dyn.Resource(namespaceGVR)
		if obj.GetKind() == "ConfigMap" {
			ri = e.dyn.Resource(configMapGVR).Namespace(obj.GetNamespace())
		}
		force := true
		if _, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "tether", Force: &force}); err != nil {
			return fmt.Errorf("apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	now := time.Now().UTC().Format(time.RFC3339)
	src := map[string]any{"repoURL": repoURL, "path": W3AppPath(i), "targetRevision": "main"}
	by := map[string]any{"automated": true, "trigger": "auto"}
	ns := W3Namespace(i)
	status := map[string]any{
		"health":       map[string]any{"status": "Healthy"},
		"reconciledAt": now,
		"sourceType":   "Directory",
		"sync": map[string]any{
			"status": "Synced", "revision": revision,
			"comparedTo": map[string]any{"source": src, "destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": ns}},
		},
		"resources": []any{
			map[string]any{"version": "v1", "kind": "ConfigMap", "namespace": ns, "name": "payload", "status": "Synced", "health": map[string]any{"status": "Healthy"}},
			map[string]any{"version": "v1", "kind": "Namespace", "name": ns, "status": "Synced", "health": map[string]any{"status": "Healthy"}},
		},
		"history": []any{map[string]any{
			"id": 0, "revision": revision, "source": src, "deployStartedAt": now, "deployedAt": now, "initiatedBy": by,
			"author": "Test Author <author@example.test>", "message": "W3 workload",
		}},
		"operationState": map[string]any{
			"phase": "Succeeded", "message": "successfully synced (2 created)", "startedAt": now, "finishedAt": now,
			"operation": map[string]any{"initiatedBy": by, "sync": map[string]any{"prune": true, "revision": revision}},
			"syncResult": map[string]any{
				"revision": revision, "source": src,
				"resources": []any{
					map[string]any{"version": "v1", "kind": "Namespace", "name": ns, "status": "Synced", "message": "created", "syncPhase": "Sync"},
					map[string]any{"version": "v1", "kind": "ConfigMap", "namespace": ns, "name": "payload", "status": "Synced", "message": "created", "syncPhase": "Sync"},
				},
			},
		},
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	if _, err := e.apps.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "tether"}, "status"); err != nil {
		return fmt.Errorf("status of %s: %w", name, err)
	}
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", name, time.Now().UnixNano()), Namespace: appNS},
		EventTime:           metav1.NewMicroTime(time.Now()),
		ReportingController: "tether", ReportingInstance: "tether",
		Action: "Sync", Reason: "SyncSucceeded", Type: "Normal",
		Regarding: corev1.ObjectReference{
			APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: appNS, Name: name,
			UID: u.GetUID(), ResourceVersion: u.GetResourceVersion(),
		},
		Note: "successfully synced (2 created)",
	}
	_, err = e.kube.EventsV1().Events(appNS).Create(ctx, ev, metav1.CreateOptions{})
	return err
}

// floorStart does what tether's start does to the control plane before W3's
// first create: it creates the default AppProject (retrying while the new
// CRDs are not served yet).
func floorStart(b *testing.B, e *env) {
	proj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(project.Default(appNS))
	if err != nil {
		b.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: proj}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("AppProject"))
	projects := e.dyn.Resource(v1alpha1.GroupVersion.WithResource("appprojects")).Namespace(appNS)
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := projects.Create(context.Background(), u, metav1.CreateOptions{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("create the default AppProject: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
