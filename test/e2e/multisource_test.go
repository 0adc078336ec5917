package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tether-gitops/tether/api/v1alpha1"
	"github.com/tether-gitops/tether/internal/cli"
	"github.com/tether-gitops/tether/internal/testenv/gitserver"
)

// multiApp is an app of three sources: a chart from a Helm repository
// whose last value file comes from the config repository (the ref
// source), and a plain directory of that same repository.
const multiApp = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: NAME}
spec:
  project: PROJECT
  sources:
  - repoURL: CHARTS
    chart: web
    targetRevision: 1.0.0
    helm:
      releaseName: NAME
      valueFiles: [values-prod.yaml, VALUEFILE]
  - {repoURL: CONFIG, targetRevision: main, ref: config}
  - {repoURL: CONFIG, targetRevision: main, path: extras}
  destination: {server: https://kubernetes.default.svc, namespace: DESTNS}
  SYNCPOLICY
`

type multiAppArgs struct {
	name, project, charts, config, valueFile, syncPolicy string
}

func (e *tetherEnv) createMultiApp(t *testing.T, a multiAppArgs, dest string) {
	t.Helper()
	if a.project == "" {
		a.project = "default"
	}
	if a.valueFile == "" {
		a.valueFile = "$config/envs/prod/web.yaml"
	}
	if a.syncPolicy == "" {
		a.syncPolicy = "syncPolicy: {automated: {prune: true, selfHeal: true}}"
	}
	y := strings.NewReplacer("NAME", a.name, "PROJECT", a.project, "CHARTS", a.charts, "CONFIG", a.config,
		"VALUEFILE", a.valueFile, "SYNCPOLICY", a.syncPolicy).Replace(multiApp)
	e.createApp(t, y, "", dest)
}

// syncedAt holds when the app is Synced and Healthy at these revisions.
func syncedAt(revs ...string) func(*v1alpha1.Application) bool {
	return func(a *v1alpha1.Application) bool {
		return syncedHealthy("")(a) && strings.Join(a.Status.Sync.Revisions, ",") == strings.Join(revs, ",")
	}
}

// exitCode is the exit code a CLI error asks for (0 for none, -1 when it
// asks for none in particular).
func exitCode(err error) int {
	var exit *cli.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Code
	}
	return -1
}

func configRepo(t *testing.T) *gitserver.Repo {
	t.Helper()
	return newRepo(t, gitserver.Anonymous, map[string]string{
		"envs/prod/web.yaml": "color: green\n",
		"extras/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {from: config}\n",
	})
}

func TestSeveralSources(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	charts := chartServer(t, "", "", "1.0.0", "1.1.0")
	config := configRepo(t)
	head := func() string {
		sha, err := config.Head("main")
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	e.createMultiApp(t, multiAppArgs{name: "multi", charts: charts.URL(), config: config.HTTPURL()}, dest)

	t.Run("every source is rendered and the ref lends its value file", func(t *testing.T) {
		a := e.waitApp(t, "multi", "synced at the three revisions", syncedAt("1.0.0", head(), head()))
		if got := strings.Join(a.Status.SourceTypes, ","); got != "Helm,,Directory" {
			t.Errorf("sourceTypes %q", got)
		}
		if a.Status.Sync.Revision != "" || a.Status.SourceType != "" || len(a.Status.Sync.ComparedTo.Sources) != 3 {
			t.Errorf("single-source fields set: %s %s %+v", a.Status.Sync.Revision, a.Status.SourceType, a.Status.Sync.ComparedTo)
		}
		cm := configMap(t, dest, "multi-cfg")
		if cm == nil || cm.Data["color"] != "green" || cm.Data["size"] != "small" || cm.Data["chart"] != "1.0.0" {
			t.Fatalf("chart ConfigMap: %v", cm)
		}
		if cm := configMap(t, dest, "extra"); cm == nil || cm.Data["from"] != "config" {
			t.Fatalf("ConfigMap of the directory source: %v", cm)
		}
		h := a.Status.History
		if len(h) != 1 || strings.Join(h[0].Revisions, ",") != "1.0.0,"+head()+","+head() || len(h[0].Sources) != 3 || h[0].Author != "Grace Hopper <grace@example.test>" {
			t.Errorf("history %+v", h)
		}
	})

	t.Run("a commit to the ref's repository re-renders the chart", func(t *testing.T) {
		if _, err := config.CommitAs(gitserver.Author{Name: "Ada Lovelace", Email: "ada@example.test"}, "main", map[string]string{"envs/prod/web.yaml": "color: purple\n"}, nil, "purple in prod"); err != nil {
			t.Fatal(err)
		}
		e.refresh(t, "multi")
		a := e.waitApp(t, "multi", "synced at the new commit", syncedAt("1.0.0", head(), head()))
		if cm := configMap(t, dest, "multi-cfg"); cm == nil || cm.Data["color"] != "purple" {
			t.Errorf("chart ConfigMap not re-rendered: %v", cm)
		}
		if h := a.Status.History; len(h) != 2 || h[1].Author != "Ada Lovelace <ada@example.test>" || h[1].Message != "purple in prod" {
			t.Errorf("history %+v", h)
		}
	})

	t.Run("an object rendered by two sources is taken from the last, with a warning", func(t *testing.T) {
		if _, err := config.Commit("main", map[string]string{"extras/dup.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: multi-cfg}\ndata: {color: from-extras}\n"}, nil, "duplicate"); err != nil {
			t.Fatal(err)
		}
		e.refresh(t, "multi")
		e.waitApp(t, "multi", "repeated resource warning", hasCondition(v1alpha1.ConditionRepeatedResource, "ConfigMap/"+dest+"/multi-cfg is rendered by source 1 and source 3"))
		e.waitApp(t, "multi", "synced", syncedAt("1.0.0", head(), head()))
		if cm := configMap(t, dest, "multi-cfg"); cm == nil || cm.Data["color"] != "from-extras" {
			t.Errorf("the last source did not win: %v", cm)
		}
	})

	t.Run("a file removed from a source is pruned", func(t *testing.T) {
		if _, err := config.Commit("main", nil, []string{"extras/cm.yaml", "extras/dup.yaml"}, "drop extras"); err != nil {
			t.Fatal(err)
		}
		if _, err := config.Commit("main", map[string]string{"extras/keep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\n"}, nil, "keep one"); err != nil {
			t.Fatal(err)
		}
		e.refresh(t, "multi")
		a := e.waitApp(t, "multi", "synced without the duplicate", syncedAt("1.0.0", head(), head()))
		if hasCondition(v1alpha1.ConditionRepeatedResource, "")(a) {
			t.Errorf("warning stayed: %s", describeStatus(a))
		}
		if cm := configMap(t, dest, "extra"); cm != nil {
			t.Errorf("ConfigMap extra not pruned")
		}
		if cm := configMap(t, dest, "multi-cfg"); cm == nil || cm.Data["color"] != "purple" {
			t.Errorf("chart ConfigMap: %v", cm)
		}
	})

	t.Run("an unreachable source is named and the last sync stays", func(t *testing.T) {
		a := e.app(t, "multi")
		a.Spec.Sources[2].RepoURL = "http://127.0.0.1:1/nothing.git"
		if err := e.c.Update(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		e.waitApp(t, "multi", "comparison error naming the source", hasCondition(v1alpha1.ConditionComparisonError, "source 3 of 3 (spec.sources[2], http://127.0.0.1:1/nothing.git)"))
		if cm := configMap(t, dest, "keep"); cm == nil {
			t.Error("the last synced state changed")
		}
	})
}

func TestSeveralSourcesManualSyncAndRollback(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	charts := chartServer(t, "", "", "1.0.0", "1.1.0")
	config := configRepo(t)
	sha, err := config.Head("main")
	if err != nil {
		t.Fatal(err)
	}
	e.createMultiApp(t, multiAppArgs{name: "manual", charts: charts.URL(), config: config.HTTPURL(), syncPolicy: "syncPolicy: {}"}, dest)
	e.waitApp(t, "manual", "out of sync", func(a *v1alpha1.Application) bool { return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync })

	out, err := runCLI(t, "app", "diff", "manual", "-n", e.ns)
	if code := exitCode(err); code != 1 || !strings.Contains(out, "1.0.0,"+sha[:7]+","+sha[:7]) || !strings.Contains(out, "manual-cfg") {
		t.Errorf("diff (exit %d):\n%s", code, out)
	}
	if _, err := runCLI(t, "app", "sync", "manual", "-n", e.ns, "--revision", "1.1.0"); err == nil || !strings.Contains(err.Error(), "say which one revision \"1.1.0\" is for with its position, 1 to 3") {
		t.Errorf("sync --revision without a position: %v", err)
	}
	out, err = runCLI(t, "app", "sync", "manual", "-n", e.ns)
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	e.waitApp(t, "manual", "synced at 1.0.0", syncedAt("1.0.0", sha, sha))
	out, err = runCLI(t, "app", "sync", "manual", "-n", e.ns, "--revision", "1.1.0", "--source-position", "1")
	if err != nil || !strings.Contains(out, "Revisions: 1.1.0, "+sha) {
		t.Fatalf("sync of the chart at 1.1.0: %v\n%s", err, out)
	}
	if cm := configMap(t, dest, "manual-cfg"); cm == nil || cm.Data["chart"] != "1.1.0" || cm.Data["color"] != "green" {
		t.Errorf("ConfigMap at 1.1.0: %v", cm)
	}
	// The spec still says 1.0.0, so the app is OutOfSync against it.
	e.waitApp(t, "manual", "out of sync against 1.0.0", func(a *v1alpha1.Application) bool { return a.Status.Sync.Status == v1alpha1.SyncStatusOutOfSync })

	out, err = runCLI(t, "app", "history", "manual", "-n", e.ns)
	if err != nil || !strings.Contains(out, "1.1.0,"+sha[:7]+","+sha[:7]) || !strings.Contains(out, "1.0.0,"+sha[:7]+","+sha[:7]) {
		t.Errorf("history: %v\n%s", err, out)
	}
	out, err = runCLI(t, "app", "get", "manual", "-n", e.ns)
	if err != nil || !strings.Contains(out, "Source 1:      "+charts.URL()+" 1.0.0 (chart web) at 1.0.0") || !strings.Contains(out, "(files only, ref $config)") {
		t.Errorf("get: %v\n%s", err, out)
	}

	// Rollback redeploys every source as the entry recorded it.
	if _, err := config.Commit("main", map[string]string{"envs/prod/web.yaml": "color: orange\n"}, nil, "orange"); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "app", "rollback", "manual", "0", "-n", e.ns)
	if err != nil || !strings.Contains(out, "Revisions: 1.0.0, "+sha+", "+sha) {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	if cm := configMap(t, dest, "manual-cfg"); cm == nil || cm.Data["chart"] != "1.0.0" || cm.Data["color"] != "green" {
		t.Errorf("ConfigMap after the rollback: %v", cm)
	}
}

func TestSeveralSourcesBadInput(t *testing.T) {
	e := startTether(t)
	dest := destNamespace(t)
	charts := chartServer(t, "", "", "1.0.0")
	config := configRepo(t)
	other := newRepo(t, gitserver.Anonymous, map[string]string{"x.yaml": "color: x\n"})

	e.createMultiApp(t, multiAppArgs{name: "unknown-ref", charts: charts.URL(), config: config.HTTPURL(), valueFile: "$settings/envs/prod/web.yaml"}, dest)
	e.createMultiApp(t, multiAppArgs{name: "climbs", charts: charts.URL(), config: config.HTTPURL(), valueFile: "$config/../../../etc/passwd"}, dest)
	e.createMultiApp(t, multiAppArgs{name: "missing", charts: charts.URL(), config: config.HTTPURL(), valueFile: "$config/envs/dev/web.yaml"}, dest)
	e.createProject(t, "charts-only", v1alpha1.AppProjectSpec{
		SourceRepos:  []string{charts.URL(), other.HTTPURL()},
		Destinations: []v1alpha1.ApplicationDestination{{Server: "*", Namespace: "*"}},
	})
	e.createMultiApp(t, multiAppArgs{name: "fenced", project: "charts-only", charts: charts.URL(), config: config.HTTPURL()}, dest)

	e.waitApp(t, "unknown-ref", "invalid spec naming the value file", hasCondition(v1alpha1.ConditionInvalidSpecError,
		`spec.sources[0].helm.valueFiles[1]: "$settings/envs/prod/web.yaml" names ref "settings", which no source of spec.sources has`))
	e.waitApp(t, "climbs", "path escape named", hasCondition(v1alpha1.ConditionComparisonError, "source 1 of 3 (spec.sources[0], "+charts.URL()+"): render chart web 1.0.0: $config/../../../etc/passwd: path escapes the repository"))
	e.waitApp(t, "missing", "missing value file named", hasCondition(v1alpha1.ConditionComparisonError, "$config/envs/dev/web.yaml: value file does not exist"))
	e.waitApp(t, "fenced", "project names the source", hasCondition(v1alpha1.ConditionInvalidSpecError, "spec.sources[1]: "))
	for _, name := range []string{"unknown-ref", "climbs", "missing", "fenced"} {
		if cm := configMap(t, dest, name+"-cfg"); cm != nil {
			t.Errorf("app %s applied its chart", name)
		}
	}
	if cm := configMap(t, dest, "extra"); cm != nil {
		t.Error("an app with a bad source applied its other sources")
	}
}
