package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tether-gitops/tether/api/v1alpha1"
)

const (
	w1Changes = 10 // W1: commits timed
	w2Drifts  = 20 // W2: hand scalings timed
)

// BenchmarkW1CommitToApplied is W1: one app of 20 objects; ten times, a
// commit changes cm-00's marker and the app is annotated for refresh (the
// way W1 was measured for the peers); the time from the end of the push to
// the moment a watch on the ConfigMap sees the new marker.
func BenchmarkW1CommitToApplied(b *testing.B) { runW1(b, false) }

// BenchmarkW1Webhook is W1 announced the way a Git server does: a GitHub
// push event posted to tether's webhook endpoint instead of the annotation.
func BenchmarkW1Webhook(b *testing.B) { runW1(b, true) }

func runW1(b *testing.B, webhook bool) {
	e := newEnv(b)
	var hookURL string
	if webhook {
		addr := freeLocalAddr(b)
		hookURL = "http://" + addr + "/api/webhook"
		e.startController("--webhook-addr", addr)
	} else {
		e.startController()
	}
	s := setupW1(e)
	cms := e.dyn.Resource(configMapGVR).Namespace("w1")
	trigger := func(ctx context.Context) error { return e.refresh(ctx, "w1") }
	if webhook {
		payload := fmt.Sprintf(`{"ref": "refs/heads/main", "repository": {"clone_url": %q, "default_branch": "main"}}`, s.repo.HTTPURL())
		trigger = func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, strings.NewReader(payload))
			if err != nil {
				return err
			}
			req.Header.Set("X-GitHub-Event", "push")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "refreshed 1 ") {
				return fmt.Errorf("webhook: %s: %s", resp.Status, body)
			}
			return nil
		}
	}
	var times []time.Duration
	reqBefore := e.apiRequestCounts()
	window := startCPUWindow()
	b.ResetTimer()
	for i := 1; i <= w1Changes; i++ {
		value := fmt.Sprintf("bump-%02d", i)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cm, err := cms.Get(ctx, "cm-00", metav1.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		content, err := BumpW1(s.dir, value)
		if err != nil {
			b.Fatal(err)
		}
		sha, err := s.repo.Commit("main", map[string]string{W1ChangedFile: content}, nil, "W1: marker "+value)
		if err != nil {
			b.Fatal(err)
		}
		var start, seen time.Time
		err = watchObject(ctx, cms, "cm-00", cm.GetResourceVersion(), func() error {
			start = time.Now()
			return trigger(ctx)
		}, func(at time.Time, u *unstructured.Unstructured) bool {
			v, _, _ := unstructured.NestedString(u.Object, "data", "marker")
			seen = at
			return v == value
		})
		cancel()
		if err != nil {
			a, _ := e.apps.Get(context.Background(), "w1", metav1.GetOptions{})
			b.Fatalf("change %d (%s, commit %.12s): ConfigMap w1/cm-00 not updated: %v; app:\n  %s", i, value, sha, err, describeApp(appOrNil(a)))
		}
		times = append(times, seen.Sub(start))
		// Let the app settle before the next change: tether has removed the
		// annotation (else the next one would not be a change) and reports
		// the new commit.
		e.waitApp("w1", "refresh handled and Synced at "+sha[:12], time.Minute, func(a *v1alpha1.Application) bool {
			return noRefreshPending(a) && a.Status.Sync.Status == v1alpha1.SyncStatusSynced && a.Status.Sync.Revision == sha
		})
	}
	b.StopTimer()
	note(b, "during the %d changes: %s", len(times), window)
	note(b, "API requests during the %d changes: %s", len(times), e.apiRequestCounts().since(reqBefore, 5))
	med, max := medianMax(times)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(med), "ms-median")
	b.ReportMetric(ms(max), "ms-max")
	how := "refresh annotation"
	if webhook {
		how = "push webhook"
	}
	result(b, "W1 commit-to-applied over %d changes, announced by %s: median %.1f ms, max %.1f ms (each, ms: %s)",
		len(times), how, ms(med), ms(max), fmtDurations(times))
}

// BenchmarkW2DriftRevert is W2: on the W1 app (automated, self-heal),
// twenty times, the Deployment web is scaled to 5 replicas through its
// scale subresource (as `kubectl scale` does); the time from sending that
// patch until a watch on the Deployment sees spec.replicas back at 2.
func BenchmarkW2DriftRevert(b *testing.B) {
	e := newEnv(b)
	e.startController()
	setupW1(e)
	limit := envDuration(b, "TETHER_BENCH_W2_TIMEOUT", 60*time.Second)
	deps := e.dyn.Resource(deploymentGVR).Namespace("w1")
	scale := []byte(`{"spec":{"replicas":5}}`)
	var times, visible []time.Duration
	reqBefore := e.apiRequestCounts()
	window := startCPUWindow()
	b.ResetTimer()
	for i := 1; i <= w2Drifts; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		d, err := deps.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var start, drifted, reverted time.Time
		err = watchObject(ctx, deps, "web", d.GetResourceVersion(), func() error {
			start = time.Now()
			_, err := deps.Patch(ctx, "web", types.MergePatchType, scale, metav1.PatchOptions{FieldManager: "kubectl"}, "scale")
			return err
		}, func(at time.Time, u *unstructured.Unstructured) bool {
			r, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
			if r == 5 && drifted.IsZero() {
				drifted = at
			}
			if r == 2 && !drifted.IsZero() {
				reverted = at
				return true
			}
			return false
		})
		cancel()
		if err != nil {
			cur, _ := deps.Get(context.Background(), "web", metav1.GetOptions{})
			r, _, _ := unstructured.NestedInt64(appObj(cur), "spec", "replicas")
			a, _ := e.apps.Get(context.Background(), "w1", metav1.GetOptions{})
			b.Errorf("drift %d: Deployment w1/web not reverted within %s (%v); spec.replicas now %d; reverted so far (ms): %s; app:\n  %s",
				i, limit, err, r, fmtDurations(times), describeApp(appOrNil(a)))
			break
		}
		times = append(times, reverted.Sub(start))
		visible = append(visible, reverted.Sub(drifted))
		time.Sleep(time.Second) // a person does not scale twice in a millisecond
	}
	b.StopTimer()
	note(b, "during the %d scalings: %s", len(times), window)
	note(b, "API requests during the %d scalings: %s", len(times), e.apiRequestCounts().since(reqBefore, 5))
	med, max := medianMax(times)
	vmed, vmax := medianMax(visible)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(med), "ms-median")
	b.ReportMetric(ms(max), "ms-max")
	result(b, "W2 drift revert over %d scalings: median %.1f ms, max %.1f ms from the scale request (from the drift's watch event: median %.1f ms, max %.1f ms) (each, ms: %s)",
		len(times), ms(med), ms(max), ms(vmed), ms(vmax), fmtDurations(times))
}

func appOrNil(u *unstructured.Unstructured) *v1alpha1.Application {
	if u == nil {
		return nil
	}
	return asApp(u)
}

func appObj(u *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	return u.Object
}
