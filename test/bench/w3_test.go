package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// BenchmarkW3ThousandApps is W3 then W4.
//
// W3: 1000 apps (TETHER_BENCH_W3_APPS), each one ~2 KB ConfigMap and its
// Namespace object in its own path, all created at once (automated sync
// with prune); the time from the first create until a watch sees every app
// Synced and Healthy, and then tether's peak RSS (VmHWM) and CPU seconds.
// W3 runs TETHER_BENCH_W3_RUNS times (default 3), each on a fresh control
// plane, git server and tether, and reports the median of the runs: the
// same work takes a quarter more or less CPU from one run to the next on a
// shared machine, so one run says little. Every run is printed.
//
// Before each W3 run, runW3Floor has the control plane take the same
// creates and the writes the syncs need without tether, on its own fresh
// environment (TETHER_BENCH_W3_FLOOR=0 leaves it out); the difference is
// what tether adds to W3.
//
// W4: after the last W3 run, once no Application has changed for 5 s,
// tether's CPU seconds and RSS over 120 s (TETHER_BENCH_IDLE) with nothing
// changing.
func BenchmarkW3ThousandApps(b *testing.B) {
	n := envInt(b, "TETHER_BENCH_W3_APPS", 1000)
	runs := envInt(b, "TETHER_BENCH_W3_RUNS", 3)
	idle := envDuration(b, "TETHER_BENCH_IDLE", 120*time.Second)
	limit := envDuration(b, "TETHER_BENCH_W3_TIMEOUT", 10*time.Minute)
	floor := os.Getenv("TETHER_BENCH_W3_FLOOR") != "0"
	var took, hwm, cpu, floors, added []float64
	var last *w3Run
	for i := 1; i <= runs; i++ {
		if last != nil {
			last.env.close()
		}
		label := fmt.Sprintf("%d/%d", i, runs)
		var f time.Duration
		if floor {
			f = runW3Floor(b, n, limit, label)
		}
		last = runW3(b, n, limit, label)
		took = append(took, last.took.Seconds())
		hwm = append(hwm, mib(last.at.hwmKiB))
		cpu = append(cpu, last.at.cpu)
		if floor {
			floors = append(floors, f.Seconds())
			added = append(added, (last.took - f).Seconds())
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(median(took), "s-all-synced")
	b.ReportMetric(median(hwm), "MiB-peak-rss")
	b.ReportMetric(median(cpu), "cpu-s")
	result(b, "W3 %d apps, median of %d runs: all Synced+Healthy %.2f s after the first create, tether peak RSS (VmHWM) %.1f MiB, CPU %.2f s (runs: %s s; %s MiB; %s CPU s)",
		n, runs, median(took), median(hwm), median(cpu), fmtFloats(took, 2), fmtFloats(hwm, 1), fmtFloats(cpu, 2))
	if floor {
		b.ReportMetric(median(floors), "s-floor")
		b.ReportMetric(median(added), "s-added")
		result(b, "W3 floor, median of %d runs: the control plane alone took W3's writes in %.2f s (runs: %s s); tether added %.2f s (median; runs: %s s)",
			runs, median(floors), fmtFloats(floors, 2), median(added), fmtFloats(added, 2))
	}
	w4(b, last.env.ctl, last.tracker, idle)
}

// w3Run is one W3 run; its environment stays up for W4.
type w3Run struct {
	env     *env
	tracker *tracker
	took    time.Duration
	at      procStats // tether when the last app was ready
}

// runW3 runs W3 once on a new environment.
func runW3(b *testing.B, n int, limit time.Duration, label string) *w3Run {
	e := newEnv(b)
	repo, err := e.git.CreateRepo("w3", gitserver.Anonymous)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := repo.Commit("main", W3Files(n, true), nil, "W3 workload"); err != nil {
		b.Fatal(err)
	}
	ctl := e.startController()
	before := mustReadProc(b, ctl.pid())
	note(b, "W3 run %s: tether started: %.2f CPU s, RSS %.1f MiB", label, before.cpu, mib(before.rssKiB))

	ctx, stop := context.WithCancel(context.Background())
	e.onClose(stop)
	tr := newTracker(n)
	go tr.run(ctx, e.apps)

	reqBefore := e.apiRequestCounts()
	window := startCPUWindow()
	start := time.Now()
	createApps(b, e, repo.HTTPURL(), n)
	created := time.Since(start)

	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	progress := time.NewTicker(15 * time.Second)
	defer progress.Stop()
wait:
	for {
		select {
		case <-tr.allReady:
			break wait
		case <-ctl.done:
			b.Fatalf("tether controller exited during W3: %v; %s", ctl.err, tr.report(5))
		case <-progress.C:
			ready, events, _ := tr.counts()
			p, _ := readProc(ctl.pid())
			note(b, "W3 run %s %s: %d/%d apps Synced+Healthy, %d app changes seen; tether %.1f CPU s, RSS %.1f MiB",
				label, time.Since(start).Round(time.Second), ready, n, events, p.cpu, mib(p.rssKiB))
		case <-timeout.C:
			b.Fatalf("W3: not every app Synced and Healthy within %s: %s", limit, tr.report(5))
		}
	}
	at := mustReadProc(b, ctl.pid())
	note(b, "W3 run %s %s (tether: %.0f%% of one core)", label, window, 100*(at.cpu-before.cpu)/time.Since(start).Seconds())
	note(b, "W3 run %s API requests from the first create until all apps were ready: %s", label, e.apiRequestCounts().since(reqBefore, 10))
	took := tr.readyAt.Sub(start)
	result(b, "W3 run %s, %d apps: all Synced+Healthy %.2f s after the first create (creates took %.2f s, first app ready after %.2f s); tether peak RSS (VmHWM) %.1f MiB, RSS now %.1f MiB, CPU %.2f s since its start (%.2f s during W3)",
		label, n, took.Seconds(), created.Seconds(), tr.firstAt.Sub(start).Seconds(), mib(at.hwmKiB), mib(at.rssKiB), at.cpu, at.cpu-before.cpu)
	rq := repo.Requests()
	note(b, "W3 run %s git requests served for the repository: %d ref advertisements, %d upload-packs", label, rq.InfoRefs, rq.UploadPack)
	return &w3Run{env: e, tracker: tr, took: took, at: at}
}

// createApps creates the n W3 Applications from 16 goroutines.
func createApps(b *testing.B, e *env, repoURL string, n int) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				app := application(fmt.Sprintf("w3-%04d", i), repoURL, W3AppPath(i), W3Namespace(i))
				if _, err := e.apps.Create(context.Background(), app, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("create app %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// w4 measures tether idle after W3: CPU and RSS over the idle window.
func w4(b *testing.B, ctl *controller, tr *tracker, idle time.Duration) {
	settle, ok := tr.quiet(5*time.Second, time.Minute)
	if !ok {
		note(b, "W4: Applications still changing after %s; measuring anyway", settle.Round(time.Millisecond))
	}
	_, ev0, _ := tr.counts()
	p0 := mustReadProc(b, ctl.pid())
	window := startCPUWindow()
	t0 := time.Now()
	maxRSS := p0.rssKiB
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for time.Since(t0) < idle {
		select {
		case <-ctl.done:
			b.Fatalf("tether controller exited during W4: %v", ctl.err)
		case <-tick.C:
			if p, err := readProc(ctl.pid()); err == nil && p.rssKiB > maxRSS {
				maxRSS = p.rssKiB
			}
		}
	}
	p1 := mustReadProc(b, ctl.pid())
	wall := time.Since(t0)
	_, ev1, _ := tr.counts()
	cores := (p1.cpu - p0.cpu) / wall.Seconds()
	b.ReportMetric(cores, "cores-idle")
	b.ReportMetric(mib(p1.rssKiB), "MiB-idle-rss")
	note(b, "W4 %s", window)
	result(b, "W4 idle over %s (after %s without app changes): %.4f cores (%.2f CPU s), RSS %.1f MiB at the end, %.1f MiB at most (sampled each second; VmHWM since tether's start %.1f MiB); %d Application changes seen during the window",
		wall.Round(time.Millisecond), settle.Round(time.Millisecond), cores, p1.cpu-p0.cpu, mib(p1.rssKiB), mib(maxRSS), mib(p1.hwmKiB), ev1-ev0)
}
